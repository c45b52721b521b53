"""Incremental builds and study history: an incremental build gives exactly the tables a full
rebuild of the same folder gives, rewrites only what changed, and records every version."""
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
    for n_workers in (1, 2):
        built[n_workers] = tmp_path / f"w{n_workers}.duckdb"
        with duckdb.connect(str(built[n_workers])) as con:
            summary = load_full(con, raw, documents, tmp_path / f"parts{n_workers}", studies_per_batch=25, n_workers=n_workers, group_bytes=1)
        assert (summary.n_studies, summary.n_superseded, summary.n_rejected) == (240, 51, 1)
    assert table_differences(built[1], built[2], [t.name for t in (schema.DOCUMENTS, *LOADED_TABLES)]) == {}
    assert query(built[2], f"select overall_status from studies where nct_id = '{STUDIES[110]['protocolSection']['identificationModule']['nctId']}'") == [
        (changed(STUDIES[110])["protocolSection"]["statusModule"]["overallStatus"],)
    ]
