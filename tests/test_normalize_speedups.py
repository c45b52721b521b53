"""The column-wise normalizer against the plain one it replaced: same frames, value for value.

`reference_normalize` below is the straightforward implementation, one study and one column at
a time; the fast one reads chunks of studies column-wise, checks whole chunks for unmapped
values and builds frames from Arrow where it can. They must agree on real records, on records
mangled at random (nulls, scalars where objects belong, empty objects, unknown keys, lists
where strings belong), across chunk boundaries, and for lazy input.
"""
from __future__ import annotations

import copy
import gc
import random
from pathlib import Path
from typing import Any, Iterator

import orjson
import polars as pl
import pytest

from pipeline.documents import read_document
from pipeline.documents.model import StudyRecord
from pipeline.tables import normalize as N
from pipeline.tables import schema, shape

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "raw" / "ctgov_v2"


# ---- the reference: one study, one column at a time ------------------------------------------

def _reference_unmapped(study: dict) -> Iterator[tuple[str, str]]:
    def text(value: Any) -> str:
        return value if isinstance(value, str) else orjson.dumps(value).decode()

    def leaves(node: Any, path: str) -> Iterator[tuple[str, str]]:
        if isinstance(node, dict):
            for key, value in node.items():
                yield from leaves(value, f"{path}.{key}" if path else key)
        elif isinstance(node, list):
            for i, value in enumerate(node):
                yield from leaves(value, f"{path}[{i}]")
        elif node is not None and node != "":
            yield path, text(node)

    def walk(node: Any, trie: dict, path: str) -> Iterator[tuple[str, str]]:
        if isinstance(node, dict):
            for key, value in node.items():
                sub = trie.get(key)
                child_path = f"{path}.{key}" if path else key
                if sub is None:
                    yield from leaves(value, child_path)
                elif sub is not True:
                    yield from walk(value, sub, child_path)
        elif isinstance(node, list):
            sub = trie.get("[]")
            if sub is True:
                return
            for i, value in enumerate(node):
                yield from (leaves(value, f"{path}[{i}]") if sub is None else walk(value, sub, f"{path}[{i}]"))
        elif node is not None and node != "":
            yield path, text(node)

    yield from walk(study, N.MAPPED_TRIE, "")


def _reference_distinct(table: schema.Table, columns: dict[str, list]) -> dict[str, list]:
    """The rows of a `distinct` table, one by one: the first of a study's rows with each value,
    none lacking one, positions counted again."""
    kept: list[dict] = []
    seen: set[tuple] = set()
    per_study: dict[str, int] = {}
    for values in zip(*columns.values()):
        row = dict(zip(columns, values))
        wanted = tuple(row[name] for name in table.distinct)
        if None in wanted or (row["nct_id"], wanted) in seen:
            continue
        seen.add((row["nct_id"], wanted))
        per_study[row["nct_id"]] = per_study.get(row["nct_id"], 0) + 1
        row.update({c.name: per_study[row["nct_id"]] for c in table.columns if c.position})
        kept.append(row)
    return {name: [row[name] for row in kept] for name in columns}


def _reference_frame(table: schema.Table, columns: dict[str, list]) -> pl.DataFrame:
    """Lookup columns are left null here: `_reference_lookups` fills them once every frame is made."""
    extracted = {c.name: N.POLARS_TYPES[c.type] for c in table.columns if c.derive is None}
    frame = pl.DataFrame(columns, schema=extracted, strict=False)
    if table.distinct:
        # On the typed values: a country that is no string (a mangled record's list) is null, so no country.
        frame = pl.DataFrame(_reference_distinct(table, frame.to_dict(as_series=False)), schema=extracted)
    derived = [
        (pl.lit(None) if isinstance(c.derive, schema.Lookup) else N.DERIVATIONS[c.derive.kind](pl.col(c.derive.from_column)))
        .cast(N.POLARS_TYPES[c.type]).alias(c.name)
        for c in table.columns if c.derive is not None
    ]
    return (frame.with_columns(derived) if derived else frame).select([c.name for c in table.columns])


def _lookup_key(value: Any, column: str, lookup: schema.Lookup, ours: bool) -> Any:
    if ours and column in dict(lookup.recode):
        value = dict(dict(lookup.recode)[column]).get(value)
    return " ".join(value.split()).lower() if isinstance(value, str) and column in lookup.fold else value


