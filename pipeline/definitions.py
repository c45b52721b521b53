"""Dagster definitions: wiring only. `trials build` runs the same job in-process."""
from __future__ import annotations

import dagster as dg

from pipeline.assets.checks import warehouse_checks
from pipeline.assets.warehouse import raw_documents, study_tables
from pipeline.resources import default_resources

BUILD_JOB_NAME = "build_warehouse"

build_warehouse = dg.define_asset_job(
    BUILD_JOB_NAME,
    selection=dg.AssetSelection.all(),
    description="Build everything: land the raw documents, load the study tables, run the SQL models.",
    # One DuckDB file allows a single writer, so steps run one after another in one process.
    executor_def=dg.in_process_executor,
)

defs = dg.Definitions(
    assets=[raw_documents, study_tables],
    asset_checks=[warehouse_checks],
    jobs=[build_warehouse],
    resources=default_resources(),
)
