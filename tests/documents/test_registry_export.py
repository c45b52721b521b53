"""Registry exports: a text header and the record as a Python literal, parsed, never run."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.documents import read_bytes, read_document, registry_export
from pipeline.documents.model import ReadError, StudyRecord
from pipeline.documents.registry_export import parse_python_literal, read_registry_export

FIXTURES = Path(__file__).parent.parent / "fixtures" / "documents"
SEED = FIXTURES / "registry_export_NCT06486350.txt"

HEADER = "Viewing Study NCT00000001\n\nStudy NCT ID: NCT00000001\nStatus: RECRUITING\n\nRaw JSON\n\n"
LITERAL_LINE = 8  # HEADER takes 7 lines; the literal starts on the next


def export_of(literal: str, header: str = HEADER) -> bytes:
    return (header + literal + "\n").encode("utf-8")


def minimal_record(**extra: str) -> str:
    fields = "".join(f", {key!r}: {value}" for key, value in extra.items())
    return "{'protocolSection': {'identificationModule': {'nctId': 'NCT00000001'}}" + fields + "}"


def only(reading) -> StudyRecord | ReadError:
    items = list(reading.items)
    assert len(items) == 1, items
    return items[0]


# --- the real seed ---------------------------------------------------------------------------


def test_seed_registry_export_reads_to_the_canonical_study() -> None:
    reading = read_document(SEED)

    assert reading.form == "registry_export"
    record = only(reading)
    assert isinstance(record, StudyRecord)
    assert record.position == ""
    assert record.nct_id == "NCT06486350"
    protocol = record.study["protocolSection"]
    assert protocol["statusModule"]["overallStatus"] == "RECRUITING"
    assert protocol["designModule"]["enrollmentInfo"] == {"type": "ESTIMATED", "count": 72}
    assert protocol["designModule"]["patientRegistry"] is False
    (location,) = protocol["contactsLocationsModule"]["locations"]
    assert location["geoPoint"] == {"lat": 26.06139, "lon": 119.30611}
    assert location["city"] == "Fuzhou"
    # The source literal holds '\\>3', i.e. the API's markdown escape: backslash, then '>3'.
    criteria = protocol["eligibilityModule"]["eligibilityCriteria"]
    assert "Performance Status (PS) score \\>3;\n" in criteria
    assert record.study["hasResults"] is False
    assert record.study["derivedSection"]["conditionBrowseModule"]["meshes"] == [
        {"id": "D015470", "term": "Leukemia, Myeloid, Acute"}
    ]


def test_python_repr_of_a_real_json_record_round_trips_exactly() -> None:
    canonical = json.loads((FIXTURES / "NCT03475563.json").read_bytes())

    record = only(read_bytes(export_of(repr(canonical), HEADER.replace("NCT00000001", "NCT03475563")), "x"))

    assert isinstance(record, StudyRecord)
    assert record.study == canonical


def test_literal_values_become_json_values() -> None:
    literal = minimal_record(arms="('a', ('b', -2.5), +3, -7, None, True, False)", note="'it''s'")

    record = only(read_bytes(export_of(literal), "x"))

    assert isinstance(record, StudyRecord)
    assert record.study["arms"] == ["a", ["b", -2.5], 3, -7, None, True, False]
    assert record.study["note"] == "its"


# --- nothing is ever executed ----------------------------------------------------------------


def test_code_in_place_of_the_record_is_rejected_and_not_run(capfd: pytest.CaptureFixture[str]) -> None:
    reading = read_bytes(export_of("__import__('os').system('echo pwned')"), "x")

    assert reading.form == "registry_export"
    error = only(reading)
    assert error == ReadError(
        f"line {LITERAL_LINE}",
        f"registry export holds a non-literal: name '__import__' at line {LITERAL_LINE}",
        "__import__('os').system('echo pwned')\n",
    )
    captured = capfd.readouterr()
    assert "pwned" not in captured.out + captured.err


def test_code_nested_inside_the_record_is_rejected_and_not_run(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    payload = f"__import__('pathlib').Path({str(marker)!r}).write_text('pwned')"
    literal = minimal_record(description="'fine'")[:-1] + ",\n 'x': " + payload + "}"

    error = only(read_bytes(export_of(literal), "x"))

    assert error.position == f"line {LITERAL_LINE + 1}"
    assert error.reason == f"registry export holds a non-literal: name '__import__' at line {LITERAL_LINE + 1}"
    assert not marker.exists()


@pytest.mark.parametrize(
    ("literal", "node"),
    [
        ("os", "name 'os'"),
        ("os.environ", "name 'os'"),
        ("(lambda: 1)", "name 'lambda'"),
        ("f'{1}'", "f-string"),
        ("{1, 2}", "set"),
        ("[x for x in 'ab']", "name 'x'"),
        ("1 + 2", "operator '+'"),
        ("-True", "a sign before name 'True'"),
        ("~1", "operator '~'"),
        ("b'raw'", "bytes"),
        ("2j", "complex number '2j'"),
        ("...", "ellipsis (...)"),
        ("{**{}}", "dict unpacking (**)"),
        ("'a' if True else 'b'", "name 'if'"),
        ("float('nan')", "name 'float'"),
    ],
)
def test_every_non_literal_node_is_named(literal: str, node: str) -> None:
    error = only(read_bytes(export_of(minimal_record(x=literal)), "x"))

    assert error.reason == f"registry export holds a non-literal: {node} at line {LITERAL_LINE}"


@pytest.mark.parametrize(("literal", "key"), [("{1: 'a'}", "1"), ("{None: 'a'}", "None"), ("{(1, 2): 'a'}", "[1, 2]")])
def test_keys_must_be_strings(literal: str, key: str) -> None:
    error = only(read_bytes(export_of(literal), "x"))

    assert error.reason == f"registry export has a non-string key {key} at line {LITERAL_LINE}"


# --- bounds checked before parsing ---------------------------------------------------------


def test_nesting_deeper_than_the_limit_is_rejected_before_parsing() -> None:
    too_deep = "[" * 65 + "]" * 65

    error = only(read_bytes(export_of(minimal_record(x=too_deep)), "x"))

    assert error.position == f"line {LITERAL_LINE}"
    assert error.reason == f"registry export nests deeper than 64 levels at line {LITERAL_LINE}"


def test_enormous_nesting_is_rejected_without_recursing() -> None:
    error = parse_python_literal("(" * 1_000_000 + ")" * 1_000_000)

    assert isinstance(error, ReadError)
    assert error.reason == "registry export nests deeper than 64 levels at line 1"


def test_nesting_at_the_limit_is_accepted() -> None:
    value = parse_python_literal("[" * 64 + "]" * 64)

    depth = 0
    while value:
        value, depth = value[0], depth + 1
    assert depth == 63  # the innermost of the 64 lists is empty


def test_brackets_inside_strings_and_comments_do_not_count_as_nesting() -> None:
    literal = "{'a': '" + "[" * 100 + "', 'b': \"{{{\\\"(((\", # " + "(" * 100 + "\n 'c': '''" + "]" * 100 + "'''}"

    value = parse_python_literal(literal)

    assert value == {"a": "[" * 100, "b": '{{{"(((', "c": "]" * 100}


def test_oversized_literal_is_rejected_before_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry_export, "MAX_LITERAL_CHARS", 50)
    literal = minimal_record()

    error = only(read_bytes(export_of(literal), "x"))

    assert error.reason == f"registry export literal is too large: {len(literal) + 1} characters (limit 50)"


# --- other broken exports --------------------------------------------------------------------


def test_malformed_literal_names_the_line() -> None:
    error = only(read_bytes(export_of("{'protocolSection': [1, 2,\n 3"), "x"))

    assert error.position == f"line {LITERAL_LINE}"
    assert error.reason == f"registry export literal is malformed: '[' was never closed at line {LITERAL_LINE}"


def test_export_without_raw_json_section() -> None:
    reading = read_bytes(b"Viewing Study NCT00000001\n\nStatus: RECRUITING\n", "x")

    assert reading.form == "registry_export"
    assert only(reading).reason == "registry export has no 'Raw JSON' section"


def test_export_with_empty_raw_json_section() -> None:
    assert only(read_bytes(HEADER.encode(), "x")).reason == "registry export has an empty 'Raw JSON' section"


def test_record_without_nct_id() -> None:
    error = only(read_bytes(export_of("{'protocolSection': {'statusModule': {}}}"), "x"))

    assert error.position == ""
    assert error.reason == "record has no NCT id (protocolSection.identificationModule.nctId)"


def test_header_and_record_naming_different_studies() -> None:
    literal = minimal_record().replace("NCT00000001", "NCT00000002")

    error = only(read_bytes(export_of(literal), "x"))

    assert error.reason == "registry export header names NCT00000001 but its record holds NCT00000002"


def test_export_in_wrong_encoding() -> None:
    document = export_of(minimal_record(title="'caf'")).replace(b"caf", b"caf\xe9")

    error = only(read_bytes(document, "x"))

    offset = document.index(b"\xe9")
    assert error.position == f"byte {offset}"
    assert error.reason == f"wrong encoding: not UTF-8 (byte offset {offset})"


def test_reader_accepts_text_directly() -> None:
    items = list(read_registry_export(SEED.read_text(encoding="utf-8")))

    assert [item.nct_id for item in items] == ["NCT06486350"]
