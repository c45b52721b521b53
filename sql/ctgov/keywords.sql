-- Purpose: AACT's keywords: the keywords a study lists, verbatim and lower-cased.
-- Grain: one row per keyword a study lists.
-- Columns:
--   id: aact_id(nct_id, keywords.keyword_position).
--   nct_id: keywords.nct_id.
--   name: keywords.keyword, verbatim.
--   downcase_name: lower(keywords.keyword).
select
    aact_id(nct_id, keyword_position) as id,
    nct_id,
    keyword as name,
    lower(keyword) as downcase_name
from main.keywords
