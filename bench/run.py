"""The warehouse benchmark, end to end, rerunnable by anyone:

    python3 -m uv run python bench/run.py --studies 100000 --format ndjson --workdir /tmp/bench
    python3 -m uv run python bench/run.py --studies 100000 --templates DIR --replicate   # real records, replicated

1. generate (``bench/generate.py``; cached in ``WORKDIR/data/<key>`` for the same parameters);
2. measure, each stage in its own child process, so its peak RSS (``ru_maxrss`` from
   ``os.wait4``) is that stage's alone. ``ru_maxrss`` is the peak of the largest single process
   (the child or one of its workers), so the summed PSS of the child's whole process tree is
   also sampled every 0.1 s ("tree PSS"): the number to size a machine by when a stage runs
   worker processes side by side:

   - ``baseline_read_json``: DuckDB ``create table studies as select * from read_json([...])``
     (default auto-detection) into a fresh database file; ``baseline_read_json_ndjson`` the
     same with ``format='newline_delimited', records=true``. For ``--format zip`` the baselines
     read the NDJSON of the very same studies (DuckDB can't read inside a zip): they do the
     same parse-and-store work but skip the inflate, which ``reader_only`` includes;
   - ``reader_only``: the pipeline's document reader alone (``read_document`` over the raw
     folder, every study parsed, nothing stored): how much of the build is reading JSON;
   - ``full_build``: ``trials build --full`` on a fresh warehouse;
   - ``refresh_noop``: ``trials build`` again, nothing changed;
   - ``incremental_<mode>``: ``--mutate-fraction`` (1%) of the studies changed, then
     ``trials build`` (incremental) on the same warehouse. ``rewrite``: every document holding a
     changed study is rewritten (with 50,000-study NDJSON files that is every document);
     ``delta``: the documents stay, the changed studies arrive as one new document. Each mode
     starts from the same full build (warehouse and raw folder restored between modes);
   - cold start: ``python -c pass``, ``python -c "import pipeline.definitions"``,
     ``trials build`` on a 10-study folder (wall vs. the build's own stage timings), and
     ``dagster asset materialize`` of every asset except the network fetch on the same folder.

Every timed stage runs ``--repeats`` times (median reported; the machine is shared and noisy;
a build run that came out another kind than the stage means, e.g. a refresh that rebuilt in
full, is left out of the median and flagged). By default every stage runs on a copy of
``pipeline/`` and ``sql/`` taken at the start (``--code frozen``), so edits in a shared working
tree during the run can't mix code versions (the build rebuilds in full when its code changes).
Prints a markdown table and writes ``WORKDIR/results-<key>.json`` (and ``--results``).
Commands run with the project's own interpreter and ``trials`` / ``dagster`` scripts (no
``uv run`` in front, so uv's own start-up is not counted).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
from importlib import metadata
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
# Where the children import `pipeline` from: the working tree, or a frozen copy (see freeze_code).
CODE_ROOT = REPO
sys.path.insert(0, str(BENCH_DIR))

import generate  # noqa: E402  (bench/generate.py)

BIN = Path(sys.executable).parent
TINY_STUDIES = 10
MB = 1e6

BASELINE_SCRIPT = r"""
import json, sys, time, duckdb
database, file_list, variant = sys.argv[1:4]
files = json.loads(open(file_list).read())
options = ", format='newline_delimited', records=true" if variant == "ndjson" else ""
listing = "[" + ", ".join("'" + f.replace("'", "''") + "'" for f in files) + "]"
con = duckdb.connect(database)
started = time.perf_counter()
con.execute(f"create table studies as select * from read_json({listing}{options})")
rows = con.execute("select count(*) from studies").fetchone()[0]
columns = len(con.execute("select * from studies limit 0").description)
con.close()
print(json.dumps({"rows": rows, "columns": columns, "threads": duckdb.connect().execute("select current_setting('threads')").fetchone()[0],
                  "seconds": time.perf_counter() - started}))
"""

# The import being measured comes first; printing where it came from costs nothing.
IMPORT_SCRIPT = 'import pipeline.definitions, json; print(json.dumps({"pipeline_file": pipeline.definitions.__file__}))'

READER_SCRIPT = r"""
import json, sys, time
from pathlib import Path
from pipeline.documents import read_document
from pipeline.documents.model import StudyRecord
started = time.perf_counter()
studies = errors = 0
for path in sorted(p for p in Path(sys.argv[1]).iterdir() if p.is_file()):
    for item in read_document(path).items:
        if isinstance(item, StudyRecord):
            studies += 1
        else:
            errors += 1
