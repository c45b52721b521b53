"""The one place a record is guarded, for full and incremental builds alike.

Everything that touches one record happens here, and whatever fails becomes one ingest_errors
row (document, position, study id when known, plain reason, excerpt) while the rest loads:

- reading (`guarded_items`): a document, or a range of its zip members or NDJSON lines, read
  through its reader; a reader that fails (a vanished file, a reader bug) costs that document,
  or that range, one error row;
- checking, before any precedence is decided: the record's structure against the mapping
  (`shape.check`: "wrong type at protocolSection.armsInterventionsModule: expected an object,
  got a list"), its canonical JSON (which must exist to hash the version: an integer beyond 64
  bits, a lone surrogate or nesting deeper than orjson writes rejects the record), its version
  hash and its precedence key;
- normalizing and linking (`normalize_records`): leaf values that can't take their column's type
  are kept, with their paths, in unmapped_values (`shape.misfits`); a batch that still fails is
  split in halves until the records that fail are found, and only they are rejected.

Because every record a build reads passes through `guarded_items` before precedence is decided,
a full and an incremental build of the same folder reject exactly the same records.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator, NamedTuple

import orjson
import polars as pl

from pipeline.documents import detect, read_document
from pipeline.documents.api_json import NDJSON, ZipMembers, read_ndjson_lines, unpack_entries
from pipeline.documents.model import EXCERPT_CHARS, DocumentReading, ReadError, ReadItem, StudyRecord, short_repr
from pipeline.tables import schema, shape
from pipeline.tables.normalize import ValuesDoNotFit, normalize, table_schema
from pipeline.warehouse.load.parts import DocumentPart
from pipeline.warehouse.load.records import RecordVersion, canonical_hash, last_update_post_date

# Records whose structure is checked together, column-wise: few enough that they are still in
# the CPU cache when they are hashed and let go (at 64, scanning took 55% longer than at 32).
CHECK_CHUNK = 32
# orjson writes at most this many levels of nesting (it parses up to 1024).
_CANONICAL_DEPTH = 255
_SHOWN_PATH_CHARS = 80
# A record this large (a study with a text field of hundreds of MB) is held as few times as can
# be: its canonical JSON is not kept, and its rows are written lean.
LARGE_RECORD_BYTES = 16 * 1024 * 1024


class ErrorRow(NamedTuple):
    """One row of ingest_errors."""

    document_path: str
    position: str
    nct_id: str | None
    reason: str
    excerpt: str


class GuardedRecord(NamedTuple):
    """A record that passed every check: its version, the study, and its canonical JSON (when asked
    for: a study with a 200 MB text field should not be held twice)."""

    version: RecordVersion
    study: dict
    canonical: bytes | None
    n_bytes: int  # of its canonical JSON
    mapped: bool = False  # every key of the record is one the mapping reads (`shape.screen`): no unmapped values


def guarded_items(part: DocumentPart, archives: dict[Path, ZipMembers], forms: dict[str, str],
                  item_counts: dict[tuple[str, int], int], keep_canonical: bool = False) -> Iterator[GuardedRecord | ErrorRow]:
    """The records of a document (or of a range of it) that pass every check, and an error row
    for each item that does not. `forms` gets the document's form; `item_counts` the number of
    items (records and errors) of a range, from which the records of the ranges after it count on."""
    document = part.document
    reading = read_part(part, archives)
    forms[document.relative_path] = reading.form
    # Records wait for the structure check in chunks of CHECK_CHUNK (checked column-wise); each
    # is written as canonical JSON as soon as it is read, while it is still in the CPU cache
    # (written a chunk later, it took three times as long).
    pending: list[tuple[int, StudyRecord, bytes | str]] = []
    index = -1
    for index, item in enumerate(reading.items):
        if isinstance(item, ReadError):
            yield ErrorRow(document.relative_path, item.position, item.nct_id, item.reason, item.excerpt)
            continue
        try:
            canonical: bytes | str = orjson.dumps(item.study)
        except (orjson.JSONEncodeError, TypeError) as error:
            canonical = _not_canonical(item.study, error)
        pending.append((index, item, canonical))
        if len(pending) >= CHECK_CHUNK:
            yield from _checked(part, pending, keep_canonical)
            pending = []
    yield from _checked(part, pending, keep_canonical)
    if part.range_key is not None:
        item_counts[part.range_key] = index + 1


def _checked(part: DocumentPart, pending: list[tuple[int, StudyRecord, bytes | str]],
             keep_canonical: bool) -> Iterator[GuardedRecord | ErrorRow]:
    """The chunk's records that pass the structure check and have canonical JSON (else, in
    `canonical`'s place, why they have none), and error rows for the others."""
    path = part.document.relative_path
    departures, mapped = shape.screen([item.study for _, item, _ in pending]) if pending else ([], False)
    for (index, item, canonical), departure in zip(pending, departures):
        nct_id, study = item.nct_id, item.study
        if departure is not None:
            yield ErrorRow(path, item.position, nct_id, departure.reason, short_repr(departure.value)[:EXCERPT_CHARS])
        elif isinstance(canonical, str):
            yield ErrorRow(path, item.position, nct_id, canonical, "")
        else:
            version = RecordVersion(nct_id, path, index, item.position, last_update_post_date(study),
                                    canonical_hash(canonical), part.part)
            yield GuardedRecord(version, study, canonical if keep_canonical else None, len(canonical), mapped)
    pending.clear()  # the chunk's canonical JSON is not held while the consumer works


