"""Form detection from content alone, encodings, and documents of no known form."""
from __future__ import annotations

import gzip
from pathlib import Path

import orjson
import pytest

from pipeline.documents import read_bytes, read_document
from pipeline.documents.detect import HEAD_BYTES, sniff_form
from pipeline.documents.model import ReadError, StudyRecord

FIXTURES = Path(__file__).parent.parent / "fixtures" / "documents"

STUDY = orjson.dumps({"protocolSection": {"identificationModule": {"nctId": "NCT00000001"}}})
STUDY_PAGE_OPENING = (
    b"Combined Anti-IL6R and Anticoagulation Therapy in Advanced NPC Patients\n\n"
    b"NCT ID: NCT06442709\n\nLast Updated: 2024-06-04\n\nStudy Results\n\nResults pending\n"
)


def only(reading) -> StudyRecord | ReadError:
    items = list(reading.items)
    assert len(items) == 1, items
    return items[0]


@pytest.mark.parametrize(
    ("head", "form"),
    [
        (b"PK\x03\x04\x14\x00", "zip"),
        (b"PK\x05\x06" + b"\x00" * 18, "zip"),
        (b"\x1f\x8b\x08\x00", "gzip"),
        (b"{", "json"),
        (b"[", "json"),
        (b"\xef\xbb\xbf \r\n\t[", "json"),
        (b"\xff\xfe{\x00", "utf16"),
        (b"\xfe\xff\x00{", "utf16"),
        (b"", "empty"),
        (b"\xef\xbb\xbf \n\t\r\n", "empty"),
        (b"Viewing Study NCT06486350\n\n\nIgnite Creation Date: 2025-12-24\n", "registry_export"),
        (b"Study NCT ID: NCT06486350\nStatus: RECRUITING\n\nRaw JSON\n\n{'a': 1}", "registry_export"),
        (STUDY_PAGE_OPENING, "study_page"),
        (
            b"Some Title\nWrapped Over Two Lines\n\nNCT ID: NCT06442709\n\nLast Updated: 2024-06-04\n",
            "study_page",
        ),
        (
            b"Recruitment notes\n\nBasic Information\n\nGet a concise snapshot of the trial, including ...\n",
            "study_page",
        ),
        (b"NCT ID: NCT06442709\n\nLast Updated: 2024-06-04\n", "unknown"),
        (b"hello world", "unknown"),
        (b"<html><body>NCT00000001</body></html>", "unknown"),
        (b"\x00\x01\x02", "unknown"),
    ],
)
def test_sniff_form(head: bytes, form: str) -> None:
    assert sniff_form(head) == form


def test_form_comes_from_content_not_file_name(tmp_path: Path) -> None:
    misnamed = tmp_path / "studies.zip"
    misnamed.write_bytes(gzip.compress(STUDY + b"\n" + STUDY + b"\n"))

    assert read_document(misnamed).form == "ndjson+gzip"
    assert read_bytes(STUDY, "page.html").form == "json_study"


def test_unknown_form_hints_at_its_opening(tmp_path: Path) -> None:
    path = tmp_path / "study.json"
    path.write_bytes(b"<html><body>NCT00000001</body></html>")

    reading = read_document(path)

    assert reading.form == "unknown"
    assert only(reading) == ReadError(
        "",
        "unknown document form (starts with '<html><body>NCT00000001</body></html>')",
        "<html><body>NCT00000001</body></html>",
    )


def test_unknown_binary_form_hints_with_bytes() -> None:
    error = only(read_bytes(b"\x89PNG\r\n\x1a\n\x00\x00", "logo.json"))

    assert error.reason == "unknown document form (starts with b'\\x89PNG\\r\\n\\x1a\\n\\x00\\x00')"


