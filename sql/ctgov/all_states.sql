-- Purpose: AACT's all_states: the states of its sites (facilities.state), joined with '|' into one
--   string per study (distinct values, sorted, as AACT's array_to_string(array_agg(...)) gives them;
--   an all-null list gives '').
-- Grain: one row per study with a row in facilities.
-- Columns:
--   nct_id: facilities.nct_id.
--   names: facilities.state of the study joined with '|' (distinct values, sorted).
select nct_id, coalesce(string_agg(distinct state, '|' order by state), '') as names
from ctgov.facilities
group by nct_id
