"""The live API source against a local server that replays pages of real studies.

The server stands in for ClinicalTrials.gov API v2: it filters the sample studies in
data/raw/ctgov_v2 by last-update date, pages them, and rejects any request whose parameters
are not exactly what the real API expects, so a passing fetch proves the query is right. It
reproduces the quirks the fetcher must survive: 429 with Retry-After, 5xx, a token on an
exactly full page leading to an empty page, and bodies cut short. Time is faked: no test sleeps.
"""
from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import orjson
import pytest

from pipeline.documents import read_document
from pipeline.sources.ctgov_api import FetchError, MissingSinceError, fetch_updated_studies, read_watermark, watermark_path
from pipeline.sources.http import RateLimiter, retry_after_seconds
from stand_in import FakeTime, nct_id, real_studies
from stand_in import serving as serve_with

PAGE_SIZE = 5
REQUESTS_PER_SECOND = 4.0  # an interval of 0.25 s, exact in binary, so sleeps compare exactly
INTERVAL = 0.25
FIRST_RUN_AT = datetime(2025, 4, 20, 8, 0, tzinfo=timezone.utc)


def last_update_post_date(study: dict) -> str:
    return study["protocolSection"]["statusModule"]["lastUpdatePostDateStruct"]["date"]


def ids_updated_since(since: date) -> set[str]:
    return {nct_id(s) for s in real_studies() if last_update_post_date(s) >= since.isoformat()}


@dataclass
class Fault:
    """One misbehaving response: ``status`` 429/5xx, or ``kind`` "truncated_json" (a complete
    response whose JSON stops half-way) / "cut_short" (fewer bytes than Content-Length)."""

    status: int = 200
    kind: str = ""
    retry_after: str | None = None