def _reference_lookups(frames: dict[str, pl.DataFrame]) -> None:
    """Lookup columns, row by row: the value of the first row of the first table that matches."""
    for table in schema.STUDY_TABLES:
        for column in table.columns:
            if not isinstance(column.derive, schema.Lookup):
                continue
            firsts: dict[int, dict] = {}  # per lookup of the chain: each key's first value
            values = []
            for row in frames[table.name].iter_rows(named=True):
                lookup, value = column.derive, None
                while lookup is not None and value is None:
                    if id(lookup) not in firsts:
                        firsts[id(lookup)] = {}
                        for other in frames[lookup.table].iter_rows(named=True):
                            theirs = tuple(_lookup_key(other[t], o, lookup, False) for o, t in lookup.on)
                            firsts[id(lookup)].setdefault(theirs, other[lookup.value])
                    ours = tuple(_lookup_key(row[o], o, lookup, True) for o, _ in lookup.on)
                    value = None if None in ours else firsts[id(lookup)].get(ours)
                    lookup = lookup.otherwise
                values.append(value)
            frames[table.name] = frames[table.name].with_columns(pl.Series(column.name, values, dtype=N.POLARS_TYPES[column.type]))


def reference_normalize(studies: list[dict]) -> dict[str, pl.DataFrame]:
    gathered = {c.table.name: [[] for _ in c.extracted] for c in N.MAPPED_TABLES}
    links: dict[str, list] = {c.name: [] for c in schema.ARM_INTERVENTIONS.columns}
    sections: dict[str, list] = {"nct_id": [], "section": [], "section_json": []}
    unmapped: dict[str, list] = {"nct_id": [], "path": [], "value": []}
    for study in studies:
        nct_id = study["protocolSection"]["identificationModule"]["nctId"]
        for compiled in N.MAPPED_TABLES:
            N._extract(compiled, study, nct_id, gathered[compiled.table.name])
        for link in N.arm_intervention_links(study):
            for name, value in zip(links, (nct_id, *link)):
                links[name].append(value)
        for section in schema.WHOLE_SECTIONS:
            value = N._dig(study, tuple(section.split(".")))
            if value not in (None, {}, []):
                for name, v in zip(sections, (nct_id, section, orjson.dumps(value).decode())):
                    sections[name].append(v)
        for path, value in _reference_unmapped(study):
            for name, v in zip(unmapped, (nct_id, path, value)):
                unmapped[name].append(v)
    frames = {
        c.table.name: _reference_frame(c.table, {col.name: v for col, v in zip(c.extracted, gathered[c.table.name])})
        for c in N.MAPPED_TABLES
    }
    _reference_lookups(frames)
    frames[schema.ARM_INTERVENTIONS.name] = _reference_frame(schema.ARM_INTERVENTIONS, links)
    frames[schema.RECORD_SECTIONS.name] = _reference_frame(schema.RECORD_SECTIONS, sections)
    frames[schema.UNMAPPED_VALUES.name] = _reference_frame(schema.UNMAPPED_VALUES, unmapped)
    return {t.name: frames[t.name] for t in schema.STUDY_TABLES}


def assert_same_frames(got: dict[str, pl.DataFrame], want: dict[str, pl.DataFrame]) -> None:
    assert list(got) == list(want)
    for name in want:
        assert got[name].schema == want[name].schema, name
        assert got[name].equals(want[name], null_equal=True), (name, got[name], want[name])


# ---- inputs ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def samples() -> list[dict]:
    studies = [
        item.study
        for path in sorted(SAMPLES.glob("*.json"))
        for item in read_document(path).items
        if isinstance(item, StudyRecord)
    ]
    assert len(studies) > 200
    return studies


ODD_VALUES = [None, "", "x", " 2024-03 ", 0, 7, 2.5, True, False, [], {}, ["a"], [None], [1, "b"], {"k": "v"},
              {"date": "2024"}, [{"a": 1}], [[]], [{}], "18 Years", "2024-02-30", ["PHASE1", None], {"": 1}]


def mangle(study: dict, rng: random.Random, rate: float) -> dict:
    """A copy with values replaced by odd ones, keys dropped and unknown keys added, at `rate`."""

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            for key in list(node):
                roll = rng.random()
                if roll < rate:
                    node[key] = copy.deepcopy(rng.choice(ODD_VALUES))
                elif roll < rate * 1.5:
                    del node[key]
                else:
                    node[key] = walk(node[key])
            if rng.random() < rate:
                node[rng.choice(["newField", "date", "id", "name", "[]"])] = copy.deepcopy(rng.choice(ODD_VALUES))
        elif isinstance(node, list):
            for i in range(len(node)):
                node[i] = copy.deepcopy(rng.choice(ODD_VALUES)) if rng.random() < rate else walk(node[i])
        return node

    mangled = walk(copy.deepcopy(study))
    protocol = mangled.get("protocolSection")
    if not isinstance(protocol, dict):
        protocol = mangled["protocolSection"] = {}
    if not isinstance(protocol.get("identificationModule"), dict):
        protocol["identificationModule"] = {}
    return mangled


