-- Purpose: AACT's studies: one row per study, with AACT's column names, order and conventions
--   (dates as DATE beside the verbatim `*_month_year` text, `*_date_type` ACTUAL/ESTIMATED,
--   enum values as the API's upper-case codes, `phase` as the phases joined with '/').
-- Grain: one row per study.
-- Columns:
--   nct_id: studies.nct_id: ClinicalTrials.gov identifier of the study.
--   nlm_download_date_description: Always null: API v2 records carry no NLM download note (AACT leaves it null too).
--   study_first_submitted_date: studies.study_first_submit_date (statusModule.studyFirstSubmitDate).
--   results_first_submitted_date: studies.results_first_submit_date (statusModule.resultsFirstSubmitDate).
--   disposition_first_submitted_date: studies.disp_first_submit_date (statusModule.dispFirstSubmitDate).
--   last_update_submitted_date: studies.last_update_submit_date (statusModule.lastUpdateSubmitDate).
--   study_first_submitted_qc_date: studies.study_first_submit_qc_date (statusModule.studyFirstSubmitQcDate).
--   study_first_posted_date: studies.study_first_post_date (statusModule.studyFirstPostDateStruct.date).
--   study_first_posted_date_type: studies.study_first_post_date_type: ACTUAL or ESTIMATED.
--   results_first_submitted_qc_date: studies.results_first_submit_qc_date (statusModule.resultsFirstSubmitQcDate).
--   results_first_posted_date: studies.results_first_post_date (statusModule.resultsFirstPostDateStruct.date).
--   results_first_posted_date_type: studies.results_first_post_date_type: ACTUAL or ESTIMATED.
--   disposition_first_submitted_qc_date: studies.disp_first_submit_qc_date (statusModule.dispFirstSubmitQcDate).
--   disposition_first_posted_date: studies.disp_first_post_date (statusModule.dispFirstPostDateStruct.date).
--   disposition_first_posted_date_type: studies.disp_first_post_date_type: ACTUAL or ESTIMATED.
--   last_update_submitted_qc_date: studies.last_update_submit_date: AACT's loader fills it from
--     lastUpdateSubmitDate (the API has no QC date for updates), and so does this view.
--   last_update_posted_date: studies.last_update_post_date (statusModule.lastUpdatePostDateStruct.date).
--   last_update_posted_date_type: studies.last_update_post_date_type: ACTUAL or ESTIMATED.
--   start_month_year: studies.start_date_raw: the start date verbatim (YYYY-MM or YYYY-MM-DD).
--   start_date_type: studies.start_date_type: ACTUAL or ESTIMATED.
--   start_date: studies.start_date: a month-only date is the month's last day.
--   verification_month_year: studies.status_verified_date_raw: the verification date verbatim.
--   verification_date: studies.status_verified_date: a month-only date is the month's last day.
--   completion_month_year: studies.completion_date_raw: the completion date verbatim.
--   completion_date_type: studies.completion_date_type: ACTUAL or ESTIMATED.
--   completion_date: studies.completion_date: a month-only date is the month's last day.
--   primary_completion_month_year: studies.primary_completion_date_raw: verbatim.
--   primary_completion_date_type: studies.primary_completion_date_type: ACTUAL or ESTIMATED.
--   primary_completion_date: studies.primary_completion_date: a month-only date is the month's last day.
--   target_duration: studies.target_duration (designModule.targetDuration).
--   study_type: studies.study_type: INTERVENTIONAL, OBSERVATIONAL or EXPANDED_ACCESS.
--   acronym: studies.acronym.
--   baseline_population: result_details.baseline_population_description (resultsSection.baselineCharacteristicsModule.populationDescription).
--   brief_title: studies.brief_title.
--   official_title: studies.official_title.
--   overall_status: studies.overall_status (API code, e.g. RECRUITING, COMPLETED).
--   last_known_status: studies.last_known_status (API code).
--   phase: studies.phases joined with '/' as AACT does (e.g. PHASE1/PHASE2, NA); null when none.
--   enrollment: studies.enrollment.
--   enrollment_type: studies.enrollment_type: ACTUAL or ESTIMATED.
--   source: studies.organization_name (identificationModule.organization.fullName).
--   limitations_and_caveats: result_details.limitations_and_caveats (resultsSection.moreInfoModule.limitationsAndCaveats.description).
--   number_of_arms: study_overview.n_arms of a study whose type contains INTERVENTIONAL; null for others and when none.
--   number_of_groups: study_overview.n_arms (groups/cohorts) of any other study; null for interventional ones and when none.
--   why_stopped: studies.why_stopped.
--   has_expanded_access: studies.has_expanded_access.
--   expanded_access_type_individual: studies.is_expanded_access_individual.
--   expanded_access_type_intermediate: studies.is_expanded_access_intermediate.
--   expanded_access_type_treatment: studies.is_expanded_access_treatment.
--   has_dmc: studies.has_dmc.
--   is_fda_regulated_drug: studies.is_fda_regulated_drug.
--   is_fda_regulated_device: studies.is_fda_regulated_device.
--   is_unapproved_device: studies.is_unapproved_device.
--   is_ppsd: studies.is_ppsd.
--   is_us_export: studies.is_us_export.
--   biospec_retention: studies.bio_spec_retention (API code).
--   biospec_description: studies.bio_spec_description.
--   ipd_time_frame: ipd_sharing_statements.time_frame.
--   ipd_access_criteria: ipd_sharing_statements.access_criteria.
--   ipd_url: ipd_sharing_statements.url.
--   plan_to_share_ipd: ipd_sharing_statements.ipd_sharing: YES, NO or UNDECIDED.
--   plan_to_share_ipd_description: ipd_sharing_statements.description.
--   created_at: study_versions.first_seen_at of the study's first version: when a build first loaded the study (UTC).
--   updated_at: study_versions.first_seen_at of the study's newest version: when a build loaded its current content (UTC).
--   source_class: studies.organization_class (API code).
--   delayed_posting: studies.has_delayed_posting (statusModule.delayedPosting) as 't' or 'f': the column is text in AACT, and its loader writes a boolean into text so.
--   expanded_access_nctid: studies.expanded_access_nct_id.
--   expanded_access_status_for_nctid: studies.expanded_access_status (API code).
--   fdaaa801_violation: studies.has_fdaaa801_violation.
--   baseline_type_units_analyzed: result_details.baseline_units_analyzed (resultsSection.baselineCharacteristicsModule.typeUnitsAnalyzed).
--   patient_registry: studies.is_patient_registry (designModule.patientRegistry).
with

studies as (
    -- AACT counts arms for any study type containing INTERVENTIONAL, groups for the others.
    select *, coalesce(contains(lower(study_type), 'interventional'), false) as is_interventional from main.studies
),

ipd_sharing_statements as (
    select * from main.ipd_sharing_statements
),

arm_counts as (
    select nct_id, nullif(n_arms, 0) as n_arms from main.study_overview
),

result_details as (
    select nct_id, baseline_population_description, baseline_units_analyzed, limitations_and_caveats from main.result_details
),

load_times as (
    select nct_id, min(first_seen_at) as created_at, max(first_seen_at) as updated_at
    from main.study_versions
    group by nct_id
)

select
    s.nct_id,
    cast(null as varchar) as nlm_download_date_description,
    s.study_first_submit_date as study_first_submitted_date,
    s.results_first_submit_date as results_first_submitted_date,
    s.disp_first_submit_date as disposition_first_submitted_date,
    s.last_update_submit_date as last_update_submitted_date,
    s.study_first_submit_qc_date as study_first_submitted_qc_date,
    s.study_first_post_date as study_first_posted_date,
    s.study_first_post_date_type as study_first_posted_date_type,
    s.results_first_submit_qc_date as results_first_submitted_qc_date,
    s.results_first_post_date as results_first_posted_date,
    s.results_first_post_date_type as results_first_posted_date_type,
    s.disp_first_submit_qc_date as disposition_first_submitted_qc_date,
    s.disp_first_post_date as disposition_first_posted_date,
    s.disp_first_post_date_type as disposition_first_posted_date_type,
    s.last_update_submit_date as last_update_submitted_qc_date,
    s.last_update_post_date as last_update_posted_date,
    s.last_update_post_date_type as last_update_posted_date_type,
    s.start_date_raw as start_month_year,
    s.start_date_type,
    s.start_date,
    s.status_verified_date_raw as verification_month_year,
    s.status_verified_date as verification_date,
    s.completion_date_raw as completion_month_year,
    s.completion_date_type,
    s.completion_date,
    s.primary_completion_date_raw as primary_completion_month_year,
    s.primary_completion_date_type,
    s.primary_completion_date,
    s.target_duration,
    s.study_type,
    s.acronym,
    r.baseline_population_description as baseline_population,
    s.brief_title,
    s.official_title,
    s.overall_status,
    s.last_known_status,
    array_to_string(s.phases, '/') as phase,
    s.enrollment,
    s.enrollment_type,
    s.organization_name as source,
    r.limitations_and_caveats,
    cast(case when is_interventional then a.n_arms end as integer) as number_of_arms,
    cast(case when not is_interventional then a.n_arms end as integer) as number_of_groups,
    s.why_stopped,
    s.has_expanded_access,
    s.is_expanded_access_individual as expanded_access_type_individual,
    s.is_expanded_access_intermediate as expanded_access_type_intermediate,
    s.is_expanded_access_treatment as expanded_access_type_treatment,
    s.has_dmc,
    s.is_fda_regulated_drug,
    s.is_fda_regulated_device,
    s.is_unapproved_device,
    s.is_ppsd,
    s.is_us_export,
    s.bio_spec_retention as biospec_retention,
    s.bio_spec_description as biospec_description,
    i.time_frame as ipd_time_frame,
    i.access_criteria as ipd_access_criteria,
    i.url as ipd_url,
    i.ipd_sharing as plan_to_share_ipd,
    i.description as plan_to_share_ipd_description,
    t.created_at,
    t.updated_at,
    s.organization_class as source_class,
    case s.has_delayed_posting when true then 't' when false then 'f' end as delayed_posting,
    s.expanded_access_nct_id as expanded_access_nctid,
    s.expanded_access_status as expanded_access_status_for_nctid,
    s.has_fdaaa801_violation as fdaaa801_violation,
    r.baseline_units_analyzed as baseline_type_units_analyzed,
    s.is_patient_registry as patient_registry
from studies as s
left join ipd_sharing_statements as i on i.nct_id = s.nct_id
left join arm_counts as a on a.nct_id = s.nct_id
left join result_details as r on r.nct_id = s.nct_id
left join load_times as t on t.nct_id = s.nct_id
