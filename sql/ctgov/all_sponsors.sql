-- Purpose: AACT's all_sponsors: its sponsors and collaborators (sponsors.name), joined with '|'
--   into one string per study (distinct values, sorted, as AACT's array_to_string(array_agg(...))
--   gives them; an all-null list gives '').
-- Grain: one row per study with a row in sponsors.
-- Columns:
--   nct_id: sponsors.nct_id.
--   names: sponsors.name of the study joined with '|' (distinct values, sorted).
select nct_id, coalesce(string_agg(distinct name, '|' order by name), '') as names
from ctgov.sponsors
group by nct_id
