-- Purpose: AACT's all_intervention_types: the types of its interventions
--   (interventions.intervention_type), joined with '|' into one string per study (in id order,
--   repeats kept, as AACT's array_to_string(array_agg(...)) gives them; an all-null list gives '').
-- Grain: one row per study with a row in interventions.
-- Columns:
--   nct_id: interventions.nct_id.
--   names: interventions.intervention_type of the study joined with '|' (in id order, repeats kept).
select nct_id, coalesce(string_agg(intervention_type, '|' order by id), '') as names
from ctgov.interventions
group by nct_id
