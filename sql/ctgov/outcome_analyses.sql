-- Purpose: AACT's outcome_analyses: the statistical analyses of outcome measures, their
--   p-values and estimates, with AACT's readings of the texts: p_value is the number left once
--   '<', '>', '=' and spaces are taken out ('<0.001' gives 0.001), p_value_modifier what is left
--   once digits, '.' and '-' are ('<'; '' for a plain number); param_value and dispersion_value
--   the number the text starts with; the confidence interval a plain number or null. The texts
--   stay in the *_raw columns. The groups compared are in outcome_analysis_groups.
-- Grain: one row per outcome measure × statistical analysis.
-- Columns:
--   id: aact_id(nct_id, n): n counts the study's analyses, measure by measure, in document order.
--   nct_id: outcome_analyses.nct_id.
--   outcome_id: outcomes.id of the analysed measure: aact_id(nct_id, outcome_measure_position).
--   non_inferiority_type: outcome_analyses.non_inferiority_type (API code, e.g. SUPERIORITY, NON_INFERIORITY).
--   non_inferiority_description: outcome_analyses.non_inferiority_comment, verbatim.
--   param_type: outcome_analyses.param_type: the estimated parameter (e.g. 'Hazard Ratio (HR)'), verbatim.
--   param_value: outcome_analyses.param_value_raw: the number it starts with (leading_number).
--   dispersion_type: outcome_analyses.dispersion_type (API code).
--   dispersion_value: outcome_analyses.dispersion_value_raw: the number it starts with (leading_number).
--   p_value_modifier: outcome_analyses.p_value_raw without digits, '.' and '-', trimmed: '<', '>', '=', '<=', ... ('' for a plain number).
--   p_value: outcome_analyses.p_value_raw without '<', '>', '=' and spaces: the number it starts with (leading_number).
--   ci_n_sides: outcome_analyses.ci_n_sides (API code: ONE_SIDED, TWO_SIDED).
--   ci_percent: outcome_analyses.ci_pct_raw as a plain number; null otherwise.
--   ci_lower_limit: outcome_analyses.ci_lower_limit_raw as a plain number; null otherwise.
--   ci_upper_limit: outcome_analyses.ci_upper_limit_raw as a plain number; null otherwise.
--   ci_upper_limit_na_comment: outcome_analyses.ci_upper_limit_comment, verbatim.
--   p_value_description: outcome_analyses.p_value_comment, verbatim.
--   method: outcome_analyses.statistical_method, verbatim (e.g. 'ANCOVA').
--   method_description: outcome_analyses.statistical_comment, verbatim.
--   estimate_description: outcome_analyses.estimate_comment, verbatim.
--   groups_description: outcome_analyses.groups_description, verbatim.
--   other_analysis_description: outcome_analyses.other_analysis_description, verbatim.
--   ci_upper_limit_raw: outcome_analyses.ci_upper_limit_raw, verbatim.
--   ci_lower_limit_raw: outcome_analyses.ci_lower_limit_raw, verbatim.
--   p_value_raw: outcome_analyses.p_value_raw, verbatim (e.g. '<0.001').
select
    aact_id(nct_id, row_number() over (partition by nct_id order by outcome_measure_position, analysis_position)) as id,
    nct_id,
    aact_id(nct_id, outcome_measure_position) as outcome_id,
    non_inferiority_type,
    non_inferiority_comment as non_inferiority_description,
    param_type,
    leading_number(param_value_raw) as param_value,
    dispersion_type,
    leading_number(dispersion_value_raw) as dispersion_value,
    trim(regexp_replace(p_value_raw, '[0-9.-]', '', 'g')) as p_value_modifier,
    leading_number(regexp_replace(p_value_raw, '[<> =]', '', 'g')) as p_value,
    ci_n_sides,
    try_cast(ci_pct_raw as double) as ci_percent,
    try_cast(ci_lower_limit_raw as double) as ci_lower_limit,
    try_cast(ci_upper_limit_raw as double) as ci_upper_limit,
    ci_upper_limit_comment as ci_upper_limit_na_comment,
    p_value_comment as p_value_description,
    statistical_method as method,
    statistical_comment as method_description,
    estimate_comment as estimate_description,
    groups_description,
    other_analysis_description,
    ci_upper_limit_raw,
    ci_lower_limit_raw,
    p_value_raw
from main.outcome_analyses
