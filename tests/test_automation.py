"""The daily refresh schedule and the raw-folder sensor (pipeline/automation.py).

The sensor is evaluated tick by tick against a temp raw folder with a fake clock: file mtimes are
set relative to that clock, so "30 seconds later" costs no sleeping.
"""
from __future__ import annotations

import builtins
import datetime as dt
import io
import os
from pathlib import Path

import dagster as dg
import pytest

from pipeline import automation
from pipeline.automation import (
    SCHEDULE_NAME,
    SENSOR_NAME,
    SensorCursor,
    make_raw_folder_sensor,
    make_refresh_schedule,
    snapshot_folder,
)
from pipeline.resources import DEFAULT_RAW_DIR, RawFolder

T0 = 1_800_000_000.0  # the fake clock's start (epoch seconds)


class Clock:
    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Ticker:
    """Evaluates a sensor the way the daemon does: each tick gets the cursor the previous one left."""

    def __init__(self, raw_dir: Path, clock: Clock, *, settle: float = 30, instance: dg.DagsterInstance | None = None):
        self.raw_dir, self.clock, self.instance = raw_dir, clock, instance
        self.sensor = make_raw_folder_sensor(settle=settle, clock=clock, enabled=False)
        self.cursor: str | None = None

    def tick(self, after: float = 0) -> dg.SensorExecutionData:
        self.clock.advance(after)
        with dg.build_sensor_context(
            cursor=self.cursor,
            resources={"raw_folder": RawFolder(path=str(self.raw_dir))},
            instance=self.instance,
        ) as context:
            result = self.sensor.evaluate_tick(context)
        self.cursor = result.cursor
        return result


def put(raw_dir: Path, relative: str, text: str, at: float) -> Path:
    path = raw_dir / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    ns = int(at * 1e9)
    os.utime(path, ns=(ns, ns))
    return path


def requested(result: dg.SensorExecutionData) -> list[dg.RunRequest]:
    return list(result.run_requests or [])


def skipped(result: dg.SensorExecutionData, message: str) -> bool:
    return not requested(result) and message in (result.skip_message or "")


@pytest.fixture
def raw(tmp_path: Path) -> Path:
    directory = tmp_path / "raw"
    directory.mkdir()
    return directory


@pytest.fixture
def clock() -> Clock:
    return Clock()


# ---- the sensor --------------------------------------------------------------------------------


def test_a_changed_folder_requests_exactly_one_run_once_settled(raw: Path, clock: Clock) -> None:
    put(raw, "ctgov_v2/NCT00000001.json", "{}", at=clock.now)
    put(raw, "legacy/NCT00000002.xml", "<x/>", at=clock.now)
    ticker = Ticker(raw, clock)

    first = ticker.tick()
    assert skipped(first, "raw folder still changing (2 files, newest modified 0s ago)")

    second = ticker.tick(after=30)
    (run,) = requested(second)
    assert run.run_key.startswith("raw-")
    assert run.tags["trials/trigger"] == SENSOR_NAME
    assert run.tags["trials/raw_files"] == "2"
    assert run.tags["trials/warehouse"] == "writer"

    for _ in range(3):
        later = ticker.tick(after=30)
        assert skipped(later, "no change since the last requested run (2 files, newest modified")


def test_the_sensor_targets_the_build_job() -> None:
    sensor = make_raw_folder_sensor(enabled=False)
    assert sensor.name == SENSOR_NAME
    assert sensor.job_name == "build_warehouse"
    assert sensor.minimum_interval_seconds == 30
    assert sensor.default_status == dg.DefaultSensorStatus.STOPPED


def test_while_files_keep_changing_between_ticks_it_skips(raw: Path, clock: Clock) -> None:
    ticker = Ticker(raw, clock)
    big = raw / "big_download.json"
    for n in range(1, 6):  # a slow copy: the file grows between every tick
        clock.advance(30)
        put(raw, big.name, "x" * (1000 * n), at=clock.now)
        result = ticker.tick()
        assert skipped(result, "raw folder still changing (1 file, newest modified 0s ago)")
    # The copy finished at the last tick; the next tick sees the same folder, now quiet for 30s.
    assert len(requested(ticker.tick(after=30))) == 1


def test_it_waits_for_the_settle_period_after_the_newest_change(raw: Path, clock: Clock) -> None:
    ticker = Ticker(raw, clock, settle=90)
    put(raw, "a.json", "{}", at=clock.now)
    assert skipped(ticker.tick(), "raw folder still changing (1 file, newest modified 0s ago)")
    assert skipped(ticker.tick(after=30), "raw folder still changing (1 file, newest modified 30s ago); waiting until nothing has changed for 90s")
    assert skipped(ticker.tick(after=30), "newest modified 60s ago")
    assert len(requested(ticker.tick(after=30))) == 1


