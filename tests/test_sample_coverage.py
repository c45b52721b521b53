"""Nothing in the real sample records is lost: every protocol and derived value lands somewhere.

Upstream quirks pinned here: the samples come in three containers (single-study files, JSON
arrays, an API page); records carry markdown escapes, month-only dates, integral floats
(`"maxBmi": 101.0`), arms that name their interventions as 'Type: Name' while interventions
name their arms by label, results nested four lists deep with every number written as text, and
parts with no tables yet (miscInfoModule.modelPredictions / submissionTracking) that are kept
whole as JSON. The warehouse is the session build of all of data/raw (samples plus the two seeds).
"""
from __future__ import annotations

import datetime as dt
import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, Iterator

import pytest

from pipeline.tables import schema

RAW_DIR = Path(__file__).resolve().parent.parent / "data" / "raw"
SAMPLE_FILES = sorted((RAW_DIR / "ctgov_v2").glob("*.json"))
SEED_NCT_IDS = {"NCT06486350", "NCT06442709"}
# Link data: checked as arm_interventions rows instead of as loose values.
LINK_LEAVES = (".armGroups[].interventionNames[]", ".interventions[].armGroupLabels[]")


def sample_studies() -> list[dict]:
    studies = []
    for path in SAMPLE_FILES:
        document = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(document, list):
            studies.extend(document)
        elif "studies" in document:
            studies.extend(document["studies"])
        else:
            studies.append(document)
    return studies


STUDIES = sample_studies()
BY_NCT_ID = {s["protocolSection"]["identificationModule"]["nctId"]: s for s in STUDIES}


def nct_id_of(study: dict) -> str:
    return study["protocolSection"]["identificationModule"]["nctId"]


def comparable(value: Any) -> set[str]:
    """The forms a value may take once stored: whitespace-normalised text, ints, 4-place floats."""
    if value is None:
        return set()
    if isinstance(value, (list, tuple)):
        return set().union(*(comparable(v) for v in value)) if value else set()
    if isinstance(value, bool):
        return {str(value).lower()}
    if isinstance(value, int):
        return {str(value)}
    if isinstance(value, float):
        forms = {f"{value:.4f}"}
        if value.is_integer():
            forms.add(str(int(value)))
        return forms
    if isinstance(value, (dt.date, dt.datetime)):
        return {value.isoformat()}
    return {" ".join(str(value).split())}


