"""API v2 JSON in every shape: one study, list, page, NDJSON, zip, each also gzipped."""
from __future__ import annotations

import gzip
import io
import random
import zipfile
from pathlib import Path

import orjson
import pytest

from zips import zip_of
from pipeline.documents import read_bytes, read_document
from pipeline.documents.api_json import ZipMembers, pack_entries, unpack_entries
from pipeline.documents.model import ReadError, StudyRecord

FIXTURES = Path(__file__).parent.parent / "fixtures" / "documents"


def real_study(nct_id: str) -> bytes:
    """A real API v2 record (pretty-printed), copied unedited from ClinicalTrials.gov samples."""
    return (FIXTURES / f"{nct_id}.json").read_bytes()


def study(nct_id: str) -> dict:
    return {"protocolSection": {"identificationModule": {"nctId": nct_id}}}


def study_line(nct_id: str) -> bytes:
    """A compact one-line study: 68 bytes, so in NDJSON line 2 starts at byte 69."""
    return orjson.dumps(study(nct_id))


def summarize(items) -> list[tuple[str, str]]:
    """(position, NCT id) per study; (position, "!" + reason) per error."""
    return [
        (item.position, item.nct_id) if isinstance(item, StudyRecord) else (item.position, "!" + item.reason)
        for item in items
    ]


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


# --- one study -------------------------------------------------------------------------


def test_real_pretty_printed_study_is_json_study(tmp_path: Path) -> None:
    reading = read_document(write(tmp_path, "anything.bin", real_study("NCT00973089")))

    assert reading.form == "json_study"
    (record,) = list(reading.items)
    assert isinstance(record, StudyRecord)
    assert record.position == ""
    assert record.nct_id == "NCT00973089"
    assert record.study["protocolSection"]["statusModule"]["overallStatus"] == "WITHDRAWN"
    assert record.study["protocolSection"]["designModule"]["enrollmentInfo"] == {"count": 0, "type": "ACTUAL"}
    assert record.study["hasResults"] is False


def test_compact_one_line_study_is_json_study_not_ndjson(tmp_path: Path) -> None:
    reading = read_document(write(tmp_path, "study.ndjson", study_line("NCT00000001") + b"\n\n"))

    assert reading.form == "json_study"
    assert summarize(reading.items) == [("", "NCT00000001")]


def test_items_are_a_lazy_iterator(tmp_path: Path) -> None:
    reading = read_document(write(tmp_path, "s.json", real_study("NCT03475563")))

    assert iter(reading.items) is reading.items
    assert summarize(reading.items) == [("", "NCT03475563")]


# --- list and page -----------------------------------------------------------------------


def test_json_list_of_real_studies_keeps_order_and_index_positions(tmp_path: Path) -> None:
    document = b"[\n" + real_study("NCT03475563") + b",\n" + real_study("NCT00973089") + b"\n]\n"

    reading = read_document(write(tmp_path, "ctg-studies.json", document))

    assert reading.form == "json_list"
    assert summarize(reading.items) == [("[0]", "NCT03475563"), ("[1]", "NCT00973089")]


def test_json_list_on_one_line(tmp_path: Path) -> None:
    document = orjson.dumps([study("NCT00000001"), study("NCT00000002")])

    reading = read_document(write(tmp_path, "list.json", document))

    assert reading.form == "json_list"
    assert summarize(reading.items) == [("[0]", "NCT00000001"), ("[1]", "NCT00000002")]


def test_empty_json_list_holds_nothing() -> None:
    reading = read_bytes(b"[]", "empty.json")

    assert reading.form == "json_list"
    assert list(reading.items) == []


def test_json_page_with_next_page_token() -> None:
    page = {"studies": [study("NCT00000003"), study("NCT00000001")], "nextPageToken": "NF0g5JGBlPMq"}

    reading = read_bytes(orjson.dumps(page, option=orjson.OPT_INDENT_2), "page.json")

    assert reading.form == "json_page"
    assert summarize(reading.items) == [("studies[0]", "NCT00000003"), ("studies[1]", "NCT00000001")]


def test_json_page_without_token_holding_a_real_study() -> None:
    document = b'{"studies": [' + real_study("NCT00973089") + b"]}"

    reading = read_bytes(document, "last-page.json")

    assert reading.form == "json_page"
    assert summarize(reading.items) == [("studies[0]", "NCT00973089")]


