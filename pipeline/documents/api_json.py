"""ClinicalTrials.gov API v2 JSON in each of the shapes it is distributed in.

- ``json_study``: one study object, as served by ``/api/v2/studies/NCT...``.
- ``json_list``: a JSON array of studies, as in the site download ``ctg-studies.json``
  (positions ``[0]``, ``[1]``, ...).
- ``json_page``: one API page ``{"studies": [...], "nextPageToken": ...}``
  (positions ``studies[0]``, ...).
- ``ndjson``: one study per line (positions ``line N``, 1-based; blank lines skipped);
  a bad line costs only that line.
- ``zip``: an archive of JSON files, as in the bulk download ``ctg-studies.json.zip``;
  each member may take any shape above (positions ``member NAME`` and, inside a member,
  ``member NAME, [3]``, ``member NAME, line 7``, ...).

A document that cannot be parsed yields one error whose position reads
``line 12, column 5 (byte 3456)`` and whose reason starts ``malformed JSON:`` or, when the
text stops mid-value, ``truncated JSON:``; such a document has form ``json`` because its
shape is unknowable.

Bounds (``bounds``): lines are read in pieces, whitespace skipped without being held; a line, a
member or a document read whole is at most ``MAX_RECORD_BYTES`` and is not parsed when parsing
it would cost too much memory; a zip's directory is refused when it lists more than
``MAX_ZIP_MEMBERS`` members or members that overlap, and a member that would inflate more than
``INFLATE_RATIO`` times, or past the size its entry states, is an error. A zip or gzip inside a
zip member is named as such.
"""
from __future__ import annotations

import gc
import io
import os
import re
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterator
from operator import attrgetter
from pathlib import Path
from typing import IO, Any, NamedTuple

import orjson
from isal import isal_zlib

from pipeline.documents.bounds import (
    MAX_RECORD_BYTES,
    MEMBER_INFLATE_FLOOR,
    LimitExceeded,
    inflate_error,
    inflate_limit,
    mib,
    open_regular,
    parse_cost_error,
    read_at_most,
)
from pipeline.documents.detect import (
    EMPTY,
    GZIP,
    JSON,
    UTF8_BOM,
    UTF16,
    XML,
    ZIP,
    empty_document_error,
    excerpt_at,
    first_non_utf8_byte,
    not_utf8_error,
    sniff_form,
    transcode_utf16,
)
from pipeline.documents.model import DocumentReading, ReadError, ReadItem, check_study

JSON_STUDY = "json_study"
JSON_LIST = "json_list"
JSON_PAGE = "json_page"
NDJSON = "ndjson"

# One study is at most a few MiB; a member far beyond that is a decompression bomb.
MAX_MEMBER_BYTES = MAX_RECORD_BYTES
# The bulk download lists about 600,000 members (610 bytes each as ZipInfo objects, read once by
# the build's main process); a directory far beyond that is not a registry download.
MAX_ZIP_MEMBERS = 1_500_000

# One study a line, the whole registry (600,000 studies) is well under a million lines. Past this
# many lines of content a reading stops (a small gzip of junk lines would otherwise cost hours of
# rejecting); blank lines are skipped at C speed and don't count.
MAX_LINES = 2_000_000

# NDJSON lines average 17 KB; with the default 8 KiB buffer each one is read in pieces and joined.
READ_BUFFER_BYTES = 1024 * 1024

_NOT_PARSED = object()
_ZIP_MEMBER_FAILURES = (zipfile.BadZipFile, zlib.error, isal_zlib.error, EOFError, OSError, RuntimeError,
                        NotImplementedError, ValueError, OverflowError, struct.error, LimitExceeded)
# JSON's whitespace; a run of it, however long, is skipped without being held.
_CONTENT_BYTE = re.compile(rb"[^ \t\n\r\x0b\x0c]")


def read_json_bytes(data: bytes, prefix: str = "") -> DocumentReading:
    """Read a JSON document held in memory; ``prefix`` names where it sits (e.g. a zip member)."""
    return read_json_stream(io.BytesIO(data), prefix, whole=lambda: data)


