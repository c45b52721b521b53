-- Purpose: AACT's detailed_descriptions: the study's detailed description, verbatim. Like AACT,
--   a study with a description module has a row even when it gives no detailed description.
-- Grain: one row per study with a description module.
-- Columns:
--   id: aact_id(nct_id, 1): the study's only row.
--   nct_id: studies.nct_id.
--   description: studies.detailed_description (descriptionModule.detailedDescription), verbatim.
select
    aact_id(nct_id, 1) as id,
    nct_id,
    detailed_description as description
from main.studies
where brief_summary is not null or detailed_description is not null
