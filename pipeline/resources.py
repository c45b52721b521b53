"""Resources: where the raw documents are, the warehouse they are built into, and the exports."""
from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import dagster as dg
import duckdb

from pipeline.warehouse.build import DUCKDB_MEMORY_LIMIT

DEFAULT_RAW_DIR = "data/raw"
DEFAULT_WAREHOUSE = "data/warehouse/trials.duckdb"
DEFAULT_EXPORT_DIR = "data/exports"
DEFAULT_MAX_AGE_HOURS = 26.0  # a daily refresh, plus slack for a slow or late run


class RawFolder(dg.ConfigurableResource):
    """The folder analysts drop ClinicalTrials.gov study documents into."""

    path: str = DEFAULT_RAW_DIR

    @property
    def directory(self) -> Path:
        return Path(self.path)


class Warehouse(dg.ConfigurableResource):
    """The published DuckDB warehouse. Builds write a staging file and rename it into place, so
    everything else (checks, exports, analysts) only ever opens it read-only."""

    path: str = DEFAULT_WAREHOUSE
    max_age_hours: float = DEFAULT_MAX_AGE_HOURS

    @property
    def file(self) -> Path:
        return Path(self.path)

    @contextmanager
    def read_only(self) -> Iterator[duckdb.DuckDBPyConnection]:
        # Held to the build's memory limit: the checks after a build group every table by its
        # key, which took 1.85 GB at 600,000 studies (the results tables' rows) without it, 1.2 GB with.
        con = duckdb.connect(self.path, read_only=True, config={"memory_limit": DUCKDB_MEMORY_LIMIT})
        try:
            yield con
        finally:
            con.close()


class ExportFolder(dg.ConfigurableResource):
    """Where the Parquet files and their manifest are written."""

    path: str = DEFAULT_EXPORT_DIR


def raw_dir_from_environment() -> Path:
    return Path(os.environ.get("TRIALS_RAW_DIR", DEFAULT_RAW_DIR))


def default_resources() -> dict[str, dg.ConfigurableResource]:
    # Environment variables let `dagster dev` and the daemon point at other folders without code edits.
    warehouse = os.environ.get("TRIALS_WAREHOUSE", DEFAULT_WAREHOUSE)
    Path(warehouse).parent.mkdir(parents=True, exist_ok=True)
    return {
        "raw_folder": RawFolder(path=str(raw_dir_from_environment())),
        "warehouse": Warehouse(
            path=warehouse, max_age_hours=float(os.environ.get("TRIALS_MAX_AGE_HOURS", DEFAULT_MAX_AGE_HOURS))
        ),
        "export_folder": ExportFolder(path=os.environ.get("TRIALS_EXPORT_DIR", DEFAULT_EXPORT_DIR)),
    }
