-- Purpose: AACT's detailed_descriptions: the study's detailed description, verbatim. Like AACT,
--   every study with a description module has a row (the studies of brief_summaries), even when
--   it gives no detailed description.
-- Grain: one row per study with a description module.
-- Columns:
--   id: aact_id(nct_id, 1): the study's only row (as its brief_summaries id).
--   nct_id: studies.nct_id.
--   description: studies.detailed_description (descriptionModule.detailedDescription), verbatim.
select b.id, b.nct_id, s.detailed_description as description
from ctgov.brief_summaries as b
join main.studies as s on s.nct_id = b.nct_id
