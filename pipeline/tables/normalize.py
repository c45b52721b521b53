"""Canonical studies in, one polars frame per study table out, driven by the mapping in `schema/`.

The mapping is compiled once, at import, into a plan per source (`_SourcePlan`). Studies are then
read a chunk at a time and column-wise: each step of a source's path is taken for all of the
chunk's studies at once (`map(dict.get, objects, repeat(key))`), lists are flattened with
`itertools.chain`, and each column is one such gather over the rows' elements, so the loops run
in C and Python's own work is per source and chunk, not per value. Every derived value (DATEs,
precisions, ages in years, phase labels) is computed by polars, column-wise, once per batch.
Values the mapping does not read are found by checking a whole chunk at once (`_clean_values`);
only a chunk that holds some is walked study by study.

`_elements` and `_extract` state the reference semantics, one study at a time; a table whose
plan cannot be compiled (a source naming a list position it lacks) is still read with them.
"""
from __future__ import annotations

import gc
import math
import re
from collections import Counter
from dataclasses import dataclass
from itertools import chain, compress, islice, repeat
from operator import add, is_not, itemgetter, sub
from typing import Any, Callable, Iterable, Iterator

import orjson
import polars as pl
import pyarrow as pa

from pipeline.tables import schema
from pipeline.tables.countries import country_code
from pipeline.tables.schema import Column, Lookup, Table

POLARS_TYPES: dict[str, pl.DataType] = {
    "VARCHAR": pl.String(),
    "JSON": pl.String(),
    "INTEGER": pl.Int32(),
    "BIGINT": pl.Int64(),
    "DOUBLE": pl.Float64(),
    "BOOLEAN": pl.Boolean(),
    "DATE": pl.Date(),
    "TIMESTAMP": pl.Datetime("us"),
    "VARCHAR[]": pl.List(pl.String()),
}

PHASE_LABELS = {
    "EARLY_PHASE1": "Early Phase 1",
    "PHASE1": "Phase 1",
    "PHASE2": "Phase 2",
    "PHASE3": "Phase 3",
    "PHASE4": "Phase 4",
    "NA": "Not Applicable",
}

# Years per unit, for ages such as "6 Months" (a year is 365.25 days, as the registry's own age groups assume).
YEARS_PER_AGE_UNIT = {
    "year": 1.0,
    "month": 1.0 / 12.0,
    "week": 7.0 / 365.25,
    "day": 1.0 / 365.25,
    "hour": 1.0 / (365.25 * 24),
    "minute": 1.0 / (365.25 * 24 * 60),
}
AGE_PATTERN = r"^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]+?)s?\s*$"

# API v2 writes an arm's interventions as "Drug: Aspirin"; these are the type titles it uses.
INTERVENTION_TYPE_TITLES = {
    "Drug": "DRUG", "Device": "DEVICE", "Biological": "BIOLOGICAL", "Procedure": "PROCEDURE",
    "Radiation": "RADIATION", "Behavioral": "BEHAVIORAL", "Genetic": "GENETIC",
    "Dietary Supplement": "DIETARY_SUPPLEMENT", "Combination Product": "COMBINATION_PRODUCT",
    "Diagnostic Test": "DIAGNOSTIC_TEST", "Other": "OTHER",
}


def table_schema(table: Table | schema.View) -> dict[str, pl.DataType]:
    return {c.name: POLARS_TYPES[c.type] for c in table.columns}


# ---------------------------------------------------------------- compiled mapping
#
# What a source yields (the reference semantics, also used as is for any table the fast path
# below does not cover): the keys of each step are descended from the study, stopping at a
# missing key or a non-object; a `[]` fans out over a list, 1-based positions counting every
# element, skipping null ones; a row is yielded for a final node that is a non-empty object or
# a scalar. A column path is read from the row's element, null wherever the way is not an object;
# an ancestor path (`@N.path`) from the element at the N-th `[]`, a root path (`$.path`) from the study.

Step = tuple[tuple[str, ...], bool]  # keys to descend, then whether to fan out over a list


def _compile_path(path: str) -> tuple[Step, ...]:
    parts = path.split("[]")
    return tuple((tuple(k for k in part.split(".") if k), i < len(parts) - 1) for i, part in enumerate(parts))


def _elements(
    node: Any, steps: tuple[Step, ...], positions: tuple[int, ...] = (), ancestors: tuple = ()
) -> Iterator[tuple[Any, tuple[int, ...], tuple]]:
    """(element, its positions at each `[]`, the elements at each `[]`) for every row of a source."""
    keys, fan_out = steps[0]
    for key in keys:
        if not isinstance(node, dict):
            return
        node = node.get(key)
        if node is None:
            return
    if fan_out:
        if not isinstance(node, list):
            return
        rest = steps[1:]
        for i, element in enumerate(node, 1):
            if element is not None:
                yield from _elements(element, rest, positions + (i,), ancestors + (element,))
    elif isinstance(node, dict) and node or not isinstance(node, (dict, list)):
        yield node, positions, ancestors


@dataclass(frozen=True)
class _CompiledSource:
    steps: tuple[Step, ...]
    # per column: ("path", keys) | ("ancestor", i, keys) | ("root", keys) | ("self",) | ("position_at", i)
    # | ("constant", value) | ("running",) | ("nct_id",)
    getters: tuple[tuple, ...]


def _getter(column: Column, source: schema.Source) -> tuple:
    if column.position:
        return ("running",)
    if column.name in source.constants:
        return ("constant", source.constants[column.name])
    path = source.overrides.get(column.name, column.source)
    if path is None:
        return ("nct_id",) if column.name == "nct_id" else ("constant", None)
    if path == ".":
        return ("self",)
    if path.startswith("#"):
        return ("position_at", int(path[1:]))
    if path.startswith("@"):
        level, _, rest = path[1:].partition(".")
        return ("ancestor", int(level), tuple(rest.split(".")))
    if path.startswith("$."):
        return ("root", tuple(path[2:].split(".")))
    return ("path", tuple(path.split(".")))


def _dig(node: Any, keys: tuple[str, ...]) -> Any:
    for key in keys:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node


def _extract(compiled: _CompiledTable, study: dict, nct_id: str, out: list[list]) -> None:
    """Reference extraction, one study and column at a time; used for tables without a plan."""
    running = 0
    for source in compiled.sources:
        for element, positions, ancestors in _elements(study, source.steps):
            running += 1
            for column_values, getter in zip(out, source.getters):
                kind = getter[0]
                if kind == "path":
                    value = _dig(element, getter[1])
                elif kind == "ancestor":
                    value = _dig(ancestors[getter[1]], getter[2])
                elif kind == "root":
                    value = _dig(study, getter[1])
                elif kind == "nct_id":
                    value = nct_id
                elif kind == "self":
                    value = element
                elif kind == "running":
                    value = running
                elif kind == "position_at":
                    value = positions[getter[1]]
                else:
                    value = getter[1]
                column_values.append(value)


