-- Purpose: AACT's all_overall_official_affiliations: the affiliations of its overall officials
--   (overall_officials.affiliation), joined with '|' into one string per study (in id order, repeats
--   kept, as AACT's array_to_string(array_agg(...)) gives them; an all-null list gives '').
-- Grain: one row per study with a row in overall_officials.
-- Columns:
--   nct_id: overall_officials.nct_id.
--   names: overall_officials.affiliation of the study joined with '|' (in id order, repeats kept).
select nct_id, coalesce(string_agg(affiliation, '|' order by id), '') as names
from ctgov.overall_officials
group by nct_id
