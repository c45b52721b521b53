-- Purpose: AACT's design_outcomes: the outcome measures registered in the protocol, with
--   outcome_type in AACT's lower case. Ids follow AACT's load order: other, secondary, then
--   primary outcomes.
-- Grain: one row per registered outcome measure of a study.
-- Columns:
--   id: aact_id(nct_id, n): n counts the other, secondary, then primary outcomes, each in document order.
--   nct_id: outcomes.nct_id.
--   outcome_type: outcomes.outcome_kind: primary, secondary or other.
--   measure: outcomes.measure, verbatim.
--   time_frame: outcomes.time_frame, verbatim.
--   population: Always null: API v2 registers no population for protocol outcomes (AACT leaves it null too).
--   description: outcomes.description, verbatim.
select
    aact_id(
        nct_id,
        row_number() over (
            partition by nct_id
            order by case outcome_kind when 'other' then 1 when 'secondary' then 2 else 3 end, kind_position
        )
    ) as id,
    nct_id,
    outcome_kind as outcome_type,
    measure,
    time_frame,
    cast(null as varchar) as population,
    description
from main.outcomes
