"""The search_studies table macro: plain case-insensitive substring search over nine fields.

Upstream quirk pinned here: a drug is often registered under its generic name while people
search for its brand name, which only the intervention's otherNames carry (Actemra for
tocilizumab), or for its class, which only the derived intervention MeSH terms carry.
"""
from __future__ import annotations

import duckdb

from pipeline.warehouse.ddl import create_tables
from pipeline.warehouse.models import discover_models, materialize

ROWS = {
    "studies": [
        {
            "nct_id": "NCT00000003", "brief_title": "Tocilizumab in IL-6 driven arthritis",
            "official_title": "A randomized trial of anti-IL-6 receptor therapy", "brief_summary": "Blocks il-6 signalling.",
            "overall_status": "RECRUITING", "phase_label": "Phase 3",
        },
        {
            "nct_id": "NCT00000001", "brief_title": "Aspirin after surgery", "official_title": None, "brief_summary": None,
            "overall_status": "COMPLETED", "phase_label": None,
        },
        {"nct_id": "NCT00000002", "brief_title": "100% adherence coaching", "overall_status": "COMPLETED"},
        {"nct_id": "NCT00000004", "brief_title": "1000 adherence coaching", "overall_status": "COMPLETED"},
        {"nct_id": "NCT00000005", "brief_title": "Pre_op fasting", "overall_status": "WITHDRAWN"},
        {"nct_id": "NCT00000006", "brief_title": "Preop fasting", "overall_status": "WITHDRAWN"},
        {
            "nct_id": "NCT00000007", "brief_title": "Joint pain registry", "overall_status": "RECRUITING",
            "detailed_description": "Patients on IL-6 receptor blockade are followed for five years.",
        },
    ],
    "conditions": [
        # Two conditions of the same study match: the study still appears once.
        {"nct_id": "NCT00000001", "condition_position": 1, "condition": "IL-6 Deficiency"},
        {"nct_id": "NCT00000001", "condition_position": 2, "condition": "Il-6 related pain"},
        {"nct_id": "NCT00000004", "condition_position": 1, "condition": "Diabetes"},
    ],
    "keywords": [
        {"nct_id": "NCT00000003", "keyword_position": 1, "keyword": "interleukin-6 (IL-6)"},
        {"nct_id": "NCT00000004", "keyword_position": 1, "keyword": "adherence"},
    ],
    "interventions": [
        {"nct_id": "NCT00000001", "intervention_position": 1, "intervention_type": "DRUG", "intervention_name": "Aspirin"},
        {
            "nct_id": "NCT00000003", "intervention_position": 1, "intervention_type": "DRUG", "intervention_name": "Tocilizumab (anti-IL-6)",
            "other_names": ["RoActemra", "Actemra"],
        },
        {"nct_id": "NCT00000004", "intervention_position": 1, "intervention_type": "BEHAVIORAL", "intervention_name": "Coaching",
         "other_names": []},
    ],
    "intervention_mesh_terms": [
        {"nct_id": "NCT00000003", "mesh_position": 1, "relation": "direct", "mesh_id": "C502936", "mesh_term": "tocilizumab"},
        {"nct_id": "NCT00000003", "mesh_position": 2, "relation": "ancestor", "mesh_id": "D061067",
         "mesh_term": "Antibodies, Monoclonal, Humanized"},
        {"nct_id": "NCT00000001", "mesh_position": 1, "relation": "direct", "mesh_id": "D001241", "mesh_term": "Aspirin"},
    ],
}


def test_lowercase_term_matches_every_field_it_occurs_in_in_fixed_order(macro_rows):
    assert macro_rows("search_studies", ROWS, "il-6") == [
        {
            "nct_id": "NCT00000001", "brief_title": "Aspirin after surgery", "overall_status": "COMPLETED",
            "phase_label": None, "matched_fields": ["conditions"],
        },
        {
            "nct_id": "NCT00000003", "brief_title": "Tocilizumab in IL-6 driven arthritis", "overall_status": "RECRUITING",
            "phase_label": "Phase 3",
            "matched_fields": ["brief_title", "official_title", "brief_summary", "keywords", "interventions"],
        },
        {
            "nct_id": "NCT00000007", "brief_title": "Joint pain registry", "overall_status": "RECRUITING",
            "phase_label": None, "matched_fields": ["detailed_description"],
        },
    ]


