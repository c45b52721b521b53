"""Which form a document takes, judged from its opening bytes, and whether its text decodes.

A document's form is never taken from its file name: bulk downloads, API dumps and
hand-saved pages arrive under arbitrary names, so only the content is trusted.

Forms told apart here:

- ``zip``: a ZIP archive (``PK\\x03\\x04``), e.g. the registry's ``ctg-studies.json.zip``.
- ``gzip``: a gzip stream (``\\x1f\\x8b``); the caller detects the form inside it.
- ``json``: after an optional BOM and whitespace, ``{`` or ``[``; ``api_json`` tells the
  JSON shapes apart.
- ``xml``: after an optional BOM and whitespace, an XML declaration (``<?xml``), or markup
  whose head holds a ``<clinical_study`` root: the registry's retired XML records.
- ``registry_export``: a text export with ``Key: value`` header lines and a ``Raw JSON``
  section holding the record as a Python literal.
- ``study_page``: a rendered study page (title, ``NCT ID:``, ``Last Updated:`` blocks and
  fixed heading/blurb pairs).
- ``utf16``: text with a UTF-16 byte order mark; re-detect after ``transcode_utf16``.
- ``empty``: nothing but whitespace.
- ``unknown``: none of the above.
"""
from __future__ import annotations

import codecs
import re

from pipeline.documents.model import ReadError, excerpt_of

ZIP = "zip"
GZIP = "gzip"
JSON = "json"
XML = "xml"
REGISTRY_EXPORT = "registry_export"
STUDY_PAGE = "study_page"
UTF16 = "utf16"
EMPTY = "empty"
UNKNOWN = "unknown"

# Enough to hold any real header block or page opening; detection never needs more.
HEAD_BYTES = 64 * 1024

UTF8_BOM = codecs.BOM_UTF8
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")  # the second is an archive with no members
_GZIP_MAGIC = b"\x1f\x8b"
_FIRST_CONTENT_BYTE = re.compile(rb"[^ \t\r\n]")

# NCT ids are ASCII digits: \d would take any script's digits.
_REGISTRY_EXPORT_OPENING = re.compile(r"\A\s*Viewing Study NCT[0-9]{8}\b")
_REGISTRY_EXPORT_MARKER = re.compile(r"^(?:Study NCT ID:[ \t]*NCT[0-9]{8}|Raw JSON)[ \t]*\r?$", re.MULTILINE)
_STUDY_PAGE_NCT_LINE = re.compile(r"NCT ID:[ \t]*NCT[0-9]{8}")
_STUDY_PAGE_HEADING_PAIR = re.compile(
    r"^Basic Information[ \t]*\r?\n(?:[ \t]*\r?\n)*Get a concise snapshot", re.MULTILINE
)
_STUDY_PAGE_NCT_BYTES = b"NCT ID:"
_XML_DECLARATION = b"<?xml"
_XML_STUDY_ROOT = b"<clinical_study"
# A page's title may wrap over a few lines before the NCT ID line.
_STUDY_PAGE_OPENING_LINES = 8


def sniff_form(head: bytes) -> str:
    """The form of a document whose first bytes are ``head`` (only ``HEAD_BYTES`` are consulted
    for text forms; a head of nothing but whitespace reads as ``empty``)."""
    if head.startswith(_ZIP_MAGICS):
        return ZIP
    if head.startswith(_GZIP_MAGIC):
        return GZIP
    if head.startswith(_UTF16_BOMS):
        return UTF16
    body_start = len(UTF8_BOM) if head.startswith(UTF8_BOM) else 0
    first_content = _FIRST_CONTENT_BYTE.search(head, body_start)
    if first_content is None:
        return EMPTY
    if head[first_content.start()] in b"{[" and head.find(_STUDY_PAGE_NCT_BYTES, body_start, HEAD_BYTES) < 0:
        # A registry export never opens with a bracket, and a study page only if an "NCT ID:" line
        # follows its title: this is JSON, found without decoding the head (for a zip member, the
        # whole study).
        return JSON
    if head[first_content.start()] == ord("<") and (
        head.startswith(_XML_DECLARATION, first_content.start()) or head.find(_XML_STUDY_ROOT, first_content.start()) >= 0
    ):
        return XML
    # A multibyte character may be cut at the end of the head; decoding errors are
    # judged later, on the whole document.
    text = head[body_start:HEAD_BYTES].decode("utf-8", errors="replace")
    # Each form's opening is checked before the looser markers found further in, and the text
    # forms' openings before JSON's: a study page's title may itself start with "[" or "{".
    if _REGISTRY_EXPORT_OPENING.match(text):
        return REGISTRY_EXPORT
    if _opens_like_study_page(text):
        return STUDY_PAGE
    if head[first_content.start()] in b"{[":
        return JSON
    if _REGISTRY_EXPORT_MARKER.search(text):
        return REGISTRY_EXPORT
    if _STUDY_PAGE_HEADING_PAIR.search(text):
        return STUDY_PAGE
    return UNKNOWN


