"""The legacy XML's leaf values in their API v2 form: codes, Yes/No flags, dates, text blocks, names.

Values repeat from study to study (statuses, types, dates), so codes and dates are remembered
once converted, in caches bounded so that a stream of distinct values cannot grow them without end.
"""
from __future__ import annotations

import re

_CACHE_LIMIT = 50_000

# API v2 spellings that are not the XML value upper-cased with underscores.
CODE_RENAMES = {
    "Both": "ALL",
    "Anticipated": "ESTIMATED",
    "Estimate": "ESTIMATED",
    "U.S. Fed": "FED",
    "N/A": "NA",
    "Unknown status": "UNKNOWN",
    "Parallel Assignment": "PARALLEL",
    "Single Group Assignment": "SINGLE_GROUP",
    "Crossover Assignment": "CROSSOVER",
    "Factorial Assignment": "FACTORIAL",
    "Sequential Assignment": "SEQUENTIAL",
    "None (Open Label)": "NONE",
    "Educational/Counseling/Training": "ECT",
    "Individual": "INDIV",
    "Other U.S. Government": "OTHER_GOV",
}
_NOT_ALPHANUMERIC = re.compile(r"[^A-Za-z0-9]+")
_codes: dict[str, str] = {}


def code(value: str | None) -> str | None:
    """The API v2 code of an XML enumeration value: ``Active, not recruiting`` ->
    ``ACTIVE_NOT_RECRUITING``, ``Phase 2`` -> ``PHASE2``, with the renames above."""
    if not value:
        return None
    found = _codes.get(value)
    if found is None:
        found = CODE_RENAMES.get(value)
        if found is None:
            words = _NOT_ALPHANUMERIC.sub("_", value).strip("_").upper()
            # "Phase 2" is PHASE2 and "Early Phase 1" EARLY_PHASE1: a phase number joins its word.
            found = re.sub(r"PHASE_(\d)", r"PHASE\1", words)
        if len(_codes) >= _CACHE_LIMIT:
            _codes.clear()
        _codes[value] = found
    return found


_FLAGS = {"Yes": True, "No": False, "Accepts Healthy Volunteers": True}


def flag(value: str | None) -> bool | None:
    """A Yes/No value as a boolean; None for anything else."""
    return _FLAGS.get(value) if value else None


_MONTHS = {name: f"{number:02d}" for number, name in enumerate(
    ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
     "November", "December"], 1)}
_DATE = re.compile(r"^([A-Z][a-z]+)\s+(?:(\d{1,2}),\s*)?(\d{4})$")
_dates: dict[str, str | None] = {}


def iso_date(value: str | None) -> str | None:
    """``March 5, 2019`` -> ``2019-03-05``, ``March 2019`` -> ``2019-03``; None when not such a date."""
    if not value:
        return None
    if value in _dates:
        return _dates[value]
    match = _DATE.match(value)
    month = _MONTHS.get(match.group(1)) if match else None
    found = None
    if month is not None:
        day = match.group(2)
        found = f"{match.group(3)}-{month}-{int(day):02d}" if day else f"{match.group(3)}-{month}"
    if len(_dates) >= _CACHE_LIMIT:
        _dates.clear()
    _dates[value] = found
    return found


def text_of(element) -> str | None:
    """An element's text, trimmed; None when it has none."""
    text = element.text
    if text is None:
        return None
    stripped = text.strip()
    return stripped or None


class EntityFound(Exception):
    """An entity reference left unresolved in the tree (its declaration was refused)."""


def keep_subtree(element, path: str, out: dict[str, str]) -> None:
    """Every value under an element with no API v2 home into `out`, keyed by its XPath
    (``path`` is the element's; a child's step carries a 1-based position where its tag repeats)."""
    for name, value in element.attrib.items():
        out[f"{path}/@{name}"] = value
    children = list(element)
    for child in children:
        if type(child.tag) is not str:
            raise EntityFound
    if not children:
        value = text_of(element)
        if value:
            out[path] = value
        return
    totals: dict[str, int] = {}
    for child in children:
        totals[child.tag] = totals.get(child.tag, 0) + 1
    seen: dict[str, int] = {}
    for child in children:
        tag = child.tag
        seen[tag] = seen.get(tag, 0) + 1
        keep_subtree(child, f"{path}/{tag}[{seen[tag]}]" if totals[tag] > 1 else f"{path}/{tag}", out)


def textblock(text: str | None) -> str | None:
    """A ``<textblock>`` dedented: the indentation all its lines share is removed, trailing spaces
    and the blank lines around it dropped; its line breaks, and so its paragraphs, stay."""
    if text is None:
        return None
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    if not lines:
        return None
    indent = min(len(line) - len(line.lstrip()) for line in lines if line)
    return "\n".join(line[indent:] for line in lines)


def person_name(parts: dict[str, str]) -> str | None:
    """A person's name from its XML parts: first, middle and last name, then ``, degrees``."""
    name = " ".join(parts[key] for key in ("first_name", "middle_name", "last_name") if key in parts)
    degrees = parts.get("degrees")
    if degrees:
        return f"{name}, {degrees}" if name else degrees
    return name or None
