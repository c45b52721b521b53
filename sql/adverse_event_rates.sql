-- Purpose: Adverse-event rates per arm: for each adverse-event group of a study and each
--   classification (all-cause mortality, serious, other), the participants affected, at risk, and
--   the rate. The numbers are the group's own totals (reported_event_totals, from the record's
--   eventGroups), never sums over reported_events: one participant with two serious events
--   appears under both terms, so summing the terms overcounts, and terms below the frequency
--   threshold are not listed at all. Classifications the record gives no numbers for (e.g.
--   all-cause mortality before 2017) are left out.
-- Grain: one row per study × adverse-event group × classification.
-- Columns:
--   nct_id: ClinicalTrials.gov identifier of the study (NCT followed by 8 digits).
--   event_group_position: 1-based position of the adverse-event group (reported_event_totals).
--   group_code: Code of the adverse-event group (EG000, ...).
--   group_title: Title of the adverse-event group, verbatim.
--   group_description: Description of the adverse-event group, verbatim (result_groups).
--   classification: all_cause_mortality, serious or other.
--   subjects_affected: Participants in the group affected (for all_cause_mortality: who died).
--   subjects_at_risk: Participants in the group at risk.
--   affected_rate: subjects_affected / subjects_at_risk, between 0 and 1; null when either is
--     missing or nobody is at risk.
with

event_totals as (
    select nct_id, event_group_position, group_code, group_title, classification, subjects_affected, subjects_at_risk
    from reported_event_totals
),

event_groups as (
    select nct_id, group_code, description
    from result_groups
    where result_part = 'adverse_events'
),

adverse_event_rates as (
    select
        event_totals.nct_id,
        event_totals.event_group_position,
        event_totals.group_code,
        event_totals.group_title,
        event_groups.description as group_description,
        event_totals.classification,
        event_totals.subjects_affected,
        event_totals.subjects_at_risk,
        case
            when event_totals.subjects_at_risk > 0 then event_totals.subjects_affected / event_totals.subjects_at_risk
        end as affected_rate
    from event_totals
    left join event_groups
        on event_groups.nct_id = event_totals.nct_id and event_groups.group_code = event_totals.group_code
    where event_totals.subjects_affected is not null or event_totals.subjects_at_risk is not null
)

select * from adverse_event_rates
order by nct_id, event_group_position,
    case classification when 'all_cause_mortality' then 1 when 'serious' then 2 else 3 end
