"""Download the studies ClinicalTrials.gov updated since the last successful fetch.

The warehouse is rebuilt from whatever documents sit in the raw folder, so keeping it current
means dropping each day's updated studies there. This module asks API v2 for every study whose
``LastUpdatePostDate`` falls on or after a since-date and writes each page as NDJSON under
``<raw_dir>/ctgov_api/``, where the ordinary document readers pick it up.

What makes it safe to run unattended:

- The since-date comes from a watermark (``<raw_dir>/ctgov_api/.watermark.json``) that is
  stored only after a fetch completed, so a missed or failed run is made up by the next one.
- Each page file appears whole or not at all (hidden temp file, then ``os.replace``): the
  inventory and sensor ignore hidden files and never see half a page.
- Rate limiting, retries with backoff on 429/5xx/cut-off bodies, and a repeated-token guard
  keep a flaky or busy API from producing a silently partial fetch.

Network and files only; orchestration (CLI, Dagster) lives elsewhere.
"""
from __future__ import annotations

import email.utils
import logging
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import orjson

DEFAULT_BASE_URL = "https://clinicaltrials.gov"
STUDIES_PATH = "/api/v2/studies"
SOURCE_FOLDER = "ctgov_api"
WATERMARK_FILE_NAME = ".watermark.json"
USER_AGENT = "clinical-trials-warehouse/0.1 (ClinicalTrials.gov -> DuckDB warehouse; trials fetch)"

DEFAULT_MAX_REQUESTS_PER_SECOND = 3.0
# The watermark is a UTC date, while the registry posts updates on US Eastern dates and a study
# posted later on the day a fetch ran carries that day's date; re-asking a few days costs a few
# duplicate studies, which the loader resolves by last-update date.
DEFAULT_OVERLAP_DAYS = 3
MAX_PAGE_SIZE = 1000  # the API's own maximum
DEFAULT_MAX_ATTEMPTS = 6
FIRST_BACKOFF_SECONDS = 1.0
# A Retry-After far in the future would hang a scheduled run; past this, waiting is pointless.
MAX_RETRY_DELAY_SECONDS = 300.0
# A 1000-study page of full records is tens of MiB; the read timeout applies per chunk.
DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=10.0)

_logger = logging.getLogger(__name__)


class FetchError(RuntimeError):
    """The fetch did not complete; the watermark was left where it was."""


class MissingSinceError(FetchError):
    """No since-date was given and no earlier fetch left a watermark."""


class _RetryableResponse(Exception):
    """A response worth asking for again: a busy or failing server, or a cut-off body."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class Watermark:
    """Where the last completed fetch leaves off: the next one asks from ``fetch_started_on``
    less the overlap."""

    fetch_started_on: date  # UTC date; the server's clock is unknown
    fetch_started_at: datetime
    window_since: date  # what that fetch asked from, for the record

    def to_json(self) -> bytes:
        return orjson.dumps(
            {
                "fetch_started_on": self.fetch_started_on.isoformat(),
                "fetch_started_at": self.fetch_started_at.isoformat(),
                "window_since": self.window_since.isoformat(),
            },
            option=orjson.OPT_INDENT_2,
        )

    @classmethod
    def from_json(cls, data: bytes) -> Watermark:
        fields = orjson.loads(data)
        return cls(
            fetch_started_on=date.fromisoformat(fields["fetch_started_on"]),
            fetch_started_at=datetime.fromisoformat(fields["fetch_started_at"]),
            window_since=date.fromisoformat(fields["window_since"]),
        )


@dataclass(frozen=True, slots=True)
class FetchSummary:
    window_since: date
    pages: int  # responses read, including an empty last page
    studies: int
    files: tuple[Path, ...]
    retries: int
    watermark: Watermark  # as stored after this fetch
    watermark_moved: bool  # False when an explicit since left a gap after the old watermark

    @property
    def files_written(self) -> int:
        return len(self.files)


class RateLimiter:
    """Spaces calls to ``wait()`` at least ``1 / max_per_second`` seconds apart."""

    def __init__(
        self,
        max_per_second: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if max_per_second <= 0:
            raise ValueError(f"max_per_second must be positive, got {max_per_second}")
        self._interval = 1.0 / max_per_second
        self._clock = clock
        self._sleep = sleep
        self._next_allowed: float | None = None

    def wait(self) -> None:
        now = self._clock()
        if self._next_allowed is not None and now < self._next_allowed:
            self._sleep(self._next_allowed - now)
            now = self._next_allowed
        self._next_allowed = now + self._interval


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


def watermark_path(raw_dir: Path) -> Path:
    return Path(raw_dir) / SOURCE_FOLDER / WATERMARK_FILE_NAME


def read_watermark(raw_dir: Path) -> Watermark | None:
    """The stored watermark, or None before the first completed fetch."""
    path = watermark_path(raw_dir)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    try:
        return Watermark.from_json(data)
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as error:
        # Guessing a date here could silently skip updates; a person should look.
        raise FetchError(f"unreadable watermark {path}: {error}; fix or delete it and pass a since-date") from error


def updated_since_term(since: date) -> str:
    return f"AREA[LastUpdatePostDate]RANGE[{since.isoformat()},MAX]"


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """A ``Retry-After`` header as seconds from ``now``: delta-seconds or an HTTP-date."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        retry_at = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if retry_at.tzinfo is None:
        retry_at = retry_at.replace(tzinfo=timezone.utc)
    return max(0.0, (retry_at - now).total_seconds())


