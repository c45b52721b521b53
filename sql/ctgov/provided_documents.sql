-- Purpose: AACT's provided_documents: the protocols, statistical analysis plans and consent
--   forms a study uploaded, with the link AACT builds to each file.
-- Grain: one row per document a study provides.
-- Columns:
--   id: aact_id(nct_id, provided_documents.document_position).
--   nct_id: provided_documents.nct_id.
--   document_type: provided_documents.label (e.g. 'Study Protocol and Statistical Analysis Plan').
--   has_protocol: provided_documents.has_protocol.
--   has_icf: provided_documents.has_icf.
--   has_sap: provided_documents.has_sap.
--   document_date: provided_documents.document_date when the record gives a full date; null for a month-only date, as in AACT.
--   url: 'https://ClinicalTrials.gov/ProvidedDocs/' || the NCT id's last two digits || '/' || nct_id || '/' || provided_documents.file_name (empty when none), as AACT builds it.
select
    aact_id(nct_id, document_position) as id,
    nct_id,
    label as document_type,
    has_protocol,
    has_icf,
    has_sap,
    case when document_date_precision = 'day' then document_date end as document_date,
    'https://ClinicalTrials.gov/ProvidedDocs/' || right(nct_id, 2) || '/' || nct_id || '/' || coalesce(file_name, '') as url
from main.provided_documents
