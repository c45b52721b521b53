-- Purpose: AACT's baseline_measurements: the baseline characteristics (age, sex, race, ...)
--   per group, with the measure's title, description and types carried on each row. The *_num
--   and limit columns are the text read as AACT's loader reads it (a plain number, else null:
--   ctgov.measurement_values); the text stays in param_value and dispersion_value.
-- Grain: one row per baseline measure × class × category × group measurement.
-- Columns:
--   id: aact_id(nct_id, n): n counts the study's baseline measurements, measure by measure, class by class, category by category.
--   nct_id: baseline_measurements.nct_id.
--   result_group_id: result_groups.id of the baseline group with this code.
--   ctgov_group_code: baseline_measurements.group_code (BG000, ...).
--   classification: baseline_measurements.class_title, verbatim.
--   category: baseline_measurements.category_title, verbatim (e.g. 'Female').
--   title: baseline_measurements.measure_title, verbatim (e.g. 'Age, Continuous').
--   description: baseline_measurements.measure_description, verbatim.
--   units: baseline_measurements.unit_of_measure, verbatim.
--   param_type: baseline_measurements.param_type (API code, e.g. MEAN, COUNT_OF_PARTICIPANTS).
--   param_value: baseline_measurements.value_raw, verbatim.
--   param_value_num: baseline_measurements.value_raw as a plain number; null otherwise.
--   dispersion_type: baseline_measurements.dispersion_type (API code, e.g. STANDARD_DEVIATION).
--   dispersion_value: baseline_measurements.spread_raw, verbatim.
--   dispersion_value_num: baseline_measurements.spread_raw as a plain number; null otherwise.
--   dispersion_lower_limit: baseline_measurements.lower_limit_raw as a plain number; null otherwise.
--   dispersion_upper_limit: baseline_measurements.upper_limit_raw as a plain number; null otherwise.
--   explanation_of_na: baseline_measurements.explanation_of_na, verbatim.
--   number_analyzed: baseline_measurements.n_analyzed: the class's count for the group, else the measure's, else the overall baseline count.
--   number_analyzed_units: baseline_measurements.n_analyzed_units: the measure's units analyzed, else 'Participants'.
--   population_description: baseline_measurements.population_description, verbatim.
--   calculate_percentage: baseline_measurements.is_percentage_calculated as AACT writes it: 'Yes' or 'No'.
select
    aact_id(
        m.nct_id,
        row_number() over (
            partition by m.nct_id
            order by m.baseline_measure_position, m.class_position, m.category_position, m.measurement_position
        )
    ) as id,
    m.nct_id,
    g.id as result_group_id,
    m.group_code as ctgov_group_code,
    m.class_title as classification,
    m.category_title as category,
    m.measure_title as title,
    m.measure_description as description,
    m.unit_of_measure as units,
    m.param_type,
    -- param_value through explanation_of_na, read as AACT reads them: one definition for both measurement views.
    unnest(measurement_values(m.value_raw, m.spread_raw, m.lower_limit_raw, m.upper_limit_raw, m.dispersion_type, m.explanation_of_na)),
    m.n_analyzed as number_analyzed,
    m.n_analyzed_units as number_analyzed_units,
    m.population_description,
    case m.is_percentage_calculated when true then 'Yes' when false then 'No' end as calculate_percentage
from main.baseline_measurements as m
left join ctgov.result_groups as g
    on g.nct_id = m.nct_id and g.ctgov_group_code = m.group_code and g.result_type = 'Baseline'
