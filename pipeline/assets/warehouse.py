"""The warehouse build as one Dagster step that materializes every table and SQL model.

One step, because the build writes a private staging file and publishes it with an atomic rename:
tables and models must land in the same file before it is published, and DuckDB allows a single
writer per file. Each table and model is still its own asset, with its lineage, row counts and
column schema (tables' from the mapping, models' as built).

Selecting some of them (`dagster asset materialize --select studies`) runs the whole step, since
nothing less can be published, and records every table and model it rebuilt. A build that finds
nothing to do records no materialization, only an observation of `build_info` saying so.
"""
import dagster as dg

from pipeline.assets.progress import byte_progress
from pipeline.resources import RawFolder, Warehouse
from pipeline.tables import schema
from pipeline.warehouse.build import BuildResult, build
from pipeline.warehouse.files import BuildLocked
from pipeline.warehouse.load import LOADED_TABLES
from pipeline.warehouse.models import SQL_DIR, Model, discover_models

FETCH_ASSET = "ctgov_api_studies"
BULK_ASSET = "ctgov_bulk_studies"
WAREHOUSE_TABLES = (schema.DOCUMENTS, *LOADED_TABLES, *schema.HISTORY_TABLES, schema.BUILD_INFO)
SQL_MODELS = discover_models()
AACT_SCHEMA = "ctgov"
AACT_VIEWS = discover_models(schema=AACT_SCHEMA)


class BuildConfig(dg.Config):
    full: bool = False
    """Read every document again instead of only the new and changed ones."""
    wait_seconds: float = 0.0
    """How long to wait for another build that holds the warehouse before giving up."""


def column_schema(columns: list[tuple[str, str]], descriptions: dict[str, str]) -> dg.TableSchema:
    return dg.TableSchema(
        columns=[dg.TableColumn(name, data_type, description=descriptions.get(name)) for name, data_type in columns]
    )


def _table_spec(table: schema.Table) -> dg.AssetSpec:
    deps = [FETCH_ASSET, BULK_ASSET] if table is schema.DOCUMENTS else ["documents"]
    return dg.AssetSpec(
        table.name, deps=deps, description=table.comment, group_name="warehouse", kinds={"duckdb", "polars"},
        metadata={
            "dagster/column_schema": column_schema([(c.name, c.type) for c in table.columns], {c.name: c.description for c in table.columns}),
            "key": ", ".join(table.key),
        },
        skippable=True,
    )


def _model_spec(model: Model) -> dg.AssetSpec:
    return dg.AssetSpec(
        model.name,
        deps=[dg.AssetKey(name) for name in model.reads],
        description=model.comment,
        group_name="models",
        kinds={"duckdb", "sql"},
        metadata={"sql_file": model.path.relative_to(SQL_DIR.parent).as_posix()},
        skippable=True,
    )


def _aact_schema_spec() -> dg.AssetSpec:
    # One asset for the whole schema, not one per view: views store nothing, and fifty more
    # assets would cost every cold start of the definitions.
    reads = sorted({name for view in AACT_VIEWS for name in view.reads if "." not in name})
    return dg.AssetSpec(
        AACT_SCHEMA,
        deps=[dg.AssetKey(name) for name in reads],
        description=(
            "AACT's ctgov schema laid over the warehouse: one view per AACT table, with AACT's names, column order, "
            "value conventions and integer ids, so SQL written for AACT runs unchanged (`trials sql --aact`). "
            "Grain: one view per AACT table."
        ),
        group_name="aact",
        kinds={"duckdb", "sql"},
        metadata={"sql_folder": f"sql/{AACT_SCHEMA}", "views": [v.name for v in AACT_VIEWS if v.is_view]},
        skippable=True,
    )


@dg.multi_asset(
    name="warehouse_build",
    specs=[_table_spec(t) for t in WAREHOUSE_TABLES] + [_model_spec(m) for m in SQL_MODELS] + [_aact_schema_spec()],
    # Any selection runs the whole build (see the module docstring).
    can_subset=True,
)
def warehouse_build(context: dg.AssetExecutionContext, config: BuildConfig, raw_folder: RawFolder, warehouse: Warehouse):
    """Bring the warehouse up to date with the raw folder (incrementally unless `full`), and publish it."""
    try:
        with byte_progress("reading documents", context.log.info) as progress:
            result = build(raw_folder.directory, warehouse.file, full=config.full, wait_seconds=config.wait_seconds,
                           advance=progress.advance, on_total_bytes=progress.set_total)
    except BuildLocked as locked:
        # Expected when a scheduled and a manual build overlap: say so plainly, no traceback.
        raise dg.Failure(description=str(locked), allow_retries=False) from None
    context.log.info(describe(result))
    if result.kind == "up_to_date":
        context.log_event(dg.AssetObservation(asset_key=schema.BUILD_INFO.name, metadata={
            "build_kind": result.kind, "reason": result.reason, "stage_seconds": _rounded(result.stage_seconds),
        }))
        return
    if result.load.n_rejected:
        context.log.warning(f"{result.load.n_rejected} documents or records were rejected: see the ingest_errors table")
    selected = context.selected_asset_keys
    for key, metadata in _materializations(result):
        if dg.AssetKey(key) in selected:
            yield dg.MaterializeResult(asset_key=key, metadata=metadata)
        else:
            context.log_event(dg.AssetMaterialization(asset_key=key, metadata=metadata))


def describe(result: BuildResult) -> str:
    if result.kind == "up_to_date":
        return f"{result.warehouse} is up to date: {result.reason}"
    load = result.load
    return (
        f"{result.kind} build of {result.warehouse}: {load.n_studies} studies from {load.n_documents} documents "
        f"({load.n_documents_read} read), {load.n_studies_written} studies written, {load.n_studies_dropped} dropped, "
        f"{load.n_rejected} rejected (see ingest_errors), {load.n_superseded} superseded, "
        f"{result.n_new_versions} new study versions"
    )


def _rounded(seconds: dict[str, float]) -> dict[str, float]:
    return {name: round(value, 3) for name, value in seconds.items()}


def _materializations(result: BuildResult):
    """(asset key, metadata) of every table, model and the ctgov schema a build rebuilt."""
    common = {"build_kind": result.kind}
    row_counts = dict(result.load.row_counts)
    for table in WAREHOUSE_TABLES:
        metadata = dict(common)
        if table.name in row_counts:
            metadata["dagster/row_count"] = row_counts[table.name]
        if table is schema.STUDIES:
            load = result.load
            metadata.update(n_documents=load.n_documents, n_documents_read=load.n_documents_read,
                            n_studies_written=load.n_studies_written, n_studies_dropped=load.n_studies_dropped,
                            n_rejected=load.n_rejected, n_superseded=load.n_superseded)
        if table is schema.STUDY_VERSIONS:
            metadata["n_new_versions"] = result.n_new_versions
        if table is schema.BUILD_INFO:
            metadata["stage_seconds"] = _rounded(result.stage_seconds)
        yield table.name, metadata
    for model in SQL_MODELS:
        metadata = dict(common)
        if result.model_row_counts.get(model.name) is not None:
            metadata["dagster/row_count"] = result.model_row_counts[model.name]
        if model.name in result.model_columns:
            metadata["dagster/column_schema"] = column_schema(result.model_columns[model.name], model.column_descriptions)
        yield model.name, metadata
    yield AACT_SCHEMA, {**common, "n_views": sum(v.is_view for v in AACT_VIEWS)}
