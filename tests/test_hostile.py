"""Hostile input: the raw folder takes whatever arrives, and no document may stop a build, cost
unbounded memory, or bring in what sits outside the folder.

Each test puts hostile entries of one kind beside good studies (real records) and builds the
folder twice: in full, and incrementally on a warehouse of the good studies alone (the daily
refresh that meets the hostile entries). It asserts the exact ingest_errors rows, that the good
studies load, and that both builds hold the same tables. Upstream quirks pinned here: a record
whose module is a list (the normalizer used to stop the build), values JSON can't hold in
registry exports (Python literals), ids written with \\d-matching digits of other scripts,
symbolic links out of the folder (whose contents once reached ingest_errors.excerpt), and
decompression bombs. Peak memory is measured by bench/hostile.py, not here.
"""
from __future__ import annotations

import copy
import gzip
import hashlib
import json
import os
import shutil
import socket
import struct
import zlib
from pathlib import Path

import duckdb
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from record_places import places
from zips import zip_of
from test_refresh import table_differences

from pipeline.tables import schema
from pipeline.warehouse import build as build_module
from pipeline.warehouse import files as warehouse_files
from pipeline.warehouse.build import build
from pipeline.warehouse.load import LOADED_TABLES, incremental, raw_folder

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "documents"
GOOD = {"NCT00973089": FIXTURES / "NCT00973089.json", "NCT03475563": FIXTURES / "NCT03475563.json"}


def study(nct_id: str = "NCT99990001", **replaced) -> dict:
    """The real record NCT03475563 under another id, with values at dotted paths replaced."""
    record = orjson.loads(GOOD["NCT03475563"].read_bytes())
    record["protocolSection"]["identificationModule"]["nctId"] = nct_id
    for path, value in replaced.items():
        node, *_, key = [record, *path.split("__")]
        for step in path.split("__")[:-1]:
            node = node[int(step)] if isinstance(node, list) else node[step]
        node[int(key) if isinstance(node, list) else key] = value
    return record


