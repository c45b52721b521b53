-- Purpose: AACT's overall_officials: principal investigators, study chairs and directors.
-- Grain: one row per overall official of a study.
-- Columns:
--   id: aact_id(nct_id, officials.official_position).
--   nct_id: officials.nct_id.
--   role: officials.official_role (API code: PRINCIPAL_INVESTIGATOR, STUDY_CHAIR, STUDY_DIRECTOR).
--   name: officials.official_name, verbatim.
--   affiliation: officials.affiliation.
select
    aact_id(nct_id, official_position) as id,
    nct_id,
    official_role as role,
    official_name as name,
    affiliation
from main.officials
