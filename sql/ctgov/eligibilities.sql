-- Purpose: AACT's eligibilities: who may take part. Ages stay verbatim ('18 Years'); their
--   numbers and units are in calculated_values.
-- Grain: one row per study whose record has an eligibility module.
-- Columns:
--   id: aact_id(nct_id, 1): the study's only row.
--   nct_id: studies.nct_id.
--   sampling_method: studies.sampling_method (API code).
--   gender: studies.sex (API code: ALL, FEMALE, MALE).
--   minimum_age: studies.minimum_age, verbatim; null when not stated.
--   maximum_age: studies.maximum_age, verbatim; null when not stated.
--   healthy_volunteers: studies.accepts_healthy_volunteers (eligibilityModule.healthyVolunteers),
--     the API's boolean as AACT's loader keeps it.
--   population: studies.study_population.
--   criteria: studies.eligibility_criteria, verbatim (markdown escapes such as \>= kept).
--   gender_description: studies.gender_description.
--   gender_based: studies.is_gender_based.
--   adult: Whether studies.std_ages lists ADULT; null when the record lists no age group.
--   child: Whether studies.std_ages lists CHILD; null when the record lists no age group.
--   older_adult: Whether studies.std_ages lists OLDER_ADULT; null when the record lists no age group.
select
    aact_id(nct_id, 1) as id,
    nct_id,
    sampling_method,
    sex as gender,
    minimum_age,
    maximum_age,
    accepts_healthy_volunteers as healthy_volunteers,
    study_population as population,
    eligibility_criteria as criteria,
    gender_description,
    is_gender_based as gender_based,
    list_contains(std_ages, 'ADULT') as adult,
    list_contains(std_ages, 'CHILD') as child,
    list_contains(std_ages, 'OLDER_ADULT') as older_adult
from main.studies
where coalesce(sampling_method, sex, minimum_age, maximum_age, study_population, eligibility_criteria, gender_description) is not null
   or coalesce(accepts_healthy_volunteers, is_gender_based) is not null
   or std_ages is not null
