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

direct_term_rows as (
    select nct_id, mesh_term
    from condition_mesh_terms
    where relation = 'direct'
      and mesh_term is not null
),

overview_rows as (
    select nct_id, overall_status, phases, enrollment, n_sites, n_recruiting_sites
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
        count(*) filter (where overall_status = 'RECRUITING') as n_recruiting,
        count(*) filter (where overall_status = 'NOT_YET_RECRUITING') as n_not_yet_recruiting,
        count(*) filter (where overall_status = 'ACTIVE_NOT_RECRUITING') as n_active_not_recruiting,
        count(*) filter (where overall_status = 'ENROLLING_BY_INVITATION') as n_enrolling_by_invitation,
        count(*) filter (where overall_status = 'COMPLETED') as n_completed,
        count(*) filter (where overall_status = 'SUSPENDED') as n_suspended,
        count(*) filter (where overall_status = 'TERMINATED') as n_terminated,
        count(*) filter (where overall_status = 'WITHDRAWN') as n_withdrawn,
        count(*) filter (where overall_status = 'UNKNOWN') as n_unknown_status,
        count(*) filter (
            where overall_status is null
               or overall_status not in (
                   'RECRUITING', 'NOT_YET_RECRUITING', 'ACTIVE_NOT_RECRUITING', 'ENROLLING_BY_INVITATION',
                   'COMPLETED', 'SUSPENDED', 'TERMINATED', 'WITHDRAWN', 'UNKNOWN'
               )
        ) as n_other_status,
        count(*) filter (where list_contains(phases, 'EARLY_PHASE1')) as n_early_phase1,
        count(*) filter (where list_contains(phases, 'PHASE1')) as n_phase1,
        count(*) filter (where list_contains(phases, 'PHASE2')) as n_phase2,
        count(*) filter (where list_contains(phases, 'PHASE3')) as n_phase3,
        count(*) filter (where list_contains(phases, 'PHASE4')) as n_phase4,
        count(*) filter (where list_contains(phases, 'NA')) as n_phase_na,
        count(*) filter (where coalesce(len(phases), 0) = 0) as n_no_phase,
        coalesce(sum(enrollment), 0)::bigint as total_enrollment,
        median(enrollment) as median_enrollment,
        sum(n_sites)::bigint as n_sites,
        sum(n_recruiting_sites)::bigint as n_recruiting_sites
    from term_studies
    group by mesh_term
)

select * from condition_summary
order by n_studies desc, mesh_term