# ---- column-wise extraction
#
# A chunk of studies is read one source at a time, each step for all of the chunk's studies at
# once: the values at a key are gathered with `map(dict.get, objects, repeat(key))`, lists are
# flattened with `chain`, and each column is one such gather over the rows' elements. Those loops
# run in C; Python runs once per source and chunk, not per value. A table's rows come out source
# by source; once per batch they are put back in study order by a stable sort, so that within a
# study the sources keep their order, and the running positions are counted.

NoneType = type(None)
_EMPTY: dict = {}  # stands in for a non-object on the way to a path (never written to)
_DICT, _LIST, _STR = {dict}, {list}, {str}  # sets of types, as `set(map(type, values))` gives
_DICT_OR_NONE, _LIST_OR_NONE = {dict, NoneType}, {list, NoneType}
_SCALARS = frozenset({str, int, float, bool})


def _objects(values: list) -> list:
    """`values` with each non-object replaced by an empty object: a key gathered through it
    gives None, as `_dig` does."""
    types = set(map(type, values))
    if types == _DICT:
        return values
    if types == _DICT_OR_NONE:
        return [v or _EMPTY for v in values]
    return [v if isinstance(v, dict) else _EMPTY for v in values]


def _gather(objects: list, key: str) -> list:
    return list(map(dict.get, objects, repeat(key)))


PathFill = Callable[[list, list], None]  # (objects, column lists)


def _path_fill(paths: list[tuple[int, tuple[str, ...]]]) -> PathFill:
    """Extends column `i` with `_dig(obj, keys)` for every object, for each (i, keys); paths that
    share a first key gather the objects under it once."""
    leaves = tuple((i, keys[0]) for i, keys in paths if len(keys) == 1)
    groups: dict[str, list] = {}
    for i, keys in paths:
        if len(keys) > 1:
            groups.setdefault(keys[0], []).append((i, keys[1:]))
    subs = tuple((key, _path_fill(group)) for key, group in groups.items())

    def fill(objects: list, columns: list) -> None:
        for i, key in leaves:
            columns[i] += map(dict.get, objects, repeat(key))
        for key, sub in subs:
            sub(_objects(_gather(objects, key)), columns)

    return fill


def _compress(keep: list, nodes: list, ordinals: list, carried: list) -> tuple[list, list, list]:
    return (
        list(compress(nodes, keep)),
        list(compress(ordinals, keep)),
        [None if c is None else list(compress(c, keep)) for c in carried],
    )


# 1, 2, ..., n for the lengths lists usually have: slicing ready tuples is twice as fast as ranges.
_ONE_TO = tuple(tuple(range(1, n + 1)) for n in range(256))


def _counting(lengths: list[int]) -> list[int]:
    """1..n for each n of `lengths`, one after another."""
    if max(lengths, default=0) < len(_ONE_TO):
        return list(chain.from_iterable(map(_ONE_TO.__getitem__, lengths)))
    return list(chain.from_iterable(map(range, repeat(1), map(add, lengths, repeat(1)))))


@dataclass(frozen=True)
class _SourcePlan:
    steps: tuple[Step, ...]
    # (column index, kind, argument) for the columns that are not paths nor the running position
    direct: tuple[tuple[int, str, Any], ...]
    paths: PathFill | None
    positions: frozenset[int]  # the list positions (by `[]`, 0-based) some column reads
    ancestors: tuple[tuple[int, PathFill], ...]  # (`[]` level, its paths) for the ancestor columns
    roots: tuple[tuple[int, tuple[str, ...]], ...]  # (column index, keys) for the columns read from the study
    ancestor_columns: dict[int, int]  # per ancestor level, one of its columns (they share their `_Indexed.rows`)
    ancestor_levels: dict[int, int]  # per ancestor column index, its level


def _source_plan(source: _CompiledSource, study_columns: frozenset[int]) -> _SourcePlan | None:
    """None when the source names a list position or ancestor it does not have (the reference
    extraction then fails as it always did). Columns in `study_columns` get the row's study (its
    index in the batch) in place of its NCT id, which the frame then looks up."""
    depth = len(source.steps) - 1
    direct = []
    paths = []
    ancestors: dict[int, list] = {}
    roots = []
    for i, getter in enumerate(source.getters):
        kind = getter[0]
        if kind == "path":
            paths.append((i, getter[1]))
        elif kind == "ancestor":
            if getter[1] >= depth:
                return None
            ancestors.setdefault(getter[1], []).append((i, getter[2]))
        elif kind == "root":
            roots.append((i, getter[1]))
        elif kind == "position_at":
            if getter[1] >= depth:
                return None
            direct.append((i, kind, getter[1]))
        elif kind == "nct_id" and i in study_columns:
            direct.append((i, "study", None))
        elif kind != "running":
            direct.append((i, kind, getter[1] if len(getter) > 1 else None))
    return _SourcePlan(
        source.steps,
        tuple(direct),
        _path_fill(paths) if paths else None,
        frozenset(argument for _, kind, argument in direct if kind == "position_at"),
        tuple((at, _path_fill(at_paths)) for at, at_paths in sorted(ancestors.items())),
        tuple(roots),
        {at: at_paths[0][0] for at, at_paths in ancestors.items()},
        {i: at for at, at_paths in ancestors.items() for i, _ in at_paths},
    )


def _source_rows(plan: _SourcePlan, level: Callable[[tuple[str, ...]], list], base: int) -> tuple[list, list, list, dict, bool]:
    """The elements a source yields in a chunk, with each one's study (index in the batch, the
    chunk starting at `base`), the list positions the plan reads and its ancestors, in document
    order; and whether every element is an object. Ancestors are, per `[]` level the plan reads
    them at, (that level's elements, each row's index among them).

    Positions and ancestor indices are carried down each fan-out as the study is, by repeating
    each entry for its element's children, so a row's are looked up in C, never climbed to. An
    ancestor's values are then read once per ancestor, not once per row (`_Indexed`)."""
    steps = plan.steps
    nodes = level(steps[0][0])
    ordinals = list(range(base, base + len(nodes)))
    # Per `[]` so far: its positions (if read), then its elements' indices (if read); None where not read.
    carried: list[list | None] = []
    wanted_ancestors = {at for at, _ in plan.ancestors}
    ancestor_nodes: dict[int, list] = {}
    types = None  # of the nodes, once known
    for index, (keys, fan_out) in enumerate(steps):
        if index and keys:
            for key in keys:
                nodes = _gather(_objects(nodes), key)
            types = None
        if fan_out:
            types = set(map(type, nodes))
            if types != _LIST:
                keep = (
                    list(map(is_not, nodes, repeat(None))) if types == _LIST_OR_NONE
                    else [isinstance(v, list) for v in nodes]
                )
                nodes, ordinals, carried = _compress(keep, nodes, ordinals, carried)
            lengths = list(map(len, nodes))
            ordinals = list(chain.from_iterable(map(repeat, ordinals, lengths)))
            carried = [None if c is None else list(chain.from_iterable(map(repeat, c, lengths))) for c in carried]
            at = len(carried) // 2
            carried.append(_counting(lengths) if at in plan.positions else None)
            nodes = list(chain.from_iterable(nodes))
            types = set(map(type, nodes))
            if NoneType in types:
                # A null element is no row, though it counts in the positions.
                nodes, ordinals, carried = _compress(list(map(is_not, nodes, repeat(None))), nodes, ordinals, carried)
                types.discard(NoneType)
            if at in wanted_ancestors:
                ancestor_nodes[at] = nodes
                carried.append(list(range(len(nodes))))
            else:
                carried.append(None)
    # A row for each non-empty object or scalar; None (a key missing on the way) is none.
    if types is None:
        types = set(map(type, nodes))
    if types == _DICT:
        if not all(nodes):
            nodes, ordinals, carried = _compress(nodes, nodes, ordinals, carried)
        return nodes, ordinals, carried[0::2], _ancestors(ancestor_nodes, carried), True
    if not types <= _SCALARS:
        keep = [v is not None and (bool(v) if isinstance(v, dict) else not isinstance(v, list)) for v in nodes]
        nodes, ordinals, carried = _compress(keep, nodes, ordinals, carried)
    return nodes, ordinals, carried[0::2], _ancestors(ancestor_nodes, carried), False