def test_a_folder_with_old_mtimes_still_needs_two_identical_ticks(raw: Path, clock: Clock) -> None:
    # `cp -p`, rsync -t, unzip: the files keep their old mtimes, so only the second look counts.
    put(raw, "a.json", "{}", at=clock.now - 86_400)
    ticker = Ticker(raw, clock)
    assert skipped(ticker.tick(), "raw folder still changing (1 file, newest modified 86400s ago)")
    assert len(requested(ticker.tick(after=30))) == 1


def test_mtimes_in_the_future_settle_once_the_folder_was_seen_unchanged_for_the_settle_period(raw: Path, clock: Clock) -> None:
    put(raw, "a.json", "{}", at=clock.now + 3600)  # clock skew on the machine that wrote it
    ticker = Ticker(raw, clock, settle=60)
    assert skipped(ticker.tick(), "newest modified 3600s in the future")
    assert skipped(ticker.tick(after=30), "waiting until nothing has changed for 60s")
    assert len(requested(ticker.tick(after=30))) == 1


def test_an_unchanged_folder_skips(raw: Path, clock: Clock) -> None:
    put(raw, "a.json", "{}", at=clock.now - 600)
    ticker = Ticker(raw, clock)
    ticker.tick()
    assert len(requested(ticker.tick(after=30))) == 1
    assert skipped(ticker.tick(after=30), "no change since the last requested run (1 file, newest modified 660s ago)")
    assert skipped(ticker.tick(after=3600), "no change since the last requested run")


def test_changed_added_and_removed_files_each_trigger_one_more_run(raw: Path, clock: Clock) -> None:
    a = put(raw, "a.json", "{}", at=clock.now - 600)
    ticker = Ticker(raw, clock)
    ticker.tick()
    keys = [requested(ticker.tick(after=30))[0].run_key]

    def settle_and_request() -> None:
        assert skipped(ticker.tick(after=30), "raw folder still changing")
        (run,) = requested(ticker.tick(after=30))
        keys.append(run.run_key)
        assert skipped(ticker.tick(after=30), "no change since the last requested run")

    put(raw, "a.json", '{"edited": true}', at=clock.now)  # changed
    settle_and_request()
    put(raw, "sub/b.json", "{}", at=clock.now)  # added
    settle_and_request()
    a.unlink()  # removed: no mtime moves, the listing does
    settle_and_request()
    assert len(set(keys)) == 4


def test_hidden_temp_files_and_folders_are_ignored(raw: Path, clock: Clock) -> None:
    put(raw, "a.json", "{}", at=clock.now - 600)
    ticker = Ticker(raw, clock)
    ticker.tick()
    assert len(requested(ticker.tick(after=30))) == 1

    # A download in progress: hidden temp file, hidden folders anywhere in the path, .gitkeep.
    temp = put(raw, ".b.json.part", "{partial", at=clock.now)
    put(raw, ".cache/c.json", "{}", at=clock.now)
    put(raw, "sub/.d.json.swp", "x", at=clock.now)
    put(raw, "sub/.hidden/e.json", "{}", at=clock.now)
    put(raw, ".gitkeep", "", at=clock.now)
    for _ in range(3):
        assert skipped(ticker.tick(after=30), "no change since the last requested run (1 file, ")

    # The download completes: renamed into place, it is a new document.
    temp.write_text("{}", encoding="utf-8")
    temp.rename(raw / "b.json")
    os.utime(raw / "b.json", ns=(int(clock.now * 1e9),) * 2)
    assert skipped(ticker.tick(after=1), "raw folder still changing (2 files, newest modified 1s ago)")
    assert len(requested(ticker.tick(after=30))) == 1


def test_a_folder_that_returns_to_an_earlier_state_is_rebuilt(raw: Path, clock: Clock, tmp_path: Path) -> None:
    # mv keeps the mtime: moving a file out and back restores the exact earlier fingerprint.
    a = put(raw, "a.json", "{}", at=clock.now - 600)
    put(raw, "b.json", "{}", at=clock.now - 600)
    ticker = Ticker(raw, clock)
    ticker.tick()
    (first,) = requested(ticker.tick(after=30))
    a.rename(tmp_path / "a.json")
    ticker.tick(after=30)
    (second,) = requested(ticker.tick(after=30))
    (tmp_path / "a.json").rename(a)
    ticker.tick(after=30)
    (third,) = requested(ticker.tick(after=30))
    assert third.tags["trials/raw_fingerprint"] == first.tags["trials/raw_fingerprint"]
    assert len({first.run_key, second.run_key, third.run_key}) == 3  # Dagster would drop a reused key


