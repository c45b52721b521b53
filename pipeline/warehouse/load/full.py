"""The full load: every document read, by worker processes when the input is big enough.

Workers read and normalize batches of studies and write each batch's rows as Parquet parts; this
process learns from each batch which studies it holds and keeps, per study, the batch with the
winning record. At the end DuckDB inserts the winning rows from the parts in one statement per
table, on all cores. (Inserting in rounds while the workers parse saved 0.5 s of 26 at 100,000
studies, but left the tables in small row groups that cost every later incremental build 2 s at
its checkpoint.) Error rows are written as batches bring them.
"""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Iterable, Iterator

import polars as pl

from pipeline.documents.api_json import ZipMembers
from pipeline.tables import schema
from pipeline.tables.normalize import table_schema
from pipeline.warehouse.ddl import create_tables, create_views, quote_identifier, quote_literal
from pipeline.warehouse.load.guard import LARGE_RECORD_BYTES, ErrorRow, guarded_items, normalize_records
from pipeline.warehouse.load.parts import (BATCH_BYTES, ERRORS_PER_BATCH, STUDIES_PER_BATCH, DocumentPart, ProgressCallback,
                                           document_groups, part_offsets, worker_count)
from pipeline.warehouse.load.pool import batches, collector_paused
from pipeline.warehouse.load.provenance import LOADED_TABLES, LoadSummary, finish_provenance, summarize, write_errors, write_part
from pipeline.warehouse.load.raw_folder import Inventory, with_hashes

# A batch is finished early when it holds this many records per study it may hold (one study
# copied a million times), as it is at ERRORS_PER_BATCH error rows.
RECORDS_PER_STUDY_BATCH = 4


@dataclass
class Batch:
    """What a worker tells the writer about one batch of a document's studies.

    The rows themselves are already on disk, one Parquet file per table under the parts folder,
    named after the batch. `candidates` are the batch's best record per study with its precedence:
    the writer keeps the rows of the batch that holds each study's winning record.
    """

    batch_id: str  # sorts in document order, then batch order
    candidates: dict[str, tuple] = field(default_factory=dict)
    errors: list[ErrorRow] = field(default_factory=list)
    # Candidates the batch could not normalize: an error row only if the batch holds the winner
    # (an incremental build normalizes only winners, and must report the same).
    unloadable: dict[str, ErrorRow] = field(default_factory=dict)
    finished: list[tuple[str, str, int]] = field(default_factory=list)  # (path, form, bytes) of documents read to the end
    # For a batch of a zip's member range: (document path, part); its study_records rows count
    # their record_index from the range's start, which the writer shifts once all ranges are read.
    document_part: tuple[str, int] | None = None
    part_items: dict[tuple[str, int], int] = field(default_factory=dict)  # items of the ranges read to the end


def document_batches(
    group: list[DocumentPart], archives: dict[Path, ZipMembers], parts_dir: Path, studies_per_batch: int
) -> Iterator[Batch]:
    """Read a group of documents (or one range of a zip's members), normalize their studies a
    batch at a time and write each batch's rows as Parquet parts (the workers' job). A batch spans
    documents, so a folder of one-study files makes as few parts as one big file."""
    forms: dict[str, str] = {}
    errors: list[ErrorRow] = []
    records: list[tuple] = []
    studies: dict[str, tuple[dict, tuple[str, str], bool]] = {}  # the best record's study, (document, position), mapped
    item_counts: dict[tuple[str, int], int] = {}
    first = group[0]
    sequence = 0
    largest = 0  # bytes of the largest record among the batch's candidates
    held_bytes = 0  # bytes of the records held as the batch's candidates (counted again when one is replaced)

    def new_batch() -> Batch:
        return Batch(f"{first.ordinal:07d}-{first.part:05d}-{sequence:06d}", document_part=first.range_key)

    batch = new_batch()

    def finish(current: Batch) -> Batch:
        nonlocal largest, held_bytes
        chosen = [studies[nct_id] for nct_id in current.candidates]
        # A batch of error rows alone (a document of bad lines) has no studies to normalize.
        frames, unloadable = normalize_records([study for study, _, _ in chosen], [place for _, place, _ in chosen],
                                               [mapped for _, _, mapped in chosen]) if chosen else ({}, [])
        chosen.clear(), studies.clear()  # normalized: the studies are not held while their rows are written
        frames[schema.STUDY_RECORDS.name] = pl.DataFrame(records, schema=table_schema(schema.STUDY_RECORDS), orient="row")
        for name in list(frames):
            frame = frames.pop(name)  # each frame let go once written
            if frame.height:
                write_part(frame, parts_dir / name / f"{current.batch_id}.parquet", lean=largest >= LARGE_RECORD_BYTES)
        largest = held_bytes = 0
        current.errors = errors.copy()
        current.unloadable = {row.nct_id: row for row in unloadable}
        current.part_items = item_counts.copy()
        errors.clear(), records.clear(), item_counts.clear()
        return current

    def finish_and_start_next() -> Batch:
        nonlocal batch, sequence
        done = finish(batch)
        sequence += 1
        batch = new_batch()
        return done

    for part in group:
        document = part.document
        for item in guarded_items(part, archives, forms, item_counts):
            if isinstance(item, ErrorRow):
                errors.append(item)
                full = len(errors) >= ERRORS_PER_BATCH
            else:
                if held_bytes and held_bytes + item.n_bytes > BATCH_BYTES:
                    # The batch is written before this record would take it past its budget, not
                    # after: a record of hundreds of MB is then normalized once its reader is done
                    # with its document (at the next record or the end), not while the reader still
                    # holds the document's bytes (a 200 MB text field's build peaked 400-600 MB higher).
                    yield finish_and_start_next()
                version = item.version
                records.append(version.row())
                best = batch.candidates.get(version.nct_id)
                if best is None or version.precedence > best:
                    batch.candidates[version.nct_id] = version.precedence
                    studies[version.nct_id] = (item.study, (version.document_path, version.position), item.mapped)
                    largest = max(largest, item.n_bytes)
                    held_bytes += item.n_bytes
                full = (len(batch.candidates) >= studies_per_batch
                        or len(records) >= RECORDS_PER_STUDY_BATCH * studies_per_batch)
            if full:
                item = None
                yield finish_and_start_next()
        batch.finished.append((document.relative_path, forms[document.relative_path], part.size_bytes))
    item = None
    yield finish(batch)


