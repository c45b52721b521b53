-- Purpose: AACT's baseline_counts: the overall number of participants (or units) at baseline,
--   per baseline group.
-- Grain: one row per baseline denominator unit × group.
-- Columns:
--   id: aact_id(nct_id, n): n counts the study's baseline counts, unit by unit, group by group.
--   nct_id: baseline_counts.nct_id.
--   result_group_id: result_groups.id of the baseline group with this code.
--   ctgov_group_code: baseline_counts.group_code (BG000, ...).
--   units: baseline_counts.units: Participants, or the units analyzed, verbatim.
--   scope: Always 'overall' (AACT's constant).
--   count: baseline_counts.n_analyzed.
select
    aact_id(c.nct_id, row_number() over (partition by c.nct_id order by c.denom_position, c.count_position)) as id,
    c.nct_id,
    g.id as result_group_id,
    c.group_code as ctgov_group_code,
    c.units,
    'overall' as scope,
    c.n_analyzed as count
from main.baseline_counts as c
left join ctgov.result_groups as g
    on g.nct_id = c.nct_id and g.ctgov_group_code = c.group_code and g.result_type = 'Baseline'
