"""Read any ClinicalTrials.gov study document into canonical studies and error rows.

``read_document(path)`` and ``read_bytes(data, name)`` detect a document's form from its
content (never its name) and return a ``DocumentReading``: the form, and a lazy stream of
``StudyRecord`` / ``ReadError`` items, each with the position it came from.

===================  ===========================================  ==========================
form                 content                                      positions
===================  ===========================================  ==========================
``json_study``       one API v2 study object                      ``""``
``json_list``        a JSON array of studies                      ``[0]``, ``[1]``, ...
``json_page``        an API page ``{"studies": [...], ...}``      ``studies[0]``, ...
``ndjson``           one study per line                           ``line 1``, ``line 2``, ...
``json``             JSON that did not parse, shape unknown       ``line L, column C (byte B)``
``zip``              a zip of JSON or XML files                   ``member NAME[, inner]``
``registry_export``  text header and a Python-literal record      ``""``; errors ``line L``
``study_page``       a rendered study page                        as the page reader says
``legacy_xml``       one ``<clinical_study>`` XML record          ``""``; errors ``line L, column C``
``FORM+gzip``        any form above, gzip-compressed              as the inner form
``gzip``             gzip that could not be decompressed          ``""``
``empty``            nothing but whitespace                       ``""``
``unknown``          none of the above                            ``""``
===================  ===========================================  ==========================

Documents must be UTF-8 (a BOM is allowed), or UTF-16 with a byte order mark; a bad byte
is reported as ``wrong encoding: not UTF-8 (byte offset N)``.

Whatever a document holds, reading it costs bounded memory (``bounds``): only regular files
are opened, compressed data inflates through a bound, whitespace is skipped in pieces, and
what is read whole is capped, each with an error that says which bound was hit.
"""
from __future__ import annotations

import gzip
import io
import os
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

from pipeline.documents import detect
from pipeline.documents.api_json import READ_BUFFER_BYTES, read_json_stream, read_zip
from pipeline.documents.bounds import (
    GZIP_INFLATE_FLOOR,
    MIB,
    LimitExceeded,
    bounded_inflation,
    inflate_limit,
    mib,
    open_regular,
    read_at_most,
)
from pipeline.documents.legacy_xml import LEGACY_XML, read_legacy_xml
from pipeline.documents.model import DocumentReading, ReadError, ReadItem, StudyRecord

__all__ = ["DocumentReading", "ReadError", "ReadItem", "StudyRecord", "read_bytes", "read_document"]

# Text forms (and XML records) are single studies of a few hundred KiB; the cap only stops a stray huge file
# from being pulled into memory. It leaves room for the largest registry-export literal.
MAX_TEXT_DOCUMENT_BYTES = 80 * MIB
# A rendered page carries less than the JSON (no results): real ones are under 100 KiB, and the
# page reader holds one string per block, so a page of many tiny blocks must stay small.
MAX_STUDY_PAGE_BYTES = 16 * MIB
# Read whole to be transcoded; a collection of studies belongs in UTF-8 NDJSON.
MAX_UTF16_DOCUMENT_BYTES = 64 * MIB
# zipfile must seek, which a gzip stream can't do cheaply: a gzipped zip is held in memory.
MAX_GZIPPED_ZIP_BYTES = 256 * MIB

_GZIP_FAILURES = (EOFError, zlib.error, gzip.BadGzipFile, LimitExceeded)


def read_document(path: str | Path) -> DocumentReading:
    """Read the document at ``path``; large files stream (zip members, NDJSON lines)."""
    path = Path(path)
    file = open_regular(path, buffering=READ_BUFFER_BYTES)
    try:
        head = file.read(detect.HEAD_BYTES)
        form = detect.sniff_form(head)
        if form == detect.ZIP:
            file.close()
            return DocumentReading(detect.ZIP, read_zip(path))
        file.seek(0)
        if form == detect.GZIP:
            return _read_gzip(file, os.fstat(file.fileno()).st_size)
        return _read_uncompressed(form, head, file, whole=None)
    except BaseException:
        file.close()
        raise


