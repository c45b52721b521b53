-- Purpose: AACT's all_facilities: the names of its sites (facilities.name), joined with '|' into
--   one string per study (in id order, repeats kept, as AACT's array_to_string(array_agg(...)) gives
--   them; an all-null list gives '').
-- Grain: one row per study with a row in facilities.
-- Columns:
--   nct_id: facilities.nct_id.
--   names: facilities.name of the study joined with '|' (in id order, repeats kept).
select nct_id, coalesce(string_agg(name, '|' order by id), '') as names
from ctgov.facilities
group by nct_id
