-- Purpose: AACT's conditions: the conditions a study lists, verbatim and lower-cased.
-- Grain: one row per condition a study lists.
-- Columns:
--   id: aact_id(nct_id, conditions.condition_position).
--   nct_id: conditions.nct_id.
--   name: conditions.condition, verbatim.
--   downcase_name: lower(conditions.condition).
select
    aact_id(nct_id, condition_position) as id,
    nct_id,
    condition as name,
    lower(condition) as downcase_name
from main.conditions
