-- Purpose: AACT's interventions: the drugs, devices, procedures, behaviours and others studied.
--   Their ids are the intervention_id of design_group_interventions and intervention_other_names.
-- Grain: one row per intervention of a study.
-- Columns:
--   id: aact_id(nct_id, interventions.intervention_position).
--   nct_id: interventions.nct_id.
--   intervention_type: interventions.intervention_type (API code, e.g. DRUG, DEVICE).
--   name: interventions.intervention_name, verbatim.
--   description: interventions.description, verbatim.
select
    aact_id(nct_id, intervention_position) as id,
    nct_id,
    intervention_type,
    intervention_name as name,
    description
from main.interventions
