"""Progress for long loads: a live bar on a terminal, periodic log lines elsewhere (the Dagster UI)."""
from __future__ import annotations

import contextlib
import sys
from typing import Callable, Iterator

from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn

LOG_EVERY_FRACTION = 0.1


@contextlib.contextmanager
def byte_progress(total_bytes: int, description: str, log: Callable[[str], None]) -> Iterator[Callable[[int], None]]:
    if sys.stderr.isatty():
        columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(), TimeRemainingColumn())
        with Progress(*columns, transient=True) as progress:
            task = progress.add_task(description, total=total_bytes)
            yield lambda n_bytes: progress.advance(task, n_bytes)
        return
    done = 0
    next_report = LOG_EVERY_FRACTION * total_bytes

    def advance(n_bytes: int) -> None:
        nonlocal done, next_report
        done += n_bytes
        if done >= next_report and total_bytes:
            log(f"{description}: {done / total_bytes:.0%} of {total_bytes / 1e6:.1f} MB")
            next_report += LOG_EVERY_FRACTION * total_bytes

    yield advance
