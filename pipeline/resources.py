"""Resources: where the raw documents are, and the DuckDB warehouse they are loaded into."""
from __future__ import annotations

import os
from pathlib import Path

import dagster as dg
from dagster_duckdb import DuckDBResource

DEFAULT_RAW_DIR = "data/raw"
DEFAULT_WAREHOUSE = "data/warehouse/trials.duckdb"
DEFAULT_EXPORT_DIR = "data/exports"


class RawFolder(dg.ConfigurableResource):
    """The folder analysts drop ClinicalTrials.gov study documents into."""

    path: str = DEFAULT_RAW_DIR

    @property
    def directory(self) -> Path:
        return Path(self.path)


class ExportFolder(dg.ConfigurableResource):
    """Where the Parquet files and their manifest are written."""

    path: str = DEFAULT_EXPORT_DIR


def default_resources() -> dict[str, dg.ConfigurableResource]:
    # Environment variables let `dagster dev` and the daemon point at other folders without code edits.
    warehouse = os.environ.get("TRIALS_WAREHOUSE", DEFAULT_WAREHOUSE)
    Path(warehouse).parent.mkdir(parents=True, exist_ok=True)
    return {
        "raw_folder": RawFolder(path=os.environ.get("TRIALS_RAW_DIR", DEFAULT_RAW_DIR)),
        "duckdb": DuckDBResource(database=warehouse),
        "export_folder": ExportFolder(path=os.environ.get("TRIALS_EXPORT_DIR", DEFAULT_EXPORT_DIR)),
    }