@pytest.mark.parametrize("content", [b"", b"  \n\t\r\n", b"\xef\xbb\xbf"])
def test_empty_document(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "empty.json"
    path.write_bytes(content)

    reading = read_document(path)

    assert reading.form == "empty"
    assert only(reading) == ReadError("", "empty document", "")


def test_empty_gzip() -> None:
    reading = read_bytes(gzip.compress(b""), "empty.gz")

    assert reading.form == "empty+gzip"
    assert only(reading).reason == "empty document"


def test_json_after_more_whitespace_than_the_detection_head(tmp_path: Path) -> None:
    path = tmp_path / "padded.json"
    path.write_bytes(b" " * (HEAD_BYTES + 10) + STUDY)

    reading = read_document(path)

    assert reading.form == "json_study"
    assert only(reading).nct_id == "NCT00000001"


def test_utf8_bom_is_stripped(tmp_path: Path) -> None:
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + STUDY)

    assert only(read_document(path)).nct_id == "NCT00000001"


def test_utf8_bom_before_ndjson() -> None:
    reading = read_bytes(b"\xef\xbb\xbf" + STUDY + b"\n" + STUDY.replace(b"01", b"02") + b"\n", "x")

    assert reading.form == "ndjson"
    assert [(item.position, item.nct_id) for item in reading.items] == [("line 1", "NCT00000001"), ("line 2", "NCT00000002")]


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_with_byte_order_mark_is_decoded(encoding: str) -> None:
    text = '{"protocolSection": {"identificationModule": {"nctId": "NCT00000001"}}, "briefTitle": "Café"}'

    reading = read_bytes(("\ufeff" + text).encode(encoding), "x")

    assert reading.form == "json_study"
    record = only(reading)
    assert record.nct_id == "NCT00000001"
    assert record.study["briefTitle"] == "Café"


def test_utf16_registry_export() -> None:
    text = (FIXTURES / "registry_export_NCT06486350.txt").read_text(encoding="utf-8")

    reading = read_bytes(text.encode("utf-16"), "x")

    assert reading.form == "registry_export"
    assert only(reading).nct_id == "NCT06486350"


def test_invalid_utf16_after_its_byte_order_mark() -> None:
    error = only(read_bytes(b"\xff\xfe{\x00\x00\xd8", "x"))

    assert error.reason == "wrong encoding: not UTF-16 despite its byte order mark (byte offset 4)"


def test_invalid_utf8_json(tmp_path: Path) -> None:
    path = tmp_path / "latin1.json"
    path.write_bytes(b'{"briefTitle": "Caf\xe9 study"}')

    error = only(read_document(path))

    assert error == ReadError("byte 19", "wrong encoding: not UTF-8 (byte offset 19)", '{"briefTitle": "Caf\ufffd study"}')


def test_registry_export_gzipped(tmp_path: Path) -> None:
    path = tmp_path / "export"
    path.write_bytes(gzip.compress((FIXTURES / "registry_export_NCT06486350.txt").read_bytes()))

    reading = read_document(path)

    assert reading.form == "registry_export+gzip"
    assert only(reading).nct_id == "NCT06486350"


def test_study_page_is_dispatched_by_content(tmp_path: Path) -> None:
    path = tmp_path / "NCT06442709.json"
    path.write_bytes(STUDY_PAGE_OPENING)

    assert read_document(path).form == "study_page"
    assert read_bytes(gzip.compress(STUDY_PAGE_OPENING), "x").form == "study_page+gzip"


def test_gzip_inside_gzip_is_refused() -> None:
    reading = read_bytes(gzip.compress(gzip.compress(STUDY)), "x")

    assert reading.form == "gzip"
    assert only(reading).reason == "gzip inside gzip is not supported"


def test_study_page_whose_title_starts_with_a_bracket_is_a_page_not_json():
    page = (
        "[Study Evaluating a Digital Therapeutic in Postpartum Depression]\n\n"
        "NCT ID: NCT05551195\n\nLast Updated: 2025-02-24\n\nStudy Results\n\nResults available\n\n"
    ).encode()
    assert sniff_form(page) == "study_page"
