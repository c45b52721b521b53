"""The benchmark kit (bench/): the synthetic registry generator, its mutation mode for the
incremental refresh, and the runner end to end, all at a few hundred studies. No timing
assertions: only that the data is what was asked for and every stage produced a measurement."""
from __future__ import annotations

import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import orjson
import pytest

from pipeline.documents import read_document
from pipeline.documents.model import StudyRecord

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

import generate  # noqa: E402  (bench/generate.py)
import run as bench_run  # noqa: E402  (bench/run.py)

N_STUDIES = 300
NCT_PATTERN = re.compile(r"^NCT\d{8}$")


def read_studies(folder: Path) -> dict[str, list[dict]]:
    """Every study in every document of a folder, by NCT id, read by the pipeline's own reader."""
    studies: dict[str, list[dict]] = {}
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        for item in read_document(path).items:
            assert isinstance(item, StudyRecord), f"{path.name}: {item}"
            studies.setdefault(item.nct_id, []).append(item.study)
    return studies


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("generated")
    manifest = generate.generate(out, N_STUDIES, seed=7, formats=("zip", "ndjson"), workers=1, per_file=1000, log=lambda m: None)
    return out, manifest


def test_generator_writes_the_requested_studies_in_both_formats(generated):
    out, manifest = generated
    assert manifest["studies"] == N_STUDIES
    with zipfile.ZipFile(out / "zip" / generate.ZIP_NAME) as archive:
        names = archive.namelist()
    assert len(names) == N_STUDIES
    ndjson = read_studies(out / "ndjson")
    zipped = read_studies(out / "zip")
    assert len(ndjson) == len(zipped) == N_STUDIES  # unique NCT ids, every one readable
    assert all(len(v) == 1 for v in ndjson.values()) and all(len(v) == 1 for v in zipped.values())
    assert all(NCT_PATTERN.match(nct_id) for nct_id in ndjson)
    assert sorted(names) == sorted(f"{nct_id}.json" for nct_id in ndjson)
    assert all(ndjson[k] == zipped[k] for k in ndjson)  # the same studies in both
    line_count = sum(len((out / f["path"]).read_bytes().splitlines()) for f in manifest["formats"]["ndjson"]["files"])
    assert line_count == N_STUDIES


def test_generated_studies_are_realistic_and_consistent(generated):
    out, manifest = generated
    studies = [v[0] for v in read_studies(out / "ndjson").values()]
    with_results = sum("resultsSection" in s for s in studies)
    assert 0.05 < with_results / N_STUDIES < 0.25
    assert all(s["hasResults"] == ("resultsSection" in s) for s in studies)
    assert len({s["protocolSection"]["statusModule"]["overallStatus"] for s in studies}) >= 5
    assert len({s["protocolSection"]["statusModule"]["lastUpdatePostDateStruct"]["date"][:4] for s in studies}) >= 8
    for study in studies:
        arms = study["protocolSection"].get("armsInterventionsModule", {})
        labels = {a.get("label") for a in arms.get("armGroups", [])}
        names = {f"{i.get('type', '').replace('_', ' ')}: {i.get('name')}".lower() for i in arms.get("interventions", [])}
        for intervention in arms.get("interventions", []):
            assert set(intervention.get("armGroupLabels", [])) <= labels
        for arm in arms.get("armGroups", []):
            assert {n.lower() for n in arm.get("interventionNames", [])} <= names
    sizes = [len(orjson.dumps(s)) for s in studies]
    assert sum(sizes) == manifest["json_bytes"]


def test_long_tail_studies_exist_when_asked(generated, tmp_path):
    out, manifest = generated
    studies = [v[0] for v in read_studies(out / "ndjson").values()]

    def sites(s):
        return len(s["protocolSection"]["contactsLocationsModule"].get("locations", []))

    def outcomes(s):
        module = s["protocolSection"].get("outcomesModule", {})
        return len(module.get("primaryOutcomes", [])) + len(module.get("secondaryOutcomes", []))

    def text_bytes(s):
        return len(s["protocolSection"]["descriptionModule"].get("detailedDescription", "").encode())

    assert any(sites(s) > 1000 for s in studies)
    assert any(outcomes(s) > 100 for s in studies)
    assert any(text_bytes(s) > 1_000_000 for s in studies)
    assert all(len(ids) >= 1 for ids in manifest["long_tail"].values())

    plain = generate.generate(tmp_path, N_STUDIES, seed=7, formats=("ndjson",), workers=1, long_tail=False, log=lambda m: None)
    plain_studies = [v[0] for v in read_studies(tmp_path / "ndjson").values()]
    assert len(plain_studies) == N_STUDIES
    assert not any(sites(s) > 1000 or outcomes(s) > 100 or text_bytes(s) > 1_000_000 for s in plain_studies)
    assert plain["max_study_bytes"] < 1_000_000


