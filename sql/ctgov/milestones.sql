-- Purpose: AACT's milestones: how many participants of each group reached each milestone
--   (STARTED, COMPLETED, NOT COMPLETED, the sponsor's own) of each period of the participant flow.
-- Grain: one row per period × milestone × group of a study's participant flow.
-- Columns:
--   id: aact_id(nct_id, n): n counts the study's milestone counts, period by period, milestone by milestone, group by group.
--   nct_id: milestones.nct_id.
--   result_group_id: result_groups.id of the participant-flow group with this code.
--   ctgov_group_code: milestones.group_code (FG000, ...).
--   title: milestones.milestone_type, verbatim (e.g. STARTED).
--   period: milestones.period_title, verbatim (e.g. 'Overall Study').
--   description: Always null: AACT reads it from a field the API's counts do not have (their comment is milestones.comment).
--   count: milestones.n_subjects.
--   milestone_description: milestones.milestone_comment, verbatim.
--   count_units: milestones.n_units_raw, verbatim (text, as AACT keeps it).
select
    aact_id(m.nct_id, row_number() over (partition by m.nct_id order by m.period_position, m.milestone_position, m.achievement_position)) as id,
    m.nct_id,
    g.id as result_group_id,
    m.group_code as ctgov_group_code,
    m.milestone_type as title,
    m.period_title as period,
    cast(null as varchar) as description,
    m.n_subjects as count,
    m.milestone_comment as milestone_description,
    m.n_units_raw as count_units
from main.milestones as m
left join ctgov.result_groups as g
    on g.nct_id = m.nct_id and g.ctgov_group_code = m.group_code and g.result_type = 'Participant Flow'
