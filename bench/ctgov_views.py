"""How fast AACT's schema reads: every ctgov view counted, and AACT users' joins, on a built warehouse.

    python3 -m uv run python bench/generate.py --studies 20000 --templates ../shared/samples/ctgov_v2 \
        --replicate --formats ndjson --out /tmp/ctgov-20k
    python3 -m uv run trials build --raw-dir /tmp/ctgov-20k/ndjson --warehouse /tmp/ctgov-20k.duckdb
    python3 -m uv run python bench/ctgov_views.py /tmp/ctgov-20k.duckdb --repeats 5

The views store nothing: each read computes its ids (window functions over the study's rows) and
the foreign ids it joins (result_group_id reads result_groups). `select count(*)` lets DuckDB
skip what no row count needs (an unused id's window, a left join that cannot add rows), so it is
the floor of reading a view; "every column" hashes each whole row (`sum(hash(v))`), which makes it
compute them all. The joins are the shapes AACT users write, through `aact.sql` as
`trials sql --aact` runs them.
Prints a markdown table of medians, in seconds, on a read-only connection.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from pipeline.warehouse import aact  # noqa: E402

JOINS = {
    "arm-intervention pairs": """
        SELECT dg.nct_id, dg.title, i.name
        FROM design_group_interventions dgi
        JOIN design_groups dg ON dg.id = dgi.design_group_id
        JOIN interventions i ON i.id = dgi.intervention_id""",
    "serious AEs per arm (reported_events → result_groups)": """
        SELECT re.nct_id, rg.title, sum(re.subjects_affected) AS affected, max(re.subjects_at_risk) AS at_risk
        FROM reported_events re JOIN result_groups rg ON rg.id = re.result_group_id
        WHERE re.event_type = 'serious' GROUP BY re.nct_id, rg.title""",
    "SAE rate per arm (reported_event_totals)": """
        SELECT t.nct_id, rg.title, round(100.0 * t.subjects_affected / NULLIF(t.subjects_at_risk, 0), 1) AS pct
        FROM reported_event_totals t
        JOIN result_groups rg ON rg.nct_id = t.nct_id AND rg.ctgov_group_code = t.ctgov_group_code
         AND rg.result_type = 'Reported Event'
        WHERE t.event_type = 'serious'""",
    "primary p-values with compared groups": """
        SELECT o.nct_id, o.title, oa.p_value, string_agg(rg.title, ' vs ' ORDER BY rg.ctgov_group_code) AS groups
        FROM outcomes o
        JOIN outcome_analyses oa ON oa.outcome_id = o.id
        JOIN outcome_analysis_groups oag ON oag.outcome_analysis_id = oa.id
        JOIN result_groups rg ON rg.id = oag.result_group_id
        WHERE o.outcome_type = 'PRIMARY' GROUP BY o.nct_id, o.title, oa.id, oa.p_value""",
    "measurements over their counts": """
        SELECT om.nct_id, om.title, om.param_value_num, oc.count
        FROM outcome_measurements om
        JOIN outcome_counts oc ON oc.outcome_id = om.outcome_id AND oc.result_group_id = om.result_group_id""",
    "baseline age per study": """
        SELECT bm.nct_id, avg(bm.param_value_num) AS mean_age
        FROM baseline_measurements bm JOIN result_groups rg ON rg.id = bm.result_group_id
        WHERE bm.title ILIKE 'age%' AND bm.param_type = 'MEAN' GROUP BY bm.nct_id""",
    "studies with calculated values and lead sponsor": """
        SELECT s.phase, count(*), avg(cv.number_of_facilities), sum(cv.number_of_sae_subjects)
        FROM studies s JOIN calculated_values cv ON cv.nct_id = s.nct_id
        JOIN sponsors sp ON sp.nct_id = s.nct_id AND sp.lead_or_collaborator = 'lead'
        GROUP BY s.phase""",
}


def median_seconds(run, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("warehouse", type=Path)
    parser.add_argument("--repeats", type=int, default=5, help="runs per query; the median is reported")
    args = parser.parse_args(argv)

    with aact.connect(args.warehouse) as con:
        studies = con.execute("select count(*) from main.studies").fetchall()[0][0]
        views = [name for (name,) in con.execute(
            "select view_name from duckdb_views() where schema_name = 'ctgov' order by view_name").fetchall()]
        print(f"{studies} studies; medians of {args.repeats} runs, seconds\n")
        print("| view | rows | count(*) | every column |\n| --- | ---: | ---: | ---: |")
        for view in views:
            rows = con.execute(f"select count(*) from ctgov.{view}").fetchall()[0][0]
            counted = median_seconds(lambda: con.execute(f"select count(*) from ctgov.{view}").fetchall(), args.repeats)
            whole = median_seconds(lambda: con.execute(f"select sum(hash(v)) from ctgov.{view} as v").fetchall(), args.repeats)
            print(f"| {view} | {rows:,} | {counted:.3f} | {whole:.3f} |")
        print("\n| join (aact.sql) | rows | seconds |\n| --- | ---: | ---: |")
        for name, query in JOINS.items():
            rows = len(aact.sql(con, query).fetchall())
            seconds = median_seconds(lambda: aact.sql(con, query).fetchall(), args.repeats)
            print(f"| {name} | {rows:,} | {seconds:.3f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
