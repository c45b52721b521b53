-- Purpose: AACT's designs: allocation, models, purpose, masking and who is masked.
-- Grain: one row per study whose record has design information (designModule.designInfo).
-- Columns:
--   id: aact_id(nct_id, 1): the study's only row.
--   nct_id: studies.nct_id.
--   allocation: studies.allocation (API code: RANDOMIZED, NON_RANDOMIZED, NA).
--   intervention_model: studies.intervention_model (API code).
--   observational_model: studies.observational_model (API code).
--   primary_purpose: studies.primary_purpose (API code).
--   time_perspective: studies.time_perspective (API code).
--   masking: studies.masking (API code: NONE, SINGLE, DOUBLE, TRIPLE, QUADRUPLE).
--   masking_description: studies.masking_description.
--   intervention_model_description: studies.intervention_model_description.
--   subject_masked: Whether studies.who_masked lists PARTICIPANT; null when the record lists nobody.
--   caregiver_masked: Whether studies.who_masked lists CARE_PROVIDER; null when the record lists nobody.
--   investigator_masked: Whether studies.who_masked lists INVESTIGATOR; null when the record lists nobody.
--   outcomes_assessor_masked: Whether studies.who_masked lists OUTCOMES_ASSESSOR; null when the record lists nobody.
select
    aact_id(nct_id, 1) as id,
    nct_id,
    allocation,
    intervention_model,
    observational_model,
    primary_purpose,
    time_perspective,
    masking,
    masking_description,
    intervention_model_description,
    list_contains(who_masked, 'PARTICIPANT') as subject_masked,
    list_contains(who_masked, 'CARE_PROVIDER') as caregiver_masked,
    list_contains(who_masked, 'INVESTIGATOR') as investigator_masked,
    list_contains(who_masked, 'OUTCOMES_ASSESSOR') as outcomes_assessor_masked
from main.studies
where coalesce(allocation, intervention_model, observational_model, primary_purpose, time_perspective, masking,
               masking_description, intervention_model_description) is not null
   or who_masked is not null
