-- Purpose: AACT's study_references: publications the record cites; their ids are the
--   reference_id of retractions.
-- Grain: one row per literature reference of a study.
-- Columns:
--   id: aact_id(nct_id, study_references.reference_position).
--   nct_id: study_references.nct_id.
--   pmid: study_references.pmid.
--   reference_type: study_references.reference_type (API code: BACKGROUND, RESULT, DERIVED).
--   citation: study_references.citation, verbatim.
select
    aact_id(nct_id, reference_position) as id,
    nct_id,
    pmid,
    reference_type,
    citation
from main.study_references
