"""The Parquet export for notebooks, downstream of every table and model."""
import dagster as dg

from pipeline.assets.warehouse import SQL_MODELS, WAREHOUSE_TABLES
from pipeline.resources import ExportFolder, Warehouse
from pipeline.warehouse.export import export_parquet


@dg.asset(
    name="parquet_export",
    group_name="export",
    deps=[*(t.name for t in WAREHOUSE_TABLES), *(m.name for m in SQL_MODELS if not m.is_macro)],
    description="One zstd Parquet file per warehouse table and model, with manifest.json (row counts, build time, sources hash). Grain: one file per table.",
    kinds={"parquet"},
)
def parquet_export(export_folder: ExportFolder, warehouse: Warehouse) -> dg.MaterializeResult:
    # Read-only, so exporting never waits on (or blocks) a build or analysts' connections.
    with warehouse.read_only() as con:
        manifest = export_parquet(con, export_folder.path)
    return dg.MaterializeResult(
        metadata={
            "n_files": len(manifest["tables"]),
            "total_rows": sum(t["rows"] for t in manifest["tables"].values()),
            "out_dir": export_folder.path,
        }
    )
