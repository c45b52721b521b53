-- Purpose: AACT's all_cities: the cities of its sites (facilities.city), joined with '|' into one
--   string per study (distinct values, sorted, as AACT's array_to_string(array_agg(...)) gives them;
--   an all-null list gives '').
-- Grain: one row per study with a row in facilities.
-- Columns:
--   nct_id: facilities.nct_id.
--   names: facilities.city of the study joined with '|' (distinct values, sorted).
select nct_id, coalesce(string_agg(distinct city, '|' order by city), '') as names
from ctgov.facilities
group by nct_id
