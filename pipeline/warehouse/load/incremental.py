"""The incremental load: a copy of the previous build brought up to date with the raw folder.

Only new and changed documents are read, by worker processes when they are big. The records of
changed and removed documents leave study_records, the new ones join it, the precedence rule
picks each affected study's current record again, and only studies whose current record changed
(by hash) are rewritten. Records pass the same guard as in a full build (`guard`), so both
reject the same records and give the same tables.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Iterator

import orjson
import polars as pl

from pipeline.tables import schema
from pipeline.tables.normalize import table_schema
from pipeline.warehouse.ddl import quote_identifier
from pipeline.warehouse.load.guard import LARGE_RECORD_BYTES, ErrorRow, GuardedRecord, guarded_items, normalize_records
from pipeline.warehouse.load.parts import (BATCH_BYTES, ERRORS_PER_BATCH, STUDIES_PER_BATCH, DocumentPart, ProgressCallback,
                                           document_groups, part_offsets, whole, worker_count)
from pipeline.warehouse.load.pool import batches, collector_paused, open_archives
from pipeline.warehouse.load.provenance import (
    LoadSummary,
    delete_studies,
    finish_provenance,
    insert_frames,
    mark_current,
    register_paths,
    summarize,
    write_errors,
    write_rows,
)
from pipeline.warehouse.load.raw_folder import Inventory, RawDocument

# An incremental build keeps the changed studies it reads in memory up to this many, and this many
# bytes of their JSON (a daily refresh of the registry is about 6,000 studies, 100 MB); past
# either, it reads their documents a second time rather than hold a whole changed bulk file, or
# a thousand studies of megabytes each.
KEPT_CHANGED_STUDIES = 20_000
KEPT_CHANGED_BYTES = 256 * 1024 * 1024


@dataclass
class ScanBatch:
    """What a worker tells an incremental build about a batch of records it read: where every
    record sits and its version, and the canonical JSON of those whose version is not loaded."""

    records: list[tuple] = field(default_factory=list)  # study_records rows
    new_versions: list[tuple[str, int, bytes]] = field(default_factory=list)  # (document path, record_index, canonical JSON)
    errors: list[ErrorRow] = field(default_factory=list)
    finished: list[tuple[str, str, int]] = field(default_factory=list)  # (path, form, bytes) of documents read to the end
    # For a batch of a zip's member range: (document path, part); record_index counts from the range's start.
    document_part: tuple[str, int] | None = None
    part_items: dict[tuple[str, int], int] = field(default_factory=dict)  # items of the ranges read to the end


def scan_batches(
    group: list[DocumentPart], archives: dict, loaded_versions: frozenset[str], studies_per_batch: int
) -> Iterator[ScanBatch]:
    """Read a group of documents for an incremental build: versions of every record, and the
    records themselves only where their version is new (a rewritten bulk file is mostly old)."""
    document_part = group[0].range_key
    forms: dict[str, str] = {}
    item_counts: dict[tuple[str, int], int] = {}
    batch = ScanBatch(document_part=document_part)
    held_bytes = 0  # of the new versions' JSON the batch holds
    for part in group:
        for item in guarded_items(part, archives, forms, item_counts, keep_canonical=True):
            if isinstance(item, ErrorRow):
                batch.errors.append(item)
            else:
                version = item.version
                batch.records.append(version.row())
                # A large new version is read again when written rather than held meanwhile.
                if version.record_hash not in loaded_versions and item.n_bytes < LARGE_RECORD_BYTES:
                    batch.new_versions.append((version.document_path, version.record_index, item.canonical))
                    held_bytes += item.n_bytes
            if (len(batch.records) >= studies_per_batch or held_bytes >= BATCH_BYTES
                    or len(batch.errors) >= ERRORS_PER_BATCH):
                yield batch
                batch = ScanBatch(document_part=document_part)
                held_bytes = 0
        batch.finished.append((part.document.relative_path, forms[part.document.relative_path], part.size_bytes))
    batch.part_items = item_counts
    yield batch


def load_incremental(
    con,
    raw_dir: Path,
    folder: Inventory,
    previous: dict[str, RawDocument],
    previous_forms: dict[str, str],
    parts_dir: Path,
    advance: ProgressCallback = lambda n_bytes: None,
    studies_per_batch: int | None = None,
) -> LoadSummary:
    """Bring a copy of the previous build up to date with the raw folder; `parts_dir` is a folder
    for the Parquet parts of batches holding a large record."""
    studies_per_batch = STUDIES_PER_BATCH if studies_per_batch is None else studies_per_batch
    documents = folder.documents
    to_read = [d for d in documents if previous.get(d.relative_path, None) is None
               or previous[d.relative_path].content_hash != d.content_hash]
    present = {d.relative_path for d in documents}
    touched = {d.relative_path for d in to_read} | (set(previous) - present)

    con.execute("create or replace temp table previous_current as select nct_id, record_hash from study_records where is_current")
    register_paths(con, "touched_documents", touched)
    con.execute(
        "create or replace temp table affected_studies as "
        "select distinct nct_id from study_records where document_path in (select document_path from touched_documents)"
    )
    con.execute("delete from study_records where document_path in (select document_path from touched_documents)")
    # The rows of changed and removed documents, and of the entries skipped last time (no documents):
    # the entries skipped now are written again.
    con.execute("delete from ingest_errors where document_path in (select document_path from touched_documents) "
                "or document_path not in (select document_path from documents)")
    con.unregister("touched_documents")
    write_errors(con, [entry.error_row() for entry in folder.skipped])

    forms = {path: form for path, form in previous_forms.items() if path in present}
    # A rewritten bulk file holds mostly records already loaded: keep only the new versions.
    loaded_versions = frozenset(row[0] for row in con.execute("select record_hash from previous_current").fetchall())
    # Up to KEPT_CHANGED_STUDIES new versions (and KEPT_CHANGED_BYTES), by (document, part,
    # record_index from the part's start).
    kept_by_part: dict[tuple[str, int, int], bytes] = {}
    kept_bytes = 0
    part_items: dict[tuple[str, int], int] = {}
    # Records of zip member ranges wait here, with their part, until the ranges' offsets are known.
    con.execute(f"create or replace temp table part_records as select *, 0 as part from {quote_identifier(schema.STUDY_RECORDS.name)} limit 0")
    groups = document_groups(to_read)
    make_batches = partial(scan_batches, loaded_versions=loaded_versions, studies_per_batch=studies_per_batch)
    with collector_paused():
        for batch in batches(groups, worker_count(to_read, len(groups)), make_batches):
            write_errors(con, batch.errors)
            part_items.update(batch.part_items)
            part = batch.document_part[1] if batch.document_part is not None else 0
            if batch.document_part is not None:
                _write_part_records(con, batch.records, part)
            else:
                write_rows(con, schema.STUDY_RECORDS, batch.records)
            for document_path, record_index, canonical in batch.new_versions:
                if len(kept_by_part) >= KEPT_CHANGED_STUDIES or kept_bytes + len(canonical) > KEPT_CHANGED_BYTES:
                    break
                kept_by_part[(document_path, part, record_index)] = canonical
                kept_bytes += len(canonical)
            for path, form, n_bytes in batch.finished:
                forms[path] = form
                advance(n_bytes)
    offsets = part_offsets(part_items)
    kept = {(path, index + offsets.get((path, part), 0)): canonical for (path, part, index), canonical in kept_by_part.items()}
    _insert_part_records(con, offsets)
    register_paths(con, "read_documents", (d.relative_path for d in to_read))
    con.execute(
        "insert into affected_studies select distinct nct_id from study_records "
        "where document_path in (select document_path from read_documents) "
        "and nct_id not in (select nct_id from affected_studies)"
    )
    con.unregister("read_documents")
    mark_current(con)

    rewritten = con.execute(
        """
        select r.nct_id, r.document_path, r.record_index, r.position from study_records r
        where r.is_current and r.nct_id in (select nct_id from affected_studies)
          and not exists (select 1 from previous_current p where p.nct_id = r.nct_id and p.record_hash = r.record_hash)
        order by r.document_path, r.record_index
        """
    ).fetchall()
    dropped = [row[0] for row in con.execute(
        "select nct_id from affected_studies a where not exists (select 1 from study_records r where r.nct_id = a.nct_id)"
    ).fetchall()]
    delete_studies(con, [nct_id for nct_id, *_ in rewritten] + dropped)
    _write_current_records(con, folder, rewritten, kept, studies_per_batch, parts_dir)
    finish_provenance(con, folder, forms)
    con.execute("drop table previous_current"), con.execute("drop table affected_studies")

    summary = LoadSummary("incremental", len(documents), len(to_read), n_studies_written=len(rewritten),
                          n_studies_dropped=len(dropped), inventory=folder)
    return summarize(con, summary)


def _write_part_records(con, rows: list[tuple], part: int) -> None:
    if rows:
        frame = pl.DataFrame(rows, schema=table_schema(schema.STUDY_RECORDS), orient="row").with_columns(part=pl.lit(part, pl.Int32))
        con.register("part_rows", frame.to_arrow())
        con.execute("insert into part_records select * from part_rows")
        con.unregister("part_rows")


def _insert_part_records(con, offsets: dict[tuple[str, int], int]) -> None:
    """Moves the records of zip member ranges into study_records, record_index shifted by their
    range's offset."""
    con.register("part_offsets", pl.DataFrame(
        {"document_path": [path for path, _ in offsets], "part": [part for _, part in offsets], "record_offset": list(offsets.values())},
        schema={"document_path": pl.String, "part": pl.Int32, "record_offset": pl.Int32},
    ).to_arrow())
    columns = ", ".join(
        "r.record_index + o.record_offset" if c.name == "record_index" else f"r.{quote_identifier(c.name)}"
        for c in schema.STUDY_RECORDS.columns
    )
    con.execute(
        f"insert into {quote_identifier(schema.STUDY_RECORDS.name)} select {columns} "
        "from part_records r join part_offsets o using (document_path, part)"
    )
    con.unregister("part_offsets")
    con.execute("drop table part_records")


