"""Load: documents in the raw folder become warehouse rows, batch by batch.

Readers turn each document into canonical studies; the normalizer turns a batch of studies into
frames; here the frames are appended to DuckDB as Arrow, and provenance is recorded: every
document, every rejected record, and where every study record sits (study_records).

A study can appear in several documents. The current version is the record with the latest
lastUpdatePostDate; ties go to the later document path, then the later record in it. Because
that rule depends only on what the folder holds, never on what was read when, an incremental
build (which reads only new and changed documents) gives exactly the tables a full build gives.
"""
from __future__ import annotations

import datetime as dt
import gc
import hashlib
import logging
import multiprocessing
import os
import queue
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Callable, Iterable, Iterator

import orjson
import polars as pl

from pipeline.documents import detect, read_document
from pipeline.documents.api_json import (
    NDJSON,
    ZIP_ARCHIVE_FAILURES,
    ZipMembers,
    ndjson_line_ranges,
    pack_entries,
    read_ndjson_lines,
    unpack_entries,
)
from pipeline.documents.model import DocumentReading, ReadError, ReadItem, StudyRecord
from pipeline.tables import schema
from pipeline.tables.normalize import normalize, table_schema
from pipeline.warehouse.ddl import create_tables, create_views, quote_identifier, quote_literal
from pipeline.warehouse.queries import scalar

log = logging.getLogger(__name__)

STUDIES_PER_BATCH = 2000
HASH_CHUNK_BYTES = 1 << 20
# An incremental build keeps the changed studies it reads in memory up to this many; past it,
# it reads their documents a second time rather than hold a whole changed bulk file.
KEPT_CHANGED_STUDIES = 20_000
# Documents read as one unit of work: small files share batches (and Parquet parts). A bigger zip
# is shared out in ranges of its members of this many compressed bytes, a bigger NDJSON file in
# ranges of its lines of LINE_RANGE_GROUPS times as many (JSON deflates about 3.5 to 1).
GROUP_BYTES = 16 * 1024 * 1024
LINE_RANGE_GROUPS = 4
# Worker processes pay a start-up cost (~0.5 s to import polars); below this much input they lose.
PARALLEL_MIN_BYTES = 32 * 1024 * 1024

LOADED_TABLES = schema.STUDY_TABLES + (schema.INGEST_ERRORS, schema.STUDY_RECORDS, schema.SUPERSEDED_RECORDS)

ProgressCallback = Callable[[int], None]


# ---------------------------------------------------------------- the raw folder


@dataclass(frozen=True, slots=True)
class RawDocument:
    path: Path
    relative_path: str
    size_bytes: int
    modified_at: dt.datetime
    content_hash: str


