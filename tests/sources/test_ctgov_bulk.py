"""The bulk download against a local server that serves a zip of real studies.

The server stands in for ``/api/v2/studies/download?format=json.zip``: it answers conditional
requests (ETag, Last-Modified) with 304, honours Range and If-Range (206, 416), and reproduces
what a 2.5 GB transfer meets: a connection dropped part-way (with and without Content-Length),
a server that ignores Range, an archive that changes between two requests, 503 with
Retry-After, and a body that is no zip at all. Time is faked: no test sleeps.
"""
from __future__ import annotations

import email.utils
import io
import random
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import orjson
import pytest

from pipeline.documents import read_document
from pipeline.sources.ctgov_bulk import DownloadError, DownloadState, Validators, bulk_files, download_bulk, read_state
from stand_in import FakeTime, nct_id, real_studies, serving

REQUESTS_PER_SECOND = 4.0
INTERVAL = 0.25
LAST_MODIFIED = "Sun, 20 Apr 2025 06:00:00 GMT"


def bulk_zip(studies: tuple[dict, ...], padding_bytes: int = 0) -> bytes:
    """A zip like the registry's: one pretty-printed JSON file per study, named by NCT id; and,
    to make it big, a member of incompressible bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for study in studies:
            archive.writestr(f"{nct_id(study)}.json", orjson.dumps(study, option=orjson.OPT_INDENT_2))
        if padding_bytes:
            archive.writestr("padding.bin", random.Random(0).randbytes(padding_bytes), zipfile.ZIP_STORED)
    return buffer.getvalue()


@dataclass
class BulkRegistry:
    """What the server serves. ``cut_after`` lists, per response that carries a body, how many
    bytes to send before hanging up; ``statuses`` maps a request's number (from 1) to the status
    and headers it is answered with instead."""

    archive: bytes
    etag: str | None = '"v1"'
    last_modified: str | None = LAST_MODIFIED
    honours_range: bool = True
    honours_conditions: bool = True
    sends_length: bool = True
    cut_after: list[int] = field(default_factory=list)
    statuses: dict[int, tuple[int, dict[str, str]]] = field(default_factory=dict)
    next_archive: bytes | None = None  # replaces the archive after the first response with a body
    requests: list[dict[str, str]] = field(default_factory=list)
    responses: list[int] = field(default_factory=list)
    body_bytes_sent: int = 0

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        headers = {name: value for name, value in request.headers.items() if name != "Host"}
        self.requests.append(headers)
        parts = urlsplit(request.path)
        if parts.path != "/api/v2/studies/download" or parse_qs(parts.query) != {"format": ["json.zip"]}:
            return self._send(request, 400, {}, b"bad request")
        if len(self.requests) in self.statuses:
            status, extra = self.statuses[len(self.requests)]
            return self._send(request, status, extra, b"busy")
        validators = {k: v for k, v in (("ETag", self.etag), ("Last-Modified", self.last_modified)) if v}
        if self.honours_conditions and self._not_modified(headers):
            return self._send(request, 304, validators, b"")
        body, status, extra = self.archive, 200, dict(validators)
        wanted = headers.get("Range")
        if wanted and self.honours_range and headers.get("If-Range") in (None, self.etag, self.last_modified):
            start = int(wanted.removeprefix("bytes=").removesuffix("-"))
            if start >= len(self.archive):
                return self._send(request, 416, {"Content-Range": f"bytes */{len(self.archive)}"}, b"")
            body, status = self.archive[start:], 206
            extra["Content-Range"] = f"bytes {start}-{len(self.archive) - 1}/{len(self.archive)}"
        self._send(request, status, extra, body, self.cut_after.pop(0) if self.cut_after else None)
        if self.next_archive is not None:
            self.archive, self.etag, self.next_archive = self.next_archive, '"v2"', None

    def _not_modified(self, headers: dict[str, str]) -> bool:
        if "If-None-Match" in headers:
            return self.etag is not None and headers["If-None-Match"] == self.etag
        since = headers.get("If-Modified-Since")
        return bool(since and self.last_modified) and (
            email.utils.parsedate_to_datetime(self.last_modified) <= email.utils.parsedate_to_datetime(since)
        )

    def _send(self, request: BaseHTTPRequestHandler, status: int, headers: dict[str, str], body: bytes,
              cut_after: int | None = None) -> None:
        self.responses.append(status)
        request.send_response(status)
        request.send_header("Content-Type", "application/zip")
        if self.sends_length or status != 200 and status != 206:
            request.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            request.send_header(name, value)
        request.end_headers()
        sent = body if cut_after is None else body[:cut_after]
        request.wfile.write(sent)
        if status in (200, 206):
            self.body_bytes_sent += len(sent)
        if cut_after is not None or not self.sends_length:
            request.close_connection = True


def download(raw_dir: Path, base_url: str, time: FakeTime | None = None, **options):
    time = time or FakeTime()
    return download_bulk(
        raw_dir, base_url=base_url, max_requests_per_second=REQUESTS_PER_SECOND, sleep=time.sleep, clock=time.clock,
        now=lambda: datetime(2025, 4, 20, 8, 0, tzinfo=timezone.utc), **options,
    )


def folder_listing(raw_dir: Path) -> list[str]:
    return sorted(p.name for p in (raw_dir / "ctgov_bulk").iterdir())


@pytest.fixture(scope="module")
def archive() -> bytes:
    return bulk_zip(real_studies())


def test_a_transfer_cut_part_way_resumes_with_a_range_and_lands_byte_for_byte(tmp_path: Path, archive: bytes) -> None:
    cut = len(archive) * 2 // 5
    registry = BulkRegistry(archive, cut_after=[cut])
    time = FakeTime()
    totals: list[tuple[int, int]] = []
    with serving(registry.handle) as base_url:
        summary = download(tmp_path, base_url, time, on_total_bytes=lambda total, done: totals.append((total, done)))

    files = bulk_files(tmp_path)
    assert files.archive.read_bytes() == archive
    assert registry.responses == [200, 206]
    assert registry.requests[1]["Range"] == f"bytes={cut}-"
    assert registry.requests[1]["If-Range"] == '"v1"'
    assert "If-None-Match" not in registry.requests[0] and "Range" not in registry.requests[0]
    assert registry.body_bytes_sent == len(archive) <= 1.5 * len(archive)
    assert (summary.changed, summary.size_bytes, summary.bytes_received, summary.resumed_at, summary.retries) == (
        True, len(archive), len(archive), (cut,), 1,
    )
    assert summary.n_members == len(real_studies())
    assert (summary.etag, summary.last_modified) == ('"v1"', LAST_MODIFIED)
    assert totals == [(len(archive), 0), (len(archive), cut)]
    # The dropped connection is retried after the first backoff, within the rate limit.
    assert time.sleeps == [1.0]
    assert folder_listing(tmp_path) == [".ctg-studies.json.zip.validators.json", "ctg-studies.json.zip"]
    assert read_state(files) == DownloadState(archive=Validators('"v1"', LAST_MODIFIED, len(archive)), partial=None)
    reading = read_document(files.archive)
    assert reading.form == "zip"
    assert sorted(item.nct_id for item in reading.items) == [nct_id(s) for s in real_studies()]


def test_a_second_run_against_an_unchanged_archive_transfers_no_body(tmp_path: Path, archive: bytes) -> None:
    registry = BulkRegistry(archive)
    with serving(registry.handle) as base_url:
        download(tmp_path, base_url)
        before = bulk_files(tmp_path).archive.stat()
        second = download(tmp_path, base_url)

    assert registry.responses == [200, 304]
    assert (registry.requests[1]["If-None-Match"], registry.requests[1]["If-Modified-Since"]) == ('"v1"', LAST_MODIFIED)
    assert registry.body_bytes_sent == len(archive)
    assert (second.changed, second.bytes_received, second.n_members, second.size_bytes) == (False, 0, None, len(archive))
    after = bulk_files(tmp_path).archive.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_a_server_with_only_last_modified_is_asked_if_modified_since(tmp_path: Path, archive: bytes) -> None:
    registry = BulkRegistry(archive, etag=None)
    with serving(registry.handle) as base_url:
        download(tmp_path, base_url)
        second = download(tmp_path, base_url)
    assert registry.responses == [200, 304]
    assert "If-None-Match" not in registry.requests[1]
    assert registry.requests[1]["If-Modified-Since"] == LAST_MODIFIED
    assert second.changed is False


def test_a_server_that_ignores_conditions_is_hung_up_on_when_it_names_the_archive_in_place(tmp_path: Path) -> None:
    # Big enough that the server cannot push it all into the socket before the client hangs up.
    large = bulk_zip(real_studies(), padding_bytes=32 << 20)
    registry = BulkRegistry(large, honours_conditions=False)
    with serving(registry.handle) as base_url:
        download(tmp_path, base_url)
        second = download(tmp_path, base_url)
    assert registry.responses == [200, 200]
    assert registry.requests[1]["If-None-Match"] == '"v1"'
    assert (second.changed, second.bytes_received) == (False, 0)
    assert bulk_files(tmp_path).archive.read_bytes() == large


def test_a_changed_archive_replaces_the_old_one(tmp_path: Path, archive: bytes) -> None:
    newer = bulk_zip(real_studies()[:7])
    registry = BulkRegistry(archive)
    with serving(registry.handle) as base_url:
        download(tmp_path, base_url)
        registry.archive, registry.etag = newer, '"v2"'
        second = download(tmp_path, base_url)

    assert registry.responses == [200, 200]
    assert registry.requests[1]["If-None-Match"] == '"v1"'
    assert bulk_files(tmp_path).archive.read_bytes() == newer
    assert (second.changed, second.n_members, second.etag) == (True, 7, '"v2"')
    assert read_state(bulk_files(tmp_path)).archive == Validators('"v2"', LAST_MODIFIED, len(newer))


def test_an_archive_that_changes_between_the_cut_and_the_resume_is_downloaded_whole(tmp_path: Path, archive: bytes) -> None:
    newer = bulk_zip(real_studies()[:9])
    registry = BulkRegistry(archive, cut_after=[1000], next_archive=newer)
    with serving(registry.handle) as base_url:
        summary = download(tmp_path, base_url)

    # If-Range names the old ETag, so the server sends the new archive whole instead of its tail.
    assert registry.requests[1]["If-Range"] == '"v1"'
    assert registry.responses == [200, 200]
    assert bulk_files(tmp_path).archive.read_bytes() == newer
    assert (summary.resumed_at, summary.bytes_received, summary.n_members) == ((), 1000 + len(newer), 9)


def test_a_server_that_ignores_range_is_read_again_from_the_start(tmp_path: Path, archive: bytes) -> None:
    registry = BulkRegistry(archive, honours_range=False, cut_after=[5000])
    with serving(registry.handle) as base_url:
        summary = download(tmp_path, base_url)
    assert registry.responses == [200, 200]
    assert registry.requests[1]["Range"] == "bytes=5000-"
    assert bulk_files(tmp_path).archive.read_bytes() == archive
    assert (summary.resumed_at, summary.bytes_received) == ((), 5000 + len(archive))


def test_a_body_without_length_that_stops_short_is_resumed_until_its_zip_directory_reads(tmp_path: Path, archive: bytes) -> None:
    # HTTP/1.0 without Content-Length: the body ends where the server hangs up, so only the
    # missing zip directory (at the end of the file) tells that it was cut.
    registry = BulkRegistry(archive, sends_length=False, cut_after=[len(archive) // 3])
    with serving(registry.handle, protocol_version="HTTP/1.0") as base_url:
        summary = download(tmp_path, base_url)
    assert registry.responses == [200, 206]
    assert bulk_files(tmp_path).archive.read_bytes() == archive
    assert (summary.resumed_at, summary.bytes_received, summary.n_members) == (
        (len(archive) // 3,), len(archive), len(real_studies()),
    )


def test_a_partial_file_already_whole_is_finished_on_a_416(tmp_path: Path, archive: bytes) -> None:
    # As left by a run killed between the last byte and the rename.
    files = bulk_files(tmp_path)
    files.folder.mkdir(parents=True)
    files.partial.write_bytes(archive)
    files.sidecar.write_bytes(DownloadState(partial=Validators('"v1"', LAST_MODIFIED, len(archive))).to_json())
    registry = BulkRegistry(archive)
    with serving(registry.handle) as base_url:
        summary = download(tmp_path, base_url)
    assert registry.responses == [416]
    assert registry.requests[0]["Range"] == f"bytes={len(archive)}-"
    assert files.archive.read_bytes() == archive
    assert (summary.changed, summary.bytes_received) == (True, 0)
    assert folder_listing(tmp_path) == [".ctg-studies.json.zip.validators.json", "ctg-studies.json.zip"]


def test_a_partial_file_of_unknown_origin_is_not_resumed(tmp_path: Path, archive: bytes) -> None:
    files = bulk_files(tmp_path)
    files.folder.mkdir(parents=True)
    files.partial.write_bytes(b"left by something else")
    registry = BulkRegistry(archive)
    with serving(registry.handle) as base_url:
        download(tmp_path, base_url)
    assert "Range" not in registry.requests[0]
    assert files.archive.read_bytes() == archive


def test_busy_answers_are_retried_and_a_give_up_keeps_the_partial_file_for_the_next_run(tmp_path: Path, archive: bytes) -> None:
    registry = BulkRegistry(archive, cut_after=[4096], statuses={2: (503, {"Retry-After": "7"}), 3: (500, {}), 4: (500, {})})
    time = FakeTime()
    with serving(registry.handle) as base_url, pytest.raises(
        DownloadError, match="gave up on the bulk download after 3 attempts; last: HTTP 500"
    ):
        download(tmp_path, base_url, time, max_attempts=3)
    # The cut body made progress, so it is attempt 1 of the count: 1 s of backoff, then the
    # 503's Retry-After, then the 500 is the third failure in a row.
    assert time.sleeps == [1.0, 7.0]
    assert registry.responses == [200, 503, 500]
    assert not bulk_files(tmp_path).archive.exists()
    assert bulk_files(tmp_path).partial.read_bytes() == archive[:4096]

    time = FakeTime()
    with serving(registry.handle) as base_url:
        summary = download(tmp_path, base_url, time)
    assert registry.responses[3:] == [500, 206]
    assert registry.requests[4]["Range"] == "bytes=4096-"
    assert time.sleeps == [1.0]
    assert (summary.resumed_at, summary.bytes_received, summary.retries) == ((4096,), len(archive) - 4096, 1)
    assert bulk_files(tmp_path).archive.read_bytes() == archive


def test_a_body_that_is_no_zip_is_discarded_and_the_archive_in_place_kept(tmp_path: Path, archive: bytes) -> None:
    registry = BulkRegistry(archive)
    with serving(registry.handle) as base_url:
        download(tmp_path, base_url)
        registry.archive, registry.etag = b"<html>maintenance</html>", '"v2"'
        with pytest.raises(DownloadError, match="the downloaded archive was discarded: its zip directory does not read"):
            download(tmp_path, base_url)
    assert bulk_files(tmp_path).archive.read_bytes() == archive
    assert folder_listing(tmp_path) == [".ctg-studies.json.zip.validators.json", "ctg-studies.json.zip"]
    assert read_state(bulk_files(tmp_path)) == DownloadState(archive=Validators('"v1"', LAST_MODIFIED, len(archive)))


def test_a_rejected_request_is_not_retried(tmp_path: Path, archive: bytes) -> None:
    registry = BulkRegistry(archive, statuses={1: (404, {})})
    with serving(registry.handle) as base_url, pytest.raises(DownloadError, match="answered HTTP 404"):
        download(tmp_path, base_url)
    assert registry.responses == [404]


def test_download_then_build_from_nothing_recorded_in_the_dagster_instance(
    tmp_path: Path, archive: bytes, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    """The issue's path for a new user, through the `trials` commands: download the registry (cut
    part-way), download again (nothing), build, build again (nothing), export, with every run in
    the Dagster instance of DAGSTER_HOME."""
    import dagster as dg
    import duckdb

    from pipeline import cli

    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("")  # the defaults: SQLite storage in DAGSTER_HOME
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    raw_dir, warehouse = tmp_path / "raw", tmp_path / "warehouse" / "trials.duckdb"
    registry = BulkRegistry(archive, cut_after=[len(archive) // 2])

    with serving(registry.handle) as base_url:
        assert cli.main(["download", "--base-url", base_url, "--raw-dir", str(raw_dir)]) == 0
        first = capsys.readouterr().out
        assert cli.main(["download", "--base-url", base_url, "--raw-dir", str(raw_dir)]) == 0
        second = capsys.readouterr().out
    assert cli.main(["build", "--raw-dir", str(raw_dir), "--warehouse", str(warehouse)]) == 0
    assert cli.main(["build", "--raw-dir", str(raw_dir), "--warehouse", str(warehouse)]) == 0
    builds = capsys.readouterr().out
    assert cli.main(["export", "--warehouse", str(warehouse), "--out", str(tmp_path / "exports")]) == 0

    path, size_mb = raw_dir / "ctgov_bulk" / "ctg-studies.json.zip", f"{len(archive) / 1e6:,.1f} MB"
    assert path.read_bytes() == archive
    assert registry.responses == [200, 206, 304]
    assert registry.body_bytes_sent == len(archive)
    assert first.startswith(f"downloaded {path}: {len(real_studies())} studies, {size_mb} ({size_mb} received in ")
    assert first.endswith(f", resumed at {len(archive) // 2 / 1e6:,.1f} MB, 1 retries)\n")
    assert second == f"{path} is current ({size_mb}): the registry's copy has not changed, nothing was transferred\n"
    assert f": {len(real_studies())} studies from 1 documents (1 read," in builds.splitlines()[0]
    assert builds.splitlines()[1].startswith(f"{warehouse} is up to date (")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select nct_id from studies order by 1").fetchall() == [(nct_id(s),) for s in real_studies()]
        assert con.execute("select document_path, document_form from documents").fetchall() == [
            ("ctgov_bulk/ctg-studies.json.zip", "zip")
        ]

    with dg.DagsterInstance.get() as instance:
        runs = list(reversed(instance.get_runs()))  # newest first
        assert [(run.job_name, run.status) for run in runs] == [
            ("download_ctgov_bulk", dg.DagsterRunStatus.SUCCESS), ("download_ctgov_bulk", dg.DagsterRunStatus.SUCCESS),
            ("build_warehouse", dg.DagsterRunStatus.SUCCESS), ("build_warehouse", dg.DagsterRunStatus.SUCCESS),
            ("export_parquet", dg.DagsterRunStatus.SUCCESS),
        ]
        download = instance.fetch_materializations(dg.AssetKey("ctgov_bulk_studies"), limit=10).records
        assert [r.run_id for r in download] == [runs[0].run_id]
        assert download[0].asset_materialization.metadata["n_members"].value == len(real_studies())
        unchanged = instance.fetch_observations(dg.AssetKey("ctgov_bulk_studies"), limit=10).records
        assert [r.run_id for r in unchanged] == [runs[1].run_id]
        # The build's materializations and check results are in the instance; the second build added none.
        studies = instance.fetch_materializations(dg.AssetKey("studies"), limit=10).records
        assert [(r.run_id, r.asset_materialization.metadata["dagster/row_count"].value) for r in studies] == [
            (runs[2].run_id, len(real_studies()))
        ]
        checks = [
            (e.dagster_event.asset_check_evaluation_data.check_name, e.dagster_event.asset_check_evaluation_data.passed)
            for e in instance.all_logs(runs[2].run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION)
        ]
        assert sorted(checks) == [("keys_unique", True), ("links_resolve", True), ("nct_ids_in_studies", True),
                                  ("no_rejected_documents", True), ("warehouse_is_fresh", True)]
        assert any("is up to date" in e.user_message for e in instance.all_logs(runs[3].run_id))
        assert [r.run_id for r in instance.fetch_materializations(dg.AssetKey("parquet_export"), limit=10).records] == [
            runs[4].run_id
        ]


def test_a_dagster_home_that_is_no_directory_is_one_line_and_exit_code_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    from pipeline import cli

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "missing"))
    assert cli.main(["build", "--raw-dir", str(tmp_path), "--warehouse", str(tmp_path / "w.duckdb")]) == 2
    error = capsys.readouterr().err
    assert error.startswith(f"trials build: DAGSTER_HOME={tmp_path / 'missing'}: ")
    assert error.count("\n") == 1


def test_a_failed_download_is_one_line_on_stderr_and_exit_code_1(
    tmp_path: Path, archive: bytes, capsys: pytest.CaptureFixture
) -> None:
    from pipeline import cli

    registry = BulkRegistry(archive, statuses={1: (404, {})})
    with serving(registry.handle) as base_url:
        assert cli.main(["download", "--base-url", base_url, "--raw-dir", str(tmp_path)]) == 1
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == (
        "", f"trials download: failed: GET {base_url}/api/v2/studies/download?format=json.zip answered HTTP 404: b'busy'\n",
    )
