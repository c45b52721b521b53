-- Purpose: AACT's facility_contacts: the contacts listed at each site, without its
--   investigators (a role matching 'investigator' or 'study chair' goes to
--   facility_investigators). The site's first such contact is 'primary', the others 'backup'.
-- Grain: one row per contact (not investigator) at a site of a study.
-- Columns:
--   id: aact_id(nct_id, n): n counts the study's site contacts, site by site, in document order.
--   nct_id: site_contacts.nct_id.
--   facility_id: facilities.id of the site: aact_id(nct_id, site_position).
--   contact_type: 'primary' for the site's first contact, 'backup' for the others (AACT's convention).
--   name: site_contacts.contact_name.
--   email: site_contacts.email.
--   phone: site_contacts.phone, verbatim.
--   phone_extension: site_contacts.phone_ext, verbatim.
with

contacts as (
    select * from main.site_contacts
    where not regexp_matches(coalesce(contact_role, ''), 'investigator|study.chair', 'i')
)

select
    aact_id(nct_id, row_number() over (partition by nct_id order by site_position, contact_position)) as id,
    nct_id,
    aact_id(nct_id, site_position) as facility_id,
    case when row_number() over (partition by nct_id, site_position order by contact_position) = 1
         then 'primary' else 'backup' end as contact_type,
    contact_name as name,
    email,
    phone,
    phone_ext as phone_extension
from contacts
