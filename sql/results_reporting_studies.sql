-- Purpose: Results reporting of each trial FDAAA 801 covers, by the rule of the FDAAA TrialsTracker
--   (https://fdaaa.trialstracker.net/; ebmdatalab/clinicaltrials-act-tracker: view.sql, and the
--   decisions in its issue #2 and pull request #116). A trial is covered when it is
--   interventional, not phase 1 (a phase 1 or early phase 1 trial alone; phase 1/2 counts), not
--   a device feasibility study and not withdrawn (every other status counts, terminated
--   included), and either
--     - an applicable clinical trial (ACT): it tests an FDA-regulated drug or device and started
--       on or after 18 January 2017, when the Final Rule took effect; or
--     - a probable ACT (pACT), for records older than the FDA flags: it started before 18 January
--       2017 and completed (primary completion, else study completion) on or after it, tests a
--       drug, biological, device, genetic, radiation, combination product or diagnostic test,
--       has a site in the United States or its territories, and is FDA-regulated or carries no
--       FDA flags at all.
--   Results are due 12 months after primary completion (the study completion date when there is
--   none). As the tracker does, a trial counts as due 30 days after that (the registry's
--   processing time), and a trial with a certificate of delay or an extension request
--   (disp_first_submit_date) only 3 years and 30 days after completion. The due date is met by the
--   date results were first submitted (results_first_submit_date, else the first submission of
--   results still in quality control, from pending_results), not the date they were posted.
--   Due and overdue are judged on the day the warehouse is built.
-- Grain: one row per trial FDAAA 801 covers (ACT or pACT).
-- Columns:
--   nct_id: ClinicalTrials.gov identifier of the study (NCT followed by 8 digits).
--   lead_sponsor_name: Lead sponsor's name (studies.lead_sponsor_name).
--   lead_sponsor_class: Lead sponsor's agency class (API code, studies.lead_sponsor_class).
--   overall_status: Overall recruitment status (API code).
--   act_kind: ACT (FDA-regulated, started on or after 18 January 2017) or pACT (probable ACT).
--   start_date: Study start date.
--   counted_completion_date: Primary completion date, else the study completion date: the date results are due from.
--   is_primary_completion_counted: Whether counted_completion_date is the primary completion date.
--   results_due_date: counted_completion_date + 12 months.
--   has_certificate: Whether a certificate of delay or an extension was requested (disp_first_submit_date set).
--   results_submit_date: Date results were first submitted (results_first_submit_date, else the
--     first RELEASE event in pending_results); null when none were.
--   results_first_post_date: Date results were first posted; null when none are.
--   is_due: Whether results are due on the build day: 30 days past results_due_date, and without
--     a certificate or 3 years and 30 days past counted_completion_date.
--   is_reported: Whether results were submitted (results_submit_date set).
--   is_reported_on_time: Whether results were submitted on or before results_due_date.
--   is_overdue: Whether results are due and not submitted.
--   days_late: For trials that are due, days from results_due_date to submission (to the build
--     day when not submitted), 0 when on time; null for trials not yet due.
with

study_rows as (
    select
        nct_id,
        lead_sponsor_name,
        lead_sponsor_class,
        overall_status,
        study_type,
        phases,
        primary_purpose,
        is_fda_regulated_drug,
        is_fda_regulated_device,
        start_date,
        primary_completion_date,
        completion_date,
        results_first_submit_date,
        results_first_post_date,
        disp_first_submit_date
    from studies
),

intervention_rows as (
    select nct_id, intervention_type
    from interventions
),

site_rows as (
    select nct_id, country
    from sites
),

pending_rows as (
    select nct_id, event_type, event_date
    from pending_results
),

-- Interventions the tracker reads as possibly FDA-regulated, for records without FDA flags.
studies_with_regulable_interventions as (
    select distinct nct_id
    from intervention_rows
    where intervention_type in (
        'DRUG', 'BIOLOGICAL', 'DEVICE', 'GENETIC', 'RADIATION', 'COMBINATION_PRODUCT', 'DIAGNOSTIC_TEST'
    )
),

studies_with_us_sites as (
    select distinct nct_id
    from site_rows
    where country in (
        'United States', 'American Samoa', 'Guam', 'Northern Mariana Islands', 'Puerto Rico',
        'U.S. Virgin Islands', 'Virgin Islands (U.S.)'
    )
),

first_pending_submissions as (
    select nct_id, min(event_date) as first_submit_date
    from pending_rows
    where event_type = 'RELEASE'
    group by nct_id
),

eligible as (
    select
        *,
        coalesce(primary_completion_date, completion_date) as counted_completion_date,
        primary_completion_date is not null as is_primary_completion_counted,
        coalesce(is_fda_regulated_drug, false) or coalesce(is_fda_regulated_device, false) as is_fda_regulated
    from study_rows
    where study_type = 'INTERVENTIONAL'
      and list_has_any(phases, ['PHASE2', 'PHASE3', 'PHASE4', 'NA'])
      and primary_purpose is distinct from 'DEVICE_FEASIBILITY'
      and overall_status is distinct from 'WITHDRAWN'
),

covered as (
    select
        eligible.*,
        case when is_fda_regulated and start_date >= date '2017-01-18' then 'ACT' else 'pACT' end as act_kind
    from eligible
    where (is_fda_regulated and start_date >= date '2017-01-18')
       or (
            start_date < date '2017-01-18'
            and counted_completion_date >= date '2017-01-18'
            and (is_fda_regulated or (is_fda_regulated_drug is null and is_fda_regulated_device is null))
            and nct_id in (select nct_id from studies_with_regulable_interventions)
            and nct_id in (select nct_id from studies_with_us_sites)
       )
),

reporting as (
    select
        covered.*,
        (counted_completion_date + interval 12 month)::date as results_due_date,
        disp_first_submit_date is not null as has_certificate,
        coalesce(results_first_submit_date, first_pending_submissions.first_submit_date) as results_submit_date
    from covered
    left join first_pending_submissions using (nct_id)
),

judged as (
    select
        *,
        current_date > results_due_date + interval 30 day
            and (not has_certificate or current_date > counted_completion_date + interval 3 year + interval 30 day)
            as is_due
    from reporting
),

results_reporting_studies as (
    select
        nct_id,
        lead_sponsor_name,
        lead_sponsor_class,
        overall_status,
        act_kind,
        start_date,
        counted_completion_date,
        is_primary_completion_counted,
        results_due_date,
        has_certificate,
        results_submit_date,
        results_first_post_date,
        is_due,
        results_submit_date is not null as is_reported,
        coalesce(results_submit_date <= results_due_date, false) as is_reported_on_time,
        is_due and results_submit_date is null as is_overdue,
        case
            when is_due then greatest(0, datediff('day', results_due_date, coalesce(results_submit_date, current_date)))
        end as days_late
    from judged
)

select * from results_reporting_studies
order by nct_id
