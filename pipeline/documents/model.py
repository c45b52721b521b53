"""What every reader yields: canonical studies (the API v2 study structure) or error rows."""
from __future__ import annotations

import re
import reprlib
from dataclasses import dataclass
from typing import Any, Iterator, Union

# Exactly NCT and 8 ASCII digits, matched whole (fullmatch): \d takes any script's digits and
# $ matches before a final newline.
NCT_ID_PATTERN = re.compile(r"NCT[0-9]{8}")
EXCERPT_CHARS = 200


@dataclass(frozen=True, slots=True)
class StudyRecord:
    """One study in canonical form, and where in its document it was found."""

    study: dict[str, Any]
    position: str  # "" for a whole-document study, else e.g. "line 7", "member NCT01.json", "studies[3]"

    @property
    def nct_id(self) -> str:
        return self.study["protocolSection"]["identificationModule"]["nctId"]


@dataclass(frozen=True, slots=True)
class ReadError:
    """A document, or one record inside it, that could not be read."""

    position: str
    reason: str
    excerpt: str
    nct_id: str | None = None  # the study's id, when the record names a well-formed one


ReadItem = Union[StudyRecord, ReadError]


@dataclass(slots=True)
class DocumentReading:
    """A document's detected form and the lazy stream of what it holds."""

    form: str
    items: Iterator[ReadItem]


def excerpt_of(text: str | bytes | bytearray | memoryview, at: int = 0) -> str:
    """A short, printable window of the source around byte/char offset `at` (only the window is
    decoded, never the whole source)."""
    start = max(0, at - EXCERPT_CHARS // 2)
    if not isinstance(text, str):
        # Bytes (a line gathered into a bytearray too). Up to 4 bytes a character: the window's
        # bytes hold at least its characters.
        return bytes(text[start : start + 4 * EXCERPT_CHARS]).decode("utf-8", errors="replace")[:EXCERPT_CHARS]
    return text[start : start + EXCERPT_CHARS]


# A value's excerpt shows its opening; repr() of a whole record (which may be huge) is never made.
_SHORT_REPR = reprlib.Repr()
_SHORT_REPR.maxlevel, _SHORT_REPR.maxdict, _SHORT_REPR.maxlist, _SHORT_REPR.maxstring = 4, 6, 6, 80
_SHORT_REPR.maxother = 80


def short_repr(value: Any) -> str:
    """repr() of a value cut to a few of its items and characters, made in bounded time."""
    return _SHORT_REPR.repr(value)


def check_study(obj: Any, position: str, excerpt_source: str | bytes = "") -> ReadItem:
    """Accept an object as a canonical study only if it carries a well-formed NCT id."""
    if not isinstance(obj, dict):
        return ReadError(position, f"expected a study object, found {type(obj).__name__}", excerpt_of(excerpt_source or short_repr(obj)))
    nct_id = (
        obj.get("protocolSection", {}).get("identificationModule", {}).get("nctId")
        if isinstance(obj.get("protocolSection"), dict) and isinstance(obj["protocolSection"].get("identificationModule"), dict)
        else None
    )
    if not isinstance(nct_id, str) or not nct_id:
        return ReadError(position, "record has no NCT id (protocolSection.identificationModule.nctId)", excerpt_of(excerpt_source or short_repr(obj)))
    if not NCT_ID_PATTERN.fullmatch(nct_id):
        return ReadError(position, f"malformed NCT id {short_repr(nct_id)}", excerpt_of(excerpt_source or short_repr(obj)))
    return StudyRecord(obj, position)