def test_a_brief_change_that_is_undone_before_settling_requests_nothing(raw: Path, clock: Clock) -> None:
    put(raw, "a.json", "{}", at=clock.now - 600)
    ticker = Ticker(raw, clock)
    ticker.tick()
    assert len(requested(ticker.tick(after=30)))
    extra = put(raw, "oops.json", "{}", at=clock.now)
    assert skipped(ticker.tick(after=30), "raw folder still changing (2 files")
    extra.unlink()
    assert skipped(ticker.tick(after=30), "no change since the last requested run")
    assert skipped(ticker.tick(after=30), "no change since the last requested run")


def test_the_same_tick_evaluated_twice_gives_the_same_run_key(raw: Path, clock: Clock) -> None:
    put(raw, "a.json", "{}", at=clock.now - 600)
    ticker = Ticker(raw, clock)
    ticker.tick()
    clock.advance(30)
    cursor = ticker.cursor
    keys = set()
    for _ in range(2):  # a daemon retry of a tick whose cursor update was lost
        ticker.cursor = cursor
        keys.add(requested(ticker.tick())[0].run_key)
    assert len(keys) == 1


def test_an_unreadable_cursor_starts_over(raw: Path, clock: Clock) -> None:
    put(raw, "a.json", "{}", at=clock.now - 600)
    ticker = Ticker(raw, clock)
    ticker.cursor = "not json"
    assert skipped(ticker.tick(), "raw folder still changing")
    assert len(requested(ticker.tick(after=30))) == 1
    assert SensorCursor.parse('["a list"]') == SensorCursor()
    assert SensorCursor.parse('{"seen_since": "soon"}') == SensorCursor()


def test_a_missing_raw_folder_skips_and_keeps_the_cursor(tmp_path: Path, clock: Clock) -> None:
    ticker = Ticker(tmp_path / "not_there", clock)
    ticker.cursor = SensorCursor(requested="abc").dump()
    result = ticker.tick()
    assert skipped(result, f"raw folder {tmp_path / 'not_there'} does not exist")
    assert SensorCursor.parse(result.cursor).requested == "abc"


def test_an_empty_folder_is_a_state_too(raw: Path, clock: Clock) -> None:
    ticker = Ticker(raw, clock)
    assert skipped(ticker.tick(), "raw folder still changing (0 files)")
    assert len(requested(ticker.tick(after=30))) == 1


def test_it_waits_for_a_build_that_is_queued_or_running(raw: Path, clock: Clock) -> None:
    from dagster._core.test_utils import create_run_for_test

    put(raw, "a.json", "{}", at=clock.now - 600)
    with dg.instance_for_test() as instance:
        running = create_run_for_test(instance, job_name="build_warehouse", status=dg.DagsterRunStatus.STARTED)
        create_run_for_test(instance, job_name="export_parquet", status=dg.DagsterRunStatus.STARTED)
        ticker = Ticker(raw, clock, instance=instance)
        ticker.tick()
        result = ticker.tick(after=30)
        assert skipped(result, f"but build_warehouse run {running.run_id} is started; requesting a run once it has finished")
        instance.report_run_canceled(running)  # or finished: no longer holds the warehouse
        assert len(requested(ticker.tick(after=30))) == 1


def test_the_fingerprint_never_opens_a_file(raw: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch) -> None:
    for n in range(2000):
        put(raw, f"d{n % 20}/NCT{n:08d}.json", "{}", at=clock.now)
    before = snapshot_folder(raw)

    def refuse(*args, **kwargs):
        raise AssertionError("the sensor must not read file contents")

    monkeypatch.setattr(builtins, "open", refuse)
    monkeypatch.setattr(io, "open", refuse)
    snap = snapshot_folder(raw)
    assert snap == before
    assert snap.n_files == 2000
    assert snap.newest_mtime_ns == int(clock.now * 1e9)


def test_the_settle_period_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRIALS_SENSOR_SETTLE_SECONDS", "120")
    assert "for 120s" in (make_raw_folder_sensor(enabled=False).description or "")
    monkeypatch.setenv("TRIALS_SENSOR_SETTLE_SECONDS", "soon")
    with pytest.raises(ValueError, match="TRIALS_SENSOR_SETTLE_SECONDS"):
        make_raw_folder_sensor(enabled=False)


# ---- the schedule ------------------------------------------------------------------------------


