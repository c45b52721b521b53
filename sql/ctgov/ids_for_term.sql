-- Purpose: AACT's function ids_for_term(term): the studies whose condition or intervention MeSH
--   terms, brief title or keywords match a LIKE pattern, case-insensitively, as AACT's function
--   does. Use: select * from ctgov.ids_for_term('%covid%').
-- Grain: one row per matching study.
-- Parameters: term
-- Columns:
--   nct_id: ClinicalTrials.gov identifier of a matching study.
select nct_id from ctgov.browse_conditions where downcase_mesh_term like lower(term)
union
select nct_id from ctgov.browse_interventions where downcase_mesh_term like lower(term)
union
select nct_id from ctgov.studies where lower(brief_title) like lower(term)
union
select nct_id from ctgov.keywords where lower(name) like lower(term)