def _ancestors(ancestor_nodes: dict[int, list], carried: list) -> dict[int, tuple[list, list]]:
    return {at: (elements, carried[2 * at + 1]) for at, elements in ancestor_nodes.items()}


def _fill_source(
    plan: _SourcePlan, level: Callable, nct_ids: list[str], base: int, columns: list[list], ordinals_out: list | None
) -> int:
    """Extends `columns` (one list per extracted column; constants and the running position are
    left for later) with a source's rows in a chunk starting at study `base` of the batch, and
    `ordinals_out` (unless None) with each row's study. Gives the number of rows."""
    nodes, ordinals, positions, ancestors, all_objects = _source_rows(plan, level, base)
    n = len(nodes)
    if not n:
        return 0
    if ordinals_out is not None:
        ordinals_out += ordinals
    for i, kind, argument in plan.direct:
        if kind == "study":
            columns[i] += ordinals
        elif kind == "nct_id":
            columns[i] += map(nct_ids.__getitem__, ordinals)
        elif kind == "position_at":
            columns[i] += positions[argument]
        elif kind == "self":
            columns[i] += nodes
    if plan.paths is not None:
        plan.paths(nodes if all_objects else _objects(nodes), columns)
    for at, fill in plan.ancestors:
        elements, rows = ancestors[at]
        indexed = columns[plan.ancestor_columns[at]]
        offset = len(indexed.values)
        fill(_objects(elements), columns)
        indexed.rows += map(add, rows, repeat(offset))
    if plan.roots:
        in_chunk = list(map(sub, ordinals, repeat(base)))
        for i, keys in plan.roots:
            columns[i] += map(level(keys).__getitem__, in_chunk)
    return n


class _ChunkLevels:
    """For a chunk of studies: the values at a dotted path, one per study (None where a key is
    missing or the way is not an object), each level gathered once per chunk.

    A class, not a recursive closure: a closure that calls itself sits in a reference cycle, which
    would keep every chunk alive until the cyclic collector runs (the loader pauses it).
    """

    __slots__ = ("values", "objects")

    def __init__(self, chunk: list[dict]) -> None:
        self.values: dict[tuple[str, ...], list] = {(): chunk}
        self.objects: dict[tuple[str, ...], list] = {(): chunk}

    def __call__(self, keys: tuple[str, ...]) -> list:
        found = self.values.get(keys)
        if found is None:
            parent = keys[:-1]
            parent_objects = self.objects.get(parent)
            if parent_objects is None:
                parent_objects = self.objects[parent] = _objects(self(parent))
            found = self.values[keys] = _gather(parent_objects, keys[-1])
        return found


_chunk_levels = _ChunkLevels


def _running(ordinals: list[int]) -> list[int]:
    """For rows in study order, the 1-based position of each among its study's rows."""
    return _counting(list(Counter(ordinals).values()))  # in study order, as the rows are


class _Indexed:
    """An ancestor column: its values, one per ancestor, and each row's index among them. The
    values are read once per ancestor and spread to the rows by polars (a measure's eight fields
    for its 40 measurements: eight reads, not 320, and no text converted twice)."""

    __slots__ = ("values", "rows")

    def __init__(self, rows: list[int]) -> None:
        self.values: list = []
        self.rows = rows  # shared by the columns of one ancestor level

    def __iadd__(self, values: Iterable) -> "_Indexed":
        self.values += values
        return self

    def series(self, column: Column) -> pl.Series:
        return _series(column.name, self.values, POLARS_TYPES[column.type]).gather(self.rows)


def _source_columns(plan: _SourcePlan, n_columns: int) -> list:
    """A source's column accumulators: lists, and `_Indexed` for ancestor columns."""
    rows: dict[int, list[int]] = {at: [] for at in plan.ancestor_columns}
    return [_Indexed(rows[plan.ancestor_levels[i]]) if i in plan.ancestor_levels else [] for i in range(n_columns)]


class _TableRows:
    """A table's columns for a batch, gathered source by source."""

    def __init__(self, compiled: _CompiledTable, plans: tuple[_SourcePlan, ...]) -> None:
        self.compiled = compiled
        self.plans = plans
        self.columns = [_source_columns(plan, len(compiled.extracted)) for plan in plans]
        # Each row's study, to put the sources' rows in study order and count running positions.
        needed = len(plans) > 1 or any(c.position for c in compiled.extracted)
        self.ordinals: list[list[int] | None] = [[] if needed else None for _ in plans]
        self.n_rows = [0 for _ in plans]

    def add_chunk(self, level: Callable, nct_ids: list[str], base: int) -> None:
        """Adds the rows of the chunk of studies starting at `base`; `nct_ids` are the batch's."""
        for k, (plan, columns, ordinals) in enumerate(zip(self.plans, self.columns, self.ordinals)):
            self.n_rows[k] += _fill_source(plan, level, nct_ids, base, columns, ordinals)

    def finish(self) -> tuple[list[dict[str, list]], list[int] | None, dict[str, list], frozenset[str]]:
        """(the columns of each source, whose rows follow one another; each row's study, by which
        to sort them stably into study order, None when they are in it; the running positions,
        in study order; the columns that hold study indices for NCT ids)."""
        if len(self.plans) == 1:
            ordinals, sort_by = self.ordinals[0], None
        else:
            sort_by = list(chain.from_iterable(self.ordinals))
            ordinals = sorted(sort_by)
        extracted = self.compiled.extracted
        running = _running(ordinals) if any(c.position for c in extracted) else []
        parts = []
        for plan, columns, n_rows in zip(self.plans, self.columns, self.n_rows):
            part = {
                c.name: values.series(c) if isinstance(values, _Indexed) else values
                for c, values in zip(extracted, columns) if not c.position
            }
            for i, kind, value in plan.direct:
                if kind == "constant":
                    part[extracted[i].name] = _Repeated(value, n_rows)
            parts.append(part)
        return (
            parts,
            sort_by,
            {c.name: running for c in extracted if c.position},
            frozenset(extracted[i].name for i in self.compiled.study_columns),
        )


