-- Purpose: AACT's sponsors: the lead sponsor and the collaborators of each study, with
--   lead_or_collaborator in AACT's lower case. Ids follow AACT's load order: collaborators, then the lead.
-- Grain: one row per sponsor or collaborator of a study.
-- Columns:
--   id: aact_id(nct_id, n): n counts the collaborators in document order, then the lead sponsor.
--   nct_id: sponsors.nct_id.
--   agency_class: sponsors.agency_class (API code: INDUSTRY, NIH, FED, OTHER_GOV, INDIV, NETWORK, OTHER, UNKNOWN).
--   lead_or_collaborator: sponsors.sponsor_role: lead or collaborator.
--   name: sponsors.sponsor_name, verbatim.
select
    aact_id(nct_id, row_number() over (partition by nct_id order by sponsor_role = 'lead', sponsor_position)) as id,
    nct_id,
    agency_class,
    sponsor_role as lead_or_collaborator,
    sponsor_name as name
from main.sponsors
