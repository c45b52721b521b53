"""SQL written for AACT (PostgreSQL, schema `ctgov`), run unchanged on the warehouse.

The warehouse lays AACT's tables over its own as views in the schema `ctgov` (`sql/ctgov/`).
What differs is the dialect: `translate_postgres` turns a PostgreSQL script into DuckDB
statements with sqlglot, and `sql` runs one on a connection whose search path is `ctgov`, then
`main`, as AACT users set theirs. From a notebook:

    from pipeline.warehouse import aact

    con = aact.connect("data/warehouse/trials.duckdb")
    frame = aact.sql(con, "select phase, count(*) from studies group by phase").pl()

Connections are read-only: a query never writes to the warehouse. What a script creates
(`CREATE TABLE`, `CREATE [MATERIALIZED] VIEW`, `SELECT ... INTO`) is made temporary, so it lives
as long as the connection. Statements that tune or maintain a PostgreSQL server (`SET`,
`ANALYZE`, `VACUUM`, `CREATE INDEX`, `REFRESH MATERIALIZED VIEW`, `GRANT`, transactions) do
nothing here and are left out.
"""
from __future__ import annotations

import logging
import re
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import sqlglot
from sqlglot import exp
from sqlglot.dialects.postgres import Postgres
from sqlglot.errors import ParseError
from sqlglot.optimizer.annotate_types import annotate_types
from sqlglot.optimizer.qualify import qualify
from sqlglot.tokens import Tokenizer, TokenType

AACT_SCHEMA = "ctgov"
SEARCH_PATH = f"{AACT_SCHEMA},main"

# Commands that only tune or maintain a PostgreSQL server: nothing to do on a read-only DuckDB file.
SERVER_COMMANDS = {"SET", "RESET", "ANALYZE", "VACUUM", "REFRESH", "GRANT", "REVOKE", "COMMENT", "BEGIN", "START",
                   "COMMIT", "ROLLBACK", "END", "CLUSTER", "REINDEX", "LOCK", "DISCARD", "ALTER"}
# psql's own commands (\timing, \x, \copy ...) are not SQL.
PSQL_META_LINE = re.compile(r"^\s*\\.*$", re.MULTILINE)
# PostgreSQL functions DuckDB has under another name (sqlglot passes them through unchanged).
FUNCTION_RENAMES = {
    "JSON_BUILD_OBJECT": "JSON_OBJECT", "JSONB_BUILD_OBJECT": "JSON_OBJECT", "JSON_BUILD_ARRAY": "JSON_ARRAY",
    "JSONB_BUILD_ARRAY": "JSON_ARRAY",
    "ROW_TO_JSON": "TO_JSON", "ARRAY_TO_JSON": "TO_JSON", "TO_JSONB": "TO_JSON", "EVERY": "BOOL_AND",
    "CLOCK_TIMESTAMP": "NOW", "STATEMENT_TIMESTAMP": "NOW", "TRANSACTION_TIMESTAMP": "NOW", "OCTET_LENGTH": "STRLEN",
}
# to_char's date patterns as strftime's, longest first (PostgreSQL: "Data Type Formatting Functions").
TO_CHAR_PATTERNS = [
    ("FMMonth", "%B"), ("FMDay", "%A"), ("FMDD", "%-d"), ("FMMM", "%-m"), ("FMHH24", "%-H"), ("FMHH12", "%-I"),
    ("Month", "%B"), ("MONTH", "%B"), ("month", "%B"), ("YYYY", "%Y"), ("HH24", "%H"), ("HH12", "%I"), ("Mon", "%b"),
    ("MON", "%b"), ("mon", "%b"), ("Day", "%A"), ("DAY", "%A"), ("day", "%A"), ("DDD", "%j"), ("IW", "%V"), ("WW", "%U"),
    ("YY", "%y"), ("MM", "%m"), ("DD", "%d"), ("Dy", "%a"), ("DY", "%a"), ("HH", "%I"), ("MI", "%M"), ("SS", "%S"),
    ("MS", "%g"), ("US", "%f"), ("AM", "%p"), ("PM", "%p"), ("TZ", "%Z"),
]