@dataclass(frozen=True)
class _CompiledTable:
    table: Table
    extracted: tuple[Column, ...]  # columns read from the record (the rest are derived)
    sources: tuple[_CompiledSource, ...]
    plans: tuple[_SourcePlan, ...] | None  # None: extracted study by study with `_extract`
    study_columns: frozenset[int]  # the NCT id columns of every source, gathered as study indices


def _compile(table: Table) -> _CompiledTable:
    extracted = tuple(c for c in table.columns if c.derive is None)
    sources = tuple(
        _CompiledSource(_compile_path(s.path), tuple(_getter(c, s) for c in extracted)) for s in table.sources
    )
    study_columns = frozenset(i for i in range(len(extracted)) if all(s.getters[i][0] == "nct_id" for s in sources))
    plans = tuple(_source_plan(s, study_columns) for s in sources)
    return _CompiledTable(table, extracted, sources, None if None in plans else plans, study_columns)


MAPPED_TABLES = tuple(_compile(t) for t in schema.STUDY_TABLES if t.sources)


# ---------------------------------------------------------------- links, whole sections, unmapped values

_NORM_LABELS: dict[str, str] = {}  # labels recur from study to study ("Placebo")


def _norm_label(text: Any) -> str:
    if type(text) is not str:
        return " ".join(str(text).split()).casefold()
    norm = _NORM_LABELS.get(text)
    if norm is None:
        if len(_NORM_LABELS) >= 100_000:
            _NORM_LABELS.clear()
        norm = _NORM_LABELS[text] = " ".join(text.split()).casefold()
    return norm


def arm_intervention_links(study: dict) -> list[tuple[str, str, int, int, str]]:
    """(arm_label, intervention_name, arm_position, intervention_position, intervention_type) per link.

    Links come from each intervention's armGroupLabels and each arm's 'Type: Name' list; the two
    usually agree, and taking their union keeps a link that only one side records.
    """
    module = _dig(study, ("protocolSection", "armsInterventionsModule")) or {}
    arms = [a for a in module.get("armGroups") or [] if isinstance(a, dict)]
    interventions = [iv for iv in module.get("interventions") or [] if isinstance(iv, dict)]
    arm_by_label: dict[str, int] = {}
    for position, arm in enumerate(arms, 1):
        arm_by_label.setdefault(_norm_label(arm.get("label", "")), position)
    pairs: set[tuple[int, int]] = set()
    for iv_position, iv in enumerate(interventions, 1):
        for label in iv.get("armGroupLabels") or []:
            arm_position = arm_by_label.get(_norm_label(label))
            if arm_position:
                pairs.add((arm_position, iv_position))
    by_name: dict[str, list[int]] | None = None  # intervention positions by normalized name, on first need
    for arm_position, arm in enumerate(arms, 1):
        for entry in arm.get("interventionNames") or []:
            type_title, sep, name = str(entry).partition(": ")
            wanted_type = INTERVENTION_TYPE_TITLES.get(type_title) if sep else None
            wanted_name = _norm_label(name if wanted_type else entry)
            if by_name is None:
                by_name = {}
                for position, iv in enumerate(interventions, 1):
                    by_name.setdefault(_norm_label(iv.get("name", "")), []).append(position)
            candidates = by_name.get(wanted_name)
            if candidates and wanted_type is not None:
                candidates = [c for c in candidates if interventions[c - 1].get("type") == wanted_type]
            if not candidates or not pairs.isdisjoint(zip(repeat(arm_position), candidates)):
                continue
            # Several interventions may share a name; one that names no arm of its own is the
            # likelier target than one that names other arms.
            unclaimed = [c for c in candidates if not interventions[c - 1].get("armGroupLabels")]
            pairs.add((arm_position, (unclaimed or candidates)[0]))
    return [
        (arms[a - 1].get("label"), interventions[i - 1].get("name"), a, i, interventions[i - 1].get("type"))
        for a, i in sorted(pairs)
    ]


def _mapped_trie() -> dict:
    """Nested dict of every record path the mapping reads; True marks a path read whole."""
    trie: dict = {}

    def mark(path: str) -> None:
        node = trie
        keys = [k for k in path.replace("[]", ".[]").split(".") if k]
        for key in keys[:-1]:
            child = node.setdefault(key, {})
            if child is True:
                return
            node = child
        node[keys[-1]] = True

    for compiled in MAPPED_TABLES:
        for source, raw in zip(compiled.sources, compiled.table.sources):
            for column in compiled.extracted:
                path = raw.overrides.get(column.name, column.source)
                if not path or path.startswith("#") or column.name in raw.constants or column.position:
                    continue
                full = raw.record_path(path)
                mark(full + "[]" if column.type.endswith("[]") else full)
    # Link data: resolved into arm_interventions and kept verbatim as list columns above.
    for section in schema.WHOLE_SECTIONS:
        mark(section)
    return trie


MAPPED_TRIE = _mapped_trie()


@dataclass(frozen=True)
class _TrieNode:
    """A trie level for the unmapped walk: keys read whole, and the levels below the others."""

    whole: frozenset[str]
    children: dict[str, "_TrieNode"]
    items: "_TrieNode | None | bool"  # for a list: "[]" read whole (True), a level below, or unknown (None)


def _trie_node(trie: dict) -> _TrieNode:
    items = trie.get("[]")
    return _TrieNode(
        whole=frozenset(k for k, v in trie.items() if v is True),
        children={k: _trie_node(v) for k, v in trie.items() if isinstance(v, dict)},
        items=items if items is True or items is None else _trie_node(items),
    )


_UNMAPPED_ROOT = _trie_node(MAPPED_TRIE)


def _scalar_text(value: Any) -> str:
    return value if isinstance(value, str) else orjson.dumps(value).decode()


def _leaves(node: Any, path: str, out: list) -> None:
    """Every non-empty leaf under a part of the record the mapping does not know."""
    if isinstance(node, dict):
        for key, value in node.items():
            _leaves(value, f"{path}.{key}" if path else key, out)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            _leaves(value, f"{path}[{i}]", out)
    elif node is not None and node != "":
        out.append((path, _scalar_text(node)))


def _clean_dicts(dicts: list[dict], node: _TrieNode) -> bool:
    """Whether no object in `dicts` holds a value the mapping does not read (False when unsure).

    Checked column-wise, all objects at once: the union of their keys against the keys read
    whole, then, per other key, the values under it, gathered from every object.
    """
    keys = set().union(*dicts)
    whole = node.whole
    if keys <= whole:
        return True
    children = node.children
    for key in keys - whole:
        child = children.get(key)
        if child is None or not _clean_values(list(map(dict.get, dicts, repeat(key))), child):
            return False
    return True


def _clean_values(values: list, node: _TrieNode) -> bool:
    """Whether `_unmapped_walk` finds nothing in any of `values` under `node`; False when unsure
    (then the walk decides), never True when it would find something."""
    types = set(map(type, values))
    types.discard(NoneType)
    if not types:
        return True
    if types == _DICT:
        dicts = list(filter(None, values))  # an empty object holds nothing
        return not dicts or _clean_dicts(dicts, node)
    if types == _LIST:
        items = node.items
        if items is True:
            return True
        elements = list(chain.from_iterable(filter(None, values)))
        if not elements:
            return True
        return items is not None and _clean_values(elements, items)
    if types == _STR:
        return not any(values)  # only empty strings, which are not values
    return False


