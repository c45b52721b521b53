-- Purpose: AACT's function ids_for_org(org): the studies whose responsible party's affiliation,
--   a site (name, city, state or country), a sponsor or the organization of the results' point
--   of contact matches a LIKE pattern, case-insensitively, as AACT's function does.
--   Use: select * from ctgov.ids_for_org('%mayo clinic%').
-- Grain: one row per matching study.
-- Parameters: org
-- Columns:
--   nct_id: ClinicalTrials.gov identifier of a matching study.
select nct_id from ctgov.responsible_parties where lower(affiliation) like lower(org)
union
select nct_id from ctgov.facilities
where lower(name) like lower(org) or lower(city) like lower(org) or lower(state) like lower(org) or lower(country) like lower(org)
union
select nct_id from ctgov.sponsors where lower(name) like lower(org)
union
select nct_id from ctgov.result_contacts where lower(organization) like lower(org)
