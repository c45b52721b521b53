"""What the mapping expects of a record is derived from the mapping, so that every table added to
it (the results tables) is checked without a list kept by hand: the quirk pinned is a record whose
module or list has another type (the normalizer used to stop the build on it)."""
from __future__ import annotations

import copy
from pathlib import Path

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.tables import normalize, schema, shape
from record_places import places

RECORD = orjson.loads((Path(__file__).resolve().parent / "fixtures" / "documents" / "NCT03475563.json").read_bytes())


def replaced(record: dict, keys: list[str], value) -> dict:
    record = copy.deepcopy(record)
    node = record
    for key in keys[:-1]:
        node = node.setdefault(key, {})
    node[keys[-1]] = value
    return record


def test_every_list_a_table_reads_rows_from_is_checked() -> None:
    # For each source of each table, the first list on its path replaced by a number.
    lists = {source.path.split("[]")[0] for table in schema.STUDY_TABLES for source in table.sources if "[]" in source.path}
    assert len(lists) > 20
    for path in sorted(lists):
        [departure] = shape.check([replaced(RECORD, path.split("."), 7)])
        assert departure == (f"wrong type at {path}: expected a list, got a number", 7), path


def test_every_object_on_a_table_path_is_checked() -> None:
    objects = {".".join(source.path.split("[]")[0].split(".")[:2]) for table in schema.STUDY_TABLES for source in table.sources
               if source.path.count(".") >= 1}
    assert "protocolSection.armsInterventionsModule" in objects
    for path in sorted(objects):
        [departure] = shape.check([replaced(RECORD, path.split("."), [1, 2])])
        assert departure == (f"wrong type at {path}: expected an object, got a list", [1, 2]), path


def test_a_section_kept_whole_takes_any_value_and_real_records_pass() -> None:
    kept_whole = ["derivedSection", "miscInfoModule", "submissionTracking"]
    assert shape.check([replaced(RECORD, kept_whole, [1, "x"]), RECORD]) == [None, None]


def test_leaf_values_that_do_not_fit_are_named_with_their_path_and_taken_out() -> None:
    record = replaced(RECORD, ["protocolSection", "designModule", "enrollmentInfo", "count"], "abc")
    record = replaced(record, ["hasResults"], 1)

    assert shape.misfits(record) == [("protocolSection.designModule.enrollmentInfo.count", "abc"), ("hasResults", "1")]
    cleaned = shape.without(record, ["protocolSection.designModule.enrollmentInfo.count"])
    assert cleaned["protocolSection"]["designModule"]["enrollmentInfo"] == {"count": None, "type": "ESTIMATED"}
    assert record["protocolSection"]["designModule"]["enrollmentInfo"]["count"] == "abc"  # the original is not changed


def test_columns_read_from_the_root_or_an_ancestor_are_expected_where_they_read() -> None:
    # `$.` and `@N.` paths name a place outside the row's element: that place is checked, and a
    # value there that does not fit is a misfit with its real path (it used to fail the batch).
    record = replaced(RECORD, ["documentSection", "largeDocumentModule"], {"noSap": "no", "largeDocs": [{"typeAbbrev": "Prot"}]})
    record = replaced(record, ["resultsSection", "participantFlowModule"], {"periods": [
        {"title": "Overall Study", "milestones": [{"type": "STARTED", "comment": {"note": 1}, "achievements": [{"groupId": "FG000", "numSubjects": "10"}]}]},
    ]})

    assert shape.check([record]) == [None]
    assert shape.misfits(record) == [
        ("resultsSection.participantFlowModule.periods[0].milestones[0].comment", '{"note":1}'),
        ("documentSection.largeDocumentModule.noSap", "no"),
    ]


def test_the_screen_finds_keys_no_column_reads_at_any_depth() -> None:
    assert shape.screen([RECORD]) == ([None], True)
    for keys in (["extra"], ["protocolSection", "designModule", "extra"],
                 ["protocolSection", "armsInterventionsModule", "armGroups", 0, "extra"],
                 ["protocolSection", "sponsorCollaboratorsModule", "leadSponsor", "extra"]):
        record = copy.deepcopy(RECORD)
        node = record
        for key in keys[:-1]:
            node = node[key]
        node[keys[-1]] = "an unmapped value"
        assert shape.screen([RECORD, record]) == ([None, None], False), keys
        assert list(normalize.unmapped_values(record)) == [(".".join(map(str, keys)).replace(".0.", "[0]."), "an unmapped value")]


PLACES = places(RECORD)[1:]
ANY_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["title", "x", "id", "type", ""]), inner, max_size=3),
    max_leaves=6,
)


@settings(max_examples=300, deadline=None, database=None)
@given(st.lists(st.tuples(st.sampled_from(PLACES), ANY_JSON), min_size=1, max_size=4))
def test_a_record_the_screen_calls_mapped_has_no_unmapped_values(mutations) -> None:
    # The loader skips the unmapped values' walk for such records: the screen must never say
    # "mapped" of a record that holds one, whatever replaces any part of it.
    record = copy.deepcopy(RECORD)
    for place, value in mutations:
        node = record
        try:
            for step in place[:-1]:
                node = node[step]
            node[place[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue  # an earlier replacement took this place away
    departures, mapped = shape.screen([record])
    if mapped:
        assert departures == [None]
        assert list(normalize.unmapped_values(record)) == []
