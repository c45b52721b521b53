"""Parquet export: DuckDB's COPY must keep DATE and LIST columns as such (notebooks rely on it),
and the manifest must agree with the warehouse it was written from.

Upstream quirk pinned here: DuckDB writes a JSON column to Parquet as bytes annotated JSON, which
polars and pandas read as Binary; the export writes such columns as UTF-8 strings instead."""
from __future__ import annotations

import json
import runpy
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipeline import cli
from pipeline.tables.schema import ALL_TABLES
from pipeline.warehouse.models import discover_models

REPO_ROOT = Path(__file__).resolve().parent.parent
MODEL_TABLES = [m.name for m in discover_models() if not m.is_macro]


@pytest.fixture(scope="module")
def export_dir(sample_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("export")
    assert cli.main(["export", "--warehouse", str(sample_warehouse), "--out", str(out)]) == 0
    return out


def test_every_table_and_model_is_exported_with_its_row_count(export_dir: Path, sample_con):
    manifest = json.loads((export_dir / "manifest.json").read_text())
    expected = [t.name for t in ALL_TABLES] + MODEL_TABLES
    assert sorted(manifest["tables"]) == sorted(expected)
    for name in expected:
        warehouse_rows = sample_con.execute(f'select count(*) from "{name}"').fetchall()[0][0]
        parquet_rows = duckdb.sql(f"select count(*) from read_parquet('{export_dir / (name + '.parquet')}')").fetchall()[0][0]
        assert manifest["tables"][name]["rows"] == warehouse_rows == parquet_rows, name
    assert manifest["tables"]["studies"]["rows"] == 252
    built_at, sources_hash = sample_con.execute("select built_at, sources_hash from build_info").fetchall()[0]
    assert manifest["built_at"] == built_at.isoformat()
    assert manifest["sources_hash"] == sources_hash and len(sources_hash) == 64


def test_column_types_round_trip(export_dir: Path, sample_con):
    for name in [t.name for t in ALL_TABLES] + MODEL_TABLES:
        warehouse_types = sample_con.execute(
            "select column_name, data_type from duckdb_columns() where schema_name = 'main' and table_name = ? order by column_index",
            [name],
        ).fetchall()
        parquet_types = duckdb.sql(f"describe select * from read_parquet('{export_dir / (name + '.parquet')}')").fetchall()
        exported = [(column, "VARCHAR" if data_type == "JSON" else data_type) for column, data_type in warehouse_types]
        assert exported == [(r[0], r[1]) for r in parquet_types], name


def test_json_columns_are_utf8_strings_in_polars(export_dir: Path, sample_con):
    sections = pl.read_parquet(export_dir / "record_sections.parquet")
    assert sections.schema["section_json"] == pl.String
    manifest = json.loads((export_dir / "manifest.json").read_text())
    assert manifest["tables"]["record_sections"]["columns"] == {"nct_id": "VARCHAR", "section": "VARCHAR", "section_json": "VARCHAR"}
    first = sections.sort("nct_id", "section").row(0, named=True)
    in_warehouse = sample_con.execute(
        "select section_json::varchar from record_sections where nct_id = ? and section = ?", [first["nct_id"], first["section"]]
    ).fetchall()
    assert [(first["section_json"],)] == in_warehouse
    assert isinstance(json.loads(first["section_json"]), dict)


def test_dates_stay_dates_and_lists_stay_lists_in_polars(export_dir: Path):
    studies = pl.read_parquet(export_dir / "studies.parquet")
    assert studies.schema["start_date"] == pl.Date
    assert studies.schema["phases"] == pl.List(pl.String)
    seed = studies.filter(pl.col("nct_id") == "NCT06486350").row(0, named=True)
    assert str(seed["completion_date"]) == "2025-06-30"
    assert seed["std_ages"] == ["ADULT", "OLDER_ADULT"]
    overview = pl.read_parquet(export_dir / "study_overview.parquet")
    assert overview.schema["conditions"] == pl.List(pl.String)


def test_export_of_chosen_tables_only(sample_warehouse: Path, tmp_path: Path):
    assert cli.main(["export", "--warehouse", str(sample_warehouse), "--out", str(tmp_path), "--tables", "sites", "country_summary"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["country_summary.parquet", "manifest.json", "sites.parquet"]
    assert cli.main(["export", "--warehouse", str(sample_warehouse), "--out", str(tmp_path), "--tables", "no_such_table"]) == 2


def test_example_notebook_runs_headless_and_draws_its_plots(export_dir: Path, tmp_path: Path, monkeypatch):
    monkeypatch.setenv("TRIALS_EXPORT_DIR", str(export_dir))
    monkeypatch.setenv("TRIALS_FIGURES_DIR", str(tmp_path))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    runpy.run_path(str(REPO_ROOT / "examples" / "explore_export.py"), run_name="__main__")
    for figure in ("studies_per_country.png", "enrollment_by_phase.png"):
        assert (tmp_path / figure).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
