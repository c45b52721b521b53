-- Purpose: AACT's outcomes: the outcome measures as reported in the results (the registered
--   ones are design_outcomes). Their ids are the outcome_id of outcome_counts,
--   outcome_measurements, outcome_analyses and the outcome groups of result_groups.
-- Grain: one row per outcome measure of a study's results.
-- Columns:
--   id: aact_id(nct_id, outcome_measures.outcome_measure_position).
--   nct_id: outcome_measures.nct_id.
--   outcome_type: outcome_measures.outcome_type (API code: PRIMARY, SECONDARY, OTHER_PRE_SPECIFIED, POST_HOC).
--   title: outcome_measures.title, verbatim.
--   description: outcome_measures.description, verbatim.
--   time_frame: outcome_measures.time_frame, verbatim.
--   population: outcome_measures.population_description, verbatim.
--   anticipated_posting_date: outcome_measures.anticipated_posting_date_raw as a DATE: a month-only date is the month's first day (AACT's loader reads this one date so), a year-only date 31 December.
--   anticipated_posting_month_year: outcome_measures.anticipated_posting_date_raw, verbatim.
--   units: outcome_measures.unit_of_measure, verbatim.
--   units_analyzed: outcome_measures.units_analyzed, verbatim.
--   dispersion_type: outcome_measures.dispersion_type, verbatim (the API writes it in words here, e.g. 'Standard Deviation').
--   param_type: outcome_measures.param_type (API code, e.g. MEAN, COUNT_OF_PARTICIPANTS).
select
    aact_id(nct_id, outcome_measure_position) as id,
    nct_id,
    outcome_type,
    title,
    description,
    time_frame,
    population_description as population,
    case when anticipated_posting_date_precision = 'month'
         then cast(date_trunc('month', anticipated_posting_date) as date)
         else anticipated_posting_date end as anticipated_posting_date,
    anticipated_posting_date_raw as anticipated_posting_month_year,
    unit_of_measure as units,
    units_analyzed,
    dispersion_type,
    param_type
from main.outcome_measures