def read_json_stream(
    stream: IO[bytes], prefix: str = "", whole: Callable[[], bytes] | None = None
) -> DocumentReading:
    """Read a JSON document from a binary stream positioned at its start.

    NDJSON is told from a pretty-printed object by its first non-blank line: only in NDJSON
    does that line parse alone as an object with more content after it. Deciding this from
    the first two lines lets NDJSON stream line by line, never held whole. Any other shape
    is parsed whole, using ``whole()`` (default: rewind and read) to get the document, if it
    is at most ``MAX_RECORD_BYTES`` and would not cost too much memory once parsed.
    Lines are read in bounded pieces: a line longer than that is skipped, not held.
    The stream is closed once the document has been read.
    """
    lines = _non_blank_lines(stream)
    try:
        first = next(lines, None)
        if first is None:
            stream.close()
            return DocumentReading(EMPTY, iter([empty_document_error(prefix)]))
        first_value = _parse_alone(first.content)
        if first_value is not _NOT_PARSED:
            following = next(lines, None)
            if following is None:
                stream.close()
                return DocumentReading(json_shape(first_value), studies_in(first_value, prefix))
            if isinstance(first_value, dict):
                # Its text is parsed: not held while the rest of the file is read.
                first = first._replace(content=b"")
                return DocumentReading(NDJSON, _ndjson_items(first, first_value, following, lines, prefix, stream))
        elif first.past_last:
            stream.close()
            return DocumentReading(JSON, iter([ReadError(join_position(prefix, f"line {first.number}"), _line_refusal(first), "")]))
        elif _line_refusal(first) is not None:
            # Too long or too costly to parse: NDJSON if the next line is a study, else a
            # document that can't be read whole either.
            following = next(lines, None)
            if following is not None and isinstance(_parse_alone(following.content), dict):
                return DocumentReading(NDJSON, _ndjson_items(first, None, following, lines, prefix, stream))
            stream.close()
            return DocumentReading(JSON, iter([_whole_refusal(first.content, prefix)]))
        lines.close()
        if whole is None:
            stream.seek(0)
            data = read_at_most(stream, MAX_RECORD_BYTES)
        else:
            data = whole()
    except BaseException:
        stream.close()
        raise
    stream.close()
    if len(data) > MAX_RECORD_BYTES or parse_cost_error(data, "") is not None:
        return DocumentReading(JSON, iter([_whole_refusal(data, prefix)]))
    return _read_whole(data, prefix)


def _whole_refusal(data: bytes | None, prefix: str) -> ReadError:
    """The error for a JSON document too large (None: larger than MAX_RECORD_BYTES) or too costly
    to parse whole."""
    if data is None or len(data) > MAX_RECORD_BYTES:
        return ReadError(prefix, f"JSON document larger than {mib(MAX_RECORD_BYTES)} that is not one study per line "
                                 "(NDJSON): not read (write big collections as NDJSON or the bulk zip)", "")
    return ReadError(prefix, parse_cost_error(data, "JSON document"), excerpt_at(data, 0))


def json_shape(value: Any) -> str:
    """The form name of a parsed JSON document."""
    if isinstance(value, list):
        return JSON_LIST
    if _is_page(value):
        return JSON_PAGE
    return JSON_STUDY


def studies_in(value: Any, position: str, source: bytes | bytearray = b"") -> Iterator[ReadItem]:
    """Every study a parsed JSON value holds, each checked, with its position; `source`, the text
    of a value that is one study, gives a rejected study its excerpt (cheaper than its repr)."""
    if isinstance(value, list):
        for index, item in enumerate(value):
            yield check_study(item, join_position(position, f"[{index}]"))
    elif _is_page(value):
        for index, item in enumerate(value["studies"]):
            yield check_study(item, join_position(position, f"studies[{index}]"))
    else:
        yield check_study(value, position, source)


def join_position(outer: str, inner: str) -> str:
    """``member a.json`` and ``[3]`` make ``member a.json, [3]``; either may be empty."""
    return f"{outer}, {inner}" if outer and inner else outer or inner