def _unmapped_walk(node: Any, trie: _TrieNode, path: str, out: list) -> None:
    """Appends (path, value) for every leaf under `node` that the mapping does not read, in
    document order. An object whose keys are all read whole, and a list read whole, are skipped
    without a call."""
    if isinstance(node, dict):
        whole = trie.whole
        if node.keys() <= whole:
            return  # every key is read whole (the common case)
        rest = node.keys() - whole
        children = trie.children
        start = len(out)
        pieces = None  # (key, where its output starts) once a second key has output
        first_key = None
        for key in rest:
            before = len(out)
            value = node[key]
            sub = children.get(key)
            if sub is None:
                _leaves(value, f"{path}.{key}" if path else key, out)
            elif isinstance(value, dict):
                if not value.keys() <= sub.whole:
                    _unmapped_walk(value, sub, f"{path}.{key}" if path else key, out)
            elif isinstance(value, list):
                items = sub.items
                if items is None:
                    _unmapped_walk(value, sub, f"{path}.{key}" if path else key, out)
                elif items is not True:
                    whole_item = items.whole
                    for item in value:
                        if not (isinstance(item, dict) and item.keys() <= whole_item):
                            _unmapped_walk(value, sub, f"{path}.{key}" if path else key, out)
                            break
            elif value is not None and value != "":
                # A scalar where the mapping expects an object or a list: keep it rather than drop it.
                out.append((f"{path}.{key}" if path else key, _scalar_text(value)))
            if len(out) > before:
                if first_key is None:
                    first_key = key
                elif pieces is None:
                    pieces = [(first_key, start), (key, before)]
                else:
                    pieces.append((key, before))
        if pieces is not None:
            # Keys of a set come in no particular order: put their output back in document order.
            ends = [where for _, where in pieces[1:]] + [len(out)]
            chunks = {key: out[where:end] for (key, where), end in zip(pieces, ends)}
            del out[start:]
            for key in node:
                if key in chunks:
                    out += chunks[key]
    elif isinstance(node, list):
        sub = trie.items
        if sub is True:
            return
        if sub is None:
            for i, value in enumerate(node):
                _leaves(value, f"{path}[{i}]", out)
            return
        whole = sub.whole
        for i, value in enumerate(node):
            if isinstance(value, dict):
                if not value.keys() <= whole:
                    _unmapped_walk(value, sub, f"{path}[{i}]", out)
            elif isinstance(value, list) or (value is not None and value != ""):
                _unmapped_walk(value, sub, f"{path}[{i}]", out)
    elif node is not None and node != "":
        # A scalar where the mapping expects an object or a list: keep it rather than drop it.
        out.append((path, _scalar_text(node)))


def unmapped_values(study: dict) -> Iterator[tuple[str, str]]:
    """(path, value) for every leaf of the record that no column reads and no whole section keeps."""
    out: list[tuple[str, str]] = []
    if not _clean_values([study], _UNMAPPED_ROOT):
        _unmapped_walk(study, _UNMAPPED_ROOT, "", out)
    return iter(out)


_WHOLE_SECTION_KEYS = tuple((section, tuple(section.split("."))) for section in schema.WHOLE_SECTIONS)


_ARMS_INTERVENTIONS = ("protocolSection", "armsInterventionsModule")


def _chunk_sections(level: Callable[[tuple[str, ...]], list]) -> list[tuple[int, str, bytes]]:
    """(study index in the chunk, section, JSON as UTF-8) for the whole sections of a chunk, study
    by study."""
    found = []
    for section, keys in _WHOLE_SECTION_KEYS:
        values = level(keys)
        for i in compress(range(len(values)), map(is_not, values, repeat(None))):
            value = values[i]
            if value not in (None, {}, []):
                found.append((i, section, orjson.dumps(value)))
    found.sort(key=itemgetter(0))  # stable: sections keep their order within a study
    return found


def whole_sections(study: dict) -> Iterator[tuple[str, str]]:
    for section, keys in _WHOLE_SECTION_KEYS:
        value = _dig(study, keys)
        if value not in (None, {}, []):
            yield section, orjson.dumps(value).decode()


# ---------------------------------------------------------------- derived columns (polars)

def _date_from_raw(raw: pl.Expr) -> pl.Expr:
    text = raw.str.strip_chars()
    return (
        pl.when(text.str.contains(r"^\d{4}-\d{2}-\d{2}$")).then(text.str.to_date("%Y-%m-%d", strict=False))
        .when(text.str.contains(r"^\d{4}-\d{2}$")).then((text + "-01").str.to_date("%Y-%m-%d", strict=False).dt.month_end())
        .when(text.str.contains(r"^\d{4}$")).then((text + "-12-31").str.to_date("%Y-%m-%d", strict=False))
    )


def _precision_from_raw(raw: pl.Expr) -> pl.Expr:
    text = raw.str.strip_chars()
    # Only a date that is real (not 2024-13 or 2024-02-30) has a precision.
    return (
        pl.when(_date_from_raw(raw).is_null()).then(pl.lit(None, dtype=pl.String))
        .when(text.str.len_chars() == 10).then(pl.lit("day"))
        .when(text.str.len_chars() == 7).then(pl.lit("month"))
        .otherwise(pl.lit("year"))
    )


def _age_years(raw: pl.Expr) -> pl.Expr:
    number = raw.str.extract(AGE_PATTERN, 1).cast(pl.Float64, strict=False)
    unit = raw.str.extract(AGE_PATTERN, 2).str.to_lowercase()
    factor = unit.replace_strict(YEARS_PER_AGE_UNIT, default=None, return_dtype=pl.Float64)
    return number * factor


def _phase_label(phases: pl.Expr) -> pl.Expr:
    labels = phases.list.eval(pl.element().replace_strict(PHASE_LABELS, default=pl.element()))
    return pl.when(phases.list.len() > 0).then(labels.list.join("/"))


def _country_codes(names: pl.Series) -> pl.Series:
    # A batch holds a few hundred distinct names among its many thousand sites: each is looked up once.
    codes = {name: country_code(name) for name in names.unique().drop_nulls()}
    return names.replace_strict(codes, default=None, return_dtype=pl.String)


def _country_code(name: pl.Expr) -> pl.Expr:
    return name.map_batches(_country_codes, return_dtype=pl.String)


def _timestamp(raw: pl.Expr) -> pl.Expr:
    text = raw.str.strip_chars()
    return pl.coalesce(
        text.str.to_datetime("%Y-%m-%dT%H:%M", strict=False, time_unit="us"),
        text.str.to_datetime("%Y-%m-%dT%H:%M:%S", strict=False, time_unit="us"),
    )


