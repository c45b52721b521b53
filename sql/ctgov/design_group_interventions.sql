-- Purpose: AACT's design_group_interventions: which arm receives which intervention, as AACT
--   reads it: each arm label an intervention lists (armGroupLabels) is one row, linked to the arm
--   of that label (the same label, else the same label ignoring case and outer spaces; the last
--   such arm, as in AACT's lookup). A label naming no arm gives a row with no design_group_id.
-- Grain: one row per arm label listed by an intervention of a study.
-- Columns:
--   id: aact_id(nct_id, n): n counts the study's listed labels, intervention by intervention, in document order.
--   nct_id: interventions.nct_id.
--   design_group_id: design_groups.id of the labelled arm: aact_id(nct_id, arms.arm_position); null when no arm has the label.
--   intervention_id: interventions.id: aact_id(nct_id, intervention_position).
with

interventions as (
    select nct_id, intervention_position, arm_group_labels from main.interventions where arm_group_labels is not null
),

arms as (
    select nct_id, arm_position, arm_label from main.arms
),

labels as (
    select
        nct_id,
        intervention_position,
        generate_subscripts(arm_group_labels, 1) as label_position,
        unnest(arm_group_labels) as label
    from interventions
),

linked as (
    select
        l.nct_id,
        l.intervention_position,
        l.label_position,
        coalesce(
            max(a.arm_position) filter (where a.arm_label = l.label),
            max(a.arm_position)
        ) as arm_position
    from labels as l
    left join arms as a
        on a.nct_id = l.nct_id and lower(trim(a.arm_label)) = lower(trim(l.label))
    group by l.nct_id, l.intervention_position, l.label_position
)

select
    aact_id(nct_id, row_number() over (partition by nct_id order by intervention_position, label_position)) as id,
    nct_id,
    aact_id(nct_id, arm_position) as design_group_id,
    aact_id(nct_id, intervention_position) as intervention_id
from linked