def _not_canonical(study: dict, error: Exception) -> str:
    """Why a record has no canonical JSON, naming the value's path when one value is the cause."""
    found = _first_unwritable(study)
    if found is None:
        return f"the record can't be written as canonical JSON to hash its version: {error}"
    path, problem = found
    if len(path) > _SHOWN_PATH_CHARS:
        path = path[:_SHOWN_PATH_CHARS] + "..."
    return f"{problem} at {path}: the record can't be written as canonical JSON to hash its version"


def _first_unwritable(study: dict) -> tuple[str, str] | None:
    """(path, what) of the first value canonical JSON can't hold, walked without recursion."""
    stack: list[tuple[Any, str, int]] = [(study, "", 0)]
    while stack:
        value, path, depth = stack.pop()
        if isinstance(value, dict):
            if depth >= _CANONICAL_DEPTH:
                return path or "the record", f"nesting deeper than {_CANONICAL_DEPTH} levels"
            stack += [(v, f"{path}.{k}" if path else str(k), depth + 1) for k, v in reversed(value.items())]
            bad_key = next((k for k in value if not isinstance(k, str) or not _is_text(k)), None)
            if bad_key is not None:
                return path or "the record", f"a key that is not text ({short_repr(bad_key)})"
        elif isinstance(value, list):
            if depth >= _CANONICAL_DEPTH:
                return path or "the record", f"nesting deeper than {_CANONICAL_DEPTH} levels"
            stack += [(v, f"{path}[{i}]", depth + 1) for i, v in reversed(list(enumerate(value)))]
        elif isinstance(value, int) and not isinstance(value, bool) and not -(2**63) <= value < 2**64:
            return path, "an integer beyond 64 bits"
        elif isinstance(value, str) and not _is_text(value):
            return path, "a lone surrogate (not Unicode text) in a string"
    return None


