-- Purpose: Find studies by a term: those whose brief title, official title, brief summary,
--   detailed description, conditions, keywords, intervention names, intervention other names
--   (brand names, codes) or intervention MeSH terms (direct and ancestors) contain the term,
--   case-insensitively, as a plain substring (% and _ in the term are literal, not patterns).
--   Use: select * from search_studies('IL-6').
-- Grain: one row per matching study.
-- Parameters: term
-- Columns:
--   nct_id: ClinicalTrials.gov identifier of the study (NCT followed by 8 digits).
--   brief_title: Short title in plain language.
--   overall_status: Overall recruitment status (API code, e.g. RECRUITING, COMPLETED).
--   phase_label: Readable phase label (e.g. 'Phase 1/Phase 2'); null when no phase is given.
--   matched_fields: Fields the term was found in, in this order: brief_title, official_title,
--     brief_summary, detailed_description, conditions, keywords, interventions,
--     intervention_other_names, intervention_mesh_terms.
with

study_rows as (
    select nct_id, brief_title, official_title, brief_summary, detailed_description, overall_status, phase_label
    from studies
),

condition_rows as (
    select nct_id, condition from conditions
),

keyword_rows as (
    select nct_id, keyword from keywords
),

intervention_rows as (
    select nct_id, intervention_name, other_names from interventions
),

intervention_mesh_rows as (
    select nct_id, mesh_term from intervention_mesh_terms
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

other_name_matches as (
    select distinct nct_id
    from intervention_rows
    where list_bool_or(list_transform(other_names, lambda other_name: contains(lower(other_name), lower(term))))
),

intervention_mesh_matches as (
    select distinct nct_id
    from intervention_mesh_rows
    where contains(lower(mesh_term), lower(term))
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
            case when contains(lower(study_rows.detailed_description), lower(term)) then 'detailed_description' end,
            case when condition_matches.nct_id is not null then 'conditions' end,
            case when keyword_matches.nct_id is not null then 'keywords' end,
            case when intervention_matches.nct_id is not null then 'interventions' end,
            case when other_name_matches.nct_id is not null then 'intervention_other_names' end,
            case when intervention_mesh_matches.nct_id is not null then 'intervention_mesh_terms' end
        ] as candidate_fields
    from study_rows
    left join condition_matches on condition_matches.nct_id = study_rows.nct_id
    left join keyword_matches on keyword_matches.nct_id = study_rows.nct_id
    left join intervention_matches on intervention_matches.nct_id = study_rows.nct_id
    left join other_name_matches on other_name_matches.nct_id = study_rows.nct_id
    left join intervention_mesh_matches on intervention_mesh_matches.nct_id = study_rows.nct_id
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
