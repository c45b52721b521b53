-- Purpose: How many studies list each MeSH condition term directly (the term ClinicalTrials.gov
--   maps the study's own conditions to, not the broader ancestor terms), broken down by overall
--   status and by phase, with their enrollment and sites. A study counts once per term.
-- Grain: one row per MeSH condition term that at least one study lists directly.
-- Columns:
--   mesh_term: MeSH condition term (condition_mesh_terms.mesh_term with relation 'direct').
--   n_studies: Studies that list the term directly.
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
--   total_enrollment: Sum of the studies' enrollment (actual or anticipated); 0 when none states one.
--   median_enrollment: Median enrollment of the studies that state one; null when none does.
--   n_sites: Site rows of those studies.
--   n_recruiting_sites: Of those, sites whose site_status is RECRUITING.
with

status_phase_rows as (
    select * from study_status_phase_counts
),

direct_term_rows as (
    select nct_id, mesh_term
    from condition_mesh_terms
    where relation = 'direct'
      and mesh_term is not null
),

overview_rows as (
    select nct_id, enrollment, n_sites, n_recruiting_sites
    from study_overview
),

study_terms as (
    select distinct nct_id, mesh_term
    from direct_term_rows
),

term_studies as (
    select
        study_terms.mesh_term,
        overview_rows.*
    from study_terms
    join overview_rows on overview_rows.nct_id = study_terms.nct_id
),

condition_summary as (
    select
        mesh_term,
        count(*) as n_studies,
        -- n_recruiting .. n_no_phase, in the order study_status_phase_counts defines them
        sum(columns(status_phase_rows.* exclude (nct_id)))::bigint,
        coalesce(sum(enrollment), 0)::bigint as total_enrollment,
        median(enrollment) as median_enrollment,
        sum(n_sites)::bigint as n_sites,
        sum(n_recruiting_sites)::bigint as n_recruiting_sites
    from term_studies
    join status_phase_rows on status_phase_rows.nct_id = term_studies.nct_id
    group by mesh_term
)

select * from condition_summary
order by n_studies desc, mesh_term