print(json.dumps({"studies": studies, "errors": errors, "seconds": time.perf_counter() - started}))
"""


# ------------------------------------------------------------------------------------------------
# Child processes


def _descendants(pid: int) -> list[int]:
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        try:
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as handle:
                    queue.extend(int(child) for child in handle.read().split())
        except OSError:
            continue
    return found


def _memory_kib(pid: int) -> int:
    """Proportional set size (shared pages split between the processes sharing them), else RSS."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as handle:
            for line in handle:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    try:
        with open(f"/proc/{pid}/statm") as handle:
            return int(handle.read().split()[1]) * (os.sysconf("SC_PAGE_SIZE") // 1024)
    except (OSError, ValueError, IndexError):
        return 0


def _rss_kib(pid: int) -> int:
    """Resident set size: shared pages counted in every process that maps them."""
    try:
        with open(f"/proc/{pid}/statm") as handle:
            return int(handle.read().split()[1]) * (os.sysconf("SC_PAGE_SIZE") // 1024)
    except (OSError, ValueError, IndexError):
        return 0


MEMORY_MEASURES = {"pss": _memory_kib, "rss": _rss_kib}


class TreeMemorySampler(threading.Thread):
    """Samples the summed memory (PSS, or RSS) of a process and all its descendants every
    ``interval`` seconds: ``ru_maxrss`` is the peak of the largest single process, which
    undercounts a stage that runs worker processes side by side."""

    def __init__(self, pid: int, interval: float = 0.1, memory: str = "pss"):
        super().__init__(daemon=True)
        self.pid, self.interval, self.peak_kib = pid, interval, 0
        self.measure = MEMORY_MEASURES[memory]
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            total = sum(self.measure(pid) for pid in _descendants(self.pid))
            self.peak_kib = max(self.peak_kib, total)
            self.done.wait(self.interval)


def run_child(cmd: list[str], log_dir: Path, name: str, env: dict | None = None, memory: str = "pss",
              interval: float = 0.1) -> dict:
    """Run one command in a child process: wall time, peak RSS (MB), the peak summed `memory`
    (pss or rss) of its process tree sampled every `interval` seconds, exit code, output."""
    log_dir.mkdir(parents=True, exist_ok=True)
    out_path, err_path = log_dir / f"{name}.out", log_dir / f"{name}.err"
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        started = time.perf_counter()
        process = subprocess.Popen(cmd, stdout=out, stderr=err, cwd=CODE_ROOT, env=child_env(env))
        sampler = TreeMemorySampler(process.pid, interval, memory)
        sampler.start()
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        sampler.done.set()
        sampler.join()
    process.returncode = os.waitstatus_to_exitcode(status)
    return {
        "wall_s": wall,
        # ru_maxrss (KiB on Linux) of the child, or of its largest waited-for descendant.
        "peak_rss_mb": usage.ru_maxrss / 1024,
        f"peak_tree_{memory}_mb": sampler.peak_kib / 1024,
        "user_s": usage.ru_utime,
        "sys_s": usage.ru_stime,
        "returncode": process.returncode,
        "stdout": out_path.read_text(errors="replace"),
        "stderr_tail": err_path.read_text(errors="replace")[-2000:],
        "command": " ".join(cmd),
    }


def last_json_line(text: str) -> dict:
    for line in reversed(text.strip().splitlines()):
        if line.startswith("{"):
            try:
                return json.loads(line)
            except ValueError:
                pass
    return {}


def child_env(env: dict | None) -> dict:
    env = dict(os.environ if env is None else env)
    if CODE_ROOT != REPO:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(CODE_ROOT), env.get("PYTHONPATH")]))
    return env


def freeze_code(target: Path) -> Path:
    """Copy the pipeline package and its SQL models (with their bytecode caches, mtimes kept)
    to ``target``; children then import that copy (PYTHONPATH, and it is their working
    directory), so edits to the working tree during the run can't change the code measured."""
    global CODE_ROOT
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    for name in ("pipeline", "sql"):
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, target / name, symlinks=True)
    CODE_ROOT = target
    return target


def code_info() -> dict:
    """Which code was measured: the commit, whether pipeline/ or sql/ had uncommitted edits, and
    a hash of the code the stages ran (read-only git commands)."""

    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], capture_output=True, text=True, cwd=REPO, timeout=30).stdout.rstrip()
        except (OSError, subprocess.SubprocessError):
            return ""

    return {
        "git_commit": git("rev-parse", "HEAD") or None,
        "uncommitted_changes": [line[3:] for line in git("status", "--porcelain", "--", "pipeline", "sql").splitlines()],
        "code_root": str(CODE_ROOT),
        "fingerprint": code_fingerprint()[:16],
    }


