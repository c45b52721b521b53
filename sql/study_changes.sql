-- Purpose: What changed in each study from one version of its record to the next: recruitment
--   status, enrollment and its type, the start, primary completion and completion dates with
--   their types, phases, the number of sites, and whether results were posted. Versions come from
--   study_versions, the history kept across builds, in registry order (lastUpdatePostDate, then
--   when first seen). Answers "which trials changed status or slipped their completion date
--   since last week": filter on detected_at or last_update_post_date.
-- Grain: one row per changed field between consecutive versions of a study.
-- Columns:
--   nct_id: ClinicalTrials.gov identifier of the study.
--   field: The field that changed, named as its column in studies (n_sites: the number of sites).
--   old_value: Its value in the earlier version, as text (dates verbatim, phases comma-separated); null when absent.
--   new_value: Its value in the later version, as text; null when absent.
--   changed_between: The two versions' lastUpdatePostDates, 'YYYY-MM-DD -> YYYY-MM-DD'.
--   previous_last_update_post_date: lastUpdatePostDate of the earlier version.
--   last_update_post_date: lastUpdatePostDate of the later version.
--   detected_at: When a build first loaded the later version (UTC).
--   previous_record_hash: record_hash of the earlier version in study_versions.
--   record_hash: record_hash of the later version in study_versions.
with

versions as (
    select
        nct_id,
        record_hash,
        last_update_post_date,
        last_update_post_date_raw,
        first_seen_at,
        overall_status,
        enrollment::varchar as enrollment,
        enrollment_type,
        start_date_raw as start_date,
        start_date_type,
        primary_completion_date_raw as primary_completion_date,
        primary_completion_date_type,
        completion_date_raw as completion_date,
        completion_date_type,
        array_to_string(phases, ', ') as phases,
        n_sites::varchar as n_sites,
        has_results::varchar as has_results
    from study_versions
),

consecutive as (
    select
        *,
        lag(record_hash) over by_registry_order as previous_record_hash,
        lag(last_update_post_date) over by_registry_order as previous_last_update_post_date,
        lag(last_update_post_date_raw) over by_registry_order as previous_last_update_post_date_raw,
        lag({
            'overall_status': overall_status, 'enrollment': enrollment, 'enrollment_type': enrollment_type,
            'start_date': start_date, 'start_date_type': start_date_type,
            'primary_completion_date': primary_completion_date, 'primary_completion_date_type': primary_completion_date_type,
            'completion_date': completion_date, 'completion_date_type': completion_date_type,
            'phases': phases, 'n_sites': n_sites, 'has_results': has_results
        }) over by_registry_order as previous
    from versions
    window by_registry_order as (partition by nct_id order by last_update_post_date nulls first, first_seen_at, record_hash)
),

fields as (
    select
        nct_id, record_hash, previous_record_hash, last_update_post_date, previous_last_update_post_date,
        previous_last_update_post_date_raw, last_update_post_date_raw, first_seen_at,
        unnest([
            {'field': 'overall_status', 'old_value': previous.overall_status, 'new_value': overall_status},
            {'field': 'enrollment', 'old_value': previous.enrollment, 'new_value': enrollment},
            {'field': 'enrollment_type', 'old_value': previous.enrollment_type, 'new_value': enrollment_type},
            {'field': 'start_date', 'old_value': previous.start_date, 'new_value': start_date},
            {'field': 'start_date_type', 'old_value': previous.start_date_type, 'new_value': start_date_type},
            {'field': 'primary_completion_date', 'old_value': previous.primary_completion_date, 'new_value': primary_completion_date},
            {'field': 'primary_completion_date_type', 'old_value': previous.primary_completion_date_type, 'new_value': primary_completion_date_type},
            {'field': 'completion_date', 'old_value': previous.completion_date, 'new_value': completion_date},
            {'field': 'completion_date_type', 'old_value': previous.completion_date_type, 'new_value': completion_date_type},
            {'field': 'phases', 'old_value': previous.phases, 'new_value': phases},
            {'field': 'n_sites', 'old_value': previous.n_sites, 'new_value': n_sites},
            {'field': 'has_results', 'old_value': previous.has_results, 'new_value': has_results}
        ], recursive := true)
    from consecutive
    where previous_record_hash is not null
)

select
    nct_id,
    field,
    old_value,
    new_value,
    coalesce(previous_last_update_post_date_raw, '?') || ' -> ' || coalesce(last_update_post_date_raw, '?') as changed_between,
    previous_last_update_post_date,
    last_update_post_date,
    first_seen_at as detected_at,
    previous_record_hash,
    record_hash
from fields
where old_value is distinct from new_value
order by nct_id, last_update_post_date, detected_at, field
