-- Purpose: AACT's facility_investigators: the investigators listed at each site (site contacts
--   whose role matches 'investigator' or 'study chair', as AACT splits them).
-- Grain: one row per investigator at a site of a study.
-- Columns:
--   id: aact_id(nct_id, n): n counts the study's site investigators, site by site, in document order.
--   nct_id: site_contacts.nct_id.
--   facility_id: facilities.id of the site: aact_id(nct_id, site_position).
--   role: site_contacts.contact_role (API code, e.g. PRINCIPAL_INVESTIGATOR, SUB_INVESTIGATOR).
--   name: site_contacts.contact_name.
with

investigators as (
    select * from main.site_contacts
    where regexp_matches(coalesce(contact_role, ''), 'investigator|study.chair', 'i')
)

select
    aact_id(nct_id, row_number() over (partition by nct_id order by site_position, contact_position)) as id,
    nct_id,
    aact_id(nct_id, site_position) as facility_id,
    contact_role as role,
    contact_name as name
from investigators
