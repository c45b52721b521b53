"""The worker pool: groups of documents read by worker processes (one per core), or in this one.

Workers pay a start-up cost (~0.5 s to import polars), so small inputs are read in-process.
Batches come back in no fixed order, which the writer does not need: precedence, not arrival,
decides which record wins.
"""
from __future__ import annotations

import gc
import multiprocessing
import os
import queue
import traceback
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator

from pipeline.documents.api_json import ZipMembers

if TYPE_CHECKING:
    from pipeline.warehouse.load.parts import DocumentPart

BatchMaker = Callable[[list["DocumentPart"], dict], Iterator]  # (group, open archives) -> batches


def cpu_count() -> int:
    """Cores this process may run on (a container's CPU set, not the host's)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def max_workers() -> int:
    """Worker processes at most: one per core, or TRIALS_WORKERS if fewer."""
    cores = cpu_count()
    return max(1, min(cores, int(os.environ.get("TRIALS_WORKERS", cores))))


@contextmanager
def collector_paused() -> Iterator[None]:
    """Parsed studies are trees without cycles: while millions of them are made and dropped, the
    cyclic garbage collector only rescans them (it doubles orjson's parse time)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextmanager
def open_archives() -> Iterator[dict[Path, ZipMembers]]:
    """Zip archives kept open while a process reads ranges of their members, closed at the end."""
    archives: dict[Path, ZipMembers] = {}
    try:
        yield archives
    finally:
        for archive in archives.values():
            archive.close()


class WorkerFailed(RuntimeError):
    """A worker process failed; the build stops rather than publish a warehouse missing its documents."""


def batches(groups: list[list[DocumentPart]], n_workers: int, make_batches: BatchMaker) -> Iterator:
    """The batches `make_batches` makes of every group: from `n_workers` worker processes, or in
    this one (0)."""
    if n_workers > 0:
        yield from _parallel_batches(groups, n_workers, make_batches)
        return
    with open_archives() as archives:
        for group in groups:
            yield from make_batches(group, archives)


def _worker(tasks, results, make_batches: BatchMaker) -> None:
    gc.disable()  # see collector_paused; the worker exits when done
    try:
        with open_archives() as archives:
            while (group := tasks.get()) is not None:
                for batch in make_batches(group, archives):
                    results.put(batch)
    except BaseException:  # noqa: BLE001 - reported to the writer, which fails the build
        results.put(WorkerFailed(traceback.format_exc()))
        return
    results.put(None)


# Each worker's polars gets its share of the cores, one thread when the workers fill them (one
# worker per core, the usual case). A polars pool of a thread per core in every worker only
# oversubscribed them, its idle threads spinning on the other workers' cores: two workers at once on
# two cores took 3-4.5% more CPU each (20 groups of real records, alternated runs). At 600,000
# studies, the build's excess over the code before the results tables went from +20.8% (median of
# four pairs) to +5.2% (seven pairs, the next hours; docs/benchmarks.md). A user's setting is kept.
POLARS_THREADS = "POLARS_MAX_THREADS"


@contextmanager
def _worker_environment(n_workers: int) -> Iterator[None]:
    """POLARS_THREADS while worker processes start (a spawned process takes the environment it
    starts with), unless the user has set it; this process's own environment is restored."""
    if POLARS_THREADS in os.environ:
        yield
        return
    os.environ[POLARS_THREADS] = str(max(1, cpu_count() // n_workers))
    try:
        yield
    finally:
        os.environ.pop(POLARS_THREADS, None)


def _parallel_batches(groups: list[list[DocumentPart]], n_workers: int, make_batches: BatchMaker) -> Iterator:
    """Batches from worker processes, each taking the next unread group, largest first."""
    # spawn, not fork: forking a process whose polars and DuckDB thread pools are running can deadlock.
    context = multiprocessing.get_context("spawn")
    tasks = context.Queue()
    results = context.Queue()
    # Largest first, so no big document is left running alone at the end.
    for group in sorted(groups, key=lambda g: -sum(p.size_bytes for p in g)):
        tasks.put(group)
    for _ in range(n_workers):
        tasks.put(None)
    workers = [
        context.Process(target=_worker, args=(tasks, results, make_batches), daemon=True)
        for _ in range(n_workers)
    ]
    with _worker_environment(n_workers):
        for worker in workers:
            worker.start()
    try:
        running = n_workers
        while running:
            try:
                batch = results.get(timeout=5)
            except queue.Empty:
                # A worker killed outright (out of memory) sends nothing: notice it instead of waiting forever.
                if any(w.exitcode not in (None, 0) for w in workers):
                    raise WorkerFailed("a worker process died: " + ", ".join(str(w.exitcode) for w in workers)) from None
                continue
            if isinstance(batch, WorkerFailed):
                raise batch
            if batch is None:
                running -= 1
            else:
                yield batch
        for worker in workers:
            worker.join()
    finally:
        for worker in workers:
            if worker.is_alive():
                worker.kill()
