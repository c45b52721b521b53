"""The build's costs outside the workers, each measured against the way it was done before.

    python3 -m uv run python bench/generate.py --studies 600000 --templates ../shared/samples/ctgov_v2 \
        --replicate --formats zip --out /tmp/big/raw --workers 2
    python3 -m uv run trials build --full --raw-dir /tmp/big/raw --warehouse /tmp/big.duckdb
    python3 -m uv run python bench/fixed_costs.py --warehouse /tmp/big.duckdb \
        --zip /tmp/big/raw/zip/ctg-studies.json.zip --repeats 3

- zip directory: the archive's members as `ZipMembers` reads them (its own reader of the
  directory's bytes) against zipfile's `infolist()`, which the build used before. The two lists
  must be equal, field by field.
- keys check: `checks.key_counts` (one scan per table, hashing the key) against a GROUP BY of
  every key; and `checks.orphan_counts` (one anti-join of every table's NCT ids) against a
  `not exists` per table. Each pair must give the same counts.
- DDL: `create_tables` and `create_views` for a full build, each one transaction, against the same
  statements committed one by one, into a new file opened as a build opens its staging file.

Both sides run in this process, alternated; prints a markdown table of medians (seconds).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Callable

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.assets import checks  # noqa: E402
from pipeline.documents.api_json import MemberEntry, ZipMembers  # noqa: E402
from pipeline.tables import schema  # noqa: E402
from pipeline.warehouse import ddl  # noqa: E402
from pipeline.warehouse.build import open_for_build  # noqa: E402
from pipeline.warehouse.ddl import quote_identifier, quote_literal  # noqa: E402
from pipeline.warehouse.load import LOADED_TABLES  # noqa: E402

MEMORY_LIMIT = "1200MB"  # the build's checks run under its memory limit


def zipfile_members(path: Path) -> list[MemberEntry]:
    with zipfile.ZipFile(path) as archive:
        return [MemberEntry(m.filename, m.header_offset, m.compress_size, m.file_size, m.CRC, m.compress_type, m.flag_bits)
                for m in archive.infolist() if not m.is_dir()]


def our_members(path: Path) -> list[MemberEntry]:
    with ZipMembers(path) as archive:
        return list(archive.members)


def grouped_key_counts(con, tables) -> dict[str, tuple[int, int]]:
    """Before: a GROUP BY of every key, and a second scan for null keys."""
    def per_table(table: schema.Table) -> str:
        keys = ", ".join(quote_identifier(k) for k in table.key)
        null_keys = " or ".join(f"{quote_identifier(k)} is null" for k in table.key)
        name = quote_identifier(table.name)
        return (f"select {quote_literal(table.name)}, (select count(*) from (select {keys} from {name} group by all having count(*) > 1)),"
                f" (select count(*) from {name} where {null_keys})")
    return {name: (repeated, nulls) for name, repeated, nulls in con.execute(checks.all_tables_sql(per_table, tables)).fetchall()}


def per_table_orphan_counts(con, tables) -> dict[str, tuple[int]]:
    """Before: a `not exists` against studies per table."""
    def per_table(table: schema.Table) -> str:
        return (f"select {quote_literal(table.name)}, count(*) from {quote_identifier(table.name)} c "
                "where not exists (select 1 from studies s where s.nct_id = c.nct_id)")
    return {name: (n,) for name, n in con.execute(checks.all_tables_sql(per_table, tables)).fetchall()}


def statements() -> list[str]:
    """A full build's CREATE and COMMENT statements for its tables and views."""
    found = []
    for table in LOADED_TABLES + (schema.DOCUMENTS,):
        found += [ddl.create_table_sql(table), *ddl.comment_sql(table)]
    for view in schema.VIEWS:
        found += [ddl.create_view_sql(view), *ddl.comment_sql(view, "view")]
    return found


def ddl_one_by_one() -> list[tuple]:
    with tempfile.TemporaryDirectory() as folder, open_for_build(Path(folder) / "w.duckdb") as con:
        for statement in statements():
            con.execute(statement)
        return _catalog(con)


def ddl_in_transactions() -> list[tuple]:
    with tempfile.TemporaryDirectory() as folder, open_for_build(Path(folder) / "w.duckdb") as con:
        ddl.create_tables(con, LOADED_TABLES + (schema.DOCUMENTS,))
        ddl.create_views(con)
        return _catalog(con)


def _catalog(con) -> list[tuple]:
    return con.execute("select table_name, column_name, data_type, comment from duckdb_columns() order by all").fetchall()


def timed(run: Callable[[], object]) -> tuple[float, object]:
    started = time.perf_counter()
    result = run()
    return time.perf_counter() - started, result


def compare(name: str, before: Callable[[], object], now: Callable[[], object], repeats: int) -> tuple[str, float, float]:
    times: dict[str, list[float]] = {"before": [], "now": []}
    for _ in range(repeats):
        seconds_before, result_before = timed(before)
        seconds_now, result_now = timed(now)
        if result_before != result_now:
            raise AssertionError(f"{name}: the two ways disagree")
        times["before"].append(seconds_before)
        times["now"].append(seconds_now)
    return name, statistics.median(times["before"]), statistics.median(times["now"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", type=Path, required=True, help="a built warehouse (opened read-only)")
    parser.add_argument("--zip", type=Path, required=True, help="a zip archive of studies")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)

    rows = [compare("zip directory", lambda: zipfile_members(args.zip), lambda: our_members(args.zip), args.repeats)]
    with duckdb.connect(str(args.warehouse), read_only=True) as con:
        con.execute(f"set memory_limit = '{MEMORY_LIMIT}'")
        rows.append(compare("keys check", lambda: grouped_key_counts(con, checks.KEYED_TABLES),
                            lambda: checks.key_counts(con, checks.KEYED_TABLES), args.repeats))
        rows.append(compare("orphans check", lambda: per_table_orphan_counts(con, checks.CHILD_TABLES),
                            lambda: checks.orphan_counts(con, checks.CHILD_TABLES), args.repeats))
    rows.append(compare(f"DDL ({len(statements())} statements)", ddl_one_by_one, ddl_in_transactions, args.repeats))

    print(f"| step (medians of {args.repeats}) | before | now | now / before |")
    print("|---|---:|---:|---:|")
    for name, before, now in rows:
        print(f"| {name} | {before:.3f} s | {now:.3f} s | {now / before:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
