"""Dagster definitions: wiring only. `trials build` and `trials export` run these jobs in-process."""
import dagster as dg

from pipeline.assets.checks import warehouse_checks
from pipeline.assets.export import parquet_export
from pipeline.assets.models import MODEL_ASSETS
from pipeline.assets.warehouse import raw_documents, study_tables
from pipeline.resources import default_resources

BUILD_JOB_NAME = "build_warehouse"
EXPORT_JOB_NAME = "export_parquet"

# One DuckDB file allows a single writer, so steps run one after another in one process.
build_warehouse = dg.define_asset_job(
    BUILD_JOB_NAME,
    selection=dg.AssetSelection.all() - dg.AssetSelection.assets(parquet_export),
    description="Build everything: land the raw documents, load the study tables, build the SQL models.",
    executor_def=dg.in_process_executor,
)
export_job = dg.define_asset_job(
    EXPORT_JOB_NAME,
    selection=dg.AssetSelection.assets(parquet_export),
    description="Write the Parquet export of every table and model.",
    executor_def=dg.in_process_executor,
)

defs = dg.Definitions(
    assets=[raw_documents, study_tables, *MODEL_ASSETS, parquet_export],
    asset_checks=[warehouse_checks],
    jobs=[build_warehouse, export_job],
    resources=default_resources(),
)