def mangled_studies(samples: list[dict], seed: int, n: int = 400) -> list[dict]:
    """Mangled studies as the loader hands them to the normalizer: those whose structure the
    mapping accepts (shape.check), with the leaf values that don't fit their columns taken out
    (shape.misfits), and that the reference normalizes without failing."""
    rng = random.Random(seed)
    studies = []
    for i in range(n):
        study = mangle(samples[rng.randrange(len(samples))], rng, rng.choice([0.02, 0.1, 0.3]))
        study["protocolSection"]["identificationModule"]["nctId"] = f"NCT{seed:04d}{i:04d}"
        if shape.check([study]) != [None]:
            continue
        study = shape.without(study, [path for path, _ in shape.misfits(study)])
        try:
            reference_normalize([study])
        except Exception:
            with pytest.raises(Exception):
                N.normalize([study])
            continue
        studies.append(study)
    return studies


# ---- tests -----------------------------------------------------------------------------------

@pytest.mark.parametrize("chunk", [1, 7, N.CHUNK_STUDIES])
def test_samples_match_the_reference(samples: list[dict], chunk: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(N, "CHUNK_STUDIES", chunk)
    assert_same_frames(N.normalize(samples), reference_normalize(samples))


@pytest.mark.parametrize("seed", range(2))
def test_mangled_studies_match_the_reference(samples: list[dict], seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    studies = mangled_studies(samples, seed)
    assert len(studies) > 40
    monkeypatch.setattr(N, "CHUNK_STUDIES", 16)
    want = reference_normalize(studies)
    assert want["unmapped_values"].height > 0
    assert_same_frames(N.normalize(studies), want)


def test_lazy_input_and_no_input(samples: list[dict]) -> None:
    assert_same_frames(N.normalize(iter(samples[:40])), N.normalize(samples[:40]))
    assert_same_frames(N.normalize([]), reference_normalize([]))


def test_tables_without_a_plan_are_read_the_reference_way(samples: list[dict], monkeypatch: pytest.MonkeyPatch) -> None:
    unplanned = tuple(
        N._CompiledTable(c.table, c.extracted, c.sources, None, c.study_columns) if i % 2 else c
        for i, c in enumerate(N.MAPPED_TABLES)
    )
    monkeypatch.setattr(N, "MAPPED_TABLES", unplanned)
    studies = samples[:60] + mangled_studies(samples, 99, 200)
    assert_same_frames(N.normalize(studies), reference_normalize(studies))


def test_unmapped_values_keep_document_order_within_each_object() -> None:
    study = {
        "newTop": 1,
        "protocolSection": {
            "identificationModule": {"nctId": "NCT00000001", "zNew": "z"},
            "statusModule": {"overallStatus": "COMPLETED", "aNew": ["a", {"b": None, "c": False}]},
            "contactsLocationsModule": {"locations": [
                {"facility": "F", "geoPoint": {"lat": 1.5, "alt": 3}, "extra": ""},
                {"facility": "G", "contacts": [{"name": "N", "fax": "0"}], "geoPoint": 5},
            ]},
        },
        "lastKey": "last",
    }
    assert N.normalize([study])["unmapped_values"].select("path", "value").rows() == [
        ("newTop", "1"),
        ("protocolSection.identificationModule.zNew", "z"),
        ("protocolSection.statusModule.aNew[0]", "a"),
        ("protocolSection.statusModule.aNew[1].c", "false"),
        ("protocolSection.contactsLocationsModule.locations[0].geoPoint.alt", "3"),
        ("protocolSection.contactsLocationsModule.locations[1].contacts[0].fax", "0"),
        ("protocolSection.contactsLocationsModule.locations[1].geoPoint", "5"),
        ("lastKey", "last"),
    ]
    assert list(N.unmapped_values(study)) == list(_reference_unmapped(study))


@pytest.mark.parametrize("enabled", [True, False])
def test_garbage_collection_is_left_as_it_was(enabled: bool) -> None:
    was = gc.isenabled()
    try:
        gc.enable() if enabled else gc.disable()
        N.normalize([{"protocolSection": {"identificationModule": {"nctId": "NCT00000001"}}}])
        assert gc.isenabled() is enabled
    finally:
        gc.enable() if was else gc.disable()