def test_generation_is_deterministic_whatever_the_workers(generated, tmp_path):
    out, _ = generated
    generate.generate(tmp_path, N_STUDIES, seed=7, formats=("zip", "ndjson"), workers=2, per_file=1000, log=lambda m: None)
    for relative in ("ndjson/studies-00001.ndjson", f"zip/{generate.ZIP_NAME}"):
        assert (tmp_path / relative).read_bytes() == (out / relative).read_bytes()


def test_replicate_copies_real_records_of_any_form_under_new_ids(tmp_path):
    templates = tmp_path / "templates"
    templates.mkdir()
    for relative in ("ctgov_v2/NCT00763412.json", "ctgov_v2/NCT03064438.json", "registry_exports/000_2c322e512329f80c.txt",
                     "study_pages/003_8d465a5b8d530458.txt"):
        (templates / Path(relative).name).write_bytes((REPO / "data" / "raw" / relative).read_bytes())
    (templates / "NOTES.md").write_text("not a study")
    sources = {}
    for path in sorted(templates.iterdir()):
        if path.suffix != ".md":
            for item in read_document(path).items:
                sources[item.nct_id] = item.study
    assert len(sources) == 4  # a JSON study, a registry export and a study page: every form serves
    ordered = [sources[k] for k in sorted(sources)]

    out = tmp_path / "out"
    manifest = generate.generate(out, 10, seed=3, formats=("zip", "ndjson"), workers=1, per_file=1000, log=lambda m: None,
                                 templates=templates, replicate=True)
    assert manifest["params"]["replicate"] is True and manifest["calibration"]["templates"] == 4
    assert manifest["long_tail"] == {kind: [] for kind in generate.TAIL_KINDS}
    lines = (out / "ndjson" / "studies-00001.ndjson").read_bytes().splitlines()
    assert len(lines) == 10
    copies = [orjson.loads(line) for line in lines]
    assert [c["protocolSection"]["identificationModule"]["nctId"] for c in copies] == [generate.nct_id(i, 3) for i in range(10)]
    for index, copy in enumerate(copies):
        template = ordered[index % 4]
        ident = dict(copy["protocolSection"]["identificationModule"])
        original_ident = dict(template["protocolSection"]["identificationModule"])
        assert ident.pop("nctId") != original_ident.pop("nctId")
        assert len(ident.pop("nctIdAliases", [])) == len(original_ident.pop("nctIdAliases", []))
        assert ident == original_ident
        assert {k: v for k, v in copy["protocolSection"].items() if k != "identificationModule"} == \
            {k: v for k, v in template["protocolSection"].items() if k != "identificationModule"}
        assert {k: v for k, v in copy.items() if k != "protocolSection"} == {k: v for k, v in template.items() if k != "protocolSection"}
    assert {k: v[0] for k, v in read_studies(out / "zip").items()} == {c["protocolSection"]["identificationModule"]["nctId"]: c for c in copies}


def test_xml_format_replicates_legacy_xml_records_as_the_same_studies_the_json_formats_hold(tmp_path):
    templates = REPO / "tests" / "fixtures" / "legacy_xml"
    out = tmp_path / "out"
    manifest = generate.generate(out, 9, seed=3, formats=("xml", "zip", "ndjson"), workers=1, per_file=1000,
                                 log=lambda m: None, templates=templates, replicate=True)
    assert manifest["formats"]["xml"]["files"][0]["path"] == "xml/AllPublicXML.zip"
    with zipfile.ZipFile(out / "xml" / "AllPublicXML.zip") as archive:
        names = archive.namelist()
    assert names == [f"{generate.nct_id(i, 3)[:7]}xxxx/{generate.nct_id(i, 3)}.xml" for i in range(9)]
    # The XML members read back as exactly the studies of the JSON zip: one data set, two forms.
    assert read_studies(out / "xml") == read_studies(out / "zip")
    with pytest.raises(ValueError, match="needs --replicate"):
        generate.generate(tmp_path / "no", 3, formats=("xml",), workers=1, log=lambda m: None, templates=templates)


