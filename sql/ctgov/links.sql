-- Purpose: AACT's links: web links the sponsor gives for more information.
-- Grain: one row per see-also link of a study.
-- Columns:
--   id: aact_id(nct_id, see_also_links.link_position).
--   nct_id: see_also_links.nct_id.
--   url: see_also_links.url.
--   description: see_also_links.label.
select
    aact_id(nct_id, link_position) as id,
    nct_id,
    url,
    label as description
from main.see_also_links
