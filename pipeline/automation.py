"""Automation: the daily refresh schedule and the raw-folder sensor, both running `build_warehouse`.

`daily_warehouse_refresh` (schedule)
    Runs the build job once a day. Cron from `TRIALS_REFRESH_CRON` (default "0 6 * * *"),
    timezone from `TRIALS_REFRESH_TIMEZONE` (default "UTC"); both are read when the definitions
    load, so restart the code server / daemon after changing them.

`raw_folder_sensor` (sensor)
    Every `minimum_interval_seconds` (30 s) it lists the raw folder - the `raw_folder` resource,
    i.e. `TRIALS_RAW_DIR` read by `pipeline.resources.default_resources()`, so it watches exactly
    the folder the build reads - and requests one build when the folder has changed and settled:

    * fingerprint: sha256 of the sorted (relative path, size, mtime_ns) of every file, skipping any
      path with a component starting with "." (downloads write hidden temp files and rename them
      into place when complete; `.gitkeep` is not a document either). Symlinked files count,
      symlinked directories are not descended into - the same files the build's inventory reads.
      File contents are never read (the build hashes them itself), so a tick is one stat per file.
    * settled: the fingerprint is the one seen on the previous tick (so never on the first tick
      that sees a new state) AND nothing has changed for `TRIALS_SENSOR_SETTLE_SECONDS` (default
      30): the newest mtime is at least that old, or the same fingerprint has been observed for at
      least that long (the latter covers copies that preserve, or skew, mtimes into the future).
    * a run is requested only when the settled fingerprint differs from the one last requested;
      and not while a `build_warehouse` run is queued or in progress (builds of one warehouse
      must not overlap): the sensor waits and requests the new state once that run is finished.
    * state lives in the sensor cursor (JSON: last requested fingerprint, fingerprint seen on the
      previous tick and when it was first seen). A missing or unreadable cursor means "nothing
      requested yet": turning the sensor on requests one build of the current folder.
    * run_key = fingerprint + the time that state was first observed, so re-evaluating a tick never
      launches twice, while a folder that goes A -> B -> A (a file moved out and back keeps its
      mtime) still rebuilds A: a key of the fingerprint alone would be deduplicated by Dagster
      forever and leave the warehouse built from B.
    A run that fails is not retried by the sensor (its state was requested); rerun it from the UI
    or let the daily schedule pick it up.

Default status: both are STOPPED unless `TRIALS_AUTOMATION=on` (also accepted: 1, true, yes,
running; off/0/false/no/empty = stopped; anything else is an error, so a typo cannot silently
leave production unautomated). Stopped is the safe default for development: `dagster dev` on a
laptop must not start rebuilding a warehouse on its own. Operators turn them on in the UI
(Automation tab) or by setting `TRIALS_AUTOMATION=on` for the code server and daemon. Note that
Dagster only uses the default status while the instance has no stored state for the schedule or
sensor: once someone toggles it in the UI, that choice (kept in `DAGSTER_HOME`) wins.

Runs from both carry the tag `trials/warehouse=writer`; a `concurrency.runs.tag_concurrency_limits`
entry of limit 1 on it in `dagster.yaml` keeps two builds from ever writing at once.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import time
import zoneinfo
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import dagster as dg

from pipeline.resources import RawFolder

# The job in pipeline.definitions (BUILD_JOB_NAME); named, not imported, because the definitions
# import this module. tests/test_automation.py checks the two agree.
BUILD_JOB_NAME = "build_warehouse"

SCHEDULE_NAME = "daily_warehouse_refresh"
SENSOR_NAME = "raw_folder_sensor"

DEFAULT_REFRESH_CRON = "0 6 * * *"
DEFAULT_REFRESH_TIMEZONE = "UTC"
DEFAULT_SETTLE_SECONDS = 30.0
SENSOR_INTERVAL_SECONDS = 30

# Runs that write the warehouse; limit this tag to 1 in dagster.yaml (see the module docstring).
WRITER_TAGS = {"trials/warehouse": "writer"}

_ON = {"on", "1", "true", "yes", "running"}
_OFF = {"off", "0", "false", "no", "stopped", ""}
# Runs that are building, or about to build, the warehouse.
_ACTIVE_RUN_STATUSES = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]


# ---- configuration -----------------------------------------------------------------------------


def automation_enabled() -> bool:
    """`TRIALS_AUTOMATION`: on -> schedule and sensor default to RUNNING, otherwise STOPPED."""
    value = os.environ.get("TRIALS_AUTOMATION", "").strip().lower()
    if value in _ON:
        return True
    if value in _OFF:
        return False
    raise ValueError(f"TRIALS_AUTOMATION must be 'on' or 'off', not {value!r}")


def refresh_cron() -> str:
    return os.environ.get("TRIALS_REFRESH_CRON", "").strip() or DEFAULT_REFRESH_CRON


def refresh_timezone() -> str:
    return os.environ.get("TRIALS_REFRESH_TIMEZONE", "").strip() or DEFAULT_REFRESH_TIMEZONE


def settle_seconds() -> float:
    raw = os.environ.get("TRIALS_SENSOR_SETTLE_SECONDS", "").strip()
    if not raw:
        return DEFAULT_SETTLE_SECONDS
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value >= 0:  # also rejects nan
        raise ValueError(f"TRIALS_SENSOR_SETTLE_SECONDS must be a number of seconds >= 0, not {raw!r}")
    return value


# ---- the schedule ------------------------------------------------------------------------------


def make_refresh_schedule(
    cron: str | None = None,
    timezone: str | None = None,
    *,
    enabled: bool | None = None,
    job_name: str = BUILD_JOB_NAME,
) -> dg.ScheduleDefinition:
    """The daily refresh; arguments left as None come from the environment (see the docstring)."""
    cron = cron if cron is not None else refresh_cron()
    timezone = timezone if timezone is not None else refresh_timezone()
    try:
        zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f"unknown timezone {timezone!r} for {SCHEDULE_NAME} (TRIALS_REFRESH_TIMEZONE)") from error
    enabled = automation_enabled() if enabled is None else enabled
    return dg.ScheduleDefinition(
        name=SCHEDULE_NAME,
        cron_schedule=cron,
        execution_timezone=timezone,
        job_name=job_name,
        tags={**WRITER_TAGS, "trials/trigger": SCHEDULE_NAME},
        default_status=dg.DefaultScheduleStatus.RUNNING if enabled else dg.DefaultScheduleStatus.STOPPED,
        description=(
            f"Rebuild the whole warehouse ({job_name}) at '{cron}' {timezone}. "
            "Cron and timezone: TRIALS_REFRESH_CRON, TRIALS_REFRESH_TIMEZONE."
        ),
    )


# ---- the sensor --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FolderSnapshot:
    fingerprint: str
    n_files: int
    newest_mtime_ns: int | None


def snapshot_folder(raw_dir: Path) -> FolderSnapshot:
    """Fingerprint of the folder's non-hidden files from their names, sizes and mtimes (no reads)."""
    entries: list[tuple[str, int, int]] = []
    # A stack, not recursion: a hostile tree may be thousands of folders deep.
    folders = [(str(raw_dir), "")]
    while folders:
        directory, prefix = folders.pop()
        try:
            with os.scandir(directory) as it:
                children = list(it)
        except OSError:
            continue  # vanished mid-scan (the fingerprint still changes), unreadable, or a path too long
        for entry in children:
            if entry.name.startswith("."):
                continue
            relative = f"{prefix}{entry.name}"
            try:
                if entry.is_dir(follow_symlinks=False):
                    folders.append((entry.path, relative + "/"))
                elif entry.is_file():
                    stat = entry.stat()
                    entries.append((relative, stat.st_size, stat.st_mtime_ns))
            except OSError:
                continue
    entries.sort()
    digest = hashlib.sha256()
    for relative, size, mtime_ns in entries:
        digest.update(f"{relative}\0{size}\0{mtime_ns}\n".encode(errors="surrogateescape"))  # names need not be UTF-8
    newest = max((mtime_ns for _, _, mtime_ns in entries), default=None)
    return FolderSnapshot(digest.hexdigest(), len(entries), newest)