@pytest.mark.parametrize("mode", ["rewrite", "delta"])
def test_mutate_changes_exactly_the_requested_studies(generated, tmp_path, mode):
    out, _ = generated
    fraction = 0.05
    expected = round(fraction * N_STUDIES)
    report = generate.mutate(out, fraction, seed=7, dst=tmp_path / "mutated", mode=mode, log=lambda m: None)
    assert report["changed"] == len(report["changed_nct_ids"]) == expected
    before = read_studies(out / "ndjson")
    for fmt in ("ndjson", "zip"):
        after = read_studies(tmp_path / "mutated" / fmt)
        assert set(after) == set(before)
        if mode == "rewrite":
            assert all(len(v) == 1 for v in after.values())
            changed = {k for k in before if before[k][0] != after[k][0]}
        else:
            changed = {k for k, v in after.items() if len(v) == 2}
            assert all(before[k][0] in after[k] for k in after)
        assert changed == set(report["changed_nct_ids"])
        for nct_id in changed:
            old = before[nct_id][0]["protocolSection"]["statusModule"]
            new = max(after[nct_id], key=lambda s: s["protocolSection"]["statusModule"]["lastUpdatePostDateStruct"]["date"])
            new = new["protocolSection"]["statusModule"]
            assert new["lastUpdatePostDateStruct"]["date"] > old["lastUpdatePostDateStruct"]["date"]
            assert new["overallStatus"] != old["overallStatus"]
    # Unchanged studies keep their exact bytes.
    old_lines = (out / "ndjson" / "studies-00001.ndjson").read_bytes().splitlines()
    new_lines = (tmp_path / "mutated" / "ndjson" / "studies-00001.ndjson").read_bytes().splitlines()
    differing = sum(a != b for a, b in zip(old_lines, new_lines))
    assert len(old_lines) == len(new_lines)
    assert differing == (expected if mode == "rewrite" else 0)
    if mode == "delta":
        delta = tmp_path / "mutated" / report["formats"]["ndjson"]["delta_file"]
        assert len(delta.read_bytes().splitlines()) == expected


def test_dagster_step_timings_are_parsed():
    log = ('... - warehouse_build - STEP_SUCCESS - Finished execution of step "warehouse_build" in 1.71s.\n'
           '... - parquet_export - STEP_SUCCESS - Finished execution of step "parquet_export" in 478ms.\n')
    assert bench_run.dagster_steps(log) == {"warehouse_build": 1.71, "parquet_export": 0.478}


