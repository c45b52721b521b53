-- Purpose: AACT's reported_event_totals: participants affected and at risk per adverse-event
--   group, as the group reports them, for all-cause mortality, serious and other adverse events
--   (the totals to use: summing reported_events over terms counts a participant twice). Ids follow
--   AACT's load order: every group's deaths, then other, then serious events.
-- Grain: one row per adverse-event group × classification (all-cause mortality, serious, other).
-- Columns:
--   id: aact_id(nct_id, n): n counts the study's mortality totals, then its other, then its serious ones, group by group.
--   nct_id: reported_event_totals.nct_id.
--   ctgov_group_code: reported_event_totals.group_code (EG000, ...).
--   event_type: reported_event_totals.classification as AACT names it: deaths, serious or other.
--   classification: AACT's label of the classification: 'Total, all-cause mortality', 'Total, serious adverse events' or 'Total, other adverse events'.
--   subjects_affected: reported_event_totals.subjects_affected (for deaths: who died).
--   subjects_at_risk: reported_event_totals.subjects_at_risk.
--   created_at: study_versions.first_seen_at of the study's newest version: when a build loaded these rows (UTC).
--   updated_at: The same as created_at (a study's rows are loaded anew with each version, as in AACT).
with

totals as (
    select
        *,
        case classification when 'all_cause_mortality' then 1 when 'other' then 2 else 3 end as load_order
    from main.reported_event_totals
),

load_times as (
    select nct_id, max(first_seen_at) as loaded_at from main.study_versions group by nct_id
)

select
    aact_id(t.nct_id, row_number() over (partition by t.nct_id order by t.load_order, t.event_group_position)) as id,
    t.nct_id,
    t.group_code as ctgov_group_code,
    case t.classification when 'all_cause_mortality' then 'deaths' else t.classification end as event_type,
    case t.classification
        when 'all_cause_mortality' then 'Total, all-cause mortality'
        when 'serious' then 'Total, serious adverse events'
        when 'other' then 'Total, other adverse events'
    end as classification,
    t.subjects_affected,
    t.subjects_at_risk,
    l.loaded_at as created_at,
    l.loaded_at as updated_at
from totals as t
left join load_times as l on l.nct_id = t.nct_id
