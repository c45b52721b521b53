"""Canonical studies in, one polars frame per study table out, driven by the mapping in `schema.py`.

Extraction walks each study once per source path and gathers plain column lists; every derived
value (DATEs, precisions, ages in years, phase labels) is then computed by polars, column-wise.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable, Iterator

import orjson
import polars as pl

from pipeline.tables import schema
from pipeline.tables.schema import Column, Table

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

Step = tuple[tuple[str, ...], bool]  # keys to descend, then whether to fan out over a list


def _compile_path(path: str) -> tuple[Step, ...]:
    parts = path.split("[]")
    return tuple((tuple(k for k in part.split(".") if k), i < len(parts) - 1) for i, part in enumerate(parts))


def _elements(node: Any, steps: tuple[Step, ...], positions: tuple[int, ...] = ()) -> Iterator[tuple[Any, tuple[int, ...]]]:
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
                yield from _elements(element, rest, positions + (i,))
    elif isinstance(node, dict) and node or not isinstance(node, (dict, list)):
        yield node, positions


@dataclass(frozen=True)
class _CompiledSource:
    steps: tuple[Step, ...]
    # per column: ("path", keys) | ("self",) | ("position_at", i) | ("constant", value) | ("running",) | ("nct_id",)
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
    return ("path", tuple(path.split(".")))


@dataclass(frozen=True)
class _CompiledTable:
    table: Table
    extracted: tuple[Column, ...]  # columns read from the record (the rest are derived)
    sources: tuple[_CompiledSource, ...]


def _compile(table: Table) -> _CompiledTable:
    extracted = tuple(c for c in table.columns if c.derive is None)
    sources = tuple(
        _CompiledSource(_compile_path(s.path), tuple(_getter(c, s) for c in extracted)) for s in table.sources
    )
    return _CompiledTable(table, extracted, sources)


MAPPED_TABLES = tuple(_compile(t) for t in schema.STUDY_TABLES if t.sources)


def _dig(node: Any, keys: tuple[str, ...]) -> Any:
    for key in keys:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node


def _extract(compiled: _CompiledTable, study: dict, nct_id: str, out: list[list]) -> None:
    running = 0
    for source in compiled.sources:
        for element, positions in _elements(study, source.steps):
            running += 1
            for column_values, getter in zip(out, source.getters):
                kind = getter[0]
                if kind == "path":
                    value = _dig(element, getter[1])
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


# ---------------------------------------------------------------- links, whole sections, unmapped values

def _norm_label(text: Any) -> str:
    return " ".join(str(text).split()).casefold()


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
    for arm_position, arm in enumerate(arms, 1):
        for entry in arm.get("interventionNames") or []:
            type_title, sep, name = str(entry).partition(": ")
            wanted_type = INTERVENTION_TYPE_TITLES.get(type_title) if sep else None
            wanted_name = _norm_label(name if wanted_type else entry)
            candidates = [
                position for position, iv in enumerate(interventions, 1)
                if _norm_label(iv.get("name", "")) == wanted_name and (wanted_type is None or iv.get("type") == wanted_type)
            ]
            if not candidates or any((arm_position, c) in pairs for c in candidates):
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
                full = raw.path if path == "." else ".".join(p for p in (raw.path, path) if p)
                mark(full + "[]" if column.type.endswith("[]") else full)
    # Link data: resolved into arm_interventions and kept verbatim as list columns above.
    for section in schema.WHOLE_SECTIONS:
        mark(section)
    return trie


MAPPED_TRIE = _mapped_trie()


def unmapped_values(study: dict) -> Iterator[tuple[str, str]]:
    """(path, value) for every leaf of the record that no column reads and no whole section keeps."""

    def leaves(node: Any, path: str) -> Iterator[tuple[str, str]]:
        if isinstance(node, dict):
            for key, value in node.items():
                yield from leaves(value, f"{path}.{key}" if path else key)
        elif isinstance(node, list):
            for i, value in enumerate(node):
                yield from leaves(value, f"{path}[{i}]")
        elif node is not None and node != "":
            yield path, node if isinstance(node, str) else orjson.dumps(node).decode()

    def walk(node: Any, trie: dict, path: str) -> Iterator[tuple[str, str]]:
        if isinstance(node, dict):
            for key, value in node.items():
                sub = trie.get(key)
                child_path = f"{path}.{key}" if path else key
                if sub is True:
                    continue
                if sub is None:
                    yield from leaves(value, child_path)
                else:
                    yield from walk(value, sub, child_path)
        elif isinstance(node, list):
            sub = trie.get("[]")
            if sub is True:
                return
            for i, value in enumerate(node):
                if sub is None:
                    yield from leaves(value, f"{path}[{i}]")
                else:
                    yield from walk(value, sub, f"{path}[{i}]")
        elif node is not None and node != "":
            # A scalar where the mapping expects an object or a list: keep it rather than drop it.
            yield path, node if isinstance(node, str) else orjson.dumps(node).decode()

    yield from walk(study, MAPPED_TRIE, "")


def whole_sections(study: dict) -> Iterator[tuple[str, str]]:
    for section in schema.WHOLE_SECTIONS:
        value = _dig(study, tuple(section.split(".")))
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


DERIVATIONS = {
    "date": _date_from_raw,
    "date_precision": _precision_from_raw,
    "age_years": _age_years,
    "phase_label": _phase_label,
}


def _frame(table: Table, columns: dict[str, list]) -> pl.DataFrame:
    """Typed frame in the table's declared column order, derived columns computed."""
    extracted_schema = {c.name: POLARS_TYPES[c.type] for c in table.columns if c.derive is None}
    frame = pl.DataFrame(columns, schema=extracted_schema, strict=False)
    derived = [
        DERIVATIONS[c.derive.kind](pl.col(c.derive.from_column)).cast(POLARS_TYPES[c.type]).alias(c.name)
        for c in table.columns
        if c.derive is not None
    ]
    if derived:
        frame = frame.with_columns(derived)
    return frame.select([c.name for c in table.columns])


