-- Purpose: AACT's all_secondary_outcome_measures: its registered secondary outcome measures
--   (design_outcomes.measure), joined with '|' into one string per study (distinct values, sorted,
--   as AACT's array_to_string(array_agg(...)) gives them; an all-null list gives '').
-- Grain: one row per study with a row in design_outcomes where outcome_type = 'secondary'.
-- Columns:
--   nct_id: design_outcomes.nct_id.
--   names: design_outcomes.measure of the study joined with '|' (distinct values, sorted).
select nct_id, coalesce(string_agg(distinct measure, '|' order by measure), '') as names
from ctgov.design_outcomes
where outcome_type = 'secondary'
group by nct_id