def test_pretty_printed_page_whose_study_sits_on_one_line_is_still_a_page() -> None:
    document = b'{"nextPageToken": "abc", "studies": [\n' + study_line("NCT00000001") + b"\n]}\n"

    reading = read_bytes(document, "page.json")

    assert reading.form == "json_page"
    assert summarize(reading.items) == [("studies[0]", "NCT00000001")]


# --- NDJSON ------------------------------------------------------------------------------


def test_ndjson_positions_are_physical_lines_and_blank_lines_are_skipped(tmp_path: Path) -> None:
    document = study_line("NCT00000001") + b"\n\n" + study_line("NCT00000002") + b"\n  \n" + study_line("NCT00000003") + b"\n"

    reading = read_document(write(tmp_path, "studies.txt", document))

    assert reading.form == "ndjson"
    assert summarize(reading.items) == [("line 1", "NCT00000001"), ("line 3", "NCT00000002"), ("line 5", "NCT00000003")]


def test_ndjson_with_crlf_line_ends_and_no_final_newline() -> None:
    document = study_line("NCT00000001") + b"\r\n" + study_line("NCT00000002")

    reading = read_bytes(document, "studies.ndjson")

    assert reading.form == "ndjson"
    assert summarize(reading.items) == [("line 1", "NCT00000001"), ("line 2", "NCT00000002")]


def test_ndjson_bad_line_costs_only_that_line(tmp_path: Path) -> None:
    document = study_line("NCT00000001") + b'\n{"protocolSection": oops}\n' + study_line("NCT00000003") + b"\n"

    reading = read_document(write(tmp_path, "studies.ndjson", document))

    assert reading.form == "ndjson"
    items = list(reading.items)
    assert summarize(items) == [
        ("line 1", "NCT00000001"),
        ("line 2", "!malformed JSON: unexpected character, expected a JSON value (column 21, byte 89)"),
        ("line 3", "NCT00000003"),
    ]
    assert items[1].excerpt == '{"protocolSection": oops}\n'


def test_ndjson_truncated_last_line() -> None:
    document = study_line("NCT00000001") + b"\n" + study_line("NCT00000002")[:30]

    reading = read_bytes(document, "studies.ndjson")

    assert summarize(reading.items) == [
        ("line 1", "NCT00000001"),
        ("line 2", "!truncated JSON: unexpected end of data (column 31, byte 99)"),
    ]


def test_ndjson_whose_first_line_is_bad_still_loads_the_rest() -> None:
    document = b'{"protocolSection": oops}\n' + study_line("NCT00000002") + b"\n" + study_line("NCT00000003") + b"\n"

    reading = read_bytes(document, "studies.ndjson")

    assert reading.form == "ndjson"
    assert summarize(reading.items) == [
        ("line 1", "!malformed JSON: unexpected character, expected a JSON value (column 21, byte 20)"),
        ("line 2", "NCT00000002"),
        ("line 3", "NCT00000003"),
    ]


def test_ndjson_line_in_wrong_encoding_names_the_document_byte() -> None:
    document = study_line("NCT00000001") + b'\n{"title": "caf\xe9"}\n' + study_line("NCT00000003")

    assert summarize(read_bytes(document, "x").items) == [
        ("line 1", "NCT00000001"),
        ("line 2", "!wrong encoding: not UTF-8 (byte offset 83)"),
        ("line 3", "NCT00000003"),
    ]


def test_ndjson_line_that_is_not_an_object() -> None:
    document = study_line("NCT00000001") + b"\n42\n"

    assert summarize(read_bytes(document, "x").items) == [
        ("line 1", "NCT00000001"),
        ("line 2", "!expected a study object, found int"),
    ]


# --- malformed, truncated and incomplete records ---------------------------------------------


def test_malformed_json_names_line_column_and_byte() -> None:
    document = b'{\n  "protocolSection": {\n    "identificationModule": {"nctId": "NCT00000001",}\n  }\n}\n'

    reading = read_bytes(document, "bad.json")

    assert reading.form == "json"
    (error,) = list(reading.items)
    assert error == ReadError(
        "line 3, column 52 (byte 76)",
        "malformed JSON: trailing comma is not allowed",
        document.decode(),
    )


