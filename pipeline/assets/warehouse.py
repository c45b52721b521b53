"""Assets that land the raw documents and load them into the warehouse's study tables."""
import dagster as dg
from dagster_duckdb import DuckDBResource

from pipeline.assets.progress import byte_progress
from pipeline.resources import RawFolder
from pipeline.tables import schema
from pipeline.warehouse.load import inventory, load_documents, read_inventory, write_inventory

LOADED_TABLES = schema.STUDY_TABLES + (schema.INGEST_ERRORS, schema.SUPERSEDED_RECORDS, schema.BUILD_INFO)


@dg.asset(
    name="raw_documents",
    group_name="ingest",
    description=f"Inventory of the raw folder, written to the documents table. {schema.DOCUMENTS.comment}",
    kinds={"duckdb"},
)
def raw_documents(context: dg.AssetExecutionContext, raw_folder: RawFolder, duckdb: DuckDBResource) -> dg.MaterializeResult:
    documents = inventory(raw_folder.directory)
    with duckdb.get_connection() as con:
        write_inventory(con, documents)
    context.log.info(f"{len(documents)} documents in {raw_folder.directory}")
    return dg.MaterializeResult(
        metadata={
            "n_documents": len(documents),
            "total_bytes": sum(d.size_bytes for d in documents),
            "raw_folder": str(raw_folder.directory),
        }
    )


@dg.multi_asset(
    name="study_tables",
    group_name="warehouse",
    specs=[
        dg.AssetSpec(table.name, deps=["raw_documents"], description=table.comment, kinds={"duckdb", "polars"})
        for table in LOADED_TABLES
    ],
)
def study_tables(context: dg.AssetExecutionContext, raw_folder: RawFolder, duckdb: DuckDBResource):
    """Read every document, normalize its studies and append them, batch by batch, to the study tables."""
    with duckdb.get_connection() as con:
        documents = read_inventory(con, raw_folder.directory)
        total_bytes = sum(d.size_bytes for d in documents)
        with byte_progress(total_bytes, "loading documents", context.log.info) as advance:
            summary = load_documents(con, raw_folder.directory, documents, advance)
    context.log.info(
        f"{summary.n_studies} studies from {summary.n_documents} documents; "
        f"{summary.n_rejected} rejected, {summary.n_superseded} superseded, {summary.n_unmapped_values} unmapped values"
    )
    if summary.n_rejected:
        context.log.warning(f"{summary.n_rejected} documents or records were rejected: see the ingest_errors table")
    for table in LOADED_TABLES:
        metadata = {"dagster/row_count": summary.row_counts[table.name]}
        if table is schema.STUDIES:
            metadata.update(n_documents=summary.n_documents, n_rejected=summary.n_rejected, n_superseded=summary.n_superseded)
        yield dg.MaterializeResult(asset_key=table.name, metadata=metadata)
