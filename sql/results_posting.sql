-- Purpose: Results posting of completed interventional studies by lead sponsor class and primary
--   completion year (per study in results_posting_studies): how many posted results, how many
--   within 12 months, and how long posting took. For results reporting under the FDAAA 801 rule
--   (covered trials only, submission dates) see results_reporting.
-- Grain: one row per lead sponsor class per primary completion year.
-- Columns:
--   lead_sponsor_class: Lead sponsor's agency class (API code, from studies.lead_sponsor_class);
--     null when the record gives none.
--   completion_year: Year of the primary completion date.
--   n_completed_studies: Completed interventional studies with that class and year.
--   n_with_results: Of those, studies with results.
--   share_with_results: n_with_results / n_completed_studies.
--   n_posted_within_12_months: Studies whose results were first posted within 12 months of
--     primary completion.
--   median_months_to_results_posting: Median months from primary completion to first results posting
--     (2 decimals), over the studies with a posting date; null when none has one.
with

posting_rows as (
    select
        nct_id,
        lead_sponsor_class,
        year(primary_completion_date) as completion_year,
        has_results,
        months_to_results_posting,
        is_posted_within_12_months
    from results_posting_studies
),

posting_counts as (
    select
        lead_sponsor_class,
        completion_year,
        count(*) as n_completed_studies,
        count(*) filter (where has_results) as n_with_results,
        count(*) filter (where is_posted_within_12_months) as n_posted_within_12_months,
        round(median(months_to_results_posting), 2) as median_months_to_results_posting
    from posting_rows
    group by lead_sponsor_class, completion_year
),

results_posting as (
    select
        lead_sponsor_class,
        completion_year,
        n_completed_studies,
        n_with_results,
        n_with_results / n_completed_studies as share_with_results,
        n_posted_within_12_months,
        median_months_to_results_posting
    from posting_counts
)

select * from results_posting
order by lead_sponsor_class nulls last, completion_year
