-- Purpose: AACT's all_id_information: its other identifiers (id_information.id_value), joined with
--   '|' into one string per study (distinct values, sorted, as AACT's
--   array_to_string(array_agg(...)) gives them; an all-null list gives '').
-- Grain: one row per study with a row in id_information.
-- Columns:
--   nct_id: id_information.nct_id.
--   names: id_information.id_value of the study joined with '|' (distinct values, sorted).
select nct_id, coalesce(string_agg(distinct id_value, '|' order by id_value), '') as names
from ctgov.id_information
group by nct_id
