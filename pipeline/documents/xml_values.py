"""The legacy XML's leaf values in their API v2 form: codes, Yes/No flags, dates, text blocks, names.

Values repeat from study to study (statuses, types, dates), so codes and dates are remembered
once converted, in caches bounded so that a stream of distinct values cannot grow them without end.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

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


Field = tuple[str, "Callable[[str], Any] | None"]  # (API v2 key, conversion of the trimmed text)


def read_fields(element, fields: dict[str, Field], target: dict, other: Callable[[Any], None]) -> dict:
    """Fills ``target`` from the leaf children of ``element`` that ``fields`` names (tag -> (key,
    conversion)); every other child, and a named one whose value does not convert (a conversion
    giving None), goes to ``other`` (which maps it its own way or keeps it unmapped)."""
    for child in element:
        spec = fields.get(child.tag)
        if spec is None or len(child):
            other(child)
            continue
        text = child.text
        if text is None or not (text := text.strip()):
            continue
        key, convert = spec
        value = convert(text) if convert is not None else text
        if value is None:
            other(child)
        else:
            target[key] = value
    return target


class EntityFound(Exception):
    """An entity reference left unresolved in the tree (its declaration was refused)."""


def keep_subtree(element, out: dict[str, str]) -> None:
    """Every value under an element with no API v2 home into `out`, keyed by its XPath below the
    root (lxml's: ``location[3]/facility/name``, a position only where the tag repeats)."""
    tree = element.getroottree()
    root_prefix = len(tree.getroot().tag) + 2
    for node in element.iter():
        if type(node.tag) is not str:
            raise EntityFound
        path = None
        if node.attrib:
            path = tree.getpath(node)[root_prefix:]
            for name, value in node.items():
                out[f"{path}/@{name}"] = value
        if len(node) == 0:
            value = text_of(node)
            if value:
                out[path or tree.getpath(node)[root_prefix:]] = value


_TRAILING_SPACE = re.compile(r"[ \t]+$", re.MULTILINE)
_INDENTS = re.compile(r"^[ \t]*(?=\S)", re.MULTILINE)
_odd_lines: dict[str, re.Pattern] = {}


def textblock(text: str | None) -> str | None:
    """A ``<textblock>`` dedented: the indentation all its lines share is removed, trailing spaces
    and the blank lines around it dropped; its line breaks, and so its paragraphs, stay."""
    if text is None:
        return None
    if "\r" in text:  # the 2017+ records carry Windows line ends as &#xD;
        text = text.replace("\r", "")
    # The registry indents every line alike: when no line ends in spaces and every line that holds
    # text starts with the first one's indentation (one scan finds either), that is the shared one.
    body = text.rstrip().lstrip("\n")
    if body:
        rest = body.lstrip(" \t")
        indent = body[:len(body) - len(rest)]
        if not rest[0].isspace():
            odd = _odd_lines.get(indent)
            if odd is None:
                # A line break after a space or tab, or before a line not starting with the indent.
                odd = re.compile("\n(?:(?<=[ \t]\n)|(?!\n|" + re.escape(indent) + "))")
                if len(_odd_lines) < 100:
                    _odd_lines[indent] = odd
            if odd.search(body) is None:
                return rest.replace("\n" + indent, "\n") if indent else body
    return _dedented(text)


def _dedented(text: str) -> str | None:
    """The general dedent: the shortest indentation of the lines that hold text."""
    if " \n" in text or "\t\n" in text:
        text = _TRAILING_SPACE.sub("", text)
    text = text.rstrip()
    indents = _INDENTS.findall(text)
    if not indents:
        return None
    indent = min(indents, key=len)
    # Every line that holds text starts with the shared indentation; blank lines are empty.
    return ("\n" + text.lstrip("\n")).replace("\n" + indent, "\n")[1:] if indent else text.lstrip("\n")


def person_name(parts: dict[str, str]) -> str | None:
    """A person's name from its XML parts: first, middle and last name, then ``, degrees``."""
    name = " ".join(parts[key] for key in ("first_name", "middle_name", "last_name") if key in parts)
    degrees = parts.get("degrees")
    if degrees:
        return f"{name}, {degrees}" if name else degrees
    return name or None
