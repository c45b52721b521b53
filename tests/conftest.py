"""Shared fixtures: warehouses built the way `trials build` builds them, each in its own temp dir.

The sample warehouse (every document in data/raw) is built once per session through the CLI,
which runs the Dagster job in-process, and opened read-only per test module; tests never share
an on-disk database outside pytest's temp dirs.
"""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Callable

import duckdb
import pytest

from pipeline import cli

REPO_ROOT = Path(__file__).resolve().parent.parent
SAMPLE_RAW_DIR = REPO_ROOT / "data" / "raw"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def build_with_cli(raw_dir: Path, warehouse: Path) -> Path:
    exit_code = cli.main(["build", "--raw-dir", str(raw_dir), "--warehouse", str(warehouse)])
    assert exit_code == 0, f"trials build exited {exit_code} for {raw_dir}"
    return warehouse


@pytest.fixture(scope="session")
def build_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """Build a warehouse from files copied into a fresh raw dir: `build_warehouse({dest: source})`.

    Keys are paths relative to the raw dir (they become documents.document_path); values are the
    files to copy there.
    """

    def build(files: dict[str, Path], name: str = "w") -> Path:
        root = tmp_path_factory.mktemp(name)
        raw_dir = root / "raw"
        raw_dir.mkdir()
        for relative, source in files.items():
            target = raw_dir / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
        return build_with_cli(raw_dir, root / "warehouse.duckdb")

    return build


@pytest.fixture(scope="session")
def sample_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_with_cli(SAMPLE_RAW_DIR, tmp_path_factory.mktemp("sample") / "warehouse.duckdb")


@pytest.fixture(scope="module")
def sample_con(sample_warehouse: Path):
    # Module-scoped: DuckDB refuses a read-write connection to a file this process holds open
    # read-only, so a test module that writes to (or exports from) the warehouse must not meet
    # a connection left open by an earlier module.
    con = duckdb.connect(str(sample_warehouse), read_only=True)
    yield con
    con.close()
