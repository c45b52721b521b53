-- Purpose: AACT's result_contacts: who to contact about a study's results.
-- Grain: one row per study that names a point of contact for its results.
-- Columns:
--   id: aact_id(nct_id, 1): the study's only row.
--   nct_id: result_contacts.nct_id.
--   organization: result_contacts.organization, verbatim.
--   name: result_contacts.name_or_title: the contact's name or official title, verbatim.
--   phone: result_contacts.phone, verbatim.
--   email: result_contacts.email.
--   extension: result_contacts.phone_ext, verbatim.
select
    aact_id(nct_id, 1) as id,
    nct_id,
    organization,
    name_or_title as name,
    phone,
    email,
    phone_ext as extension
from main.result_contacts
