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
"""
from __future__ import annotations

import gzip
import io
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

from pipeline.documents import detect
from pipeline.documents.api_json import READ_BUFFER_BYTES, read_json_stream, read_zip
from pipeline.documents.legacy_xml import LEGACY_XML, read_legacy_xml
from pipeline.documents.model import DocumentReading, ReadError, ReadItem, StudyRecord

__all__ = ["DocumentReading", "ReadError", "ReadItem", "StudyRecord", "read_bytes", "read_document"]

# Text forms (and XML records) are single studies of a few hundred KiB; the cap only stops a stray huge file
# from being pulled into memory. It leaves room for the largest registry-export literal.
MAX_TEXT_DOCUMENT_BYTES = 80 * 1024 * 1024


_GZIP_FAILURES = (EOFError, zlib.error, gzip.BadGzipFile)


def read_document(path: str | Path) -> DocumentReading:
    """Read the document at ``path``; large files stream (zip members, NDJSON lines)."""
    path = Path(path)
    file = open(path, "rb", buffering=READ_BUFFER_BYTES)
    try:
        head = file.read(detect.HEAD_BYTES)
        form = detect.sniff_form(head)
        if form == detect.ZIP:
            file.close()
            return DocumentReading(detect.ZIP, read_zip(path))
        file.seek(0)
        if form == detect.GZIP:
            return _read_gzip(gzip.GzipFile(fileobj=file, mode="rb"), closing=file)
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
        return _read_gzip(gzip.GzipFile(fileobj=io.BytesIO(data), mode="rb"))
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
        # Whitespace filled the head; any content starts further on.
        data = _read_all(stream, whole)
        return _read_uncompressed(detect.sniff_form(data), data, io.BytesIO(data), whole=lambda: data)
    if form == detect.UTF16:
        transcoded = detect.transcode_utf16(_read_all(stream, whole))
        if isinstance(transcoded, ReadError):
            return DocumentReading(form, iter([transcoded]))
        inner_form = detect.sniff_form(transcoded)
        if inner_form in (detect.ZIP, detect.GZIP, detect.UTF16):
            return DocumentReading(detect.UNKNOWN, iter([detect.unknown_form_error(head)]))
        return _read_uncompressed(inner_form, transcoded, io.BytesIO(transcoded), whole=lambda: transcoded)
    if form == detect.XML:
        data = _read_all(stream, whole, limit=MAX_TEXT_DOCUMENT_BYTES + 1)
        if len(data) > MAX_TEXT_DOCUMENT_BYTES:
            return DocumentReading(LEGACY_XML, iter([_too_large(LEGACY_XML, data)]))
        return DocumentReading(LEGACY_XML, read_legacy_xml(data))
    if form in (detect.REGISTRY_EXPORT, detect.STUDY_PAGE):
        data = _read_all(stream, whole, limit=MAX_TEXT_DOCUMENT_BYTES + 1)
        if len(data) > MAX_TEXT_DOCUMENT_BYTES:
            return DocumentReading(form, iter([_too_large(form, data)]))
        return DocumentReading(form, _read_text_form(form, data))
    stream.close()
    if form == detect.EMPTY:
        return DocumentReading(form, iter([detect.empty_document_error()]))
    return DocumentReading(detect.UNKNOWN, iter([detect.unknown_form_error(head)]))


def _too_large(form: str, data: bytes) -> ReadError:
    limit_mib = MAX_TEXT_DOCUMENT_BYTES // (1024 * 1024)
    return ReadError("", f"{form} document larger than {limit_mib} MiB", detect.excerpt_at(data, 0))


def _read_all(stream: IO[bytes], whole: Callable[[], bytes] | None, limit: int = -1) -> bytes:
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


def _read_gzip(stream: gzip.GzipFile, closing: IO[bytes] | None = None) -> DocumentReading:
    """Read a gzip stream by detecting and reading the form inside it, decompressing as it goes.

    ``closing`` is the underlying file, closed together with the gzip stream.
    """

    def close() -> None:
        stream.close()
        if closing is not None:
            closing.close()

    try:
        head = stream.read(detect.HEAD_BYTES)
        inner_form = detect.sniff_form(head)
        if inner_form == detect.GZIP:
            close()
            return DocumentReading(detect.GZIP, iter([ReadError("", "gzip inside gzip is not supported", "")]))
        if inner_form == detect.ZIP:
            # zipfile needs to seek, which a gzip stream does only by re-decompressing.
            archive = io.BytesIO(head + stream.read())
            close()
            return DocumentReading(f"{detect.ZIP}+gzip", read_zip(archive))
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
    """Pass items through; a stream that turns out corrupt or cut short mid-way yields an
    error after the items it did hold."""
    try:
        yield from items
    except _GZIP_FAILURES as error:
        yield _gzip_error(error)
    finally:
        close()


def _gzip_error(error: BaseException) -> ReadError:
    kind = "truncated gzip" if isinstance(error, EOFError) else "corrupt gzip"
    return ReadError("", f"{kind}: {error}", "")