def read_bytes(data: bytes, name: str) -> DocumentReading:
    """Read a document held in memory. ``name`` only labels it for the caller; the form is
    never inferred from it."""
    del name
    form = detect.sniff_form(data)
    if form == detect.ZIP:
        return DocumentReading(detect.ZIP, read_zip(io.BytesIO(data)))
    if form == detect.GZIP:
        return _read_gzip(io.BytesIO(data), len(data))
    return _read_uncompressed(form, data, io.BytesIO(data), whole=lambda: data)


def _read_uncompressed(
    form: str, head: bytes, stream: IO[bytes], whole: Callable[[], bytes] | None
) -> DocumentReading:
    """Read a stream whose form was sniffed from ``head``; closes the stream when done.

    ``whole`` gives the entire document when it is already in memory (then ``head`` is the
    whole document too); otherwise the stream, positioned at its start, is read.
    """
    if form == detect.JSON:
        return read_json_stream(stream, whole=whole)
    if form == detect.EMPTY and whole is None and len(head) >= detect.HEAD_BYTES:
        # Whitespace filled the head; any content starts further on, found in bounded pieces.
        content_head = _head_after_whitespace(stream)
        if content_head is not None:
            stream.seek(0)
            inner_form = detect.sniff_form(content_head)
            # An archive's or a byte order mark's signature counts only at the document's start.
            if inner_form in (detect.ZIP, detect.GZIP, detect.UTF16):
                inner_form = detect.UNKNOWN
            return _read_uncompressed(inner_form, content_head, stream, whole=None)
    if form == detect.UTF16:
        data = _read_all(stream, whole, limit=MAX_UTF16_DOCUMENT_BYTES + 1)
        if len(data) > MAX_UTF16_DOCUMENT_BYTES:
            return DocumentReading(form, iter([_too_large("UTF-16 document", MAX_UTF16_DOCUMENT_BYTES, data,
                                                          "(write it as UTF-8)")]))
        transcoded = detect.transcode_utf16(data)
        del data
        if isinstance(transcoded, ReadError):
            return DocumentReading(form, iter([transcoded]))
        inner_form = detect.sniff_form(transcoded)
        if inner_form in (detect.ZIP, detect.GZIP, detect.UTF16):
            return DocumentReading(detect.UNKNOWN, iter([detect.unknown_form_error(head)]))
        return _read_uncompressed(inner_form, transcoded, io.BytesIO(transcoded), whole=lambda: transcoded)
    if form == detect.XML:
        data = _read_all(stream, whole, limit=MAX_TEXT_DOCUMENT_BYTES + 1)
        if len(data) > MAX_TEXT_DOCUMENT_BYTES:
            return DocumentReading(LEGACY_XML, iter([_too_large(f"{LEGACY_XML} document", MAX_TEXT_DOCUMENT_BYTES, data)]))
        return DocumentReading(LEGACY_XML, read_legacy_xml(data))
    if form in (detect.REGISTRY_EXPORT, detect.STUDY_PAGE):
        limit = MAX_TEXT_DOCUMENT_BYTES if form == detect.REGISTRY_EXPORT else MAX_STUDY_PAGE_BYTES
        data = _read_all(stream, whole, limit=limit + 1)
        if len(data) > limit:
            return DocumentReading(form, iter([_too_large(f"{form} document", limit, data)]))
        return DocumentReading(form, _read_text_form(form, data))
    stream.close()
    if form == detect.EMPTY:
        return DocumentReading(form, iter([detect.empty_document_error()]))
    return DocumentReading(detect.UNKNOWN, iter([detect.unknown_form_error(head)]))