def test_truncated_real_study(tmp_path: Path) -> None:
    document = real_study("NCT00973089")[:2000]
    last_line = document.rsplit(b"\n", 1)[1]
    line_count = document.count(b"\n") + 1

    reading = read_document(write(tmp_path, "cut.json", document))

    assert reading.form == "json"
    (error,) = list(reading.items)
    assert error.position == f"line {line_count}, column {len(last_line) + 1} (byte 2000)"
    assert error.reason.startswith("truncated JSON: ")
    assert error.excerpt.endswith(document[-50:].decode())


def test_invalid_utf8_json_names_the_byte() -> None:
    reading = read_bytes(b'{"briefTitle": "caf\xe9"}', "latin1.json")

    (error,) = list(reading.items)
    assert error.position == "byte 19"
    assert error.reason == "wrong encoding: not UTF-8 (byte offset 19)"


def test_records_without_a_well_formed_nct_id_are_rejected_one_by_one() -> None:
    document = orjson.dumps(
        [
            {"protocolSection": {"identificationModule": {"briefTitle": "no id"}}},
            study("NCT123"),
            study("NCT00000003"),
            "not a study",
        ]
    )

    assert summarize(read_bytes(document, "x").items) == [
        ("[0]", "!record has no NCT id (protocolSection.identificationModule.nctId)"),
        ("[1]", "!malformed NCT id 'NCT123'"),
        ("[2]", "NCT00000003"),
        ("[3]", "!expected a study object, found str"),
    ]


def test_single_object_without_nct_id() -> None:
    (error,) = list(read_bytes(b'{"hasResults": false}', "x").items)

    assert error.position == ""
    assert error.reason == "record has no NCT id (protocolSection.identificationModule.nctId)"
    assert error.excerpt == "{'hasResults': False}"


# --- zip ---------------------------------------------------------------------------------


def mixed_zip() -> bytes:
    return zip_of(
        {
            "ctg-studies/": b"",
            "ctg-studies/NCT00973089.json": real_study("NCT00973089"),
            "ctg-studies/README.txt": b"Downloaded from ClinicalTrials.gov",
            "ctg-studies/NCT03475563.json": real_study("NCT03475563"),
            "ctg-studies/cut.json": b'{"protocolSection": ',
            "ctg-studies/list.json": orjson.dumps([study("NCT00000001"), study("NCT00000002")]),
            "ctg-studies/latin1.json": b'{"briefTitle": "caf\xe9"}',
            "ctg-studies/lines.ndjson": study_line("NCT00000004") + b"\n" + study_line("NCT00000005") + b"\n",
            "ctg-studies/empty.json": b"",
        }
    )


MIXED_ZIP_SUMMARY = [
    ("member ctg-studies/NCT00973089.json", "NCT00973089"),
    ("member ctg-studies/README.txt", "!zip member is neither JSON nor XML (starts with b'Downloaded from ClinicalTrials.gov')"),
    ("member ctg-studies/NCT03475563.json", "NCT03475563"),
    ("member ctg-studies/cut.json, line 1, column 21 (byte 20)", "!truncated JSON: unexpected end of data"),
    ("member ctg-studies/list.json, [0]", "NCT00000001"),
    ("member ctg-studies/list.json, [1]", "NCT00000002"),
    ("member ctg-studies/latin1.json, byte 19", "!wrong encoding: not UTF-8 (byte offset 19)"),
    ("member ctg-studies/lines.ndjson, line 1", "NCT00000004"),
    ("member ctg-studies/lines.ndjson, line 2", "NCT00000005"),
    ("member ctg-studies/empty.json", "!empty document"),
]


def test_zip_members_are_read_in_order_and_bad_members_do_not_stop_the_rest(tmp_path: Path) -> None:
    reading = read_document(write(tmp_path, "ctg-studies.json.zip", mixed_zip()))

    assert reading.form == "zip"
    assert summarize(reading.items) == MIXED_ZIP_SUMMARY


def test_zip_in_memory_reads_the_same() -> None:
    reading = read_bytes(mixed_zip(), "ctg-studies.json.zip")

    assert reading.form == "zip"
    assert summarize(reading.items) == MIXED_ZIP_SUMMARY


