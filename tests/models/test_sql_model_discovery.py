"""The SQL models as a whole: what they read, their build order, their headers, their conventions."""
from __future__ import annotations

import duckdb
import pytest
import sqlglot
from sqlglot import exp

from pipeline.tables.schema import TABLES_BY_NAME, VIEWS
from pipeline.warehouse.ddl import create_tables
from pipeline.warehouse.models import SQL_DIR, discover_models, materialize, tables_read

MODELS = discover_models()
MODEL_NAMES = {m.name for m in MODELS}
TABLE_MODELS = [m for m in MODELS if not m.is_macro]
EXPECTED_MODELS = {
    "study_overview", "condition_summary", "sponsor_summary", "country_summary", "phase_status_summary",
    "intervention_summary", "enrollment_trends", "results_reporting", "results_reporting_studies",
    "results_posting", "results_posting_studies", "adverse_event_rates",
    "site_geography", "study_status_phase_counts", "study_changes", "search_studies",
}


def describe(con, model) -> list[tuple[str, str]]:
    """(column, type) of the model's output, for a table or (called with a dummy argument) a macro."""
    relation = f"select * from {model.name}({', '.join('NULL' for _ in model.parameters)})" if model.is_macro else model.name
    return [(row[0], row[1]) for row in con.execute(f"describe {relation}").fetchall()]


@pytest.fixture(scope="module")
def built():
    """Every model built, in discovery order, over an empty warehouse."""
    con = duckdb.connect()
    create_tables(con)
    for model in MODELS:
        materialize(con, model)
    return con


def test_every_model_is_discovered():
    assert MODEL_NAMES == EXPECTED_MODELS
    assert {m.name for m in MODELS if m.is_macro} == {"search_studies"}


def test_tables_read_of_a_model_reading_two_tables():
    intervention_summary = (SQL_DIR / "intervention_summary.sql").read_text()
    assert tables_read(intervention_summary) == ("arm_interventions", "interventions")


def test_tables_read_sees_a_model_and_a_table_but_not_ctes():
    condition_summary = next(m for m in MODELS if m.name == "condition_summary")
    assert condition_summary.reads == ("condition_mesh_terms", "study_overview", "study_status_phase_counts")


def test_tables_read_keeps_a_table_read_by_a_cte_of_the_same_name():
    assert tables_read("with studies as (select * from studies) select * from studies") == ("studies",)


def test_models_read_only_warehouse_tables_views_and_models():
    known = set(TABLES_BY_NAME) | {v.name for v in VIEWS} | MODEL_NAMES
    for model in MODELS:
        assert set(model.reads) <= known, (model.name, set(model.reads) - known)
        assert model.reads, model.name


def test_discover_models_orders_each_model_after_what_it_reads():
    order = [m.name for m in MODELS]
    for model in MODELS:
        for dependency in model.reads:
            if dependency in MODEL_NAMES:
                assert order.index(dependency) < order.index(model.name), (dependency, model.name)
    for summary in ("condition_summary", "sponsor_summary", "phase_status_summary", "enrollment_trends"):
        assert "study_overview" in next(m for m in MODELS if m.name == summary).reads
        assert order.index("study_overview") < order.index(summary)
    assert order.index("results_reporting_studies") < order.index("results_reporting")
    assert order.index("results_posting_studies") < order.index("results_posting")


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.name)
def test_header_documents_every_output_column_and_nothing_else(built, model):
    output_columns = [name for name, _ in describe(built, model)]
    assert output_columns == list(model.column_descriptions)  # same columns, same order
    assert all(text.strip() for text in model.column_descriptions.values())


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.name)
def test_header_states_purpose_and_grain(model):
    assert len(model.purpose) > 20
    assert model.grain.startswith("one row per ")


@pytest.mark.parametrize("model", TABLE_MODELS, ids=lambda m: m.name)
def test_table_and_column_comments_come_from_the_header(built, model):
    table_comment = built.execute(
        "select comment from duckdb_tables() where table_name = ?", [model.name]
    ).fetchone()[0]
    assert table_comment == model.comment
    column_comments = dict(
        built.execute("select column_name, comment from duckdb_columns() where table_name = ?", [model.name]).fetchall()
    )
    assert column_comments == model.column_descriptions


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.name)
def test_column_naming_conventions(built, model):
    for name, type_ in describe(built, model):
        if type_ == "BOOLEAN":
            assert name.startswith(("is_", "has_")), name
        if type_ == "DATE":
            assert name.endswith("_date"), name
        if name.startswith("n_"):
            assert type_ == "BIGINT", (name, type_)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.name)
def test_model_is_one_select_ending_in_order_by_over_its_last_cte(model):
    statements = sqlglot.parse(model.select_sql, dialect="duckdb")
    assert len(statements) == 1
    tree = statements[0]
    assert isinstance(tree, exp.Select)
    assert tree.args.get("order") is not None, "rows must be ordered deterministically"
    ctes = [cte.alias_or_name for cte in tree.find_all(exp.CTE)]
    assert ctes, "import CTEs, then logic CTEs"
    assert tree.args["from_"].this.name == ctes[-1], "the final select reads the last CTE"
