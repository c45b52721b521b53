"""A query's rows written the way `trials sql` offers them: a table for reading, CSV, JSON (an
array of objects) or Parquet. CSV and JSON are streamed in batches, so a large result never sits
in memory whole."""
from __future__ import annotations

import csv
import datetime as dt
import decimal
import json
import sys
import uuid
from contextlib import contextmanager, redirect_stdout
from pathlib import Path
from typing import IO, Any

import duckdb

FORMATS = ("table", "csv", "json", "parquet")
BATCH_ROWS = 10_000


def write_rows(cursor: duckdb.DuckDBPyConnection, output_format: str, out: IO[str]) -> int:
    """Write the rows of an executed query as CSV or JSON; returns how many."""
    columns = [d[0] for d in cursor.description]
    writer = csv.writer(out, lineterminator="\n") if output_format == "csv" else None
    if writer:
        writer.writerow(columns)
    else:
        out.write("[")
    n_rows = 0
    while batch := cursor.fetchmany(BATCH_ROWS):
        for row in batch:
            if writer:
                writer.writerow([_csv_value(v) for v in row])
            else:
                out.write(("," if n_rows else "") + "\n" + json.dumps(dict(zip(columns, row)), default=_json_value, ensure_ascii=False))
            n_rows += 1
    if not writer:
        out.write("\n]\n" if n_rows else "]\n")
    return n_rows


def write_table(relation: duckdb.DuckDBPyRelation, max_rows: int, out: IO[str]) -> None:
    with redirect_stdout(out):
        relation.show(max_rows=max_rows, max_width=10_000)


def write_parquet(relation: duckdb.DuckDBPyRelation, path: Path) -> None:
    relation.write_parquet(str(path), compression="zstd")


@contextmanager
def open_output(path: Path | None):
    """The file at `path` (closed afterwards), or standard output (left open)."""
    if path is None:
        yield sys.stdout
        return
    with open(path, "w", encoding="utf-8", newline="") as stream:
        yield stream


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat(sep=" ") if isinstance(value, dt.datetime) else value.isoformat()
    if isinstance(value, (list, dict)):
        return json.dumps(value, default=_json_value, ensure_ascii=False)
    return value


def _json_value(value: Any) -> Any:
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, (dt.timedelta, uuid.UUID)):
        return str(value)
    if isinstance(value, (bytes, bytearray)):
        return value.hex()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")