def read_zip(archive: str | Path | IO[bytes]) -> Iterator[ReadItem]:
    """Every study in a zip of JSON files, reading each member as a stream, never extracting."""
    try:
        members = ZipMembers(archive)
    except ZIP_ARCHIVE_FAILURES as error:
        yield ReadError("", f"unreadable zip archive: {error}", "")
        return
    with members:
        yield from members.read()


ZIP_ARCHIVE_FAILURES = (zipfile.BadZipFile, OSError, EOFError)

# A member's local header: its signature, then the lengths of its name and extra field at bytes 26 and 28.
_LOCAL_HEADER = struct.Struct("<4s22xHH")


class MemberEntry(NamedTuple):
    """What reading a member needs of its directory entry (zipfile.ZipInfo has the same fields)."""

    filename: str
    header_offset: int
    compress_size: int
    file_size: int
    CRC: int
    compress_type: int
    flag_bits: int


_PACKED_ENTRY = struct.Struct("<QQQIHH")  # MemberEntry's fields after the name


def pack_entries(members: list[zipfile.ZipInfo]) -> bytes:
    """Directory entries as bytes, to hand to another process: the bulk download's 600,000
    entries take 366 MB as ZipInfo objects and 30 MB packed. Names never hold a NUL (zipfile
    cuts them there), so NULs separate them."""
    fixed = b"".join(_PACKED_ENTRY.pack(m.header_offset, m.compress_size, m.file_size, m.CRC, m.compress_type, m.flag_bits)
                     for m in members)
    return struct.pack("<I", len(members)) + fixed + "\0".join(m.filename for m in members).encode()


def unpack_entries(packed: bytes) -> list[MemberEntry]:
    (count,) = struct.unpack_from("<I", packed)
    end = 4 + count * _PACKED_ENTRY.size
    names = packed[end:].decode().split("\0") if count else []
    return [MemberEntry(name, *fields) for name, fields in zip(names, _PACKED_ENTRY.iter_unpack(packed[4:end]))]


# A directory entry's fixed 46 bytes (zipfile.structCentralDir), only the fields read here: the
# signature, extract version, flags, method, CRC, sizes, lengths of name, extra and comment, offset.
_CENTRAL_ENTRY = struct.Struct("<4s2xB1xHH4xLLLHHH8xL")
_new_tuple = tuple.__new__
_UTF8_NAME = 0x800  # flag bit: the name is UTF-8 (else cp437)
_ZIP64_EXTRA, _UNICODE_PATH_EXTRA = 0x0001, 0x7075


def _plain_directory(file: IO[bytes], end_record: list | None) -> list[MemberEntry] | None:
    """The file members of a zip's directory, read straight from its bytes as zipfile reads them,
    or None when some entry is not plain, so that zipfile reads the directory (its errors
    included): a bad signature, a truncated entry, a version zipfile refuses, a name that does not
    decode or is empty, an extra field that is malformed or that some Python versions read a name
    from. The bulk download's 600,000 entries take 1.4 s here against 5-6 s as zipfile's ZipInfo
    objects (bench/fixed_costs.py), time in which the build's workers wait for their first members."""
    if not end_record or os.sep != "/":
        return None
    size_cd, offset_cd = end_record[zipfile._ECD_SIZE], end_record[zipfile._ECD_OFFSET]
    # Where the archive starts in the file (not 0 when something was prepended), as zipfile finds it.
    concat = end_record[zipfile._ECD_LOCATION] - size_cd - offset_cd
    if end_record[zipfile._ECD_SIGNATURE] == zipfile.stringEndArchive64:
        concat -= zipfile.sizeEndCentDir64 + zipfile.sizeEndCentDir64Locator
    if offset_cd + concat < 0:
        return None
    file.seek(offset_cd + concat)
    data = file.read(size_cd)
    # 600,000 new tuples would set off the cyclic collector again and again (a third of the
    # time); they hold only text and numbers, so no cycle can form.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _directory_entries(data, size_cd, concat, end_record[zipfile._ECD_ENTRIES_TOTAL])
    finally:
        if collecting:
            gc.enable()