# ---- numbers the registry writes as text
#
# Most are plain ("12.5", "-3", "1e-05") and polars' float cast reads them, column-wise. The rest
# ("NA", "<0.001", "≤ 0.05", "0.05*", "1,234", "1.2x10^-5") are few and recur from study to
# study, so each distinct one is read once, by a regular expression: a leading "p =", an
# inequality (<, <=, >, >=, ≤, ≥, =<, =>), a number with thousands separators or a decimal comma,
# a power of ten, trailing asterisks (footnote marks). Anything else (NA, NE, "not estimable", a
# range) is no number. One numeric derivation is a handful of Series operations, not a tree of
# expressions: polars plans every expression node anew for each batch's frame.

NUMBER_PATTERN = re.compile(
    r"^(?:[pP][ \t]*)?(?P<sign>[<>][ \t]*=|=[ \t]*[<>]|[<>≤≥⩽⩾])?[ \t]*=?[ \t]*"
    r"(?P<mantissa>[-+]?(?:[0-9]+(?:,[0-9]+)*)?(?:\.[0-9]*)?)"
    r"(?:[ \t]*(?:[eE]|[xX×*][ \t]*10[ \t]*\^?)[ \t]*(?P<exponent>[-+]?[0-9]+))?[ \t]*\**$"
)
THOUSANDS_PATTERN = re.compile(r"^[-+]?[1-9][0-9]{0,2}(?:,[0-9]{3})+(?:\.[0-9]*)?$")
INEQUALITIES = {"<": "<", "<=": "<=", "=<": "<=", "≤": "<=", "⩽": "<=", ">": ">", ">=": ">=", "=>": ">=", "≥": ">=", "⩾": ">="}
_ODD_NUMBERS: dict[str, tuple[float | None, str | None]] = {}


def read_number(text: str) -> tuple[float | None, str | None]:
    """(the number or the bound of an inequality, the inequality) written in `text`; (None, None)
    when it holds no number."""
    found = _ODD_NUMBERS.get(text)
    if found is None:
        found = (None, None)
        match = NUMBER_PATTERN.match(text.replace("−", "-").strip())
        if match is not None:
            mantissa = match["mantissa"]
            mantissa = mantissa.replace(",", "") if THOUSANDS_PATTERN.match(mantissa) else mantissa.replace(",", ".", 1)
            try:
                # Read with its exponent, as written: 1.5e-8, not 1.5 * 10.0 ** -8 (1.5000000000000002e-08).
                number = float(f"{mantissa}e{match['exponent'] or 0}")
            except ValueError:
                number = None
            if number is not None and math.isfinite(number):
                sign = match["sign"]
                found = (number, INEQUALITIES[sign.replace(" ", "").replace("\t", "")] if sign else None)
        if len(_ODD_NUMBERS) >= 100_000:
            _ODD_NUMBERS.clear()
        _ODD_NUMBERS[text] = found
    return found


def _numbers(raw: pl.Series) -> tuple[pl.Series, pl.Series | None]:
    """(number or bound, inequality sign) for each text of a column; the sign None when no text
    has one. Each operation here costs a fixed ~0.1 ms besides its work: the common case (plain
    numbers, NAs) takes a cast and two counts."""
    number = raw.cast(pl.Float64, strict=False)
    if number.is_nan().any() or number.is_infinite().any():
        number = number.to_frame().select(pl.when(pl.first().is_finite()).then(pl.first())).to_series()
    if number.null_count() == raw.null_count():
        return number, None
    odd = raw.filter(number.is_null() & raw.is_not_null()).unique()
    read = {text: read_number(text) for text in odd}
    numbers = {text: n for text, (n, _) in read.items() if n is not None}
    if numbers:
        number = number.fill_null(raw.replace_strict(numbers, default=None, return_dtype=pl.Float64))
    signs = {text: sign for text, (_, sign) in read.items() if sign is not None}
    return number, raw.replace_strict(signs, default=None, return_dtype=pl.String) if signs else None


def _on_numbers(pick: Callable[[pl.Series, pl.Series | None], pl.Series], dtype: pl.DataType) -> Callable[[pl.Expr], pl.Expr]:
    return lambda raw: raw.map_batches(lambda series: pick(*_numbers(series)), return_dtype=dtype)


def _exact(number: pl.Series, sign: pl.Series | None) -> pl.Series:
    return number if sign is None else number.zip_with(sign.is_null(), pl.Series([None], dtype=pl.Float64))


def _whole(number: pl.Series, sign: pl.Series | None) -> pl.Series:
    exact = _exact(number, sign)
    fits = (exact == exact.floor()) & exact.is_between(-(2**31), 2**31 - 1)
    return exact.zip_with(fits.fill_null(False), pl.Series([None], dtype=pl.Float64)).cast(pl.Int64)


def _sign(number: pl.Series, sign: pl.Series | None) -> pl.Series:
    return pl.repeat(None, number.len(), dtype=pl.String, eager=True) if sign is None else sign


_number = _on_numbers(_exact, pl.Float64())  # a plain number: null for an inequality, NA or other text
_bounded_number = _on_numbers(lambda number, sign: number, pl.Float64())  # '<0.001' gives 0.001
_inequality = _on_numbers(_sign, pl.String())  # a sign always comes with a number (read_number)
_integer = _on_numbers(_whole, pl.Int64())  # a whole number that fits an INTEGER


def _denominator_units(selected: pl.Expr) -> pl.Expr:
    # A measure counts participants unless it names the units it selected (as AACT reads it).
    return pl.coalesce(selected, pl.lit("Participants"))


DERIVATIONS = {
    "date": _date_from_raw,
    "date_precision": _precision_from_raw,
    "age_years": _age_years,
    "phase_label": _phase_label,
    "country_code": _country_code,
    "timestamp": _timestamp,
    "number": _number,
    "bounded_number": _bounded_number,
    "inequality": _inequality,
    "integer": _integer,
    "denominator_units": _denominator_units,
}

_STRING_LIST = pl.List(pl.String())
_ARROW_STRING_LIST = pa.list_(pa.string())


def _series(name: str, values: list, dtype: pl.DataType) -> pl.Series:
    """The column polars' non-strict constructor makes of `values`.

    A list-of-strings column is built through Arrow, which takes only None or lists of
    str/None (and str, split into characters as polars does) and is many times faster than
    polars' row-by-row conversion; anything else it refuses goes the polars way.
    """
    if dtype == _STRING_LIST:
        try:
            return pl.Series(name, pa.array(values, _ARROW_STRING_LIST))
        except (pa.ArrowException, TypeError, ValueError):
            pass
    return pl.Series(name, values, dtype=dtype, strict=False)


def _precision_from_date(raw: pl.Expr, date: pl.Expr) -> pl.Expr:
    """`_precision_from_raw(raw)`, given the column that holds `_date_from_raw(raw)`."""
    text = raw.str.strip_chars()
    return (
        pl.when(date.is_null()).then(pl.lit(None, dtype=pl.String))
        .when(text.str.len_chars() == 10).then(pl.lit("day"))
        .when(text.str.len_chars() == 7).then(pl.lit("month"))
        .otherwise(pl.lit("year"))
    )