def fetch_updated_studies(
    raw_dir: Path,
    since: date | None = None,
    *,
    base_url: str = DEFAULT_BASE_URL,
    max_requests_per_second: float = DEFAULT_MAX_REQUESTS_PER_SECOND,
    overlap_days: int = DEFAULT_OVERLAP_DAYS,
    page_size: int = MAX_PAGE_SIZE,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    client: httpx.Client | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    now: Callable[[], datetime] = _utc_now,
    log: Callable[[str], None] = _logger.info,
) -> FetchSummary:
    """Download every study updated on or after ``since`` (default: the watermark less
    ``overlap_days``) into ``raw_dir/ctgov_api/``, then move the watermark to today (UTC).

    Raises ``MissingSinceError`` when there is neither a since-date nor a watermark (fetching
    the whole registry must be asked for), and ``FetchError`` when a page cannot be had after
    ``max_attempts``; either way the watermark is untouched. Pages already written stay: they
    hold real studies, and the next run asks for them again anyway.
    """
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValueError(f"page_size must be between 1 and {MAX_PAGE_SIZE}, got {page_size}")
    if overlap_days < 0:
        raise ValueError(f"overlap_days must not be negative, got {overlap_days}")
    started_at = now().astimezone(timezone.utc)
    previous = read_watermark(raw_dir)
    window_since = _window_since(since, previous, overlap_days)
    folder = Path(raw_dir) / SOURCE_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    log(f"fetching studies updated since {window_since.isoformat()} from {base_url}")

    limiter = RateLimiter(max_requests_per_second, clock=clock, sleep=sleep)
    owns_client = client is None
    http = client or httpx.Client(timeout=DEFAULT_TIMEOUT, headers={"User-Agent": USER_AGENT}, follow_redirects=True)
    pager = _Pager(http, base_url.rstrip("/") + STUDIES_PATH, limiter, max_attempts, sleep, now, log)
    try:
        pages, studies, files = _download_pages(
            pager, _query_params(window_since, page_size), folder, f"fetch-{started_at:%Y%m%dT%H%M%SZ}", log
        )
    finally:
        if owns_client:
            http.close()

    watermark = _next_watermark(previous, window_since, started_at)
    if watermark is previous:
        log(f"watermark stays at {watermark.fetch_started_on}: nothing was fetched between it and {window_since}")
    else:
        _write_atomically(watermark_path(raw_dir), watermark.to_json())
    log(f"fetched {studies} studies in {pages} pages ({len(files)} files, {pager.retries} retries)")
    return FetchSummary(
        window_since=window_since,
        pages=pages,
        studies=studies,
        files=tuple(files),
        retries=pager.retries,
        watermark=watermark,
        watermark_moved=watermark is not previous,
    )


def _window_since(since: date | None, previous: Watermark | None, overlap_days: int) -> date:
    if since is not None:
        return since
    if previous is None:
        raise MissingSinceError(
            "no watermark from an earlier fetch: give a since-date "
            "(a date long ago fetches the whole registry, which is deliberately never the default)"
        )
    return previous.fetch_started_on - timedelta(days=overlap_days)


def _next_watermark(previous: Watermark | None, window_since: date, started_at: datetime) -> Watermark:
    """The watermark a completed fetch leaves: normally its own start, but the old one when the
    window began after the old watermark (days nobody fetched), and never an earlier date."""
    if previous is not None and (window_since > previous.fetch_started_on or started_at.date() < previous.fetch_started_on):
        return previous
    return Watermark(fetch_started_on=started_at.date(), fetch_started_at=started_at, window_since=window_since)


def _query_params(window_since: date, page_size: int) -> dict[str, str]:
    return {"query.term": updated_since_term(window_since), "pageSize": str(page_size), "format": "json"}