def _directory_entries(data: bytes, size_cd: int, concat: int, listed: int) -> list[MemberEntry] | None:
    entries: list[MemberEntry] = []
    at, available, parsed = 0, len(data), 0
    unpack = _CENTRAL_ENTRY.unpack_from
    try:
        while at < size_cd:
            if at + _CENTRAL_ENTRY.size > available:
                return None
            (signature, extract_version, flags, compress_type, crc, compress_size, file_size,
             name_length, extra_length, comment_length, header_offset) = unpack(data, at)
            if signature != zipfile.stringCentralDir or extract_version > zipfile.MAX_EXTRACT_VERSION:
                return None
            name_at = at + _CENTRAL_ENTRY.size
            extra_at = name_at + name_length
            at = extra_at + extra_length + comment_length
            if at > available:
                return None
            raw_name = data[name_at:extra_at]
            name = raw_name.decode("utf-8" if flags & _UTF8_NAME else "ascii" if raw_name.isascii() else "cp437")
            if "\0" in name:  # zipfile cuts a name there
                name = name[:name.index("\0")]
            if extra_length:
                sizes = _zip64_sizes(data[extra_at:extra_at + extra_length], file_size, compress_size, header_offset)
                if sizes is None:
                    return None
                file_size, compress_size, header_offset = sizes
            if not name:
                return None
            parsed += 1
            if parsed > listed:  # more entries than the end record lists: not plain
                return None
            if not name.endswith("/"):
                entries.append(_new_tuple(MemberEntry, (name, header_offset + concat, compress_size, file_size, crc,
                                                        compress_type, flags)))
    except UnicodeDecodeError:
        return None
    return entries


def _zip64_sizes(extra: bytes, file_size: int, compress_size: int, header_offset: int) -> tuple[int, int, int] | None:
    """The sizes and offset as a ZIP64 extra field gives them (as zipfile reads it), or None for a
    malformed extra field or one carrying a Unicode path."""
    while len(extra) >= 4:
        tag, length = struct.unpack_from("<HH", extra)
        if length + 4 > len(extra) or tag == _UNICODE_PATH_EXTRA:
            return None
        if tag == _ZIP64_EXTRA:
            values = extra[4:length + 4]
            wanted = (file_size in (0xFFFF_FFFF_FFFF_FFFF, 0xFFFF_FFFF)) + (compress_size == 0xFFFF_FFFF) + (header_offset == 0xFFFF_FFFF)
            if len(values) < 8 * wanted:
                return None
            read = iter(struct.unpack_from(f"<{wanted}Q", values))
            if file_size in (0xFFFF_FFFF_FFFF_FFFF, 0xFFFF_FFFF):
                file_size = next(read)
            if compress_size == 0xFFFF_FFFF:
                compress_size = next(read)
            if header_offset == 0xFFFF_FFFF:
                header_offset = next(read)
        extra = extra[length + 4:]
    return file_size, compress_size, header_offset


