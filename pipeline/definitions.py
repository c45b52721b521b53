"""Dagster definitions: wiring only. `trials build`, `trials export` and `trials download` run these jobs in-process."""
import dagster as dg

from pipeline.assets.checks import warehouse_checks, warehouse_is_fresh
from pipeline.assets.export import parquet_export
from pipeline.assets.fetch import ctgov_api_studies, ctgov_bulk_studies
from pipeline.assets.warehouse import warehouse_build
from pipeline.automation import daily_warehouse_refresh, raw_folder_sensor
from pipeline.resources import default_resources

BUILD_JOB_NAME = "build_warehouse"
EXPORT_JOB_NAME = "export_parquet"
FETCH_JOB_NAME = "fetch_ctgov_api"
DOWNLOAD_JOB_NAME = "download_ctgov_bulk"

# The build is one step writing one staging file, so the job runs in-process: no step processes
# to start, and nothing else ever writes to the warehouse.
build_warehouse = dg.define_asset_job(
    BUILD_JOB_NAME,
    selection=dg.AssetSelection.assets(warehouse_build),
    description="Refresh everything: read new and changed documents, update the tables and history, rebuild the SQL models, publish.",
    executor_def=dg.in_process_executor,
    # For a run-concurrency limit in dagster.yaml (README): builds queue instead of meeting the build lock.
    tags={"trials/warehouse": "writer"},
)
export_job = dg.define_asset_job(
    EXPORT_JOB_NAME,
    selection=dg.AssetSelection.assets(parquet_export),
    description="Write the Parquet export of every table and model.",
    executor_def=dg.in_process_executor,
)

fetch_job = dg.define_asset_job(
    FETCH_JOB_NAME,
    selection=dg.AssetSelection.assets(ctgov_api_studies),
    description="Download the studies ClinicalTrials.gov updated since the last successful fetch into the raw folder.",
    executor_def=dg.in_process_executor,
)

download_job = dg.define_asset_job(
    DOWNLOAD_JOB_NAME,
    selection=dg.AssetSelection.assets(ctgov_bulk_studies),
    description="Download the registry's bulk archive of every study into the raw folder, resuming a cut transfer; nothing when unchanged.",
    executor_def=dg.in_process_executor,
)

defs = dg.Definitions(
    assets=[ctgov_api_studies, ctgov_bulk_studies, warehouse_build, parquet_export],
    asset_checks=[warehouse_checks, warehouse_is_fresh],
    jobs=[build_warehouse, export_job, fetch_job, download_job],
    schedules=[daily_warehouse_refresh],
    sensors=[raw_folder_sensor],
    resources=default_resources(),
    # Also for ad-hoc `dagster asset materialize` and UI launches: a process per step would pay
    # Dagster's start-up each time, and only one process may write the warehouse anyway.
    executor=dg.in_process_executor,
)