@dataclass(slots=True)
class SensorCursor:
    requested: str | None = None  # fingerprint of the last state a run was requested for
    seen: str | None = None  # fingerprint seen on the previous tick
    seen_since: float | None = None  # when `seen` was first observed (epoch seconds)

    @classmethod
    def parse(cls, cursor: str | None) -> SensorCursor:
        try:
            data = json.loads(cursor or "{}")
            return cls(
                requested=data.get("requested"),
                seen=data.get("seen"),
                seen_since=float(data["seen_since"]) if data.get("seen_since") is not None else None,
            )
        except (ValueError, TypeError, AttributeError, KeyError):
            return cls()  # unreadable: start over, as if nothing was requested yet

    def dump(self) -> str:
        return json.dumps({"requested": self.requested, "seen": self.seen, "seen_since": self.seen_since}, sort_keys=True)


def _describe(snap: FolderSnapshot, now: float) -> str:
    files = f"{snap.n_files} file{'' if snap.n_files == 1 else 's'}"
    if snap.newest_mtime_ns is None:
        return files
    age = now - snap.newest_mtime_ns / 1e9
    when = f"{age:.0f}s ago" if age >= 0 else f"{-age:.0f}s in the future"
    return f"{files}, newest modified {when}"


def _active_build_run(context: dg.SensorEvaluationContext, job_name: str) -> dg.DagsterRun | None:
    try:
        instance = context.instance
    except dg.DagsterInvariantViolationError:
        return None  # evaluated without an instance (unit tests): nothing to ask
    runs = instance.get_runs(
        filters=dg.RunsFilter(job_name=job_name, statuses=_ACTIVE_RUN_STATUSES), limit=1
    )
    return runs[0] if runs else None