def test_uppercase_term_matches_the_same_studies(macro_rows):
    assert [r["nct_id"] for r in macro_rows("search_studies", ROWS, "IL-6")] == ["NCT00000001", "NCT00000003", "NCT00000007"]


def test_a_brand_name_is_found_among_the_intervention_other_names(macro_rows):
    assert macro_rows("search_studies", ROWS, "actemra") == [
        {
            "nct_id": "NCT00000003", "brief_title": "Tocilizumab in IL-6 driven arthritis", "overall_status": "RECRUITING",
            "phase_label": "Phase 3", "matched_fields": ["intervention_other_names"],
        },
    ]


def test_a_drug_class_is_found_among_the_intervention_mesh_terms_direct_or_ancestor(macro_rows):
    assert [(r["nct_id"], r["matched_fields"]) for r in macro_rows("search_studies", ROWS, "monoclonal")] == [
        ("NCT00000003", ["intervention_mesh_terms"]),
    ]
    assert [(r["nct_id"], r["matched_fields"]) for r in macro_rows("search_studies", ROWS, "TOCILIZUMAB")] == [
        ("NCT00000003", ["brief_title", "interventions", "intervention_mesh_terms"]),
    ]


def test_the_detailed_description_is_searched(macro_rows):
    assert [(r["nct_id"], r["matched_fields"]) for r in macro_rows("search_studies", ROWS, "blockade")] == [
        ("NCT00000007", ["detailed_description"]),
    ]


def test_percent_in_the_term_is_literal(macro_rows):
    assert macro_rows("search_studies", ROWS, "100%") == [
        {
            "nct_id": "NCT00000002", "brief_title": "100% adherence coaching", "overall_status": "COMPLETED",
            "phase_label": None, "matched_fields": ["brief_title"],
        },
    ]


def test_underscore_in_the_term_is_literal(macro_rows):
    assert [r["nct_id"] for r in macro_rows("search_studies", ROWS, "pre_op")] == ["NCT00000005"]


def test_matches_in_title_and_keyword_give_one_row(macro_rows):
    assert macro_rows("search_studies", ROWS, "ADHERENCE") == [
        {
            "nct_id": "NCT00000002", "brief_title": "100% adherence coaching", "overall_status": "COMPLETED",
            "phase_label": None, "matched_fields": ["brief_title"],
        },
        {
            "nct_id": "NCT00000004", "brief_title": "1000 adherence coaching", "overall_status": "COMPLETED",
            "phase_label": None, "matched_fields": ["brief_title", "keywords"],
        },
    ]


def test_no_match_gives_no_rows(macro_rows):
    assert macro_rows("search_studies", ROWS, "zebrafish") == []


def test_macro_persists_in_the_warehouse_file(tmp_path, warehouse):
    """Created in the build, callable from any later session opened on the file."""
    path = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(path))
    warehouse(ROWS, "search_studies", con)
    con.close()

    with duckdb.connect(str(path), read_only=True) as later:
        assert later.execute("select nct_id, matched_fields from search_studies('IL-6')").fetchall() == [
            ("NCT00000001", ["conditions"]),
            ("NCT00000003", ["brief_title", "official_title", "brief_summary", "keywords", "interventions"]),
            ("NCT00000007", ["detailed_description"]),
        ]


def test_macro_create_sql_is_a_table_macro_of_term():
    macro = next(m for m in discover_models() if m.name == "search_studies")
    assert macro.is_macro and macro.parameters == ("term",)
    assert macro.create_sql().startswith('create or replace macro "search_studies"(term) as table\n')
    con = duckdb.connect()
    create_tables(con)
    assert materialize(con, macro) is None