def _write_current_records(con, folder: Inventory, wanted: list[tuple[str, str, int, str]], kept: dict,
                           studies_per_batch: int, parts_dir: Path) -> None:
    """Write the studies at the given (document, record) places: from memory when the read kept them,
    else by reading their documents again through the same guard (a study whose newer copy was
    removed falls back to an unchanged document). Batches are bounded as a full build's are: by
    their count and by BATCH_BYTES of their records' JSON; a batch holding a large record goes
    into its tables by Parquet parts, as in a full build."""
    studies: list[dict] = []
    places: list[tuple[str, str]] = []
    held_bytes = largest = 0

    def flush() -> None:
        nonlocal held_bytes, largest
        frames, unloadable = normalize_records(studies, places)
        studies.clear(), places.clear()
        if largest >= LARGE_RECORD_BYTES:
            parts_dir.mkdir(parents=True, exist_ok=True)
            insert_frames(con, frames, through=parts_dir)
        else:
            insert_frames(con, frames)
        write_errors(con, unloadable)
        held_bytes = largest = 0

    def add(study: dict, document_path: str, position: str, n_bytes: int) -> None:
        nonlocal held_bytes, largest
        if held_bytes and held_bytes + n_bytes > BATCH_BYTES:
            flush()
        studies.append(study)
        places.append((document_path, position))
        held_bytes += n_bytes
        largest = max(largest, n_bytes)
        if len(studies) >= studies_per_batch:
            flush()

    missing: dict[str, set[int]] = {}
    for _, document_path, record_index, position in wanted:
        canonical = kept.pop((document_path, record_index), None)
        if canonical is None:
            missing.setdefault(document_path, set()).add(record_index)
        else:
            add(orjson.loads(canonical), document_path, position, len(canonical))
    by_path = {d.relative_path: d for d in folder.documents}
    with open_archives() as archives:
        for document_path, indexes in sorted(missing.items()):
            for item in guarded_items(whole(by_path[document_path]), archives, {}, {}):
                if isinstance(item, GuardedRecord) and item.version.record_index in indexes:
                    add(item.study, document_path, item.version.position, item.n_bytes)
            item = None  # the last study is not held while the batch is written
    flush()