def test_zip_member_with_a_bad_checksum_is_reported_and_the_rest_load() -> None:
    # Stored members keep their bytes verbatim, so changing one breaks only a.json's CRC.
    archive = bytearray(zip_of({"a.json": study_line("NCT00000001"), "b.json": study_line("NCT00000002")}, zipfile.ZIP_STORED))
    digit = archive.index(b"NCT00000001") + 10
    archive[digit : digit + 1] = b"9"

    assert summarize(read_bytes(bytes(archive), "x").items) == [
        ("member a.json", "!unreadable zip member: Bad CRC-32 for file 'a.json'"),
        ("member b.json", "NCT00000002"),
    ]


def _central_crc_offset(archive: bytes, n: int) -> int:
    """Where the CRC-32 of the archive's `n`-th member (0-based) sits in its central directory entry."""
    entry = -1
    for _ in range(n + 1):
        entry = archive.index(b"PK\x01\x02", entry + 1)
    return entry + 16


def test_deflated_member_with_a_bad_checksum_is_reported_and_the_rest_load() -> None:
    archive = bytearray(zip_of({"a.json": study_line("NCT00000001"), "b.json": study_line("NCT00000002")}))
    crc = _central_crc_offset(bytes(archive), 0)
    archive[crc] ^= 0xFF

    assert summarize(read_bytes(bytes(archive), "x").items) == [
        ("member a.json", "!unreadable zip member: Bad CRC-32 for file 'a.json'"),
        ("member b.json", "NCT00000002"),
    ]


def test_deflated_member_whose_data_is_cut_short_or_garbled_is_reported_and_the_rest_load() -> None:
    members = {"a.json": real_study("NCT00973089"), "b.json": study_line("NCT00000002")}
    plain = zip_of(members)
    info = zipfile.ZipFile(io.BytesIO(plain)).getinfo("a.json")
    data_start = info.header_offset + 30 + len("a.json")
    # The deflate stream of a.json ends early: its last bytes are zeros (an unfinished block).
    cut = bytearray(plain)
    cut[data_start + info.compress_size - 40 : data_start + info.compress_size] = b"\x00" * 40
    # Or its first block has an invalid type (both type bits set).
    garbled = bytearray(plain)
    garbled[data_start] |= 0b110

    assert summarize(read_bytes(bytes(cut), "x").items) == [
        ("member a.json", "!unreadable zip member: Compressed file ended before the end-of-stream marker was reached"),
        ("member b.json", "NCT00000002"),
    ]
    assert summarize(read_bytes(bytes(garbled), "x").items) == [
        ("member a.json", "!unreadable zip member: Error -1 Invalid deflate block found"),
        ("member b.json", "NCT00000002"),
    ]


@pytest.mark.parametrize("compression", [zipfile.ZIP_STORED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA])
def test_zip_members_read_the_same_whatever_their_compression(compression: int) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        archive.writestr("a.json", real_study("NCT03475563"))
        archive.writestr("b.ndjson", study_line("NCT00000004") + b"\n" + study_line("NCT00000005"))

    items = list(read_bytes(buffer.getvalue(), "x").items)
    assert summarize(items) == [
        ("member a.json", "NCT03475563"), ("member b.ndjson, line 1", "NCT00000004"), ("member b.ndjson, line 2", "NCT00000005"),
    ]
    assert items[0].study == orjson.loads(real_study("NCT03475563"))
    # As a worker reads them: from packed directory entries, handed over by another process.
    with ZipMembers(io.BytesIO(buffer.getvalue())) as planner:
        packed = pack_entries(planner.members)
    with ZipMembers(io.BytesIO(buffer.getvalue()), read_directory=False) as worker:
        assert [(e.filename, e.compress_type) for e in unpack_entries(packed)] == [("a.json", compression), ("b.ndjson", compression)]
        assert summarize(worker.read_entries(unpack_entries(packed))) == summarize(items)


def entry_fields(member) -> tuple:
    return (member.filename, member.header_offset, member.compress_size, member.file_size, member.CRC,
            member.compress_type, member.flag_bits)


def zipfile_members(archive: bytes) -> list[tuple]:
    with zipfile.ZipFile(io.BytesIO(archive)) as reference:
        return [entry_fields(m) for m in reference.infolist() if not m.is_dir()]


