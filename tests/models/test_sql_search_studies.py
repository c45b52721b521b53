"""The search_studies table macro: plain case-insensitive substring search over six fields."""
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
        {"nct_id": "NCT00000003", "intervention_position": 1, "intervention_type": "DRUG", "intervention_name": "Tocilizumab (anti-IL-6)"},
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
    ]


def test_uppercase_term_matches_the_same_studies(macro_rows):
    assert [r["nct_id"] for r in macro_rows("search_studies", ROWS, "IL-6")] == ["NCT00000001", "NCT00000003"]


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
        ]


def test_macro_create_sql_is_a_table_macro_of_term():
    macro = next(m for m in discover_models() if m.name == "search_studies")
    assert macro.is_macro and macro.parameters == ("term",)
    assert macro.create_sql().startswith('create or replace macro "search_studies"(term) as table\n')
    con = duckdb.connect()
    create_tables(con)
    assert materialize(con, macro) is None
