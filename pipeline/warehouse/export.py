"""Parquet export for notebooks: one zstd Parquet file per table and model, plus a manifest."""
from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

from pipeline.tables.schema import ALL_TABLES
from pipeline.warehouse.ddl import quote_identifier, quote_literal
from pipeline.warehouse.models import discover_models
from pipeline.warehouse.queries import one_row, scalar

MANIFEST_NAME = "manifest.json"


def exportable_tables(con) -> list[str]:
    """Warehouse tables and model tables that exist, in the data dictionary's order."""
    present = {row[0] for row in con.execute("select table_name from duckdb_tables()").fetchall()}
    names = [t.name for t in ALL_TABLES] + [m.name for m in discover_models() if not m.is_macro]
    return [name for name in names if name in present]


def export_parquet(con, out_dir: Path, tables: list[str] | None = None) -> dict:
    """Write each table to `<out_dir>/<table>.parquet` and a manifest; returns the manifest."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    available = exportable_tables(con)
    unknown = sorted(set(tables or []) - set(available))
    if unknown:
        raise ValueError(f"not in the warehouse: {', '.join(unknown)}")
    selected = [t for t in available if not tables or t in tables]
    build = one_row(con, "select built_at, sources_hash from build_info") if "build_info" in available else None
    manifest = {
        "exported_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "built_at": build[0].isoformat() if build else None,
        "sources_hash": build[1] if build else None,
        "tables": {},
    }
    for name in selected:
        target = out_dir / f"{name}.parquet"
        # Written beside the target and renamed, so a reader never opens half a file.
        partial = out_dir / f".{name}.parquet.partial"
        con.execute(
            f"copy (select * from {quote_identifier(name)}) to {quote_literal(str(partial))} "
            "(format parquet, compression zstd)"
        )
        os.replace(partial, target)
        columns = con.execute(
            "select column_name, data_type from duckdb_columns() where schema_name = 'main' and table_name = ? order by column_index",
            [name],
        ).fetchall()
        manifest["tables"][name] = {
            "file": target.name,
            "rows": scalar(con, f"select count(*) from {quote_identifier(name)}"),
            "columns": dict(columns),
        }
    (out_dir / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest
