"""A build, start to publish: the one place that decides full, incremental or nothing to do.

Under the build lock it removes what killed builds left, takes the raw folder's inventory, and
compares it with the published build. Nothing changed: it writes nothing. Otherwise it builds a
staging file (a copy of the published build brought up to date, or a fresh one), records the
study versions in the history file, builds the SQL models, and publishes with an atomic rename.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from pipeline.tables import schema
from pipeline.warehouse import files as warehouse_files
from pipeline.warehouse.ddl import create_table_sql, create_tables, create_view_sql, one_transaction, quote_identifier, quote_literal
from pipeline.warehouse.files import WarehouseFiles
from pipeline.warehouse.history import record_versions
from pipeline.warehouse.load import (
    LoadSummary,
    inventory,
    load_full,
    load_incremental,
    read_inventory,
    sources_hash,
)
from pipeline.warehouse.models import VIEW_SCHEMAS, discover_models, materialize
from pipeline.warehouse.queries import column_types, one_row, scalar

log = logging.getLogger(__name__)

PACKAGE_ROOT = Path(__file__).resolve().parents[1]


def schema_hash() -> str:
    """What the tables would look like for the same documents: the DDL, the SQL models, and the
    code that reads and normalizes documents. A build made by different code is rebuilt in full."""
    digest = hashlib.sha256()
    for table in schema.ALL_TABLES:
        digest.update(create_table_sql(table).encode())
    for view in schema.VIEWS:
        digest.update(create_view_sql(view).encode())
    for model in (*discover_models(), *(m for s in VIEW_SCHEMAS for m in discover_models(schema=s))):
        digest.update(model.create_sql().encode())
    for source in sorted((*PACKAGE_ROOT.glob("documents/*.py"), *PACKAGE_ROOT.glob("tables/**/*.py"),
                          *PACKAGE_ROOT.glob("warehouse/load/*.py"))):
        digest.update(source.read_bytes())
    return digest.hexdigest()


@dataclass
class BuildResult:
    kind: str  # "full", "incremental" or "up_to_date"
    warehouse: Path
    load: LoadSummary | None = None
    n_new_versions: int = 0
    model_row_counts: dict[str, int | None] = field(default_factory=dict)
    model_columns: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # (name, DuckDB type) per table model
    stage_seconds: dict[str, float] = field(default_factory=dict)
    built_at: dt.datetime | None = None
    reason: str = ""
    sources_hash: str = ""


@dataclass
class _PublishedBuild:
    documents: dict
    forms: dict[str, str]
    sources_hash: str
    schema_hash: str
    built_at: dt.datetime


def _published_build(files: WarehouseFiles, raw_dir: Path) -> _PublishedBuild | None:
    """What the published warehouse was built from, or None when it can't seed an incremental build."""
    if not warehouse_files.published_is_whole(files):
        return None
    try:
        with duckdb.connect(str(files.published), read_only=True) as con:
            built = one_row(con, "select sources_hash, schema_hash, built_at, raw_folder from build_info")
            documents = read_inventory(con, raw_dir)
            forms = dict(con.execute("select document_path, document_form from documents").fetchall())
    except duckdb.Error as error:
        log.warning("the published warehouse can't seed an incremental build (%s); building in full", error)
        return None
    if not built:
        return None
    return _PublishedBuild(documents, forms, built[0], built[1], built[2])


def build(
    raw_dir: Path,
    warehouse: Path,
    full: bool = False,
    wait_seconds: float = 0.0,
    advance: Callable[[int], None] = lambda n_bytes: None,
    on_total_bytes: Callable[[int], None] = lambda total: None,
) -> BuildResult:
    """Bring the warehouse at `warehouse` up to date with `raw_dir`, publishing atomically."""
    raw_dir, files = Path(raw_dir), WarehouseFiles(Path(warehouse))
    stages: dict[str, float] = {}
    clock = time.perf_counter()

    def stage(name: str, parts: dict[str, float] | None = None) -> None:
        nonlocal clock
        now = time.perf_counter()
        stages[name] = stages.get(name, 0.0) + now - clock
        stages.update(parts or {})
        clock = now

    with warehouse_files.build_lock(files, wait_seconds):
        for leftover in warehouse_files.remove_leftovers(files):
            log.warning("removed %s, left by a build that did not finish", leftover)
        current_schema = schema_hash()
        published = None if full else _published_build(files, raw_dir)
        if published is not None and published.schema_hash != current_schema:
            log.info("the code changed since the published build; building in full")
            published = None
        # A full build needs no hashes to decide what to read: it hashes the documents while it reads them.
        folder = inventory(raw_dir, published.documents if published else None, hash_files=published is not None)
        stage("inventory")
        if published is not None and published.sources_hash == sources_hash(folder):
            warehouse_files.record_check(files, published.sources_hash)
            return BuildResult("up_to_date", files.published, stage_seconds=stages, built_at=published.built_at,
                               reason="no document was added, changed or removed since the published build")

        staging = warehouse_files.start_staging(files, from_published=published is not None)
        stage("copy")
        try:
            result = _build_into(staging, raw_dir, folder, current_schema, published, files, advance, on_total_bytes, stage)
            warehouse_files.publish(files, staging)
        except BaseException:
            warehouse_files.discard_staging(staging)
            raise
        stage("publish")
        warehouse_files.record_check(files, result.sources_hash)
    result.stage_seconds = stages
    return result


# DuckDB otherwise takes up to 80% of RAM for the bulk insert; the build must fit a laptop
# beside its worker processes, and spills to disk past this instead.
DUCKDB_MEMORY_LIMIT = os.environ.get("TRIALS_DUCKDB_MEMORY_LIMIT", "1GB")


# Rows per row group of the warehouse's tables (DuckDB's default is 122,880). A row group is
# compressed by one thread, so at the default the 100,000 rows of `studies` were written on one
# core; at this size the full build's insert at 100,000 studies took 4.0 s instead of 7.7 s, and
# analysts' queries ran as fast (docs/benchmarks.md). The size belongs to the connection, not the
# file: every build opens the file with it, or its checkpoint would merge the previous build's
# small groups back into big ones, rewriting the tables.
ROW_GROUP_SIZE = 32_768
STAGING_CATALOG = "warehouse"


def open_for_build(path: Path) -> duckdb.DuckDBPyConnection:
    """A connection that builds into the file at `path`, with the build's memory limit and row
    groups, spilling beside the file as a connection to the file itself would (an in-memory
    connection would spill into the working directory)."""
    con = duckdb.connect(config={"memory_limit": DUCKDB_MEMORY_LIMIT, "temp_directory": f"{path}.tmp"})
    try:
        con.execute(f"attach {quote_literal(str(path))} as {STAGING_CATALOG} (row_group_size {ROW_GROUP_SIZE})")
        con.execute(f"use {STAGING_CATALOG}")
    except BaseException:
        con.close()
        raise
    return con


def _build_into(staging, raw_dir, folder, current_schema, published, files, advance, on_total_bytes, stage) -> BuildResult:
    with open_for_build(staging) as con:
        if published is not None:
            to_read = [d for d in folder.documents if d.relative_path not in published.documents
                       or published.documents[d.relative_path].content_hash != d.content_hash]
            on_total_bytes(sum(d.size_bytes for d in to_read))
            summary = load_incremental(con, raw_dir, folder, published.documents, published.forms,
                                       warehouse_files.parts_folder(staging), advance)
        else:
            on_total_bytes(sum(d.size_bytes for d in folder.documents))
            summary = load_full(con, raw_dir, folder, warehouse_files.parts_folder(staging), advance)
        stage("load", {f"load/{name}": seconds for name, seconds in summary.stage_seconds.items()})
        sources = sources_hash(summary.inventory)
        built_at = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
        n_new_versions = record_versions(con, files.history, built_at)
        for table in schema.HISTORY_TABLES:
            summary.row_counts[table.name] = scalar(con, f"select count(*) from {quote_identifier(table.name)}")
        summary.row_counts[schema.BUILD_INFO.name] = 1
        stage("history")
        with one_transaction(con):  # the models' and views' CREATE and COMMENT statements committed together
            model_rows = {model.name: materialize(con, model) for model in discover_models()}
            for view_schema in VIEW_SCHEMAS:
                for view in discover_models(schema=view_schema):
                    materialize(con, view)
        model_columns = column_types(con, [name for name, rows in model_rows.items() if rows is not None])
        stage("models")
        create_tables(con, (schema.BUILD_INFO,))
        con.execute(
            "insert into build_info values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [built_at, summary.kind, sources, current_schema, summary.n_documents, summary.n_documents_read,
             summary.n_studies, summary.n_studies_written, summary.n_studies_dropped, summary.n_rejected, str(raw_dir)],
        )
        con.execute("checkpoint")
        stage("checkpoint")
    return BuildResult(summary.kind, files.published, summary, n_new_versions, model_rows, model_columns,
                       built_at=built_at, sources_hash=sources)
