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
