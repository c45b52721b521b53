"""The results tables read by DuckDB instead of Python: what it would save, measured, not built.

    python3 -m uv run python bench/results_in_duckdb.py --samples ../shared/samples/ctgov_v2 --copies 50

Takes the studies with results among the sample records (any document `read_document` reads),
copies each under new NCT ids, and times on one core, as a worker has one:

- python: `normalize()` of the copies, less `normalize()` of the same copies without their
  results, document and annotation sections. This is what the results tables cost a worker now,
  besides the structure screen and the Parquet parts.
- duckdb parse: `from_json` of those three sections, written by orjson, into the structure the
  mapping declares (generated from `shape.ROOT`).
- duckdb unnest: two of the 24 tables, the largest, drawn from the parsed structs by list
  functions (`flatten(list_transform(...))`, one `unnest`): reported_events and
  outcome_measurements, their row counts checked against the Python frames'.

Prints the medians of --repeats runs. Nothing here is used by the pipeline: it sizes a rewrite.
"""
from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable

import duckdb
import orjson
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.documents import read_document  # noqa: E402
from pipeline.documents.model import StudyRecord  # noqa: E402
from pipeline.tables import shape  # noqa: E402
from pipeline.tables.normalize import normalize  # noqa: E402

SECTIONS = ("resultsSection", "documentSection", "annotationSection")

# Serious and other events, one row per stat; positions as the mapping counts them.
REPORTED_EVENTS_SQL = """
select count(*) from (
  select unnest(flatten(list_transform(
           list_concat(
             list_transform(r.resultsSection.adverseEventsModule.seriousEvents, lambda e: {'kind': 'serious', 'event': e}),
             list_transform(r.resultsSection.adverseEventsModule.otherEvents, lambda e: {'kind': 'other', 'event': e})),
           lambda k, i: list_transform(k.event.stats, lambda s, j: {
             'event_type': k.kind, 'event_position': i, 'stat_position': j,
             'organ_system': k.event.organSystem, 'term': k.event.term, 'vocabulary': k.event.sourceVocabulary,
             'assessment_type': k.event.assessmentType, 'notes': k.event.notes, 'group_code': s.groupId,
             'events': s.numEvents, 'affected': s.numAffected, 'at_risk': s.numAtRisk})))) as extracted
  from parsed
)"""

OUTCOME_MEASUREMENTS_SQL = """
select count(*) from (
  select unnest(flatten(flatten(flatten(list_transform(r.resultsSection.outcomeMeasuresModule.outcomeMeasures,
           lambda o, i: list_transform(o.classes,
           lambda c, j: list_transform(c.categories,
           lambda k, l: list_transform(k.measurements, lambda m, n: {
             'outcome_position': i, 'class_position': j, 'category_position': l, 'measurement_position': n,
             'outcome_type': o.type, 'outcome_title': o.title, 'param_type': o.paramType,
             'dispersion_type': o.dispersionType, 'unit_of_measure': o.unitOfMeasure,
             'denom_units_selected': o.denomUnitsSelected, 'class_title': c.title, 'category_title': k.title,
             'group_code': m.groupId, 'value': m.value, 'spread': m.spread, 'lower_limit': m.lowerLimit,
             'upper_limit': m.upperLimit, 'comment': m.comment})))))))) as extracted
  from parsed
)"""


def duckdb_structure(node: shape.Expectation) -> Any:
    """The structure `from_json` takes for what the mapping expects at a path: objects and lists
    as they are, every leaf as text (as the registry writes most of them)."""
    if node.kind == shape.OBJECT:
        return {key: duckdb_structure(child) for key, child in node.children.items()}
    if node.kind == shape.LIST:
        return [duckdb_structure(node.items) if node.items is not None else "JSON"]
    return "VARCHAR" if node.kind == shape.SCALAR else "JSON"


def studies_with_results(samples: Path) -> list[dict]:
    found = []
    for path in sorted(p for p in samples.rglob("*") if p.is_file() and p.suffix != ".md"):
        for item in read_document(path).items:
            if isinstance(item, StudyRecord) and "resultsSection" in item.study:
                found.append(item.study)
    return found


def copies(studies: list[dict], n_copies: int) -> list[dict]:
    """Each study `n_copies` times, under NCT ids of its own (only the objects on the way are copied)."""
    out = []
    for copy_number in range(n_copies):
        for index, study in enumerate(studies):
            protocol = dict(study["protocolSection"])
            protocol["identificationModule"] = {**protocol["identificationModule"],
                                                "nctId": f"NCT9{copy_number:03d}{index:04d}"}
            out.append({**study, "protocolSection": protocol})
    return out


def median_seconds(run: Callable[[], Any], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        gc.collect()
        started = time.process_time()
        run()
        times.append(time.process_time() - started)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=Path, required=True, help="folder of study documents")
    parser.add_argument("--copies", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)

    studies = copies(studies_with_results(args.samples), args.copies)
    bare = [{k: v for k, v in study.items() if k not in SECTIONS} for study in studies]
    sections = [orjson.dumps({k: study[k] for k in SECTIONS if k in study}) for study in studies]
    print(f"{len(studies)} studies with results, {sum(map(len, sections)) / 1e6:.1f} MB of their three sections")

    frames = normalize(studies)
    with_results = median_seconds(lambda: normalize(studies), args.repeats)
    without = median_seconds(lambda: normalize(bare), args.repeats)

    con = duckdb.connect()
    con.execute("set threads = 1")
    con.register("sections", pa.table({"j": pa.array(sections, pa.binary()).cast(pa.string())}))
    structure = orjson.dumps({k: duckdb_structure(shape.ROOT.children[k]) for k in SECTIONS if k in shape.ROOT.children})
    parse_sql = f"create or replace temp table parsed as select from_json(j, '{structure.decode()}') as r from sections"
    parse = median_seconds(lambda: con.execute(parse_sql), args.repeats)
    counts = {}
    unnest = 0.0
    for table, sql in (("reported_events", REPORTED_EVENTS_SQL), ("outcome_measurements", OUTCOME_MEASUREMENTS_SQL)):
        counts[table] = con.sql(sql).fetchall()[0][0]
        unnest += median_seconds(lambda: con.sql(sql).fetchall(), args.repeats)
        if counts[table] != frames[table].height:
            print(f"{table}: {counts[table]} rows from DuckDB against {frames[table].height} from normalize()")
            return 1

    print(f"python, results tables (normalize with less without): {with_results - without:.3f} s "
          f"({with_results:.3f} s less {without:.3f} s)")
    print(f"duckdb, parse of the three sections: {parse:.3f} s")
    print(f"duckdb, unnest of reported_events ({counts['reported_events']:,} rows) and "
          f"outcome_measurements ({counts['outcome_measurements']:,} rows): {unnest:.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
