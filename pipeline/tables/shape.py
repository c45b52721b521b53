"""What the mapping expects a record to hold, path by path, and the records that hold something else.

Derived from the mapping (`schema/`), never listed by hand, so every table added there is covered:
each source path is a chain of objects, with a list at every `[]`; each column's path ends in a
value of the column's type (a list of them for a `VARCHAR[]` column); the sections kept whole may
hold anything. What is not mapped is not checked (it goes to unmapped_values as it is).

Two kinds of departure, treated differently:

- **structure** (`check`): an object or list the mapping descends that is something else (a
  module that is a list, a list that is a number or a string, a list of strings holding an
  object). The normalizer could only drop or mangle what is under it, so the record is rejected,
  before any precedence is decided; the reason names the first such path: "wrong type at
  protocolSection.armsInterventionsModule: expected an object, got a list". Checked column-wise,
  a chunk of records at a time; only a chunk that holds a departure is walked record by record.
- **misfits** (`misfits`): a leaf value that can't take its column's type (enrollment "abc", a
  count beyond the column's range, an object where text belongs). The normalizer finds them
  where it converts columns (`normalize.ValuesDoNotFit`); the record is kept, those columns null,
  and each misfit, with its path and its value as text, is kept among its unmapped values. A
  number or boolean in a text column is no misfit: the column holds its text.

Null is always accepted (the value is absent).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from itertools import chain, repeat
from typing import Any, NamedTuple

import orjson

from pipeline.tables import schema

NoneType = type(None)

OBJECT, LIST, SCALAR, ANY = "object", "list", "scalar", "any"

_INT32 = (-(2**31), 2**31 - 1)
_INT64 = (-(2**63), 2**63 - 1)
# What each column type takes as it is; anything else (but a container) is a misfit.
_FITS: dict[str, frozenset[type]] = {
    "VARCHAR": frozenset({str, int, float, bool}),
    "INTEGER": frozenset({int}),
    "BIGINT": frozenset({int}),
    "DOUBLE": frozenset({int, float}),
    "BOOLEAN": frozenset({bool}),
}
_RANGES = {"INTEGER": _INT32, "BIGINT": _INT64}
_EXPECTED_WORDS = {"VARCHAR": "a string", "INTEGER": "an integer", "BIGINT": "an integer", "DOUBLE": "a number",
                   "BOOLEAN": "a boolean", OBJECT: "an object", LIST: "a list"}
_GOT_WORDS = {dict: "an object", list: "a list", str: "a string", bool: "a boolean", int: "a number", float: "a number"}
_DICT, _LIST = {dict}, {list}
_SCALARS_OR_NONE = _FITS["VARCHAR"] | {NoneType}


@dataclass
class Expectation:
    """What one path of the record must hold."""

    kind: str | None = None  # OBJECT, LIST, SCALAR, ANY; None until a source or column says
    children: dict[str, "Expectation"] = field(default_factory=dict)  # an object's mapped keys
    items: "Expectation | None" = None  # a list's elements
    types: set[str] = field(default_factory=set)  # a scalar's column types
    conflicted: bool = False  # read as two kinds of value: left unchecked

    def require(self, kind: str) -> "Expectation":
        # A reading that takes anything (a section kept whole, a JSON column) gives way to one that
        # reads inside the value; two that disagree (an object here, text there) leave it unchecked.
        if self.conflicted or kind == self.kind or (kind == ANY and self.kind is not None):
            return self
        if self.kind in (None, ANY):
            self.kind = kind
        else:
            self.kind, self.conflicted = ANY, True
        return self

    @cached_property
    def read_keys(self) -> frozenset[str]:
        """An object's keys whose values some column reads or keeps whole (a key only passed
        through, that no column reads, is not one)."""
        return frozenset(k for k, c in self.children.items() if c.kind is not None)

    @cached_property
    def structure(self) -> tuple[tuple[str, "Expectation"], ...]:
        """The children that are objects or lists (leaf values are no structure)."""
        return tuple((k, c) for k, c in self.children.items() if c.kind in (OBJECT, LIST))

    def child(self, key: str) -> "Expectation":
        self.require(OBJECT)
        return self.children.setdefault(key, Expectation())

    def element(self) -> "Expectation":
        self.require(LIST)
        if self.items is None:
            self.items = Expectation()
        return self.items

    def scalar(self, column_type: str) -> None:
        if column_type == "JSON":
            self.require(ANY)
        elif column_type.endswith("[]"):
            self.element().scalar(column_type[:-2])
        else:
            self.require(SCALAR).types.add(column_type)


def _descend(node: Expectation, path: str) -> Expectation:
    """The expectation at a source path (`a.b[].c`), relative to `node`."""
    parts = path.split("[]")
    for i, part in enumerate(parts):
        for key in (k for k in part.split(".") if k):
            node = node.child(key)
        if i < len(parts) - 1:
            node = node.element()
    return node


def expectations() -> Expectation:
    """The expectations of the whole record, from every table's sources and columns."""
    root = Expectation(OBJECT)
    for table in schema.STUDY_TABLES:
        columns = [c for c in table.columns if c.derive is None and not c.position]
        for source in table.sources:
            element = _descend(root, source.path)
            paths = {}
            for column in columns:
                path = source.overrides.get(column.name, column.source)
                if column.name not in source.constants and path is not None and not path.startswith("#"):
                    paths[column.name] = (path, column.type)
            # A source whose element is read itself (`.`) holds scalars; its other columns apply
            # to the sources of objects it shares the table with.
            read_whole = [column_type for path, column_type in paths.values() if path == "."]
            if read_whole:
                for column_type in read_whole:
                    element.scalar(column_type)
                continue
            for path, column_type in paths.values():
                if path.startswith(("$.", "@")):
                    # Read from the study root or an ancestor element: where it really is.
                    _descend(root, source.record_path(path)).scalar(column_type)
                else:
                    _descend(element, path).scalar(column_type)
    for section in schema.WHOLE_SECTIONS:
        _descend(root, section).require(ANY)
    return root


