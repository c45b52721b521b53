-- Purpose: AACT's all_overall_officials: the names of its overall officials
--   (overall_officials.name), joined with '|' into one string per study (in id order, repeats kept,
--   as AACT's array_to_string(array_agg(...)) gives them; an all-null list gives '').
-- Grain: one row per study with a row in overall_officials.
-- Columns:
--   nct_id: overall_officials.nct_id.
--   names: overall_officials.name of the study joined with '|' (in id order, repeats kept).
select nct_id, coalesce(string_agg(name, '|' order by id), '') as names
from ctgov.overall_officials
group by nct_id
