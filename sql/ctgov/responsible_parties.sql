-- Purpose: AACT's responsible_parties: who is responsible for the record, and the investigator's
--   name, title and affiliation when it is an investigator.
-- Grain: one row per study whose record names a responsible party.
-- Columns:
--   id: aact_id(nct_id, 1): the study's only row.
--   nct_id: studies.nct_id.
--   responsible_party_type: studies.responsible_party_type (API code: SPONSOR, PRINCIPAL_INVESTIGATOR, SPONSOR_INVESTIGATOR).
--   name: studies.responsible_party_investigator_full_name.
--   title: studies.responsible_party_investigator_title.
--   organization: studies.responsible_party_old_organization (the legacy format's organisation).
--   affiliation: studies.responsible_party_investigator_affiliation.
--   old_name_title: studies.responsible_party_old_name_title (the legacy format's name and title).
select
    aact_id(nct_id, 1) as id,
    nct_id,
    responsible_party_type,
    responsible_party_investigator_full_name as name,
    responsible_party_investigator_title as title,
    responsible_party_old_organization as organization,
    responsible_party_investigator_affiliation as affiliation,
    responsible_party_old_name_title as old_name_title
from main.studies
where coalesce(responsible_party_type, responsible_party_investigator_full_name, responsible_party_investigator_title,
               responsible_party_old_organization, responsible_party_investigator_affiliation,
               responsible_party_old_name_title) is not null
