"""DDL from the mapping: tables and views created with their comments, all or none."""
from __future__ import annotations

import dataclasses

import duckdb
import pytest

from pipeline.tables import schema
from pipeline.warehouse.ddl import column_sql, create_table_sql, create_tables

TABLES = schema.TABLES_BY_NAME


def table_names(con) -> set[str]:
    return {name for (name,) in con.execute("select table_name from duckdb_tables()").fetchall()}


def test_tables_are_created_with_their_comments_in_one_transaction() -> None:
    con = duckdb.connect()
    create_tables(con, (TABLES["studies"], TABLES["arms"]))
    assert con.execute("select comment from duckdb_tables() where table_name = 'arms'").fetchall() == [(TABLES["arms"].comment,)]
    assert con.execute(
        "select comment from duckdb_columns() where table_name = 'arms' and column_name = 'arm_label'"
    ).fetchall() == [(next(c.description for c in TABLES["arms"].columns if c.name == "arm_label"),)]

    # A statement that fails takes the whole call's tables with it: keywords, created before, is rolled back.
    keywords, conditions = TABLES["keywords"], TABLES["conditions"]
    broken = dataclasses.replace(conditions, columns=(dataclasses.replace(conditions.columns[0], type="NOT_A_TYPE"),))
    with pytest.raises(duckdb.Error, match="NOT_A_TYPE"):
        create_tables(con, (keywords, broken))
    assert table_names(con) == {"studies", "arms"}

    # No transaction is left open: the connection goes on as before.
    create_tables(con, (keywords,))
    assert table_names(con) == {"studies", "arms", "keywords"}


def test_long_free_text_is_declared_with_zstd_and_stored_so(sample_con) -> None:
    """The mapping's long_text columns get `using compression zstd`; every other column is left
    to DuckDB. In a built warehouse the eligibility criteria are stored as zstd, the NCT ids not."""
    studies = TABLES["studies"]
    assert column_sql(studies.column("eligibility_criteria")) == '"eligibility_criteria" VARCHAR using compression zstd'
    assert column_sql(studies.column("official_title")) == '"official_title" VARCHAR'
    assert '"description" VARCHAR using compression zstd' in create_table_sql(TABLES["arms"])
    # A baseline measure's description is long text on the measure's own row, not where each
    # measurement repeats it.
    assert TABLES["baseline_measures"].column("measure_description").long_text
    assert not TABLES["baseline_measurements"].column("measure_description").long_text

    stored = dict(sample_con.execute(
        "select column_name, string_agg(distinct compression, ',' order by compression) from pragma_storage_info('studies') "
        "where column_name in ('eligibility_criteria', 'nct_id') and segment_type = 'VARCHAR' group by column_name"
    ).fetchall())
    assert stored["eligibility_criteria"] == "ZSTD"
    assert "ZSTD" not in stored["nct_id"]