def _download_pages(
    pager: _Pager, params: Mapping[str, str], folder: Path, file_prefix: str, log: Callable[[str], None]
) -> tuple[int, int, list[Path]]:
    """Follow ``nextPageToken`` to the end, writing each non-empty page; returns the pages
    read, the studies written and the files."""
    pages = studies = 0
    files: list[Path] = []
    tokens_seen: set[str] = set()
    token: str | None = None
    while True:
        page = pager.get({**params, "pageToken": token} if token else dict(params), page_number=pages + 1)
        pages += 1
        page_studies = page["studies"]
        # A page that is exactly full still carries a token, and following it gives an empty page.
        if page_studies:
            path = folder / f"{file_prefix}-page-{pages:04d}.ndjson"
            _write_atomically(path, b"".join(orjson.dumps(study) + b"\n" for study in page_studies))
            files.append(path)
            studies += len(page_studies)
            log(f"page {pages}: {len(page_studies)} studies -> {path.name}")
        token = page.get("nextPageToken")
        if not token:
            return pages, studies, files
        if token in tokens_seen:
            raise FetchError(f"the server repeated page token {token!r} after page {pages}; stopping rather than looping")
        tokens_seen.add(token)


class _Pager:
    """Gets one page at a time, within the rate limit, retrying what is worth retrying."""

    def __init__(
        self,
        http: httpx.Client,
        url: str,
        limiter: RateLimiter,
        max_attempts: int,
        sleep: Callable[[float], None],
        now: Callable[[], datetime],
        log: Callable[[str], None],
    ) -> None:
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {max_attempts}")
        self._http, self._url, self._limiter = http, url, limiter
        self._max_attempts, self._sleep, self._now, self._log = max_attempts, sleep, now, log
        self.retries = 0

    def get(self, params: Mapping[str, str], page_number: int) -> dict[str, Any]:
        attempt = 0
        while True:
            attempt += 1
            self._limiter.wait()
            try:
                return self._get_once(params)
            except _RetryableResponse as failure:
                reason, retry_after = str(failure), failure.retry_after
            except (httpx.TransportError, httpx.DecodingError) as error:
                # Timeouts, dropped connections and bodies shorter than their Content-Length.
                reason, retry_after = f"{type(error).__name__}: {error}", None
            if attempt == self._max_attempts:
                raise FetchError(f"gave up on page {page_number} after {attempt} attempts; last: {reason}")
            # No jitter: one client, so there is no herd of retries to spread out.
            backoff = FIRST_BACKOFF_SECONDS * 2 ** (attempt - 1)
            delay = min(retry_after if retry_after is not None else backoff, MAX_RETRY_DELAY_SECONDS)
            self._log(f"page {page_number} attempt {attempt} failed ({reason}); retrying in {delay:g}s")
            self.retries += 1
            self._sleep(delay)

    def _get_once(self, params: Mapping[str, str]) -> dict[str, Any]:
        response = self._http.get(self._url, params=params)
        status = response.status_code
        if status == 429 or status >= 500:
            raise _RetryableResponse(
                f"HTTP {status}", retry_after_seconds(response.headers.get("Retry-After"), self._now())
            )
        if status != 200:
            raise FetchError(f"GET {response.url} answered HTTP {status}: {response.text[:500]}")
        declared_length = response.headers.get("Content-Length", "")
        # httpx catches most short bodies itself; this also covers transports that do not.
        # Both counts are of the bytes on the wire, before any gzip is undone.
        if declared_length.isdigit() and int(declared_length) != response.num_bytes_downloaded:
            raise _RetryableResponse(f"body of {response.num_bytes_downloaded} bytes, Content-Length {declared_length}")
        return _parse_page(response.content)


def _parse_page(body: bytes) -> dict[str, Any]:
    try:
        page = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        # A 200 whose JSON does not parse was cut off on the way; asking again usually works.
        raise _RetryableResponse(f"unparsable body ({len(body)} bytes): {error}") from error
    if not isinstance(page, dict) or not isinstance(page.get("studies"), list):
        raise FetchError(f"not an API v2 studies page: {body[:200]!r}")
    token = page.get("nextPageToken")
    if token is not None and not isinstance(token, str):
        raise FetchError(f"nextPageToken is not a string: {token!r}")
    return page


def _write_atomically(path: Path, content: bytes) -> None:
    """Write ``content`` to ``path`` via a hidden temp file beside it, so readers see the old
    file or the whole new one, never a part."""
    temporary = path.with_name(f".{path.name}.tmp")
    try:
        with open(temporary, "wb") as file:
            file.write(content)
            file.flush()
            # The watermark moves once the pages are written; they must survive a crash first.
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
