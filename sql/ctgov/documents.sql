-- Purpose: AACT's documents: the individual-participant-data sets and documents a study says
--   are available (referencesModule.availIpds).
-- Grain: one row per available IPD data set or document of a study.
-- Columns:
--   id: aact_id(nct_id, available_ipds.ipd_position).
--   nct_id: available_ipds.nct_id.
--   document_id: available_ipds.ipd_id.
--   document_type: available_ipds.ipd_type.
--   url: available_ipds.url.
--   comment: available_ipds.comment.
select
    aact_id(nct_id, ipd_position) as id,
    nct_id,
    ipd_id as document_id,
    ipd_type as document_type,
    url,
    comment
from main.available_ipds
