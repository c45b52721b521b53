-- Purpose: AACT's retractions: retraction notices of cited publications; reference_id joins
--   study_references.id. Columns in AACT's order (nct_id last).
-- Grain: one row per retraction notice of a study's reference.
-- Columns:
--   id: aact_id(nct_id, n): n counts the study's retractions, reference by reference, in document order.
--   reference_id: study_references.id of the retracted reference: aact_id(nct_id, reference_position).
--   pmid: retractions.pmid of the notice.
--   source: retractions.retraction_source.
--   nct_id: retractions.nct_id.
select
    aact_id(nct_id, row_number() over (partition by nct_id order by reference_position, retraction_position)) as id,
    aact_id(nct_id, reference_position) as reference_id,
    pmid,
    retraction_source as source,
    nct_id
from main.retractions
