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

from pipeline.sources.http import (
    DEFAULT_BASE_URL,
    DEFAULT_MAX_ATTEMPTS,
    DEFAULT_MAX_REQUESTS_PER_SECOND,
    RateLimiter,
    Retrier,
    RetryableResponse,
    new_client,
    raise_if_busy,
    utc_now,
)

STUDIES_PATH = "/api/v2/studies"
SOURCE_FOLDER = "ctgov_api"
WATERMARK_FILE_NAME = ".watermark.json"
# The watermark is a UTC date, while the registry posts updates on US Eastern dates and a study
# posted later on the day a fetch ran carries that day's date; re-asking a few days costs a few
# duplicate studies, which the loader resolves by last-update date.
DEFAULT_OVERLAP_DAYS = 3
MAX_PAGE_SIZE = 1000  # the API's own maximum

_logger = logging.getLogger(__name__)


class FetchError(RuntimeError):
    """The fetch did not complete; the watermark was left where it was."""


class MissingSinceError(FetchError):
    """No since-date was given and no earlier fetch left a watermark."""


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
    now: Callable[[], datetime] = utc_now,
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

    retrier = Retrier(RateLimiter(max_requests_per_second, clock=clock, sleep=sleep), max_attempts, FetchError, sleep, now, log)
    owns_client = client is None
    http = client or new_client()
    pager = _Pager(http, base_url.rstrip("/") + STUDIES_PATH, retrier)
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
        write_atomically(watermark_path(raw_dir), watermark.to_json())
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
            write_atomically(path, b"".join(orjson.dumps(study) + b"\n" for study in page_studies))
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
    """Gets one page at a time, through the retrier."""

    def __init__(self, http: httpx.Client, url: str, retrier: Retrier) -> None:
        self._http, self._url, self._retrier = http, url, retrier

    @property
    def retries(self) -> int:
        return self._retrier.retries

    def get(self, params: Mapping[str, str], page_number: int) -> dict[str, Any]:
        return self._retrier.run(lambda: self._get_once(params), f"page {page_number}")

    def _get_once(self, params: Mapping[str, str]) -> dict[str, Any]:
        response = self._http.get(self._url, params=params)
        raise_if_busy(response, self._retrier.now())
        if response.status_code != 200:
            raise FetchError(f"GET {response.url} answered HTTP {response.status_code}: {response.text[:500]}")
        declared_length = response.headers.get("Content-Length", "")
        # httpx catches most short bodies itself; this also covers transports that do not.
        # Both counts are of the bytes on the wire, before any gzip is undone.
        if declared_length.isdigit() and int(declared_length) != response.num_bytes_downloaded:
            raise RetryableResponse(f"body of {response.num_bytes_downloaded} bytes, Content-Length {declared_length}")
        return _parse_page(response.content)


def _parse_page(body: bytes) -> dict[str, Any]:
    try:
        page = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        # A 200 whose JSON does not parse was cut off on the way; asking again usually works.
        raise RetryableResponse(f"unparsable body ({len(body)} bytes): {error}") from error
    if not isinstance(page, dict) or not isinstance(page.get("studies"), list):
        raise FetchError(f"not an API v2 studies page: {body[:200]!r}")
    token = page.get("nextPageToken")
    if token is not None and not isinstance(token, str):
        raise FetchError(f"nextPageToken is not a string: {token!r}")
    return page


def write_atomically(path: Path, content: bytes) -> None:
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
