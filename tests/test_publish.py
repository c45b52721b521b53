"""The published warehouse is always whole and always readable: builds are killed at random
moments, readers query in a loop through refreshes, and two builds start at once."""
from __future__ import annotations

import random
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import orjson
import pytest

from pipeline.warehouse.build import build
from pipeline.warehouse.files import WarehouseFiles, build_lock

REPO = Path(__file__).resolve().parent.parent
SAMPLE_RAW = REPO / "data" / "raw"
TEMPLATE = orjson.loads((SAMPLE_RAW / "ctgov_v2" / "NCT00973089.json").read_bytes())


def cli_build(raw: Path, warehouse: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "pipeline.cli", "build", "--raw-dir", str(raw), "--warehouse", str(warehouse), *extra],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def add_study(raw: Path, number: int) -> None:
    study = orjson.loads(orjson.dumps(TEMPLATE))
    study["protocolSection"]["identificationModule"]["nctId"] = f"NCT8{number:07d}"
    (raw / "added").mkdir(exist_ok=True)
    (raw / "added" / f"{number}.json").write_bytes(orjson.dumps(study))


def published_state(warehouse: Path) -> tuple[int, int]:
    """(studies, current study records) of the published file, opened the way an analyst opens it."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        n_studies = con.execute("select count(*) from studies").fetchall()[0][0]
        n_current = con.execute("select count(*) from study_records where is_current").fetchall()[0][0]
        con.execute("select count(*) from study_overview").fetchall()
        con.execute("select * from build_info").fetchall()
    return n_studies, n_current


@pytest.fixture
def raw(tmp_path: Path) -> Path:
    folder = tmp_path / "raw"
    shutil.copytree(SAMPLE_RAW, folder)
    return folder


def test_builds_killed_at_random_moments_leave_the_published_warehouse_whole(raw: Path, tmp_path: Path):
    warehouse = tmp_path / "wh" / "w.duckdb"
    build(raw, warehouse)
    counts_seen = {252}
    rng = random.Random(20261121)
    for attempt in range(6):
        add_study(raw, attempt)
        counts_seen.add(252 + attempt + 1)
        full = ["--full"] if attempt % 2 else []
        process = cli_build(raw, warehouse, *full)
        time.sleep(rng.uniform(0.5, 4.0))
        process.send_signal(signal.SIGKILL)
        process.wait()
        n_studies, n_current = published_state(warehouse)
        assert n_studies in counts_seen and n_current == n_studies, (attempt, n_studies)

    finished = cli_build(raw, warehouse)
    out, err = finished.communicate(timeout=120)
    assert finished.returncode == 0, err
    assert published_state(warehouse) == (258, 258)
    files = WarehouseFiles(warehouse)
    assert files.leftovers() == []
    assert sorted(p.name for p in warehouse.parent.iterdir()) == [
        "w.duckdb", "w.duckdb.checked.json", "w.duckdb.lock", "w.history.duckdb",
    ]


READER = textwrap.dedent(
    """
    import sys, time, duckdb
    path, seconds, mode = sys.argv[1], float(sys.argv[2]), sys.argv[3]
    errors, queries, builds = [], 0, set()
    held = duckdb.connect(path, read_only=True) if mode == "hold" else None
    held_count = held.execute("select count(*) from studies").fetchall()[0][0] if held else None
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if held is not None:
                assert held.execute("select count(*) from studies").fetchall()[0][0] == held_count
                held.execute("select count(*) from studies s join study_overview o using (nct_id)").fetchall()
            else:
                with duckdb.connect(path, read_only=True) as con:
                    n = con.execute("select count(*) from studies s join study_overview o using (nct_id)").fetchall()[0][0]
                    builds.add(con.execute("select built_at from build_info").fetchall()[0][0])
                    assert n == con.execute("select count(*) from studies").fetchall()[0][0]
            queries += 1
        except Exception as error:
            errors.append(repr(error))
    print(queries, len(builds), len(errors))
    for error in errors[:5]:
        print(error)
    """
)


def test_readers_querying_through_refreshes_see_no_error(raw: Path, tmp_path: Path):
    warehouse = tmp_path / "w.duckdb"
    build(raw, warehouse)
    # One reader opens a new connection per query and must see each new build as it lands; the
    # other holds one connection throughout and must keep its snapshot. (Within one process,
    # DuckDB shares a file's instance among its connections, so the two run apart.)
    readers = {
        mode: subprocess.Popen([sys.executable, "-c", READER, str(warehouse), "12", mode], stdout=subprocess.PIPE, text=True)
        for mode in ("reconnect", "hold")
    }
    time.sleep(1.5)
    for number in range(3):
        add_study(raw, number)
        assert build(raw, warehouse, full=number == 1).kind in ("incremental", "full")
    results = {}
    for mode, reader in readers.items():
        out, _ = reader.communicate(timeout=60)
        queries, n_builds, n_errors, *errors = out.split()
        results[mode] = (int(n_errors), errors)
        assert int(queries) > 20
        if mode == "reconnect":
            assert int(n_builds) >= 3  # it saw the refreshes land
    assert results == {"reconnect": (0, []), "hold": (0, [])}


def test_a_second_build_exits_with_a_clear_message_or_waits(raw: Path, tmp_path: Path):
    warehouse = tmp_path / "w.duckdb"
    with build_lock(WarehouseFiles(warehouse)):
        refused = cli_build(raw, warehouse)
        out, err = refused.communicate(timeout=120)
        waiting = cli_build(raw, warehouse, "--wait", "60")
        time.sleep(3)
        assert waiting.poll() is None  # still waiting for the lock
    assert refused.returncode == 3
    assert "another build is running on" in err and "pid" in err
    assert not warehouse.exists()
    out, err = waiting.communicate(timeout=120)
    assert waiting.returncode == 0, err
    assert out.startswith("full build of")


def test_two_builds_started_at_once_one_wins(raw: Path, tmp_path: Path):
    warehouse = tmp_path / "w.duckdb"
    first, second = cli_build(raw, warehouse), cli_build(raw, warehouse)
    results = [(p.wait(timeout=120), p.communicate()[1]) for p in (first, second)]
    codes = sorted(code for code, _ in results)
    # Usually one is refused; if one finished before the other started, the second found it up to date.
    assert codes in ([0, 3], [0, 0])
    for code, err in results:
        if code == 3:
            assert "another build is running" in err
    assert published_state(warehouse) == (252, 252)


def test_builds_keep_the_warehouse_row_groups_small(tmp_path: Path):
    """Every build opens the file with the same row-group size: a checkpoint under DuckDB's default
    would merge the small groups of the previous build back into big ones, rewriting the tables."""
    from pipeline.warehouse.build import ROW_GROUP_SIZE, open_for_build

    path = tmp_path / "w.duckdb"
    n_rows = 2 * ROW_GROUP_SIZE + 1
    with open_for_build(path) as con:
        con.execute(f"create table t as select range as id, md5(range::varchar) as text from range({n_rows})")
    row_groups = "select count(distinct row_group_id) from pragma_storage_info('t')"
    with open_for_build(path) as con:
        assert con.execute(row_groups).fetchone() == (3,)
        con.execute("delete from t where id % 1000 = 0")
        con.execute("insert into t select range, 'new' from range(10)")
        con.execute("checkpoint")
        assert con.execute(row_groups).fetchone() == (3,)
        assert con.execute("select count(*), count(*) filter (where text = 'new') from t").fetchone() == (n_rows - 66 + 10, 10)
    with duckdb.connect(str(path), read_only=True) as con:  # analysts open it as any DuckDB file
        assert con.execute("select count(*) from t").fetchone() == (n_rows - 66 + 10,)


def test_a_build_spills_beside_its_file_not_into_the_working_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from pipeline.warehouse.build import open_for_build

    working = tmp_path / "working"
    working.mkdir()
    monkeypatch.chdir(working)
    path = tmp_path / "w.duckdb"
    with open_for_build(path) as con:
        assert con.execute("select current_setting('temp_directory')").fetchone() == (f"{path}.tmp",)
        con.execute("set memory_limit = '40MB'")
        con.execute("create table t as select range as id, md5(range::varchar) || md5((range + 1)::varchar) as text from range(2000000)")
        assert con.execute("select count(*) from (select distinct text from t)").fetchone() == (2_000_000,)
        assert path.with_name(path.name + ".tmp").is_dir()  # 150 MB of text did not fit in 40 MB
        assert not (working / ".tmp").exists()
    assert not path.with_name(path.name + ".tmp").exists()  # removed at close
