"""Progress for long loads: a live bar on a terminal, periodic log lines elsewhere (the Dagster UI)."""
from __future__ import annotations

import contextlib
import sys
from typing import Callable, Iterator

from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn

LOG_EVERY_FRACTION = 0.1


class ByteProgress:
    """Bytes read out of a total that is known only once the build knows what it will read."""

    def __init__(self, description: str, log: Callable[[str], None], bar: Progress | None) -> None:
        self.description, self.log, self.bar = description, log, bar
        self.task = None
        self.total = self.done = 0
        self.next_report = 0.0

    def set_total(self, total_bytes: int, done_bytes: int = 0) -> None:
        """The total, and how much of it is already done (a resumed download); again when either changes."""
        self.total, self.done = total_bytes, done_bytes
        self.next_report = done_bytes + LOG_EVERY_FRACTION * total_bytes
        if self.bar is None:
            return
        if self.task is None:
            self.task = self.bar.add_task(self.description, total=total_bytes, completed=done_bytes)
        else:
            self.bar.update(self.task, total=total_bytes, completed=done_bytes)

    def advance(self, n_bytes: int) -> None:
        if self.task is not None:
            self.bar.advance(self.task, n_bytes)
            return
        self.done += n_bytes
        if self.total and self.done >= self.next_report:
            self.log(f"{self.description}: {self.done / self.total:.0%} of {self.total / 1e6:.1f} MB")
            self.next_report += LOG_EVERY_FRACTION * self.total


@contextlib.contextmanager
def byte_progress(description: str, log: Callable[[str], None]) -> Iterator[ByteProgress]:
    if sys.stderr.isatty():
        columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(), TimeRemainingColumn())
        with Progress(*columns, transient=True) as bar:
            yield ByteProgress(description, log, bar)
        return
    yield ByteProgress(description, log, None)