def _derivations(table: Table) -> tuple[list[pl.Expr], list[pl.Expr]]:
    """The derived columns' expressions, in two rounds: a date's precision comes second, from
    the date already parsed, when the table derives that date too."""
    dates = {c.derive.from_column: c.name for c in table.columns if c.derive is not None and c.derive.kind == "date"}
    first, second = [], []
    for c in table.columns:
        if c.derive is None:
            continue
        dtype = POLARS_TYPES[c.type]
        if isinstance(c.derive, Lookup):
            # Filled once the batch's other tables are ready (`_look_up`).
            first.append(pl.lit(None, dtype=dtype).alias(c.name))
            continue
        raw = pl.col(c.derive.from_column)
        if c.derive.kind == "date_precision" and c.derive.from_column in dates:
            second.append(_precision_from_date(raw, pl.col(dates[c.derive.from_column])).cast(dtype).alias(c.name))
        else:
            first.append(DERIVATIONS[c.derive.kind](raw).cast(dtype).alias(c.name))
    return first, second


_DERIVED = {t.name: _derivations(t) for t in schema.STUDY_TABLES}


_SORT_KEY = "__study__"


@dataclass(frozen=True)
class _Repeated:
    """A column of one value: converted once, then repeated (by polars) for every row."""

    value: Any
    n_rows: int


class _StudyIds:
    """The batch's NCT ids as a column of each type asked for, made once."""

    def __init__(self, nct_ids: list[str]) -> None:
        self.nct_ids = nct_ids
        self.by_type: dict[pl.DataType, pl.Series] = {}

    def series(self, dtype: pl.DataType) -> pl.Series:
        found = self.by_type.get(dtype)
        if found is None:
            found = self.by_type[dtype] = _series("", self.nct_ids, dtype)
        return found


class ValuesDoNotFit(ValueError):
    """Some of a column's values can't take its type as they are (an object where text belongs,
    "abc" or 10**12 in an INTEGER column): raised rather than let polars null or mangle them
    unseen. `shape.misfits` says which values, with their paths, for the loader to keep."""


# What each column type takes as it is (shape.fits agrees): text columns take any scalar, as text.
_FITTING_TYPES: dict[str, frozenset[type]] = {
    "VARCHAR": frozenset({str, int, float, bool, NoneType}),
    "INTEGER": frozenset({int, NoneType}),
    "BIGINT": frozenset({int, NoneType}),
    "DOUBLE": frozenset({int, float, NoneType}),
    "BOOLEAN": frozenset({bool, NoneType}),
    "VARCHAR[]": frozenset({list, NoneType}),
}
_RANGED_TYPES = frozenset({"INTEGER", "BIGINT"})
# Types whose strict polars constructor takes exactly what fits them as they are (str or None;
# bool or None): integer columns are left out, as polars also takes True for 1.
_STRICT_TYPES = frozenset({"VARCHAR", "BOOLEAN"})


def _column(column: Column, values: Any, nct_ids: _StudyIds | None, study_column: bool) -> pl.Series:
    """A column's series from its gathered values: a list, a `_Repeated` value, a ready series,
    or (for a study column) indices into the batch's NCT ids. Values the column's type can't
    take raise ValuesDoNotFit (one pass over their types; integers out of range show as nulls)."""
    dtype = POLARS_TYPES[column.type]
    if study_column:
        return nct_ids.series(dtype).gather(values).alias(column.name)
    if isinstance(values, pl.Series):
        return values
    if isinstance(values, _Repeated):
        return _series(column.name, [values.value], dtype).gather([0] * values.n_rows)
    if column.type in _STRICT_TYPES:
        # Most columns hold exactly their type: polars' strict constructor says so while it
        # converts (a separate pass over the types cost as much as the conversion).
        try:
            return pl.Series(column.name, values, dtype=dtype, strict=True)
        except TypeError:
            pass  # a number in a text column, or a misfit: checked below
    fitting = _FITTING_TYPES.get(column.type)
    if fitting is not None and not set(map(type, values)) <= fitting:
        raise ValuesDoNotFit(column.name)
    series = _series(column.name, values, dtype)
    if column.type in _RANGED_TYPES and series.null_count() != values.count(None):
        raise ValuesDoNotFit(column.name)
    return series


def _frame(
    table: Table,
    columns: dict[str, Any] | list[dict[str, Any]],
    sort_by: list[int] | None = None,
    ordered: dict[str, list] | None = None,
    study_columns: frozenset[str] = frozenset(),
    nct_ids: _StudyIds | None = None,
) -> pl.DataFrame:
    """Typed frame in the table's declared column order, derived columns computed.

    `columns` maps names to values as `_column` takes them; it may be a list of such dicts, whose
    rows follow one another. `sort_by`, when given, is a key by which the rows are then sorted,
    stably; `ordered` holds more columns, already in the sorted order. Columns named in
    `study_columns` hold indices into `nct_ids`.
    """
    extracted = [c for c in table.columns if c.derive is None]
    parts = [
        pl.DataFrame([_column(c, part[c.name], nct_ids, c.name in study_columns) for c in extracted if c.name in part])
        for part in (columns if isinstance(columns, list) else [columns])
    ]
    frame = parts[0] if len(parts) == 1 else pl.concat(parts)
    if sort_by is not None:
        frame = (
            frame.with_columns(pl.Series(_SORT_KEY, sort_by, dtype=pl.Int64))
            .sort(_SORT_KEY, maintain_order=True)
            .drop(_SORT_KEY)
        )
    if ordered:
        frame = frame.with_columns(
            [_series(c.name, ordered[c.name], POLARS_TYPES[c.type]) for c in extracted if c.name in ordered]
        )
    if table.distinct:
        frame = _distinct_rows(table, frame)
    first, second = _DERIVED[table.name] if table.name in _DERIVED else _derivations(table)
    if first or second:
        # Derived columns are computed on the columns they read, alone: polars copies the text of
        # every string column of a frame an expression runs over (a 200 MB field, twice).
        inputs = frame[sorted({c.derive.from_column for c in table.columns
                               if c.derive is not None and not isinstance(c.derive, Lookup)})]
        if first:
            inputs = inputs.with_columns(first)
        if second:
            inputs = inputs.with_columns(second)
        frame.hstack([inputs[c.name] for c in table.columns if c.derive is not None], in_place=True)
    # Indexing, not select(): select copies string columns too.
    return frame[[c.name for c in table.columns]]


def _distinct_rows(table: Table, frame: pl.DataFrame) -> pl.DataFrame:
    """The first of a study's rows with each value of `table.distinct`, none lacking one, its
    positions counted again over the rows kept."""
    kept = frame.filter(pl.all_horizontal(pl.col(name).is_not_null() for name in table.distinct)).unique(
        subset=["nct_id", *table.distinct], keep="first", maintain_order=True
    )
    return kept.with_columns(
        pl.int_range(1, pl.len() + 1, dtype=POLARS_TYPES[c.type]).over("nct_id").alias(c.name) for c in table.columns if c.position
    )


# ---------------------------------------------------------------- lookups (polars joins, per batch)