def load_full(
    con,
    raw_dir: Path,
    folder: Inventory,
    parts_dir: Path,
    advance: ProgressCallback = lambda n_bytes: None,
    studies_per_batch: int = STUDIES_PER_BATCH,
    n_workers: int | None = None,
    group_bytes: int | None = None,
) -> LoadSummary:
    """Create every study and provenance table and fill it from all the documents."""
    create_tables(con, LOADED_TABLES + (schema.DOCUMENTS,))
    create_views(con)
    for table in (*schema.STUDY_TABLES, schema.STUDY_RECORDS):
        (parts_dir / table.name).mkdir(parents=True, exist_ok=True)
    # A full build's inventory leaves documents unhashed: this thread hashes them while the
    # workers parse (hashlib releases the GIL), rather than the build reading the folder twice in a row.
    # It starts before the zip directories are read, while the second core has nothing else to do.
    hasher = ThreadPoolExecutor(max_workers=1)
    hashing = hasher.submit(with_hashes, folder)
    hasher.shutdown(wait=False)
    documents = folder.documents
    groups = document_groups(documents, group_bytes)
    n_workers = worker_count(documents, len(groups)) if n_workers is None else n_workers
    made = batches(groups, n_workers, partial(document_batches, parts_dir=parts_dir, studies_per_batch=studies_per_batch))
    started = time.perf_counter()
    write_errors(con, [entry.error_row() for entry in folder.skipped])
    winners: dict[str, tuple[tuple, str]] = {}
    superseded = False  # whether some batch holds a study's record that another batch's outranks
    forms: dict[str, str] = {}
    batch_ids: list[str] = []
    unloadable: dict[str, dict[str, ErrorRow]] = {}  # by batch id
    split_parts: dict[str, tuple[str, int]] = {}  # batch id -> (document, part) for batches of member ranges
    part_items: dict[tuple[str, int], int] = {}
    with collector_paused():
        for batch in made:
            for nct_id, precedence in batch.candidates.items():
                previous = winners.get(nct_id)
                if previous is None or precedence > previous[0]:
                    winners[nct_id] = (precedence, batch.batch_id)
                superseded = superseded or previous is not None
            write_errors(con, batch.errors)
            if batch.unloadable:
                unloadable[batch.batch_id] = batch.unloadable
            batch_ids.append(batch.batch_id)
            if batch.document_part is not None:
                split_parts[batch.batch_id] = batch.document_part
            part_items.update(batch.part_items)
            for path, form, n_bytes in batch.finished:
                forms[path] = form
                advance(n_bytes)
    write_errors(con, [row for batch_id, rows in unloadable.items() for nct_id, row in rows.items()
                       if winners[nct_id][1] == batch_id])
    read_done = time.perf_counter()
    # The parts are inserted as DuckDB's threads read them, not in the parts' order: keeping that
    # order made the insert wait on it (8.3 s against 5.1 s at 100,000 studies, 11.4 s of CPU
    # against 8.6; at 600,000 studies 63 s against 25-35 s). Rows land in the file in no set
    # order; nothing reads them by position, and a table's order is its key.
    con.execute("set preserve_insertion_order = false")
    try:
        _insert_winning_parts(con, parts_dir, winners if superseded else None)
        _insert_records(con, parts_dir, batch_ids, split_parts, part_items, winners)
    finally:
        con.execute("reset preserve_insertion_order")
    insert_done = time.perf_counter()
    folder = hashing.result()
    finish_provenance(con, folder, forms)
    summary = LoadSummary("full", len(documents), len(documents), n_studies_written=len(winners), inventory=folder)
    summary.stage_seconds = {
        f"read_normalize ({n_workers or 'no'} {'worker' if n_workers == 1 else 'workers'})": read_done - started,
        "insert": insert_done - read_done,
        "provenance": time.perf_counter() - insert_done,
    }
    return summarize(con, summary)


