"""The warehouse documents itself: every table, model and column has a DuckDB comment from the
declarative mapping or the SQL header, and docs/data-dictionary.md is regenerated from the same place."""
from __future__ import annotations

from pipeline.tables.schema import ALL_TABLES, VIEWS
from pipeline.warehouse.dictionary import DICTIONARY_PATH, render_data_dictionary
from pipeline.warehouse.models import discover_models


def test_data_dictionary_is_current():
    assert DICTIONARY_PATH.read_text() == render_data_dictionary(), "stale: run `uv run trials docs`"


def test_every_table_model_and_column_has_a_comment(sample_con):
    expected_relations = {t.name for t in ALL_TABLES} | {v.name for v in VIEWS} | {m.name for m in discover_models() if not m.is_macro}
    relations = dict(
        sample_con.execute(
            "select table_name, comment from duckdb_tables() where schema_name = 'main' "
            "union all select view_name, comment from duckdb_views() where not internal and schema_name = 'main'"
        ).fetchall()
    )
    assert expected_relations <= set(relations)
    assert [name for name in expected_relations if not (relations[name] or "").strip()] == []
    assert "Grain: one row per study" in relations["studies"]
    assert "Grain: one row per site country" in relations["country_summary"]
    uncommented = sample_con.execute(
        "select table_name, column_name from duckdb_columns() where schema_name = 'main' and table_name in (select unnest(?)) "
        "and coalesce(trim(comment), '') = ''",
        [sorted(expected_relations)],
    ).fetchall()
    assert uncommented == []


def test_column_comment_comes_from_the_mapping(sample_con):
    comment = sample_con.execute(
        "select comment from duckdb_columns() where schema_name = 'main' and table_name = 'studies' and column_name = 'completion_date'"
    ).fetchall()[0][0]
    assert comment.startswith("Study completion date as a DATE; a month-only date resolves to the month's last day")


def test_search_studies_macro_works_in_a_fresh_session(sample_warehouse):
    import duckdb

    with duckdb.connect(str(sample_warehouse), read_only=True) as con:
        rows = con.execute("select nct_id, matched_fields from search_studies('IL-6')").fetchall()
    assert rows == [("NCT06486350", ["brief_title", "official_title", "brief_summary", "detailed_description", "keywords"])]
