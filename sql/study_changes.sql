-- Purpose: What changed in each study from one version of its record to the next: recruitment
--   status, enrollment and its type, the start, primary completion and completion dates with
--   their types, phases, the number of sites, and whether results were posted. Versions come from
--   the history kept across builds, in the order they became the warehouse's current version:
--   when a build first loaded them (study_versions), or loaded them again after a newer version
--   left the raw folder (study_version_returns). Such a step back is a row like any other, with
--   is_step_back set, so a study's last change is always to the version the warehouse holds.
--   Answers "which trials changed status or slipped their completion date since last week":
--   filter on detected_at or last_update_post_date.
-- Grain: one row per changed field between consecutive current versions of a study.
-- Columns:
--   nct_id: ClinicalTrials.gov identifier of the study.
--   field: The field that changed, named as its column in studies (n_sites: the number of sites).
--   old_value: Its value in the earlier version, as text (dates verbatim, phases comma-separated); null when absent.
--   new_value: Its value in the later version, as text; null when absent.
--   changed_between: The two versions' lastUpdatePostDates, 'YYYY-MM-DD -> YYYY-MM-DD'.
--   is_step_back: Whether the later version is an older one than the earlier (by lastUpdatePostDate): the newer
--     version was withdrawn from the raw folder and the warehouse went back to it.
--   previous_last_update_post_date: lastUpdatePostDate of the earlier version.
--   last_update_post_date: lastUpdatePostDate of the later version.
--   detected_at: When a build made the later version current (UTC).
--   previous_record_hash: record_hash of the earlier version in study_versions.
--   record_hash: record_hash of the later version in study_versions.
with

became_current as (
    select nct_id, record_hash, first_seen_at as became_current_at from study_versions
    union all
    select nct_id, record_hash, returned_at from study_version_returns
),

versions as (
    select
        nct_id,
        record_hash,
        last_update_post_date,
        last_update_post_date_raw,
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

steps as (
    select versions.*, became_current.became_current_at
    from became_current
    join versions using (nct_id, record_hash)
),

consecutive as (
    select
        *,
        lag(record_hash) over by_becoming_current as previous_record_hash,
        lag(last_update_post_date) over by_becoming_current as previous_last_update_post_date,
        lag(last_update_post_date_raw) over by_becoming_current as previous_last_update_post_date_raw,
        lag({
            'overall_status': overall_status, 'enrollment': enrollment, 'enrollment_type': enrollment_type,
            'start_date': start_date, 'start_date_type': start_date_type,
            'primary_completion_date': primary_completion_date, 'primary_completion_date_type': primary_completion_date_type,
            'completion_date': completion_date, 'completion_date_type': completion_date_type,
            'phases': phases, 'n_sites': n_sites, 'has_results': has_results
        }) over by_becoming_current as previous
    from steps
    window by_becoming_current as (partition by nct_id order by became_current_at, last_update_post_date nulls first, record_hash)
),

fields as (
    select
        nct_id, record_hash, previous_record_hash, last_update_post_date, previous_last_update_post_date,
        previous_last_update_post_date_raw, last_update_post_date_raw, became_current_at,
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
    coalesce(last_update_post_date < previous_last_update_post_date, false) as is_step_back,
    previous_last_update_post_date,
    last_update_post_date,
    became_current_at as detected_at,
    previous_record_hash,
    record_hash
from fields
where old_value is distinct from new_value
order by nct_id, detected_at, field
