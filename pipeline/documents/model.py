"""What every reader yields: canonical studies (the API v2 study structure) or error rows."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterator, Union

NCT_ID_PATTERN = re.compile(r"^NCT\d{8}$")
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


ReadItem = Union[StudyRecord, ReadError]


@dataclass(slots=True)
class DocumentReading:
    """A document's detected form and the lazy stream of what it holds."""

    form: str
    items: Iterator[ReadItem]


def excerpt_of(text: str | bytes, at: int = 0) -> str:
    """A short, printable window of the source around byte/char offset `at`."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    start = max(0, at - EXCERPT_CHARS // 2)
    return text[start : start + EXCERPT_CHARS]


def check_study(obj: Any, position: str, excerpt_source: str | bytes = "") -> ReadItem:
    """Accept an object as a canonical study only if it carries a well-formed NCT id."""
    if not isinstance(obj, dict):
        return ReadError(position, f"expected a study object, found {type(obj).__name__}", excerpt_of(excerpt_source or repr(obj)))
    nct_id = (
        obj.get("protocolSection", {}).get("identificationModule", {}).get("nctId")
        if isinstance(obj.get("protocolSection"), dict) and isinstance(obj["protocolSection"].get("identificationModule"), dict)
        else None
    )
    if not isinstance(nct_id, str) or not nct_id:
        return ReadError(position, "record has no NCT id (protocolSection.identificationModule.nctId)", excerpt_of(excerpt_source or repr(obj)))
    if not NCT_ID_PATTERN.match(nct_id):
        return ReadError(position, f"malformed NCT id {nct_id!r}", excerpt_of(excerpt_source or repr(obj)))
    return StudyRecord(obj, position)
