-- Purpose: AACT's function study_summaries_for_condition(pattern): a one-row summary of each
--   study whose condition MeSH terms, conditions or keywords match a LIKE pattern,
--   case-insensitively, as AACT's function gives it: the matching term itself in `conditions`
--   (so a study matching twice has two rows), the all_* views' lists beside the study's
--   fields, and the age range as text ('18 Years to 65 Years', '18 Years and older',
--   'up to 65 Years', 'No age restriction' when both ages are 'N/A'). Use:
--   select * from ctgov.study_summaries_for_condition('%diabetes%').
-- Grain: one row per matching study and matching term.
-- Parameters: pattern
-- Columns:
--   nct_id: studies.nct_id.
--   title: studies.brief_title.
--   recruitment: studies.overall_status.
--   were_results_reported: calculated_values.were_results_reported.
--   conditions: The matching browse_conditions.mesh_term, conditions.name or keywords.name.
--   interventions: all_interventions.names.
--   gender: eligibilities.gender.
--   age: eligibilities.minimum_age and maximum_age as a range, in AACT's words.
--   phase: studies.phase ('N/A' as null).
--   enrollment: studies.enrollment.
--   study_type: studies.study_type.
--   sponsors: all_sponsors.names.
--   other_ids: all_id_information.names.
--   study_first_submitted_date: studies.study_first_submitted_date.
--   start_date: studies.start_date.
--   completion_month_year: studies.completion_month_year.
--   last_update_submitted_date: studies.last_update_submitted_date.
--   verification_month_year: studies.verification_month_year.
--   results_first_submitted_date: studies.results_first_submitted_date.
--   acronym: studies.acronym.
--   primary_completion_month_year: studies.primary_completion_month_year.
--   outcome_measures: all_design_outcomes.names.
--   disposition_first_submitted_date: studies.disposition_first_submitted_date.
--   allocation: designs.allocation.
--   intervention_model: designs.intervention_model.
--   observational_model: designs.observational_model.
--   primary_purpose: designs.primary_purpose.
--   time_perspective: designs.time_perspective.
--   masking: designs.masking.
--   masking_description: designs.masking_description.
--   intervention_model_description: designs.intervention_model_description.
--   subject_masked: designs.subject_masked.
--   caregiver_masked: designs.caregiver_masked.
--   investigator_masked: designs.investigator_masked.
--   outcomes_assessor_masked: designs.outcomes_assessor_masked.
--   number_of_facilities: calculated_values.number_of_facilities.
with

matches as (
    select nct_id, mesh_term as term from ctgov.browse_conditions where downcase_mesh_term like lower(pattern)
    union
    select nct_id, name from ctgov.conditions where downcase_name like lower(pattern)
    union
    select nct_id, name from ctgov.keywords where downcase_name like lower(pattern)
)

select distinct
    s.nct_id,
    s.brief_title as title,
    s.overall_status as recruitment,
    cv.were_results_reported,
    m.term as conditions,
    i.names as interventions,
    e.gender,
    case
        when e.minimum_age = 'N/A' and e.maximum_age = 'N/A' then 'No age restriction'
        when e.minimum_age != 'N/A' and e.maximum_age = 'N/A' then concat(e.minimum_age, ' and older')
        when e.minimum_age = 'N/A' and e.maximum_age != 'N/A' then concat('up to ', e.maximum_age)
        else concat(e.minimum_age, ' to ', e.maximum_age)
    end as age,
    case when s.phase = 'N/A' then null else s.phase end as phase,
    s.enrollment,
    s.study_type,
    sp.names as sponsors,
    id.names as other_ids,
    s.study_first_submitted_date,
    s.start_date,
    s.completion_month_year,
    s.last_update_submitted_date,
    s.verification_month_year,
    s.results_first_submitted_date,
    s.acronym,
    s.primary_completion_month_year,
    o.names as outcome_measures,
    s.disposition_first_submitted_date,
    d.allocation,
    d.intervention_model,
    d.observational_model,
    d.primary_purpose,
    d.time_perspective,
    d.masking,
    d.masking_description,
    d.intervention_model_description,
    d.subject_masked,
    d.caregiver_masked,
    d.investigator_masked,
    d.outcomes_assessor_masked,
    cv.number_of_facilities
from ctgov.studies as s
join matches as m on m.nct_id = s.nct_id
left join ctgov.calculated_values as cv on cv.nct_id = s.nct_id
left join ctgov.all_interventions as i on i.nct_id = s.nct_id
left join ctgov.all_sponsors as sp on sp.nct_id = s.nct_id
left join ctgov.eligibilities as e on e.nct_id = s.nct_id
left join ctgov.all_id_information as id on id.nct_id = s.nct_id
left join ctgov.all_design_outcomes as o on o.nct_id = s.nct_id
left join ctgov.designs as d on d.nct_id = s.nct_id
