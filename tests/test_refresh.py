"""Incremental builds and study history: an incremental build gives exactly the tables a full
rebuild of the same folder gives, rewrites only what changed, and records every version.

Upstream quirk pinned here: documents come and go from the raw folder, so the newest version of
a study can be withdrawn and an older one, still in another document, become current again; the
history must show that step back, not end on a change the warehouse no longer reflects.
"""
from __future__ import annotations

import copy
import os
from pathlib import Path

import duckdb
import orjson
import pytest

from pipeline.documents import read_document
from pipeline.documents.model import StudyRecord
from pipeline.tables import schema
from pipeline.warehouse.build import build
from pipeline.warehouse.load import LOADED_TABLES
from pipeline.warehouse.models import discover_models

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "raw" / "ctgov_v2"
# Tables a rebuild must reproduce exactly; build_info and history (and what reads it) record when.
REPRODUCIBLE = [t.name for t in (schema.DOCUMENTS, *LOADED_TABLES)] + [
    m.name for m in discover_models() if not m.is_macro and m.name != "study_changes"
]


def sample_studies() -> list[dict]:
    studies = {}
    for path in sorted(SAMPLES.glob("*.json")):
        for item in read_document(path).items:
            if isinstance(item, StudyRecord):
                studies[item.nct_id] = item.study
    return [studies[k] for k in sorted(studies)]


STUDIES = sample_studies()


