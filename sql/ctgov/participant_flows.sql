-- Purpose: AACT's participant_flows: recruitment and pre-assignment details of a study's
--   participant flow (its periods and counts are in milestones and drop_withdrawals).
-- Grain: one row per study with a participant flow in its results.
-- Columns:
--   id: aact_id(nct_id, 1): the study's only row.
--   nct_id: participant_flows.nct_id.
--   recruitment_details: participant_flows.recruitment_details, verbatim.
--   pre_assignment_details: participant_flows.pre_assignment_details, verbatim.
--   units_analyzed: participant_flows.units_analyzed, verbatim.
select
    aact_id(nct_id, 1) as id,
    nct_id,
    recruitment_details,
    pre_assignment_details,
    units_analyzed
from main.participant_flows
