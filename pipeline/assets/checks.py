"""Asset checks on the published warehouse: keys, orphans, links, rejected input, and freshness.

They open the published file read-only, like an analyst, so they check what analysts see.
"""
import datetime as dt

import dagster as dg

from pipeline.resources import Warehouse
from pipeline.tables import schema
from pipeline.warehouse.ddl import quote_identifier
from pipeline.warehouse.files import WarehouseFiles, read_check
from pipeline.warehouse.load import LOADED_TABLES
from pipeline.warehouse.queries import one_row, scalar

KEYED_TABLES = (schema.DOCUMENTS, *LOADED_TABLES, schema.STUDY_VERSIONS)
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
    specs=[dg.AssetCheckSpec("unique_key", asset=t.name, description=f"({', '.join(t.key)}) is unique and never null.") for t in KEYED_TABLES]
    + [dg.AssetCheckSpec("nct_id_in_studies", asset=t.name, description="Every nct_id has a row in studies.") for t in CHILD_TABLES]
    + [
        dg.AssetCheckSpec("links_resolve", asset="arm_interventions", description="Every link points to an existing arm and intervention of its study."),
        dg.AssetCheckSpec("no_rejected_documents", asset="ingest_errors", description="No document or record was rejected (warns)."),
    ],
    can_subset=True,
)
def warehouse_checks(context: dg.AssetCheckExecutionContext, warehouse: Warehouse):
    with warehouse.read_only() as con:
        for table in KEYED_TABLES:
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


def last_confirmed_at(warehouse: Warehouse, built_at: dt.datetime, sources_hash: str) -> dt.datetime:
    """When the published build was last known to match the raw folder: its build, or a later
    refresh that found nothing to do."""
    check = read_check(WarehouseFiles(warehouse.file))
    if check and check.get("sources_hash") == sources_hash:
        checked_at = dt.datetime.fromisoformat(check["checked_at"]).astimezone(dt.timezone.utc).replace(tzinfo=None)
        return max(built_at, checked_at)
    return built_at


@dg.asset_check(
    asset="build_info",
    name="warehouse_is_fresh",
    description="Warns when the last successful refresh is older than the warehouse resource's max_age_hours (TRIALS_MAX_AGE_HOURS).",
)
def warehouse_is_fresh(warehouse: Warehouse) -> dg.AssetCheckResult:
    with warehouse.read_only() as con:
        built_at, kind, sources_hash, n_documents, raw_folder = one_row(
            con, "select built_at, build_kind, sources_hash, n_documents, raw_folder from build_info"
        )
    confirmed_at = last_confirmed_at(warehouse, built_at, sources_hash)
    age_hours = (dt.datetime.now(dt.timezone.utc).replace(tzinfo=None) - confirmed_at).total_seconds() / 3600
    return dg.AssetCheckResult(
        passed=age_hours <= warehouse.max_age_hours,
        severity=dg.AssetCheckSeverity.WARN,
        description=f"last refreshed {age_hours:.1f} h ago (limit {warehouse.max_age_hours:g} h)",
        metadata={
            "built_at": built_at.isoformat(), "last_confirmed_at": confirmed_at.isoformat(), "age_hours": round(age_hours, 2),
            "max_age_hours": warehouse.max_age_hours, "build_kind": kind, "sources_hash": sources_hash,
            "n_documents": n_documents, "raw_folder": raw_folder,
        },
    )
