-- Purpose: Results reporting under FDAAA 801 by lead sponsor class and the year results fell
--   due, as the FDAAA TrialsTracker reports it: of the covered trials (ACTs and probable ACTs,
--   per trial in results_reporting_studies, whose header states the rule), how many are due, how
--   many of those reported (submitted) results, on time or late, and how many are overdue.
-- Grain: one row per lead sponsor class per year results are due.
-- Columns:
--   lead_sponsor_class: Lead sponsor's agency class (API code, from studies.lead_sponsor_class);
--     null when the record gives none.
--   due_year: Year of results_due_date (12 months after completion).
--   n_covered_trials: Trials FDAAA 801 covers with that class and due year.
--   n_due: Of those, trials whose results are due on the build day.
--   n_reported: Of the due trials, those that submitted results.
--   n_reported_on_time: Of the due trials, those that submitted results by the due date.
--   n_overdue: Due trials that have not submitted results.
--   share_reported: n_reported / n_due; null when none is due.
--   median_days_late: Median days_late over the due trials that reported late or not at all;
--     null when there are none.
with

trial_rows as (
    select
        nct_id,
        lead_sponsor_class,
        year(results_due_date) as due_year,
        is_due,
        is_reported,
        is_reported_on_time,
        is_overdue,
        days_late
    from results_reporting_studies
),

reporting_counts as (
    select
        lead_sponsor_class,
        due_year,
        count(*) as n_covered_trials,
        count(*) filter (where is_due) as n_due,
        count(*) filter (where is_due and is_reported) as n_reported,
        count(*) filter (where is_due and is_reported_on_time) as n_reported_on_time,
        count(*) filter (where is_overdue) as n_overdue,
        median(days_late) filter (where days_late > 0) as median_days_late
    from trial_rows
    group by lead_sponsor_class, due_year
),

results_reporting as (
    select
        lead_sponsor_class,
        due_year,
        n_covered_trials,
        n_due,
        n_reported,
        n_reported_on_time,
        n_overdue,
        case when n_due > 0 then n_reported / n_due end as share_reported,
        median_days_late
    from reporting_counts
)

select * from results_reporting
order by lead_sponsor_class nulls last, due_year