def code_fingerprint() -> str:
    """The pipeline's code and SQL: a build made by other code is rebuilt in full, so an edit
    during the benchmark (a shared working tree) turns an incremental build into a full one."""
    import hashlib

    digest = hashlib.sha256()
    for path in sorted((*CODE_ROOT.glob("pipeline/**/*.py"), *CODE_ROOT.glob("sql/**/*"))):
        if path.is_file():
            digest.update(path.as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def trials_command() -> list[str]:
    script = BIN / "trials"
    return [str(script)] if script.exists() else [sys.executable, "-m", "pipeline.cli"]


def dagster_command() -> list[str]:
    script = BIN / "dagster"
    return [str(script)] if script.exists() else [sys.executable, "-m", "dagster"]


def build_flags() -> set[str]:
    help_text = subprocess.run([*trials_command(), "build", "--help"], capture_output=True, text=True, cwd=CODE_ROOT,
                               env=child_env(None)).stdout
    return {flag for flag in ("--full", "--stats-json") if flag in help_text}


# ------------------------------------------------------------------------------------------------
# Folders


def link_tree(src: Path, dst: Path) -> None:
    """Make ``dst`` hold exactly ``src``'s files, as hard links (same inode, size and mtime)."""
    dst.mkdir(parents=True, exist_ok=True)
    wanted = {p.name: p for p in src.iterdir() if p.is_file()}
    for existing in dst.iterdir():
        if existing.name not in wanted:
            existing.unlink() if existing.is_file() else shutil.rmtree(existing)
    for name, source in wanted.items():
        target = dst / name
        if target.exists() and os.path.samefile(source, target):
            continue
        generate._link_or_copy(source, target)


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.iterdir() if p.is_file())


def reset_dir(path: Path) -> Path:
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


# ------------------------------------------------------------------------------------------------
# Machine


def machine_info() -> dict:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram_gb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass

    def version(package: str) -> str | None:
        try:
            return metadata.version(package)
        except metadata.PackageNotFoundError:
            return None

    return {
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "cpu_model": model or platform.processor(),
        "ram_gb": ram_gb,
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "os": platform.platform(),
        "python": platform.python_version(),
        "duckdb": version("duckdb"),
        "polars": version("polars"),
        "dagster": version("dagster"),
        "orjson": version("orjson"),
    }


# ------------------------------------------------------------------------------------------------
# The benchmark


