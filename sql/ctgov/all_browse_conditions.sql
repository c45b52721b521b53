-- Purpose: AACT's all_browse_conditions: the MeSH terms of its conditions
--   (browse_conditions.mesh_term), joined with '|' into one string per study (distinct values,
--   sorted, as AACT's array_to_string(array_agg(...)) gives them; an all-null list gives '').
-- Grain: one row per study with a row in browse_conditions.
-- Columns:
--   nct_id: browse_conditions.nct_id.
--   names: browse_conditions.mesh_term of the study joined with '|' (distinct values, sorted).
select nct_id, coalesce(string_agg(distinct mesh_term, '|' order by mesh_term), '') as names
from ctgov.browse_conditions
group by nct_id