class _Postgres(Postgres):
    """PostgreSQL as sqlglot reads it, but keeping to_char's pattern as written: sqlglot maps
    only part of the patterns to strftime, and reads a number pattern as a date one."""

    class Parser(Postgres.Parser):
        FUNCTIONS = {**Postgres.Parser.FUNCTIONS, "TO_CHAR": lambda args: exp.Anonymous(this="TO_CHAR", expressions=args)}


@dataclass(frozen=True)
class Statement:
    """One statement of a script: the DuckDB SQL to run, and the PostgreSQL it came from."""

    duckdb_sql: str
    postgres_sql: str
    returns_rows: bool
    divides: bool = False  # whether it holds a `/`, whose meaning depends on the operands' types


Schema = dict[str, dict[str, dict[str, str]]]  # schema -> table -> column -> type


def translate_postgres(script: str, schema: Schema | None = None) -> list[Statement]:
    """The DuckDB statements for a PostgreSQL script, in order; server housekeeping left out.

    A statement sqlglot cannot parse is kept as written (DuckDB's dialect is close to
    PostgreSQL's, so it often runs as it is). Given the warehouse's column types
    (`warehouse_schema`), a division of two integers stays an integer division, as in PostgreSQL.
    """
    statements = []
    for text in _split_statements(PSQL_META_LINE.sub("", script)):
        try:
            with _quiet_sqlglot():
                tree = sqlglot.parse_one(text, read=_Postgres)
        except ParseError:
            statements.append(Statement(text, text, _looks_like_query(text)))
            continue
        tree = _to_duckdb(tree)
        if tree is not None and schema:
            _keep_integer_division(tree, schema)
        if tree is not None:
            divides = tree.find(exp.Div) is not None
            statements.append(Statement(tree.sql(dialect="duckdb"), text, isinstance(tree, exp.Query), divides))
    return statements


def warehouse_schema(con: duckdb.DuckDBPyConnection) -> Schema:
    """Column types of the warehouse's tables, the ctgov views and the session's temporary tables
    and views (filed under ctgov, where the search path finds them first), for `translate_postgres`."""
    schema: Schema = {}
    for database, schema_name, table, column, type_ in con.execute(
        "select database_name, schema_name, table_name, column_name, data_type from duckdb_columns() "
        f"where (schema_name in ('main', '{AACT_SCHEMA}') and database_name = current_database()) or database_name = 'temp'"
    ).fetchall():
        schema_name = AACT_SCHEMA if database == "temp" else schema_name
        schema.setdefault(schema_name, {}).setdefault(table, {})[column] = type_
    return schema


def split_duckdb(script: str) -> list[Statement]:
    """A DuckDB script's statements, as written (for `trials sql` without --aact)."""
    return [Statement(text, text, _looks_like_query(text)) for text in _split_statements(script, dialect="duckdb")]


