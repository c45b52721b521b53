-- Purpose: AACT's all_countries: the countries of its sites, without removed ones
--   (countries.name), joined with '|' into one string per study (distinct values, sorted, as AACT's
--   array_to_string(array_agg(...)) gives them; an all-null list gives '').
-- Grain: one row per study with a row in countries where removed is not true.
-- Columns:
--   nct_id: countries.nct_id.
--   names: countries.name of the study joined with '|' (distinct values, sorted).
select nct_id, coalesce(string_agg(distinct name, '|' order by name), '') as names
from ctgov.countries
where removed is not true
group by nct_id