class ZipMembers:
    """The file members of an open zip archive, readable a range at a time, so that the bulk
    download (one archive of every study) can be shared out among processes.

    A process given the entries of the members it reads (`read_entries`), from the directory
    read once elsewhere, need not read the directory itself (`read_directory=False`): the bulk
    download's holds 600,000 entries, 3 to 4.5 s of parsing in each process."""

    def __init__(self, archive: str | Path | IO[bytes], read_directory: bool = True) -> None:
        self._owned = None if hasattr(archive, "read") else open_regular(archive)
        self.file: IO[bytes] = self._owned or archive
        self._zip_file: zipfile.ZipFile | None = None
        self._members: list[MemberEntry] | list[zipfile.ZipInfo] | None = None
        self._by_offset: dict[int, zipfile.ZipInfo] | None = None
        try:
            if read_directory:
                self._members = self._directory()
        except BaseException:
            self.close()
            raise

    def _directory(self) -> list[MemberEntry] | list[zipfile.ZipInfo]:
        """The file members, once the directory is known not to be hostile: at most
        MAX_ZIP_MEMBERS entries (counted before they are parsed), whose data do not overlap (a
        bomb of many entries over one compressed block adds up to more than the archive)."""
        self.file.seek(0, io.SEEK_END)
        archive_bytes = self.file.tell()
        end_record = zipfile._EndRecData(self.file)  # what zipfile itself reads first
        if end_record and end_record[zipfile._ECD_ENTRIES_TOTAL] > MAX_ZIP_MEMBERS:
            raise zipfile.BadZipFile(
                f"the archive lists {end_record[zipfile._ECD_ENTRIES_TOTAL]:,} members, more than {MAX_ZIP_MEMBERS:,}: not read")
        members = _plain_directory(self.file, end_record)
        if members is None:
            members = [m for m in self.zip_file.infolist() if not m.is_dir()]
        if sum(map(attrgetter("compress_size"), members)) > archive_bytes:
            raise zipfile.BadZipFile("the members overlap (their compressed sizes add up to more than the archive): "
                                     "not read (a zip bomb?)")
        # A name may repeat in an archive; positions must not (zipfile reads a member by its
        # orig_filename, which stays as it was).
        names = list(map(attrgetter("filename"), members))
        if len(set(names)) == len(names):
            return members
        seen: set[str] = set()
        for number, member in enumerate(members, 1):
            if member.filename in seen:
                renamed = f"{member.filename} (entry {number})"
                if isinstance(member, MemberEntry):
                    members[number - 1] = member = member._replace(filename=renamed)
                else:
                    member.filename = renamed
            seen.add(member.filename)
        return members

    @property
    def members(self) -> list[MemberEntry] | list[zipfile.ZipInfo]:
        if self._members is None:
            self._members = self._directory()
        return self._members

    @property
    def zip_file(self) -> zipfile.ZipFile:
        if self._zip_file is None:
            self._zip_file = zipfile.ZipFile(self.file)
        return self._zip_file

    def __enter__(self) -> "ZipMembers":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        if self._zip_file is not None:
            self._zip_file.close()
        if self._owned is not None:
            self._owned.close()

    def read(self, start: int = 0, stop: int | None = None) -> Iterator[ReadItem]:
        """The items of members ``start`` to ``stop`` (exclusive), in archive order."""
        return self.read_entries(self.members[start:stop])

    def read_entries(self, entries: list[zipfile.ZipInfo] | list[MemberEntry]) -> Iterator[ReadItem]:
        """The items of the members whose directory entries are given, in their order."""
        for member in entries:
            yield from _read_member(self, member)

    def _zip_info(self, member: zipfile.ZipInfo | MemberEntry) -> zipfile.ZipInfo:
        """The ZipInfo of a member, found by where it starts (names may repeat in an archive)."""
        if isinstance(member, zipfile.ZipInfo):
            return member
        if self._by_offset is None:
            self._by_offset = {m.header_offset: m for m in self.zip_file.infolist()}
        return self._by_offset[member.header_offset]

    def member_bytes(self, member: zipfile.ZipInfo | MemberEntry, limit: int) -> bytes:
        """Up to `limit` bytes of a member, checked against its size and CRC as zipfile checks them.

        Deflated and stored members are read here, inflated by ISA-L (30 µs for a 17 KB study where
        zipfile's reader took 75 µs); zipfile reads the rest (encrypted, bzip2, LZMA). A member may
        inflate to INFLATE_RATIO times its compressed size at most (LimitExceeded), and no further
        than one byte past the size its entry states, so a bomb costs no more than that.
        """
        allowed = inflate_limit(member.compress_size, MEMBER_INFLATE_FLOOR)
        if member.file_size > allowed:
            raise LimitExceeded(inflate_error("the zip member", allowed))
        limit = min(limit, member.file_size + 1)
        if member.flag_bits & 0x1 or member.compress_type not in (zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED):
            with self.zip_file.open(self._zip_info(member)) as stream:
                data = stream.read(limit)
            if len(data) > member.file_size:
                raise zipfile.BadZipFile(f"Bad size for file {member.filename!r}")
            return data
        self.file.seek(member.header_offset)
        header = self.file.read(_LOCAL_HEADER.size)
        if len(header) != _LOCAL_HEADER.size or header[:4] != zipfile.stringFileHeader:
            raise zipfile.BadZipFile("Bad magic number for file header")
        _, name_length, extra_length = _LOCAL_HEADER.unpack(header)
        self.file.seek(name_length + extra_length, io.SEEK_CUR)
        inflater = isal_zlib.decompressobj(-15) if member.compress_type == zipfile.ZIP_DEFLATED else None
        data = b""
        unread = member.compress_size
        # In pieces, so that a huge member costs no more memory than `limit` (a study is one piece).
        while unread and len(data) < limit:
            piece = self.file.read(min(unread, READ_BUFFER_BYTES))
            if not piece:
                raise EOFError(f"member {member.filename!r} ends before its {member.compress_size} bytes")
            unread -= len(piece)
            piece = piece[: limit - len(data)] if inflater is None else inflater.decompress(piece, limit - len(data))
            data = data + piece if data else piece
        if len(data) > member.file_size:  # more than its entry says: stopped one byte past it
            raise zipfile.BadZipFile(f"Bad size for file {member.filename!r}")
        if inflater is not None and len(data) < limit and not inflater.eof:
            raise EOFError("Compressed file ended before the end-of-stream marker was reached")
        if len(data) < limit:  # read whole: its size and checksum can be checked
            if len(data) != member.file_size:
                raise zipfile.BadZipFile(f"Bad size for file {member.filename!r}")
            if isal_zlib.crc32(data) != member.CRC:
                raise zipfile.BadZipFile(f"Bad CRC-32 for file {member.filename!r}")
        return data


