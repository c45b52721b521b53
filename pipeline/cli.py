"""`trials`: the command line. Thin: `build` and `export` run the Dagster jobs in-process, the same
ones `dagster dev` shows; `sql` and `docs` are conveniences around the warehouse."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from pipeline.resources import DEFAULT_EXPORT_DIR, DEFAULT_RAW_DIR, DEFAULT_WAREHOUSE


def _run_job(job_name: str, resources: dict):
    import dagster as dg

    from pipeline.definitions import defs

    return defs.resolve_job_def(job_name).execute_in_process(
        # The command prints its own summary; Dagster's per-event debug lines would bury it.
        run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
        instance=dg.DagsterInstance.ephemeral(),
        resources=resources,
        raise_on_error=False,
    )


def _failure_message(result) -> str:
    failure = next((e for e in result.all_events if e.is_failure), None)
    return failure.message if failure else "see the log above"


def _materialization_metadata(result, asset_name: str) -> dict:
    for event in result.get_asset_materialization_events():
        materialization = event.event_specific_data.materialization
        if materialization.asset_key.to_user_string() == asset_name:
            return {k: v.value for k, v in materialization.metadata.items()}
    return {}


def build(raw_dir: Path, warehouse: Path) -> int:
    from dagster_duckdb import DuckDBResource

    from pipeline.definitions import BUILD_JOB_NAME
    from pipeline.resources import RawFolder

    if not raw_dir.is_dir():
        print(f"trials build: raw folder {raw_dir} does not exist", file=sys.stderr)
        return 2
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    result = _run_job(
        BUILD_JOB_NAME, {"raw_folder": RawFolder(path=str(raw_dir)), "duckdb": DuckDBResource(database=str(warehouse))}
    )
    elapsed = time.perf_counter() - started
    if not result.success:
        print(f"trials build: failed after {elapsed:.1f}s: {_failure_message(result)}", file=sys.stderr)
        return 1
    studies = _materialization_metadata(result, "studies")
    failed_checks = [
        f"{e.asset_check_evaluation_data.asset_key.to_user_string()}:{e.asset_check_evaluation_data.check_name}"
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION" and not e.asset_check_evaluation_data.passed
    ]
    print(
        f"built {warehouse} in {elapsed:.1f}s: {studies['dagster/row_count']} studies from {studies['n_documents']} documents, "
        f"{studies['n_rejected']} rejected (see ingest_errors), {studies['n_superseded']} superseded"
    )
    if failed_checks:
        print(f"checks not passed: {', '.join(failed_checks)}")
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
        from dagster_duckdb import DuckDBResource

        from pipeline.definitions import EXPORT_JOB_NAME
        from pipeline.resources import ExportFolder

        result = _run_job(
            EXPORT_JOB_NAME,
            {"export_folder": ExportFolder(path=str(out_dir)),
             "duckdb": DuckDBResource(database=str(warehouse))},
        )
        if not result.success:
            print(f"trials export: failed: {_failure_message(result)}", file=sys.stderr)
            return 1
        import json

        manifest = json.loads((out_dir / "manifest.json").read_text())
    total = sum(t["rows"] for t in manifest["tables"].values())
    print(f"exported {len(manifest['tables'])} tables ({total} rows) to {out_dir}")
    return 0


def sql(warehouse: Path, query: str, max_rows: int) -> int:
    import duckdb

    if not warehouse.exists():
        print(f"trials sql: no warehouse at {warehouse}; run `trials build` first", file=sys.stderr)
        return 2
    with duckdb.connect(str(warehouse), read_only=True) as con:
        try:
            relation = con.sql(query)
        except duckdb.Error as error:
            print(f"trials sql: {error}", file=sys.stderr)
            return 1
        if relation is None:
            return 0
        relation.show(max_rows=max_rows, max_width=10_000)
    return 0


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

    export_parser = commands.add_parser("export", help="write one zstd Parquet file per table and model, with a manifest")
    export_parser.add_argument("--warehouse", type=Path, default=Path(DEFAULT_WAREHOUSE))
    export_parser.add_argument("--out", type=Path, default=Path(DEFAULT_EXPORT_DIR))
    export_parser.add_argument("--tables", nargs="+", metavar="TABLE", help="only these tables or models")

    sql_parser = commands.add_parser("sql", help="run a query on a read-only connection and print the result")
    sql_parser.add_argument("query")
    sql_parser.add_argument("--warehouse", type=Path, default=Path(DEFAULT_WAREHOUSE))
    sql_parser.add_argument("--max-rows", type=int, default=40)

    commands.add_parser("docs", help="regenerate docs/data-dictionary.md from the mapping and the SQL model headers")

    args = parser.parse_args(argv)
    if args.command == "build":
        return build(args.raw_dir, args.warehouse)
    if args.command == "export":
        return export(args.warehouse, args.out, args.tables)
    if args.command == "sql":
        return sql(args.warehouse, args.query, args.max_rows)
    return docs()


if __name__ == "__main__":
    sys.exit(main())
