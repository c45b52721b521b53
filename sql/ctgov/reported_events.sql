-- Purpose: AACT's reported_events: adverse events by term and group, with the adverse-event
--   module's time frame, description and frequency threshold carried on each row. Ids follow
--   AACT's load order: other (not serious) events, then serious ones. subjects_affected overlap
--   between terms: the group totals are in reported_event_totals.
-- Grain: one row per serious or other adverse event term × group.
-- Columns:
--   id: aact_id(nct_id, n): n counts the study's other events, then its serious ones, term by term, group by group.
--   nct_id: reported_events.nct_id.
--   result_group_id: result_groups.id of the adverse-event group with this code.
--   ctgov_group_code: reported_events.group_code (EG000, ...).
--   time_frame: result_details.adverse_events_time_frame, verbatim.
--   event_type: reported_events.event_type: serious or other.
--   default_vocab: Always null: API v2 records have no study-wide vocabulary (AACT leaves it null too).
--   default_assessment: Always null: API v2 records have no study-wide assessment type (AACT leaves it null too).
--   subjects_affected: reported_events.subjects_affected.
--   subjects_at_risk: reported_events.subjects_at_risk.
--   description: result_details.adverse_events_description, verbatim.
--   event_count: reported_events.n_events.
--   organ_system: reported_events.organ_system, verbatim.
--   adverse_event_term: reported_events.adverse_event_term, verbatim.
--   frequency_threshold: result_details.adverse_events_frequency_threshold_raw: the whole number it starts with, as AACT reads it ('2.5' gives 2).
--   vocab: reported_events.source_vocabulary, verbatim (e.g. 'MedDRA 25.0').
--   assessment: reported_events.assessment_type (API code: SYSTEMATIC_ASSESSMENT, NON_SYSTEMATIC_ASSESSMENT).
with

details as (
    select
        nct_id,
        adverse_events_time_frame,
        adverse_events_description,
        try_cast(regexp_extract(adverse_events_frequency_threshold_raw, '^\s*([+-]?\d+)', 1) as integer) as frequency_threshold
    from main.result_details
)

select
    aact_id(
        e.nct_id,
        row_number() over (partition by e.nct_id order by e.event_type = 'serious', e.event_position, e.stat_position)
    ) as id,
    e.nct_id,
    g.id as result_group_id,
    e.group_code as ctgov_group_code,
    d.adverse_events_time_frame as time_frame,
    e.event_type,
    cast(null as varchar) as default_vocab,
    cast(null as varchar) as default_assessment,
    e.subjects_affected,
    e.subjects_at_risk,
    d.adverse_events_description as description,
    e.n_events as event_count,
    e.organ_system,
    e.adverse_event_term,
    d.frequency_threshold,
    e.source_vocabulary as vocab,
    e.assessment_type as assessment
from main.reported_events as e
left join details as d on d.nct_id = e.nct_id
left join ctgov.result_groups as g
    on g.nct_id = e.nct_id and g.ctgov_group_code = e.group_code and g.result_type = 'Reported Event'