def _read_member(archive: ZipMembers, member: zipfile.ZipInfo | MemberEntry) -> Iterator[ReadItem]:
    position = f"member {member.filename}"
    try:
        data = archive.member_bytes(member, MAX_MEMBER_BYTES + 1)
    except LimitExceeded as error:
        yield ReadError(position, str(error), "")
        return
    except _ZIP_MEMBER_FAILURES as error:
        yield ReadError(position, f"unreadable zip member: {error}", "")
        return
    if len(data) > MAX_MEMBER_BYTES:
        yield ReadError(position, f"zip member larger than {mib(MAX_MEMBER_BYTES)}", "")
        return
    form = sniff_form(data)
    if form in (ZIP, GZIP):
        yield ReadError(position, f"{form} inside zip is not supported", "")
        return
    if form == UTF16:
        transcoded = transcode_utf16(data, position)
        if isinstance(transcoded, ReadError):
            yield transcoded
            return
        data, form = transcoded, sniff_form(transcoded)
    if form == EMPTY:
        yield empty_document_error(position)
    elif form == JSON:
        yield from read_json_bytes(data, position).items
    elif form == XML:
        # AllPublicXML: the registry's retired bulk download, one <clinical_study> file per study.
        from pipeline.documents.legacy_xml import read_legacy_xml

        yield from read_legacy_xml(data, position)
    else:
        bad_byte = first_non_utf8_byte(data)
        if bad_byte is not None:
            yield not_utf8_error(data, bad_byte, join_position(position, f"byte {bad_byte}"))
        else:
            yield ReadError(position, f"zip member is neither JSON nor XML (starts with {data[:48]!r})", excerpt_at(data, 0))


class _Line(NamedTuple):
    number: int  # 1-based, counting blank lines
    offset: int  # of the line's first byte in the document
    content: bytes | bytearray | None  # None: longer than MAX_RECORD_BYTES, skipped rather than held
    past_last: bool = False  # the first line of content past MAX_LINES: it and the rest are not read