def leaves(node: Any, path: str) -> Iterator[tuple[str, Any]]:
    """(path, value) for every scalar; list positions written as [] so paths group by field."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from leaves(value, f"{path}.{key}")
    elif isinstance(node, list):
        for value in node:
            yield from leaves(value, f"{path}[]")
    elif node is not None and node != "":
        yield path, node


@pytest.fixture(scope="module")
def warehouse_values(sample_con) -> dict[str, set[str]]:
    """Every value of every loaded table row carrying an nct_id, per study; JSON kept whole is opened up.

    Left out: unmapped_values (a value found only there is one the mapping missed) and the SQL
    models, which only derive from the loaded tables.
    """
    tables = [t.name for t in schema.STUDY_TABLES if t is not schema.UNMAPPED_VALUES]
    with_nct_id = {
        name for (name,) in sample_con.execute(
            "select table_name from information_schema.columns where column_name = 'nct_id'"
        ).fetchall()
    }
    assert set(tables) <= with_nct_id
    values: dict[str, set[str]] = defaultdict(set)
    for table in tables:
        cursor = sample_con.execute(f"select * from {table}")
        names = [d[0] for d in cursor.description]
        for row in cursor.fetchall():
            record = dict(zip(names, row))
            bucket = values[record["nct_id"]]
            for name, value in record.items():
                if table == "record_sections" and name == "section_json":
                    for _, leaf in leaves(json.loads(value), ""):
                        bucket |= comparable(leaf)
                else:
                    bucket |= comparable(value)
    return values


def test_samples_are_the_250_documented_studies() -> None:
    assert len(STUDIES) == 250
    assert len(BY_NCT_ID) == 250


def test_studies_has_one_row_per_distinct_nct_id(sample_con) -> None:
    assert sample_con.execute("select count(*), count(distinct nct_id) from studies").fetchall() == [(252, 252)]
    loaded = {n for (n,) in sample_con.execute("select nct_id from studies").fetchall()}
    assert loaded == set(BY_NCT_ID) | SEED_NCT_IDS


def test_every_protocol_and_derived_value_is_in_the_warehouse(warehouse_values) -> None:
    missing = []
    n_checked = 0
    for study in STUDIES:
        nct_id = nct_id_of(study)
        found = warehouse_values[nct_id]
        for section in ("protocolSection", "derivedSection"):
            for path, value in leaves(study.get(section, {}), section):
                if path.endswith(LINK_LEAVES):
                    continue
                n_checked += 1
                if not comparable(value) & found:
                    missing.append((nct_id, path, value))
    assert missing == []
    assert n_checked > 50_000  # the walk really walked


def test_a_value_the_warehouse_lacks_is_reported(warehouse_values) -> None:
    # The check above must be able to fail: a value from another study is not found in this one.
    assert not comparable("a value no study has, 2099-13-45") & warehouse_values["NCT00763412"]
    assert comparable(26.06139) & warehouse_values["NCT06486350"]


def test_every_link_from_intervention_arm_labels_is_in_arm_interventions(sample_con) -> None:
    def label(text: str) -> str:
        return " ".join(text.split()).casefold()

    linked: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for nct_id, arm_label, intervention_name in sample_con.execute(
        "select nct_id, arm_label, intervention_name from arm_interventions"
    ).fetchall():
        linked[nct_id].add((label(arm_label), label(intervention_name)))
    expected_links = 0
    missing = []
    for study in STUDIES:
        module = study["protocolSection"].get("armsInterventionsModule", {})
        arm_labels = {label(a["label"]) for a in module.get("armGroups", [])}
        for intervention in module.get("interventions", []):
            for arm_label in intervention.get("armGroupLabels", []):
                if label(arm_label) not in arm_labels:
                    continue  # names no arm of the study: nothing to link to
                expected_links += 1
                link = (label(arm_label), label(intervention["name"]))
                if link not in linked[nct_id_of(study)]:
                    missing.append((nct_id_of(study), *link))
    assert missing == []
    assert expected_links > 500


COUNTED = {
    "arms": lambda ps: len(ps.get("armsInterventionsModule", {}).get("armGroups", [])),
    "interventions": lambda ps: len(ps.get("armsInterventionsModule", {}).get("interventions", [])),
    "outcomes": lambda ps: sum(
        len(ps.get("outcomesModule", {}).get(kind, [])) for kind in ("primaryOutcomes", "secondaryOutcomes", "otherOutcomes")
    ),
    "sites": lambda ps: len(ps.get("contactsLocationsModule", {}).get("locations", [])),
    "conditions": lambda ps: len(ps.get("conditionsModule", {}).get("conditions", [])),
    "sponsors": lambda ps: (1 if "leadSponsor" in ps.get("sponsorCollaboratorsModule", {}) else 0)
    + len(ps.get("sponsorCollaboratorsModule", {}).get("collaborators", [])),
}


@pytest.mark.parametrize("table", sorted(COUNTED))
def test_rows_per_study(sample_con, table: str) -> None:
    expected = {nct_id: COUNTED[table](s["protocolSection"]) for nct_id, s in BY_NCT_ID.items()}
    expected = {nct_id: n for nct_id, n in expected.items() if n}
    actual = dict(
        sample_con.execute(f"select nct_id, count(*) from {table} group by nct_id").fetchall()
    )
    actual = {nct_id: n for nct_id, n in actual.items() if nct_id not in SEED_NCT_IDS}
    assert actual == expected
    assert sum(expected.values()) > len(expected)  # several rows per study somewhere, not one each


def test_sponsor_rows_are_lead_then_collaborators_in_order(sample_con) -> None:
    expected = []
    for nct_id, study in sorted(BY_NCT_ID.items()):
        module = study["protocolSection"]["sponsorCollaboratorsModule"]
        sponsors = [("lead", module["leadSponsor"])] + [("collaborator", c) for c in module.get("collaborators", [])]
        expected += [(nct_id, i, role, s["name"], s.get("class")) for i, (role, s) in enumerate(sponsors, 1)]
    actual = sample_con.execute(
        "select nct_id, sponsor_position, sponsor_role, sponsor_name, agency_class from sponsors "
        "where nct_id not in ('NCT06486350', 'NCT06442709') order by nct_id, sponsor_position"
    ).fetchall()
    assert actual == expected


def test_no_unmapped_values(sample_con) -> None:
    assert sample_con.execute("select nct_id, path, value from unmapped_values").fetchall() == []


def test_every_whole_section_is_kept_once_per_study_holding_it(sample_con) -> None:
    def dig(node: Any, dotted: str) -> Any:
        for key in dotted.split("."):
            node = node.get(key) if isinstance(node, dict) else None
        return node

    sections = ("derivedSection.miscInfoModule.modelPredictions", "derivedSection.miscInfoModule.submissionTracking")
    expected = Counter(
        section for s in STUDIES for section in sections if dig(s, section) not in (None, {}, [])
    )
    actual = Counter(
        dict(sample_con.execute(
            "select section, count(*) from record_sections where nct_id not in ('NCT06486350', 'NCT06442709') group by 1"
        ).fetchall())
    )
    assert actual == expected
    assert expected["derivedSection.miscInfoModule.submissionTracking"] > 0


# ---- results: one row per source unit, every value in a typed column ----------------------------

def _n(items: Any) -> int:
    return len(items) if isinstance(items, list) else 0


def _results_units(study: dict) -> dict[str, int]:
    """Source units per results table, counted from the record (AACT's grain)."""
    results = study.get("resultsSection", {})
    flow = results.get("participantFlowModule", {})
    baseline = results.get("baselineCharacteristicsModule", {})
    measures = results.get("outcomeMeasuresModule", {}).get("outcomeMeasures", [])
    events = results.get("adverseEventsModule", {})
    periods = flow.get("periods", [])
    return {
        "milestones": sum(_n(m.get("achievements")) for p in periods for m in p.get("milestones", [])),
        "drop_withdrawals": sum(_n(d.get("reasons")) for p in periods for d in p.get("dropWithdraws", [])),
        "baseline_counts": sum(_n(d.get("counts")) for d in baseline.get("denoms", [])),
        "baseline_measurements": sum(
            _n(c.get("measurements")) for m in baseline.get("measures", []) for k in m.get("classes", []) for c in k.get("categories", [])
        ),
        "outcome_measures": len(measures),
        "outcome_counts": sum(_n(d.get("counts")) for m in measures for d in m.get("denoms", [])),
        "outcome_measurements": sum(
            _n(c.get("measurements")) for m in measures for k in m.get("classes", []) for c in k.get("categories", [])
        ),
        "outcome_analyses": sum(_n(m.get("analyses")) for m in measures),
        "reported_events": sum(_n(e.get("stats")) for kind in ("seriousEvents", "otherEvents") for e in events.get(kind, [])),
        "result_groups": _n(flow.get("groups")) + _n(baseline.get("groups")) + sum(_n(m.get("groups")) for m in measures)
        + _n(events.get("eventGroups")),
        "reported_event_totals": 3 * _n(events.get("eventGroups")),
    }


WITH_RESULTS = {nct_id: s for nct_id, s in BY_NCT_ID.items() if "resultsSection" in s}


@pytest.mark.parametrize("table", sorted(_results_units({})))
def test_results_rows_per_study_equal_the_records_units(sample_con, table: str) -> None:
    expected = {nct_id: _results_units(s)[table] for nct_id, s in WITH_RESULTS.items()}
    expected = {nct_id: n for nct_id, n in expected.items() if n}
    actual = dict(sample_con.execute(f"select nct_id, count(*) from {table} group by nct_id").fetchall())
    assert actual == expected
    assert len(WITH_RESULTS) == 23


def test_every_results_document_and_annotation_value_is_in_a_typed_column(sample_con) -> None:
    """Each leaf of resultsSection, documentSection and annotationSection is found among the
    values of its study's rows in the results tables (not in record_sections, not in
    unmapped_values). The one kind of value that finds no row: the title of a class or category
    that holds no measurements and no denominators (a terminated study that collected no data:
    NCT04326231's baseline lists 'Female', 'Male', ... and no numbers)."""
    sections = ("resultsSection", "documentSection", "annotationSection")
    tables = [t.name for t in schema.RESULTS_TABLES]
    values: dict[str, set[str]] = defaultdict(set)
    for table in tables:
        cursor = sample_con.execute(f"select * from {table}")
        for row in cursor.fetchall():
            bucket = values[row[0]]
            for value in row[1:]:
                bucket |= comparable(value)
    missing, n_checked = [], 0
    for nct_id, study in BY_NCT_ID.items():
        for section in sections:
            for path, value in leaves(study.get(section, {}), section):
                n_checked += 1
                if not comparable(value) & values[nct_id]:
                    missing.append((nct_id, path))
    assert n_checked > 26_000
    empty_class = "resultsSection.baselineCharacteristicsModule.measures[].classes[].title"
    empty_category = "resultsSection.baselineCharacteristicsModule.measures[].classes[].categories[].title"
    assert sorted(missing) == [("NCT04326231", empty_category)] * 5 + [("NCT04326231", empty_class)]
