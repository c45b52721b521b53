"""The warehouse's files on disk, and the rules that keep the published one always readable.

DuckDB allows one writer or many readers per file, never both. Analysts keep read-only
connections open on the published file all day, so a build never writes to it: it builds a
private staging file beside it and publishes that with an atomic rename. Readers already
connected keep the old file (the inode stays alive while they hold it), new connections open the
new one, and a build killed at any moment leaves either the old or the new file in place. An
exclusive lock (flock, released by the kernel when its holder dies) lets one build at a time own
the staging file and the history file; the next holder removes what a killed build left.
"""
from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import shutil
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

STAGING_MARKER = ".building-"


class BuildLocked(RuntimeError):
    """Another build holds the warehouse."""


@dataclass(frozen=True)
class WarehouseFiles:
    """Every file that belongs to one warehouse, derived from the published path."""

    published: Path

    @property
    def lock(self) -> Path:
        return self.published.with_name(self.published.name + ".lock")

    @property
    def history(self) -> Path:
        """Study history: kept apart from the rebuildable tables, so no rebuild can lose it."""
        return self.published.with_name(f"{self.published.stem}.history{self.published.suffix}")

    @property
    def checked(self) -> Path:
        """When a refresh last confirmed the published build still matches the raw folder."""
        return self.published.with_name(self.published.name + ".checked.json")

    def new_staging(self) -> Path:
        return self.published.with_name(f"{self.published.name}{STAGING_MARKER}{os.getpid()}")

    def leftovers(self) -> list[Path]:
        """Staging files, their WALs and Parquet parts, of builds that died before publishing."""
        prefix = self.published.name + STAGING_MARKER
        return sorted(self.published.parent.glob(prefix + "*"))


def parts_folder(staging: Path) -> Path:
    """Where a full build's workers leave Parquet parts for the writer."""
    return staging.with_name(staging.name + ".parts")


@contextmanager
def build_lock(files: WarehouseFiles, wait_seconds: float = 0.0, poll_seconds: float = 0.2) -> Iterator[None]:
    """Hold the warehouse's build lock; raise BuildLocked if another build keeps it past wait_seconds."""
    files.published.parent.mkdir(parents=True, exist_ok=True)
    handle = open(files.lock, "a+")
    try:
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    handle.seek(0)
                    holder = handle.read().strip() or "unknown"
                    raise BuildLocked(
                        f"another build is running on {files.published} ({holder}); "
                        "wait for it to finish, or allow a wait (trials build --wait SECONDS, or the wait_seconds config)"
                    ) from None
                time.sleep(poll_seconds)
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}, started {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M:%S} UTC\n")
        handle.flush()
        yield
    finally:
        handle.close()  # closing the descriptor releases the flock


def remove_leftovers(files: WarehouseFiles) -> list[Path]:
    """Delete what killed builds left. Only call while holding the build lock."""
    removed = files.leftovers()
    for path in removed:
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    return removed


def start_staging(files: WarehouseFiles, from_published: bool) -> Path:
    """A private file to build into: a copy of the published warehouse, or nothing (a full build)."""
    staging = files.new_staging()
    discard_staging(staging)
    if from_published:
        # The published file is never written after its rename, so a plain copy is a consistent snapshot.
        shutil.copyfile(files.published, staging)
    return staging


def discard_staging(staging: Path) -> None:
    for path in (staging, staging.with_name(staging.name + ".wal")):
        path.unlink(missing_ok=True)
    shutil.rmtree(parts_folder(staging), ignore_errors=True)


def publish(files: WarehouseFiles, staging: Path) -> None:
    """Make the staging file the published warehouse, atomically and durably.

    The caller has closed its connection, so DuckDB has checkpointed and removed the WAL: the
    staging file alone holds the whole build.
    """
    shutil.rmtree(parts_folder(staging), ignore_errors=True)
    _fsync(staging)
    os.replace(staging, files.published)
    _fsync_directory(files.published.parent)


def published_is_whole(files: WarehouseFiles) -> bool:
    """A published file with no WAL beside it: every build since the rename scheme writes it that way."""
    wal = files.published.with_name(files.published.name + ".wal")
    return files.published.is_file() and not wal.exists()


def record_check(files: WarehouseFiles, sources_hash: str) -> None:
    """Note that a refresh found the raw folder unchanged, for the freshness check."""
    payload = {"checked_at": dt.datetime.now(dt.timezone.utc).isoformat(), "sources_hash": sources_hash}
    temporary = files.checked.with_name("." + files.checked.name + ".tmp")
    temporary.write_text(json.dumps(payload))
    os.replace(temporary, files.checked)


def read_check(files: WarehouseFiles) -> dict | None:
    try:
        return json.loads(files.checked.read_text())
    except (OSError, ValueError):
        return None


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