def test_runner_end_to_end(tmp_path):
    results_path = tmp_path / "results.json"
    completed = subprocess.run(
        [sys.executable, str(REPO / "bench" / "run.py"), "--studies", str(N_STUDIES), "--format", "ndjson",
         "--workdir", str(tmp_path / "work"), "--skip-materialize", "--results", str(results_path)],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    results = json.loads(results_path.read_text())
    assert "| full_build |" in completed.stdout

    assert results["data"]["studies"] == N_STUDIES
    assert results["machine"]["cpu_count"] >= 1 and results["machine"]["duckdb"]
    stages = results["stages"]
    expected = {"baseline_read_json", "baseline_read_json_ndjson", "reader_only", "full_build", "refresh_noop",
                "incremental_rewrite", "incremental_delta", "python_startup", "import_definitions", "trials_build_tiny"}
    assert expected <= set(stages)
    for name in expected:
        stage = stages[name]
        assert stage["failed"] == 0, name
        assert stage["wall_s"] > 0 and stage["peak_rss_mb"] > 0, name
    for name in expected - {"python_startup", "import_definitions"}:
        assert stages[name]["studies_per_s"] > 0 and stages[name]["mb_per_s"] > 0, name
    assert stages["full_build"]["peak_tree_pss_mb"] > 0
    assert stages["baseline_read_json"]["result"]["rows"] == N_STUDIES
    assert stages["baseline_read_json_ndjson"]["result"]["rows"] == N_STUDIES
    assert stages["reader_only"]["result"] == {**stages["reader_only"]["result"], "studies": N_STUDIES, "errors": 0}
    assert stages["incremental_rewrite"]["changed_studies"] == stages["incremental_delta"]["changed_studies"] == 3
    if "--stats-json" in results["build_flags"]:
        assert stages["full_build"]["build_kind"] == "full"
        assert stages["full_build"]["build_stats"]["dagster/row_count"] == N_STUDIES
        # Unless someone edited the pipeline mid-run (the runner notes it), which forces full builds.
        for name, kind in (("refresh_noop", "up_to_date"), ("incremental_delta", "incremental"), ("incremental_rewrite", "incremental")):
            if not stages[name].get("code_changed"):
                assert stages[name]["build_kind"] == kind, name
    notes = [n for n in results["notes"] if "pipeline code changed" not in n and "not incremental" not in n]
    for name, value in results["ratios"].items():
        assert value > 0, name
    assert {"full_build / baseline_read_json", "incremental_delta / full_build"} <= set(results["ratios"])
    assert results["cold_start"]["import_definitions_minus_python_s"] > 0
    # The stages ran on the frozen copy of the code, not the working tree others may be editing.
    assert stages["import_definitions"]["result"]["pipeline_file"].startswith(str(tmp_path / "work" / "code"))
    assert not notes


def test_results_in_duckdb_draws_one_row_per_source_unit(capsys):
    """bench/results_in_duckdb.py sizes a rewrite: its SQL must draw the rows the mapping does
    (it checks that against normalize() itself) and as many as the records hold."""
    import results_in_duckdb  # bench/results_in_duckdb.py

    samples = REPO / "tests" / "fixtures" / "results"
    assert results_in_duckdb.main(["--samples", str(samples), "--copies", "2", "--repeats", "1"]) == 0
    results = [s["resultsSection"] for s in (json.loads(p.read_text()) for p in sorted(samples.glob("*.json")))
               if "resultsSection" in s]
    stats = sum(len(event.get("stats") or []) for r in results for kind in ("seriousEvents", "otherEvents")
                for event in r.get("adverseEventsModule", {}).get(kind) or [])
    measurements = sum(len(category.get("measurements") or []) for r in results
                       for outcome in r.get("outcomeMeasuresModule", {}).get("outcomeMeasures") or []
                       for group in outcome.get("classes") or [] for category in group.get("categories") or [])
    out = capsys.readouterr().out
    assert f"{2 * len(results)} studies with results" in out
    assert f"reported_events ({2 * stats:,} rows) and outcome_measurements ({2 * measurements:,} rows)" in out
    assert (stats, measurements) == (173, 166)


def test_fixed_costs_measures_each_step_against_the_way_it_was_done_before(sample_warehouse, tmp_path, capsys):
    """bench/fixed_costs.py times each side only once both give the same answer (the zip's
    entries field by field, every table's check counts, the whole catalog with its comments)."""
    import shutil

    import fixed_costs  # bench/fixed_costs.py
    from zips import zip_of

    warehouse = tmp_path / "w.duckdb"
    shutil.copy(sample_warehouse, warehouse)  # no connection of another test module meets this one
    archive = tmp_path / "studies.zip"
    archive.write_bytes(zip_of({f"NCT0000000{i}.json": orjson.dumps({"protocolSection": {"identificationModule": {"nctId": f"NCT0000000{i}"}}}) for i in range(1, 4)}))
    assert fixed_costs.main(["--warehouse", str(warehouse), "--zip", str(archive), "--repeats", "1"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert [line.split(" | ")[0] for line in table[2:]] == [
        "| zip directory", "| keys check", "| orphans check", f"| DDL ({len(fixed_costs.statements())} statements)"]
    assert fixed_costs.statements()[0].startswith("create or replace table")

    with pytest.raises(AssertionError, match="zip directory: the two ways disagree"):
        fixed_costs.compare("zip directory", lambda: [1], lambda: [2], repeats=1)


def test_long_text_compares_zstd_with_duckdbs_choice_on_the_same_values(sample_warehouse, tmp_path, capsys, monkeypatch):
    """bench/long_text.py measures every long_text column that holds text, as built and with each
    row made its own, both ways; the two ways must store the same values."""
    import shutil

    import long_text  # bench/long_text.py

    warehouse = tmp_path / "w.duckdb"
    shutil.copy(sample_warehouse, warehouse)
    assert long_text.main(["--warehouse", str(warehouse), "--repeats", "1"]) == 0
    rows = [line.split(" | ") for line in capsys.readouterr().out.splitlines()[2:]]
    eligibility = [row[2:4] for row in rows if row[0] == "| studies.eligibility_criteria"]
    assert eligibility == [["as built", "DuckDB's choice"], ["as built", "zstd"], ["own per row", "DuckDB's choice"], ["own per row", "zstd"]]
    assert [row[2:4] for row in rows if row[0] == "| all"] == eligibility
    assert ("studies", "eligibility_criteria") in long_text.long_text_columns()
    assert ("studies", "official_title") not in long_text.long_text_columns()

    # Each row its own text, in the same words; nulls stay null; the same seed, the same texts.
    texts = ["a b c d e f g h i", None, "one two"]
    shuffled = long_text.own_per_row(texts)
    assert shuffled[1] is None and shuffled[2] == "one two"
    assert sorted(shuffled[0].split()) == sorted(texts[0].split()) and shuffled == long_text.own_per_row(texts)

    checksums = iter([(1, 10), (1, 11)])
    monkeypatch.setattr(long_text, "measure", lambda part, long_text, workdir: {"cpu": 0, "size": 0, "scan": 0, "checksum": next(checksums)})
    with pytest.raises(AssertionError, match="the two ways store different values"):
        long_text.compare(tmp_path / "part.parquet", tmp_path, repeats=1)
