-- Purpose: One wide row per study for browsing and as the base of the summary models: its key
--   status, design and date fields, its lead sponsor and conditions, how long it runs, and how many
--   arms, interventions, outcomes, sites and countries it has.
-- Grain: one row per study (NCT id).
-- Columns:
--   nct_id: ClinicalTrials.gov identifier of the study (NCT followed by 8 digits).
--   brief_title: Short title in plain language.
--   overall_status: Overall recruitment status (API code, e.g. RECRUITING, COMPLETED).
--   study_type: Study type (API code: INTERVENTIONAL, OBSERVATIONAL, EXPANDED_ACCESS).
--   phase_label: Readable phase label (e.g. 'Phase 1/Phase 2', 'Not Applicable'); null when no phase is given.
--   phases: Phases as API codes (EARLY_PHASE1, PHASE1 .. PHASE4, NA), in document order.
--   enrollment: Enrollment count (actual or anticipated, see enrollment_type).
--   enrollment_type: Whether enrollment is ACTUAL or ESTIMATED (API code).
--   start_date: Study start date (month-only dates resolve to the month's last day).
--   primary_completion_date: Primary completion date.
--   completion_date: Study completion date.
--   duration_months: Months from start_date to completion_date (days / 30.4375, 1 decimal); null
--     when either date is missing.
--   has_results: Whether results are posted.
--   lead_sponsor_name: Name of the lead sponsor (sponsors row with sponsor_role 'lead').
--   lead_sponsor_class: Agency class of the lead sponsor (API code, e.g. INDUSTRY, NIH, OTHER).
--   conditions: Conditions the study lists, verbatim, in condition_position order; empty when none.
--   n_conditions: Number of conditions the study lists.
--   n_arms: Number of arms or groups.
--   n_interventions: Number of interventions.
--   n_primary_outcomes: Number of primary outcome measures.
--   n_secondary_outcomes: Number of secondary outcome measures.
--   n_other_outcomes: Number of other outcome measures.
--   n_outcomes: Number of outcome measures of every kind.
--   n_sites: Number of sites (locations).
--   n_recruiting_sites: Number of sites whose site_status is RECRUITING.
--   n_countries: Number of distinct countries among the sites (null countries not counted).
with

study_rows as (
    select
        nct_id,
        brief_title,
        overall_status,
        study_type,
        phase_label,
        phases,
        enrollment,
        enrollment_type,
        start_date,
        primary_completion_date,
        completion_date,
        has_results
    from studies
),

lead_sponsor_rows as (
    select nct_id, sponsor_position, sponsor_name, agency_class
    from sponsors
    where sponsor_role = 'lead'
),

condition_rows as (
    select nct_id, condition_position, condition
    from conditions
    where condition is not null
),

arm_rows as (
    select nct_id from arms
),

intervention_rows as (
    select nct_id from interventions
),

outcome_rows as (
    select nct_id, outcome_kind from outcomes
),

site_rows as (
    select nct_id, site_status, country from sites
),

lead_sponsor_per_study as (
    select
        nct_id,
        first(sponsor_name order by sponsor_position) as lead_sponsor_name,
        first(agency_class order by sponsor_position) as lead_sponsor_class
    from lead_sponsor_rows
    group by nct_id
),

conditions_per_study as (
    select
        nct_id,
        list(condition order by condition_position) as conditions
    from condition_rows
    group by nct_id
),

arms_per_study as (
    select nct_id, count(*) as n_arms
    from arm_rows
    group by nct_id
),

interventions_per_study as (
    select nct_id, count(*) as n_interventions
    from intervention_rows
    group by nct_id
),

outcomes_per_study as (
    select
        nct_id,
        count(*) filter (where outcome_kind = 'primary') as n_primary_outcomes,
        count(*) filter (where outcome_kind = 'secondary') as n_secondary_outcomes,
        count(*) filter (where outcome_kind = 'other') as n_other_outcomes,
        count(*) as n_outcomes
    from outcome_rows
    group by nct_id
),

sites_per_study as (
    select
        nct_id,
        count(*) as n_sites,
        count(*) filter (where site_status = 'RECRUITING') as n_recruiting_sites,
        count(distinct country) as n_countries
    from site_rows
    group by nct_id
),

overview as (
    select
        study_rows.nct_id,
        study_rows.brief_title,
        study_rows.overall_status,
        study_rows.study_type,
        study_rows.phase_label,
        study_rows.phases,
        study_rows.enrollment,
        study_rows.enrollment_type,
        study_rows.start_date,
        study_rows.primary_completion_date,
        study_rows.completion_date,
        round(datediff('day', study_rows.start_date, study_rows.completion_date) / 30.4375, 1) as duration_months,
        study_rows.has_results,
        lead_sponsor_per_study.lead_sponsor_name,
        lead_sponsor_per_study.lead_sponsor_class,
        coalesce(conditions_per_study.conditions, []::varchar[]) as conditions,
        coalesce(len(conditions_per_study.conditions), 0)::bigint as n_conditions,
        coalesce(arms_per_study.n_arms, 0) as n_arms,
        coalesce(interventions_per_study.n_interventions, 0) as n_interventions,
        coalesce(outcomes_per_study.n_primary_outcomes, 0) as n_primary_outcomes,
        coalesce(outcomes_per_study.n_secondary_outcomes, 0) as n_secondary_outcomes,
        coalesce(outcomes_per_study.n_other_outcomes, 0) as n_other_outcomes,
        coalesce(outcomes_per_study.n_outcomes, 0) as n_outcomes,
        coalesce(sites_per_study.n_sites, 0) as n_sites,
        coalesce(sites_per_study.n_recruiting_sites, 0) as n_recruiting_sites,
        coalesce(sites_per_study.n_countries, 0) as n_countries
    from study_rows
    left join lead_sponsor_per_study on lead_sponsor_per_study.nct_id = study_rows.nct_id
    left join conditions_per_study on conditions_per_study.nct_id = study_rows.nct_id
    left join arms_per_study on arms_per_study.nct_id = study_rows.nct_id
    left join interventions_per_study on interventions_per_study.nct_id = study_rows.nct_id
    left join outcomes_per_study on outcomes_per_study.nct_id = study_rows.nct_id
    left join sites_per_study on sites_per_study.nct_id = study_rows.nct_id
)

select * from overview
order by nct_id
