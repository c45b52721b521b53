"""The `trials` command as a process: `run()` ends it with `os._exit` after the atexit handlers,
so what it prints, its exit code and the files it writes must all survive that exit."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parent.parent
A_STUDY = REPO / "data" / "raw" / "ctgov_v2" / "NCT00973089.json"


def trials(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipeline.cli", *args], cwd=REPO, capture_output=True, text=True, timeout=300)


def test_a_build_through_the_command_prints_its_summary_and_leaves_a_whole_warehouse(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    shutil.copy(A_STUDY, raw / "study.json")
    warehouse = tmp_path / "w.duckdb"

    done = trials("build", "--raw-dir", str(raw), "--warehouse", str(warehouse))

    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"full build of {warehouse} in ")
    assert done.stdout.endswith(
        ": 1 studies from 1 documents (1 read, 1 studies written, 0 dropped), 0 rejected (see ingest_errors), 0 superseded\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "raw", "w.duckdb", "w.duckdb.checked.json", "w.duckdb.lock", "w.history.duckdb",
    ]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select nct_id from studies").fetchall() == [("NCT00973089",)]


def test_a_failing_command_keeps_its_exit_code_and_message(tmp_path: Path) -> None:
    done = trials("build", "--raw-dir", str(tmp_path / "missing"), "--warehouse", str(tmp_path / "w.duckdb"))

    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == f"trials build: raw folder {tmp_path / 'missing'} does not exist\n"
