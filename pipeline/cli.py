"""`trials`: the command line. Thin: `build` runs the Dagster job in-process, the same one `dagster dev` shows."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from pipeline.resources import DEFAULT_RAW_DIR, DEFAULT_WAREHOUSE


def build(raw_dir: Path, warehouse: Path) -> int:
    import dagster as dg
    from dagster_duckdb import DuckDBResource

    from pipeline.definitions import BUILD_JOB_NAME, defs
    from pipeline.resources import RawFolder

    if not raw_dir.is_dir():
        print(f"trials build: raw folder {raw_dir} does not exist", file=sys.stderr)
        return 2
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    job = defs.resolve_job_def(BUILD_JOB_NAME)
    result = job.execute_in_process(
        # The summary below says what matters; Dagster's per-event debug lines would bury it.
        run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
        instance=dg.DagsterInstance.ephemeral(),
        resources={"raw_folder": RawFolder(path=str(raw_dir)), "duckdb": DuckDBResource(database=str(warehouse))},
        raise_on_error=False,
    )
    elapsed = time.perf_counter() - started
    if not result.success:
        failure = next((e for e in result.all_events if e.is_failure), None)
        print(f"trials build: failed after {elapsed:.1f}s: {failure.message if failure else 'see the log above'}", file=sys.stderr)
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


def _materialization_metadata(result, asset_name: str) -> dict:
    for event in result.get_asset_materialization_events():
        materialization = event.event_specific_data.materialization
        if materialization.asset_key.to_user_string() == asset_name:
            return {k: v.value for k, v in materialization.metadata.items()}
    return {}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="trials", description="ClinicalTrials.gov study documents into a DuckDB warehouse.")
    commands = parser.add_subparsers(dest="command", required=True)
    build_parser = commands.add_parser("build", help="build the warehouse from the raw folder (the Dagster job, in-process)")
    build_parser.add_argument("--raw-dir", type=Path, default=Path(DEFAULT_RAW_DIR))
    build_parser.add_argument("--warehouse", type=Path, default=Path(DEFAULT_WAREHOUSE))
    args = parser.parse_args(argv)
    if args.command == "build":
        return build(args.raw_dir, args.warehouse)
    parser.error(f"unknown command {args.command}")
    return 2


if __name__ == "__main__":
    sys.exit(main())
