-- Purpose: AACT's outcome_counts: the number of participants (or units) analyzed for each
--   outcome measure, per group. result_group_id is the measure's own group of that code, as
--   AACT's loader links it.
-- Grain: one row per outcome measure × denominator unit × group.
-- Columns:
--   id: aact_id(nct_id, n): n counts the study's outcome counts, measure by measure, unit by unit, group by group.
--   nct_id: outcome_counts.nct_id.
--   outcome_id: outcomes.id of the measure: aact_id(nct_id, outcome_measure_position).
--   result_group_id: result_groups.id of the measure's group with this code; null when the measure lists no such group.
--   ctgov_group_code: outcome_counts.group_code (OG000, ...).
--   scope: Always 'Measure' (AACT's constant).
--   units: outcome_counts.units: Participants, or the units analyzed, verbatim.
--   count: outcome_counts.n_analyzed.
with

counts as (
    select *, aact_id(nct_id, outcome_measure_position) as outcome_id from main.outcome_counts
)

select
    aact_id(c.nct_id, row_number() over (partition by c.nct_id order by c.outcome_measure_position, c.denom_position, c.count_position)) as id,
    c.nct_id,
    c.outcome_id,
    g.id as result_group_id,
    c.group_code as ctgov_group_code,
    'Measure' as scope,
    c.units,
    c.n_analyzed as count
from counts as c
left join ctgov.result_groups as g
    on g.nct_id = c.nct_id and g.outcome_id = c.outcome_id and g.ctgov_group_code = c.group_code
