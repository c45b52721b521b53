"""Units of work: documents gathered into groups, and big documents shared out in ranges.

Small files share a group (and Parquet parts); a big zip is shared out in ranges of its members
and a big NDJSON file in ranges of its lines, so that a single file uses every core too.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable

from pipeline.documents import detect
from pipeline.documents.api_json import ZIP_ARCHIVE_FAILURES, ZipMembers, ndjson_line_ranges, pack_entries
from pipeline.documents.bounds import INFLATE_RATIO, open_regular
from pipeline.warehouse.load.pool import max_workers
from pipeline.warehouse.load.raw_folder import RawDocument

# Documents read as one unit of work: small files share batches (and Parquet parts). A bigger zip
# is shared out in ranges of its members of this many compressed bytes, a bigger NDJSON file in
# ranges of its lines of LINE_RANGE_GROUPS times as many (JSON deflates about 3.5 to 1).
GROUP_BYTES = 16 * 1024 * 1024
LINE_RANGE_GROUPS = 4
# Worker processes pay a start-up cost (~0.5 s to import polars); below this much input they lose.
PARALLEL_MIN_BYTES = 32 * 1024 * 1024
# Studies normalized (full build) or records scanned (incremental build) per batch; a batch ends
# early at this many error rows (a document of a million bad lines) or at BATCH_BYTES of its
# records' JSON (studies of megabytes each), so what a worker holds stays bounded whatever a
# document is made of. A group of members or lines (about 3,500 studies of the registry) is one
# batch: each batch costs every table a frame, its derivations and a Parquet part, and halving
# their number took 2-5% off a worker's CPU (34,000 real records, four alternated pairs) for
# 55 MB more per worker.
STUDIES_PER_BATCH = 4000
BATCH_BYTES = 96 * 1024 * 1024
ERRORS_PER_BATCH = 10_000

ProgressCallback = Callable[[int], None]  # bytes of documents read


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


def whole(document: RawDocument, ordinal: int = 0) -> DocumentPart:
    return DocumentPart(ordinal, document, size_bytes=document.size_bytes)


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
        if not groups or size + document.size_bytes > group_bytes:
            groups.append([])
            size = 0
        groups[-1].append(whole(document, ordinal))
        size += document.size_bytes
    if not _balanced(groups, max_workers()):
        groups = [piece for group in groups for piece in _in_line_ranges(group, LINE_RANGE_GROUPS * group_bytes)]
    return groups


def worker_count(documents: list[RawDocument], n_groups: int) -> int:
    """Worker processes for a build: one per core (at most one per group) when there is enough
    input to pay for them, else none (the documents are read in this process). Even one group is
    read by a worker when it is big, or compressed and may inflate past that: the memory reading
    it took (a study with a text field of hundreds of MB) goes when the worker exits, before this
    process inserts the rows."""
    if sum(d.size_bytes for d in documents) < PARALLEL_MIN_BYTES and not any(map(_may_inflate, documents)):
        return 0
    return min(n_groups, max_workers())


def _may_inflate(document: RawDocument) -> bool:
    """Whether a document is compressed and big enough to inflate past PARALLEL_MIN_BYTES."""
    if document.size_bytes * INFLATE_RATIO < PARALLEL_MIN_BYTES:
        return False
    try:
        with open_regular(document.path) as file:
            return detect.sniff_form(file.read(4)) in (detect.GZIP, detect.ZIP)
    except OSError:
        return False


def part_offsets(part_items: dict[tuple[str, int], int]) -> dict[tuple[str, int], int]:
    """For each range of a document, the items (records and errors) of the ranges before it."""
    offsets: dict[tuple[str, int], int] = {}
    for path, part in sorted(part_items):
        offsets[(path, part)] = offsets[(path, part - 1)] + part_items[(path, part - 1)] if part else 0
    return offsets


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
        with open_regular(part.document.path) as file:
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
        with open_regular(document.path) as file:
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
