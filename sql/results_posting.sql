-- Purpose: Results reporting by lead sponsor class and primary completion year, in the spirit of
--   the FDAAA TrialsTracker (https://fdaaa.trialstracker.net/, ebmdatalab/clinicaltrials-act-tracker).
--   Rule (per study, see results_reporting_studies): completed (overall_status COMPLETED)
--   interventional studies with a known primary_completion_date; a study has results when
--   results_first_post_date is set or has_results is true; results are due 12 months after primary
--   completion (FDAAA 801), so a study reported on time when results were first posted within 12
--   months of it; months_to_results = days from primary completion to first results posting / 30.4375.
-- Grain: one row per lead sponsor class per primary completion year.
-- Columns:
--   lead_sponsor_class: Lead sponsor's agency class (API code, from studies.lead_sponsor_class);
--     null when the record gives none.
--   completion_year: Year of the primary completion date.
--   n_completed_studies: Completed interventional studies with that class and year.
--   n_with_results: Of those, studies with results.
--   share_with_results: n_with_results / n_completed_studies.
--   n_reported_within_12_months: Studies whose results were first posted within 12 months of
--     primary completion.
--   median_months_to_results: Median months from primary completion to first results posting (2 decimals), over
--     the studies with a posting date; null when none has one.
with

reporting_rows as (
    select
        nct_id,
        lead_sponsor_class,
        year(primary_completion_date) as completion_year,
        has_results,
        months_to_results,
        is_reported_on_time
    from results_reporting_studies
),

reporting_counts as (
    select
        lead_sponsor_class,
        completion_year,
        count(*) as n_completed_studies,
        count(*) filter (where has_results) as n_with_results,
        count(*) filter (where is_reported_on_time) as n_reported_within_12_months,
        round(median(months_to_results), 2) as median_months_to_results
    from reporting_rows
    group by lead_sponsor_class, completion_year
),

results_reporting as (
    select
        lead_sponsor_class,
        completion_year,
        n_completed_studies,
        n_with_results,
        n_with_results / n_completed_studies as share_with_results,
        n_reported_within_12_months,
        median_months_to_results
    from reporting_counts
)

select * from results_reporting
order by lead_sponsor_class nulls last, completion_year
