-- Purpose: How long each completed interventional study took to post results, counted from its
--   primary completion date to the date results were first posted (what results_reporting
--   computed before it followed the FDAAA 801 rule: see results_reporting_studies for that).
--   Every completed interventional study with a known primary completion date is counted,
--   whether or not FDAAA 801 applies to it; posted_within_12_months compares the posting date,
--   which lags the submission date by the registry's quality-control review.
-- Grain: one row per completed interventional study with a known primary completion date.
-- Columns:
--   nct_id: ClinicalTrials.gov identifier of the study (NCT followed by 8 digits).
--   lead_sponsor_name: Lead sponsor's name (studies.lead_sponsor_name).
--   lead_sponsor_class: Lead sponsor's agency class (API code, studies.lead_sponsor_class).
--   primary_completion_date: Primary completion date.
--   posting_due_date: primary_completion_date + 12 months.
--   results_first_post_date: Date results were first posted; null when none are.
--   has_results: Whether results are posted (results_first_post_date set, or the record's has_results).
--   months_to_results_posting: Months from primary_completion_date to results_first_post_date (days /
--     30.4375, 1 decimal); null when results have no posting date.
--   is_posted_within_12_months: Whether results were first posted on or before posting_due_date.
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

completed_interventional as (
    select *
    from study_rows
    where overall_status = 'COMPLETED'
      and study_type = 'INTERVENTIONAL'
      and primary_completion_date is not null
),

results_posting_studies as (
    select
        nct_id,
        lead_sponsor_name,
        lead_sponsor_class,
        primary_completion_date,
        (primary_completion_date + interval 12 month)::date as posting_due_date,
        results_first_post_date,
        results_first_post_date is not null or coalesce(has_results, false) as has_results,
        round(datediff('day', primary_completion_date, results_first_post_date) / 30.4375, 1) as months_to_results_posting,
        coalesce(results_first_post_date <= (primary_completion_date + interval 12 month)::date, false)
            as is_posted_within_12_months
    from completed_interventional
)

select * from results_posting_studies
order by nct_id
