-- Purpose: How many studies start each year, by phase, and how large they are.
-- Grain: one row per start year per phase label (studies without a start date form their own
--   rows, with a null start_year).
-- Columns:
--   start_year: Year of the study start date; null when the study has none.
--   phase_label: Readable phase label (e.g. 'Phase 1/Phase 2', 'Not Applicable'); 'No phase' when
--     the study lists none.
--   n_studies: Studies starting that year with that phase label.
--   median_enrollment: Median enrollment of those that state one; null when none does.
--   total_enrollment: Sum of their enrollment (actual or anticipated); 0 when none states one.
with

overview_rows as (
    select
        nct_id,
        year(start_date) as start_year,
        coalesce(phase_label, 'No phase') as phase_label,
        enrollment
    from study_overview
),

enrollment_trends as (
    select
        start_year,
        phase_label,
        count(*) as n_studies,
        median(enrollment) as median_enrollment,
        coalesce(sum(enrollment), 0)::bigint as total_enrollment
    from overview_rows
    group by start_year, phase_label
)

select * from enrollment_trends
order by start_year nulls last, phase_label
