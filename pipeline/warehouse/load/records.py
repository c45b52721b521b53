"""Study records: where each sits, its version, and which version of a study is current.

A study can appear in several documents. The current version is the record with the latest
lastUpdatePostDate; ties go to the later document path, then the later record in it. Because
that rule depends only on what the folder holds, never on what was read when, an incremental
build (which reads only new and changed documents) gives exactly the tables a full build gives.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import orjson


def canonical_hash(canonical: bytes) -> str:
    """A record's version: BLAKE2b-128 of its canonical JSON (orjson's serialization)."""
    return hashlib.blake2b(canonical, digest_size=16).hexdigest()


_LAST_UPDATE = ("protocolSection", "statusModule", "lastUpdatePostDateStruct", "date")


def last_update_post_date(study: dict) -> str:
    """The record's lastUpdatePostDate as text ("" when absent): a number or boolean as its JSON
    text, as the studies table's text column holds it."""
    value: Any = study
    for key in _LAST_UPDATE:
        value = value.get(key) if isinstance(value, dict) else None
    if value is None or isinstance(value, (dict, list)):
        return ""
    return value if isinstance(value, str) else orjson.dumps(value).decode()


def update_key(raw: str) -> str:
    # A month-only date sorts after every day of that month.
    return raw + "-99" if len(raw) == 7 else raw


# The same rule as RecordVersion.precedence, for SQL over study_records.
PRECEDENCE_SQL = (
    "case when length(coalesce(last_update_post_date_raw, '')) = 7 then last_update_post_date_raw || '-99' "
    "else coalesce(last_update_post_date_raw, '') end desc, document_path desc, record_index desc"
)


@dataclass(frozen=True, slots=True)
class RecordVersion:
    """Where one study record sits, and what decides whether it is the current version."""

    nct_id: str
    document_path: str
    record_index: int
    position: str
    last_update_post_date: str
    record_hash: str
    # Which range of its document's members the record was read in, when a big zip is shared out
    # among workers; record_index then counts from the range's start (see DocumentPart).
    part: int = 0

    @property
    def precedence(self) -> tuple[str, str, int, int]:
        return (update_key(self.last_update_post_date), self.document_path, self.part, self.record_index)

    def row(self) -> tuple:
        return (self.nct_id, self.document_path, self.record_index, self.position,
                self.last_update_post_date or None, self.record_hash, None)