# ---------------------------------------------------------------- entry point

def normalize(studies: Iterable[dict]) -> dict[str, pl.DataFrame]:
    """One frame per study table (schema.STUDY_TABLES) for a batch of canonical studies."""
    gathered = {c.table.name: [[] for _ in c.extracted] for c in MAPPED_TABLES}
    links: dict[str, list] = {c.name: [] for c in schema.ARM_INTERVENTIONS.columns}
    sections: dict[str, list] = {"nct_id": [], "section": [], "section_json": []}
    unmapped: dict[str, list] = {"nct_id": [], "path": [], "value": []}
    for study in studies:
        nct_id = study["protocolSection"]["identificationModule"]["nctId"]
        for compiled in MAPPED_TABLES:
            _extract(compiled, study, nct_id, gathered[compiled.table.name])
        for arm_label, iv_name, arm_position, iv_position, iv_type in arm_intervention_links(study):
            for name, value in zip(links, (nct_id, arm_label, iv_name, arm_position, iv_position, iv_type)):
                links[name].append(value)
        for section, text in whole_sections(study):
            sections["nct_id"].append(nct_id)
            sections["section"].append(section)
            sections["section_json"].append(text)
        for path, value in unmapped_values(study):
            unmapped["nct_id"].append(nct_id)
            unmapped["path"].append(path)
            unmapped["value"].append(value)
    frames = {
        c.table.name: _frame(c.table, {col.name: values for col, values in zip(c.extracted, gathered[c.table.name])})
        for c in MAPPED_TABLES
    }
    frames[schema.ARM_INTERVENTIONS.name] = _frame(schema.ARM_INTERVENTIONS, links)
    frames[schema.RECORD_SECTIONS.name] = _frame(schema.RECORD_SECTIONS, sections)
    frames[schema.UNMAPPED_VALUES.name] = _frame(schema.UNMAPPED_VALUES, unmapped)
    return {t.name: frames[t.name] for t in schema.STUDY_TABLES}
