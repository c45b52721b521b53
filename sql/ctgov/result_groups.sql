-- Purpose: AACT's result_groups: the groups each part of the results reports on, one set per
--   part (participant flow, baseline, adverse events) and one per outcome measure (its groups
--   repeat the codes OG000, OG001, ... of every other measure). Their ids are the result_group_id
--   of milestones, drop_withdrawals, baseline_counts, baseline_measurements, outcome_counts,
--   outcome_measurements, outcome_analysis_groups and reported_events. Ids follow AACT's load
--   order: the outcome measures' groups, measure by measure, then the adverse-event, the
--   participant-flow and the baseline groups.
-- Grain: one row per group per part of the results (per outcome measure for outcome groups).
-- Columns:
--   id: aact_id(nct_id, n): n counts the study's outcome groups, then its adverse-event, participant-flow and baseline groups, each in document order.
--   nct_id: result_groups.nct_id.
--   ctgov_group_code: result_groups.group_code (FG000, BG000, OG000, EG000, ...).
--   result_type: result_groups.result_part as AACT names it: Outcome, Reported Event, Participant Flow or Baseline.
--   title: result_groups.title, verbatim.
--   description: result_groups.description, verbatim.
--   outcome_id: For outcome groups, outcomes.id of their measure: aact_id(nct_id, outcome_measure_position); null for the other parts.
with

groups as (
    select
        nct_id, group_position, result_part, outcome_measure_position, group_code, title, description,
        case result_part when 'outcome' then 1 when 'adverse_events' then 2 when 'participant_flow' then 3 else 4 end as load_order
    from main.result_groups
)

select
    aact_id(nct_id, row_number() over (partition by nct_id order by load_order, group_position)) as id,
    nct_id,
    group_code as ctgov_group_code,
    case result_part
        when 'outcome' then 'Outcome'
        when 'adverse_events' then 'Reported Event'
        when 'participant_flow' then 'Participant Flow'
        when 'baseline' then 'Baseline'
    end as result_type,
    title,
    description,
    aact_id(nct_id, outcome_measure_position) as outcome_id
from groups
