-- Purpose: AACT's calculated_values, with AACT's definitions (app/models/calculated_value.rb):
--   facility counts and whether one is in the US or its territories; the year the study was
--   registered; actual_duration and months_to_report_results in whole 30-day months, truncated
--   toward zero (null when a date is missing, and for the duration when the start or primary
--   completion date is ESTIMATED); ages split into number and singular lower-case unit; counts
--   of registered outcomes by type (null when none); results reported when the results hold an
--   outcome measure; the adverse-event subject counts summed over reported_events by type.
-- Grain: one row per study.
-- Columns:
--   id: aact_id(nct_id, 1): the study's only row.
--   nct_id: studies.nct_id.
--   number_of_facilities: study_overview.n_sites: the study's sites (0 when none).
--   number_of_nsae_subjects: Sum of reported_events.subjects_affected over the study's other (not serious) events, terms and groups (so a participant with two events counts twice, as in AACT); null when it reports none.
--   number_of_sae_subjects: Sum of reported_events.subjects_affected over the study's serious events, terms and groups; null when it reports none.
--   registered_in_calendar_year: Year of studies.study_first_submit_date.
--   nlm_download_date: Always null (AACT no longer fills it).
--   actual_duration: Whole 30-day months from studies.start_date to studies.primary_completion_date; null when either is missing or ESTIMATED.
--   were_results_reported: Whether the study's results hold an outcome measure (outcome_measures), as AACT decides it.
--   months_to_report_results: Whole 30-day months from studies.primary_completion_date to studies.results_first_submit_date.
--   has_us_facility: Whether a site is in the United States or a US territory (sites.country); null when the study has no sites.
--   has_single_facility: Whether the study has exactly one site; null when it has none.
--   minimum_age_num: The number in studies.minimum_age ('18 Years' gives 18).
--   maximum_age_num: The number in studies.maximum_age.
--   minimum_age_unit: The unit in studies.minimum_age, lower case and singular ('18 Years' gives year).
--   maximum_age_unit: The unit in studies.maximum_age, lower case and singular.
--   number_of_primary_outcomes_to_measure: study_overview.n_primary_outcomes (registered primary outcomes); null when none.
--   number_of_secondary_outcomes_to_measure: study_overview.n_secondary_outcomes; null when none.
--   number_of_other_outcomes_to_measure: study_overview.n_other_outcomes; null when none.
with

studies as (
    select
        nct_id, study_first_submit_date, start_date, start_date_type, primary_completion_date,
        primary_completion_date_type, results_first_submit_date, minimum_age, maximum_age
    from main.studies
),

counts as (
    select nct_id, n_sites, n_primary_outcomes, n_secondary_outcomes, n_other_outcomes from main.study_overview
),

us_sites as (
    select distinct nct_id
    from main.sites
    where country in (
        'United States', 'Guam', 'Puerto Rico', 'U.S. Virgin Islands', 'Virgin Islands (U.S.)',
        'Northern Mariana Islands', 'American Samoa', 'Midway Atoll', 'Palmyra Atoll', 'Baker Island',
        'Howland Island', 'Jarvis Island', 'Johnston Atoll', 'Kingman Reef', 'Wake Island',
        'Navassa Island', 'Serranilla Bank', 'Bajo Nuevo Bank'
    )
),

event_subjects as (
    select
        nct_id,
        sum(coalesce(subjects_affected, 0)) filter (where event_type = 'serious') as sae_subjects,
        sum(coalesce(subjects_affected, 0)) filter (where event_type = 'other') as nsae_subjects
    from main.reported_events
    group by nct_id
),

reported as (
    select distinct nct_id from main.outcome_measures
),

ages as (
    select
        nct_id,
        try_cast(regexp_extract(minimum_age, '^\s*(\d+)', 1) as integer) as minimum_age_num,
        try_cast(regexp_extract(maximum_age, '^\s*(\d+)', 1) as integer) as maximum_age_num,
        regexp_replace(lower(regexp_extract(minimum_age, '(\S+)\s*$', 1)), 's$', '') as minimum_age_unit,
        regexp_replace(lower(regexp_extract(maximum_age, '(\S+)\s*$', 1)), 's$', '') as maximum_age_unit
    from studies
)

select
    aact_id(s.nct_id, 1) as id,
    s.nct_id,
    cast(coalesce(c.n_sites, 0) as integer) as number_of_facilities,
    cast(e.nsae_subjects as integer) as number_of_nsae_subjects,
    cast(e.sae_subjects as integer) as number_of_sae_subjects,
    cast(year(s.study_first_submit_date) as integer) as registered_in_calendar_year,
    cast(null as date) as nlm_download_date,
    cast(
        case when s.start_date_type is distinct from 'ESTIMATED' and s.primary_completion_date_type is distinct from 'ESTIMATED'
             then trunc(date_diff('day', s.start_date, s.primary_completion_date) / 30) end
        as integer
    ) as actual_duration,
    r.nct_id is not null as were_results_reported,
    cast(trunc(date_diff('day', s.primary_completion_date, s.results_first_submit_date) / 30) as integer) as months_to_report_results,
    case when c.n_sites > 0 then u.nct_id is not null end as has_us_facility,
    case when c.n_sites > 0 then c.n_sites = 1 end as has_single_facility,
    a.minimum_age_num,
    a.maximum_age_num,
    nullif(a.minimum_age_unit, '') as minimum_age_unit,
    nullif(a.maximum_age_unit, '') as maximum_age_unit,
    cast(nullif(c.n_primary_outcomes, 0) as integer) as number_of_primary_outcomes_to_measure,
    cast(nullif(c.n_secondary_outcomes, 0) as integer) as number_of_secondary_outcomes_to_measure,
    cast(nullif(c.n_other_outcomes, 0) as integer) as number_of_other_outcomes_to_measure
from studies as s
left join counts as c on c.nct_id = s.nct_id
left join us_sites as u on u.nct_id = s.nct_id
left join ages as a on a.nct_id = s.nct_id
left join event_subjects as e on e.nct_id = s.nct_id
left join reported as r on r.nct_id = s.nct_id