def cpu_count() -> int:
    """Cores this process may run on (a container's CPU set, not the host's)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(HASH_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def _with_hashes(documents: list[RawDocument]) -> list[RawDocument]:
    return [d if d.content_hash else replace(d, content_hash=_sha256(d.path)) for d in documents]


def inventory(raw_dir: Path, known: dict[str, RawDocument] | None = None, hash_files: bool = True) -> list[RawDocument]:
    """Every document under the raw folder, in the order they are read (sorted relative path).

    Hidden files (.gitkeep, editors' swap files, downloads still being written) are not documents.
    A file whose size and modification time match `known` keeps its known hash, as git does; any
    other file is hashed, so a touched but unchanged file still counts as unchanged. Without
    `hash_files` the hash is left empty, for a full build to fill in while it reads.
    """
    raw_dir = Path(raw_dir)
    known = known or {}
    found = []
    for path in sorted(p for p in raw_dir.rglob("*") if p.is_file()):
        relative = path.relative_to(raw_dir)
        if any(part.startswith(".") for part in relative.parts):
            continue
        stat = path.stat()
        modified_at = dt.datetime.fromtimestamp(stat.st_mtime)
        relative_path = relative.as_posix()
        previous = known.get(relative_path)
        if previous is not None and previous.size_bytes == stat.st_size and previous.modified_at == modified_at:
            found.append((path, relative_path, stat.st_size, modified_at, previous.content_hash))
        else:
            found.append((path, relative_path, stat.st_size, modified_at, None))
    unhashed = [path for path, *_, digest in found if digest is None] if hash_files else []
    # hashlib releases the GIL over large buffers, so threads hash files on every core.
    with ThreadPoolExecutor(max_workers=max(1, min(cpu_count(), len(unhashed)))) as pool:
        digests = dict(zip(unhashed, pool.map(_sha256, unhashed)))
    return [
        RawDocument(path, relative_path, size, modified_at, digest or digests.get(path, ""))
        for path, relative_path, size, modified_at, digest in found
    ]


def sources_hash(documents: Iterable[RawDocument]) -> str:
    """One hash for the whole raw folder: changes when any document is added, removed or edited."""
    digest = hashlib.sha256()
    for document in sorted(documents, key=lambda d: d.relative_path):
        digest.update(f"{document.relative_path}\0{document.content_hash}\n".encode())
    return digest.hexdigest()


def read_inventory(con, raw_dir: Path) -> dict[str, RawDocument]:
    """The documents a warehouse was built from, by relative path."""
    rows = con.execute("select document_path, size_bytes, modified_at, content_hash from documents").fetchall()
    return {path: RawDocument(Path(raw_dir) / path, path, size, modified, digest) for path, size, modified, digest in rows}


# ---------------------------------------------------------------- study records


def _canonical_hash(canonical: bytes) -> str:
    """A record's version: BLAKE2b-128 of its canonical JSON (orjson's serialization)."""
    return hashlib.blake2b(canonical, digest_size=16).hexdigest()


def _last_update_post_date(study: dict) -> str:
    return study.get("protocolSection", {}).get("statusModule", {}).get("lastUpdatePostDateStruct", {}).get("date") or ""


def _update_key(raw: str) -> str:
    # A month-only date sorts after every day of that month.
    return raw + "-99" if len(raw) == 7 else raw


# The same rule as RecordVersion.precedence, for SQL over study_records.
PRECEDENCE_SQL = (
    "case when length(coalesce(last_update_post_date_raw, '')) = 7 then last_update_post_date_raw || '-99' "
    "else coalesce(last_update_post_date_raw, '') end desc, document_path desc, record_index desc"
)


@dataclass(frozen=True, slots=True)
class RecordVersion:
    """Where one study record sits, and what decides whether it is the current version."""

    nct_id: str
    document_path: str
    record_index: int
    position: str
    last_update_post_date: str
    record_hash: str
    # Which range of its document's members the record was read in, when a big zip is shared out
    # among workers; record_index then counts from the range's start (see DocumentPart).
    part: int = 0

    @property
    def precedence(self) -> tuple[str, str, int, int]:
        return (_update_key(self.last_update_post_date), self.document_path, self.part, self.record_index)

    def row(self) -> tuple:
        return (self.nct_id, self.document_path, self.record_index, self.position,
                self.last_update_post_date or None, self.record_hash, None)


def _versions(
    part: DocumentPart, errors: list[tuple], found: dict[str, str], archives: dict[Path, ZipMembers],
    item_counts: dict[tuple[str, int], int],
) -> Iterator[tuple[RecordVersion, dict, bytes]]:
    """The study records of a document (or of a range of its members), with their versions and
    canonical JSON (what the version's hash is of); error items go to `errors`. `item_counts` gets
    the number of items (records and errors) of a member range, from which the records of the
    ranges after it count on."""
    document = part.document
    if part.members is not None:
        reading = _read_members_guarded(document.path, part.members, archives, part.zip_entries)
    elif part.lines is not None:
        reading = _read_lines_guarded(document.path, part.lines)
    else:
        reading = _read_guarded(document.path)
    found[document.relative_path] = reading.form
    index = -1
    for index, item in enumerate(reading.items):
        if isinstance(item, ReadError):
            errors.append((document.relative_path, item.position, item.reason, item.excerpt))
            continue
        study = item.study
        canonical = orjson.dumps(study)
        yield RecordVersion(item.nct_id, document.relative_path, index, item.position,
                            _last_update_post_date(study), _canonical_hash(canonical), part.part), study, canonical
    if part.range_key is not None:
        item_counts[part.range_key] = index + 1


def _read_guarded(path: Path) -> DocumentReading:
    """The document's reading, where a reader failure (a vanished file, a reader bug) becomes
    an error row for that document instead of failing the whole build."""

    def failure(error: Exception) -> ReadError:
        return ReadError("", f"could not read the document: {type(error).__name__}: {error}", "")

    try:
        reading = read_document(path)
    except Exception as error:  # noqa: BLE001 - one bad document must not stop the batch
        return DocumentReading("unknown", iter([failure(error)]))

    def items() -> Iterator[ReadItem]:
        try:
            yield from reading.items
        except Exception as error:  # noqa: BLE001
            yield failure(error)

    return DocumentReading(reading.form, items())


def _read_members_guarded(
    path: Path, members: tuple[int, int], archives: dict[Path, ZipMembers], entries: bytes | None = None,
) -> DocumentReading:
    """A range of a zip's members, read through an archive kept open in `archives`, from their
    directory entries when given (`pack_entries`; else the archive's directory is read); a failure
    becomes an error row, as in _read_guarded."""

    def items() -> Iterator[ReadItem]:
        try:
            archive = archives.get(path)
            if archive is None:
                archive = archives[path] = ZipMembers(path, read_directory=entries is None)
            yield from archive.read(*members) if entries is None else archive.read_entries(unpack_entries(entries))
        except Exception as error:  # noqa: BLE001 - one bad document must not stop the batch
            # Named after the range: several ranges of a vanished archive fail alike.
            yield ReadError(f"members {members[0] + 1} to {members[1]}",
                            f"could not read the document: {type(error).__name__}: {error}", "")

    return DocumentReading(detect.ZIP, items())


def _read_lines_guarded(path: Path, lines: tuple[int, int, int]) -> DocumentReading:
    """A range of an NDJSON file's lines; a failure becomes an error row, as in _read_guarded."""
    start, stop, first_line = lines

    def items() -> Iterator[ReadItem]:
        try:
            yield from read_ndjson_lines(path, start, stop, first_line)
        except Exception as error:  # noqa: BLE001 - one bad document must not stop the batch
            yield ReadError(f"bytes {start} to {stop}", f"could not read the document: {type(error).__name__}: {error}", "")

    return DocumentReading(NDJSON, items())


# ---------------------------------------------------------------- writing


@dataclass
class LoadSummary:
    kind: str = "full"
    n_documents: int = 0
    n_documents_read: int = 0
    n_studies: int = 0
    n_studies_written: int = 0
    n_studies_dropped: int = 0
    n_rejected: int = 0
    n_superseded: int = 0
    n_unmapped_values: int = 0
    row_counts: dict[str, int] = field(default_factory=dict)
    stage_seconds: dict[str, float] = field(default_factory=dict)
    documents: list[RawDocument] = field(default_factory=list)  # the raw folder, every content hash known


def _write_rows(con, table: schema.Table, rows: list[tuple]) -> None:
    if not rows:
        return
    frame = pl.DataFrame(rows, schema=table_schema(table), orient="row")
    con.register("provenance_rows", frame.to_arrow())
    con.execute(f"insert into {quote_identifier(table.name)} select * from provenance_rows")
    con.unregister("provenance_rows")


def _insert_frames(con, frames: dict[str, pl.DataFrame], excluded_nct_ids: list[str] = ()) -> None:
    for name, frame in frames.items():
        if excluded_nct_ids:
            frame = frame.filter(~pl.col("nct_id").is_in(excluded_nct_ids))
        if frame.height:
            con.register("batch_rows", frame.to_arrow())
            con.execute(f"insert into {quote_identifier(name)} select * from batch_rows")
            con.unregister("batch_rows")


def _write_studies(con, studies: list[dict]) -> None:
    _insert_frames(con, normalize(studies))


def _delete_studies(con, nct_ids: Iterable[str]) -> None:
    ids = sorted(set(nct_ids))
    if not ids:
        return
    con.register("removed_studies", pl.DataFrame({"nct_id": ids}, schema={"nct_id": pl.String}).to_arrow())
    for table in schema.STUDY_TABLES:
        con.execute(f"delete from {quote_identifier(table.name)} where nct_id in (select nct_id from removed_studies)")
    con.unregister("removed_studies")


def _register_paths(con, name: str, paths: Iterable[str]) -> None:
    con.register(name, pl.DataFrame({"document_path": sorted(paths)}, schema={"document_path": pl.String}).to_arrow())


def _mark_current(con) -> None:
    """Set study_records.is_current of the affected studies by the precedence rule."""
    con.execute(
        f"""
        update study_records set is_current = ranked.is_winner
        from (select document_path, record_index,
                     row_number() over (partition by nct_id order by {PRECEDENCE_SQL}) = 1 as is_winner
              from study_records where nct_id in (select nct_id from affected_studies)) ranked
        where study_records.document_path = ranked.document_path and study_records.record_index = ranked.record_index
        """
    )


def _finish_provenance(con, raw_dir: Path, documents: list[RawDocument], forms: dict[str, str]) -> None:
    """Rewrite documents and superseded_records from study_records and ingest_errors, the same way
    for full and incremental builds."""
    con.execute("delete from documents")
    _write_rows(
        con, schema.DOCUMENTS,
        [(d.relative_path, forms[d.relative_path], d.content_hash, d.size_bytes, d.modified_at, 0, 0, 0) for d in documents],
    )
    con.execute(
        """
        update documents set n_studies_found = coalesce(r.found, 0), n_studies_loaded = coalesce(r.loaded, 0),
                             n_errors = coalesce(e.errors, 0)
        from documents d
        left join (select document_path, count(*)::integer as found, count(*) filter (is_current)::integer as loaded
                   from study_records group by all) r using (document_path)
        left join (select document_path, count(*)::integer as errors from ingest_errors group by all) e using (document_path)
        where documents.document_path = d.document_path
        """
    )
    con.execute("delete from superseded_records")
    con.execute(
        """
        insert into superseded_records
        select r.nct_id, r.document_path, r.position, r.last_update_post_date_raw, w.document_path, w.position
        from study_records r join study_records w on w.nct_id = r.nct_id and w.is_current
        where not r.is_current
        """
    )


def _summarize(con, summary: LoadSummary) -> LoadSummary:
    for table in LOADED_TABLES + (schema.DOCUMENTS,):
        summary.row_counts[table.name] = scalar(con, f"select count(*) from {quote_identifier(table.name)}")
    summary.n_studies = summary.row_counts[schema.STUDIES.name]
    summary.n_rejected = summary.row_counts[schema.INGEST_ERRORS.name]
    summary.n_superseded = summary.row_counts[schema.SUPERSEDED_RECORDS.name]
    summary.n_unmapped_values = summary.row_counts[schema.UNMAPPED_VALUES.name]
    return summary


# ---------------------------------------------------------------- full build


@dataclass
class Batch:
    """What a worker tells the writer about one batch of a document's studies.

    The rows themselves are already on disk, one Parquet file per table under the parts folder,
    named after the batch. `candidates` are the batch's best record per study with its precedence:
    the writer keeps the rows of the batch that holds each study's winning record.
    """

    batch_id: str  # sorts in document order, then batch order
    candidates: dict[str, tuple] = field(default_factory=dict)
    errors: list[tuple] = field(default_factory=list)
    finished: list[tuple[str, str, int]] = field(default_factory=list)  # (path, form, bytes) of documents read to the end
    # For a batch of a zip's member range: (document path, part); its study_records rows count
    # their record_index from the range's start, which the writer shifts once all ranges are read.
    document_part: tuple[str, int] | None = None
    part_items: dict[tuple[str, int], int] = field(default_factory=dict)  # items of the member ranges read to the end


@dataclass(frozen=True, slots=True)
class DocumentPart:
    """A worker's unit of reading: a whole document, or a range of a big zip's members or of a big
    NDJSON file's lines (the bulk download is one archive, and would otherwise be read by one process)."""

    ordinal: int  # the document's place in reading order
    document: RawDocument
    members: tuple[int, int] | None = None  # [start, stop) of the zip's members
    lines: tuple[int, int, int] | None = None  # [start, stop) bytes of NDJSON lines, and the first line's number
    # The range's entries of the zip's directory (pack_entries), which the writer reads once for every worker.
    zip_entries: bytes | None = None
    part: int = 0  # the range's place in its document
    size_bytes: int = 0  # its share of the document's bytes, for progress

    @property
    def range_key(self) -> tuple[str, int] | None:
        """(document path, part) for a range; None for a whole document."""
        return None if self.members is None and self.lines is None else (self.document.relative_path, self.part)


def document_batches(
    group: list[DocumentPart], archives: dict[Path, ZipMembers], parts_dir: Path, studies_per_batch: int
) -> Iterator[Batch]:
    """Read a group of documents (or one range of a zip's members), normalize their studies a
    batch at a time and write each batch's rows as Parquet parts (the workers' job). A batch spans
    documents, so a folder of one-study files makes as few parts as one big file."""
    forms: dict[str, str] = {}
    errors: list[tuple] = []
    records: list[tuple] = []
    studies: dict[str, dict] = {}
    item_counts: dict[tuple[str, int], int] = {}
    first = group[0]
    sequence = 0

    def new_batch() -> Batch:
        return Batch(f"{first.ordinal:07d}-{first.part:05d}-{sequence:06d}", document_part=first.range_key)

    batch = new_batch()

    def finish(current: Batch) -> Batch:
        frames = normalize([studies[nct_id] for nct_id in current.candidates])
        frames[schema.STUDY_RECORDS.name] = pl.DataFrame(records, schema=table_schema(schema.STUDY_RECORDS), orient="row")
        for name, frame in frames.items():
            if frame.height:
                # Uncompressed: the parts live for seconds, and DuckDB reads them back at once.
                frame.write_parquet(parts_dir / name / f"{current.batch_id}.parquet", compression="uncompressed")
        current.errors = errors.copy()
        current.part_items = item_counts.copy()
        errors.clear(), records.clear(), studies.clear(), item_counts.clear()
        return current

    for part in group:
        document = part.document
        for version, study, _ in _versions(part, errors, forms, archives, item_counts):
            records.append(version.row())
            best = batch.candidates.get(version.nct_id)
            if best is None or version.precedence > best:
                batch.candidates[version.nct_id] = version.precedence
                studies[version.nct_id] = study
            if len(batch.candidates) >= studies_per_batch:
                yield finish(batch)
                sequence += 1
                batch = new_batch()
        batch.finished.append((document.relative_path, forms[document.relative_path], part.size_bytes))
    yield finish(batch)


@dataclass
class ScanBatch:
    """What a worker tells an incremental build about a batch of records it read: where every
    record sits and its version, and the canonical JSON of those whose version is not loaded."""

    records: list[tuple] = field(default_factory=list)  # study_records rows
    new_versions: list[tuple[str, int, bytes]] = field(default_factory=list)  # (document path, record_index, canonical JSON)
    errors: list[tuple] = field(default_factory=list)
    finished: list[tuple[str, str, int]] = field(default_factory=list)  # as Batch.finished
    document_part: tuple[str, int] | None = None  # as Batch.document_part: record_index counts from the range's start
    part_items: dict[tuple[str, int], int] = field(default_factory=dict)


def scan_batches(
    group: list[DocumentPart], archives: dict, loaded_versions: frozenset[str], studies_per_batch: int
) -> Iterator[ScanBatch]:
    """Read a group of documents for an incremental build: versions of every record, and the
    records themselves only where their version is new (a rewritten bulk file is mostly old)."""
    document_part = group[0].range_key
    forms: dict[str, str] = {}
    errors: list[tuple] = []
    item_counts: dict[tuple[str, int], int] = {}
    batch = ScanBatch(document_part=document_part)
    for part in group:
        for version, _, canonical in _versions(part, errors, forms, archives, item_counts):
            batch.records.append(version.row())
            if version.record_hash not in loaded_versions:
                batch.new_versions.append((version.document_path, version.record_index, canonical))
            if len(batch.records) >= studies_per_batch:
                yield batch
                batch = ScanBatch(document_part=document_part)
        batch.finished.append((part.document.relative_path, forms[part.document.relative_path], part.size_bytes))
    batch.errors, batch.part_items = errors, item_counts
    yield batch


def document_groups(documents: list[RawDocument], group_bytes: int | None = None) -> list[list[DocumentPart]]:
    """Consecutive documents gathered into units of work of about `group_bytes` (GROUP_BYTES); a
    big document is a group of its own, and a big zip is shared out in ranges of its members.
    Big NDJSON files are shared out in ranges of their lines only when the groups as they are
    would leave workers idle: numbering a file's lines is a pass over it (0.25 s per GB from the
    page cache, the disk's speed otherwise) before any worker starts."""
    group_bytes = GROUP_BYTES if group_bytes is None else group_bytes
    groups: list[list[DocumentPart]] = []
    size = group_bytes
    for ordinal, document in enumerate(documents):
        ranges = _zip_member_ranges(document, group_bytes) if document.size_bytes > group_bytes else None
        if ranges:
            groups += [[DocumentPart(ordinal, document, members=members, zip_entries=entries, part=part, size_bytes=n_bytes)]
                       for part, (members, n_bytes, entries) in enumerate(ranges)]
            size = group_bytes
            continue
        if size + document.size_bytes > group_bytes:
            groups.append([])
            size = 0
        groups[-1].append(DocumentPart(ordinal, document, size_bytes=document.size_bytes))
        size += document.size_bytes
    if not _balanced(groups, max_workers()):
        groups = [piece for group in groups for piece in _in_line_ranges(group, LINE_RANGE_GROUPS * group_bytes)]
    return groups


def _balanced(groups: list[list[DocumentPart]], n_workers: int) -> bool:
    """Whether workers taking the largest group first (as they do) all finish within 10% of an even share."""
    loads = [0] * max(1, n_workers)
    for size in sorted((sum(p.size_bytes for p in group) for group in groups), reverse=True):
        loads[loads.index(min(loads))] += size
    return max(loads) <= 1.1 * sum(loads) / len(loads)


def _in_line_ranges(group: list[DocumentPart], range_bytes: int) -> list[list[DocumentPart]]:
    """A group that is one NDJSON file of over `range_bytes`, as groups of ranges of its lines;
    any other group as it is (a file that does not open is read whole, and its reading says why)."""
    part = group[0]
    if len(group) > 1 or part.members is not None or part.document.size_bytes <= range_bytes:
        return [group]
    try:
        with part.document.path.open("rb") as file:
            if detect.sniff_form(file.read(detect.HEAD_BYTES)) != detect.JSON:
                return [group]
        lines = ndjson_line_ranges(part.document.path, range_bytes)
    except OSError:
        return [group]
    if not lines or len(lines) < 2:
        return [group]
    return [[replace(part, lines=span, part=index, size_bytes=span[1] - span[0])] for index, span in enumerate(lines)]


ZipRange = tuple[tuple[int, int], int, bytes]  # [start, stop) of the members, bytes, their entries (pack_entries)


def _zip_member_ranges(document: RawDocument, group_bytes: int) -> list[ZipRange] | None:
    """For a zip, consecutive ranges of its members of about `group_bytes` compressed, each with
    its share of the file's bytes and its members' directory entries; None for anything else, or
    a zip that does not open (its reading then reports why)."""
    try:
        with document.path.open("rb") as file:
            if detect.sniff_form(file.read(8)) != detect.ZIP:
                return None
        with ZipMembers(document.path) as archive:
            members = archive.members
    except ZIP_ARCHIVE_FAILURES:
        return None
    if len(members) < 2:
        return None
    ranges: list[ZipRange] = []
    start = taken = 0
    for index, member in enumerate(members, 1):
        taken += member.compress_size
        if taken >= group_bytes or index == len(members):
            ranges.append(((start, index), taken, pack_entries(members[start:index])))
            start, taken = index, 0
    # The headers and directory count too, so that progress ends at the file's size.
    last_members, last_bytes, last_entries = ranges[-1]
    ranges[-1] = (last_members, last_bytes + document.size_bytes - sum(n for _, n, _ in ranges), last_entries)
    return ranges


@contextmanager
def collector_paused() -> Iterator[None]:
    """Parsed studies are trees without cycles: while millions of them are made and dropped, the
    cyclic garbage collector only rescans them (it doubles orjson's parse time)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class WorkerFailed(RuntimeError):
    """A worker process failed; the build stops rather than publish a warehouse missing its documents."""


BatchMaker = Callable[[list[DocumentPart], dict], Iterator]  # (group, open archives) -> batches


def _worker(tasks, results, make_batches: BatchMaker) -> None:
    gc.disable()  # see collector_paused; the worker exits when done
    try:
        with open_archives() as archives:
            while (group := tasks.get()) is not None:
                for batch in make_batches(group, archives):
                    results.put(batch)
    except BaseException:  # noqa: BLE001 - reported to the writer, which fails the build
        results.put(WorkerFailed(traceback.format_exc()))
        return
    results.put(None)


@contextmanager
def open_archives() -> Iterator[dict[Path, ZipMembers]]:
    """Zip archives kept open while a process reads ranges of their members, closed at the end."""
    archives: dict[Path, ZipMembers] = {}
    try:
        yield archives
    finally:
        for archive in archives.values():
            archive.close()


def _batches(groups: list[list[DocumentPart]], n_workers: int, make_batches: BatchMaker) -> Iterator:
    """The batches `make_batches` makes of every group: from worker processes, or in this one."""
    if n_workers > 1:
        yield from _parallel_batches(groups, n_workers, make_batches)
        return
    with open_archives() as archives:
        for group in groups:
            yield from make_batches(group, archives)


def _parallel_batches(groups: list[list[DocumentPart]], n_workers: int, make_batches: BatchMaker) -> Iterator:
    """Batches from worker processes, each taking the next unread document; in no fixed order,
    which the writer does not need: precedence, not arrival, decides which record wins."""
    # spawn, not fork: forking a process whose polars and DuckDB thread pools are running can deadlock.
    context = multiprocessing.get_context("spawn")
    tasks = context.Queue()
    results = context.Queue()
    # Largest first, so no big document is left running alone at the end.
    for group in sorted(groups, key=lambda g: -sum(p.size_bytes for p in g)):
        tasks.put(group)
    for _ in range(n_workers):
        tasks.put(None)
    workers = [
        context.Process(target=_worker, args=(tasks, results, make_batches), daemon=True)
        for _ in range(n_workers)
    ]
    for worker in workers:
        worker.start()
    try:
        running = n_workers
        while running:
            try:
                batch = results.get(timeout=5)
            except queue.Empty:
                # A worker killed outright (out of memory) sends nothing: notice it instead of waiting forever.
                if any(w.exitcode not in (None, 0) for w in workers):
                    raise WorkerFailed("a worker process died: " + ", ".join(str(w.exitcode) for w in workers)) from None
                continue
            if isinstance(batch, WorkerFailed):
                raise batch
            if batch is None:
                running -= 1
            else:
                yield batch
        for worker in workers:
            worker.join()
    finally:
        for worker in workers:
            if worker.is_alive():
                worker.kill()


def max_workers() -> int:
    """Worker processes at most: one per core, or TRIALS_WORKERS if fewer."""
    cores = cpu_count()
    return max(1, min(cores, int(os.environ.get("TRIALS_WORKERS", cores))))


def worker_count(documents: list[RawDocument], n_groups: int) -> int:
    """Worker processes for a build: one per core, when there is enough input to pay for them."""
    if n_groups < 2 or sum(d.size_bytes for d in documents) < PARALLEL_MIN_BYTES:
        return 1
    return min(n_groups, max_workers())


def load_full(
    con,
    raw_dir: Path,
    documents: list[RawDocument],
    parts_dir: Path,
    advance: ProgressCallback = lambda n_bytes: None,
    studies_per_batch: int = STUDIES_PER_BATCH,
    n_workers: int | None = None,
    group_bytes: int | None = None,
) -> LoadSummary:
    """Create every study and provenance table and fill it from all the documents.

    Worker processes read, normalize and write Parquet parts; this process learns from each batch
    which studies it holds and keeps, per study, the batch with the winning record. At the end
    DuckDB inserts the winning rows from the parts in one statement per table, on all cores.
    (Inserting in rounds while the workers parse saved 0.5 s of 26 at 100,000 studies, but left
    the tables in small row groups that cost every later incremental build 2 s at its checkpoint.)
    """
    create_tables(con, LOADED_TABLES + (schema.DOCUMENTS,))
    create_views(con)
    for table in (*schema.STUDY_TABLES, schema.STUDY_RECORDS):
        (parts_dir / table.name).mkdir(parents=True, exist_ok=True)
    groups = document_groups(documents, group_bytes)
    n_workers = worker_count(documents, len(groups)) if n_workers is None else n_workers
    batches = _batches(groups, n_workers, partial(document_batches, parts_dir=parts_dir, studies_per_batch=studies_per_batch))
    started = time.perf_counter()
    # A full build's inventory leaves documents unhashed: this thread hashes them while the
    # workers parse (hashlib releases the GIL), rather than the build reading the folder twice in a row.
    hasher = ThreadPoolExecutor(max_workers=1)
    hashing = hasher.submit(_with_hashes, documents)
    hasher.shutdown(wait=False)
    winners: dict[str, tuple[tuple, str]] = {}
    forms: dict[str, str] = {}
    errors: list[tuple] = []
    batch_ids: list[str] = []
    split_parts: dict[str, tuple[str, int]] = {}  # batch id -> (document, part) for batches of zip member ranges
    part_items: dict[tuple[str, int], int] = {}
    with collector_paused():
        for batch in batches:
            for nct_id, precedence in batch.candidates.items():
                previous = winners.get(nct_id)
                if previous is None or precedence > previous[0]:
                    winners[nct_id] = (precedence, batch.batch_id)
            errors += batch.errors
            batch_ids.append(batch.batch_id)
            if batch.document_part is not None:
                split_parts[batch.batch_id] = batch.document_part
            part_items.update(batch.part_items)
            for path, form, n_bytes in batch.finished:
                forms[path] = form
                advance(n_bytes)
    read_done = time.perf_counter()
    _insert_winning_parts(con, parts_dir, winners)
    _insert_records(con, parts_dir, batch_ids, split_parts, part_items, winners)
    insert_done = time.perf_counter()
    documents = hashing.result()
    _write_rows(con, schema.INGEST_ERRORS, sorted(errors))
    _finish_provenance(con, raw_dir, documents, forms)
    summary = LoadSummary("full", len(documents), len(documents), n_studies_written=len(winners), documents=documents)
    summary.stage_seconds = {
        f"read_normalize ({n_workers} {'worker' if n_workers == 1 else 'workers'})": read_done - started,
        "insert": insert_done - read_done,
        "provenance": time.perf_counter() - insert_done,
    }
    return _summarize(con, summary)


def _insert_winning_parts(con, parts_dir: Path, winners: dict[str, tuple[tuple, str]]) -> None:
    """Every study table's rows of each study from the batch holding its winning record."""
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
        con.execute(
            f"insert into {quote_identifier(table.name)} select {columns} from read_parquet({pattern}, filename = true) p "
            "where exists (select 1 from winning_batches w where w.nct_id = p.nct_id "
            "and w.batch_id = parse_filename(p.filename, true))"
        )
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
    offsets = _part_offsets(part_items)
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


def _part_offsets(part_items: dict[tuple[str, int], int]) -> dict[tuple[str, int], int]:
    """For each member range of a document, the items (records and errors) of the ranges before it."""
    offsets: dict[tuple[str, int], int] = {}
    for path, part in sorted(part_items):
        offsets[(path, part)] = offsets[(path, part - 1)] + part_items[(path, part - 1)] if part else 0
    return offsets


def _part_files(parts_dir: Path, table: schema.Table, batch_ids: Iterable[str]) -> list[str]:
    """The batches' Parquet parts of a table (a batch with no rows for it wrote none)."""
    return [str(path) for batch_id in batch_ids if (path := parts_dir / table.name / f"{batch_id}.parquet").exists()]


# ---------------------------------------------------------------- incremental build


def load_incremental(
    con,
    raw_dir: Path,
    documents: list[RawDocument],
    previous: dict[str, RawDocument],
    previous_forms: dict[str, str],
    advance: ProgressCallback = lambda n_bytes: None,
    studies_per_batch: int | None = None,
) -> LoadSummary:
    """Bring a copy of the previous build up to date with the raw folder.

    Only new and changed documents are read, by worker processes when they are big. The records
    of changed and removed documents leave study_records, the new ones join it, the precedence
    rule picks each affected study's current record again, and only studies whose current record
    changed (by hash) are rewritten.
    """
    studies_per_batch = STUDIES_PER_BATCH if studies_per_batch is None else studies_per_batch
    to_read = [d for d in documents if previous.get(d.relative_path, None) is None
               or previous[d.relative_path].content_hash != d.content_hash]
    present = {d.relative_path for d in documents}
    touched = {d.relative_path for d in to_read} | (set(previous) - present)

    con.execute("create or replace temp table previous_current as select nct_id, record_hash from study_records where is_current")
    _register_paths(con, "touched_documents", touched)
    con.execute(
        "create or replace temp table affected_studies as "
        "select distinct nct_id from study_records where document_path in (select document_path from touched_documents)"
    )
    con.execute("delete from study_records where document_path in (select document_path from touched_documents)")
    con.execute("delete from ingest_errors where document_path in (select document_path from touched_documents)")
    con.unregister("touched_documents")

    errors: list[tuple] = []
    forms = {path: form for path, form in previous_forms.items() if path in present}
    # A rewritten bulk file holds mostly records already loaded: keep only the new versions.
    loaded_versions = frozenset(row[0] for row in con.execute("select record_hash from previous_current").fetchall())
    # Up to KEPT_CHANGED_STUDIES new versions, by (document, part, record_index from the part's start).
    kept_by_part: dict[tuple[str, int, int], bytes] = {}
    part_items: dict[tuple[str, int], int] = {}
    # Records of zip member ranges wait here, with their part, until the ranges' offsets are known.
    con.execute(f"create or replace temp table part_records as select *, 0 as part from {quote_identifier(schema.STUDY_RECORDS.name)} limit 0")
    groups = document_groups(to_read)
    make_batches = partial(scan_batches, loaded_versions=loaded_versions, studies_per_batch=studies_per_batch)
    with collector_paused():
        for batch in _batches(groups, worker_count(to_read, len(groups)), make_batches):
            errors += batch.errors
            part_items.update(batch.part_items)
            part = batch.document_part[1] if batch.document_part is not None else 0
            if batch.document_part is not None:
                _write_part_records(con, batch.records, part)
            else:
                _write_rows(con, schema.STUDY_RECORDS, batch.records)
            for document_path, record_index, canonical in batch.new_versions[: KEPT_CHANGED_STUDIES - len(kept_by_part)]:
                kept_by_part[(document_path, part, record_index)] = canonical
            for path, form, n_bytes in batch.finished:
                forms[path] = form
                advance(n_bytes)
    offsets = _part_offsets(part_items)
    kept = {(path, index + offsets.get((path, part), 0)): canonical for (path, part, index), canonical in kept_by_part.items()}
    _insert_part_records(con, offsets)
    _write_rows(con, schema.INGEST_ERRORS, errors)
    _register_paths(con, "read_documents", (d.relative_path for d in to_read))
    con.execute(
        "insert into affected_studies select distinct nct_id from study_records "
        "where document_path in (select document_path from read_documents) "
        "and nct_id not in (select nct_id from affected_studies)"
    )
    con.unregister("read_documents")
    _mark_current(con)

    rewritten = con.execute(
        """
        select r.nct_id, r.document_path, r.record_index from study_records r
        where r.is_current and r.nct_id in (select nct_id from affected_studies)
          and not exists (select 1 from previous_current p where p.nct_id = r.nct_id and p.record_hash = r.record_hash)
        order by r.document_path, r.record_index
        """
    ).fetchall()
    dropped = [row[0] for row in con.execute(
        "select nct_id from affected_studies a where not exists (select 1 from study_records r where r.nct_id = a.nct_id)"
    ).fetchall()]
    _delete_studies(con, [nct_id for nct_id, _, _ in rewritten] + dropped)
    _write_current_records(con, raw_dir, rewritten, kept, studies_per_batch)
    _finish_provenance(con, raw_dir, documents, forms)
    con.execute("drop table previous_current"), con.execute("drop table affected_studies")

    summary = LoadSummary("incremental", len(documents), len(to_read), n_studies_written=len(rewritten),
                          n_studies_dropped=len(dropped), documents=documents)
    return _summarize(con, summary)


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


def _write_current_records(con, raw_dir: Path, wanted: list[tuple[str, str, int]], kept: dict, studies_per_batch: int) -> None:
    """Write the studies at the given (document, record) places: from memory when the read kept them,
    else by reading their documents again (a study whose newer copy was removed falls back to an
    unchanged document)."""
    batch: list[dict] = []
    missing: dict[str, set[int]] = {}
    for _, document_path, record_index in wanted:
        canonical = kept.get((document_path, record_index))
        if canonical is None:
            missing.setdefault(document_path, set()).add(record_index)
            continue
        batch.append(orjson.loads(canonical))
        if len(batch) >= studies_per_batch:
            _write_studies(con, batch)
            batch = []
    for document_path, indexes in sorted(missing.items()):
        for index, item in enumerate(_read_guarded(Path(raw_dir) / document_path).items):
            if index in indexes and isinstance(item, StudyRecord):
                batch.append(item.study)
                if len(batch) >= studies_per_batch:
                    _write_studies(con, batch)
                    batch = []
    _write_studies(con, batch)
