"""Study history: every version of every study the warehouse has loaded, in a file of its own.

The warehouse file is rebuildable from the raw folder; history is not (an old version is gone once
its document is replaced). So history lives beside the warehouse, and each build records the
versions it loaded there and then copies the whole history into the warehouse, where
study_versions and the study_changes model serve analysts.

A version becomes current when a build first loads it (study_versions.first_seen_at), and again
when a newer one leaves the raw folder and it is the newest left: such returns are recorded in
study_version_returns, so that the history's last step is always the version the warehouse holds.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from pipeline.tables import schema
from pipeline.warehouse.ddl import create_tables, create_table_sql, one_transaction, quote_literal
from pipeline.warehouse.queries import scalar

HISTORY_ALIAS = "history"

# The tracked fields of the current version of each study, read from the freshly loaded tables.
CURRENT_VERSIONS_SQL = """
select s.nct_id, r.record_hash, s.last_update_post_date, s.last_update_post_date_raw,
       $seen_at as first_seen_at, $seen_at as last_seen_at, r.document_path as source_document,
       s.overall_status, s.enrollment, s.enrollment_type,
       s.start_date_raw, s.start_date_type,
       s.primary_completion_date_raw, s.primary_completion_date_type,
       s.completion_date_raw, s.completion_date_type,
       s.phases, coalesce(site_counts.n_sites, 0)::integer as n_sites, s.has_results
from studies s
join study_records r on r.nct_id = s.nct_id and r.is_current
left join (select nct_id, count(*) as n_sites from sites group by nct_id) site_counts on site_counts.nct_id = s.nct_id
"""

# Current versions that were loaded before but are not the version that was current last: the
# study stepped back to them. Run before the new versions are added, which are never returns.
RETURNED_VERSIONS_SQL = f"""
with became_current as (
    select nct_id, record_hash, first_seen_at as current_since from {HISTORY_ALIAS}.study_versions
    union all
    select nct_id, record_hash, returned_at from {HISTORY_ALIAS}.study_version_returns
),
last_current as (
    select nct_id, arg_max(record_hash, current_since) as record_hash from became_current group by nct_id
)
select r.nct_id, r.record_hash, $seen_at as returned_at
from study_records r
join last_current l on l.nct_id = r.nct_id and l.record_hash <> r.record_hash
where r.is_current
  and exists (select 1 from {HISTORY_ALIAS}.study_versions v where v.nct_id = r.nct_id and v.record_hash = r.record_hash)
"""


def record_versions(con, history_file: Path, seen_at: dt.datetime) -> int:
    """Add the versions this build loaded to the history file, then copy the history into the
    warehouse being built. Returns how many versions were new."""
    con.execute(f"attach {quote_literal(str(history_file))} as {HISTORY_ALIAS}")
    try:
        # A history file from before a table existed gets it empty: no past returns were recorded.
        for table in schema.HISTORY_TABLES:
            con.execute(create_table_sql(table, schema_name=HISTORY_ALIAS, if_not_exists=True))
        # One transaction per file: DuckDB writes to one attached database per transaction.
        with one_transaction(con):
            con.execute(f"insert into {HISTORY_ALIAS}.study_version_returns {RETURNED_VERSIONS_SQL}", {"seen_at": seen_at})
            con.execute(
                f"""
                insert into {HISTORY_ALIAS}.study_versions
                select * from ({CURRENT_VERSIONS_SQL}) current
                where not exists (select 1 from {HISTORY_ALIAS}.study_versions v
                                  where v.nct_id = current.nct_id and v.record_hash = current.record_hash)
                """,
                {"seen_at": seen_at},
            )
            n_new = scalar(con, f"select count(*) from {HISTORY_ALIAS}.study_versions where first_seen_at = $1", [seen_at])
            con.execute(
                f"""
                update {HISTORY_ALIAS}.study_versions v set last_seen_at = $seen_at
                from study_records r where r.is_current and v.nct_id = r.nct_id and v.record_hash = r.record_hash
                """,
                {"seen_at": seen_at},
            )
        create_tables(con, schema.HISTORY_TABLES)
        for table in schema.HISTORY_TABLES:
            con.execute(f"insert into {table.name} select * from {HISTORY_ALIAS}.{table.name}")
    finally:
        con.execute(f"detach {HISTORY_ALIAS}")
    return n_new
