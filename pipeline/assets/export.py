"""The Parquet export for notebooks, downstream of every table and model."""
import dagster as dg
import duckdb as duckdb_client
from dagster_duckdb import DuckDBResource

from pipeline.assets.warehouse import LOADED_TABLES, raw_documents
from pipeline.resources import ExportFolder
from pipeline.warehouse.export import export_parquet
from pipeline.warehouse.models import discover_models


@dg.asset(
    name="parquet_export",
    group_name="export",
    deps=[raw_documents, *(t.name for t in LOADED_TABLES), *(m.name for m in discover_models() if not m.is_macro)],
    description="One zstd Parquet file per warehouse table and model, with manifest.json (row counts, build time, sources hash). Grain: one file per table.",
    kinds={"parquet"},
)
def parquet_export(export_folder: ExportFolder, duckdb: DuckDBResource) -> dg.MaterializeResult:
    # Read-only, so exporting never waits on (or blocks) analysts' read-only connections.
    with duckdb_client.connect(duckdb.database, read_only=True) as con:
        manifest = export_parquet(con, export_folder.path)
    return dg.MaterializeResult(
        metadata={
            "n_files": len(manifest["tables"]),
            "total_rows": sum(t["rows"] for t in manifest["tables"].values()),
            "out_dir": export_folder.path,
        }
    )
