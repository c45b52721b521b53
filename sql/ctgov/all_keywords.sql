-- Purpose: AACT's all_keywords: its keywords (keywords.name), joined with '|' into one string per
--   study (distinct values, sorted, as AACT's array_to_string(array_agg(...)) gives them; an all-
--   null list gives '').
-- Grain: one row per study with a row in keywords.
-- Columns:
--   nct_id: keywords.nct_id.
--   names: keywords.name of the study joined with '|' (distinct values, sorted).
select nct_id, coalesce(string_agg(distinct name, '|' order by name), '') as names
from ctgov.keywords
group by nct_id
