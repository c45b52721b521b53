-- Purpose: AACT's design_groups: the arms (interventional) or groups/cohorts (observational) of
--   each study. Their ids are the design_group_id of design_group_interventions.
-- Grain: one row per arm or group of a study.
-- Columns:
--   id: aact_id(nct_id, arms.arm_position).
--   nct_id: arms.nct_id.
--   group_type: arms.arm_type (API code, e.g. EXPERIMENTAL, PLACEBO_COMPARATOR).
--   title: arms.arm_label, verbatim.
--   description: arms.description, verbatim.
select
    aact_id(nct_id, arm_position) as id,
    nct_id,
    arm_type as group_type,
    arm_label as title,
    description
from main.arms
