"""Long free text stored with zstd against DuckDB's own choice of compression, column by column.

    python3 -m uv run python bench/generate.py --studies 600000 --templates ../shared/samples/ctgov_v2 \
        --replicate --formats zip --out /tmp/big/raw --workers 2
    python3 -m uv run trials build --full --raw-dir /tmp/big/raw --warehouse /tmp/big.duckdb
    python3 -m uv run python bench/long_text.py --warehouse /tmp/big.duckdb --repeats 3

The columns are the mapping's `long_text` ones. Each is read out of a built warehouse and written
twice as a Parquet part is (uncompressed):
- "as built": the values as the warehouse holds them. Real records replicated to scale repeat
  their templates' few hundred texts, which DuckDB's dictionary takes in a way the registry never
  lets it.
- "own per row": each value's runs of four words shuffled (seeded), so that no two rows share a
  text, as in the registry, with the records' own words and phrases.

Each is inserted into a new table of a new database file, the column declared by `ddl.column_sql`
as plain text (DuckDB chooses the compression) and as long text (zstd), alternated;
the table is checkpointed, then scanned whole (`like`, from a new connection). Both tables must
hold the same values (their hash sums agree). Prints a markdown table of medians: insert and
checkpoint CPU seconds, the file's size, the scan's seconds.
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.tables import schema  # noqa: E402
from pipeline.warehouse.ddl import column_sql, quote_identifier  # noqa: E402

# (name, long_text): the column as the DDL declares it either way (ddl.column_sql).
WAYS = (("DuckDB's choice", False), ("zstd", True))


def long_text_columns() -> list[tuple[str, str]]:
    return [(table.name, column.name) for table in schema.ALL_TABLES for column in table.columns if column.long_text]


def own_per_row(values: list, seed: int = 1) -> list:
    """Each text with its runs of four words shuffled: every row its own text, in the same words."""
    rng = random.Random(seed)
    out = []
    for value in values:
        if value is None:
            out.append(None)
            continue
        words = value.split(" ")
        runs = [words[i:i + 4] for i in range(0, len(words), 4)]
        rng.shuffle(runs)
        out.append(" ".join(word for run in runs for word in run))
    return out


def measure(part: Path, long_text: bool, workdir: Path) -> dict:
    """Insert a part into a new file's table, its column declared as the DDL declares a column
    with or without `long_text`; checkpoint; scan."""
    path = workdir / "t.duckdb"
    for stale in workdir.glob("t.duckdb*"):
        stale.unlink()
    con = duckdb.connect(str(path))
    con.execute("set preserve_insertion_order = false")  # as the build inserts
    con.execute(f"create table t ({column_sql(schema.Column('v', 'VARCHAR', '', long_text=long_text))})")
    cpu = time.process_time()
    con.execute(f"insert into t select * from read_parquet('{part}')")
    con.execute("checkpoint")
    cpu = time.process_time() - cpu
    checksum = con.sql("select count(v), sum(hash(v)) from t").fetchall()[0]
    con.close()
    size = path.stat().st_size
    con = duckdb.connect(str(path), read_only=True)
    wall = time.perf_counter()
    con.sql("select count(*) from t where v like '%the%'").fetchall()
    scan = time.perf_counter() - wall
    con.close()
    return {"cpu": cpu, "size": size, "scan": scan, "checksum": checksum}


def compare(part: Path, workdir: Path, repeats: int) -> list[dict]:
    """Per way, the medians of `repeats` alternated runs; both ways must store the same values."""
    runs: dict[str, list[dict]] = {name: [] for name, _ in WAYS}
    for _ in range(repeats):
        for name, long_text in WAYS:
            runs[name].append(measure(part, long_text, workdir))
    checksums = {run["checksum"] for per_way in runs.values() for run in per_way}
    assert len(checksums) == 1, f"{part.name}: the two ways store different values {checksums}"
    return [{"way": name, **{k: statistics.median(run[k] for run in runs[name]) for k in ("cpu", "size", "scan")}}
            for name, _ in WAYS]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", type=Path, required=True, help="a built warehouse (opened read-only)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    totals: dict[tuple[str, str], list[float]] = {}
    total_rows = 0
    print("| column | rows | values | way | insert CPU s | MB | scan s |")
    print("|---|---:|---|---|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp, duckdb.connect(str(args.warehouse), read_only=True) as source:
        workdir = Path(tmp)
        for table, column in long_text_columns():
            values = source.sql(f"select {quote_identifier(column)} from {quote_identifier(table)}").fetchall()
            values = [row[0] for row in values]
            if not any(values):
                continue
            total_rows += len(values)
            for label, texts in (("as built", values), ("own per row", own_per_row(values))):
                part = workdir / "part.parquet"
                pq.write_table(pa.table({"v": pa.array(texts, pa.string())}), part, compression="none")
                for result in compare(part, workdir, args.repeats):
                    total = totals.setdefault((label, result["way"]), [0.0, 0.0, 0.0])
                    total[0] += result["cpu"]
                    total[1] += result["size"]
                    total[2] += result["scan"]
                    print(f"| {table}.{column} | {len(values):,} | {label} | {result['way']} | {result['cpu']:.2f} | "
                          f"{result['size'] / 1e6:.0f} | {result['scan']:.2f} |")
        for (label, way), (cpu, size, scan) in totals.items():
            print(f"| all | {total_rows:,} | {label} | {way} | {cpu:.2f} | {size / 1e6:.0f} | {scan:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
