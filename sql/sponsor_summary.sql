-- Purpose: Portfolio of each lead sponsor: how many studies it leads, broken down by overall status
--   and by phase, the share it has completed, and their enrollment.
-- Grain: one row per lead sponsor (sponsor name and agency class of the sponsors row with role 'lead').
-- Columns:
--   sponsor_name: Lead sponsor's name, verbatim.
--   agency_class: Lead sponsor's agency class (API code: INDUSTRY, NIH, FED, OTHER_GOV, INDIV,
--     NETWORK, OTHER, UNKNOWN).
--   n_studies: Studies the sponsor leads.
--   n_recruiting: Of those, studies whose overall_status is RECRUITING.
--   n_not_yet_recruiting: Studies whose overall_status is NOT_YET_RECRUITING.
--   n_active_not_recruiting: Studies whose overall_status is ACTIVE_NOT_RECRUITING.
--   n_enrolling_by_invitation: Studies whose overall_status is ENROLLING_BY_INVITATION.
--   n_completed: Studies whose overall_status is COMPLETED.
--   n_suspended: Studies whose overall_status is SUSPENDED.
--   n_terminated: Studies whose overall_status is TERMINATED.
--   n_withdrawn: Studies whose overall_status is WITHDRAWN.
--   n_unknown_status: Studies whose overall_status is UNKNOWN (not verified recently).
--   n_other_status: Studies with any other overall_status (expanded-access codes such as
--     AVAILABLE, WITHHELD, ...) or none.
--   n_early_phase1: Studies that list phase EARLY_PHASE1 (a study counts under each phase it lists).
--   n_phase1: Studies that list PHASE1.
--   n_phase2: Studies that list PHASE2.
--   n_phase3: Studies that list PHASE3.
--   n_phase4: Studies that list PHASE4.
--   n_phase_na: Studies that list NA (phase not applicable).
--   n_no_phase: Studies that list no phase at all.
--   completed_share: n_completed / n_studies.
--   median_enrollment: Median enrollment of the studies that state one; null when none does.
--   total_enrollment: Sum of the studies' enrollment (actual or anticipated); 0 when none states one.
with

status_phase_rows as (
    select * from study_status_phase_counts
),

lead_sponsor_rows as (
    select nct_id, sponsor_name, agency_class
    from sponsors
    where sponsor_role = 'lead'
      and sponsor_name is not null
),

overview_rows as (
    select nct_id, enrollment
    from study_overview
),

lead_sponsorships as (
    select distinct nct_id, sponsor_name, agency_class
    from lead_sponsor_rows
),

sponsor_studies as (
    select
        lead_sponsorships.sponsor_name,
        lead_sponsorships.agency_class,
        overview_rows.*
    from lead_sponsorships
    join overview_rows on overview_rows.nct_id = lead_sponsorships.nct_id
),

sponsor_counts as (
    select
        sponsor_name,
        agency_class,
        count(*) as n_studies,
        -- n_recruiting .. n_no_phase, in the order study_status_phase_counts defines them
        sum(columns(status_phase_rows.* exclude (nct_id)))::bigint,
        median(enrollment) as median_enrollment,
        coalesce(sum(enrollment), 0)::bigint as total_enrollment
    from sponsor_studies
    join status_phase_rows on status_phase_rows.nct_id = sponsor_studies.nct_id
    group by sponsor_name, agency_class
),

sponsor_summary as (
    select
        * exclude (median_enrollment, total_enrollment),
        n_completed / n_studies as completed_share,
        median_enrollment,
        total_enrollment
    from sponsor_counts
)

select * from sponsor_summary
order by n_studies desc, sponsor_name, agency_class nulls last
