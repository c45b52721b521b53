"""DDL from the mapping: tables and views created with their comments, all or none."""
from __future__ import annotations

import dataclasses

import duckdb
import pytest

from pipeline.tables import schema
from pipeline.warehouse.ddl import create_tables

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