def make_raw_folder_sensor(
    *,
    settle: float | None = None,
    clock: Callable[[], float] = time.time,
    enabled: bool | None = None,
    job_name: str = BUILD_JOB_NAME,
    minimum_interval_seconds: int = SENSOR_INTERVAL_SECONDS,
) -> dg.SensorDefinition:
    """The raw-folder sensor. The folder is the `raw_folder` resource; `clock` is injectable for tests."""
    settle = settle_seconds() if settle is None else settle
    enabled = automation_enabled() if enabled is None else enabled

    @dg.sensor(
        name=SENSOR_NAME,
        job_name=job_name,
        minimum_interval_seconds=minimum_interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING if enabled else dg.DefaultSensorStatus.STOPPED,
        description=(
            f"Request a {job_name} run when files under the raw folder are added, changed or removed, "
            f"once nothing has changed for {settle:g}s (TRIALS_SENSOR_SETTLE_SECONDS). Hidden files are ignored."
        ),
    )
    def raw_folder_sensor(context: dg.SensorEvaluationContext, raw_folder: RawFolder) -> dg.SensorResult:
        now = clock()
        state = SensorCursor.parse(context.cursor)
        raw_dir = raw_folder.directory
        if not raw_dir.is_dir():
            return dg.SensorResult(
                skip_reason=dg.SkipReason(f"raw folder {raw_dir} does not exist or is not a directory"),
                cursor=state.dump(),
            )

        snap = snapshot_folder(raw_dir)
        first_sight = snap.fingerprint != state.seen or state.seen_since is None
        if first_sight:
            state.seen, state.seen_since = snap.fingerprint, now
        described = _describe(snap, now)

        if snap.fingerprint == state.requested:
            return dg.SensorResult(
                skip_reason=dg.SkipReason(f"no change since the last requested run ({described})"),
                cursor=state.dump(),
            )
        if first_sight:  # a state seen on one tick only may be mid-copy: look again next tick
            return dg.SensorResult(
                skip_reason=dg.SkipReason(
                    f"raw folder still changing ({described}); checking again next tick before requesting a run"
                ),
                cursor=state.dump(),
            )
        mtime_quiet = float("inf") if snap.newest_mtime_ns is None else now - snap.newest_mtime_ns / 1e9
        if max(mtime_quiet, now - state.seen_since) < settle:
            return dg.SensorResult(
                skip_reason=dg.SkipReason(
                    f"raw folder still changing ({described}); waiting until nothing has changed for {settle:g}s"
                ),
                cursor=state.dump(),
            )
        active = _active_build_run(context, job_name)
        if active is not None:
            return dg.SensorResult(
                skip_reason=dg.SkipReason(
                    f"raw folder changed ({described}) but {job_name} run {active.run_id} is "
                    f"{active.status.value.lower()}; requesting a run once it has finished"
                ),
                cursor=state.dump(),
            )

        run_key = f"raw-{snap.fingerprint[:16]}-{dt.datetime.fromtimestamp(state.seen_since, dt.timezone.utc):%Y%m%dT%H%M%S%fZ}"
        state.requested = snap.fingerprint
        context.log.info(f"raw folder changed ({described}): requesting {job_name} ({run_key})")
        return dg.SensorResult(
            run_requests=[
                dg.RunRequest(
                    run_key=run_key,
                    tags={
                        **WRITER_TAGS,
                        "trials/trigger": SENSOR_NAME,
                        "trials/raw_fingerprint": snap.fingerprint[:16],
                        "trials/raw_files": str(snap.n_files),
                    },
                )
            ],
            cursor=state.dump(),
        )

    return raw_folder_sensor


daily_warehouse_refresh = make_refresh_schedule()
raw_folder_sensor = make_raw_folder_sensor()
