"""The ctgov results views against AACT's own per-model specs, cell by cell.

AACT's repository has no whole-study loader output with results (its one study fixture,
NCT06388018, has none: see test_aact_views.py); its results models are pinned by per-model
specs instead, each loading a small record (spec/support/json_data) through its loader and
listing the rows it expects. Quirks those specs pin, and these tests with them:
- result groups are created per part of the results and per outcome measure (OG000 twice for
  two measures), outcome groups loaded before the participant-flow ones;
- the adverse-event module's time frame, description and frequency threshold ("0" read as 0)
  are repeated on every event row, default_vocab and default_assessment are null, a term
  without sourceVocabulary has a null vocab;
- reported_event_totals: one row per group for deaths, other and serious events, with AACT's
  classification labels;
- drop_withdrawals: drop_withdraw_comment is the reason's comment, reason_comment the group
  count's comment; milestones keep numUnits as text;
- outcome_measurements carry the measure's title, description, units and types, and read
  value, spread and limits as numbers beside the text.

One difference is known and kept: the milestone spec's record gives each count a
`description`, a field API v2 records do not have (FlowStats are groupId, comment, numSubjects,
numUnits), so milestones.description stays null here.
"""
from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

SPECS = Path(__file__).resolve().parent / "fixtures" / "aact" / "specs"
EXPECTED = json.loads((SPECS / "expected.json").read_text(encoding="utf-8"))["specs"]
INPUTS = sorted({spec["input"] for spec in EXPECTED})
# The NCT id each input is loaded under (AACT's specs all use NCT000001).
NCT_OF_INPUT = {name: f"NCT{position:08d}" for position, name in enumerate(INPUTS, 1)}
KNOWN_DIFFERENCES = [("milestones", row, "description", f"Participants {row + 1}", None) for row in range(5)]


@pytest.fixture(scope="module")
def spec_con(build_warehouse, tmp_path_factory):
    records = tmp_path_factory.mktemp("aact_specs")
    files = {}
    for name, nct_id in NCT_OF_INPUT.items():
        record = json.loads((SPECS / name).read_text(encoding="utf-8"))
        record["protocolSection"] = {"identificationModule": {"nctId": nct_id}}
        (records / name).write_text(json.dumps(record), encoding="utf-8")
        files[name] = records / name
    warehouse = build_warehouse(files, name="aact_specs")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        yield con


def view_rows(con, view: str, nct_id: str, columns: list[str]) -> list[dict]:
    """The view's rows of one study in id order, `result_group` being the (result_type,
    ctgov_group_code) of the group its result_group_id points to."""
    selected = ", ".join(
        "[g.result_type, g.ctgov_group_code] as result_group" if c == "result_group" else f"v.{c}" for c in columns
    )
    join = "left join ctgov.result_groups g on g.id = v.result_group_id" if "result_group" in columns else ""
    cursor = con.execute(f"select {selected} from ctgov.{view} v {join} where v.nct_id = ? order by v.id", [nct_id])
    return [dict(zip(columns, row)) for row in cursor.fetchall()]


def sorted_rows(rows: list[dict], keys: list[str] | None) -> list[dict]:
    return sorted(rows, key=lambda r: [(r[k] is not None, r[k]) for k in keys]) if keys else rows


def test_results_views_give_the_rows_aacts_specs_expect(spec_con):
    compared, mismatches = 0, []
    for spec in EXPECTED:
        nct_id = NCT_OF_INPUT[spec["input"]]
        expected = [{**row, "nct_id": nct_id} if "nct_id" in row else row for row in spec["rows"]]
        columns = list(expected[0])
        got = view_rows(spec_con, spec["view"], nct_id, columns)
        assert len(got) == len(expected), spec["spec"]
        for position, (want, have) in enumerate(zip(sorted_rows(expected, spec["sort_by"]), sorted_rows(got, spec["sort_by"]))):
            for column in columns:
                compared += 1
                if want[column] != have[column]:
                    mismatches.append((spec["view"], position, column, want[column], have[column]))
    assert mismatches == KNOWN_DIFFERENCES
    assert compared == 275


def test_spec_result_group_ids_are_aacts_load_order_and_outcome_groups_name_their_measure(spec_con):
    nct_id = NCT_OF_INPUT["result_group.json"]
    base = int(nct_id[3:]) * 10**10
    assert spec_con.execute(
        "select id - ?, ctgov_group_code, outcome_id - ? from ctgov.result_groups where nct_id = ? order by id",
        [base, base, nct_id],
    ).fetchall() == [(1, "OG0000", 1), (2, "OG0001", 1), (3, "OG0000", 2), (4, "FG000", None), (5, "FG001", None)]
