-- Purpose: AACT's all_group_types: the types of its arms or groups (design_groups.group_type),
--   joined with '|' into one string per study (distinct values, sorted, as AACT's
--   array_to_string(array_agg(...)) gives them; an all-null list gives '').
-- Grain: one row per study with a row in design_groups.
-- Columns:
--   nct_id: design_groups.nct_id.
--   names: design_groups.group_type of the study joined with '|' (distinct values, sorted).
select nct_id, coalesce(string_agg(distinct group_type, '|' order by group_type), '') as names
from ctgov.design_groups
group by nct_id