class Bench:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.workdir: Path = args.workdir.resolve()
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.logs = reset_dir(self.workdir / "logs")
        self.stages: dict[str, dict] = {}
        self.notes: list[str] = []
        formats = [args.format, "ndjson"] if args.format in ("zip", "xml") else ["ndjson"]
        self.formats = formats
        tail = "replica" if args.replicate else "tail" if not args.no_long_tail else "notail"
        self.key = (f"n{args.studies}-s{args.seed}-{'+'.join(formats)}-pf{args.per_file}-{tail}"
                    f"-z{args.zip_level}-{generate.generator_version(args.templates)}")
        self.data = self.workdir / "data" / self.key
        self.raw = self.workdir / "raw"
        self.warehouse_dir = self.workdir / "warehouse"
        self.warehouse = self.warehouse_dir / "warehouse.duckdb"
        if args.code == "frozen":
            freeze_code(self.workdir / "code")
        self.code = code_info()
        self.flags = build_flags()
        self.code_at_full_build = code_fingerprint()

    # -------------------------------------------------------------- helpers

    def script(self, name: str, text: str) -> str:
        path = self.workdir / "scripts" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text.lstrip())
        return str(path)

    def log(self, message: str) -> None:
        print(message, flush=True)

    def record(self, stage: str, run: dict, studies: int | None, input_bytes: int | None, **extra: Any) -> dict:
        entry = self.stages.setdefault(stage, {"runs": [], "studies": studies, "input_bytes": input_bytes})
        run = dict(run, **extra)
        if run["returncode"] != 0:
            self.log(f"  !! {stage} failed (exit {run['returncode']}): {run['stderr_tail'][-600:]}")
        entry["runs"].append(run)
        self.log(f"  {stage}: {run['wall_s']:.2f}s, peak RSS {run['peak_rss_mb']:.0f} MB (process tree PSS {run['peak_tree_pss_mb']:.0f} MB)"
                 + (f" (exit {run['returncode']})" if run["returncode"] else ""))
        return run

    def format_dir(self, root: Path | None = None) -> Path:
        return (root or self.data) / ("ndjson" if self.args.format == "ndjson" else self.args.format)

    # -------------------------------------------------------------- stages

    def generate_data(self) -> dict:
        manifest_path = self.data / "manifest.json"
        if manifest_path.exists() and not self.args.regenerate:
            manifest = json.loads(manifest_path.read_text())
            self.log(f"reusing generated data in {self.data}")
            self.generation = {"cached": True, **{k: manifest[k] for k in ("seconds", "studies_per_s", "json_mb_per_s")}}
            return manifest
        self.log(f"generating {self.args.studies:,} studies into {self.data}")
        cmd = [sys.executable, str(BENCH_DIR / "generate.py"), "--studies", str(self.args.studies), "--seed", str(self.args.seed),
               "--out", str(self.data), "--formats", ",".join(self.formats), "--workers", str(self.args.workers),
               "--per-file", str(self.args.per_file), "--zip-level", str(self.args.zip_level)]
        if self.args.no_long_tail:
            cmd.append("--no-long-tail")
        cmd += ["--templates", str(self.args.templates)] + (["--replicate"] if self.args.replicate else [])
        run = run_child(cmd, self.logs, "generate")
        if run["returncode"] != 0:
            raise SystemExit(f"generation failed: {run['stderr_tail']}")
        manifest = json.loads(manifest_path.read_text())
        self.generation = {"cached": False, "wall_s": round(run["wall_s"], 2), "peak_rss_mb": round(run["peak_rss_mb"]),
                           **{k: manifest[k] for k in ("seconds", "studies_per_s", "json_mb_per_s")}}
        for line in generate.summary_lines(manifest):
            self.log(f"  {line}")
        return manifest

    def baselines(self, manifest: dict) -> None:
        ndjson = manifest["formats"]["ndjson"]
        files = [str(self.data / f["path"]) for f in ndjson["files"]]
        file_list = self.workdir / "baseline-files.json"
        file_list.write_text(json.dumps(files))
        if self.args.format in ("zip", "xml"):
            self.notes.append("baseline_read_json* read the NDJSON of the same studies (DuckDB can't read inside a zip): "
                              "same parse-and-store work, without the inflate the build pays.")
        for variant, stage in (("auto", "baseline_read_json"), ("ndjson", "baseline_read_json_ndjson")):
            for repeat in range(self.args.repeats):
                database = self.workdir / "baseline" / "baseline.duckdb"
                reset_dir(database.parent)
                run = run_child([sys.executable, self.script("baseline.py", BASELINE_SCRIPT), str(database), str(file_list), variant],
                                self.logs, f"{stage}-{repeat + 1}")
                result = last_json_line(run["stdout"])
                run = self.record(stage, run, manifest["studies"], ndjson["bytes"], result=result,
                                  database_mb=round(database.stat().st_size / MB, 1) if database.exists() else None)
                if result and result.get("rows") != manifest["studies"]:
                    self.notes.append(f"{stage} loaded {result.get('rows')} rows, expected {manifest['studies']}")
            shutil.rmtree(self.workdir / "baseline", ignore_errors=True)

    def reader_only(self, manifest: dict) -> None:
        source = self.format_dir()
        for repeat in range(self.args.repeats):
            run = run_child([sys.executable, self.script("reader_only.py", READER_SCRIPT), str(source)], self.logs,
                            f"reader_only-{repeat + 1}")
            result = last_json_line(run["stdout"])
            self.record("reader_only", run, manifest["studies"], folder_bytes(source), result=result)
            if result.get("studies") != manifest["studies"] or result.get("errors"):
                self.notes.append(f"reader_only read {result.get('studies')} studies and {result.get('errors')} errors, "
                                  f"expected {manifest['studies']} studies")

    def build(self, stage: str, name: str, full: bool, studies: int, input_bytes: int, **extra: Any) -> dict:
        stats_path = self.logs / f"{name}.stats.json"
        cmd = [*trials_command(), "build", "--raw-dir", str(self.raw), "--warehouse", str(self.warehouse)]
        if full and "--full" in self.flags:
            cmd.append("--full")
        if "--stats-json" in self.flags:
            cmd += ["--stats-json", str(stats_path)]
        if full:
            self.code_at_full_build = code_fingerprint()
        run = run_child(cmd, self.logs, name)
        stats = json.loads(stats_path.read_text()) if stats_path.exists() else {}
        if code_fingerprint() != self.code_at_full_build:
            extra["code_changed"] = True
            self.notes.append(f"{name}: the pipeline code changed since the full build started (shared working tree), "
                              "so this build may have rebuilt in full")
        if stage.startswith("incremental_") and stats.get("kind") not in (None, "incremental"):
            self.notes.append(f"{name}: ran as a {stats.get('kind')} build, not incremental")
        loaded = stats.get("dagster/row_count")
        if run["returncode"] == 0 and loaded is not None and loaded != studies:
            self.notes.append(f"{name}: the warehouse holds {loaded} studies, expected {studies}")
        return self.record(stage, run, studies, input_bytes, build_stats=stats, **extra,
                           warehouse_mb=round(self.warehouse.stat().st_size / MB, 1) if self.warehouse.exists() else None)

    def mutated(self, mode: str) -> Path:
        fraction = self.args.mutate_fraction
        target = self.data / f"mutated-{mode}-{fraction:g}"
        if (target / "mutation.json").exists() and not self.args.regenerate:
            return target
        if target.exists():
            shutil.rmtree(target)
        cmd = [sys.executable, str(BENCH_DIR / "generate.py"), "--mutate", str(fraction), "--out", str(self.data),
               "--mutated-out", str(target), "--mutate-mode", mode, "--seed", str(self.args.seed),
               "--formats", self.args.format]
        run = run_child(cmd, self.logs, f"mutate-{mode}")
        if run["returncode"] != 0:
            raise SystemExit(f"mutation failed: {run['stderr_tail']}")
        self.log(f"  prepared the {mode} mutation in {run['wall_s']:.1f}s (not timed)")
        return target

    def builds(self, manifest: dict) -> None:
        studies = manifest["studies"]
        original = self.format_dir()
        input_bytes = folder_bytes(original)
        modes = [m for m in self.args.mutate_modes.split(",") if m]
        mutated = {mode: self.mutated(mode) for mode in modes}
        snapshot = self.workdir / "warehouse-after-full"
        if "--full" not in self.flags:
            self.notes.append("trials build has no --full here: full builds ran on a fresh warehouse path")
        for repeat in range(1, self.args.repeats + 1):
            link_tree(original, self.raw)
            reset_dir(self.warehouse_dir)
            self.build("full_build", f"full_build-{repeat}", True, studies, input_bytes)
            self.build("refresh_noop", f"refresh_noop-{repeat}", False, studies, input_bytes)
            if len(modes) > 1:
                reset_dir(snapshot)
                shutil.copytree(self.warehouse_dir, snapshot, dirs_exist_ok=True)
            for position, mode in enumerate(modes):
                if position:
                    link_tree(original, self.raw)
                    reset_dir(self.warehouse_dir)
                    shutil.copytree(snapshot, self.warehouse_dir, dirs_exist_ok=True)
                mutation = json.loads((mutated[mode] / "mutation.json").read_text())
                link_tree(self.format_dir(mutated[mode]), self.raw)
                changed_bytes = sum(
                    (mutated[mode] / p).stat().st_size
                    for p in (*mutation["formats"][self.args.format]["rewritten_files"],
                              *([mutation["formats"][self.args.format]["delta_file"]]
                                if mutation["formats"][self.args.format]["delta_file"] else []))
                )
                self.build(f"incremental_{mode}", f"incremental_{mode}-{repeat}", False, studies, folder_bytes(self.raw),
                           changed_studies=mutation["changed"], changed_document_bytes=changed_bytes)
        shutil.rmtree(snapshot, ignore_errors=True)

    def cold_start(self, manifest: dict) -> None:
        cold = reset_dir(self.workdir / "cold")
        tiny = cold / "raw"
        tiny.mkdir()
        first_ndjson = self.data / manifest["formats"]["ndjson"]["files"][0]["path"]
        with open(first_ndjson, "rb") as source, open(tiny / "tiny.ndjson", "wb") as out:
            for _, line in zip(range(TINY_STUDIES), source):
                out.write(line)
        home = cold / "dagster_home"
        home.mkdir()
        (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
        tiny_bytes = folder_bytes(tiny)
        env = dict(os.environ, TRIALS_RAW_DIR=str(tiny), TRIALS_WAREHOUSE=str(cold / "dagster-wh" / "warehouse.duckdb"),
                   TRIALS_EXPORT_DIR=str(cold / "export"), DAGSTER_HOME=str(home))
        for repeat in range(1, self.args.repeats + 1):
            self.record("python_startup", run_child([sys.executable, "-c", "pass"], self.logs, f"python_startup-{repeat}"), None, None)
            run = run_child([sys.executable, "-c", IMPORT_SCRIPT], self.logs, f"import_definitions-{repeat}")
            self.record("import_definitions", run, None, None, result=last_json_line(run["stdout"]))
            stats_path = self.logs / f"trials_build_tiny-{repeat}.stats.json"
            shutil.rmtree(cold / "trials-wh", ignore_errors=True)
            cmd = [*trials_command(), "build", "--raw-dir", str(tiny), "--warehouse", str(cold / "trials-wh" / "warehouse.duckdb")]
            if "--full" in self.flags:
                cmd.append("--full")
            if "--stats-json" in self.flags:
                cmd += ["--stats-json", str(stats_path)]
            run = run_child(cmd, self.logs, f"trials_build_tiny-{repeat}")
            stats = json.loads(stats_path.read_text()) if stats_path.exists() else {}
            self.record("trials_build_tiny", run, TINY_STUDIES, tiny_bytes, build_stats=stats)
            if self.args.skip_materialize:
                continue
            shutil.rmtree(cold / "dagster-wh", ignore_errors=True)
            shutil.rmtree(cold / "export", ignore_errors=True)
            cmd = [*dagster_command(), "asset", "materialize", "-m", "pipeline.definitions", "--select", self.args.dagster_select]
            run = run_child(cmd, self.logs, f"dagster_materialize_tiny-{repeat}", env=env)
            log_text = run["stdout"] + (self.logs / f"dagster_materialize_tiny-{repeat}.err").read_text(errors="replace")
            self.record("dagster_materialize_tiny", run, TINY_STUDIES, tiny_bytes, steps=dagster_steps(log_text))

    # -------------------------------------------------------------- report

    def summarize(self, manifest: dict) -> dict:
        summary: dict[str, dict] = {}
        for stage, entry in self.stages.items():
            runs = entry["runs"]
            ok = [r for r in runs if r["returncode"] == 0] or runs
            expected_kind = expected_build_kind(stage)
            excluded = [r for r in ok if expected_kind and r.get("build_stats", {}).get("kind") not in (None, expected_kind)]
            if excluded and len(excluded) < len(ok):
                ok = [r for r in ok if r not in excluded]
            else:
                excluded = []
            wall = statistics.median(r["wall_s"] for r in ok)
            row = {
                "wall_s": round(wall, 3),
                "walls_s": [round(r["wall_s"], 3) for r in runs],
                "repeats": len(runs),
                "failed": sum(r["returncode"] != 0 for r in runs),
                "runs_of_another_build_kind": len(excluded),
                "peak_rss_mb": round(max(r["peak_rss_mb"] for r in runs), 1),
                "peak_tree_pss_mb": round(max(r["peak_tree_pss_mb"] for r in runs), 1),
                "cpu_s": round(statistics.median(r["user_s"] + r["sys_s"] for r in ok), 2),
            }
            if entry["studies"]:
                row["studies"] = entry["studies"]
                row["studies_per_s"] = round(entry["studies"] / wall, 1)
            if entry["input_bytes"]:
                row["input_mb"] = round(entry["input_bytes"] / MB, 1)
                row["mb_per_s"] = round(entry["input_bytes"] / MB / wall, 2)
            last = ok[-1]
            if any(r.get("code_changed") for r in runs):
                row["code_changed"] = True
            for key in ("build_stats", "result", "steps", "changed_studies", "changed_document_bytes", "warehouse_mb", "database_mb"):
                if key in last and last[key] not in (None, {}, []):
                    row[key] = last[key]
            if "build_stats" in row:
                stages = [r.get("build_stats", {}).get("stages") or {} for r in ok]
                names = sorted({n for s in stages for n in s})
                row["build_stage_s"] = {n: round(statistics.median(s.get(n, 0.0) for s in stages), 3) for n in names}
                row["build_kind"] = row["build_stats"].get("kind")
                row["build_kinds"] = [r.get("build_stats", {}).get("kind") for r in runs]
            row["command"] = last["command"]
            summary[stage] = row
        return summary

    def ratios(self, summary: dict) -> dict:
        ratios: dict[str, float] = {}

        def ratio(name: str, numerator: str, denominator: str) -> None:
            if numerator in summary and denominator in summary and summary[denominator]["wall_s"] > 0:
                ratios[name] = round(summary[numerator]["wall_s"] / summary[denominator]["wall_s"], 3)

        ratio("full_build / baseline_read_json", "full_build", "baseline_read_json")
        ratio("full_build / baseline_read_json_ndjson", "full_build", "baseline_read_json_ndjson")
        ratio("reader_only / full_build", "reader_only", "full_build")
        ratio("refresh_noop / full_build", "refresh_noop", "full_build")
        for stage in summary:
            if stage.startswith("incremental_"):
                ratio(f"{stage} / full_build", stage, "full_build")
        return ratios

    def cold_start_summary(self, summary: dict) -> dict:
        """Fixed costs, as differences of medians over the repeats (per run where both numbers
        come from the same run)."""

        def ok_runs(stage: str) -> list[dict]:
            runs = self.stages.get(stage, {}).get("runs", [])
            return [r for r in runs if r["returncode"] == 0]

        def median(values: list[float]) -> float | None:
            return round(statistics.median(values), 3) if values else None

        out: dict[str, Any] = {}
        if "python_startup" in summary and "import_definitions" in summary:
            out["import_definitions_minus_python_s"] = round(summary["import_definitions"]["wall_s"] - summary["python_startup"]["wall_s"], 3)
        tiny = [r for r in ok_runs("trials_build_tiny") if r.get("build_stats")]
        if tiny:
            jobs = [r["build_stats"]["seconds"] for r in tiny if r["build_stats"].get("seconds") is not None]
            work = [top_level_seconds(r["build_stats"].get("stages") or {}) for r in tiny]
            out["trials_build_tiny_job_s"] = median(jobs)
            out["trials_build_tiny_outside_job_s"] = median([r["wall_s"] - r["build_stats"]["seconds"] for r in tiny
                                                             if r["build_stats"].get("seconds") is not None])
            out["trials_build_tiny_work_s"] = median(work)
            out["trials_build_tiny_overhead_s"] = median([r["wall_s"] - w for r, w in zip(tiny, work)])
        materialize = ok_runs("dagster_materialize_tiny")
        if materialize:
            out["dagster_materialize_steps_s"] = summary["dagster_materialize_tiny"].get("steps") or {}
            if out.get("trials_build_tiny_work_s") is not None:
                out["dagster_materialize_overhead_s"] = round(
                    statistics.median(r["wall_s"] for r in materialize) - out["trials_build_tiny_work_s"], 3)
        if out:
            out["method"] = {
                "import_definitions_minus_python_s": "`python -c 'import pipeline.definitions'` minus `python -c pass`",
                "trials_build_tiny_job_s": "the build job's in-process time as `trials build` reports it (--stats-json seconds)",
                "trials_build_tiny_outside_job_s": "`trials build` wall minus that: interpreter, imports, exit",
                "trials_build_tiny_work_s": "the build's own stages (inventory, load, history, models, ...) on 10 studies",
                "trials_build_tiny_overhead_s": "`trials build` wall minus the build's own stages: start-up, Dagster run, asset checks",
                "dagster_materialize_overhead_s": f"`dagster asset materialize --select '{self.args.dagster_select}'` wall on the same "
                                                  "10 studies minus the build's own stages (includes the export and check steps, "
                                                  "each step's process start-up under the default executor, and the instance in DAGSTER_HOME)",
            }
        return out

    def table(self, summary: dict) -> str:
        rows = ["| stage | wall s (median) | studies/s | MB/s | peak RSS MB | tree PSS MB | notes |",
                "|---|---:|---:|---:|---:|---:|---|"]
        for stage, row in summary.items():
            notes = []
            if row.get("build_kind"):
                kinds = row.get("build_kinds") or [row["build_kind"]]
                notes.append(f"kind={row['build_kind']}" if len(set(kinds)) == 1 else f"kinds={'/'.join(map(str, kinds))}")
            if row.get("build_stage_s"):
                stages = {k: v for k, v in row["build_stage_s"].items() if v >= 0.05}
                outside = row["wall_s"] - top_level_seconds(row["build_stage_s"])
                notes.append((", ".join(f"{k} {v:.1f}s" for k, v in stages.items()) or "build stages < 0.1s")
                             + f" (+{outside:.1f}s outside the build stages: start-up, Dagster, checks)")
            if row.get("changed_studies") is not None:
                notes.append(f"{row['changed_studies']:,} studies changed; {row.get('changed_document_bytes', 0) / MB:,.1f} MB "
                             "of documents new or rewritten")
            if row.get("steps"):
                notes.append("steps: " + ", ".join(f"{k} {v:.1f}s" for k, v in row["steps"].items()))
            if row.get("result", {}).get("pipeline_file"):
                notes.append(f"imported {row['result']['pipeline_file']}")
            if row.get("result", {}).get("studies") is not None:
                notes.append(f"{row['result']['studies']:,} studies read, {row['result'].get('errors')} errors")
            if row.get("result", {}).get("rows") is not None:
                notes.append(f"{row['result']['rows']:,} rows, {row['result'].get('columns')} columns, {row['result'].get('threads')} threads")
            if row["runs_of_another_build_kind"]:
                notes.append(f"{row['runs_of_another_build_kind']} run(s) of another build kind left out of the median")
            if row["failed"]:
                notes.append(f"FAILED {row['failed']}/{row['repeats']}")
            if row["repeats"] > 1:
                notes.append("runs " + "/".join(f"{w:.1f}" for w in row["walls_s"]))
            rows.append(
                f"| {stage} | {row['wall_s']:.2f} | {row.get('studies_per_s', 0):,.0f} | {row.get('mb_per_s', 0):,.1f} | "
                f"{row['peak_rss_mb']:,.0f} | {row['peak_tree_pss_mb']:,.0f} | {'; '.join(notes)} |".replace("| 0 |", "| – |").replace("| 0.0 |", "| – |")
            )
        return "\n".join(rows)

    def run(self) -> dict:
        started = time.perf_counter()
        info = machine_info()
        self.log(f"machine: {info['cpu_count']} CPUs ({info['cpu_model']}), {info['ram_gb']} GB RAM, python {info['python']}, "
                 f"duckdb {info['duckdb']}, polars {info['polars']}, dagster {info['dagster']}")
        manifest = self.generate_data()
        skip = set(self.args.skip.split(",")) if self.args.skip else set()
        if "baseline" not in skip:
            self.log("baseline: DuckDB read_json")
            self.baselines(manifest)
        if "reader" not in skip:
            self.log("reader only")
            self.reader_only(manifest)
        if "build" not in skip:
            self.log("builds")
            self.builds(manifest)
        if "cold" not in skip:
            self.log("cold start")
            self.cold_start(manifest)
        summary = self.summarize(manifest)
        results = {
            "benchmark": "ctgov warehouse",
            "finished_at": dt.datetime.now().isoformat(timespec="seconds"),
            "machine": info,
            "params": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(self.args).items()},
            "data": {
                "key": self.key,
                "dir": str(self.data),
                "studies": manifest["studies"],
                "json_mb": round(manifest["json_bytes"] / MB, 1),
                "mean_study_kb": round(manifest["mean_study_bytes"] / 1000, 2),
                "median_study_kb": round(manifest["median_study_bytes"] / 1000, 2),
                "max_study_mb": round(manifest["max_study_bytes"] / MB, 2),
                "results_fraction": manifest["results_fraction"],
                "long_tail": {k: len(v) for k, v in manifest["long_tail"].items()},
                "files": {fmt: {"count": len(i["files"]), "mb": round(i["bytes"] / MB, 1)} for fmt, i in manifest["formats"].items()},
                "calibration": manifest["calibration"],
                "templates": manifest["params"].get("templates"),
                "replicate": manifest["params"].get("replicate", False),
                "generation": self.generation,
            },
            "code": self.code,
            "build_flags": sorted(self.flags),
            "stages": summary,
            "ratios": self.ratios(summary),
            "cold_start": self.cold_start_summary(summary),
            "notes": self.notes,
            "total_s": round(time.perf_counter() - started, 1),
        }
        results["markdown"] = self.table(summary)
        path = self.workdir / f"results-{self.key}.json"
        text = json.dumps(results, indent=2, default=str) + "\n"
        path.write_text(text)
        if self.args.results:
            self.args.results.parent.mkdir(parents=True, exist_ok=True)
            self.args.results.write_text(text)
        self.print_report(results, path)
        return results

    def print_report(self, results: dict, path: Path) -> None:
        data, m = results["data"], results["machine"]
        print()
        files = ", ".join(f"{k}: {v['count']} file(s), {v['mb']:,.1f} MB" for k, v in data["files"].items())
        print(f"## {data['studies']:,} studies, {self.args.format} ({data['json_mb']:,.1f} MB of JSON; "
              f"mean study {data['mean_study_kb']:.2f} KB; {files})")
        if data["replicate"]:
            print(f"data: the {data['calibration']['templates']} real records in {data['templates']}, replicated under new NCT ids")
        print(f"machine: {m['cpu_count']} CPUs ({m['cpu_model']}), {m['ram_gb']} GB RAM, load {m['load_average_at_start']}; "
              f"python {m['python']}, duckdb {m['duckdb']}, polars {m['polars']}, dagster {m['dagster']}; repeats {self.args.repeats}")
        code = results["code"]
        print(f"code: {code['git_commit'] or 'unknown commit'}"
              + (f" + uncommitted edits to {', '.join(code['uncommitted_changes'])}" if code["uncommitted_changes"] else "")
              + f" (fingerprint {code['fingerprint']}, run from {code['code_root']})")
        gen = data["generation"]
        print(f"generation: {'cached' if gen['cached'] else 'generated'} ({gen['seconds']}s, {gen['studies_per_s']:,.0f} studies/s, "
              f"{gen['json_mb_per_s']:,.1f} MB/s)")
        print()
        print(results["markdown"])
        print()
        for name, value in results["ratios"].items():
            print(f"- {name}: {value:.2f}x")
        for name, value in results["cold_start"].items():
            if name != "method":
                print(f"- {name}: {value}")
        for note in results["notes"]:
            print(f"- note: {note}")
        print(f"\nresults: {path}")


