"""`trials sql`, and AACT users' PostgreSQL run unchanged with `--aact`.

Upstream quirks pinned here: AACT's SQL is PostgreSQL. Its users write `= ANY(ARRAY[...])` and
`ILIKE ANY (ARRAY[...])`, `'{a,b}'::text[]` array text, `::` casts, `to_char` patterns,
`DISTINCT ON`, regex operators, `json_agg`, and `asof` (reserved in DuckDB) as a name; their
scripts `SET search_path`, create materialized views, temporary tables and indexes, and `ANALYZE`.
A query that only reads must never write to the warehouse, whatever the script creates.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import duckdb
import pytest

from pipeline import cli
from pipeline.warehouse import aact

QUERIES = sorted((Path(__file__).resolve().parent / "fixtures" / "aact_queries").glob("*.sql"))
# Queries over AACT's results tables (adverse events, analyses, baseline, participant flow, ...).
RESULTS_QUERIES = {q.name for q in QUERIES if int(q.name.split("_")[0]) >= 39}


def translated(script: str) -> list[str]:
    return [statement.duckdb_sql for statement in aact.translate_postgres(script)]


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = cli.main(["sql", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# ---- the translation -------------------------------------------------------------------------


def test_arrays_any_and_like_any_become_duckdb_lists_and_or_chains():
    assert translated(
        "select nct_id from studies where overall_status = ANY(ARRAY['COMPLETED','TERMINATED']) "
        "and phase = any('{PHASE3,\"PHASE2/PHASE3\",NULL}'::text[]) and brief_title ilike any (array['%a%', '%b%'])"
    ) == [
        "SELECT nct_id FROM studies WHERE overall_status = ANY(['COMPLETED', 'TERMINATED']) "
        "AND phase = ANY(CAST(['PHASE3', 'PHASE2/PHASE3', NULL] AS TEXT[])) "
        "AND (brief_title ILIKE '%a%' OR brief_title ILIKE '%b%')"
    ]


def test_a_script_makes_its_objects_temporary_and_leaves_server_housekeeping_out():
    script = """
        \\timing on
        SET search_path TO ctgov, public;
        CREATE MATERIALIZED VIEW mv AS SELECT nct_id FROM studies;  -- a comment; with a semicolon
        CREATE INDEX mv_idx ON mv (nct_id);
        ANALYZE mv;
        REFRESH MATERIALIZED VIEW mv;
        CREATE TABLE mine AS SELECT 1 AS x;
        CREATE VIEW v AS SELECT * FROM mine;
        SELECT nct_id INTO TEMP picked FROM mv;
        BEGIN; COMMIT;
        SELECT 'a;b' AS "x;y", count(*) AS asof FROM mv;
        DROP MATERIALIZED VIEW mv;
    """
    assert translated(script) == [
        "CREATE TEMPORARY TABLE mv AS SELECT nct_id FROM studies",
        "CREATE TEMPORARY TABLE mine AS SELECT 1 AS x",
        "CREATE TEMPORARY VIEW v AS SELECT * FROM mine",
        "CREATE TEMPORARY TABLE picked AS SELECT nct_id FROM mv",
        "SELECT 'a;b' AS \"x;y\", COUNT(*) AS \"asof\" FROM mv",
        "DROP TABLE mv",
    ]
    assert [s.returns_rows for s in aact.translate_postgres(script)] == [False, False, False, False, True, False]


def test_functions_duckdb_names_or_spells_otherwise():
    assert translated(
        "select to_char(start_date, 'FMMonth DD, YYYY \"at\" HH24:MI'), to_char(start_date, 'Mon YYYY'), "
        "to_char(enrollment, 'FM999,999'), json_agg(distinct name order by name), jsonb_build_object('a', 1), "
        "substring(brief_title, 'Phase ([0-9])'), date_part('year', start_date)::int, now() - interval '1 year', "
        "brief_title ~* 'covid', every(has_dmc) from studies"
    ) == [
        "SELECT STRFTIME(start_date, '%B %d, %Y at %H:%M') AS \"to_char\", STRFTIME(start_date, '%b %Y') AS \"to_char\", "
        "CAST(enrollment AS TEXT) AS \"to_char\", TO_JSON(LIST(DISTINCT name ORDER BY name)), "
        "JSON_OBJECT('a', 1) AS \"jsonb_build_object\", REGEXP_EXTRACT(brief_title, 'Phase ([0-9])', 1), "
        "CAST(EXTRACT(YEAR FROM start_date) AS INT), CURRENT_TIMESTAMP - INTERVAL '1' YEAR, "
        "REGEXP_MATCHES(brief_title, 'covid', 'i'), BOOL_AND(has_dmc) AS \"every\" FROM studies"
    ]


def test_width_bucket_and_to_number_which_duckdb_lacks_are_computed_as_postgresql_does(sample_warehouse):
    with aact.connect(sample_warehouse) as con:
        relation = aact.sql(con, (
            "select width_bucket(5, 0, 10, 5), width_bucket(-1, 0, 10, 5), width_bucket(10, 0, 10, 5), "
            "width_bucket(9.99, 0, 10, 5), to_number('12,454.8', '99G999D9'), to_number('$1,000', 'L9G999')"
        ))
        assert relation.columns == ["width_bucket"] * 4 + ["to_number"] * 2
        assert relation.fetchall() == [(3, 0, 6, 5, 12454.8, 1000.0)]


def test_postgresql_regex_dialect_becomes_re2():
    assert translated(
        "select nct_id from studies where brief_title ~* '\\m(covid|sars)\\M' and official_title ~ '[[:<:]]Study[[:>:]]' "
        "and nct_id similar to 'NCT0(4|5)%' and acronym similar to 'A_.C'"
    ) == [
        "SELECT nct_id FROM studies WHERE REGEXP_MATCHES(brief_title, '\\b(covid|sars)\\b', 'i') "
        "AND REGEXP_MATCHES(official_title, '\\bStudy\\b') AND REGEXP_FULL_MATCH(nct_id, 'NCT0(4|5).*') "
        "AND REGEXP_FULL_MATCH(acronym, 'A.\\.C')"
    ]


def test_dividing_two_integers_truncates_as_in_postgresql(sample_warehouse):
    with aact.connect(sample_warehouse) as con:
        script = (
            "create temp table counts as select phase, count(*) as n from studies group by phase; "
            "select 7 / 2 as a, -7 / 2 as b, 7 / 2.0 as c, max(n) / 10 as d, avg(n) / 2 > 0 as e from counts"
        )
        assert aact.sql(con, script).fetchall() == [(3, -3, 3.5, 12, True)]  # the largest phase has 129 studies
    assert translated("select count(*) / 3, avg(enrollment) / 3 from studies") == [
        "SELECT COUNT(*) / 3, AVG(enrollment) / 3 FROM studies"  # types are known only on a connection
    ]


def test_unnamed_columns_are_named_as_postgresql_names_them(sample_warehouse):
    with aact.connect(sample_warehouse) as con:
        relation = aact.sql(con, (
            "with per_phase as (select phase, count(*) from studies group by phase) "
            "select max(count), sum(count)::int, coalesce(null, 1), case when true then 1 end from per_phase"
        ))
        assert (relation.columns, relation.fetchall()) == (["max", "sum", "coalesce", "case"], [(129, 252, 1, 1)])
        assert aact.sql(con, "select nct_id, enrollment::text, lower(nct_id) from studies").columns[:2] == ["nct_id", "enrollment"]


def test_a_statement_sqlglot_cannot_read_is_kept_as_written():
    assert aact.translate_postgres("select 1 +* from") == [aact.Statement("select 1 +* from", "select 1 +* from", True)]


# ---- AACT users' queries, run unchanged ------------------------------------------------------


@pytest.mark.parametrize("query_file", QUERIES, ids=lambda q: q.name)
def test_aact_users_queries_run_unchanged(capsys, sample_warehouse, query_file):
    code, out, err = run(capsys, "--aact", "--warehouse", str(sample_warehouse), "--format", "csv", "--file", str(query_file))
    assert (code, err) == (0, "")
    assert out.count("\n") >= 2  # a header and rows: every query of the corpus finds rows in the samples


def test_the_corpus_is_realistic_in_size():
    assert len(QUERIES) >= 55 and len(RESULTS_QUERIES) == 19


def test_queries_give_aacts_answers_over_the_samples(capsys, sample_warehouse):
    code, out, _ = run(
        capsys, "--aact", "--warehouse", str(sample_warehouse), "--format", "csv",
        "select lead_or_collaborator, count(*) as n from sponsors where nct_id = any(array['NCT06388018', 'NCT02552212']) "
        "group by 1 order by 1",
    )
    assert (code, out) == (0, "lead_or_collaborator,n\ncollaborator,2\nlead,2\n")
    code, out, _ = run(
        capsys, "--aact", "--warehouse", str(sample_warehouse), "--format", "csv",
        "select distinct on (nct_id) nct_id, name as asof from facilities where nct_id = 'NCT02552212' order by nct_id, id",
    )
    assert (code, out) == (0, "nct_id,asof\nNCT02552212,As0006 125\n")


def test_results_queries_give_aacts_answers_over_the_samples(capsys, sample_warehouse):
    query = (Path(__file__).resolve().parent / "fixtures" / "aact_queries" / "46_completion_per_arm.sql").read_text()
    code, out, _ = run(capsys, "--aact", "--warehouse", str(sample_warehouse), "--format", "csv", query)
    assert code == 0
    assert out.splitlines()[:4] == [
        "nct_id,title,started,completed,completion_pct",
        "NCT00663260,Placebo,84,63,75.0",
        "NCT00663260,Dapagliflozin 5 mg,83,72,86.7",
        "NCT00663260,Dapagliflozin 10 mg,85,69,81.2",
    ]
    code, out, _ = run(
        capsys, "--aact", "--warehouse", str(sample_warehouse), "--format", "csv",
        "select t.ctgov_group_code, t.event_type, t.subjects_affected, t.subjects_at_risk from reported_event_totals t "
        "join result_groups rg on rg.nct_id = t.nct_id and rg.ctgov_group_code = t.ctgov_group_code "
        "and rg.result_type = 'Reported Event' where t.nct_id = 'NCT00663260' and rg.title = 'Placebo' order by t.id",
    )
    assert (code, out) == (0, "ctgov_group_code,event_type,subjects_affected,subjects_at_risk\n"
                              "EG000,deaths,,\nEG000,other,39,84\nEG000,serious,9,84\n")


def test_a_script_never_writes_to_the_warehouse(capsys, sample_warehouse):
    before = hashlib.sha256(sample_warehouse.read_bytes()).hexdigest()
    script = (
        "create materialized view mv as select nct_id, phase from studies; "
        "create table mine as select * from mv where phase = 'PHASE2'; "
        "insert into mine select * from mv where phase = 'PHASE3'; "
        "select count(*) as n from mine; drop table mine;"
    )
    code, out, err = run(capsys, "--aact", "--warehouse", str(sample_warehouse), "--format", "csv", script)
    assert (code, err) == (0, "")
    assert out.startswith("n\n")
    assert hashlib.sha256(sample_warehouse.read_bytes()).hexdigest() == before
    with duckdb.connect(str(sample_warehouse), read_only=True) as con:
        assert con.execute("select count(*) from duckdb_tables() where table_name in ('mv', 'mine')").fetchall() == [(0,)]


def test_a_query_that_writes_is_refused(capsys, sample_warehouse):
    code, out, err = run(capsys, "--warehouse", str(sample_warehouse), "delete from studies")
    assert (code, out) == (1, "")
    assert err.startswith("trials sql: Invalid Input Error: Cannot execute statement of type \"DELETE\"")
    assert err.count("\n") == 1


# ---- trials sql: formats, files, exit codes --------------------------------------------------


QUERY = "select nct_id, phase, start_date, has_dmc, enrollment from ctgov.studies where nct_id in ('NCT00763412', 'NCT06388018') order by nct_id"


def test_csv(capsys, sample_warehouse):
    assert run(capsys, "--warehouse", str(sample_warehouse), "--format", "csv", QUERY) == (
        0, "nct_id,phase,start_date,has_dmc,enrollment\n"
           "NCT00763412,NA,2006-11-30,true,31\n"
           "NCT06388018,PHASE2,2025-01-16,false,325\n", "")


def test_json(capsys, sample_warehouse):
    code, out, _ = run(capsys, "--warehouse", str(sample_warehouse), "--format", "json", QUERY)
    assert code == 0
    assert json.loads(out) == [
        {"nct_id": "NCT00763412", "phase": "NA", "start_date": "2006-11-30", "has_dmc": True, "enrollment": 31},
        {"nct_id": "NCT06388018", "phase": "PHASE2", "start_date": "2025-01-16", "has_dmc": False, "enrollment": 325},
    ]


def test_table_for_reading(capsys, sample_warehouse):
    code, out, _ = run(capsys, "--warehouse", str(sample_warehouse), QUERY)
    assert code == 0
    assert "│   nct_id    │  phase  │ start_date │ has_dmc │ enrollment │" in out
    assert "│ NCT06388018 │ PHASE2  │ 2025-01-16 │ false   │        325 │" in out


def test_parquet_and_csv_to_a_file_from_a_query_file(capsys, sample_warehouse, tmp_path):
    query_file = tmp_path / "q.sql"
    query_file.write_text(QUERY + ";\n", encoding="utf-8")
    parquet, csv_file = tmp_path / "rows.parquet", tmp_path / "rows.csv"

    assert run(capsys, "--warehouse", str(sample_warehouse), "--file", str(query_file), "--format", "parquet",
               "--out", str(parquet)) == (0, "", "")
    assert run(capsys, "--warehouse", str(sample_warehouse), "--file", str(query_file), "--format", "csv",
               "--out", str(csv_file)) == (0, "", "")

    assert duckdb.sql(f"select nct_id, enrollment from '{parquet}'").fetchall() == [("NCT00763412", 31), ("NCT06388018", 325)]
    assert csv_file.read_text(encoding="utf-8").splitlines()[1] == "NCT00763412,NA,2006-11-30,true,31"


def test_a_bad_query_exits_1_with_duckdbs_error_on_one_line(capsys, sample_warehouse):
    code, out, err = run(capsys, "--aact", "--warehouse", str(sample_warehouse), "select nope from studies")
    assert (code, out) == (1, "")
    assert err.startswith('trials sql: Binder Error: Referenced column "nope" not found in FROM clause! Candidate bindings: ')
    assert err.count("\n") == 1


@pytest.mark.parametrize(("arguments", "message"), [
    ((), "trials sql: give a query or --file FILE (not both)\n"),
    (("select 1", "--file", "q.sql"), "trials sql: give a query or --file FILE (not both)\n"),
    (("select 1", "--format", "parquet"), "trials sql: --format parquet needs --out FILE\n"),
    (("--file", "missing.sql"), "trials sql: cannot read missing.sql: No such file or directory\n"),
])
def test_usage_errors_exit_2(capsys, sample_warehouse, arguments, message):
    assert run(capsys, "--warehouse", str(sample_warehouse), *arguments) == (2, "", message)


def test_a_missing_warehouse_exits_2(capsys, tmp_path):
    assert run(capsys, "--warehouse", str(tmp_path / "none.duckdb"), "select 1") == (
        2, "", f"trials sql: no warehouse at {tmp_path / 'none.duckdb'}; run `trials build` first\n")


def test_the_notebook_function_returns_the_last_querys_relation(sample_warehouse):
    with aact.connect(sample_warehouse) as con:
        relation = aact.sql(con, "create temp table t as select * from studies; select count(*) as n from t where phase ~ '^PHASE2'")
        assert relation.fetchall() == [(27,)]  # studies whose first phase is PHASE2 (PHASE2 or PHASE2/PHASE3)


def test_the_command_as_a_process_prints_csv_and_keeps_its_exit_code(sample_warehouse, tmp_path):
    import subprocess
    import sys

    query_file = tmp_path / "q.sql"
    query_file.write_text("SET search_path TO ctgov;\nselect count(*) as n from studies where phase = ANY(ARRAY['PHASE3']);\n")
    done = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "sql", "--aact", "--warehouse", str(sample_warehouse), "--format", "csv",
         "--file", str(query_file)],
        capture_output=True, text=True, timeout=120,
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "n\n13\n", "")
    query_file.write_text("select * from no_such_table")
    done = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "sql", "--aact", "--warehouse", str(sample_warehouse), "--file", str(query_file)],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 1
    assert done.stderr.startswith("trials sql: Catalog Error: Table with name no_such_table does not exist!")
