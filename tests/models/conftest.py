"""Harness for the SQL model tests: literal rows in, a model's rows out.

Given rows per warehouse table (table name -> list of dicts holding any subset of its columns), the
harness opens an in-memory DuckDB, creates every base table empty with `create_tables`, inserts the
rows by column name, materializes the models the model under test reads (transitively, in
`discover_models` order) and then the model itself, and returns the model's rows as dicts, in the
model's own row order.
"""
from __future__ import annotations

from collections.abc import Callable

import duckdb
import pytest

from pipeline.warehouse.ddl import create_tables, quote_identifier
from pipeline.warehouse.models import Model, discover_models, materialize

Rows = dict[str, list[dict]]


def models_by_name() -> dict[str, Model]:
    return {model.name: model for model in discover_models()}


def insert_rows(con: duckdb.DuckDBPyConnection, rows: Rows) -> None:
    """Insert literal rows by column name; columns a row leaves out stay null."""
    for table, table_rows in rows.items():
        for row in table_rows:
            columns = ", ".join(quote_identifier(c) for c in row)
            placeholders = ", ".join("?" for _ in row)
            con.execute(
                f"insert into {quote_identifier(table)} ({columns}) values ({placeholders})",
                list(row.values()),
            )


def upstream_models(name: str) -> list[Model]:
    """The models `name` reads, directly or through other models, in build order (itself last)."""
    models = models_by_name()
    needed: set[str] = set()
    pending = [name]
    while pending:
        current = pending.pop()
        if current in needed:
            continue
        needed.add(current)
        pending += [dep for dep in models[current].reads if dep in models]
    return [model for model in discover_models() if model.name in needed]


def build(rows: Rows, name: str, con: duckdb.DuckDBPyConnection | None = None) -> duckdb.DuckDBPyConnection:
    """A warehouse holding `rows`, with model `name` and everything it reads materialized."""
    con = con if con is not None else duckdb.connect()
    create_tables(con)
    insert_rows(con, rows)
    for model in upstream_models(name):
        materialize(con, model)
    return con


def fetch_dicts(con: duckdb.DuckDBPyConnection, query: str, parameters: list | None = None) -> list[dict]:
    cursor = con.execute(query, parameters or [])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, values)) for values in cursor.fetchall()]


def run_model(name: str, rows: Rows) -> list[dict]:
    """Rows of table model `name` built over `rows`."""
    con = build(rows, name)
    return fetch_dicts(con, f"select * from {quote_identifier(name)}")


def run_macro(name: str, rows: Rows, *arguments) -> list[dict]:
    """Rows of table macro `name` called with `arguments` over `rows`."""
    con = build(rows, name)
    placeholders = ", ".join("?" for _ in arguments)
    return fetch_dicts(con, f"select * from {quote_identifier(name)}({placeholders})", list(arguments))


@pytest.fixture
def model_rows() -> Callable[[str, Rows], list[dict]]:
    return run_model


@pytest.fixture
def macro_rows() -> Callable[..., list[dict]]:
    return run_macro


@pytest.fixture
def warehouse() -> Callable[..., duckdb.DuckDBPyConnection]:
    return build