ROOT = expectations()


class Departure(NamedTuple):
    """Why a record's structure is not what the mapping expects, and the offending value."""

    reason: str
    value: Any


def check(studies: list[dict]) -> list[Departure | None]:
    """Per study, how its structure departs from what the mapping expects, or None (the common case)."""
    return screen(studies)[0]


def screen(studies: list[dict]) -> tuple[list[Departure | None], bool]:
    """`check`'s departures, and whether every key of every study is one the mapping reads (so
    that none holds an unmapped value, and the normalizer need not look for them); False when
    unsure. One column-wise walk does both: the unmapped values' own walk took as long."""
    mapped = [True]
    if _clean(studies, ROOT, mapped):
        return [None] * len(studies), mapped[0]
    return [_departure(study) for study in studies], False


def _departure(study: dict) -> Departure | None:
    try:
        _walk(study, ROOT, "", None)
    except _Wrong as wrong:
        return Departure(str(wrong), wrong.value)
    return None


def misfits(study: dict) -> list[tuple[str, str]]:
    """(path, value as text) of every leaf value that can't take its column's type, in the order
    the mapping lists them (a record whose structure `check` accepted)."""
    found: list[tuple[str, str]] = []
    _walk(study, ROOT, "", found)
    return found


def without(study: dict, paths: list[str]) -> dict:
    """A copy of the study with the values at `paths` (as `misfits` names them) set to null;
    only the objects and lists on the way are copied."""
    copy = dict(study)
    for path in paths:
        node = copy
        steps = _steps(path)
        for step, following in zip(steps, steps[1:]):
            child = node[step]
            node[step] = child = dict(child) if isinstance(child, dict) else list(child)
            node = child
        node[steps[-1]] = None
    return copy


def _steps(path: str) -> list[str | int]:
    steps: list[str | int] = []
    for part in path.split("."):
        key, *indexes = part.split("[")
        steps.append(key)
        steps += [int(index.rstrip("]")) for index in indexes]
    return steps


# ---- column-wise: all the chunk's values at a path at once


def _clean(values: list, node: Expectation, mapped: list[bool]) -> bool:
    """Whether every value (those at one path, across studies) has the structure `node`
    expects; False when unsure (the walk then decides). Leaf values are not looked at.
    `mapped[0]` is set False where an object holds a key no column reads, or a list's elements
    are read by none (when the structure is not clean it means nothing)."""
    kind = node.kind
    if kind not in (OBJECT, LIST):
        return True
    types = set(map(type, values))
    if NoneType in types:
        types.discard(NoneType)
        values = list(filter(None, values))
    if not types:
        return True
    if kind == OBJECT:
        if types != _DICT:
            return False
        if mapped[0] and not set().union(*values) <= node.read_keys:
            mapped[0] = False
        return all(
            _clean(list(map(dict.get, values, repeat(key))), child, mapped) for key, child in node.structure
        )
    if types != _LIST:
        return False
    items = node.items
    if items is None or items.kind not in (OBJECT, LIST, SCALAR):
        if items is None or items.kind is None:
            mapped[0] = False  # non-empty lists whose elements no column reads
        return True
    elements = list(chain.from_iterable(values))
    if items.kind == SCALAR:
        # A list of text: its elements are leaves, but an object or list among them is structure.
        return set(map(type, elements)) <= _SCALARS_OR_NONE
    return _clean(elements, items, mapped)


# ---- record by record: where, and what


class _Wrong(Exception):
    """A container that is not what the mapping expects: the record is rejected."""

    def __init__(self, reason: str, value: Any) -> None:
        super().__init__(reason)
        self.value = value


def _walk(value: Any, node: Expectation, path: str, misfits: list | None) -> None:
    """Raises _Wrong at the first departure from the structure; with `misfits`, also collects
    the leaf values that don't fit their column."""
    kind = node.kind
    if value is None or kind == ANY or kind is None:
        return
    if kind == OBJECT:
        if not isinstance(value, dict):
            raise _Wrong(_wrong_type(path, OBJECT, value), value)
        for key, child in (node.children.items() if misfits is not None else node.structure):
            found = value.get(key)
            if found is not None:
                _walk(found, child, f"{path}.{key}" if path else key, misfits)
    elif kind == LIST:
        if not isinstance(value, list):
            raise _Wrong(_wrong_type(path, LIST, value), value)
        if node.items is not None:
            for i, element in enumerate(value):
                if node.items.kind == SCALAR and isinstance(element, (dict, list)):
                    raise _Wrong(_wrong_type(f"{path}[{i}]", min(node.items.types), element), element)
                _walk(element, node.items, f"{path}[{i}]", misfits)
    elif misfits is not None and not all(fits(value, column_type) for column_type in node.types):
        misfits.append((path, value if isinstance(value, str) else orjson.dumps(value).decode()))


def fits(value: Any, column_type: str) -> bool:
    """Whether a leaf value takes a column's type as it is (the normalizer's `_column` agrees)."""
    if type(value) not in _FITS.get(column_type, _FITS["VARCHAR"]):
        return False
    bounds = _RANGES.get(column_type)
    return bounds is None or bounds[0] <= value <= bounds[1]


def _wrong_type(path: str, expected: str, value: Any) -> str:
    return f"wrong type at {path}: expected {_EXPECTED_WORDS.get(expected, 'a ' + expected.lower())}, got {_GOT_WORDS.get(type(value), 'a value')}"