def first_content_byte(data: bytes) -> int | None:
    """Offset of the first byte that is not whitespace, or None."""
    found = _FIRST_CONTENT_BYTE.search(data)
    return None if found is None else found.start()


def _opens_like_study_page(text: str) -> bool:
    """A title block, then ``NCT ID: NCT...``, then ``Last Updated: ...``."""
    opening = [line.strip() for line in text[:16384].splitlines() if line.strip()][:_STUDY_PAGE_OPENING_LINES]
    for index, line in enumerate(opening[1:-1], start=1):
        if _STUDY_PAGE_NCT_LINE.fullmatch(line) and opening[index + 1].startswith("Last Updated:"):
            return True
    return False


def unknown_form_error(head: bytes, position: str = "") -> ReadError:
    """The error for a document of no known form, hinting at what it starts with."""
    opening = head[:48]
    try:
        hint = repr(opening.decode("utf-8"))
    except UnicodeDecodeError:
        hint = repr(opening)
    return ReadError(position, f"unknown document form (starts with {hint})", excerpt_of(head[:400]))


def empty_document_error(position: str = "") -> ReadError:
    return ReadError(position, "empty document", "")


def decode_utf8(data: bytes, position: str = "") -> str | ReadError:
    """Text of a UTF-8 document without its BOM, or the error naming the first bad byte."""
    start = len(UTF8_BOM) if data.startswith(UTF8_BOM) else 0
    try:
        return str(memoryview(data)[start:], "utf-8")
    except UnicodeDecodeError as error:
        return not_utf8_error(data, start + error.start, position)


def not_utf8_error(data: bytes, byte_offset: int, position: str = "", data_offset: int = 0) -> ReadError:
    """The error for a bad byte at ``byte_offset`` in ``data``, which starts ``data_offset``
    bytes into its document (so a line's error names the document's byte)."""
    document_offset = data_offset + byte_offset
    return ReadError(
        position or f"byte {document_offset}",
        f"wrong encoding: not UTF-8 (byte offset {document_offset})",
        excerpt_at(data, byte_offset),
    )


def first_non_utf8_byte(data: bytes | memoryview) -> int | None:
    """Offset of the first byte that breaks UTF-8, or None when the data is valid."""
    try:
        str(data, "utf-8")
    except UnicodeDecodeError as error:
        return error.start
    return None


def transcode_utf16(data: bytes, position: str = "") -> bytes | ReadError:
    """UTF-8 bytes of a document that carries a UTF-16 byte order mark."""
    try:
        return data.decode("utf-16").encode("utf-8")
    except UnicodeDecodeError as error:
        return ReadError(
            position or f"byte {error.start}",
            f"wrong encoding: not UTF-16 despite its byte order mark (byte offset {error.start})",
            excerpt_of(data[:400]),
        )


def excerpt_at(data: bytes | memoryview, byte_offset: int) -> str:
    """An excerpt around ``byte_offset`` that decodes only a small window, not the document."""
    window_start = max(0, byte_offset - 400)
    before = bytes(data[window_start:byte_offset]).decode("utf-8", errors="replace")
    after = bytes(data[byte_offset : byte_offset + 400]).decode("utf-8", errors="replace")
    return excerpt_of(before + after, len(before))