def expected_build_kind(stage: str) -> str | None:
    if stage == "full_build":
        return "full"
    if stage == "refresh_noop":
        return "up_to_date"
    if stage.startswith("incremental_"):
        return "incremental"
    return None


def top_level_seconds(stages: dict[str, float]) -> float:
    """The build's own time: its top-level stages ("load/insert" is a part of "load")."""
    return sum(v for k, v in stages.items() if "/" not in k)


STEP_PATTERN = re.compile(r'Finished execution of step "([^"]+)" in ([0-9.]+)(ms|s)\b')


def dagster_steps(log_text: str) -> dict[str, float]:
    steps = {}
    for name, value, unit in STEP_PATTERN.findall(log_text):
        steps[name] = round(float(value) / (1000 if unit == "ms" else 1), 3)
    return steps


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark the warehouse build against DuckDB read_json on synthetic registry-scale data.")
    parser.add_argument("--studies", type=int, default=100_000)
    parser.add_argument("--format", choices=("ndjson", "zip", "xml"), default="ndjson",
                        help="xml: an AllPublicXML zip of legacy XML records (needs --replicate of XML templates, "
                             "e.g. --templates ../shared/samples/legacy_xml); zip of the same templates is its JSON twin")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/bench"))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=1, help="runs per timed stage; the median is reported")
    parser.add_argument("--mutate-fraction", type=float, default=0.01)
    parser.add_argument("--mutate-modes", default="rewrite,delta", help="comma separated: rewrite, delta")
    parser.add_argument("--workers", type=int, default=2, help="generator worker processes")
    parser.add_argument("--per-file", type=int, default=generate.NDJSON_STUDIES_PER_FILE, help="studies per NDJSON file")
    parser.add_argument("--zip-level", type=int, default=6)
    parser.add_argument("--no-long-tail", action="store_true")
    parser.add_argument("--templates", type=Path, default=generate.TEMPLATE_DIR,
                        help="folder of real records the data is made from (generate.py --templates)")
    parser.add_argument("--replicate", action="store_true",
                        help="the data is the template records replicated as they are, under new NCT ids (generate.py --replicate)")
    parser.add_argument("--regenerate", action="store_true", help="ignore cached generated data")
    parser.add_argument("--skip", default="", help="comma separated: baseline, reader, build, cold")
    parser.add_argument("--skip-materialize", action="store_true",
                        help="cold start without the `dagster asset materialize` run (the slowest part; for quick runs)")
    parser.add_argument("--dagster-select", default="not key:ctgov_api_studies",
                        help="assets for the dagster cold start (default: all but the network fetch)")
    parser.add_argument("--code", choices=("frozen", "live"), default="frozen",
                        help="frozen (default): run every stage on a copy of pipeline/ and sql/ taken at the start, so "
                             "edits in the working tree during the run don't mix code versions; live: the working tree")
    parser.add_argument("--results", type=Path, help="also write the results JSON here")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    if args.format == "xml" and args.mutate_modes:
        # The mutations rewrite JSON members; XML snapshots are history, not daily deltas.
        print("--format xml: full builds only (no incremental mutations of XML records)")
        args.mutate_modes = ""
    Bench(args).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
