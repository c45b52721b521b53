-- Purpose: AACT's outcome_measurements: the outcome results per group, with the measure's
--   title, description, units and types carried on each row, as AACT keeps them. The *_num and
--   limit columns are the text read as AACT's loader reads it (Ruby's Float(): a plain number,
--   else null, so 'NA' and '<0.001' are null: ctgov.measurement_values); the text stays in
--   param_value, dispersion_value and *_raw.
-- Grain: one row per outcome measure × class × category × group measurement.
-- Columns:
--   id: aact_id(nct_id, n): n counts the study's measurements, measure by measure, class by class, category by category.
--   nct_id: outcome_measurements.nct_id.
--   outcome_id: outcomes.id of the measure: aact_id(nct_id, outcome_measure_position).
--   result_group_id: result_groups.id of the measure's group with this code; null when the measure lists no such group.
--   ctgov_group_code: outcome_measurements.group_code (OG000, ...).
--   classification: outcome_measurements.class_title, verbatim.
--   category: outcome_measurements.category_title, verbatim.
--   title: outcome_measurements.outcome_title: the measure's title.
--   description: outcome_measures.description: the measure's description.
--   units: outcome_measurements.unit_of_measure, verbatim.
--   param_type: outcome_measurements.param_type (API code, e.g. MEAN).
--   param_value: outcome_measurements.value_raw, verbatim (e.g. '12.5', 'NA').
--   param_value_num: outcome_measurements.value_raw as a plain number; null otherwise.
--   dispersion_type: outcome_measurements.dispersion_type, verbatim.
--   dispersion_value: outcome_measurements.spread_raw, verbatim.
--   dispersion_value_num: outcome_measurements.spread_raw as a plain number; null otherwise.
--   dispersion_lower_limit: outcome_measurements.lower_limit_raw as a plain number; null otherwise.
--   dispersion_upper_limit: outcome_measurements.upper_limit_raw as a plain number; null otherwise.
--   explanation_of_na: outcome_measurements.explanation_of_na, verbatim.
--   dispersion_upper_limit_raw: outcome_measurements.upper_limit_raw, verbatim.
--   dispersion_lower_limit_raw: outcome_measurements.lower_limit_raw, verbatim.
with

measurements as (
    select *, aact_id(nct_id, outcome_measure_position) as outcome_id from main.outcome_measurements
),

measures as (
    select nct_id, outcome_measure_position, description from main.outcome_measures
)

select
    aact_id(
        m.nct_id,
        row_number() over (
            partition by m.nct_id
            order by m.outcome_measure_position, m.class_position, m.category_position, m.measurement_position
        )
    ) as id,
    m.nct_id,
    m.outcome_id,
    g.id as result_group_id,
    m.group_code as ctgov_group_code,
    m.class_title as classification,
    m.category_title as category,
    m.outcome_title as title,
    o.description,
    m.unit_of_measure as units,
    m.param_type,
    -- param_value through explanation_of_na, read as AACT reads them: one definition for both measurement views.
    unnest(measurement_values(m.value_raw, m.spread_raw, m.lower_limit_raw, m.upper_limit_raw, m.dispersion_type, m.explanation_of_na)),
    m.upper_limit_raw as dispersion_upper_limit_raw,
    m.lower_limit_raw as dispersion_lower_limit_raw
from measurements as m
left join measures as o on o.nct_id = m.nct_id and o.outcome_measure_position = m.outcome_measure_position
left join ctgov.result_groups as g
    on g.nct_id = m.nct_id and g.outcome_id = m.outcome_id and g.ctgov_group_code = m.group_code