def _insert_winning_parts(con, parts_dir: Path, winners: dict[str, tuple[tuple, str]] | None) -> None:
    """Every study table's rows of each study from the batch holding its winning record; all the
    parts' rows when `winners` is None (no study's record is in two batches, as in the bulk
    download: every part row is a winner's, and the join that picks them took 30% of the insert's CPU)."""
    if winners is not None:
        con.register(
            "winning_batches",
            pl.DataFrame({"nct_id": list(winners), "batch_id": [batch_id for _, batch_id in winners.values()]},
                         schema={"nct_id": pl.String, "batch_id": pl.String}).to_arrow(),
        )
    for table in schema.STUDY_TABLES:
        if not any((parts_dir / table.name).iterdir()):
            continue
        columns = ", ".join(f"p.{quote_identifier(c.name)}" for c in table.columns)
        pattern = quote_literal(str(parts_dir / table.name / "*.parquet"))
        if winners is None:
            con.execute(f"insert into {quote_identifier(table.name)} select {columns} from read_parquet({pattern}) p")
            continue
        con.execute(
            f"insert into {quote_identifier(table.name)} select {columns} from read_parquet({pattern}, filename = true) p "
            "where exists (select 1 from winning_batches w where w.nct_id = p.nct_id "
            "and w.batch_id = parse_filename(p.filename, true))"
        )
    if winners is not None:
        con.unregister("winning_batches")


def _insert_records(
    con, parts_dir: Path, batch_ids: list[str], split_parts: dict[str, tuple[str, int]],
    part_items: dict[tuple[str, int], int], winners: dict[str, tuple[tuple, str]],
) -> None:
    """Every record into study_records, is_current set for the winners (an UPDATE afterwards
    took 8.6 s at 600,000 studies). For batches of zip member ranges, record_index is shifted by
    the items of the ranges before theirs, so that it counts from the document's start as a
    reading in one piece does."""
    files = _part_files(parts_dir, schema.STUDY_RECORDS, batch_ids)
    if not files:
        return
    # The winning record of each study: its batch, document and index there (see RecordVersion.precedence).
    con.register("winning_records", pl.DataFrame(
        {"nct_id": list(winners), "batch_id": [batch_id for _, batch_id in winners.values()],
         "document_path": [precedence[1] for precedence, _ in winners.values()],
         "record_index": [precedence[3] for precedence, _ in winners.values()]},
        schema={"nct_id": pl.String, "batch_id": pl.String, "document_path": pl.String, "record_index": pl.Int32},
    ).to_arrow())
    offsets = part_offsets(part_items)
    con.register("record_offsets", pl.DataFrame(
        {"batch_id": list(split_parts), "record_offset": [offsets[part] for part in split_parts.values()]},
        schema={"batch_id": pl.String, "record_offset": pl.Int32},
    ).to_arrow())
    derived = {
        "record_index": "p.record_index + coalesce(o.record_offset, 0)",
        "is_current": "w.nct_id is not null",
    }
    columns = ", ".join(derived.get(c.name, f"p.{quote_identifier(c.name)}") for c in schema.STUDY_RECORDS.columns)
    con.execute(
        f"insert into {quote_identifier(schema.STUDY_RECORDS.name)} select {columns} "
        f"from read_parquet({_file_list(files)}, filename = true) p "
        "left join record_offsets o on o.batch_id = parse_filename(p.filename, true) "
        "left join winning_records w on w.nct_id = p.nct_id and w.batch_id = parse_filename(p.filename, true) "
        "and w.document_path = p.document_path and w.record_index = p.record_index"
    )
    con.unregister("record_offsets"), con.unregister("winning_records")


def _file_list(files: list[str]) -> str:
    return "[" + ", ".join(quote_literal(f) for f in files) + "]"


def _part_files(parts_dir: Path, table: schema.Table, batch_ids: Iterable[str]) -> list[str]:
    """The batches' Parquet parts of a table (a batch with no rows for it wrote none)."""
    return [str(path) for batch_id in batch_ids if (path := parts_dir / table.name / f"{batch_id}.parquet").exists()]
