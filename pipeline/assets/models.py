"""One asset per SQL model in sql/, its upstream assets derived from the SQL itself."""
import dagster as dg
from dagster_duckdb import DuckDBResource

from pipeline.warehouse.models import SQL_DIR, Model, discover_models, materialize


def model_asset(model: Model) -> dg.AssetsDefinition:
    @dg.asset(
        name=model.name,
        deps=[dg.AssetKey(name) for name in model.reads],
        description=model.comment,
        group_name="models",
        kinds={"duckdb", "sql"},
        metadata={"sql_file": model.path.relative_to(SQL_DIR.parent).as_posix()},
    )
    def build_model(duckdb: DuckDBResource) -> dg.MaterializeResult:
        with duckdb.get_connection() as con:
            row_count = materialize(con, model)
        return dg.MaterializeResult(metadata={} if row_count is None else {"dagster/row_count": row_count})

    return build_model


MODEL_ASSETS = [model_asset(model) for model in discover_models()]