_LOOKUPS = {
    t.name: lookups for t in schema.STUDY_TABLES
    if (lookups := tuple((c, c.derive) for c in t.columns if isinstance(c.derive, Lookup)))
}


def _folded(text: pl.Expr) -> pl.Expr:
    return text.str.replace_all(r"\s+", " ").str.strip_chars().str.to_lowercase()


def _look_up(frame: pl.DataFrame, column: Column, lookup: Lookup | None, frames: dict[str, pl.DataFrame]) -> pl.Series:
    """A Lookup column of `frame`: each row's value from the first of the lookup's tables (in the
    batch's `frames`) that has a matching row; the first matching row wins."""
    found = pl.Series(column.name, [None] * frame.height, dtype=POLARS_TYPES[column.type])
    while lookup is not None and found.null_count():
        other = frames[lookup.table]
        if lookup.fold:
            # Only rows sharing the first key (the study) can match: the rest are dropped before the
            # folding, the costly part (a batch's outcomes are several times those that have results).
            ours, its = lookup.on[0]
            other = other.join(frame.select(pl.col(ours).alias(its)).unique(), on=its, how="semi")
        if other.height:
            recode = {ours: dict(codes) for ours, codes in lookup.recode}
            keys, mine, theirs = [], [], []
            for k, (ours, its) in enumerate(lookup.on):
                key = f"__key{k}"
                left, right = pl.col(ours), pl.col(its)
                if ours in recode:
                    left = left.replace_strict(recode[ours], default=None, return_dtype=other.schema[its])
                if ours in lookup.fold:
                    left, right = _folded(left), _folded(right)
                keys.append(key)
                mine.append(left.alias(key))
                theirs.append(right.alias(key))
            matches = other.select(*theirs, pl.col(lookup.value).alias("__value")).unique(keys, keep="first", maintain_order=True)
            value = frame.select(mine).join(matches, on=keys, how="left", maintain_order="left")["__value"]
            found = found.fill_null(value.cast(found.dtype))
        lookup = lookup.otherwise
    return found


# ---------------------------------------------------------------- entry point

# Studies read together, column-wise: large enough that Python's work per source is spread thin,
# small enough that the chunk's objects are still in the CPU cache from one source to the next.
CHUNK_STUDIES = 128


def normalize(studies: Iterable[dict], mapped: Iterable[bool] | None = None) -> dict[str, pl.DataFrame]:
    """One frame per study table (schema.STUDY_TABLES) for a batch of canonical studies; `mapped`,
    when given, says per study that it holds no unmapped value (`shape.screen` found every key
    read), so that only the others are looked through for them."""
    # Normalizing makes no reference cycles, but its long column lists make every cyclic
    # collection that runs meanwhile slower; collection waits until the batch is done.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _normalize(studies, mapped)
    finally:
        if collecting:
            gc.enable()


def _normalize(studies: Iterable[dict], mapped: Iterable[bool] | None) -> dict[str, pl.DataFrame]:
    tables = [_TableRows(c, c.plans) for c in MAPPED_TABLES if c.plans is not None]
    by_study = [(c, [[] for _ in c.extracted]) for c in MAPPED_TABLES if c.plans is None]
    link_rows: list[tuple] = []
    sections: dict[str, list] = {"nct_id": [], "section": [], "section_json": []}
    unmapped: list[tuple[str, str]] = []
    unmapped_ids: list[str] = []
    all_nct_ids: list[str] = []
    # Studies are taken chunk by chunk, so that a lazy iterable (one that parses as it goes) is
    # read while its studies are fresh in the CPU cache.
    remaining = iter(studies)
    mapped_flags = iter(repeat(False) if mapped is None else mapped)
    while chunk := list(islice(remaining, CHUNK_STUDIES)):
        base = len(all_nct_ids)
        nct_ids = [study["protocolSection"]["identificationModule"]["nctId"] for study in chunk]
        all_nct_ids += nct_ids
        level = _chunk_levels(chunk)
        for rows in tables:
            rows.add_chunk(level, all_nct_ids, base)
        for compiled, out in by_study:
            for study, nct_id in zip(chunk, nct_ids):
                _extract(compiled, study, nct_id, out)
        # Only a study with an armsInterventionsModule can have links.
        for i in compress(range(len(chunk)), level(_ARMS_INTERVENTIONS)):
            nct_id = nct_ids[i]
            link_rows += [(nct_id, *link) for link in arm_intervention_links(chunk[i])]
        for i, section, text in _chunk_sections(level):
            sections["nct_id"].append(nct_ids[i])
            sections["section"].append(section)
            sections["section_json"].append(text)
        # Unmapped values: the chunk is checked at once (unless every study is known to hold
        # none), and only a chunk holding some is walked.
        flags = list(islice(mapped_flags, len(chunk)))
        known_mapped = len(flags) == len(chunk) and all(flags)
        if not known_mapped and not _clean_values(chunk, _UNMAPPED_ROOT):
            for study, nct_id in zip(chunk, nct_ids):
                n_unmapped = len(unmapped)
                _unmapped_walk(study, _UNMAPPED_ROOT, "", unmapped)
                unmapped_ids += repeat(nct_id, len(unmapped) - n_unmapped)

    frames = {}
    study_ids = _StudyIds(all_nct_ids)
    finished = iter(tables)
    by_study_columns = iter(out for _, out in by_study)
    for c in MAPPED_TABLES:
        if c.plans is not None:
            frames[c.table.name] = _frame(c.table, *next(finished).finish(), nct_ids=study_ids)
        else:
            frames[c.table.name] = _frame(c.table, {col.name: v for col, v in zip(c.extracted, next(by_study_columns))})
    # Lookups read other tables of the batch, so they come once every frame is made.
    for name, lookups in _LOOKUPS.items():
        frame = frames[name]
        if frame.height:
            frames[name] = frame.with_columns([_look_up(frame, column, lookup, frames) for column, lookup in lookups])
    link_names = [c.name for c in schema.ARM_INTERVENTIONS.columns]
    link_columns = [list(v) for v in zip(*link_rows)] if link_rows else [[] for _ in link_names]
    frames[schema.ARM_INTERVENTIONS.name] = _frame(schema.ARM_INTERVENTIONS, dict(zip(link_names, link_columns)))
    # orjson's UTF-8 goes to the column as is, through Arrow, not decoded to str and encoded back.
    if table_schema(schema.RECORD_SECTIONS)["section_json"] == pl.String:
        sections["section_json"] = pl.Series(
            "section_json", pa.array(sections["section_json"], pa.large_binary()).cast(pa.large_string())
        )
    else:
        sections["section_json"] = [blob.decode() for blob in sections["section_json"]]
    frames[schema.RECORD_SECTIONS.name] = _frame(schema.RECORD_SECTIONS, sections)
    frames[schema.UNMAPPED_VALUES.name] = _frame(schema.UNMAPPED_VALUES, {
        "nct_id": unmapped_ids, "path": [p for p, _ in unmapped], "value": [v for _, v in unmapped],
    })
    return {t.name: frames[t.name] for t in schema.STUDY_TABLES}