def test_the_directory_is_read_from_its_bytes_as_zipfile_reads_it(monkeypatch: pytest.MonkeyPatch) -> None:
    buffer = io.BytesIO()
    buffer.write(b"prepended bytes move every offset")  # zipfile finds the archive's start; so must we
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("a.json", real_study("NCT03475563"))
        archive.writestr("folder/", b"")  # a directory entry: no member
        archive.writestr(zipfile.ZipInfo("stored.json"), study_line("NCT00000002"))  # stored, not deflated
        archive.writestr("études/é.json", study_line("NCT00000003"))  # a UTF-8 name (flag 0x800)
        archive.writestr("cp437-X.json", study_line("NCT00000004"))
        # Past ZIP64_LIMIT, sizes and offsets move to a ZIP64 extra field; a small limit puts them there.
        monkeypatch.setattr(zipfile, "ZIP64_LIMIT", 64)
        archive.writestr("zip64.json", study_line("NCT00000005"))
        archive.comment = b"an archive comment"
    monkeypatch.undo()
    # A name in the historical encoding (cp437, no UTF-8 flag): 0x82 is "é" there.
    data = buffer.getvalue().replace(b"cp437-X.json", b"cp437-\x82.json")

    with ZipMembers(io.BytesIO(data)) as archive:
        members = archive.members
        assert all(type(m).__name__ == "MemberEntry" for m in members)  # read from the bytes, not by zipfile
        assert [entry_fields(m) for m in members] == zipfile_members(data)
        assert [m.filename for m in members] == ["a.json", "stored.json", "études/é.json", "cp437-é.json", "zip64.json"]
        with zipfile.ZipFile(io.BytesIO(data)) as reference:  # its size and offset were in a ZIP64 extra field
            assert reference.getinfo("zip64.json").extra[:2] == b"\x01\x00"
        assert members[-1].file_size == len(study_line("NCT00000005")) and members[-1].header_offset > 64
        assert summarize(archive.read()) == [
            ("member a.json", "NCT03475563"), ("member stored.json", "NCT00000002"), ("member études/é.json", "NCT00000003"),
            ("member cp437-é.json", "NCT00000004"), ("member zip64.json", "NCT00000005"),
        ]


def test_a_directory_entry_that_is_not_plain_is_read_by_zipfile() -> None:
    # A Unicode path extra field (0x7075), which some Python versions read the name from.
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        info = zipfile.ZipInfo("a.json")
        info.extra = b"\x75\x70\x05\x00\x01\x00\x00\x00\x00"
        archive.writestr(info, study_line("NCT00000002"))
        with pytest.warns(UserWarning, match="Duplicate name"):
            archive.writestr("a.json", study_line("NCT00000003"))  # the name repeats: the second is renamed
    with ZipMembers(io.BytesIO(buffer.getvalue())) as archive:
        assert [type(m).__name__ for m in archive.members] == ["ZipInfo", "ZipInfo"]
        assert [m.filename for m in archive.members] == ["a.json", "a.json (entry 2)"]
    # A plain one whose name repeats is renamed the same way.
    with ZipMembers(io.BytesIO(zip_of({"a.json": study_line("NCT00000002"), "b.json": b""}).replace(b"b.json", b"a.json"))) as archive:
        assert [(type(m).__name__, m.filename) for m in archive.members] == [("MemberEntry", "a.json"), ("MemberEntry", "a.json (entry 2)")]
    # A broken directory fails as zipfile fails.
    broken = zip_of({"a.json": study_line("NCT00000002")}).replace(b"PK\x01\x02", b"PK\x01\x09")
    with pytest.raises(zipfile.BadZipFile, match="Bad magic number for central directory"):
        ZipMembers(io.BytesIO(broken))