def _non_blank_lines(
    stream: IO[bytes], number: int = 1, offset: int = 0, size: int | None = None, limit: int | None = None,
) -> Iterator[_Line]:
    """The lines of a stream that hold more than whitespace, read in pieces of READ_BUFFER_BYTES.

    Runs of whitespace are skipped at C speed, however long, and never held; a line longer than
    ``limit`` is read to its end without being held (its content is None). ``number`` and
    ``offset`` are those of the stream's first line and byte, ``size`` how many bytes to read
    (None: to the end). A byte order mark at the document's start is not content.
    """
    limit = MAX_RECORD_BYTES if limit is None else limit
    remaining = size
    n_content = 0  # lines of content yielded, against MAX_LINES
    # A piece at a time, so that what came before a corrupt part of a stream is read.
    read_piece = getattr(stream, "read1", stream.read)

    def read() -> bytes:
        nonlocal remaining
        wanted = READ_BUFFER_BYTES if remaining is None else min(READ_BUFFER_BYTES, remaining)
        piece = read_piece(wanted) if wanted > 0 else b""
        if remaining is not None:
            remaining -= len(piece)
        return piece

    buffer = read()
    base = offset  # the document offset of buffer[0]
    position = len(UTF8_BOM) if offset == 0 and buffer.startswith(UTF8_BOM) else 0
    while buffer:
        content = _CONTENT_BYTE.search(buffer, position)
        if content is None:
            number += buffer.count(b"\n", position)
            base += len(buffer)
            buffer, position = read(), 0
            continue
        start = content.start()
        number += buffer.count(b"\n", position, start)
        if n_content >= MAX_LINES:
            yield _Line(number, base + start, None, past_last=True)
            return
        n_content += 1
        end = buffer.find(b"\n", start)
        if end >= 0:
            yield _Line(number, base + start, buffer[start : end + 1] if end + 1 - start <= limit else None)
            number, position = number + 1, end + 1
            continue
        # The line runs on past the buffer: gathered piece by piece (into one growing buffer,
        # which orjson parses as it is: no joined copy), or skipped once too long.
        line_offset = base + start
        gathered: bytearray | None = bytearray(memoryview(buffer)[start:])
        base += len(buffer)
        buffer, position = b"", 0
        while piece := read():
            newline = piece.find(b"\n")
            tail = piece if newline < 0 else memoryview(piece)[: newline + 1]
            if gathered is not None:
                gathered += tail
                if len(gathered) > limit:
                    gathered = None
            if newline >= 0:
                buffer, position = piece, newline + 1
                break
            base += len(piece)
        yield _Line(number, line_offset, gathered)
        gathered = None
        number += 1


def _parse_alone(content: bytes | None) -> Any:
    if content is None or parse_cost_error(content, "") is not None:
        return _NOT_PARSED
    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError:
        return _NOT_PARSED


def _line_refusal(line: _Line) -> str | None:
    """Why a line is not parsed at all: past the last line read, too long, or too costly to
    parse; None when it may be."""
    if line.past_last:
        return (f"not read from this line on: a document is read to {MAX_LINES:,} lines of content at most "
                "(the whole registry is under a million studies, one a line)")
    if line.content is None:
        return f"line longer than {mib(MAX_RECORD_BYTES)}: not read"
    return parse_cost_error(line.content, "line")


def _ndjson_items(
    first: _Line, first_value: dict | None, following: _Line, lines: Iterator[_Line], prefix: str, stream: IO[bytes]
) -> Iterator[ReadItem]:
    try:
        if first_value is None:
            yield from _ndjson_line(first, prefix)
        else:
            yield from studies_in(first_value, join_position(prefix, f"line {first.number}"))
        yield from _ndjson_line(following, prefix)
        for line in lines:
            yield from _ndjson_line(line, prefix)
    finally:
        stream.close()


def ndjson_line_ranges(path: Path, range_bytes: int) -> list[tuple[int, int, int]] | None:
    """For an NDJSON file, consecutive ranges of its lines of about ``range_bytes`` each, as
    (start byte, stop byte, number of the range's first line), so that one big file can be shared
    out among processes; None for a document ``read_json_stream`` would not read as NDJSON."""
    with open_regular(path, buffering=READ_BUFFER_BYTES) as file:
        lines = _non_blank_lines(file)
        first = next(lines, None)
        if first is None or not isinstance(_parse_alone(first.content), dict) or next(lines, None) is None:
            return None
    ranges: list[tuple[int, int, int]] = []
    start = base = 0
    first_line = line_count = 1
    # A buffer, not a memory map: a mapped file counts its pages in the build's resident memory.
    buffer = bytearray(READ_BUFFER_BYTES * 8)
    with open_regular(path, buffering=0) as file:
        while n_read := file.readinto(buffer):
            position = 0
            while (end := buffer.find(b"\n", position, n_read)) >= 0:
                position = end + 1
                line_count += 1
                if base + position - start >= range_bytes:
                    ranges.append((start, base + position, first_line))
                    start, first_line = base + position, line_count
            base += n_read
    if start < base or not ranges:
        ranges.append((start, base, first_line))
    return ranges


