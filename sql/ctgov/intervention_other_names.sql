-- Purpose: AACT's intervention_other_names: other names (brand names, synonyms) of each
--   intervention; intervention_id joins interventions.id.
-- Grain: one row per other name of an intervention of a study.
-- Columns:
--   id: aact_id(nct_id, n): n counts the study's other names, intervention by intervention, in document order.
--   nct_id: interventions.nct_id.
--   intervention_id: interventions.id of the intervention: aact_id(nct_id, intervention_position).
--   name: An element of interventions.other_names, verbatim.
with

interventions as (
    select nct_id, intervention_position, other_names from main.interventions where other_names is not null
),

other_names as (
    select
        nct_id,
        intervention_position,
        generate_subscripts(other_names, 1) as name_position,
        unnest(other_names) as name
    from interventions
)

select
    aact_id(nct_id, row_number() over (partition by nct_id order by intervention_position, name_position)) as id,
    nct_id,
    aact_id(nct_id, intervention_position) as intervention_id,
    name
from other_names
