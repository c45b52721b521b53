-- Purpose: AACT's outcome_analysis_groups: the groups each statistical analysis compares.
--   result_group_id is the analysed measure's own group of that code, as AACT's loader links it.
-- Grain: one row per group code an analysis of an outcome measure lists.
-- Columns:
--   id: aact_id(nct_id, n): n counts the study's analysis groups, analysis by analysis, in document order.
--   nct_id: outcome_analyses.nct_id.
--   outcome_analysis_id: outcome_analyses.id of the analysis: aact_id(nct_id, n), n its place among the study's analyses.
--   result_group_id: result_groups.id of the analysed measure's group with this code; null when the measure lists no such group.
--   ctgov_group_code: An element of outcome_analyses.group_codes (OG000, ...).
with

analyses as (
    select
        nct_id,
        outcome_measure_position,
        analysis_position,
        group_codes,
        row_number() over (partition by nct_id order by outcome_measure_position, analysis_position) as analysis_ordinal
    from main.outcome_analyses
),

analysis_groups as (
    select
        nct_id,
        aact_id(nct_id, outcome_measure_position) as outcome_id,
        analysis_ordinal,
        generate_subscripts(group_codes, 1) as code_position,
        unnest(group_codes) as group_code
    from analyses
    where group_codes is not null
)

select
    aact_id(a.nct_id, row_number() over (partition by a.nct_id order by a.analysis_ordinal, a.code_position)) as id,
    a.nct_id,
    aact_id(a.nct_id, a.analysis_ordinal) as outcome_analysis_id,
    g.id as result_group_id,
    a.group_code as ctgov_group_code
from analysis_groups as a
left join ctgov.result_groups as g
    on g.nct_id = a.nct_id and g.outcome_id = a.outcome_id and g.ctgov_group_code = a.group_code
