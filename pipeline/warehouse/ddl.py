"""DDL and COMMENT ON statements, generated from the declarative mapping in `pipeline.tables.schema`."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from pipeline.tables.schema import ALL_TABLES, VIEWS, Column, Table, View


def quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def create_table_sql(table: Table, schema_name: str | None = None, if_not_exists: bool = False) -> str:
    columns = ",\n    ".join(column_sql(c) for c in table.columns)
    name = quote_identifier(table.name) if schema_name is None else f"{quote_identifier(schema_name)}.{quote_identifier(table.name)}"
    create = "create table if not exists" if if_not_exists else "create or replace table"
    return f"{create} {name} (\n    {columns}\n)"


def column_sql(column: Column) -> str:
    """A column's definition. Long free text is stored with zstd: for the text of 600,000
    studies with each row its own, as in the registry, DuckDB's own choice (a dictionary with
    FSST, analysed and built segment by segment) took 2.2 times zstd's CPU to write and 2.4 times
    its disk (every long_text column: 53.5 s and 2,543 MB against 24.3 s and 1,068 MB; the
    eligibility criteria 12.9 s and 580 MB against 6.4 s and 243 MB), for whole-column scans 7%
    slower (`bench/long_text.py`, medians of three)."""
    compression = " using compression zstd" if column.long_text else ""
    return f"{quote_identifier(column.name)} {column.type}{compression}"


def comment_sql(relation: Table | View, kind: str = "table") -> list[str]:
    name = quote_identifier(relation.name)
    statements = [f"comment on {kind} {name} is {quote_literal(relation.comment)}"]
    statements += [
        f"comment on column {name}.{quote_identifier(c.name)} is {quote_literal(c.description)}" for c in relation.columns
    ]
    return statements


def create_view_sql(view: View) -> str:
    return f"create or replace view {quote_identifier(view.name)} as {view.sql.strip()}"


@contextmanager
def one_transaction(con) -> Iterator[None]:
    """The statements run inside, committed together (rolled back if one fails). A statement
    committed on its own writes and syncs the write-ahead log: a full build's 671 CREATE and
    COMMENT statements took 0.38 s one by one against 0.23 s together on an idle disk, 1.7 s
    against 0.2 s while another build was writing (bench/fixed_costs.py)."""
    con.execute("begin")
    try:
        yield
    except BaseException:
        con.execute("rollback")
        raise
    con.execute("commit")


def create_tables(con, tables: tuple[Table, ...] = ALL_TABLES) -> None:
    """(Re)create the given tables empty, with their comments."""
    with one_transaction(con):
        for table in tables:
            con.execute(create_table_sql(table))
            for statement in comment_sql(table):
                con.execute(statement)


def create_views(con, views: tuple[View, ...] = VIEWS) -> None:
    with one_transaction(con):
        for view in views:
            con.execute(create_view_sql(view))
            for statement in comment_sql(view, "view"):
                con.execute(statement)
