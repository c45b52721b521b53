"""Load: documents in the raw folder become warehouse rows, batch by batch.

Readers turn each document into canonical studies; the normalizer turns a batch of studies into
frames; here the frames are appended to DuckDB as Arrow, and provenance is recorded: every
document, every rejected record, and every study record that lost to a newer version.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import polars as pl

from pipeline.documents import read_document
from pipeline.documents.model import DocumentReading, ReadError, ReadItem
from pipeline.tables import schema
from pipeline.tables.normalize import normalize, table_schema
from pipeline.warehouse.ddl import create_tables, create_views, quote_identifier
from pipeline.warehouse.queries import scalar

log = logging.getLogger(__name__)

STUDIES_PER_BATCH = 2000
HASH_CHUNK_BYTES = 1 << 20


@dataclass(frozen=True, slots=True)
class RawDocument:
    path: Path
    relative_path: str
    size_bytes: int
    modified_at: dt.datetime
    content_hash: str


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(HASH_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def inventory(raw_dir: Path) -> list[RawDocument]:
    """Every document under the raw folder, in the order they are read (sorted relative path).

    Hidden files (.gitkeep, editors' swap files) are not documents.
    """
    raw_dir = Path(raw_dir)
    documents = []
    for path in sorted(p for p in raw_dir.rglob("*") if p.is_file()):
        relative = path.relative_to(raw_dir)
        if any(part.startswith(".") for part in relative.parts):
            continue
        stat = path.stat()
        documents.append(
            RawDocument(
                path=path,
                relative_path=relative.as_posix(),
                size_bytes=stat.st_size,
                modified_at=dt.datetime.fromtimestamp(stat.st_mtime),
                content_hash=_sha256(path),
            )
        )
    return documents


def sources_hash(documents: list[RawDocument]) -> str:
    """One hash for the whole raw folder: changes when any document is added, removed or edited."""
    digest = hashlib.sha256()
    for document in sorted(documents, key=lambda d: d.relative_path):
        digest.update(f"{document.relative_path}\0{document.content_hash}\n".encode())
    return digest.hexdigest()


def _last_update_post_date(study: dict) -> str:
    return study.get("protocolSection", {}).get("statusModule", {}).get("lastUpdatePostDateStruct", {}).get("date") or ""


@dataclass(slots=True)
class _Version:
    last_update_post_date: str
    document_path: str
    position: str

    @property
    def update_key(self) -> str:
        # A month-only date sorts after every day of that month.
        raw = self.last_update_post_date
        return raw + "-99" if len(raw) == 7 else raw


@dataclass
class LoadSummary:
    n_documents: int = 0
    n_studies: int = 0
    n_rejected: int = 0
    n_superseded: int = 0
    n_unmapped_values: int = 0
    row_counts: dict[str, int] = field(default_factory=dict)


def _write_batch(con, studies: list[dict], replaced_nct_ids: set[str]) -> None:
    """Append a normalized batch; first drop the rows of studies that a newer version replaces."""
    if replaced_nct_ids:
        con.register("replaced_studies", pl.DataFrame({"nct_id": sorted(replaced_nct_ids)}).to_arrow())
        for table in schema.STUDY_TABLES:
            con.execute(f"delete from {quote_identifier(table.name)} where nct_id in (select nct_id from replaced_studies)")
        con.unregister("replaced_studies")
    for name, frame in normalize(studies).items():
        if frame.height:
            con.register("batch_rows", frame.to_arrow())
            con.execute(f"insert into {quote_identifier(name)} select * from batch_rows")
            con.unregister("batch_rows")


ProgressCallback = Callable[[int], None]


def load_documents(
    con,
    raw_dir: Path,
    documents: list[RawDocument],
    advance: ProgressCallback = lambda n_bytes: None,
    studies_per_batch: int = STUDIES_PER_BATCH,
) -> LoadSummary:
    """Rebuild every study and provenance table from the given documents."""
    create_tables(con, schema.STUDY_TABLES + (schema.INGEST_ERRORS, schema.SUPERSEDED_RECORDS, schema.BUILD_INFO))
    create_views(con)
    current: dict[str, _Version] = {}
    pending: dict[str, dict] = {}
    replaced: set[str] = set()
    errors: list[tuple[str, str, str, str]] = []
    superseded: list[tuple] = []
    document_rows: dict[str, dict] = {}

    def flush() -> None:
        if pending or replaced:
            _write_batch(con, list(pending.values()), replaced)
            pending.clear()
            replaced.clear()

    for document in documents:
        reading = _read_guarded(document.path)
        found = n_errors = 0
        for item in reading.items:
            if isinstance(item, ReadError):
                n_errors += 1
                errors.append((document.relative_path, item.position, item.reason, item.excerpt))
                continue
            found += 1
            nct_id = item.nct_id
            version = _Version(_last_update_post_date(item.study), document.relative_path, item.position)
            previous = current.get(nct_id)
            if previous is not None:
                # The latest lastUpdatePostDate wins; on a tie the record read last wins.
                winner, loser = (version, previous) if version.update_key >= previous.update_key else (previous, version)
                superseded.append(
                    (nct_id, loser.document_path, loser.position, loser.last_update_post_date or None,
                     winner.document_path, winner.position)
                )
                if winner is previous:
                    continue
                if nct_id not in pending:
                    replaced.add(nct_id)
            current[nct_id] = version
            pending[nct_id] = item.study
            if len(pending) >= studies_per_batch:
                flush()
        document_rows[document.relative_path] = {"form": reading.form, "found": found, "errors": n_errors}
        advance(document.size_bytes)
    flush()

    loaded_per_document: dict[str, int] = {}
    for version in current.values():
        loaded_per_document[version.document_path] = loaded_per_document.get(version.document_path, 0) + 1
    _write_rows(con, schema.INGEST_ERRORS, errors)
    _write_rows(con, schema.SUPERSEDED_RECORDS, superseded)
    _write_documents(con, documents, document_rows, loaded_per_document)

    summary = LoadSummary(
        n_documents=len(documents),
        n_studies=len(current),
        n_rejected=len(errors),
        n_superseded=len(superseded),
    )
    _write_rows(
        con, schema.BUILD_INFO,
        [(dt.datetime.now(dt.timezone.utc).replace(tzinfo=None), sources_hash(documents), summary.n_documents,
          summary.n_studies, summary.n_rejected, str(raw_dir))],
    )
    for table in schema.ALL_TABLES:
        summary.row_counts[table.name] = scalar(con, f"select count(*) from {quote_identifier(table.name)}")
    summary.n_unmapped_values = summary.row_counts[schema.UNMAPPED_VALUES.name]
    return summary


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


def _write_rows(con, table: schema.Table, rows: list[tuple]) -> None:
    frame = pl.DataFrame(rows, schema=table_schema(table), orient="row")
    con.register("provenance_rows", frame.to_arrow())
    con.execute(f"insert into {quote_identifier(table.name)} select * from provenance_rows")
    con.unregister("provenance_rows")


def write_inventory(con, documents: list[RawDocument]) -> None:
    """Record the documents about to be read; load_documents fills in what each one yielded."""
    create_tables(con, (schema.DOCUMENTS,))
    rows = [(d.relative_path, None, d.content_hash, d.size_bytes, d.modified_at, None, None, None) for d in documents]
    _write_rows(con, schema.DOCUMENTS, rows)


def read_inventory(con, raw_dir: Path) -> list[RawDocument]:
    rows = con.sql(
        "select document_path, size_bytes, modified_at, content_hash from documents order by document_path"
    ).fetchall()
    return [RawDocument(Path(raw_dir) / path, path, size, modified, content_hash) for path, size, modified, content_hash in rows]


def _write_documents(con, documents: list[RawDocument], read: dict[str, dict], loaded: dict[str, int]) -> None:
    frame = pl.DataFrame(
        {
            "document_path": [d.relative_path for d in documents],
            "document_form": [read[d.relative_path]["form"] for d in documents],
            "n_studies_found": [read[d.relative_path]["found"] for d in documents],
            "n_studies_loaded": [loaded.get(d.relative_path, 0) for d in documents],
            "n_errors": [read[d.relative_path]["errors"] for d in documents],
        },
        schema_overrides={"n_studies_found": pl.Int32, "n_studies_loaded": pl.Int32, "n_errors": pl.Int32},
    )
    con.register("document_results", frame.to_arrow())
    con.execute(
        """
        update documents set document_form = r.document_form, n_studies_found = r.n_studies_found,
               n_studies_loaded = r.n_studies_loaded, n_errors = r.n_errors
        from document_results r where documents.document_path = r.document_path
        """
    )
    con.unregister("document_results")
