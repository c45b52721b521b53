"""`trials`: the command line. Thin: `build`, `export` and `download` run the Dagster jobs
in-process, the same ones `dagster dev` shows, and record their runs in the Dagster instance of
`DAGSTER_HOME` when it is set (an ephemeral one otherwise); `fetch`, `sql` and `docs` are
conveniences around the raw folder and the warehouse."""
from __future__ import annotations

import argparse
import atexit
import json
import os
import sys
import time
from pathlib import Path

from pipeline.resources import DEFAULT_EXPORT_DIR, DEFAULT_RAW_DIR, DEFAULT_WAREHOUSE


class InstanceUnavailable(RuntimeError):
    """DAGSTER_HOME is set, but holds no usable Dagster instance."""


def _instance():
    """The Dagster instance of DAGSTER_HOME, so that the run, its materializations and check
    results show in `dagster dev` and the daemon's UI; without DAGSTER_HOME, a throwaway one."""
    import dagster as dg

    if not os.environ.get("DAGSTER_HOME"):
        return dg.DagsterInstance.ephemeral()
    try:
        return dg.DagsterInstance.get()
    except dg.DagsterError as error:
        raise InstanceUnavailable(f"DAGSTER_HOME={os.environ['DAGSTER_HOME']}: {error}".splitlines()[0]) from None


def _run_job(job_name: str, resources: dict, run_config: dict | None = None):
    from pipeline.definitions import defs

    # The command prints its own summary and failure; Dagster's event lines would bury them.
    config = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}, **(run_config or {})}
    with _instance() as instance:
        return defs.resolve_job_def(job_name).execute_in_process(
            run_config=config, instance=instance, resources=resources, raise_on_error=False,
        )


def _failure_message(result) -> str:
    """The error that failed the run, unwrapped from Dagster's step-failure envelope; with its
    traceback unless the step failed on purpose (dg.Failure, e.g. the warehouse is locked)."""
    for event in result.all_events:
        if event.is_step_failure:
            error = event.step_failure_data.error
            while error.cause is not None:
                error = error.cause
            message = error.message.strip().removeprefix(f"{error.cls_name}: ").removeprefix("dagster._core.definitions.events.Failure: ")
            if error.cls_name == "Failure":
                return message
            return message + "\n" + "".join(error.stack)
    failure = next((e for e in result.all_events if e.is_failure), None)
    return failure.message if failure else "see the log above"


def _asset_metadata(result, asset_name: str) -> dict:
    """The metadata the run recorded for the asset: of its materialization, or when there was
    none (nothing to do), of its observation."""
    recorded = [e.event_specific_data.materialization for e in result.get_asset_materialization_events()]
    recorded += [e.event_specific_data.asset_observation for e in result.get_asset_observation_events()]
    for event in recorded:
        if event.asset_key.to_user_string() == asset_name:
            return {k: v.value for k, v in event.metadata.items()}
    return {}


