"""SQL models: one SELECT per file in `sql/`, named after the table it builds.

Each file opens with a header comment that documents it, and that becomes the Dagster asset
description, the DuckDB table comment and the data dictionary entry:

    -- Purpose: what the model is for (may continue on further '--' lines).
    -- Grain: one row per <thing>.
    -- Columns:
    --   column_name: what it holds.

Files under `sql/macros/` are table macros instead: the body is a SELECT over the macro's
parameters, named in a `-- Parameters: term` header line. A file with a `Parameters` line whose
body is an expression, not a SELECT, is a scalar macro.

Files under `sql/<schema>/` for a schema in `VIEW_SCHEMAS` (`sql/ctgov/`: AACT's schema laid over
the warehouse) are views in that schema, not tables: they store nothing. Their SQL names the
warehouse's tables as `main.<table>` and the schema's other views as `<schema>.<view>`, because
inside a view DuckDB looks a bare name up in the view's own schema first.

What a model reads is derived from its SQL with sqlglot, so a new file needs no Python edit.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from graphlib import TopologicalSorter
from pathlib import Path

import sqlglot
from sqlglot import exp
from sqlglot.optimizer.scope import traverse_scope

from pipeline.warehouse.ddl import quote_identifier, quote_literal
from pipeline.warehouse.queries import scalar

SQL_DIR = Path(__file__).resolve().parents[2] / "sql"
MAIN_SCHEMA = "main"
VIEW_SCHEMAS = ("ctgov",)
HEADER_LINE = re.compile(r"^--\s?(.*)$")
COLUMN_LINE = re.compile(r"^\s+([A-Za-z_][A-Za-z0-9_]*):\s*(.+)$")


@dataclass(frozen=True)
class Model:
    name: str
    path: Path
    purpose: str
    grain: str
    column_descriptions: dict[str, str]
    select_sql: str
    parameters: tuple[str, ...] = ()  # set for macros
    schema: str = MAIN_SCHEMA

    @property
    def is_macro(self) -> bool:
        return bool(self.parameters) or self.path.parent.name == "macros"

    @property
    def is_scalar_macro(self) -> bool:
        return self.is_macro and not re.match(r"(select|with)\b", self.select_sql, re.IGNORECASE)

    @property
    def is_view(self) -> bool:
        return self.schema != MAIN_SCHEMA and not self.is_macro

    @property
    def qualified_name(self) -> str:
        name = quote_identifier(self.name)
        return name if self.schema == MAIN_SCHEMA else f"{quote_identifier(self.schema)}.{name}"

    @property
    def comment(self) -> str:
        return f"{self.purpose} Grain: {self.grain}."

    @property
    def reads(self) -> tuple[str, ...]:
        """Tables and models this model's SQL reads, excluding its own CTEs."""
        return tables_read(self.select_sql)

    def create_sql(self) -> str:
        if self.is_macro:
            kind = "" if self.is_scalar_macro else " table"
            return f"create or replace macro {self.qualified_name}({', '.join(self.parameters)}) as{kind}\n{self.select_sql}"
        kind = "view" if self.is_view else "table"
        return f"create or replace {kind} {self.qualified_name} as\n{self.select_sql}"

    def comment_sql(self) -> list[str]:
        if self.is_macro:
            return []  # DuckDB has no comments on macros; the header documents it in the data dictionary
        name = self.qualified_name
        statements = [f"comment on {'view' if self.is_view else 'table'} {name} is {quote_literal(self.comment)}"]
        statements += [
            f"comment on column {name}.{quote_identifier(column)} is {quote_literal(text)}"
            for column, text in self.column_descriptions.items()
        ]
        return statements


def parse_model(path: Path) -> Model:
    text = path.read_text()
    header: list[str] = []
    body_start = 0
    lines = text.splitlines()
    for i, line in enumerate(lines):
        match = HEADER_LINE.match(line)
        if not match:
            body_start = i
            break
        header.append(match.group(1))
    sections: dict[str, list[str]] = {}
    current = None
    for line in header:
        label, sep, rest = line.partition(":")
        if sep and label in ("Purpose", "Grain", "Columns", "Parameters"):
            current = label
            sections[current] = [rest.strip()] if rest.strip() else []
        elif current:
            sections[current].append(line)
    columns = {}
    for line in sections.get("Columns", []):
        match = COLUMN_LINE.match(line)
        if match:
            columns[match.group(1)] = match.group(2).strip()
        elif columns and line.strip():
            last = next(reversed(columns))
            columns[last] += " " + line.strip()
    purpose = " ".join(part.strip() for part in sections.get("Purpose", [])).strip()
    grain = " ".join(part.strip() for part in sections.get("Grain", [])).strip().rstrip(".")
    if not purpose or not grain:
        raise ValueError(f"{path}: the header must state a Purpose and a Grain")
    parameters = tuple(p.strip() for p in " ".join(sections.get("Parameters", [])).split(",") if p.strip())
    select_sql = "\n".join(lines[body_start:]).strip().rstrip(";")
    schema = path.parent.name if path.parent.name in VIEW_SCHEMAS else MAIN_SCHEMA
    return Model(path.stem, path, purpose, grain, columns, select_sql, parameters, schema)


@cache  # the definitions ask for each model's reads more than once while they load, and parsing is the slow part
def tables_read(select_sql: str) -> tuple[str, ...]:
    # Scopes resolve each FROM to a CTE or a real table, so an import CTE that shares its
    # table's name (`with studies as (select * from studies)`) still counts as reading it.
    # A relation of another schema keeps its schema (`ctgov.design_groups`); `main.x` is `x`.
    tree = sqlglot.parse_one(select_sql, dialect="duckdb")
    names = {
        source.name if source.db in ("", MAIN_SCHEMA) else f"{source.db}.{source.name}"
        for scope in traverse_scope(tree)
        for source in scope.sources.values()
        if isinstance(source, exp.Table) and source.name
    }
    return tuple(sorted(names))


@cache
def discover_models(sql_dir: Path = SQL_DIR, schema: str = MAIN_SCHEMA) -> tuple[Model, ...]:
    """Every model of `schema` under sql/ (the main schema's tables and macros, or the views of
    `sql/<schema>/`), in an order where each model comes after what it reads and a schema's scalar
    macros come first (a view calls them, which sqlglot does not count as reading)."""
    paths = sorted(sql_dir.rglob("*.sql"))
    models = {m.name: m for m in map(parse_model, paths) if m.schema == schema}
    prefix = "" if schema == MAIN_SCHEMA else f"{schema}."
    macros = [name for name, model in models.items() if model.is_scalar_macro]
    graph = {
        name: [d.removeprefix(prefix) for d in model.reads if d.removeprefix(prefix) in models and d.startswith(prefix)]
        + ([] if model.is_scalar_macro else macros)
        for name, model in models.items()
    }
    return tuple(models[name] for name in TopologicalSorter(graph).static_order())


def materialize(con, model: Model) -> int | None:
    """Build the model's table, view or macro in the warehouse; returns its row count for tables
    (a view's rows are computed when it is read, so counting them would run it)."""
    if model.schema != MAIN_SCHEMA:
        con.execute(f"create schema if not exists {quote_identifier(model.schema)}")
    con.execute(model.create_sql())
    for statement in model.comment_sql():
        con.execute(statement)
    if model.is_macro or model.is_view:
        return None
    return scalar(con, f"select count(*) from {model.qualified_name}")
