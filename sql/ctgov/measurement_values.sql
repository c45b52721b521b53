-- Purpose: AACT's reading of one measurement, shared by baseline_measurements and
--   outcome_measurements: the registry's texts as they are, and the numbers AACT's loader reads
--   from them with Ruby's Float() (a plain number; null for 'NA', '<0.001' or '1,234'), with the
--   measure's dispersion type and the measurement's comment, in AACT's column order. A STRUCT,
--   unnested into the view's columns: unnest(ctgov.measurement_values(value_raw, spread_raw,
--   lower_limit_raw, upper_limit_raw, dispersion_type, explanation_of_na)).
-- Grain: one struct per measurement.
-- Parameters: value_text, spread_text, lower_limit_text, upper_limit_text, dispersion_type, explanation_of_na
{
    'param_value': value_text,
    'param_value_num': try_cast(value_text as double),
    'dispersion_type': dispersion_type,
    'dispersion_value': spread_text,
    'dispersion_value_num': try_cast(spread_text as double),
    'dispersion_lower_limit': try_cast(lower_limit_text as double),
    'dispersion_upper_limit': try_cast(upper_limit_text as double),
    'explanation_of_na': explanation_of_na
}
