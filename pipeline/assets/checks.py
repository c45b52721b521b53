"""Asset checks on the loaded tables: keys, orphans, links, and rejected input."""
import dagster as dg
from dagster_duckdb import DuckDBResource

from pipeline.assets.warehouse import LOADED_TABLES
from pipeline.tables import schema
from pipeline.warehouse.ddl import quote_identifier
from pipeline.warehouse.queries import one_row, scalar

CHILD_TABLES = tuple(t for t in schema.STUDY_TABLES if t is not schema.STUDIES)


def duplicate_key_sql(table: schema.Table) -> str:
    keys = ", ".join(quote_identifier(k) for k in table.key)
    null_keys = " or ".join(f"{quote_identifier(k)} is null" for k in table.key)
    return (
        f"select (select count(*) from (select {keys} from {quote_identifier(table.name)} group by all having count(*) > 1)),"
        f" (select count(*) from {quote_identifier(table.name)} where {null_keys})"
    )


def orphan_sql(table: schema.Table) -> str:
    return (
        f"select count(*) from {quote_identifier(table.name)} c "
        "where not exists (select 1 from studies s where s.nct_id = c.nct_id)"
    )


DANGLING_LINKS_SQL = """
select count(*) from arm_interventions l
where not exists (select 1 from arms a where a.nct_id = l.nct_id and a.arm_position = l.arm_position and a.arm_label is not distinct from l.arm_label)
   or not exists (select 1 from interventions i where i.nct_id = l.nct_id and i.intervention_position = l.intervention_position
                  and i.intervention_name is not distinct from l.intervention_name)
"""

@dg.multi_asset_check(
    specs=[dg.AssetCheckSpec("unique_key", asset=t.name, description=f"({', '.join(t.key)}) is unique and never null.") for t in LOADED_TABLES]
    + [dg.AssetCheckSpec("nct_id_in_studies", asset=t.name, description="Every nct_id has a row in studies.") for t in CHILD_TABLES]
    + [
        dg.AssetCheckSpec("links_resolve", asset="arm_interventions", description="Every link points to an existing arm and intervention of its study."),
        dg.AssetCheckSpec("no_rejected_documents", asset="ingest_errors", description="No document or record was rejected (warns)."),
    ],
    can_subset=True,
)
def warehouse_checks(context: dg.AssetCheckExecutionContext, duckdb: DuckDBResource):
    with duckdb.get_connection() as con:
        for table in LOADED_TABLES:
            key = dg.AssetCheckKey(dg.AssetKey(table.name), "unique_key")
            if key in context.selected_asset_check_keys:
                duplicates, nulls = one_row(con, duplicate_key_sql(table))
                yield dg.AssetCheckResult(
                    asset_key=table.name, check_name="unique_key", passed=duplicates == 0 and nulls == 0,
                    metadata={"duplicate_keys": duplicates, "null_keys": nulls},
                )
        for table in CHILD_TABLES:
            key = dg.AssetCheckKey(dg.AssetKey(table.name), "nct_id_in_studies")
            if key in context.selected_asset_check_keys:
                orphans = scalar(con, orphan_sql(table))
                yield dg.AssetCheckResult(
                    asset_key=table.name, check_name="nct_id_in_studies", passed=orphans == 0, metadata={"orphan_rows": orphans}
                )
        if dg.AssetCheckKey(dg.AssetKey("arm_interventions"), "links_resolve") in context.selected_asset_check_keys:
            dangling = scalar(con, DANGLING_LINKS_SQL)
            yield dg.AssetCheckResult(
                asset_key="arm_interventions", check_name="links_resolve", passed=dangling == 0, metadata={"dangling_links": dangling}
            )
        if dg.AssetCheckKey(dg.AssetKey("ingest_errors"), "no_rejected_documents") in context.selected_asset_check_keys:
            rejected = scalar(con, "select count(*) from ingest_errors")
            yield dg.AssetCheckResult(
                asset_key="ingest_errors", check_name="no_rejected_documents", passed=rejected == 0,
                severity=dg.AssetCheckSeverity.WARN, metadata={"rejected": rejected},
            )
