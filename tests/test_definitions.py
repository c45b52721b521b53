"""The Dagster definitions: the asset graph, its checks, and whole builds through the job.

Upstream quirks pinned here: raw folders hold junk next to real documents (the build must go
on, record the junk in ingest_errors and warn), and the same study turns up in several
documents, in different versions (the latest lastUpdatePostDate wins; on a tie, the later
document path wins; the loser is recorded in superseded_records).

The snapshots below change whenever an asset or check is added or renamed: update them in the
same change, so the graph's shape shows in review.
"""
from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipeline import cli
from pipeline.assets.checks import warehouse_checks
from pipeline.assets.warehouse import warehouse_build
from pipeline.definitions import defs
from pipeline.resources import RawFolder, Warehouse

RAW_DIR = Path(__file__).resolve().parent.parent / "data" / "raw"
A_STUDY = RAW_DIR / "ctgov_v2" / "NCT00973089.json"

ASSET_KEYS = [
    "adverse_event_rates", "arm_interventions", "arms", "available_ipds", "baseline_class_counts", "baseline_counts",
    "baseline_measure_counts", "baseline_measurements", "baseline_measures", "browse_branches", "browse_leaves",
    "build_info", "central_contacts", "condition_mesh_terms", "condition_summary", "conditions", "countries",
    "country_summary", "ctgov", "ctgov_api_studies", "ctgov_bulk_studies", "documents", "drop_withdrawals",
    "enrollment_trends", "identifiers", "ingest_errors", "intervention_mesh_terms", "intervention_summary",
    "interventions", "ipd_sharing_statements", "keywords", "milestones", "officials", "outcome_analyses",
    "outcome_class_counts", "outcome_counts", "outcome_measurements", "outcome_measures", "outcomes",
    "parquet_export", "participant_flows", "pending_results", "phase_status_summary", "provided_documents",
    "record_sections", "reported_event_totals", "reported_events", "result_agreements", "result_contacts",
    "result_details", "result_groups", "results_posting", "results_posting_studies", "results_reporting",
    "results_reporting_studies", "retractions", "search_studies", "see_also_links", "site_contacts", "site_geography",
    "sites", "sponsor_summary", "sponsors", "studies", "study_changes", "study_overview", "study_records",
    "study_references", "study_status_phase_counts", "study_version_returns", "study_versions", "superseded_records",
    "unmapped_values", "violation_events",
]

# What `build_warehouse` materializes: every asset but the live sources and the Parquet export (their own jobs).
BUILD_ASSETS = sorted(set(ASSET_KEYS) - {"parquet_export", "ctgov_api_studies", "ctgov_bulk_studies"})

ASSET_CHECKS = [
    "arm_interventions:links_resolve",
    "build_info:keys_unique", "build_info:nct_ids_in_studies", "build_info:warehouse_is_fresh",
    "ingest_errors:no_rejected_documents",
]


def run_build(raw_dir: Path, warehouse: Path) -> dg.ExecuteInProcessResult:
    return defs.resolve_job_def("build_warehouse").execute_in_process(
        resources={"raw_folder": RawFolder(path=str(raw_dir)), "warehouse": Warehouse(path=str(warehouse))},
        raise_on_error=False,
    )


def failure_message(result: dg.ExecuteInProcessResult) -> str:
    return "; ".join(str(e.message) for e in result.all_events if e.is_failure)


def materialized(result: dg.ExecuteInProcessResult) -> dict[str, dict]:
    out = {}
    for event in result.get_asset_materialization_events():
        materialization = event.event_specific_data.materialization
        out[materialization.asset_key.to_user_string()] = {k: v.value for k, v in materialization.metadata.items()}
    return out


def check_evaluations(result: dg.ExecuteInProcessResult) -> dict[str, dg.AssetCheckEvaluation]:
    return {f"{e.asset_key.to_user_string()}:{e.check_name}": e for e in result.get_asset_check_evaluations()}


