-- Purpose: Results reporting of each completed interventional study, in the spirit of the FDAAA
--   TrialsTracker (https://fdaaa.trialstracker.net/, ebmdatalab/clinicaltrials-act-tracker).
--   Rule: a study is in scope when overall_status is COMPLETED, study_type is INTERVENTIONAL and
--   primary_completion_date is known. FDAAA 801 makes results due one year after primary completion,
--   so results_due_date = primary_completion_date + 12 months. A study has results when
--   results_first_post_date is set or has_results is true; it reported on time when results were
--   first posted on or before the due date. Simplifications: every in-scope study is treated as
--   due (applicable-trial status, certifications and extensions are not modelled), and the posting
--   date is used, which lags the submission date the tracker counts by the registry's QC review.
-- Grain: one row per completed interventional study with a known primary completion date.
-- Columns:
--   nct_id: ClinicalTrials.gov identifier of the study (NCT followed by 8 digits).
--   lead_sponsor_name: Lead sponsor's name (studies.lead_sponsor_name).
--   lead_sponsor_class: Lead sponsor's agency class (API code, studies.lead_sponsor_class).
--   primary_completion_date: Primary completion date.
--   results_due_date: Date results are due: primary_completion_date + 12 months.
--   results_first_post_date: Date results were first posted; null when none are.
--   has_results: Whether results are posted (results_first_post_date set, or the record's has_results).
--   months_to_results: Months from primary_completion_date to results_first_post_date (days / 30.4375,
--     1 decimal); null when results have no posting date.
--   is_reported_on_time: Whether results were first posted on or before results_due_date.
with

study_rows as (
    select
        nct_id,
        lead_sponsor_name,
        lead_sponsor_class,
        overall_status,
        study_type,
        primary_completion_date,
        results_first_post_date,
        has_results
    from studies
),

in_scope as (
    select *
    from study_rows
    where overall_status = 'COMPLETED'
      and study_type = 'INTERVENTIONAL'
      and primary_completion_date is not null
),

results_reporting_studies as (
    select
        nct_id,
        lead_sponsor_name,
        lead_sponsor_class,
        primary_completion_date,
        (primary_completion_date + interval 12 month)::date as results_due_date,
        results_first_post_date,
        results_first_post_date is not null or coalesce(has_results, false) as has_results,
        round(datediff('day', primary_completion_date, results_first_post_date) / 30.4375, 1) as months_to_results,
        coalesce(results_first_post_date <= (primary_completion_date + interval 12 month)::date, false)
            as is_reported_on_time
    from in_scope
)

select * from results_reporting_studies
order by nct_id
