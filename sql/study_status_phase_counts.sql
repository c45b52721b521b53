-- Purpose: Each study counted (0 or 1) under its overall-status bucket and under each phase it
--   lists. Summaries that break studies down by status and phase add these columns up, so the
--   bucketing rules live in this one place.
-- Grain: one row per study.
-- Columns:
--   nct_id: ClinicalTrials.gov identifier of the study.
--   n_recruiting: 1 when overall_status is RECRUITING, else 0.
--   n_not_yet_recruiting: 1 when overall_status is NOT_YET_RECRUITING, else 0.
--   n_active_not_recruiting: 1 when overall_status is ACTIVE_NOT_RECRUITING, else 0.
--   n_enrolling_by_invitation: 1 when overall_status is ENROLLING_BY_INVITATION, else 0.
--   n_completed: 1 when overall_status is COMPLETED, else 0.
--   n_suspended: 1 when overall_status is SUSPENDED, else 0.
--   n_terminated: 1 when overall_status is TERMINATED, else 0.
--   n_withdrawn: 1 when overall_status is WITHDRAWN, else 0.
--   n_unknown_status: 1 when overall_status is UNKNOWN (not verified recently), else 0.
--   n_other_status: 1 for any other overall_status (expanded-access codes such as AVAILABLE,
--     WITHHELD, ...) or none, else 0.
--   n_early_phase1: 1 when the study lists phase EARLY_PHASE1, else 0 (a study counts under each
--     phase it lists).
--   n_phase1: 1 when the study lists PHASE1, else 0.
--   n_phase2: 1 when the study lists PHASE2, else 0.
--   n_phase3: 1 when the study lists PHASE3, else 0.
--   n_phase4: 1 when the study lists PHASE4, else 0.
--   n_phase_na: 1 when the study lists NA (phase not applicable), else 0.
--   n_no_phase: 1 when the study lists no phase at all, else 0.
with

study_rows as (
    select nct_id, overall_status, phases
    from studies
),

status_phase_counts as (
    select
        nct_id,
        coalesce(overall_status = 'RECRUITING', false)::bigint as n_recruiting,
        coalesce(overall_status = 'NOT_YET_RECRUITING', false)::bigint as n_not_yet_recruiting,
        coalesce(overall_status = 'ACTIVE_NOT_RECRUITING', false)::bigint as n_active_not_recruiting,
        coalesce(overall_status = 'ENROLLING_BY_INVITATION', false)::bigint as n_enrolling_by_invitation,
        coalesce(overall_status = 'COMPLETED', false)::bigint as n_completed,
        coalesce(overall_status = 'SUSPENDED', false)::bigint as n_suspended,
        coalesce(overall_status = 'TERMINATED', false)::bigint as n_terminated,
        coalesce(overall_status = 'WITHDRAWN', false)::bigint as n_withdrawn,
        coalesce(overall_status = 'UNKNOWN', false)::bigint as n_unknown_status,
        coalesce(
            overall_status not in (
                'RECRUITING', 'NOT_YET_RECRUITING', 'ACTIVE_NOT_RECRUITING', 'ENROLLING_BY_INVITATION',
                'COMPLETED', 'SUSPENDED', 'TERMINATED', 'WITHDRAWN', 'UNKNOWN'
            ),
            true
        )::bigint as n_other_status,
        coalesce(list_contains(phases, 'EARLY_PHASE1'), false)::bigint as n_early_phase1,
        coalesce(list_contains(phases, 'PHASE1'), false)::bigint as n_phase1,
        coalesce(list_contains(phases, 'PHASE2'), false)::bigint as n_phase2,
        coalesce(list_contains(phases, 'PHASE3'), false)::bigint as n_phase3,
        coalesce(list_contains(phases, 'PHASE4'), false)::bigint as n_phase4,
        coalesce(list_contains(phases, 'NA'), false)::bigint as n_phase_na,
        (coalesce(len(phases), 0) = 0)::bigint as n_no_phase
    from study_rows
)

select * from status_phase_counts
order by nct_id
