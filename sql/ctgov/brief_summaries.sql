-- Purpose: AACT's brief_summaries: the study's brief summary, verbatim.
-- Grain: one row per study with a description module.
-- Columns:
--   id: aact_id(nct_id, 1): the study's only row.
--   nct_id: studies.nct_id.
--   description: studies.brief_summary (descriptionModule.briefSummary), verbatim.
select
    aact_id(nct_id, 1) as id,
    nct_id,
    brief_summary as description
from main.studies
where brief_summary is not null or detailed_description is not null