def read_ndjson_lines(path: Path, start: int, stop: int, first_line: int) -> Iterator[ReadItem]:
    """The items of the NDJSON lines in bytes [start, stop) of a file (a range from
    ``ndjson_line_ranges``), with the positions a reading of the whole file gives them."""
    with open_regular(path, buffering=0) as file:
        file.seek(start)
        for line in _non_blank_lines(file, first_line, start, stop - start):
            yield from _ndjson_line(line, "")


def _ndjson_items_from_bytes(data: bytes, prefix: str) -> Iterator[ReadItem]:
    for line in _non_blank_lines(io.BytesIO(data)):
        yield from _ndjson_line(line, prefix)


def _ndjson_line(line: _Line, prefix: str) -> Iterator[ReadItem]:
    position = join_position(prefix, f"line {line.number}")
    refusal = _line_refusal(line)
    if refusal is not None:
        yield ReadError(position, refusal, "" if line.content is None else excerpt_at(line.content, 0))
        return
    try:
        value = orjson.loads(line.content)
    except orjson.JSONDecodeError as error:
        yield _line_error(line, error, position)
        return
    yield from studies_in(value, position, line.content)


def _line_error(line: _Line, error: orjson.JSONDecodeError, position: str) -> ReadError:
    bad_byte = first_non_utf8_byte(line.content)
    if bad_byte is not None:
        return not_utf8_error(line.content, bad_byte, position, data_offset=line.offset)
    byte_in_line = _byte_offset(error)
    kind = _error_kind(error)
    return ReadError(
        position,
        f"{kind}: {error.msg} (column {error.colno}, byte {line.offset + byte_in_line})",
        excerpt_at(line.content, byte_in_line),
    )


def _read_whole(data: bytes, prefix: str) -> DocumentReading:
    bom = len(UTF8_BOM) if data.startswith(UTF8_BOM) else 0
    body = memoryview(data)[bom:]
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        if _is_ndjson_with_bad_first_line(data):
            return DocumentReading(NDJSON, _ndjson_items_from_bytes(data, prefix))
        return DocumentReading(JSON, iter([_whole_document_error(data, bom, error, prefix)]))
    return DocumentReading(json_shape(value), studies_in(value, prefix))


def _is_ndjson_with_bad_first_line(data: bytes) -> bool:
    """Whether a document that failed to parse whole is NDJSON whose first line is broken.

    Only consulted after the whole parse failed, because a valid pretty-printed page may
    hold a compact study on its second line. A pretty-printed object's second line is a
    ``"key": value`` pair, which never parses alone as an object.
    """
    lines = _non_blank_lines(io.BytesIO(data))
    first = next(lines, None)
    second = next(lines, None)
    return (
        first is not None
        and second is not None
        and first.content is not None
        and first.content.lstrip().startswith(b"{")
        and isinstance(_parse_alone(second.content), dict)
    )


def _whole_document_error(data: bytes, bom: int, error: orjson.JSONDecodeError, prefix: str) -> ReadError:
    bad_byte = first_non_utf8_byte(memoryview(data)[bom:])
    if bad_byte is not None:
        return not_utf8_error(data, bom + bad_byte, join_position(prefix, f"byte {bom + bad_byte}"))
    byte_offset = bom + _byte_offset(error)
    return ReadError(
        join_position(prefix, f"line {error.lineno}, column {error.colno} (byte {byte_offset})"),
        f"{_error_kind(error)}: {error.msg}",
        excerpt_at(data, byte_offset),
    )


def _byte_offset(error: orjson.JSONDecodeError) -> int:
    # orjson reports a character offset into the decoded text; positions promise bytes.
    return len(error.doc[: error.pos].encode("utf-8"))


def _error_kind(error: orjson.JSONDecodeError) -> str:
    at_end = error.pos >= len(error.doc.rstrip())
    return "truncated JSON" if at_end or "end of data" in error.msg else "malformed JSON"


def _is_page(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("studies"), list) and "protocolSection" not in value