def build(raw_dir: Path, warehouse: Path, full: bool = False, wait_seconds: float = 0.0, stats_json: Path | None = None) -> int:
    from pipeline.definitions import BUILD_JOB_NAME
    from pipeline.resources import RawFolder, Warehouse

    if not raw_dir.is_dir():
        print(f"trials build: raw folder {raw_dir} does not exist", file=sys.stderr)
        return 2
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    result = _run_job(
        BUILD_JOB_NAME,
        {"raw_folder": RawFolder(path=str(raw_dir)), "warehouse": Warehouse(path=str(warehouse))},
        {"ops": {"warehouse_build": {"config": {"full": full, "wait_seconds": wait_seconds}}}},
    )
    elapsed = time.perf_counter() - started
    if not result.success:
        print(f"trials build: failed after {elapsed:.1f}s: {_failure_message(result)}", file=sys.stderr)
        return 3 if "another build is running" in _failure_message(result).splitlines()[0] else 1
    studies = _asset_metadata(result, "studies")
    build_info = _asset_metadata(result, "build_info")
    failed_checks = [
        f"{check.asset_key.to_user_string()}:{check.check_name}" + (f" ({check.description})" if check.description else "")
        for check in (e.asset_check_evaluation_data for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION")
        if not check.passed
    ]
    if build_info["build_kind"] == "up_to_date":
        print(f"{warehouse} is up to date ({elapsed:.1f}s): no document was added, changed or removed")
    else:
        print(
            f"{build_info['build_kind']} build of {warehouse} in {elapsed:.1f}s: {studies['dagster/row_count']} studies "
            f"from {studies['n_documents']} documents ({studies['n_documents_read']} read, "
            f"{studies['n_studies_written']} studies written, {studies['n_studies_dropped']} dropped), "
            f"{studies['n_rejected']} rejected (see ingest_errors), {studies['n_superseded']} superseded"
        )
    if failed_checks:
        print(f"checks not passed: {', '.join(failed_checks)}")
    if stats_json is not None:
        stats = {"kind": build_info["build_kind"], "seconds": elapsed, "stages": build_info.get("stage_seconds", {}),
                 **{k: v for k, v in studies.items() if isinstance(v, (int, float, str))}}
        stats_json.write_text(json.dumps(stats, indent=2) + "\n")
    return 0


def export(warehouse: Path, out_dir: Path, tables: list[str] | None) -> int:
    import duckdb

    from pipeline.warehouse.export import export_parquet

    if not warehouse.exists():
        print(f"trials export: no warehouse at {warehouse}; run `trials build` first", file=sys.stderr)
        return 2
    if tables:
        # A subset is a one-off for a notebook, not the export asset's full materialization.
        with duckdb.connect(str(warehouse), read_only=True) as con:
            try:
                manifest = export_parquet(con, out_dir, tables)
            except ValueError as error:
                print(f"trials export: {error}", file=sys.stderr)
                return 2
    else:
        from pipeline.definitions import EXPORT_JOB_NAME
        from pipeline.resources import ExportFolder, Warehouse

        result = _run_job(
            EXPORT_JOB_NAME, {"export_folder": ExportFolder(path=str(out_dir)), "warehouse": Warehouse(path=str(warehouse))}
        )
        if not result.success:
            print(f"trials export: failed: {_failure_message(result)}", file=sys.stderr)
            return 1
        manifest = json.loads((out_dir / "manifest.json").read_text())
    total = sum(t["rows"] for t in manifest["tables"].values())
    print(f"exported {len(manifest['tables'])} tables ({total} rows) to {out_dir}")
    return 0


def fetch(raw_dir: Path, since: str | None, base_url: str, max_requests_per_second: float) -> int:
    import datetime as dt

    from pipeline.sources.ctgov_api import FetchError, MissingSinceError, fetch_updated_studies

    try:
        since_date = dt.date.fromisoformat(since) if since else None
    except ValueError:
        print(f"trials fetch: --since {since!r} is not a date (YYYY-MM-DD)", file=sys.stderr)
        return 2
    try:
        summary = fetch_updated_studies(
            raw_dir, since_date, base_url=base_url, max_requests_per_second=max_requests_per_second, log=print
        )
    except MissingSinceError as error:
        print(f"trials fetch: {error}", file=sys.stderr)
        return 2
    except FetchError as error:
        print(f"trials fetch: failed, the watermark was not moved: {error}", file=sys.stderr)
        return 1
    print(
        f"fetched {summary.studies} studies updated since {summary.window_since} in {summary.pages} pages "
        f"({summary.retries} retries) into {summary.files_written} files; watermark {summary.watermark.fetch_started_on}"
    )
    return 0


def download(raw_dir: Path, base_url: str, max_requests_per_second: float) -> int:
    from pipeline.assets.warehouse import BULK_ASSET
    from pipeline.definitions import DOWNLOAD_JOB_NAME
    from pipeline.resources import RawFolder

    result = _run_job(
        DOWNLOAD_JOB_NAME, {"raw_folder": RawFolder(path=str(raw_dir))},
        {"ops": {BULK_ASSET: {"config": {"base_url": base_url, "max_requests_per_second": max_requests_per_second}}}},
    )
    if not result.success:
        print(f"trials download: failed: {_failure_message(result)}", file=sys.stderr)
        return 1
    done = _asset_metadata(result, BULK_ASSET)
    size = f"{done['size_bytes'] / 1e6:,.1f} MB"
    if done.get("unchanged"):
        print(f"{done['path']} is current ({size}): the registry's copy has not changed, nothing was transferred")
        return 0
    received, seconds = done["bytes_received"], done["seconds"]
    resumed = f", resumed at {', '.join(f'{offset / 1e6:,.1f} MB' for offset in done['resumed_at'])}" if done["resumed_at"] else ""
    print(
        f"downloaded {done['path']}: {done['n_members']:,} studies, {size} ({received / 1e6:,.1f} MB received in "
        f"{seconds:.1f}s, {received / 1e6 / max(seconds, 1e-9):,.1f} MB/s{resumed}, {done['retries']} retries)"
    )
    return 0


def sql(warehouse: Path, query: str | None, query_file: Path | None, output_format: str, out: Path | None,
        max_rows: int, aact_dialect: bool) -> int:
    """Run a query or script on a read-only connection; print (or write to `out`) the rows of its
    last query. With `aact_dialect`, the script is PostgreSQL written for AACT."""
    import duckdb

    from pipeline.warehouse import aact

    if (query is None) == (query_file is None):
        print("trials sql: give a query or --file FILE (not both)", file=sys.stderr)
        return 2
    if output_format == "parquet" and out is None:
        print("trials sql: --format parquet needs --out FILE", file=sys.stderr)
        return 2
    if query_file is not None:
        try:
            query = sys.stdin.read() if str(query_file) == "-" else query_file.read_text(encoding="utf-8")
        except OSError as error:
            print(f"trials sql: cannot read {query_file}: {error.strerror}", file=sys.stderr)
            return 2
    if not warehouse.exists():
        print(f"trials sql: no warehouse at {warehouse}; run `trials build` first", file=sys.stderr)
        return 2
    try:
        with aact.connect(warehouse) if aact_dialect else duckdb.connect(str(warehouse), read_only=True) as con:
            statements = aact.translate_postgres(query) if aact_dialect else aact.split_duckdb(query)
            last_query = aact.run_statements(con, statements)
            if last_query is not None:
                _write_result(con, statements[last_query], output_format, out, max_rows)
                for statement in statements[last_query + 1:]:
                    aact.execute(con, statement)
    except duckdb.Error as error:
        print(f"trials sql: {_one_line(error)}", file=sys.stderr)
        return 1
    return 0


def _write_result(con, statement, output_format: str, out: Path | None, max_rows: int) -> None:
    from pipeline.warehouse import aact, sql_output

    if output_format in ("csv", "json"):
        with sql_output.open_output(out) as stream:
            sql_output.write_rows(aact.execute(con, statement), output_format, stream)
        return
    relation = aact.relation(con, statement)
    if output_format == "parquet":
        sql_output.write_parquet(relation, out)
    else:
        with sql_output.open_output(out) as stream:
            sql_output.write_table(relation, max_rows, stream)


def _one_line(error: Exception) -> str:
    """DuckDB's message without the echo of the query and its caret line that follow it."""
    lines = []
    for line in str(error).splitlines():
        if line.startswith("LINE "):
            break
        if line.strip():
            lines.append(line.strip())
    return " ".join(lines)


def docs() -> int:
    from pipeline.warehouse.dictionary import write_data_dictionary

    print(f"wrote {write_data_dictionary()}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="trials", description="ClinicalTrials.gov study documents into a DuckDB warehouse.")
    commands = parser.add_subparsers(dest="command", required=True)

    build_parser = commands.add_parser("build", help="build the warehouse from the raw folder (the Dagster job, in-process)")
    build_parser.add_argument("--raw-dir", type=Path, default=Path(DEFAULT_RAW_DIR))
    build_parser.add_argument("--warehouse", type=Path, default=Path(DEFAULT_WAREHOUSE))
    build_parser.add_argument("--full", action="store_true", help="read every document again (default: only new and changed ones)")
    build_parser.add_argument("--wait", type=float, default=0.0, metavar="SECONDS",
                              help="wait this long for a build already running on the warehouse (default: exit at once)")
    build_parser.add_argument("--stats-json", type=Path, metavar="PATH", help="write the build's counts and stage timings here")

    export_parser = commands.add_parser("export", help="write one zstd Parquet file per table and model, with a manifest")
    export_parser.add_argument("--warehouse", type=Path, default=Path(DEFAULT_WAREHOUSE))
    export_parser.add_argument("--out", type=Path, default=Path(DEFAULT_EXPORT_DIR))
    export_parser.add_argument("--tables", nargs="+", metavar="TABLE", help="only these tables or models")

    fetch_parser = commands.add_parser("fetch", help="download studies updated since the last fetch from the ClinicalTrials.gov API")
    fetch_parser.add_argument("--since", metavar="DATE", help="first LastUpdatePostDate (YYYY-MM-DD); default: last fetch minus a few days")
    fetch_parser.add_argument("--base-url", default="https://clinicaltrials.gov")
    fetch_parser.add_argument("--raw-dir", type=Path, default=Path(DEFAULT_RAW_DIR))
    fetch_parser.add_argument("--max-requests-per-second", type=float, default=3.0)

    download_parser = commands.add_parser(
        "download", help="download the registry's bulk archive of every study into the raw folder (resumes, skips if unchanged)"
    )
    download_parser.add_argument("--raw-dir", type=Path, default=Path(DEFAULT_RAW_DIR))
    download_parser.add_argument("--base-url", default="https://clinicaltrials.gov")
    download_parser.add_argument("--max-requests-per-second", type=float, default=3.0)

    sql_parser = commands.add_parser("sql", help="run a query or script on a read-only connection and print its last query's rows")
    sql_parser.add_argument("query", nargs="?", help="the SQL (or use --file)")
    sql_parser.add_argument("--file", type=Path, metavar="FILE", help="read the SQL from FILE (- for standard input)")
    sql_parser.add_argument("--warehouse", type=Path, default=Path(DEFAULT_WAREHOUSE))
    sql_parser.add_argument("--format", choices=("table", "csv", "json", "parquet"), default="table",
                            help="table (default), csv, json (an array of objects) or parquet (needs --out)")
    sql_parser.add_argument("--out", type=Path, metavar="FILE", help="write the rows to FILE instead of standard output")
    sql_parser.add_argument("--max-rows", type=int, default=40, help="rows shown by --format table")
    sql_parser.add_argument("--aact", action="store_true",
                            help="the SQL is PostgreSQL written for AACT: translated to DuckDB, run with search path ctgov, main")

    commands.add_parser("docs", help="regenerate docs/data-dictionary.md from the mapping and the SQL model headers")

    args = parser.parse_args(argv)
    try:
        return _command(args)
    except InstanceUnavailable as error:
        print(f"trials {args.command}: {error}", file=sys.stderr)
        return 2


def _command(args: argparse.Namespace) -> int:
    if args.command == "build":
        return build(args.raw_dir, args.warehouse, args.full, args.wait, args.stats_json)
    if args.command == "export":
        return export(args.warehouse, args.out, args.tables)
    if args.command == "download":
        return download(args.raw_dir, args.base_url, args.max_requests_per_second)
    if args.command == "fetch":
        return fetch(args.raw_dir, args.since, args.base_url, args.max_requests_per_second)
    if args.command == "sql":
        return sql(args.warehouse, args.query, args.file, args.format, args.out, args.max_rows, args.aact)
    return docs()


def run() -> None:
    """The `trials` command: `main`, then an exit that skips the interpreter's teardown.

    When `main` returns, every file is written and closed and every worker process has exited.
    A normal exit would then spend 0.3-0.5 s in the cyclic collector, walking the 200,000-odd
    objects that Dagster, polars and DuckDB leave behind: a sixth of a refresh that finds nothing
    to do. The atexit handlers still run (logging, multiprocessing, temporary directories); only
    the freeing of memory the process is about to give back is skipped.
    """
    code = main()
    run_exit_handlers = getattr(atexit, "_run_exitfuncs", None)
    if run_exit_handlers is None:  # not CPython: exit the ordinary way
        sys.exit(code)
    run_exit_handlers()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe or stream: nothing more can reach it
            pass
    os._exit(code)


if __name__ == "__main__":
    run()
