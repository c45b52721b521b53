"""Writing what a load found into DuckDB: study frames, error rows as they come, and the
provenance tables (documents, superseded_records) rebuilt the same way by full and incremental builds."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.tables import schema
from pipeline.tables.normalize import table_schema
from pipeline.warehouse.ddl import quote_identifier, quote_literal
from pipeline.warehouse.load.raw_folder import Inventory
from pipeline.warehouse.load.records import PRECEDENCE_SQL
from pipeline.warehouse.queries import scalar

LOADED_TABLES = schema.STUDY_TABLES + (schema.INGEST_ERRORS, schema.STUDY_RECORDS, schema.SUPERSEDED_RECORDS)


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
    inventory: Inventory = field(default_factory=lambda: Inventory([]))  # the raw folder, every content hash known


def write_rows(con, table: schema.Table, rows: list[tuple]) -> None:
    if not rows:
        return
    frame = pl.DataFrame(rows, schema=table_schema(table), orient="row")
    con.register("provenance_rows", frame.to_arrow())
    con.execute(f"insert into {quote_identifier(table.name)} select * from provenance_rows")
    con.unregister("provenance_rows")


def write_errors(con, rows: list[tuple]) -> None:
    """Error rows, written as they arrive rather than held to the end (a document of millions of
    bad lines would otherwise hold them all)."""
    write_rows(con, schema.INGEST_ERRORS, rows)


def write_part(frame: pl.DataFrame, path: Path, lean: bool) -> None:
    """A frame as a Parquet part, uncompressed: parts live for seconds, and DuckDB reads them back
    at once. A lean part (for a batch holding a record of hundreds of MB, a long text field) is
    written by pyarrow without dictionaries or statistics: polars' writer takes 7 times a long
    string's size to write it, pyarrow's plain pages 3 times. No part is written with statistics:
    DuckDB reads every part whole, and they were a quarter of the writing's time."""
    if lean:
        pq.write_table(frame.to_arrow(), path, compression="none", use_dictionary=False, write_statistics=False)
        pa.default_memory_pool().release_unused()  # what the pages took, given back now
    else:
        frame.write_parquet(path, compression="uncompressed", statistics=False)


def insert_frames(con, frames: dict[str, pl.DataFrame], through: Path | None = None) -> None:
    """Insert each frame into its table, letting go of each once inserted.

    With `through` (a folder), each frame goes by a lean Parquet part there, let go before DuckDB
    reads it back: for a batch holding a record of hundreds of MB. Inserted from Arrow, such a frame
    stays held while DuckDB takes twice its size again (a 200 MB text field's incremental build
    peaked at 1,905 MB in the studies insert, against 1,315 MB through a part)."""
    for name in list(frames):
        frame = frames.pop(name)
        if not frame.height:
            continue
        if through is None:
            con.register("batch_rows", frame.to_arrow())
            con.execute(f"insert into {quote_identifier(name)} select * from batch_rows")
            con.unregister("batch_rows")
            continue
        path = through / f"{name}.parquet"
        write_part(frame, path, lean=True)
        frame = None
        con.execute(f"insert into {quote_identifier(name)} select * from read_parquet({quote_literal(str(path))})")
        path.unlink()


def delete_studies(con, nct_ids: Iterable[str]) -> None:
    ids = sorted(set(nct_ids))
    if not ids:
        return
    con.register("removed_studies", pl.DataFrame({"nct_id": ids}, schema={"nct_id": pl.String}).to_arrow())
    for table in schema.STUDY_TABLES:
        con.execute(f"delete from {quote_identifier(table.name)} where nct_id in (select nct_id from removed_studies)")
    con.unregister("removed_studies")


def register_paths(con, name: str, paths: Iterable[str]) -> None:
    con.register(name, pl.DataFrame({"document_path": sorted(paths)}, schema={"document_path": pl.String}).to_arrow())


def mark_current(con) -> None:
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


def finish_provenance(con, folder: Inventory, forms: dict[str, str]) -> None:
    """Rewrite documents and superseded_records from study_records and ingest_errors, the same way
    for full and incremental builds."""
    con.execute("delete from documents")
    write_rows(
        con, schema.DOCUMENTS,
        [(d.relative_path, forms[d.relative_path], d.content_hash, d.size_bytes, d.modified_at, 0, 0, 0)
         for d in folder.documents],
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


def summarize(con, summary: LoadSummary) -> LoadSummary:
    for table in LOADED_TABLES + (schema.DOCUMENTS,):
        summary.row_counts[table.name] = scalar(con, f"select count(*) from {quote_identifier(table.name)}")
    summary.n_studies = summary.row_counts[schema.STUDIES.name]
    summary.n_rejected = summary.row_counts[schema.INGEST_ERRORS.name]
    summary.n_superseded = summary.row_counts[schema.SUPERSEDED_RECORDS.name]
    summary.n_unmapped_values = summary.row_counts[schema.UNMAPPED_VALUES.name]
    return summary
