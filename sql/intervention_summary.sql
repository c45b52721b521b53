-- Purpose: Which interventions are studied most: for each intervention type and name (verbatim),
--   how many studies test it, how many arms receive it, and how many intervention rows carry it.
-- Grain: one row per intervention type per intervention name.
-- Columns:
--   intervention_type: Intervention type (API code, e.g. DRUG, DEVICE, BEHAVIORAL).
--   intervention_name: Intervention name, verbatim.
--   n_studies: Distinct studies with an intervention of that type and name.
--   n_arms: Arm links to those interventions (arm_interventions rows).
--   n_interventions: Intervention rows of that type and name.
with

intervention_rows as (
    select nct_id, intervention_position, intervention_type, intervention_name
    from interventions
),

arm_link_rows as (
    select nct_id, intervention_position
    from arm_interventions
),

arm_links_per_intervention as (
    select nct_id, intervention_position, count(*) as n_arms
    from arm_link_rows
    group by nct_id, intervention_position
),

intervention_summary as (
    select
        intervention_rows.intervention_type,
        intervention_rows.intervention_name,
        count(distinct intervention_rows.nct_id) as n_studies,
        coalesce(sum(arm_links_per_intervention.n_arms), 0)::bigint as n_arms,
        count(*) as n_interventions
    from intervention_rows
    left join arm_links_per_intervention
        on arm_links_per_intervention.nct_id = intervention_rows.nct_id
       and arm_links_per_intervention.intervention_position = intervention_rows.intervention_position
    group by intervention_rows.intervention_type, intervention_rows.intervention_name
)

select * from intervention_summary
order by n_studies desc, intervention_type nulls last, intervention_name nulls last
