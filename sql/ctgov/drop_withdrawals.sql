-- Purpose: AACT's drop_withdrawals: how many participants of each group left each period of
--   the participant flow, by reason.
-- Grain: one row per period × reason not completed × group of a study's participant flow.
-- Columns:
--   id: aact_id(nct_id, n): n counts the study's withdrawal counts, period by period, reason by reason, group by group.
--   nct_id: drop_withdrawals.nct_id.
--   result_group_id: result_groups.id of the participant-flow group with this code.
--   ctgov_group_code: drop_withdrawals.group_code (FG000, ...).
--   period: drop_withdrawals.period_title, verbatim.
--   reason: drop_withdrawals.reason, verbatim (e.g. 'Withdrawal by Subject').
--   count: drop_withdrawals.n_subjects.
--   drop_withdraw_comment: drop_withdrawals.reason_comment: the reason's comment, verbatim.
--   reason_comment: drop_withdrawals.comment: the comment on this group's count, verbatim.
--   count_units: drop_withdrawals.n_units.
select
    aact_id(d.nct_id, row_number() over (partition by d.nct_id order by d.period_position, d.drop_withdraw_position, d.reason_position)) as id,
    d.nct_id,
    g.id as result_group_id,
    d.group_code as ctgov_group_code,
    d.period_title as period,
    d.reason,
    d.n_subjects as count,
    d.reason_comment as drop_withdraw_comment,
    d.comment as reason_comment,
    d.n_units as count_units
from main.drop_withdrawals as d
left join ctgov.result_groups as g
    on g.nct_id = d.nct_id and g.ctgov_group_code = d.group_code and g.result_type = 'Participant Flow'
