-- Purpose: AACT's ipd_information_types: the supporting documents a study says it shares with
--   its individual participant data.
-- Grain: one row per information type listed in a study's IPD sharing statement.
-- Columns:
--   id: aact_id(nct_id, n): n is the type's position in ipd_sharing_statements.info_types.
--   nct_id: ipd_sharing_statements.nct_id.
--   name: An element of ipd_sharing_statements.info_types (API code: STUDY_PROTOCOL, SAP, ICF, CSR, ANALYTIC_CODE).
with

info_types as (
    select nct_id, generate_subscripts(info_types, 1) as type_position, unnest(info_types) as name
    from main.ipd_sharing_statements
    where info_types is not null
)

select
    aact_id(nct_id, type_position) as id,
    nct_id,
    name
from info_types