def write(path: Path, data: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def registry_export(literal: str, nct_id: str = "NCT99990001") -> bytes:
    header = f"Viewing Study {nct_id}\n\nStudy NCT ID: {nct_id}\nStatus: RECRUITING\n\nRaw JSON\n\n"
    return (header + literal + "\n").encode("utf-8", errors="surrogatepass")


def query(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def errors(warehouse: Path) -> list[tuple]:
    return query(warehouse, "select document_path, position, nct_id, reason, excerpt from ingest_errors order by all")


# The SQL models are left out: they read the tables these tests check, and building them would
# double each build's time (bench/hostile.py builds every case with them, through `trials build`).
COMPARED = [t.name for t in (schema.DOCUMENTS, *LOADED_TABLES)]


@pytest.fixture(autouse=True)
def no_models(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(build_module, "discover_models", lambda schema="main": [])


@pytest.fixture(scope="module")
def good_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse (and its history) built from the good studies alone."""
    root = tmp_path_factory.mktemp("good")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(build_module, "discover_models", lambda schema="main": [])
        assert build(good_folder(root / "raw"), root / "w.duckdb").kind == "full"
    return root


def good_folder(raw: Path) -> Path:
    for nct_id, path in GOOD.items():
        write(raw / "good" / f"{nct_id}.json", path.read_bytes())
    return raw


def build_both(tmp_path: Path, good_warehouse: Path, add_hostile) -> Path:
    """The good studies and what `add_hostile(raw)` adds, built twice: as a refresh of the good
    studies' warehouse (the daily build that meets the hostile entries) and in full. Both must
    hold the same tables and every good study: the full build."""
    raw = good_folder(tmp_path / "raw")
    add_hostile(raw)
    refreshed = tmp_path / "incremental" / "w.duckdb"
    refreshed.parent.mkdir()
    for name in ("w.duckdb", "w.history.duckdb"):
        shutil.copyfile(good_warehouse / name, refreshed.parent / name)
    assert build(raw, refreshed).kind == "incremental"
    full = build(raw, tmp_path / "full" / "w.duckdb", full=True).warehouse
    assert table_differences(full, refreshed, COMPARED) == {}
    assert set(GOOD) <= {row[0] for row in query(full, "select nct_id from studies")}
    return full


# ---------------------------------------------------------------- one record, one error row


def test_a_record_with_a_wrong_typed_module_or_list_is_one_error_row_and_the_rest_loads(tmp_path: Path, good_warehouse: Path) -> None:
    def hostile(raw: Path) -> None:
        write(raw / "module.json", orjson.dumps(study(protocolSection__armsInterventionsModule=[1, 2])))
        write(raw / "lines.ndjson", orjson.dumps(study("NCT99990002")) + b"\n"
              + orjson.dumps(study("NCT99990003", protocolSection__armsInterventionsModule__armGroups=3)) + b"\n")
        write(raw / "list.json", orjson.dumps([study("NCT99990004", protocolSection__statusModule=["RECRUITING"]),
                                               study("NCT99990005", protocolSection__designModule__phases="PHASE2")]))
        write(raw / "element.json", orjson.dumps(study("NCT99990006", protocolSection__conditionsModule__conditions=[{"a": 1}])))
        # A number where the last update's text belongs is no structure: its text is the date.
        write(raw / "date.json", orjson.dumps(study(
            "NCT99990007", protocolSection__statusModule__lastUpdatePostDateStruct={"date": 20240101, "type": "ACTUAL"})))

    warehouse = build_both(tmp_path, good_warehouse, hostile)

    assert errors(warehouse) == [
        ("element.json", "", "NCT99990006",
         "wrong type at protocolSection.conditionsModule.conditions[0]: expected a string, got an object", "{'a': 1}"),
        ("lines.ndjson", "line 2", "NCT99990003",
         "wrong type at protocolSection.armsInterventionsModule.armGroups: expected a list, got a number", "3"),
        ("list.json", "[0]", "NCT99990004",
         "wrong type at protocolSection.statusModule: expected an object, got a list", "['RECRUITING']"),
        ("list.json", "[1]", "NCT99990005",
         "wrong type at protocolSection.designModule.phases: expected a list, got a string", "'PHASE2'"),
        ("module.json", "", "NCT99990001",
         "wrong type at protocolSection.armsInterventionsModule: expected an object, got a list", "[1, 2]"),
    ]
    assert query(warehouse, "select nct_id, last_update_post_date_raw, last_update_post_date from studies "
                            "where nct_id = 'NCT99990007'") == [("NCT99990007", "20240101", None)]
    assert query(warehouse, "select nct_id from studies order by 1") == [
        ("NCT00973089",), ("NCT03475563",), ("NCT99990002",), ("NCT99990007",)]
    assert query(warehouse, "select last_update_post_date_raw from study_records where nct_id = 'NCT99990007'") == [("20240101",)]
    assert query(warehouse, "select document_path, n_studies_found, n_errors from documents order by 1") == [
        ("date.json", 1, 0), ("element.json", 0, 1), ("good/NCT00973089.json", 1, 0), ("good/NCT03475563.json", 1, 0),
        ("lines.ndjson", 1, 1), ("list.json", 0, 2), ("module.json", 0, 1),
    ]


def test_a_wrong_typed_newer_copy_does_not_hide_the_valid_older_one(tmp_path: Path, good_warehouse: Path) -> None:
    # The structure is checked before any precedence: the broken record is no version of the study.
    def hostile(raw: Path) -> None:
        newer = study("NCT03475563", protocolSection__contactsLocationsModule="Boston")
        newer["protocolSection"]["statusModule"]["lastUpdatePostDateStruct"]["date"] = "2099-01-01"
        write(raw / "newer.json", orjson.dumps(newer))

    warehouse = build_both(tmp_path, good_warehouse, hostile)

    assert errors(warehouse) == [("newer.json", "", "NCT03475563",
                                  "wrong type at protocolSection.contactsLocationsModule: expected an object, got a string",
                                  "'Boston'")]
    assert query(warehouse, "select document_path, is_current from study_records where nct_id = 'NCT03475563'") == [
        ("good/NCT03475563.json", True)]


# ---------------------------------------------------------------- values that don't fit


def test_values_that_do_not_fit_their_column_are_kept_with_their_path_not_nulled_unseen(tmp_path: Path, good_warehouse: Path) -> None:
    def hostile(raw: Path) -> None:
        write(raw / "abc.json", orjson.dumps(study("NCT99990001", protocolSection__designModule__enrollmentInfo__count="abc")))
        write(raw / "big.json", orjson.dumps(study("NCT99990002", protocolSection__designModule__enrollmentInfo__count=2**40)))
        write(raw / "odd.json", orjson.dumps(study(
            "NCT99990003", protocolSection__identificationModule__briefTitle={"text": "T"},
            protocolSection__eligibilityModule__healthyVolunteers="yes",
            protocolSection__contactsLocationsModule__locations__0__geoPoint__lat="north")))
        # JSON: orjson reads an integer beyond 64 bits as the nearest float.
        write(raw / "json30.json", orjson.dumps(study("NCT99990004")).replace(
            b'"count":100', b'"count":123456789012345678901234567890'))
        # Registry exports keep what JSON can't hold as the text written.
        literal = repr(study("NCT99990005")).replace("'count': 100", "'count': 123456789012345678901234567890")
        write(raw / "export30.txt", registry_export(literal.replace("'lat': 41.54329", "'lat': -1e9999"), "NCT99990005"))

    warehouse = build_both(tmp_path, good_warehouse, hostile)

    assert errors(warehouse) == []
    assert query(warehouse, "select nct_id, path, value from unmapped_values where nct_id like 'NCT9999%' order by all") == [
        ("NCT99990001", "protocolSection.designModule.enrollmentInfo.count", "abc"),
        ("NCT99990002", "protocolSection.designModule.enrollmentInfo.count", "1099511627776"),
        ("NCT99990003", "protocolSection.contactsLocationsModule.locations[0].geoPoint.lat", "north"),
        ("NCT99990003", "protocolSection.eligibilityModule.healthyVolunteers", "yes"),
        ("NCT99990003", "protocolSection.identificationModule.briefTitle", '{"text":"T"}'),
        ("NCT99990004", "protocolSection.designModule.enrollmentInfo.count", "1.2345678901234568e+29"),
        ("NCT99990005", "protocolSection.contactsLocationsModule.locations[0].geoPoint.lat", "-1e9999"),
        ("NCT99990005", "protocolSection.designModule.enrollmentInfo.count", "123456789012345678901234567890"),
    ]
    assert query(warehouse, "select nct_id, enrollment, brief_title, accepts_healthy_volunteers from studies "
                            "where nct_id like 'NCT9999%' order by 1") == [
        ("NCT99990001", None, study()["protocolSection"]["identificationModule"]["briefTitle"], False),
        ("NCT99990002", None, study()["protocolSection"]["identificationModule"]["briefTitle"], False),
        ("NCT99990003", 100, None, None),
        ("NCT99990004", None, study()["protocolSection"]["identificationModule"]["briefTitle"], False),
        ("NCT99990005", None, study()["protocolSection"]["identificationModule"]["briefTitle"], False),
    ]
    assert query(warehouse, "select nct_id, site_position, latitude from sites "
                            "where nct_id in ('NCT99990003', 'NCT99990005') and site_position = 1 order by 1") == [
        ("NCT99990003", 1, None), ("NCT99990005", 1, None)]


def test_values_canonical_json_cannot_hold_reject_only_their_record(tmp_path: Path, good_warehouse: Path) -> None:
    title = "'briefTitle': '"

    def hostile(raw: Path) -> None:
        write(raw / "lone.txt", registry_export(repr(study()).replace(title, title + "\\ud800"), "NCT99990001"))
        write(raw / "pair.txt", registry_export(repr(study("NCT99990002")).replace(title, title + "\\ud83d\\ude00"), "NCT99990002"))
        # orjson parses 1,024 levels of nesting but writes at most 255: the version could not be hashed.
        write(raw / "deep.json", orjson.dumps(study("NCT99990003"))[:-1] + b',"deep":' + b"[" * 300 + b"]" * 300 + b"}")

    warehouse = build_both(tmp_path, good_warehouse, hostile)

    assert [row[:4] for row in errors(warehouse)] == [
        ("deep.json", "", "NCT99990003", "nesting deeper than 255 levels at " + ("deep" + "[0]" * 30)[:80]
         + "...: the record can't be written as canonical JSON to hash its version"),
        ("lone.txt", "line 8", None,
         "registry export holds a lone surrogate '\\ud800' (not Unicode text) in a string at line 8"),
    ]
    assert query(warehouse, "select brief_title from studies where nct_id = 'NCT99990002'") == [
        ("\U0001F600" + study()["protocolSection"]["identificationModule"]["briefTitle"],)]


def test_an_nct_id_is_exactly_nct_and_eight_ascii_digits(tmp_path: Path, good_warehouse: Path) -> None:
    ids = {"newline.json": "NCT99990001\n", "arabic.json": "NCT٩٩٩٩٠٠٠١", "fullwidth.json": "NCT９９９９０００１",
           "lower.json": "nct99990001", "spaced.json": " NCT99990001"}

    def hostile(raw: Path) -> None:
        for name, nct_id in ids.items():
            write(raw / name, orjson.dumps(study(nct_id)))
        page = (FIXTURES.parent / "study_page" / "seed_NCT06442709.txt").read_text().replace("NCT06442709", "NCT०६४४२७०९")
        write(raw / "page.txt", page)

    warehouse = build_both(tmp_path, good_warehouse, hostile)

    assert [(path, reason) for path, _, _, reason, _ in errors(warehouse)] == sorted(
        [(name, f"malformed NCT id {nct_id!r}") for name, nct_id in ids.items()]
        + [("page.txt", "malformed NCT id 'NCT०६४४२७०९'")])
    assert query(warehouse, "select count(*) from studies where not regexp_full_match(nct_id, 'NCT[0-9]{8}')") == [(0,)]


# ---------------------------------------------------------------- the raw folder is a boundary


def test_the_raw_folder_is_a_boundary_that_nothing_is_read_across(tmp_path: Path, good_warehouse: Path) -> None:
    outside = write(tmp_path / "outside" / "secret.json", orjson.dumps(study("NCT99990009", protocolSection__identificationModule__briefTitle="SECRET")))

    def hostile(raw: Path) -> None:
        for name, target in {"passwd.json": "/etc/passwd", "mem.json": "/proc/self/mem", "secret.json": str(outside),
                             "climb.json": "../outside/secret.json", "gone.json": "missing.json", "loop.json": "loop.json",
                             "etc": "/etc", "up": ".."}.items():
            os.symlink(target, raw / name)
        write(raw / "inside" / "NCT99990003.json", orjson.dumps(study("NCT99990003")))
        os.symlink("inside/NCT99990003.json", raw / "link.json")
        os.mkfifo(raw / "pipe.json")
        folder = os.open(raw, os.O_RDONLY)
        try:
            with socket.socket(socket.AF_UNIX) as server:
                server.bind(f"/proc/self/fd/{folder}/socket.json")  # a socket's own path must be short
        finally:
            os.close(folder)
        write(raw / ("/".join(["deep"] * 40)) / "NCT99990004.json", orjson.dumps(study("NCT99990004")))
        write(Path(os.fsdecode(os.fsencode(raw) + b"/bad\nna\xffme.json")), orjson.dumps(study("NCT99990005")))

    warehouse = build_both(tmp_path, good_warehouse, hostile)

    not_followed = "symbolic link leading out of the raw folder: not followed"
    assert [(path, position, reason) for path, position, _, reason, _ in errors(warehouse)] == [
        ("climb.json", "", not_followed),
        ("/".join(["deep"] * 33), "", "folder nested deeper than 32 levels: not read"),
        ("etc", "", not_followed),
        ("gone.json", "", "symbolic link to nothing (its target does not exist): not read"),
        ("loop.json", "", "symbolic link that can't be followed (Too many levels of symbolic links): not read"),
        ("mem.json", "", not_followed),
        ("passwd.json", "", not_followed),
        ("pipe.json", "", "a FIFO (named pipe), not a regular file: not read"),
        ("secret.json", "", not_followed),
        ("socket.json", "", "a socket, not a regular file: not read"),
        ("up", "", not_followed),
    ]
    assert query(warehouse, "select count(*) from ingest_errors where excerpt <> '' or contains(reason, 'root:')") == [(0,)]
    assert "NCT99990009" not in {row[0] for row in query(warehouse, "select nct_id from studies")}
    assert query(warehouse, "select document_path, n_studies_loaded from documents where not starts_with(document_path, 'good/') order by 1") == [
        ("bad\nna\\xffme.json", 1), ("inside/NCT99990003.json", 0), ("link.json", 1),
    ]
    assert query(warehouse, "select nct_id, document_path, is_current from study_records where nct_id in ('NCT99990003', 'NCT99990005') order by all") == [
        ("NCT99990003", "inside/NCT99990003.json", False), ("NCT99990003", "link.json", True),
        ("NCT99990005", "bad\nna\\xffme.json", True),
    ]


def test_a_path_longer_than_the_system_allows_is_an_error_row(tmp_path: Path, good_warehouse: Path) -> None:
    def hostile(raw: Path) -> None:
        folder = os.open(raw, os.O_RDONLY)
        try:
            for _ in range(18):  # 18 names of 250 bytes: past the 4,096 bytes a path may hold
                os.mkdir("x" * 250, dir_fd=folder)
                inner = os.open("x" * 250, os.O_RDONLY, dir_fd=folder)
                os.close(folder)
                folder = inner
        finally:
            os.close(folder)

    warehouse = build_both(tmp_path, good_warehouse, hostile)

    [(path, position, _, reason, _)] = errors(warehouse)
    assert (position, reason) == ("", "path longer than the system allows (4096 bytes): not read")
    assert len(os.fsencode(str(tmp_path / "raw" / path))) >= raw_folder.PATH_MAX > len(os.fsencode(str(tmp_path / "raw" / path))) - 251


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a file whatever its mode")
def test_an_unreadable_file_is_an_error_row(tmp_path: Path, good_warehouse: Path) -> None:
    def hostile(raw: Path) -> None:
        os.chmod(write(raw / "locked.json", orjson.dumps(study())), 0)

    warehouse = build_both(tmp_path, good_warehouse, hostile)

    assert [row[:4] for row in errors(warehouse)] == [
        ("locked.json", "", None, f"could not read the document: PermissionError: [Errno 13] Permission denied: '{tmp_path / 'raw' / 'locked.json'}'")]
    assert query(warehouse, "select content_hash from documents where document_path = 'locked.json'") == [("",)]


# ---------------------------------------------------------------- bounded memory


MIB = 1024 * 1024


def deflated(data: bytes) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    return packer.compress(data) + packer.flush()


def zip_declaring(member: bytes, declared_size: int, name: bytes = b"bomb.json", entries: int = 1) -> bytes:
    """A zip of one deflated member whose directory states `declared_size`; with `entries` > 1,
    that many directory entries over the same data (the overlapping-files zip bomb)."""
    body, crc = deflated(member), zlib.crc32(member)
    local = struct.pack("<4s5H3I2H", b"PK\x03\x04", 20, 0, 8, 0, 0, crc, len(body), declared_size, len(name), 0) + name
    central = b"".join(struct.pack("<4s6H3I5H2I", b"PK\x01\x02", 20, 20, 0, 8, 0, 0, crc, len(body), declared_size,
                                   len(name) + (2 if entries > 1 else 0), 0, 0, 0, 0, 0, 0)
                       + name + (b"%02d" % i if entries > 1 else b"") for i in range(entries))
    return local + body + central + struct.pack("<4s4H2IH", b"PK\x05\x06", 0, 0, entries, entries, len(central),
                                                len(local) + len(body), 0)


def test_bombs_and_oversized_input_stop_at_a_bound_with_a_plain_error(tmp_path: Path, good_warehouse: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pipeline.documents import api_json, bounds, registry_export as export_reader

    # Small bounds, so that small documents cross them (the real ones are 256 MiB and up).
    monkeypatch.setattr(api_json, "MAX_RECORD_BYTES", 64 * 1024)
    monkeypatch.setattr(bounds, "PARSE_CHECK_FROM_BYTES", 32 * 1024)
    monkeypatch.setattr(bounds, "MAX_PARSED_BYTES", 1 * MIB)
    monkeypatch.setattr(export_reader, "MAX_LITERAL_VALUES", 1000)
    monkeypatch.setattr(api_json, "MAX_LINES", 3)
    spaces = gzip.compress(b" " * MIB)

    def hostile(raw: Path) -> None:
        write(raw / "spaces.json.gz", spaces * 100)  # 100 MiB of whitespace in 100 KB
        write(raw / "bracket.json.gz", gzip.compress(b"[" + b" " * MIB) + spaces * 99)
        write(raw / "declared.zip", zip_declaring(b" " * MIB, 2 * 1024**3))
        write(raw / "lying.zip", zip_declaring(b" " * MIB, 100))
        write(raw / "overlap.zip", zip_declaring(b"a" * MIB, MIB, entries=50))
        write(raw / "objects.json", b"[" + b"{}," * 15_000 + b"{}]")
        write(raw / "long.ndjson", orjson.dumps(study("NCT99990002")) + b"\n" + b'{"a": "' + b"x" * 100_000 + b'"}\n')
        write(raw / "items.txt", registry_export("[" + "0, " * 2000 + "]"))
        write(raw / "lines.ndjson", orjson.dumps(study("NCT99990003")) + b"\n" + b'{"a": 1}\n' * 2 + b"\n" + b'{"a": 1}\n' * 5)

    warehouse = build_both(tmp_path, good_warehouse, hostile)

    bomb = "inflates to more than 64 MiB (100 times its compressed size): not read further (a decompression bomb?)"
    assert [row[:4] for row in errors(warehouse)] == [
        ("bracket.json.gz", "", None, f"the gzip document {bomb}"),
        ("declared.zip", "member bomb.json", None,
         "the zip member inflates to more than 1 MiB (100 times its compressed size): not read further (a decompression bomb?)"),
        ("items.txt", "line 8", None, "registry export literal holds more than 1,000 values at line 8"),
        ("lines.ndjson", "line 2", None, "record has no NCT id (protocolSection.identificationModule.nctId)"),
        ("lines.ndjson", "line 3", None, "record has no NCT id (protocolSection.identificationModule.nctId)"),
        ("lines.ndjson", "line 5", None, "not read from this line on: a document is read to 3 lines of content at most "
                                         "(the whole registry is under a million studies, one a line)"),
        ("long.ndjson", "line 2", None, "line longer than 65,536 bytes: not read"),
        ("lying.zip", "member bomb.json", None, "unreadable zip member: Bad size for file 'bomb.json'"),
        ("objects.json", "", None,
         "JSON document of 45,004 bytes would take about 2 MiB of memory to parse (limit 1 MiB): not read"),
        ("overlap.zip", "", None, "unreadable zip archive: the members overlap (their compressed sizes add up to more "
                                  "than the archive): not read (a zip bomb?)"),
        ("spaces.json.gz", "", None, f"the gzip document {bomb}"),
    ]
    assert query(warehouse, "select nct_id from studies where nct_id in ('NCT99990002', 'NCT99990003') order by 1") == [
        ("NCT99990002",), ("NCT99990003",)]


def test_error_rows_are_written_as_they_come_not_held_to_the_end(tmp_path: Path, good_warehouse: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pipeline.warehouse.load import full

    monkeypatch.setattr(full, "ERRORS_PER_BATCH", 100)
    monkeypatch.setattr(incremental, "ERRORS_PER_BATCH", 100)
    written: list[int] = []
    for module in (full, incremental):
        monkeypatch.setattr(module, "write_errors", lambda con, rows, write=module.write_errors: (written.append(len(rows)), write(con, rows)))

    warehouse = build_both(tmp_path, good_warehouse, lambda raw: write(raw / "bad.ndjson", orjson.dumps(study()) + b"\n" + b"{nope}\n" * 1000))

    line_bytes = len(orjson.dumps(study())) + 1
    assert query(warehouse, "select count(*), count(distinct position) from ingest_errors") == [(1000, 1000)]
    assert errors(warehouse)[0] == ("bad.ndjson", "line 10", None,
                                    f"malformed JSON: unexpected character, expected a string key (column 2, byte {line_bytes + 8 * 7 + 1})",
                                    "{nope}\n")
    # Two builds read the document (the refresh and the full build), each in batches of at most 100 rows.
    assert max(written) == 100 and sum(written) == 2 * 1000
    assert query(warehouse, "select nct_id, position from study_records where nct_id = 'NCT99990001'") == [("NCT99990001", "line 1")]


# ---------------------------------------------------------------- messages


def test_errors_say_plainly_what_is_wrong(tmp_path: Path, good_warehouse: Path) -> None:
    def hostile(raw: Path) -> None:
        write(raw / "nested.zip", zip_of({"inner.zip": zip_of({"a.json": orjson.dumps(study())}),
                                          "a.json.gz": gzip.compress(orjson.dumps(study())),
                                          "NCT99990002.json": orjson.dumps(study("NCT99990002"))}))
        write(raw / "malformed.txt", registry_export("{'protocolSection': [1, 2,\n 3"))
        write(raw / "json_style.txt", registry_export(json.dumps(study())))

    warehouse = build_both(tmp_path, good_warehouse, hostile)

    assert [row[:4] for row in errors(warehouse)] == [
        ("json_style.txt", "line 8", None,
         "registry export holds a non-literal: JSON false (JSON true/false/null are not Python literals: the record must "
         "be written with True/False/None, as Python prints it) at line 8"),
        ("malformed.txt", "line 8", None, "registry export literal is malformed: '[' was never closed at line 8"),
        ("nested.zip", "member a.json.gz", None, "gzip inside zip is not supported"),
        ("nested.zip", "member inner.zip", None, "zip inside zip is not supported"),
    ]
    assert query(warehouse, "select nct_id from studies where nct_id = 'NCT99990002'") == [("NCT99990002",)]


# ---------------------------------------------------------------- any value anywhere


PLACES = places(study())[1:]  # not the record itself: a document that is not a record is the readers' tests' concern
ANY_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)
FORMS = ("json", "ndjson", "registry_export")


def replaced(record: dict, place: tuple, value) -> dict:
    node = record
    for step in place[:-1]:
        node = node[step]
    node[place[-1]] = value
    return record


@settings(max_examples=12, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(PLACES), ANY_JSON, st.sampled_from(FORMS)), min_size=4, max_size=8))
def test_any_module_list_or_value_replaced_by_any_json_loads_or_is_reported(tmp_path_factory, mutations) -> None:
    import duckdb as db

    from pipeline.warehouse.load import inventory, load_full

    raw = good_folder(tmp_path_factory.mktemp("property") / "raw")
    expected = []  # (document, position) of every mutated record
    lines = []
    for number, (place, value, form) in enumerate(mutations):
        record = replaced(study(f"NCT9999{number:04d}"), place, copy.deepcopy(value))
        # json, not orjson, writes what JSON can't hold (NaN, integers beyond 64 bits, lone
        # surrogates) as the odd documents that arrive; repr writes Python's own literals.
        if form == "json":
            write(raw / f"{number}.json", json.dumps(record))
            expected.append((f"{number}.json", ""))
        elif form == "ndjson":
            lines.append(json.dumps(record))
            expected.append(("lines.ndjson", f"line {len(lines)}"))
        else:
            write(raw / f"{number}.txt", registry_export(repr(record), f"NCT9999{number:04d}"))
            expected.append((f"{number}.txt", ""))
    if lines:
        write(raw / "lines.ndjson", "\n".join(lines) + "\n")
    if len(lines) == 1:  # one line is a JSON document, not NDJSON: its record sits at ""
        expected = [(path, "" if path == "lines.ndjson" else position) for path, position in expected]

    with db.connect() as con:
        load_full(con, raw, inventory(raw, hash_files=False), raw.parent / "parts")
        loaded = set(con.execute("select document_path, position from study_records").fetchall())
        reported = con.execute("select document_path, position, reason from ingest_errors").fetchall()
        studies = {row[0] for row in con.execute("select nct_id from studies").fetchall()}
    documents_reported = {path for path, _, _ in reported}
    documents_loaded = {path for path, _ in loaded}
    for document, position in expected:
        # A record loads, or is reported at its position, or its whole document is (a document
        # that does not parse is one error at the byte where it breaks).
        assert ((document, position) in loaded or (document, position) in {(p, q) for p, q, _ in reported}
                or (document in documents_reported and document not in documents_loaded)), (document, position)
    assert set(GOOD) <= studies
    # The last resort (splitting a batch that fails to normalize) is never needed: the guard's
    # checks catch every record the normalizer could not take.
    assert not [reason for _, _, reason in reported if reason.startswith("could not be normalized")]


# ---------------------------------------------------------------- a refresh that fails


def test_a_refresh_that_fails_leaves_the_published_warehouse_byte_identical_and_no_staging_file(
    tmp_path: Path, good_warehouse: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = good_folder(tmp_path / "raw")
    warehouse = tmp_path / "w" / "w.duckdb"
    warehouse.parent.mkdir()
    for name in ("w.duckdb", "w.history.duckdb"):
        shutil.copyfile(good_warehouse / name, warehouse.parent / name)
    published = hashlib.sha256(warehouse.read_bytes()).hexdigest()
    before = sorted(p.name for p in warehouse.parent.iterdir())
    write(raw / "module.json", orjson.dumps(study(protocolSection__armsInterventionsModule=[1, 2])))
    write(raw / "bomb.json.gz", gzip.compress(b" " * MIB) * 100)

    def disk_full(con) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(incremental, "mark_current", disk_full)
    with pytest.raises(OSError, match="No space left on device"):
        build(raw, warehouse)

    assert hashlib.sha256(warehouse.read_bytes()).hexdigest() == published
    assert warehouse_files.WarehouseFiles(warehouse).leftovers() == []
    assert sorted(p.name for p in warehouse.parent.iterdir()) == sorted({*before, "w.duckdb.lock"})
    monkeypatch.undo()
    monkeypatch.setattr(build_module, "discover_models", lambda schema="main": [])
    assert build(raw, warehouse).kind == "incremental"
    assert [row[:3] for row in errors(warehouse)] == [
        ("bomb.json.gz", "", None), ("module.json", "", "NCT99990001")]