@dataclass
class FakeRegistry:
    """What the server serves and expects; ``faults`` maps a page number to the faults its
    successive attempts meet before it is served normally."""

    expected_since: date
    page_size: int = PAGE_SIZE
    faults: dict[int, list[Fault]] = field(default_factory=dict)
    requests: list[dict[str, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    pages_served: list[int] = field(default_factory=list)  # studies in each page served whole
    tokens: dict[str, tuple[int, dict[str, str]]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def respond(self, url: str, user_agent: str) -> tuple[int, dict[str, str], bytes, bool]:
        """Status, headers, body, and whether to send only half the body and hang up."""
        with self.lock:
            params, problem = self._check_request(url, user_agent)
            if problem:
                self.problems.append(problem)
                return 400, {}, orjson.dumps({"message": problem}), False
            offset = self.tokens[params["pageToken"]][0] if "pageToken" in params else 0
            page_number = offset // self.page_size + 1
            pending = self.faults.get(page_number, [])
            fault = pending.pop(0) if pending else Fault()
            if fault.status != 200:
                headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
                return fault.status, headers, b'{"message": "try later"}', False
            studies, body = self._page(params, offset)
            if fault.kind == "truncated_json":
                return 200, {}, body[: len(body) // 2], False
            if fault.kind != "cut_short":
                self.pages_served.append(len(studies))
            return 200, {}, body, fault.kind == "cut_short"

    def _check_request(self, url: str, user_agent: str) -> tuple[dict[str, str], str]:
        parts = urlsplit(url)
        query = parse_qs(parts.query, keep_blank_values=True, strict_parsing=True)
        params = {name: values[0] for name, values in query.items()}
        self.requests.append(params)
        if parts.path != "/api/v2/studies":
            return params, f"unexpected path {parts.path}"
        if not user_agent.startswith("clinical-trials-warehouse/"):
            return params, f"User-Agent does not name the project: {user_agent!r}"
        if any(len(values) != 1 for values in query.values()):
            return params, f"repeated parameter in {parts.query}"
        base = {name: value for name, value in params.items() if name != "pageToken"}
        expected = {
            "query.term": f"AREA[LastUpdatePostDate]RANGE[{self.expected_since.isoformat()},MAX]",
            "pageSize": str(self.page_size),
        }
        if base.get("format", "json") != "json":
            return params, f"format {base['format']!r}"
        base.pop("format", None)
        if base != expected:
            return params, f"parameters {base} are not {expected}"
        if "pageToken" in params:
            if params["pageToken"] not in self.tokens:
                return params, f"pageToken {params['pageToken']!r} was never issued"
            first_request = self.tokens[params["pageToken"]][1]
            if {k: v for k, v in params.items() if k != "pageToken"} != first_request:
                return params, f"parameters changed between pages: {params} after {first_request}"
        return params, ""

    def _page(self, params: dict[str, str], offset: int) -> tuple[list[dict], bytes]:
        matching = [s for s in real_studies() if last_update_post_date(s) >= self.expected_since.isoformat()]
        studies = matching[offset : offset + self.page_size]
        page: dict = {"studies": studies}
        # Like the real API: any full page carries a token, even when nothing follows it.
        if len(studies) == self.page_size:
            token = f"token-{len(self.tokens) + 1}"
            self.tokens[token] = (offset + self.page_size, {k: v for k, v in params.items() if k != "pageToken"})
            page["nextPageToken"] = token
        return studies, orjson.dumps(page)


@contextmanager
def serving(registry: FakeRegistry) -> Iterator[str]:
    """Serve ``registry`` on 127.0.0.1 and yield its base URL."""

    def handle(request: BaseHTTPRequestHandler) -> None:
        status, headers, body, cut_short = registry.respond(request.path, request.headers.get("User-Agent", ""))
        request.send_response(status)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            request.send_header(name, value)
        request.end_headers()
        if cut_short:
            request.wfile.write(body[: len(body) // 2])
            request.close_connection = True
        else:
            request.wfile.write(body)

    with serve_with(handle) as base_url:
        yield base_url


def fetch(raw_dir: Path, base_url: str, run_at: datetime, time: FakeTime | None = None, **options):
    time = time or FakeTime()
    return fetch_updated_studies(
        raw_dir,
        base_url=base_url,
        page_size=PAGE_SIZE,
        max_requests_per_second=REQUESTS_PER_SECOND,
        sleep=time.sleep,
        clock=time.clock,
        now=lambda: run_at,
        **options,
    )


def downloaded_ids(files) -> list[str]:
    return [item.nct_id for path in files for item in read_document(path).items]


def hidden_files(raw_dir: Path) -> list[str]:
    return sorted(p.name for p in (raw_dir / "ctgov_api").iterdir() if p.name.startswith("."))


def test_downloads_exactly_the_window_through_every_quirk(tmp_path: Path) -> None:
    since = date(2024, 10, 1)
    expected = ids_updated_since(since)
    assert len(expected) % PAGE_SIZE == 0, "the window must fill its last page to provoke the empty-page quirk"
    retry_at = (FIRST_RUN_AT + timedelta(seconds=5)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    registry = FakeRegistry(
        expected_since=since,
        faults={
            2: [Fault(status=429, retry_after="2")],
            4: [Fault(status=500)],
            6: [Fault(kind="truncated_json"), Fault(kind="cut_short")],
            8: [Fault(status=503, retry_after=retry_at)],
        },
    )
    time = FakeTime()
    with serving(registry) as base_url:
        summary = fetch(tmp_path, base_url, FIRST_RUN_AT, time, since=since)

    assert registry.problems == []
    full_pages = len(expected) // PAGE_SIZE
    assert registry.pages_served == [PAGE_SIZE] * full_pages + [0]
    assert (summary.pages, summary.studies, summary.files_written, summary.retries) == (
        full_pages + 1,
        len(expected),
        full_pages,
        5,
    )
    assert sorted(downloaded_ids(summary.files)) == sorted(expected)
    assert sorted(summary.files) == sorted(p for p in (tmp_path / "ctgov_api").iterdir() if not p.name.startswith("."))
    originals = {nct_id(s): s for s in real_studies()}
    for path in summary.files:
        reading = read_document(path)
        assert reading.form == "ndjson"
        items = list(reading.items)
        assert [item.position for item in items] == [f"line {n}" for n in range(1, PAGE_SIZE + 1)]
        assert all(item.study == originals[item.nct_id] for item in items)
    assert hidden_files(tmp_path) == [".watermark.json"]
    assert summary.window_since == since
    assert summary.watermark_moved
    assert read_watermark(tmp_path) == summary.watermark
    assert summary.watermark.fetch_started_on == FIRST_RUN_AT.date()
    assert summary.watermark.window_since == since
    # Rate-limit spacing, except right after a retry wait (already longer than the interval):
    # 429 honours Retry-After seconds, 500 and the two broken bodies back off 1 s then 2 s, and
    # 503 honours an HTTP-date 5 s after "now".
    assert time.sleeps == [
        INTERVAL, 2.0,  # page 2
        INTERVAL,  # page 3
        INTERVAL, 1.0,  # page 4
        INTERVAL,  # page 5
        INTERVAL, 1.0, 2.0,  # page 6
        INTERVAL,  # page 7
        INTERVAL, 5.0,  # page 8
        INTERVAL,  # page 9
        INTERVAL,  # page 10, empty
    ]


def test_second_run_asks_from_the_watermark_less_the_overlap(tmp_path: Path) -> None:
    with serving(FakeRegistry(expected_since=date(2025, 3, 1))) as base_url:
        first = fetch(tmp_path, base_url, FIRST_RUN_AT, since=date(2025, 3, 1))
    second_since = FIRST_RUN_AT.date() - timedelta(days=3)
    second_run_at = datetime(2025, 5, 6, 1, 30, tzinfo=timezone.utc)
    registry = FakeRegistry(expected_since=second_since)
    with serving(registry) as base_url:
        second = fetch(tmp_path, base_url, second_run_at, overlap_days=3)

    assert registry.problems == []
    expected = ids_updated_since(second_since)
    assert 0 < len(expected) % PAGE_SIZE, "a part-full last page ends the fetch without an empty page"
    assert second.pages == -(-len(expected) // PAGE_SIZE)
    assert sorted(downloaded_ids(second.files)) == sorted(expected)
    assert not set(first.files) & set(second.files)
    assert second.window_since == second_since
    assert read_watermark(tmp_path) == second.watermark
    assert second.watermark.fetch_started_on == second_run_at.date()
    assert hidden_files(tmp_path) == [".watermark.json"]


def test_a_failed_fetch_leaves_the_watermark_and_the_next_run_recovers(tmp_path: Path) -> None:
    with serving(FakeRegistry(expected_since=date(2025, 3, 1))) as base_url:
        first = fetch(tmp_path, base_url, FIRST_RUN_AT, since=date(2025, 3, 1))
    stored = watermark_path(tmp_path).read_bytes()

    retry_since = first.watermark.fetch_started_on - timedelta(days=3)
    failing = FakeRegistry(expected_since=retry_since, faults={2: [Fault(status=500)] * 3})
    time = FakeTime()
    with serving(failing) as base_url, pytest.raises(FetchError, match="gave up on page 2 after 3 attempts; last: HTTP 500"):
        fetch(tmp_path, base_url, datetime(2025, 5, 6, tzinfo=timezone.utc), time, max_attempts=3)
    assert watermark_path(tmp_path).read_bytes() == stored
    assert hidden_files(tmp_path) == [".watermark.json"]
    assert time.sleeps == [INTERVAL, 1.0, 2.0]

    # The next day asks from the same watermark, so the failed day is not lost.
    with serving(FakeRegistry(expected_since=retry_since)) as base_url:
        recovered = fetch(tmp_path, base_url, datetime(2025, 5, 7, tzinfo=timezone.utc))
    assert sorted(downloaded_ids(recovered.files)) == sorted(ids_updated_since(retry_since))
    assert recovered.watermark.fetch_started_on == date(2025, 5, 7)


def test_a_first_fetch_that_fails_stores_no_watermark(tmp_path: Path) -> None:
    registry = FakeRegistry(expected_since=date(2025, 1, 1), faults={1: [Fault(status=429, retry_after="0")] * 2})
    with serving(registry) as base_url, pytest.raises(FetchError, match="HTTP 429"):
        fetch(tmp_path, base_url, FIRST_RUN_AT, since=date(2025, 1, 1), max_attempts=2)
    assert read_watermark(tmp_path) is None
    assert hidden_files(tmp_path) == []


def test_a_rejected_request_is_not_retried(tmp_path: Path) -> None:
    # The server expects another window, so it answers 400 like the real API to a bad query.
    registry = FakeRegistry(expected_since=date(2025, 1, 1))
    with serving(registry) as base_url, pytest.raises(FetchError, match="HTTP 400"):
        fetch(tmp_path, base_url, FIRST_RUN_AT, since=date(2025, 1, 2))
    assert len(registry.requests) == 1
    assert "RANGE[2025-01-02,MAX]" in registry.problems[0]
    assert read_watermark(tmp_path) is None


def test_without_since_or_watermark_nothing_is_fetched(tmp_path: Path) -> None:
    with pytest.raises(MissingSinceError, match="give a since-date"):
        fetch(tmp_path, "http://127.0.0.1:9", FIRST_RUN_AT)
    assert not (tmp_path / "ctgov_api").exists()


def test_an_explicit_since_after_the_watermark_keeps_the_watermark(tmp_path: Path) -> None:
    with serving(FakeRegistry(expected_since=date(2025, 3, 1))) as base_url:
        first = fetch(tmp_path, base_url, FIRST_RUN_AT, since=date(2025, 3, 1))
    later = date(2025, 5, 1)
    with serving(FakeRegistry(expected_since=later)) as base_url:
        gap = fetch(tmp_path, base_url, datetime(2025, 5, 6, tzinfo=timezone.utc), since=later)
    # The days between the watermark and 2025-05-01 were never asked for.
    assert not gap.watermark_moved
    assert gap.watermark == first.watermark == read_watermark(tmp_path)
    assert sorted(downloaded_ids(gap.files)) == sorted(ids_updated_since(later))


def test_rate_limiter_spaces_calls_by_the_interval() -> None:
    time = FakeTime()
    limiter = RateLimiter(4.0, clock=time.clock, sleep=time.sleep)
    limiter.wait()
    limiter.wait()
    time.now += 0.1
    limiter.wait()
    time.now += 1.0
    limiter.wait()
    assert time.sleeps == [0.25, pytest.approx(0.15)]


def test_retry_after_in_seconds_or_as_an_http_date() -> None:
    now = datetime(2025, 5, 6, 12, 0, 0, tzinfo=timezone.utc)
    assert retry_after_seconds("7", now) == 7.0
    assert retry_after_seconds("Tue, 06 May 2025 12:00:30 GMT", now) == 30.0
    assert retry_after_seconds("Tue, 06 May 2025 11:00:00 GMT", now) == 0.0
    assert retry_after_seconds("soon", now) is None
    assert retry_after_seconds(None, now) is None
