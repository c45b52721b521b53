-- Purpose: AACT's all_browse_interventions: the MeSH terms of its interventions
--   (browse_interventions.mesh_term), joined with '|' into one string per study (in id order,
--   repeats kept, as AACT's array_to_string(array_agg(...)) gives them; an all-null list gives '').
-- Grain: one row per study with a row in browse_interventions.
-- Columns:
--   nct_id: browse_interventions.nct_id.
--   names: browse_interventions.mesh_term of the study joined with '|' (in id order, repeats kept).
select nct_id, coalesce(string_agg(mesh_term, '|' order by id), '') as names
from ctgov.browse_interventions
group by nct_id