def test_the_daily_schedule_runs_the_build_job_at_six_utc_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TRIALS_REFRESH_CRON", "TRIALS_REFRESH_TIMEZONE", "TRIALS_AUTOMATION"):
        monkeypatch.delenv(name, raising=False)
    schedule = make_refresh_schedule()
    assert schedule.name == SCHEDULE_NAME
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("0 6 * * *", "UTC")
    assert schedule.job_name == "build_warehouse"
    assert schedule.default_status == dg.DefaultScheduleStatus.STOPPED

    context = dg.build_schedule_context(scheduled_execution_time=dt.datetime(2026, 5, 1, 6, tzinfo=dt.timezone.utc))
    (run,) = schedule.evaluate_tick(context).run_requests
    assert run.tags["trials/trigger"] == SCHEDULE_NAME
    assert run.tags["trials/warehouse"] == "writer"


def test_the_cron_and_timezone_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRIALS_REFRESH_CRON", "30 2 * * 1-5")
    monkeypatch.setenv("TRIALS_REFRESH_TIMEZONE", "Europe/Berlin")
    schedule = make_refresh_schedule()
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("30 2 * * 1-5", "Europe/Berlin")
    # Arguments win over the environment.
    assert make_refresh_schedule("0 */4 * * *", "UTC").cron_schedule == "0 */4 * * *"


def test_a_bad_cron_or_timezone_fails_loudly() -> None:
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="invalid cron schedule"):
        make_refresh_schedule("every morning", "UTC")
    with pytest.raises(ValueError, match="TRIALS_REFRESH_TIMEZONE"):
        make_refresh_schedule("0 6 * * *", "Mars/Olympus_Mons")


@pytest.mark.parametrize(
    ("value", "schedule_status", "sensor_status"),
    [
        (None, dg.DefaultScheduleStatus.STOPPED, dg.DefaultSensorStatus.STOPPED),
        ("off", dg.DefaultScheduleStatus.STOPPED, dg.DefaultSensorStatus.STOPPED),
        ("on", dg.DefaultScheduleStatus.RUNNING, dg.DefaultSensorStatus.RUNNING),
        ("ON ", dg.DefaultScheduleStatus.RUNNING, dg.DefaultSensorStatus.RUNNING),
        ("true", dg.DefaultScheduleStatus.RUNNING, dg.DefaultSensorStatus.RUNNING),
    ],
)
def test_trials_automation_switches_both_on(monkeypatch, value, schedule_status, sensor_status) -> None:
    if value is None:
        monkeypatch.delenv("TRIALS_AUTOMATION", raising=False)
    else:
        monkeypatch.setenv("TRIALS_AUTOMATION", value)
    assert make_refresh_schedule("0 6 * * *", "UTC").default_status == schedule_status
    assert make_raw_folder_sensor(settle=30).default_status == sensor_status


def test_a_typo_in_trials_automation_fails_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRIALS_AUTOMATION", "onn")
    with pytest.raises(ValueError, match="TRIALS_AUTOMATION"):
        make_refresh_schedule("0 6 * * *", "UTC")


# ---- wiring ------------------------------------------------------------------------------------


def test_the_definitions_load_with_the_schedule_and_sensor() -> None:
    from pipeline import definitions

    assert automation.BUILD_JOB_NAME == definitions.BUILD_JOB_NAME
    dg.Definitions.validate_loadable(definitions.defs)
    schedule = definitions.defs.resolve_schedule_def(SCHEDULE_NAME)
    sensor = definitions.defs.resolve_sensor_def(SENSOR_NAME)
    assert schedule.job_name == sensor.job_name == definitions.BUILD_JOB_NAME
    assert definitions.defs.resolve_job_def(schedule.job_name).name == definitions.BUILD_JOB_NAME


def test_the_sensor_in_the_definitions_reads_the_raw_folder_resource(raw: Path) -> None:
    from pipeline import definitions

    put(raw, "a.json", "{}", at=0)
    sensor = definitions.defs.resolve_sensor_def(SENSOR_NAME)
    assert sensor.required_resource_keys == {"raw_folder"}
    with dg.build_sensor_context(definitions=definitions.defs, resources={"raw_folder": RawFolder(path=str(raw))}) as context:
        assert "(1 file, newest modified" in (sensor.evaluate_tick(context).skip_message or "")

    # The code server hands the sensor the definitions' own resources (what dagster/_grpc/impl.py
    # does), so it watches the folder the build reads: TRIALS_RAW_DIR at load time.
    top_level = definitions.defs.get_repository_def().get_top_level_resources()
    assert definitions.defs.resources["raw_folder"].path == os.environ.get("TRIALS_RAW_DIR", DEFAULT_RAW_DIR)
    resources = {key: top_level[key] for key in sensor.required_resource_keys}
    with dg.build_sensor_context(definitions=definitions.defs, resources=resources) as context:
        result = sensor.evaluate_tick(context)
    assert result.skip_message and not result.run_requests
