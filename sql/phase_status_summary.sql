-- Purpose: The study portfolio as a phase by status cross-tab, with enrollment.
-- Grain: one row per phase label per overall status.
-- Columns:
--   phase_label: Readable phase label (e.g. 'Phase 1/Phase 2', 'Not Applicable'); 'No phase' when
--     the study lists none.
--   overall_status: Overall recruitment status (API code, e.g. RECRUITING, COMPLETED); null when
--     the study states none.
--   n_studies: Studies with that phase label and status.
--   total_enrollment: Sum of their enrollment (actual or anticipated); 0 when none states one.
--   median_enrollment: Median enrollment of those that state one; null when none does.
with

overview_rows as (
    select nct_id, coalesce(phase_label, 'No phase') as phase_label, overall_status, enrollment
    from study_overview
),

phase_status_summary as (
    select
        phase_label,
        overall_status,
        count(*) as n_studies,
        coalesce(sum(enrollment), 0)::bigint as total_enrollment,
        median(enrollment) as median_enrollment
    from overview_rows
    group by phase_label, overall_status
)

select * from phase_status_summary
order by phase_label, overall_status nulls last