def connect(warehouse: str | Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the warehouse that resolves AACT's table names (`ctgov`, then `main`)."""
    con = duckdb.connect(str(warehouse), read_only=True)
    con.execute(f"set search_path = '{SEARCH_PATH}'")
    return con


def run_statements(con: duckdb.DuckDBPyConnection, statements: list[Statement]) -> int | None:
    """Run every statement up to the last one that returns rows, which the caller reads; its
    index is returned (None when no statement returns rows, and then all of them have run).
    The caller runs the statements after it, once it has read the rows."""
    last_query = max((i for i, s in enumerate(statements) if s.returns_rows), default=None)
    for statement in statements[: len(statements) if last_query is None else last_query]:
        execute(con, statement)
    return last_query


def execute(con: duckdb.DuckDBPyConnection, statement: Statement) -> duckdb.DuckDBPyConnection:
    """Run one statement; when the translation fails, the statement as written is tried before giving up."""
    return _with_fallback(con, con.execute, statement)


def relation(con: duckdb.DuckDBPyConnection, statement: Statement) -> duckdb.DuckDBPyRelation:
    """A query statement as a relation (read when it is fetched), with the same fallback as `execute`."""
    return _with_fallback(con, con.sql, statement)


def _with_fallback(con: duckdb.DuckDBPyConnection, run, statement: Statement):
    if statement.divides and statement.duckdb_sql != statement.postgres_sql:
        # Typed now, against the warehouse and whatever the script has created so far.
        statement = next(iter(translate_postgres(statement.postgres_sql, warehouse_schema(con))), statement)
    try:
        return run(statement.duckdb_sql)
    except duckdb.Error as translated_error:
        if statement.postgres_sql == statement.duckdb_sql:
            raise
        try:
            return run(statement.postgres_sql)
        except duckdb.Error:
            raise translated_error from None


def sql(con: duckdb.DuckDBPyConnection, script: str) -> duckdb.DuckDBPyRelation | None:
    """Run a PostgreSQL script written for AACT; returns the relation of its last query (None if
    it has none). Statements after that query run too."""
    statements = translate_postgres(script)
    last_query = run_statements(con, statements)
    if last_query is None:
        return None
    result = relation(con, statements[last_query])
    for statement in statements[last_query + 1:]:
        execute(con, statement)
    return result


@contextmanager
def _quiet_sqlglot():
    # sqlglot warns on the logger when it keeps a statement it cannot parse in full as a
    # Command; the statement then runs as written, which is what the warning would suggest.
    logger = logging.getLogger("sqlglot")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _split_statements(script: str, dialect: str = "postgres") -> list[str]:
    """The script's statements, split at semicolons outside strings, quoted names and comments."""
    try:
        tokens = Tokenizer(dialect=dialect).tokenize(script)
    except Exception:  # sqlglot raises TokenError for an unterminated string: DuckDB will say where
        return [script.strip()] if script.strip() else []
    pieces, start = [], 0
    for token in tokens:
        if token.token_type == TokenType.SEMICOLON:
            pieces.append(script[start:token.start])
            start = token.end + 1
    pieces.append(script[start:])
    return [p.strip() for p in pieces if _has_sql(p)]


def _has_sql(text: str) -> bool:
    return bool(re.sub(r"--[^\n]*|/\*.*?\*/", "", text, flags=re.DOTALL).strip())


def _looks_like_query(text: str) -> bool:
    body = re.sub(r"^(\s*(--[^\n]*\n|/\*.*?\*/))*", "", text, flags=re.DOTALL).lstrip().lower()
    return body.startswith(("select", "with", "values", "table ", "(", "from", "describe", "summarize", "show", "pragma"))


def _to_duckdb(tree: exp.Expression) -> exp.Expression | None:
    """The statement rewritten where PostgreSQL and DuckDB differ beyond what sqlglot's
    transpiler handles; None for a statement that does nothing here."""
    if isinstance(tree, (exp.Set, exp.Transaction, exp.Commit, exp.Rollback, exp.Comment, exp.Analyze, exp.Grant)):
        return None
    if isinstance(tree, exp.Command) and tree.name.upper() in SERVER_COMMANDS:
        return None
    if isinstance(tree, exp.Create):
        kind = (tree.args.get("kind") or "").upper()
        if kind not in ("TABLE", "VIEW"):
            return None  # CREATE INDEX, SCHEMA, FUNCTION, EXTENSION ...: server-side objects
        _make_temporary(tree)
    for select in tree.find_all(exp.Select):  # subqueries' too: an outer query may name their columns
        _name_columns_as_postgres(select)
    if isinstance(tree, exp.Select) and tree.args.get("into"):
        tree = _select_into_as_create(tree)
    if isinstance(tree, exp.Drop) and tree.args.get("materialized"):
        tree.set("materialized", False)
        tree.set("kind", "TABLE")  # the materialized view was made a temporary table
    return tree.transform(_dialect_differences)


def _make_temporary(create: exp.Create) -> None:
    # The connection is read-only: a script's tables and views live in the temporary catalog,
    # and a materialized view is a temporary table (DuckDB has no materialized views).
    properties = create.args.get("properties") or exp.Properties(expressions=[])
    materialized = any(isinstance(p, exp.MaterializedProperty) for p in properties.expressions)
    kept = [p for p in properties.expressions if not isinstance(p, (exp.MaterializedProperty, exp.TemporaryProperty))]
    properties.set("expressions", [exp.TemporaryProperty(), *kept])
    create.set("properties", properties)
    if materialized:
        create.set("kind", "TABLE")


# PostgreSQL names an unnamed result column after its function ("count"), DuckDB after the
# whole expression ("count_star()"): kept for the functions whose PostgreSQL name is certain.
POSTGRES_COLUMN_NAMES = {exp.Count: "count", exp.Sum: "sum", exp.Avg: "avg", exp.Min: "min", exp.Max: "max",
                         exp.Coalesce: "coalesce", exp.Case: "case", exp.WidthBucket: "width_bucket",
                         exp.ToNumber: "to_number"}


def _name_columns_as_postgres(select: exp.Select) -> None:
    for projection in select.expressions:
        name = _postgres_column_name(projection)
        if name:
            projection.replace(exp.alias_(projection.copy(), name, quoted=True))


def _postgres_column_name(expression: exp.Expression) -> str | None:
    if isinstance(expression, (exp.Alias, exp.Column, exp.Star)):
        return None
    if isinstance(expression, (exp.Cast, exp.TryCast)):
        inner = expression.this
        return inner.name if isinstance(inner, exp.Column) else _postgres_column_name(inner)
    if isinstance(expression, exp.Anonymous):
        return expression.name.lower()
    return POSTGRES_COLUMN_NAMES.get(type(expression))


def _keep_integer_division(tree: exp.Expression, schema: Schema) -> None:
    """Make `a / b` of two integers DuckDB's `a // b`: PostgreSQL truncates (7 / 2 is 3), DuckDB's
    `/` does not. The types come from a qualified copy of the statement (which resolves columns
    to tables); a statement whose types can't be worked out keeps its `/`."""
    divisions = list(tree.find_all(exp.Div))
    if not divisions:
        return
    try:
        typed = annotate_types(
            qualify(tree.copy(), schema=schema, db=AACT_SCHEMA, dialect="duckdb", validate_qualify_columns=False,
                    expand_stars=False, quote_identifiers=False),
            schema=schema, dialect="duckdb",
        )
    except Exception:  # sqlglot's optimizer gives up on some statements; keeping `/` is the safe side
        return
    typed_divisions = list(typed.find_all(exp.Div))
    if len(typed_divisions) != len(divisions):
        return
    for division, typed_division in zip(divisions, typed_divisions):
        if typed_division.left.type and typed_division.right.type and all(
            side.type.this in exp.DataType.INTEGER_TYPES for side in (typed_division.left, typed_division.right)
        ):
            division.replace(exp.IntDiv(this=division.left.copy(), expression=division.right.copy()))


def _select_into_as_create(select: exp.Select) -> exp.Create:
    """`SELECT ... INTO [TEMP] t FROM ...` as `CREATE TEMPORARY TABLE t AS SELECT ...`."""
    into = select.args["into"]
    select.set("into", None)
    create = exp.Create(this=into.this, kind="TABLE", expression=select)
    _make_temporary(create)
    return create


def _dialect_differences(node: exp.Expression) -> exp.Expression:
    if isinstance(node, (exp.Like, exp.ILike)):
        return _like_any_to_or(node)
    if isinstance(node, exp.Cast) and node.to.is_type(exp.DataType.Type.ARRAY) and node.this.is_string:
        return exp.cast(_array_literal(node.this.name), node.to)
    if isinstance(node, (exp.Any, exp.All)) and node.this.unnest().is_string:
        return node.__class__(this=_array_literal(node.this.unnest().name))  # = ANY('{a,b}'): the text is an array
    if isinstance(node, exp.Substring) and isinstance(node.args.get("start"), exp.Literal) and node.args["start"].is_string:
        return _regex_substring(node)
    if isinstance(node, exp.JSONArrayAgg) or (isinstance(node, exp.Anonymous) and node.name.upper() == "JSONB_AGG"):
        # DuckDB's json_group_array takes no DISTINCT or ORDER BY; list() takes both.
        values = node.this if isinstance(node, exp.JSONArrayAgg) else node.expressions[0]
        return exp.Anonymous(this="TO_JSON", expressions=[exp.Anonymous(this="LIST", expressions=[values])])
    if isinstance(node, (exp.RegexpLike, exp.RegexpILike, exp.RegexpReplace, exp.RegexpExtract)) and node.expression.is_string:
        node.set("expression", exp.Literal.string(_re2_pattern(node.expression.name)))
        return node
    if isinstance(node, exp.SimilarTo) and node.expression.is_string:
        return exp.Anonymous(this="REGEXP_FULL_MATCH",
                             expressions=[node.this, exp.Literal.string(_similar_to_regex(node.expression.name))])
    if isinstance(node, exp.Anonymous) and node.name.upper() == "TO_CHAR" and len(node.expressions) == 2:
        return _to_char(*node.expressions)
    if isinstance(node, exp.ToNumber):
        # DuckDB has no to_number: the text's digits, point, sign and exponent as a number
        # (the pattern's group separators and currency symbols are what is dropped).
        digits = exp.RegexpReplace(this=node.this, expression=exp.Literal.string(r"[^0-9.eE+-]"),
                                   replacement=exp.Literal.string(""), modifiers=exp.Literal.string("g"))
        return exp.TryCast(this=digits, to=exp.DataType.build("DOUBLE"))
    if isinstance(node, exp.WidthBucket) and node.args.get("min_value") is not None:
        return _width_bucket(node)
    if isinstance(node, exp.Anonymous) and node.name.upper() in FUNCTION_RENAMES:
        return exp.Anonymous(this=FUNCTION_RENAMES[node.name.upper()], expressions=node.expressions)
    return node


def _width_bucket(node: exp.WidthBucket) -> exp.Expression:
    """width_bucket(x, low, high, n) as PostgreSQL computes it (DuckDB has none): 0 below low,
    n + 1 from high up, else the 1-based bucket of n equal ones."""
    value, low, high, count = (node.this, node.args["min_value"], node.args["max_value"], node.args["num_buckets"])
    # The fraction in DOUBLE: PostgreSQL computes it so, and an integer `/` would be kept as integer division.
    fraction = exp.Div(
        this=exp.cast(exp.paren(exp.Sub(this=value.copy(), expression=low.copy())), exp.DataType.build("DOUBLE")),
        expression=exp.paren(exp.Sub(this=high.copy(), expression=low.copy())),
    )
    bucket = exp.Floor(this=exp.Mul(this=fraction, expression=count.copy()))
    return exp.Case(
        ifs=[exp.If(this=exp.LT(this=value.copy(), expression=low.copy()), true=exp.Literal.number(0)),
             exp.If(this=exp.GTE(this=value.copy(), expression=high.copy()),
                    true=exp.Add(this=count.copy(), expression=exp.Literal.number(1)))],
        default=exp.cast(exp.Add(this=bucket, expression=exp.Literal.number(1)), exp.DataType.build("INTEGER")),
    )


def _like_any_to_or(node: exp.Like | exp.ILike) -> exp.Expression:
    """`x LIKE ANY (ARRAY['a%', 'b%'])` as `(x LIKE 'a%' OR x LIKE 'b%')`, and ALL as AND:
    DuckDB has no LIKE over an array, and sqlglot's output drops the ANY."""
    quantifier = node.expression
    if not isinstance(quantifier, (exp.Any, exp.All)):
        return node
    patterns = quantifier.this
    if isinstance(patterns, exp.Paren):
        patterns = patterns.this
    if not isinstance(patterns, exp.Array) or not patterns.expressions:
        return node
    combine = exp.or_ if isinstance(quantifier, exp.Any) else exp.and_
    return exp.paren(combine(*(node.__class__(this=node.this.copy(), expression=p.copy()) for p in patterns.expressions)))


def _array_literal(text: str) -> exp.Array:
    """PostgreSQL's array text ('{a,"b c",NULL}') as an array of string literals."""
    inner = text.strip()
    if not (inner.startswith("{") and inner.endswith("}")):
        return exp.Array(expressions=[exp.Literal.string(text)])
    elements = re.findall(r'\s*("(?:[^"\\]|\\.)*"|[^,]*)\s*(?:,|$)', inner[1:-1])
    values = []
    for element in elements[: -1 if elements and elements[-1] == "" else None]:
        if element.startswith('"'):
            values.append(exp.Literal.string(re.sub(r"\\(.)", r"\1", element[1:-1])))
        elif element.upper() == "NULL":
            values.append(exp.null())
        else:
            values.append(exp.Literal.string(element))
    return exp.Array(expressions=values)


def _to_char(value: exp.Expression, pattern: exp.Expression) -> exp.Expression:
    """to_char with a PostgreSQL date pattern as strftime; with a number pattern ('FM999,990.0')
    as the number's text."""
    if not pattern.is_string:
        return exp.Anonymous(this="STRFTIME", expressions=[value, pattern])
    if re.fullmatch(r"(FM)?[9,0.DGSLPRMIV ]+", pattern.name):
        return exp.cast(value, exp.DataType.build("VARCHAR"))
    return exp.TimeToStr(this=value, format=exp.Literal.string(_strftime_pattern(pattern.name)))


def _strftime_pattern(pattern: str) -> str:
    out, i = [], 0
    while i < len(pattern):
        if pattern[i] == '"':  # quoted text is copied as it is
            end = pattern.find('"', i + 1)
            end = len(pattern) if end == -1 else end
            out.append(pattern[i + 1:end].replace("%", "%%"))
            i = end + 1
            continue
        for token, replacement in TO_CHAR_PATTERNS:
            if pattern.startswith(token, i):
                out.append(replacement)
                i += len(token)
                break
        else:
            out.append("%%" if pattern[i] == "%" else pattern[i])
            i += 1
    return "".join(out)


def _re2_pattern(pattern: str) -> str:
    """PostgreSQL's word-boundary escapes (\\m \\M \\y \\Y, [[:<:]] [[:>:]]) as RE2's \\b and \\B."""
    pattern = pattern.replace("[[:<:]]", r"\b").replace("[[:>:]]", r"\b")
    return re.sub(r"\\([mMyY])", lambda m: r"\B" if m.group(1) == "Y" else r"\b", pattern)


def _similar_to_regex(pattern: str) -> str:
    """SIMILAR TO's pattern as a regular expression: % and _ are wildcards, the rest is a regex."""
    out = []
    for char in pattern:
        out.append(".*" if char == "%" else "." if char == "_" else "\\" + char if char in ".^$\\" else char)
    return "".join(out)


def _regex_substring(node: exp.Substring) -> exp.Expression:
    """substring(text, 'pattern'): the first parenthesized group's match, else the whole match."""
    pattern = node.args["start"]
    group = 1 if "(" in pattern.name else 0
    return exp.RegexpExtract(this=node.this, expression=pattern, group=exp.Literal.number(group))
