"""Small query helpers for DuckDB 2.0 connections."""
from __future__ import annotations

from typing import Any


def one_row(con, sql: str, parameters: list | None = None) -> tuple:
    # fetchall, not fetchone: DuckDB 2.0 keeps an unfinished execute() result open on the
    # connection, which then refuses con.sql() until it is consumed.
    rows = con.execute(sql, parameters or []).fetchall()
    return rows[0] if rows else ()


def scalar(con, sql: str, parameters: list | None = None) -> Any:
    row = one_row(con, sql, parameters)
    return row[0] if row else None


def column_types(con, tables: list[str]) -> dict[str, list[tuple[str, str]]]:
    """(column name, DuckDB type) of each of `tables` in the connection's current database and
    schema (other schemas may hold views of the same names), in column order."""
    rows = con.execute(
        "select table_name, column_name, data_type from duckdb_columns() "
        "where database_name = current_database() and schema_name = current_schema() and table_name in (select unnest($1::varchar[])) "
        "order by table_name, column_index",
        [tables],
    ).fetchall()
    found: dict[str, list[tuple[str, str]]] = {}
    for table, column, data_type in rows:
        found.setdefault(table, []).append((column, data_type))
    return found