def query(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def write_study(path: Path, study: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(study), encoding="utf-8")


def version_of(study: dict, *, last_update: str, title: str, conditions: list[str]) -> dict:
    version = copy.deepcopy(study)
    protocol = version["protocolSection"]
    protocol["statusModule"]["lastUpdatePostDateStruct"] = {"date": last_update, "type": "ACTUAL"}
    protocol["identificationModule"]["briefTitle"] = title
    protocol["conditionsModule"]["conditions"] = conditions
    return version


# ---- the graph -------------------------------------------------------------------------------


def test_definitions_load_with_the_build_job() -> None:
    assert isinstance(defs, dg.Definitions)
    job = defs.resolve_job_def("build_warehouse")
    assert job.name == "build_warehouse"


def test_asset_keys_snapshot() -> None:
    keys = sorted(key.to_user_string() for key in defs.resolve_asset_graph().get_all_asset_keys())
    assert keys == ASSET_KEYS


def test_asset_checks_snapshot() -> None:
    checks = sorted(f"{key.asset_key.to_user_string()}:{key.name}" for key in defs.resolve_asset_graph().asset_check_keys)
    assert checks == ASSET_CHECKS


# ---- a build of the samples ------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample_build(tmp_path_factory) -> dg.ExecuteInProcessResult:
    return run_build(RAW_DIR, tmp_path_factory.mktemp("definitions") / "w.duckdb")


def test_build_job_materializes_every_asset(sample_build) -> None:
    assert sample_build.success, failure_message(sample_build)
    assert sorted(materialized(sample_build)) == BUILD_ASSETS


def test_build_job_reports_the_studies_it_loaded(sample_build) -> None:
    studies = materialized(sample_build)["studies"]
    assert studies["dagster/row_count"] == 252
    assert (studies["n_documents"], studies["n_rejected"], studies["n_superseded"]) == (17, 0, 0)
    assert materialized(sample_build)["documents"]["dagster/row_count"] == 17
    assert materialized(sample_build)["build_info"]["build_kind"] == "full"
    assert materialized(sample_build)["ctgov"] == {"build_kind": "full", "n_views": 64}  # 46 AACT tables, 18 all_* views


def test_build_job_passes_every_asset_check(sample_build) -> None:
    evaluations = check_evaluations(sample_build)
    assert sorted(evaluations) == ASSET_CHECKS
    assert sorted(name for name, e in evaluations.items() if not e.passed) == []


def run_checks(warehouse: Path) -> dict[str, dg.AssetCheckEvaluation]:
    """The integrity checks alone, on a warehouse as it is on disk."""
    job = dg.define_asset_job("integrity_checks", selection=dg.AssetSelection.checks(warehouse_checks))
    checks_only = dg.Definitions(
        assets=[warehouse_build], asset_checks=[warehouse_checks], jobs=[job],
        resources={"raw_folder": RawFolder(path=str(warehouse.parent)), "warehouse": Warehouse(path=str(warehouse))},
    )
    result = checks_only.resolve_job_def("integrity_checks").execute_in_process(raise_on_error=False)
    assert result.success, failure_message(result)
    return check_evaluations(result)


def test_integrity_checks_name_each_failing_table_with_its_counts(tmp_path: Path) -> None:
    raw_dir = tmp_path / "raw"
    write_study(raw_dir / "good.json", json.loads(A_STUDY.read_text(encoding="utf-8")))
    warehouse = tmp_path / "w.duckdb"
    assert run_build(raw_dir, warehouse).success
    with duckdb.connect(str(warehouse)) as con:
        # A duplicate key in conditions, a null key part in keywords, and rows of a study that
        # does not exist in sites and arm_interventions (whose link then dangles too).
        con.execute("insert into conditions select * from conditions where condition_position = 1")
        con.execute("insert into keywords (nct_id, keyword_position, keyword) values ('NCT00973089', null, 'x')")
        con.execute("insert into sites (nct_id, site_position) values ('NCT99999999', 1), ('NCT99999999', 2)")
        con.execute("insert into arm_interventions (nct_id, arm_position, intervention_position) values ('NCT99999999', 1, 1)")

    evaluations = run_checks(warehouse)

    keys = evaluations["build_info:keys_unique"]
    assert keys.passed is False
    assert keys.description == (
        "duplicate or null keys in 2 of 53 tables: conditions: 1 duplicate keys; keywords: 1 rows with a null key"
    )
    assert keys.metadata["failing_tables"].value == {
        "conditions": {"duplicate keys": 1, "rows with a null key": 0},
        "keywords": {"duplicate keys": 0, "rows with a null key": 1},
    }
    assert keys.metadata["tables_checked"].value == 53
    orphans = evaluations["build_info:nct_ids_in_studies"]
    assert orphans.passed is False
    assert orphans.description == (
        "rows of studies that do not exist in 2 of 46 tables: arm_interventions: 1 rows whose nct_id is not in studies; "
        "sites: 2 rows whose nct_id is not in studies"
    )
    assert evaluations["arm_interventions:links_resolve"].passed is False
    assert evaluations["arm_interventions:links_resolve"].description == "1 links point to no arm or intervention of their study"
    assert evaluations["ingest_errors:no_rejected_documents"].passed is True


def test_integrity_checks_pass_on_a_sound_warehouse_and_say_what_they_covered(sample_build) -> None:
    evaluations = check_evaluations(sample_build)
    keys, orphans = evaluations["build_info:keys_unique"], evaluations["build_info:nct_ids_in_studies"]
    assert (keys.passed, keys.description, keys.metadata["failing_tables"].value) == (True, "none in 53 tables", {})
    assert (orphans.passed, orphans.description) == (True, "none in 46 tables")


# ---- junk in the raw folder ------------------------------------------------------------------


def test_a_garbage_file_is_recorded_and_warned_about_but_does_not_stop_the_build(tmp_path: Path) -> None:
    raw_dir = tmp_path / "raw"
    write_study(raw_dir / "good.json", json.loads(A_STUDY.read_text(encoding="utf-8")))
    (raw_dir / "garbage.txt").write_bytes(b"this is not a study, just some notes\n")
    warehouse = tmp_path / "w.duckdb"

    result = run_build(raw_dir, warehouse)

    assert result.success, failure_message(result)
    assert query(warehouse, "select nct_id from studies") == [("NCT00973089",)]
    assert query(warehouse, "select document_path, position from ingest_errors") == [("garbage.txt", "")]
    assert query(
        warehouse, "select document_path, document_form, n_studies_found, n_studies_loaded, n_errors from documents order by 1"
    ) == [("garbage.txt", "unknown", 0, 0, 1), ("good.json", "json_study", 1, 1, 0)]
    assert materialized(result)["studies"]["n_rejected"] == 1
    evaluations = check_evaluations(result)
    rejected = evaluations["ingest_errors:no_rejected_documents"]
    assert (rejected.passed, rejected.severity) == (False, dg.AssetCheckSeverity.WARN)
    assert sorted(name for name, e in evaluations.items() if not e.passed) == ["ingest_errors:no_rejected_documents"]


def test_trials_build_prints_each_failed_check_with_what_it_found(tmp_path: Path, capsys) -> None:
    raw_dir = tmp_path / "raw"
    write_study(raw_dir / "good.json", json.loads(A_STUDY.read_text(encoding="utf-8")))
    (raw_dir / "garbage.txt").write_bytes(b"not a study\n")

    assert cli.main(["build", "--raw-dir", str(raw_dir), "--warehouse", str(tmp_path / "w.duckdb")]) == 0

    printed = capsys.readouterr().out.splitlines()
    assert printed[-1] == (
        "checks not passed: ingest_errors:no_rejected_documents (1 documents or records rejected: see the ingest_errors table)"
    )


# ---- the same study in several documents -----------------------------------------------------


def test_the_newer_version_wins_even_when_read_first(tmp_path: Path) -> None:
    study = json.loads(A_STUDY.read_text(encoding="utf-8"))
    raw_dir = tmp_path / "raw"
    # Sorted path order reads the newer version first: the date, not the order, decides.
    write_study(raw_dir / "a_newer.json", version_of(study, last_update="2020-05-02", title="Newer", conditions=["New A"]))
    write_study(raw_dir / "b_older.json", version_of(
        study, last_update="2020-05-01", title="Older", conditions=["Old A", "Old B"],
    ))
    warehouse = tmp_path / "w.duckdb"

    result = run_build(raw_dir, warehouse)

    assert result.success, failure_message(result)
    assert query(warehouse, "select nct_id, brief_title, last_update_post_date_raw from studies") == [
        ("NCT00973089", "Newer", "2020-05-02")
    ]
    assert query(warehouse, "select condition_position, condition from conditions") == [(1, "New A")]
    assert query(
        warehouse,
        "select nct_id, document_path, position, last_update_post_date_raw, superseded_by_document_path, "
        "superseded_by_position from superseded_records",
    ) == [("NCT00973089", "b_older.json", "", "2020-05-01", "a_newer.json", "")]
    assert query(warehouse, "select document_path, n_studies_found, n_studies_loaded from documents order by 1") == [
        ("a_newer.json", 1, 1),
        ("b_older.json", 1, 0),
    ]
    assert materialized(result)["studies"]["n_superseded"] == 1


def test_on_equal_dates_the_later_document_path_wins(tmp_path: Path) -> None:
    study = json.loads(A_STUDY.read_text(encoding="utf-8"))
    raw_dir = tmp_path / "raw"
    write_study(raw_dir / "1" / "first.json", version_of(
        study, last_update="2020-05-01", title="Read first", conditions=["First A", "First B"],
    ))
    write_study(raw_dir / "2" / "second.json", version_of(
        study, last_update="2020-05-01", title="Read last", conditions=["Last A"],
    ))
    warehouse = tmp_path / "w.duckdb"

    result = run_build(raw_dir, warehouse)

    assert result.success, failure_message(result)
    assert query(warehouse, "select nct_id, brief_title from studies") == [("NCT00973089", "Read last")]
    # The first version's child rows are gone too, not left beside the winner's.
    assert query(warehouse, "select condition_position, condition from conditions") == [(1, "Last A")]
    assert query(
        warehouse,
        "select nct_id, document_path, position, last_update_post_date_raw, superseded_by_document_path, "
        "superseded_by_position from superseded_records",
    ) == [("NCT00973089", "1/first.json", "", "2020-05-01", "2/second.json", "")]
    checks = check_evaluations(result)
    assert sorted(name for name, e in checks.items() if not e.passed) == []


def test_a_document_that_vanishes_mid_build_is_an_error_row_not_a_failed_build(tmp_path: Path) -> None:
    import duckdb

    from pipeline.warehouse.load import inventory, load_full

    raw = tmp_path / "raw"
    raw.mkdir()
    shutil.copyfile(A_STUDY, raw / "a.json")
    (raw / "b.json").write_text("{}")
    documents = inventory(raw)
    (raw / "b.json").unlink()
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        summary = load_full(con, raw, documents, tmp_path / "parts")
        errors = con.execute("select document_path, position, reason from ingest_errors").fetchall()
    assert summary.n_studies == 1
    assert errors == [("b.json", "", f"could not read the document: FileNotFoundError: [Errno 2] No such file or directory: '{raw / 'b.json'}'")]


# ---- what the asset pages show -------------------------------------------------------------------


def test_table_assets_carry_their_column_schema_and_key_from_the_mapping() -> None:
    from pipeline.tables import schema

    spec = next(s for s in warehouse_build.specs if s.key == dg.AssetKey("countries"))
    columns = spec.metadata["dagster/column_schema"].columns
    assert [(c.name, c.type) for c in columns] == [
        ("nct_id", "VARCHAR"), ("country_position", "INTEGER"), ("country", "VARCHAR"), ("country_code", "VARCHAR"),
        ("is_removed", "BOOLEAN"),
    ]
    assert [c.description for c in columns] == [c.description for c in schema.COUNTRIES.columns]
    assert spec.metadata["key"] == "nct_id, country_position"


def test_every_table_has_a_row_count_and_every_model_its_built_column_schema(sample_build) -> None:
    recorded = materialized(sample_build)
    # The ctgov schema is views over the tables: it counts its views, not rows.
    assert [name for name in BUILD_ASSETS if name not in ("search_studies", "ctgov") and "dagster/row_count" not in recorded[name]] == []
    assert recorded["ctgov"]["n_views"] == 64
    # countries: 359 distinct (study, country) pairs of the sites, and 5 removed countries.
    assert (recorded["build_info"]["dagster/row_count"], recorded["study_versions"]["dagster/row_count"],
            recorded["study_version_returns"]["dagster/row_count"], recorded["countries"]["dagster/row_count"]) == (1, 252, 0, 359 + 5)
    country_summary = recorded["country_summary"]["dagster/column_schema"]
    assert [(c.name, c.type) for c in country_summary.columns] == [
        ("country", "VARCHAR"), ("n_studies", "BIGINT"), ("n_sites", "BIGINT"), ("n_recruiting_sites", "BIGINT"),
    ]
    assert country_summary.columns[0].description == "Country name, as the sites give it."
    assert "dagster/column_schema" not in recorded["search_studies"]


def test_a_build_with_nothing_to_do_records_no_materialization_only_an_observation(tmp_path: Path) -> None:
    raw_dir = tmp_path / "raw"
    write_study(raw_dir / "good.json", json.loads(A_STUDY.read_text(encoding="utf-8")))
    warehouse = tmp_path / "w.duckdb"
    assert run_build(raw_dir, warehouse).success

    again = run_build(raw_dir, warehouse)

    assert again.success, failure_message(again)
    assert materialized(again) == {}
    observations = [e.event_specific_data.asset_observation for e in again.get_asset_observation_events()]
    assert [(o.asset_key.to_user_string(), o.metadata["build_kind"].value, o.metadata["reason"].value) for o in observations] == [
        ("build_info", "up_to_date", "no document was added, changed or removed since the published build")
    ]
    # Nothing was built, so nothing is checked again: the published build's results stand.
    assert check_evaluations(again) == {}


def test_selecting_one_table_runs_the_whole_build_and_records_every_table_and_model(tmp_path: Path) -> None:
    # What `dagster asset materialize --select studies` runs: a subset of the implicit asset job.
    raw_dir = tmp_path / "raw"
    write_study(raw_dir / "good.json", json.loads(A_STUDY.read_text(encoding="utf-8")))
    warehouse = tmp_path / "w.duckdb"
    job = defs.resolve_implicit_global_asset_job_def().get_subset(asset_selection={dg.AssetKey("studies")})

    result = job.execute_in_process(
        resources={"raw_folder": RawFolder(path=str(raw_dir)), "warehouse": Warehouse(path=str(warehouse))},
        raise_on_error=False,
    )

    assert result.success, failure_message(result)
    assert sorted(materialized(result)) == BUILD_ASSETS
    assert materialized(result)["studies"]["dagster/row_count"] == 1
    assert query(warehouse, "select nct_id from studies") == [("NCT00973089",)]
