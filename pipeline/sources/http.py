"""What every request to ClinicalTrials.gov shares: the client, the request-rate limit, and the
retries with backoff that keep a flaky or busy server from failing a run or yielding a partial one.

`trials fetch` (pages of the API) and `trials download` (the bulk archive) both go through
`Retrier`, so they honour `Retry-After`, back off the same way and give up the same way.
Network only; no files, no orchestration.
"""
from __future__ import annotations

import email.utils
import logging
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import TypeVar

import httpx

DEFAULT_BASE_URL = "https://clinicaltrials.gov"
USER_AGENT = "clinical-trials-warehouse/0.1 (ClinicalTrials.gov -> DuckDB warehouse; trials fetch / download)"

DEFAULT_MAX_REQUESTS_PER_SECOND = 3.0
DEFAULT_MAX_ATTEMPTS = 6
FIRST_BACKOFF_SECONDS = 1.0
# A Retry-After far in the future would hang a scheduled run; past this, waiting is pointless.
MAX_RETRY_DELAY_SECONDS = 300.0
# A 1000-study page of full records is tens of MiB; the read timeout applies per chunk.
DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=10.0)

_logger = logging.getLogger(__name__)

T = TypeVar("T")


class RetryableResponse(Exception):
    """A response worth asking for again: a busy or failing server, or a cut-off body."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


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


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


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


def new_client() -> httpx.Client:
    return httpx.Client(timeout=DEFAULT_TIMEOUT, headers={"User-Agent": USER_AGENT}, follow_redirects=True)


def raise_if_busy(response: httpx.Response, now: datetime) -> None:
    """429 and 5xx are the server's "not now": worth asking again, after Retry-After if given."""
    status = response.status_code
    if status == 429 or status >= 500:
        raise RetryableResponse(f"HTTP {status}", retry_after_seconds(response.headers.get("Retry-After"), now))


class Retrier:
    """Runs one request at a time within the rate limit, and runs it again when that is worth it:
    429 and 5xx (after Retry-After when the server gives one), timeouts, dropped connections and
    cut-off bodies, backing off 1, 2, 4 ... seconds. It gives up, raising ``give_up``, after
    ``max_attempts`` failures in a row; a failed attempt that still made progress (a download that
    got further before the line dropped) starts the count and the backoff again."""

    def __init__(
        self,
        limiter: RateLimiter,
        max_attempts: int,
        give_up: type[Exception],
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], datetime] = utc_now,
        log: Callable[[str], None] = _logger.info,
    ) -> None:
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {max_attempts}")
        self._limiter, self._max_attempts, self._give_up = limiter, max_attempts, give_up
        self._sleep, self.now, self._log = sleep, now, log
        self.retries = 0

    def run(self, attempt: Callable[[], T], what: str, progress: Callable[[], int] = lambda: 0) -> T:
        """``attempt()``'s result, asking again as often as allowed; ``progress()`` measures how far
        the work got (bytes on disk), so that an attempt that moved it on is not held against it."""
        failures = 0
        while True:
            before = progress()
            self._limiter.wait()
            try:
                return attempt()
            except RetryableResponse as failure:
                reason, retry_after = str(failure), failure.retry_after
            except (httpx.TransportError, httpx.DecodingError) as error:
                # Timeouts, dropped connections and bodies shorter than their Content-Length.
                reason, retry_after = f"{type(error).__name__}: {error}", None
            failures = 1 if progress() > before else failures + 1
            if failures == self._max_attempts:
                raise self._give_up(f"gave up on {what} after {failures} attempts; last: {reason}")
            # No jitter: one client, so there is no herd of retries to spread out.
            backoff = FIRST_BACKOFF_SECONDS * 2 ** (failures - 1)
            delay = min(retry_after if retry_after is not None else backoff, MAX_RETRY_DELAY_SECONDS)
            self._log(f"{what} attempt {failures} failed ({reason}); retrying in {delay:g}s")
            self.retries += 1
            self._sleep(delay)
