-- Purpose: AACT's result_agreements: whether the principal investigators are the sponsor's
--   employees and may discuss or publish the results. The two yes/no columns are text in AACT,
--   holding 't' or 'f' as its loader writes a boolean into text.
-- Grain: one row per study that states its agreements on disclosing results.
-- Columns:
--   id: aact_id(nct_id, 1): the study's only row.
--   nct_id: result_agreements.nct_id.
--   pi_employee: result_agreements.is_pi_sponsor_employee as 't' or 'f'.
--   agreement: Always null: API v2 records have no agreement text (AACT leaves it null too).
--   restriction_type: result_agreements.restriction_type (API code: LTE60, GT60, OTHER).
--   other_details: result_agreements.other_details, verbatim.
--   restrictive_agreement: result_agreements.has_restrictive_agreement as 't' or 'f'.
select
    aact_id(nct_id, 1) as id,
    nct_id,
    case is_pi_sponsor_employee when true then 't' when false then 'f' end as pi_employee,
    cast(null as varchar) as agreement,
    restriction_type,
    other_details,
    case has_restrictive_agreement when true then 't' when false then 'f' end as restrictive_agreement
from main.result_agreements
