-- Purpose: AACT's central_contacts: the study's contacts for enrollment questions; the first is
--   'primary', the others 'backup'.
-- Grain: one row per central contact of a study.
-- Columns:
--   id: aact_id(nct_id, central_contacts.contact_position).
--   nct_id: central_contacts.nct_id.
--   contact_type: 'primary' for the first contact, 'backup' for the others (AACT's convention).
--   name: central_contacts.contact_name.
--   phone: central_contacts.phone, verbatim.
--   email: central_contacts.email.
--   phone_extension: central_contacts.phone_ext, verbatim.
--   role: central_contacts.contact_role (API code, e.g. CONTACT).
select
    aact_id(nct_id, contact_position) as id,
    nct_id,
    case when contact_position = 1 then 'primary' else 'backup' end as contact_type,
    contact_name as name,
    phone,
    email,
    phone_ext as phone_extension,
    contact_role as role
from main.central_contacts