def _is_text(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def read_part(part: DocumentPart, archives: dict[Path, ZipMembers]) -> DocumentReading:
    """The part's reading; a reader that fails (a vanished file, a reader bug) yields an error
    row for the document, or for the range, instead of failing the whole build."""
    path = part.document.path
    if part.members is not None:
        start, stop = part.members

        def members() -> Iterator[ReadItem]:
            archive = archives.get(path)
            if archive is None:
                archive = archives[path] = ZipMembers(path, read_directory=part.zip_entries is None)
            if part.zip_entries is None:
                return archive.read(start, stop)
            return archive.read_entries(unpack_entries(part.zip_entries))

        # Named after the range: several ranges of a vanished archive fail alike.
        return DocumentReading(detect.ZIP, _guarded(members, f"members {start + 1} to {stop}"))
    if part.lines is not None:
        start, stop, first_line = part.lines
        return DocumentReading(NDJSON, _guarded(lambda: read_ndjson_lines(path, start, stop, first_line),
                                                f"bytes {start} to {stop}"))
    try:
        reading = read_document(path)
    except Exception as error:  # noqa: BLE001 - one bad document must not stop the batch
        return DocumentReading(detect.UNKNOWN, iter([_unreadable("", error)]))
    return DocumentReading(reading.form, _guarded(lambda: reading.items, ""))


def _guarded(items, position: str) -> Iterator[ReadItem]:
    try:
        yield from items()
    except Exception as error:  # noqa: BLE001 - one bad document must not stop the batch
        yield _unreadable(position, error)


def _unreadable(position: str, error: Exception) -> ReadError:
    return ReadError(position, f"could not read the document: {type(error).__name__}: {error}", "")


# ---------------------------------------------------------------- normalizing


def normalize_records(studies: list[dict], places: list[tuple[str, str]],
                      mapped: list[bool] | None = None) -> tuple[dict[str, pl.DataFrame], list[ErrorRow]]:
    """The study tables' frames of records that passed `guarded_items`, with their misfits kept
    in unmapped_values; and an error row for each record that still can't be normalized (then
    it has no rows). `places` are the records' (document path, position), for those rows;
    `mapped`, when known, their `GuardedRecord.mapped`."""
    try:
        return normalize(studies, mapped), []
    except ValuesDoNotFit:
        return _normalize_misfits(studies, places)
    except Exception as error:  # noqa: BLE001 - found and rejected record by record
        return _split(studies, places, error, mapped)


def _normalize_misfits(studies: list[dict], places: list[tuple[str, str]]) -> tuple[dict[str, pl.DataFrame], list[ErrorRow]]:
    found = [shape.misfits(study) for study in studies]
    cleaned = [shape.without(study, [path for path, _ in misfits]) if misfits else study
               for study, misfits in zip(studies, found)]
    try:
        frames, errors = normalize(cleaned), []
    except Exception as error:  # noqa: BLE001 - what the misfits did not explain
        frames, errors = _split(cleaned, places, error)
    rejected = {error.nct_id for error in errors}
    rows = [(study_id, path, value) for study, misfits in zip(studies, found)
            if misfits and (study_id := _nct_id(study)) not in rejected for path, value in misfits]
    if rows:
        unmapped = pl.DataFrame(rows, schema=table_schema(schema.UNMAPPED_VALUES), orient="row")
        frames[schema.UNMAPPED_VALUES.name] = pl.concat([frames[schema.UNMAPPED_VALUES.name], unmapped])
    return frames, errors


def _split(studies: list[dict], places: list[tuple[str, str]], error: Exception,
           mapped: list[bool] | None = None) -> tuple[dict[str, pl.DataFrame], list[ErrorRow]]:
    """Normalize each half on its own, down to the single records that fail."""
    if len(studies) == 1:
        document_path, position = places[0]
        reason = f"could not be normalized: {type(error).__name__}: {error}"
        return normalize([]), [ErrorRow(document_path, position, _nct_id(studies[0]), reason, "")]
    middle = len(studies) // 2
    left, left_errors = normalize_records(studies[:middle], places[:middle], mapped and mapped[:middle])
    right, right_errors = normalize_records(studies[middle:], places[middle:], mapped and mapped[middle:])
    return {name: pl.concat([left[name], right[name]]) for name in left}, left_errors + right_errors


def _nct_id(study: dict) -> str:
    return study["protocolSection"]["identificationModule"]["nctId"]