@pytest.mark.parametrize("compression", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_a_member_over_the_size_limit_is_reported_and_reading_stops_at_the_limit(
    compression: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipeline.documents import api_json

    monkeypatch.setattr(api_json, "MAX_MEMBER_BYTES", 3 * 1024 * 1024)
    monkeypatch.setattr(api_json, "READ_BUFFER_BYTES", 64 * 1024)  # the member comes in many pieces
    big = random.Random(4).randbytes(4 * 1024 * 1024)  # incompressible: the size limit, not the ratio, is hit
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        archive.writestr("big.json", big)
        archive.writestr("b.json", study_line("NCT00000002"))
    with api_json.ZipMembers(io.BytesIO(buffer.getvalue())) as members:
        assert members.member_bytes(members.members[0], 1024 * 1024 + 1) == big[: 1024 * 1024 + 1]
        assert members.member_bytes(members.members[0], len(big) + 1) == big

    assert summarize(read_bytes(buffer.getvalue(), "x").items) == [
        ("member big.json", "!zip member larger than 3 MiB"),
        ("member b.json", "NCT00000002"),
    ]


def test_a_member_declaring_a_wrong_size_is_reported() -> None:
    archive = bytearray(zip_of({"a.json": study_line("NCT00000001")}))
    size = _central_crc_offset(bytes(archive), 0) + 8  # the uncompressed size follows the CRC and compressed size
    archive[size] += 1

    assert summarize(read_bytes(bytes(archive), "x").items) == [("member a.json", "!unreadable zip member: Bad size for file 'a.json'")]


def test_zip_without_members_holds_nothing() -> None:
    reading = read_bytes(zip_of({}), "empty.zip")

    assert reading.form == "zip"
    assert list(reading.items) == []


def test_unreadable_zip(tmp_path: Path) -> None:
    reading = read_document(write(tmp_path, "broken.zip", b"PK\x03\x04" + b"\x00" * 40))

    assert reading.form == "zip"
    assert summarize(reading.items) == [("", "!unreadable zip archive: File is not a zip file")]


# --- gzip --------------------------------------------------------------------------------

GZIPPED_SHAPES = {
    "ndjson": (
        study_line("NCT00000001") + b"\n" + study_line("NCT00000002") + b"\n",
        [("line 1", "NCT00000001"), ("line 2", "NCT00000002")],
    ),
    "json_list": (
        orjson.dumps([study("NCT00000001"), study("NCT00000002")], option=orjson.OPT_INDENT_2),
        [("[0]", "NCT00000001"), ("[1]", "NCT00000002")],
    ),
    "json_page": (
        orjson.dumps({"studies": [study("NCT00000002")], "nextPageToken": None}),
        [("studies[0]", "NCT00000002")],
    ),
    "json_study": (real_study("NCT03475563"), [("", "NCT03475563")]),
    "zip": (
        zip_of({"NCT00973089.json": real_study("NCT00973089"), "NCT03475563.json": real_study("NCT03475563")}),
        [("member NCT00973089.json", "NCT00973089"), ("member NCT03475563.json", "NCT03475563")],
    ),
}


@pytest.mark.parametrize("shape", sorted(GZIPPED_SHAPES))
def test_gzipped_shapes_from_a_file(tmp_path: Path, shape: str) -> None:
    document, expected = GZIPPED_SHAPES[shape]

    reading = read_document(write(tmp_path, "download", gzip.compress(document)))

    assert reading.form == f"{shape}+gzip"
    assert summarize(reading.items) == expected


@pytest.mark.parametrize("shape", sorted(GZIPPED_SHAPES))
def test_gzipped_shapes_in_memory(shape: str) -> None:
    document, expected = GZIPPED_SHAPES[shape]

    reading = read_bytes(gzip.compress(document), "download")

    assert reading.form == f"{shape}+gzip"
    assert summarize(reading.items) == expected


def test_gzipped_ndjson_cut_short_keeps_the_lines_before_the_cut(tmp_path: Path) -> None:
    # Larger than the detection head, so the lines stream before the missing trailer shows.
    document = b"".join(study_line(f"NCT{number:08d}") + b"\n" for number in range(1, 3001))
    compressed = gzip.compress(document)

    reading = read_document(write(tmp_path, "studies.ndjson.gz", compressed[:-8]))

    assert reading.form == "ndjson+gzip"
    items = list(reading.items)
    assert len(items) == 3001
    assert summarize(items[:1]) == [("line 1", "NCT00000001")]
    assert summarize(items[-2:]) == [
        ("line 3000", "NCT00003000"),
        ("", "!truncated gzip: Compressed file ended before the end-of-stream marker was reached"),
    ]


def test_gzip_that_is_not_deflate() -> None:
    reading = read_bytes(b"\x1f\x8b" + b"x" * 30, "fake.gz")

    assert reading.form == "gzip"
    assert summarize(reading.items) == [("", "!corrupt gzip: Unknown compression method")]