def write_json(path: Path, study: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(orjson.dumps(study))


def write_ndjson(path: Path, studies: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"".join(orjson.dumps(s) + b"\n" for s in studies))


def renumbered(study: dict, number: int) -> dict:
    new = copy.deepcopy(study)
    new["protocolSection"]["identificationModule"]["nctId"] = f"NCT9{number:07d}"
    return new


def changed(study: dict) -> dict:
    """The study's next version: new status, enrollment, completion date, a later lastUpdatePostDate."""
    new = copy.deepcopy(study)
    status = new["protocolSection"]["statusModule"]
    status["overallStatus"] = "TERMINATED" if status.get("overallStatus") != "TERMINATED" else "COMPLETED"
    status["completionDateStruct"] = {"date": "2031-12-31", "type": "ESTIMATED"}
    status["lastUpdatePostDateStruct"] = {"date": "2026-11-20", "type": "ACTUAL"}
    design = new["protocolSection"].setdefault("designModule", {})
    design["enrollmentInfo"] = {"count": (design.get("enrollmentInfo", {}).get("count") or 0) + 1000, "type": "ESTIMATED"}
    return new


def table_differences(left: Path, right: Path, tables: list[str]) -> dict[str, tuple[int, int]]:
    """Rows in one warehouse's table and not the other's, both ways, for every differing table."""
    differences = {}
    with duckdb.connect() as con:
        con.execute(f"attach '{left}' as l (read_only)")
        con.execute(f"attach '{right}' as r (read_only)")
        for table in tables:
            only_left = con.execute(f"select count(*) from (select * from l.{table} except all select * from r.{table})").fetchall()[0][0]
            only_right = con.execute(f"select count(*) from (select * from r.{table} except all select * from l.{table})").fetchall()[0][0]
            if only_left or only_right:
                differences[table] = (only_left, only_right)
    return differences


def query(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.fixture
def folder(tmp_path: Path):
    """A raw folder of 200 single-study documents and one NDJSON document of 40 studies."""
    raw = tmp_path / "raw"
    for study in STUDIES[:200]:
        write_json(raw / "single" / f"{study['protocolSection']['identificationModule']['nctId']}.json", study)
    write_ndjson(raw / "bulk" / "part-1.ndjson", STUDIES[200:240])
    return raw


def test_an_incremental_build_equals_a_full_rebuild_and_rewrites_only_what_changed(folder: Path, tmp_path: Path):
    warehouse = tmp_path / "incremental" / "w.duckdb"
    first = build(folder, warehouse)
    assert (first.kind, first.load.n_studies) == ("full", 240)

    dropped = STUDIES[:10]
    for study in dropped:
        (folder / "single" / f"{study['protocolSection']['identificationModule']['nctId']}.json").unlink()
    edited = STUDIES[10:30]
    for study in edited:
        write_json(folder / "single" / f"{study['protocolSection']['identificationModule']['nctId']}.json", changed(study))
    # One line of the bulk document changes: the document is read again, but only that study is rewritten.
    bulk = list(STUDIES[200:240])
    bulk[5] = changed(bulk[5])
    write_ndjson(folder / "bulk" / "part-1.ndjson", bulk)
    write_ndjson(folder / "bulk" / "part-2.ndjson", [renumbered(s, i) for i, s in enumerate(STUDIES[:30])])

    second = build(folder, warehouse)
    assert second.kind == "incremental"
    assert (second.load.n_documents_read, second.load.n_studies_written, second.load.n_studies_dropped) == (22, 51, 10)
    assert second.load.n_studies == 240 - 10 + 30
    assert second.n_new_versions == 51

    rebuilt = build(folder, tmp_path / "full" / "w.duckdb", full=True)
    assert rebuilt.kind == "full"
    assert table_differences(warehouse, rebuilt.warehouse, REPRODUCIBLE) == {}

    changed_ids = sorted(s["protocolSection"]["identificationModule"]["nctId"] for s in [*edited, bulk[5]])
    assert [r[0] for r in query(warehouse, "select distinct nct_id from study_changes order by 1")] == changed_ids
    fields = query(warehouse, "select field, count(*) from study_changes group by 1 order by 1")
    assert ("completion_date", 21) in fields and ("enrollment", 21) in fields and ("overall_status", 21) in fields
    first_id = changed_ids[0]
    original = next(s for s in STUDIES if s["protocolSection"]["identificationModule"]["nctId"] == first_id)
    old_status = original["protocolSection"]["statusModule"]["overallStatus"]
    assert query(warehouse, f"select old_value, new_value from study_changes where nct_id = '{first_id}' and field = 'overall_status'") == [
        (old_status, changed(original)["protocolSection"]["statusModule"]["overallStatus"])
    ]
    # The dropped studies are gone from every table, their history is not.
    dropped_ids = ", ".join(f"'{s['protocolSection']['identificationModule']['nctId']}'" for s in dropped)
    assert query(warehouse, f"select count(*) from sites where nct_id in ({dropped_ids})") == [(0,)]
    assert query(warehouse, f"select count(*) from study_versions where nct_id in ({dropped_ids})") == [(10,)]


def test_a_build_with_nothing_changed_writes_nothing(folder: Path, tmp_path: Path):
    warehouse = tmp_path / "w.duckdb"
    build(folder, warehouse)
    before = os.stat(warehouse)
    os.utime(folder / "bulk" / "part-1.ndjson")  # touched, not changed: judged by content hash

    again = build(folder, warehouse)

    assert again.kind == "up_to_date"
    after = os.stat(warehouse)
    assert (after.st_ino, after.st_mtime_ns, after.st_size) == (before.st_ino, before.st_mtime_ns, before.st_size)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "raw", "w.duckdb", "w.duckdb.checked.json", "w.duckdb.lock", "w.history.duckdb",
    ]


def test_full_forces_a_rebuild_and_history_survives_it(folder: Path, tmp_path: Path):
    warehouse = tmp_path / "w.duckdb"
    build(folder, warehouse)
    study = STUDIES[50]
    nct_id = study["protocolSection"]["identificationModule"]["nctId"]
    write_json(folder / "single" / f"{nct_id}.json", changed(study))
    build(folder, warehouse)

    forced = build(folder, warehouse, full=True)

    assert (forced.kind, forced.load.n_documents_read, forced.n_new_versions) == ("full", 201, 0)
    assert query(warehouse, f"select count(*) from study_versions where nct_id = '{nct_id}'") == [(2,)]
    assert query(warehouse, "select count(*) from study_versions") == [(241,)]
    status, design = study["protocolSection"]["statusModule"], study["protocolSection"]["designModule"]
    expected = {
        ("overall_status", status["overallStatus"], changed(study)["protocolSection"]["statusModule"]["overallStatus"]),
        ("completion_date", status["completionDateStruct"]["date"], "2031-12-31"),
        ("completion_date_type", status["completionDateStruct"]["type"], "ESTIMATED"),
        ("enrollment", str(design["enrollmentInfo"]["count"]), str(design["enrollmentInfo"]["count"] + 1000)),
        ("enrollment_type", design["enrollmentInfo"]["type"], "ESTIMATED"),
    }
    assert set(query(warehouse, f"select field, old_value, new_value from study_changes where nct_id = '{nct_id}'")) == {
        change for change in expected if change[1] != change[2]
    }
    assert query(warehouse, "select build_kind from build_info") == [("full",)]


def test_removing_the_newest_copy_falls_back_to_an_older_copy_in_an_unchanged_document(tmp_path: Path):
    raw = tmp_path / "raw"
    study = STUDIES[0]
    nct_id = study["protocolSection"]["identificationModule"]["nctId"]
    write_ndjson(raw / "a_old.ndjson", [study, STUDIES[1]])
    write_json(raw / "b_new.json", changed(study))
    warehouse = tmp_path / "w.duckdb"
    build(raw, warehouse)
    assert query(warehouse, f"select overall_status from studies where nct_id = '{nct_id}'") == [
        (changed(study)["protocolSection"]["statusModule"]["overallStatus"],)
    ]

    (raw / "b_new.json").unlink()
    result = build(raw, warehouse)

    assert (result.kind, result.load.n_documents_read, result.load.n_studies_written) == ("incremental", 0, 1)
    assert query(warehouse, f"select overall_status from studies where nct_id = '{nct_id}'") == [
        (study["protocolSection"]["statusModule"]["overallStatus"],)
    ]
    assert query(warehouse, "select document_path, n_studies_found, n_studies_loaded from documents") == [("a_old.ndjson", 2, 2)]
    assert table_differences(warehouse, build(raw, tmp_path / "f.duckdb", full=True).warehouse, REPRODUCIBLE) == {}


def test_withdrawing_the_newest_version_shows_the_step_back_in_study_changes(tmp_path: Path):
    raw = tmp_path / "raw"
    study = STUDIES[0]
    nct_id = study["protocolSection"]["identificationModule"]["nctId"]
    old_status, new_status = study["protocolSection"]["statusModule"]["overallStatus"], changed(study)["protocolSection"]["statusModule"]["overallStatus"]
    old_date = study["protocolSection"]["statusModule"]["lastUpdatePostDateStruct"]["date"]
    write_ndjson(raw / "a_old.ndjson", [study, STUDIES[1]])
    warehouse = tmp_path / "w.duckdb"
    first = build(raw, warehouse)
    write_json(raw / "b_new.json", changed(study))
    second = build(raw, warehouse)
    (raw / "b_new.json").unlink()

    third = build(raw, warehouse)

    assert (third.kind, third.n_new_versions) == ("incremental", 0)
    assert query(warehouse, "select nct_id, returned_at from study_version_returns") == [(nct_id, third.built_at)]
    status_changes = query(
        warehouse,
        f"select old_value, new_value, changed_between, is_step_back, detected_at from study_changes "
        f"where nct_id = '{nct_id}' and field = 'overall_status' order by detected_at",
    )
    assert status_changes == [
        (old_status, new_status, f"{old_date} -> 2026-11-20", False, second.built_at),
        (new_status, old_status, f"2026-11-20 -> {old_date}", True, third.built_at),
    ]
    assert query(warehouse, f"select overall_status from studies where nct_id = '{nct_id}'") == [(old_status,)]
    # A build that changes nothing for the study records no second return.
    (raw / "c_other.json").write_bytes(orjson.dumps(renumbered(STUDIES[2], 3)))
    build(raw, warehouse)
    assert query(warehouse, "select count(*) from study_version_returns") == [(1,)]
    assert first.built_at < second.built_at < third.built_at


def test_a_warehouse_built_by_other_code_is_rebuilt_in_full(folder: Path, tmp_path: Path):
    warehouse = tmp_path / "w.duckdb"
    build(folder, warehouse)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("update build_info set schema_hash = 'older code'")
    (folder / "single" / "extra.json").write_bytes(orjson.dumps(renumbered(STUDIES[0], 1)))

    assert build(folder, warehouse).kind == "full"


def test_worker_processes_load_exactly_what_one_process_loads(tmp_path: Path):
    from pipeline.warehouse.load import inventory, load_full

    raw = tmp_path / "raw"
    # Duplicates across documents, so the writer must settle precedence between workers' batches.
    write_ndjson(raw / "a.ndjson", STUDIES[:120])
    write_ndjson(raw / "b.ndjson", [changed(s) for s in STUDIES[100:180]])
    write_ndjson(raw / "c.ndjson", STUDIES[150:240] + [STUDIES[0]])
    (raw / "d.json").write_text("{not json")
    documents = inventory(raw)
    built = {}
    for name, workers in (("reference", 0), ("variant", 2)):
        built[name] = tmp_path / f"{name}.duckdb"
        with duckdb.connect(str(built[name])) as con:
            summary = load_full(con, raw, documents, tmp_path / f"parts-{name}", studies_per_batch=25, n_workers=workers,
                                group_bytes=1)
        assert (summary.n_studies, summary.n_superseded, summary.n_rejected) == (240, 51, 1)
    assert table_differences(built["reference"], built["variant"], [t.name for t in (schema.DOCUMENTS, *LOADED_TABLES)]) == {}
    assert query(built["variant"], f"select overall_status from studies where nct_id = '{STUDIES[110]['protocolSection']['identificationModule']['nctId']}'") == [
        (changed(STUDIES[110])["protocolSection"]["statusModule"]["overallStatus"],)
    ]
    assert query(built["variant"], "select count(*), count(distinct nct_id) from studies") == [(240, 240)]
    # The writer's winners are the records the precedence rule in SQL (what incremental builds use) picks.
    assert current_records_against_the_rule(built["variant"]) == (240, 0)


def current_records_against_the_rule(warehouse: Path) -> tuple[int, int]:
    """Records marked current, and records whose mark the SQL precedence rule (what incremental
    builds use) contradicts."""
    from pipeline.warehouse.load import PRECEDENCE_SQL

    [row] = query(warehouse, f"""
        select count(*) filter (is_current), count(*) filter (is_current <> by_rule) from (
            select is_current, row_number() over (partition by nct_id order by {PRECEDENCE_SQL}) = 1 as by_rule
            from study_records)""")
    return row


def load_whole_and_in_ranges(raw: Path, documents: list, tmp_path: Path, group_bytes: int, n_workers: int) -> Path:
    """Full loads of the folder read whole in this process and in ranges by `n_workers` (0: in this
    process too): both load
    160 studies, 14 superseded records and 1 rejected one, and the same tables row for row. The
    warehouse read in ranges."""
    from pipeline.warehouse.load import load_full

    built = {}
    for name, size, workers in (("whole", 10**12, 0), ("ranges", group_bytes, n_workers)):
        built[name] = tmp_path / f"{name}.duckdb"
        with duckdb.connect(str(built[name])) as con:
            summary = load_full(con, raw, documents, tmp_path / f"parts-{name}", studies_per_batch=7, n_workers=workers,
                                group_bytes=size)
        assert (summary.n_studies, summary.n_superseded, summary.n_rejected) == (160, 14, 1)
    assert table_differences(built["whole"], built["ranges"], [t.name for t in (schema.DOCUMENTS, *LOADED_TABLES)]) == {}
    return built["ranges"]


def write_zip(path: Path, members: list[tuple[str, bytes]]) -> None:
    import zipfile

    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            if name.endswith("/"):
                archive.writestr(zipfile.ZipInfo(name), b"")
            else:
                archive.writestr(name, data)


@pytest.mark.parametrize("n_workers", [0, 2])
def test_a_big_zip_shared_out_in_member_ranges_loads_exactly_what_one_reading_loads(tmp_path: Path, n_workers: int):
    from pipeline.warehouse.load import inventory
    from pipeline.warehouse.load.parts import document_groups

    raw = tmp_path / "raw"
    members = [(f"{s['protocolSection']['identificationModule']['nctId']}.json", orjson.dumps(s)) for s in STUDIES[:150]]
    # Later members hold a newer copy of an early study and a same-dated copy of another (the
    # later record wins the tie), a list of two studies, a broken member and a folder entry.
    members[100:100] = [("sub/", b""), ("broken.json", b"{nope"), ("pair.json", orjson.dumps([STUDIES[150], STUDIES[151]]))]
    members += [("newer.json", orjson.dumps(changed(STUDIES[3]))), ("again.json", orjson.dumps(STUDIES[7]))]
    write_zip(raw / "ctg-studies.json.zip", members)
    write_ndjson(raw / "later.ndjson", STUDIES[140:160])
    documents = inventory(raw)

    ranges = [part for group in document_groups(documents.documents, group_bytes=20_000) for part in group if part.members]
    assert len(ranges) > 4 and ranges[0].members[0] == 0 and ranges[-1].members[1] == len(members) - 1  # the folder entry is no member
    assert [p.members[0] for p in ranges[1:]] == [p.members[1] for p in ranges[:-1]]
    assert sum(p.size_bytes for p in ranges) == documents.documents[0].size_bytes

    in_ranges = load_whole_and_in_ranges(raw, documents, tmp_path, 20_000, n_workers)
    nct = STUDIES[7]["protocolSection"]["identificationModule"]["nctId"]
    assert query(in_ranges, f"select record_index, position, is_current from study_records where nct_id = '{nct}' order by 1") == [
        (7, f"member {nct}.json", False), (154, "member again.json", True),
    ]
    assert current_records_against_the_rule(in_ranges) == (160, 0)
    assert query(in_ranges, "select position, reason from ingest_errors") == [
        ("member broken.json, line 1, column 2 (byte 1)", "malformed JSON: unexpected character, expected a string key"),
    ]


def test_workers_read_member_ranges_from_the_directory_entries_they_are_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    # The bulk download's directory holds 600,000 entries: the writer reads it once and hands
    # each range its entries, so a worker reads its members without parsing the directory.
    from pipeline.documents import api_json, read_document
    from pipeline.warehouse.load import inventory
    from pipeline.warehouse.load.guard import read_part
    from pipeline.warehouse.load.parts import document_groups

    bulk = tmp_path / "raw" / "ctg-studies.json.zip"
    names = [f"{s['protocolSection']['identificationModule']['nctId']}.json" for s in STUDIES[:60]]
    write_zip(bulk, [("sub/", b"")] + [(n, orjson.dumps(s)) for n, s in zip(names, STUDIES[:60])])
    ranges = [part for group in document_groups(inventory(tmp_path / "raw").documents, group_bytes=20_000) for part in group]
    assert len(ranges) > 2
    assert [m.filename for part in ranges for m in api_json.unpack_entries(part.zip_entries)] == names
    whole = [(item.position, item.nct_id) for item in read_document(bulk).items]

    def no_directory(*args, **kwargs):
        raise AssertionError("the worker read the archive's directory")

    monkeypatch.setattr(api_json.zipfile, "ZipFile", no_directory)
    archives: dict = {}
    in_ranges = [(item.position, item.nct_id) for part in ranges for item in read_part(part, archives).items]
    assert in_ranges == whole and len(whole) == 60


def _polars_threads(group: list, archives: dict):
    """A worker's batches for the test below: its polars thread pool, and what set it."""
    import polars as pl

    yield group[0].name, os.environ.get("POLARS_MAX_THREADS"), pl.thread_pool_size()


def test_each_worker_runs_polars_on_its_share_of_the_cores_unless_the_user_says_otherwise(monkeypatch: pytest.MonkeyPatch):
    from types import SimpleNamespace

    from pipeline.warehouse.load import pool

    def groups(*names: str) -> list[list[SimpleNamespace]]:
        return [[SimpleNamespace(name=name, size_bytes=1)] for name in names]

    monkeypatch.delenv("POLARS_MAX_THREADS", raising=False)
    monkeypatch.setattr(pool, "cpu_count", lambda: 2)
    assert sorted(pool.batches(groups("a", "b"), 2, _polars_threads)) == [("a", "1", 1), ("b", "1", 1)]
    assert sorted(pool.batches(groups("a"), 1, _polars_threads)) == [("a", "2", 2)]
    assert "POLARS_MAX_THREADS" not in os.environ  # this process's environment is as it was

    monkeypatch.setenv("POLARS_MAX_THREADS", "3")
    assert sorted(pool.batches(groups("a", "b"), 2, _polars_threads)) == [("a", "3", 3), ("b", "3", 3)]


@pytest.fixture
def two_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whether NDJSON files are split depends on the cores; the tests fix them at two."""
    from pipeline.warehouse.load import pool

    monkeypatch.setattr(pool, "cpu_count", lambda: 2)
    monkeypatch.delenv("TRIALS_WORKERS", raising=False)


def test_ndjson_files_are_shared_out_in_line_ranges_only_when_workers_would_otherwise_idle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, two_cores
):
    from pipeline.warehouse.load import inventory, pool
    from pipeline.warehouse.load.parts import document_groups

    def split_files(raw: Path) -> dict[str, int]:
        groups = document_groups(inventory(raw).documents, group_bytes=5_000)
        return {path: sum(1 for g in groups if g[0].lines and g[0].document.relative_path == path)
                for path in sorted({p.document.relative_path for g in groups for p in g})}

    write_ndjson(tmp_path / "even" / "a.ndjson", STUDIES[:100])
    write_ndjson(tmp_path / "even" / "b.ndjson", [changed(s) for s in STUDIES[:100]])  # within 10% of a's size
    assert split_files(tmp_path / "even") == {"a.ndjson": 0, "b.ndjson": 0}  # one file per core: nothing to gain
    write_ndjson(tmp_path / "uneven" / "a.ndjson", STUDIES[:200])
    write_ndjson(tmp_path / "uneven" / "b.ndjson", STUDIES[200:201])
    ranges = split_files(tmp_path / "uneven")
    assert ranges["a.ndjson"] > 4 and ranges["b.ndjson"] == 0  # one line is no range
    monkeypatch.setattr(pool, "cpu_count", lambda: 1)
    assert split_files(tmp_path / "uneven") == {"a.ndjson": 0, "b.ndjson": 0}


@pytest.mark.parametrize("n_workers", [0, 2])
def test_a_big_ndjson_file_shared_out_in_line_ranges_loads_exactly_what_one_reading_loads(tmp_path: Path, n_workers: int, two_cores):
    from pipeline.warehouse.load import inventory
    from pipeline.warehouse.load.parts import LINE_RANGE_GROUPS, document_groups

    raw = tmp_path / "raw"
    lines = [orjson.dumps(s) for s in STUDIES[:150]]
    # A newer copy of an early study, a same-dated copy of another (the later record wins the
    # tie), a line holding a list of two studies, a broken line and blank lines; a byte order
    # mark in front and no newline at the end.
    lines[100:100] = [b"", b"{nope", orjson.dumps([STUDIES[150], STUDIES[151]]), b"   "]
    lines += [orjson.dumps(changed(STUDIES[3])), orjson.dumps(STUDIES[7])]
    (raw / "bulk.ndjson").parent.mkdir(parents=True)
    (raw / "bulk.ndjson").write_bytes(b"\xef\xbb\xbf" + b"\n".join(lines))
    write_ndjson(raw / "later.ndjson", STUDIES[140:160])
    documents = inventory(raw)

    group_bytes = 20_000
    ranges = [part for group in document_groups(documents.documents, group_bytes) for part in group
              if part.lines and part.document.relative_path == "bulk.ndjson"]
    data = (raw / "bulk.ndjson").read_bytes()
    assert len(ranges) > 4 and ranges[0].lines[0] == 0 and ranges[-1].lines[1] == len(data)
    assert [p.lines[0] for p in ranges[1:]] == [p.lines[1] for p in ranges[:-1]]
    assert all(data[p.lines[0] - 1:p.lines[0]] == b"\n" and p.lines[1] - p.lines[0] >= LINE_RANGE_GROUPS * group_bytes
               for p in ranges[1:-1])
    assert [p.lines[2] for p in ranges] == [data[:p.lines[0]].count(b"\n") + 1 for p in ranges]

    in_ranges = load_whole_and_in_ranges(raw, documents, tmp_path, group_bytes, n_workers)
    nct = STUDIES[7]["protocolSection"]["identificationModule"]["nctId"]
    assert query(in_ranges, f"select record_index, position, is_current from study_records where nct_id = '{nct}' order by 1") == [
        (7, "line 8", False), (154, "line 156", True),
    ]
    assert current_records_against_the_rule(in_ranges) == (160, 0)
    assert query(in_ranges, "select document_form from documents where document_path = 'bulk.ndjson'") == [("ndjson",)]
    broken_at = len(b"\xef\xbb\xbf" + b"\n".join(lines[:101]) + b"\n")
    assert query(in_ranges, "select document_path, position, reason from ingest_errors") == [
        ("bulk.ndjson", "line 102", f"malformed JSON: unexpected character, expected a string key (column 2, byte {broken_at + 1})"),
    ]


@pytest.mark.parametrize("container", ["zip", "ndjson"])
def test_an_incremental_build_of_a_rewritten_bulk_file_read_by_workers_in_ranges_equals_a_full_rebuild(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, container: str, two_cores
):
    from pipeline.warehouse.load import incremental, inventory, parts

    raw = tmp_path / "raw"
    bulk = "ctg-studies.json.zip" if container == "zip" else "bulk.ndjson"

    def write_bulk(studies: list[dict]) -> None:
        if container == "zip":
            write_zip(raw / bulk, [(f"{s['protocolSection']['identificationModule']['nctId']}.json", orjson.dumps(s)) for s in studies])
        else:
            write_ndjson(raw / bulk, studies)

    write_bulk(STUDIES[:150])
    write_ndjson(raw / "daily.ndjson", STUDIES[150:170])
    warehouse = tmp_path / "incremental" / "w.duckdb"
    assert build(raw, warehouse).kind == "full"

    # The next bulk download: 3 studies changed, one gone, one new; the bulk file is read again
    # in ranges by worker processes, and only what changed is rewritten.
    monkeypatch.setattr(parts, "GROUP_BYTES", 20_000 if container == "zip" else 5_000)
    monkeypatch.setattr(parts, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(incremental, "STUDIES_PER_BATCH", 3)  # ranges span batches
    assert len(parts.document_groups(inventory(raw).documents)) > 4
    rewritten = [changed(s) if i in (4, 60, 149) else s for i, s in enumerate(STUDIES[:150]) if i != 10] + [STUDIES[170]]
    write_bulk(rewritten)
    second = build(raw, warehouse)
    assert (second.kind, second.load.n_documents_read, second.load.n_studies_written, second.load.n_studies_dropped) == (
        "incremental", 1, 4, 1,
    )
    monkeypatch.undo()
    rebuilt = build(raw, tmp_path / "full" / "w.duckdb", full=True)
    assert table_differences(warehouse, rebuilt.warehouse, REPRODUCIBLE) == {}
    assert query(warehouse, f"select max(record_index), count(*) from study_records where document_path = '{bulk}'") == [(149, 150)]


def test_a_member_range_of_an_archive_that_can_no_longer_be_read_is_an_error_row_naming_the_range(tmp_path: Path):
    from pipeline.warehouse.load import RawDocument
    from pipeline.warehouse.load.guard import read_part
    from pipeline.warehouse.load.parts import DocumentPart

    gone = tmp_path / "replaced.zip"
    gone.write_bytes(b"not a zip any more")
    reading = read_part(DocumentPart(0, RawDocument(gone, "replaced.zip", 18, None, ""), members=(200, 400)), {})
    assert reading.form == "zip"
    assert [(e.position, e.reason) for e in reading.items] == [
        ("members 201 to 400", "could not read the document: BadZipFile: File is not a zip file"),
    ]


def test_a_batch_ends_once_the_studies_it_holds_reach_the_byte_budget(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    # A document of studies of megabytes each must not gather STUDIES_PER_BATCH of them in one
    # worker: at BATCH_BYTES of JSON a batch is written out, in a full and an incremental build.
    from pipeline.warehouse.load import full, incremental, inventory
    from pipeline.warehouse.load.parts import document_groups
    from pipeline.warehouse.load.pool import open_archives

    raw = tmp_path / "raw"
    write_ndjson(raw / "a.ndjson", STUDIES[:10])
    [group] = document_groups(inventory(raw).documents)
    parts = tmp_path / "parts"
    for table in (*schema.STUDY_TABLES, schema.STUDY_RECORDS):
        (parts / table.name).mkdir(parents=True)
    nct_ids = [s["protocolSection"]["identificationModule"]["nctId"] for s in STUDIES[:10]]

    def full_batches(budget: int) -> list[list[str]]:
        monkeypatch.setattr(full, "BATCH_BYTES", budget)
        with open_archives() as archives:
            return [list(batch.candidates) for batch in full.document_batches(group, archives, parts, studies_per_batch=1000)]

    def scanned_batches(budget: int) -> list[int]:
        monkeypatch.setattr(incremental, "BATCH_BYTES", budget)
        with open_archives() as archives:
            return [len(batch.new_versions) for batch in incremental.scan_batches(group, archives, frozenset(), 1000)]

    assert full_batches(10**9) == [nct_ids]
    assert full_batches(1) == [[nct_id] for nct_id in nct_ids]
    assert scanned_batches(10**9) == [10]
    assert scanned_batches(1) == [1] * 10 + [0]


def test_an_incremental_build_writes_in_batches_bounded_by_bytes_and_a_large_record_through_parts(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
):
    # The studies a refresh rewrites are batched as a full build's are: a batch is written before a
    # record would take it past BATCH_BYTES of JSON, and a batch holding a large record (one not
    # kept from the scan, read again) goes into its tables by Parquet parts. The tables are the
    # same as a full rebuild's either way.
    from pipeline.warehouse.load import incremental

    warehouse = tmp_path / "incremental" / "w.duckdb"
    build(folder, warehouse)
    edited = [changed(study) for study in STUDIES[10:30]]
    for study in edited:
        write_json(folder / "single" / f"{study['protocolSection']['identificationModule']['nctId']}.json", study)
    sizes = {s["protocolSection"]["identificationModule"]["nctId"]: len(orjson.dumps(s)) for s in edited}
    largest = max(sizes, key=sizes.get)
    monkeypatch.setattr(incremental, "BATCH_BYTES", 1)
    monkeypatch.setattr(incremental, "LARGE_RECORD_BYTES", sizes[largest])
    written: list[tuple[list[str], bool]] = []
    insert_frames = incremental.insert_frames

    def recording(con, frames, through=None):
        written.append((frames["studies"]["nct_id"].to_list(), through is not None))
        if through is not None:  # beside the staging file, as a full build's parts
            assert (through.parent, through.suffix) == (tmp_path / "incremental", ".parts"), through
        insert_frames(con, frames, through)

    monkeypatch.setattr(incremental, "insert_frames", recording)
    second = build(folder, warehouse)
    assert (second.kind, second.load.n_studies_written) == ("incremental", 20)
    # One study a batch: the kept ones from memory first, then the large one, read again, by parts.
    assert sorted(ids[0] for ids, _ in written[:-1]) == sorted(set(sizes) - {largest})
    assert [len(ids) for ids, _ in written] == [1] * 20
    assert [by_parts for _, by_parts in written] == [False] * 19 + [True]
    assert written[-1][0] == [largest]
    assert not [p for p in (tmp_path / "incremental").iterdir() if p.suffix == ".parts"]  # gone with the staging file

    rebuilt = build(folder, tmp_path / "full" / "w.duckdb", full=True)
    assert table_differences(warehouse, rebuilt.warehouse, REPRODUCIBLE) == {}


@pytest.mark.parametrize("kept_bytes, kept", [(10**9, 20), (1, 0)])
def test_a_refresh_keeps_new_versions_up_to_a_byte_budget_and_reads_the_rest_again(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kept_bytes: int, kept: int,
):
    # The new versions a refresh scans are kept in memory for writing up to KEPT_CHANGED_BYTES of
    # their JSON (a thousand studies of megabytes each must not all be held); the rest are read
    # again from their documents, to the same tables.
    from pipeline.warehouse.load import incremental

    warehouse = tmp_path / "incremental" / "w.duckdb"
    build(folder, warehouse)
    for study in STUDIES[10:30]:
        write_json(folder / "single" / f"{study['protocolSection']['identificationModule']['nctId']}.json", changed(study))
    monkeypatch.setattr(incremental, "KEPT_CHANGED_BYTES", kept_bytes)
    held: list[int] = []
    write_current_records = incremental._write_current_records

    def recording(con, folder_, wanted, kept_records, *args):
        held.append(len(kept_records))
        write_current_records(con, folder_, wanted, kept_records, *args)

    monkeypatch.setattr(incremental, "_write_current_records", recording)
    second = build(folder, warehouse)
    assert (second.kind, second.load.n_studies_written, held) == ("incremental", 20, [kept])
    rebuilt = build(folder, tmp_path / "full" / "w.duckdb", full=True)
    assert table_differences(warehouse, rebuilt.warehouse, REPRODUCIBLE) == {}
