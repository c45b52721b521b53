-- Purpose: AACT's all_conditions: its conditions (conditions.name), joined with '|' into one
--   string per study (distinct values, sorted, as AACT's array_to_string(array_agg(...)) gives them;
--   an all-null list gives '').
-- Grain: one row per study with a row in conditions.
-- Columns:
--   nct_id: conditions.nct_id.
--   names: conditions.name of the study joined with '|' (distinct values, sorted).
select nct_id, coalesce(string_agg(distinct name, '|' order by name), '') as names
from ctgov.conditions
group by nct_id
