-- Purpose: Find studies by a term: those whose brief title, official title, brief summary,
--   conditions, keywords or intervention names contain the term, case-insensitively, as a plain
--   substring (% and _ in the term are literal, not patterns). Use: select * from search_studies('IL-6').
-- Grain: one row per matching study.
-- Parameters: term
-- Columns:
--   nct_id: ClinicalTrials.gov identifier of the study (NCT followed by 8 digits).
--   brief_title: Short title in plain language.
--   overall_status: Overall recruitment status (API code, e.g. RECRUITING, COMPLETED).
--   phase_label: Readable phase label (e.g. 'Phase 1/Phase 2'); null when no phase is given.
--   matched_fields: Fields the term was found in, in this order: brief_title, official_title,
--     brief_summary, conditions, keywords, interventions.
with

study_rows as (
    select nct_id, brief_title, official_title, brief_summary, overall_status, phase_label
    from studies
),

condition_rows as (
    select nct_id, condition from conditions
),

keyword_rows as (
    select nct_id, keyword from keywords
),

intervention_rows as (
    select nct_id, intervention_name from interventions
),

condition_matches as (
    select distinct nct_id
    from condition_rows
    where contains(lower(condition), lower(term))
),

keyword_matches as (
    select distinct nct_id
    from keyword_rows
    where contains(lower(keyword), lower(term))
),

intervention_matches as (
    select distinct nct_id
    from intervention_rows
    where contains(lower(intervention_name), lower(term))
),

field_flags as (
    select
        study_rows.nct_id,
        study_rows.brief_title,
        study_rows.overall_status,
        study_rows.phase_label,
        [
            case when contains(lower(study_rows.brief_title), lower(term)) then 'brief_title' end,
            case when contains(lower(study_rows.official_title), lower(term)) then 'official_title' end,
            case when contains(lower(study_rows.brief_summary), lower(term)) then 'brief_summary' end,
            case when condition_matches.nct_id is not null then 'conditions' end,
            case when keyword_matches.nct_id is not null then 'keywords' end,
            case when intervention_matches.nct_id is not null then 'interventions' end
        ] as candidate_fields
    from study_rows
    left join condition_matches on condition_matches.nct_id = study_rows.nct_id
    left join keyword_matches on keyword_matches.nct_id = study_rows.nct_id
    left join intervention_matches on intervention_matches.nct_id = study_rows.nct_id
),

search_results as (
    select
        nct_id,
        brief_title,
        overall_status,
        phase_label,
        list_filter(candidate_fields, lambda field: field is not null)::varchar[] as matched_fields
    from field_flags
)

select * from search_results
where len(matched_fields) > 0
order by nct_id
