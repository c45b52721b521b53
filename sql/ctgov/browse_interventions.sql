-- Purpose: AACT's browse_interventions: the MeSH terms ClinicalTrials.gov maps a study's
--   interventions to (mesh-list) and their ancestors (mesh-ancestor). Ids follow AACT's load
--   order: ancestors, then the study's own terms.
-- Grain: one row per MeSH term mapped to a study's interventions, direct or ancestor.
-- Columns:
--   id: aact_id(nct_id, n): n counts the ancestors in document order, then the direct terms.
--   nct_id: intervention_mesh_terms.nct_id.
--   mesh_term: intervention_mesh_terms.mesh_term.
--   downcase_mesh_term: lower(intervention_mesh_terms.mesh_term).
--   mesh_type: mesh-list for intervention_mesh_terms.relation direct, mesh-ancestor for ancestor.
select aact_id(nct_id, row_number() over (partition by nct_id order by relation = 'direct', mesh_position)) as id,
    nct_id, mesh_term, lower(mesh_term) as downcase_mesh_term,
    case relation when 'direct' then 'mesh-list' else 'mesh-ancestor' end as mesh_type
from main.intervention_mesh_terms