def _too_large(what: str, limit: int, data: bytes, advice: str = "") -> ReadError:
    return ReadError("", f"{what} larger than {mib(limit)}: not read" + (f" {advice}" if advice else ""),
                     detect.excerpt_at(data, 0))


def _head_after_whitespace(stream: IO[bytes]) -> bytes | None:
    """The first HEAD_BYTES of content after leading whitespace, read and dropped in pieces of
    HEAD_BYTES (a document of gigabytes of spaces costs no memory); None if there is none."""
    while piece := stream.read(detect.HEAD_BYTES):
        content = detect.first_content_byte(piece)
        if content is not None:
            return piece[content:] + stream.read(content)
    return None


def _read_all(stream: IO[bytes], whole: Callable[[], bytes] | None, limit: int) -> bytes:
    try:
        return whole() if whole is not None else stream.read(limit)
    finally:
        stream.close()


def _read_text_form(form: str, data: bytes) -> Iterator[ReadItem]:
    text = detect.decode_utf8(data)
    if isinstance(text, ReadError):
        yield text
        return
    if form == detect.REGISTRY_EXPORT:
        from pipeline.documents.registry_export import read_registry_export

        yield from read_registry_export(text)
    else:
        # Imported here so the other forms stay readable while the page reader changes.
        from pipeline.documents.study_page import read_study_page

        yield from read_study_page(text)


def _read_gzip(compressed: IO[bytes], compressed_bytes: int) -> DocumentReading:
    """Read a gzip stream by detecting and reading the form inside it, decompressing as it goes,
    through a bound: it may inflate to INFLATE_RATIO times its size (at least GZIP_INFLATE_FLOOR).

    ``compressed`` is closed together with the decompressed stream.
    """
    limit = inflate_limit(compressed_bytes, GZIP_INFLATE_FLOOR)
    stream = bounded_inflation(gzip.GzipFile(fileobj=compressed, mode="rb"), limit, "the gzip document", READ_BUFFER_BYTES)

    def close() -> None:
        stream.close()
        compressed.close()

    try:
        head = stream.read(detect.HEAD_BYTES)
        inner_form = detect.sniff_form(head)
        if inner_form == detect.GZIP:
            close()
            return DocumentReading(detect.GZIP, iter([ReadError("", "gzip inside gzip is not supported", "")]))
        if inner_form == detect.ZIP:
            # zipfile needs to seek, which a gzip stream does only by re-decompressing.
            data = head + read_at_most(stream, MAX_GZIPPED_ZIP_BYTES - len(head))
            close()
            if len(data) > MAX_GZIPPED_ZIP_BYTES:
                return DocumentReading(f"{detect.ZIP}+gzip", iter([_too_large(
                    "zip inside gzip", MAX_GZIPPED_ZIP_BYTES, b"", "(unpack the gzip; a zip needs no gzip around it)")]))
            return DocumentReading(f"{detect.ZIP}+gzip", read_zip(io.BytesIO(data)))
        stream.seek(0)
        inner = _read_uncompressed(inner_form, head, stream, whole=None)
    except _GZIP_FAILURES as error:
        close()
        return DocumentReading(detect.GZIP, iter([_gzip_error(error)]))
    except BaseException:
        close()
        raise
    return DocumentReading(f"{inner.form}+gzip", _guard_gzip(inner.items, close))


def _guard_gzip(items: Iterator[ReadItem], close: Callable[[], None]) -> Iterator[ReadItem]:
    """Pass items through; a stream that turns out corrupt, cut short or a bomb mid-way yields
    an error after the items it did hold."""
    try:
        yield from items
    except _GZIP_FAILURES as error:
        yield _gzip_error(error)
    finally:
        close()


def _gzip_error(error: BaseException) -> ReadError:
    if isinstance(error, LimitExceeded):
        return ReadError("", str(error), "")
    kind = "truncated gzip" if isinstance(error, EOFError) else "corrupt gzip"
    return ReadError("", f"{kind}: {error}", "")
