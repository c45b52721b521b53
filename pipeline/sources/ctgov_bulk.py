"""Download the registry's bulk archive: every study, one JSON file each, in one zip.

``GET /api/v2/studies/download?format=json.zip`` answers with the whole registry, about 2.5 GB.
It lands as ``<raw_dir>/ctgov_bulk/ctg-studies.json.zip``, where the zip reader picks it up.

What makes a big file over a flaky line safe, and a daily run cheap:

- The body streams into a hidden file beside the target (``.ctg-studies.json.zip.partial``).
  Only when it is whole (the size the server announced) and its zip directory reads is it
  renamed over the target: a build, or the raw-folder sensor, never sees half an archive.
- An interrupted transfer resumes where it stopped, with ``Range``. ``If-Range`` makes a server
  whose archive changed meanwhile send the whole new one instead, so two versions are never
  spliced. A server that ignores the range (200) is read from the start; one that finds it past
  the end (416) means the partial file is already whole.
- The validators of the archive in place (ETag, Last-Modified) are kept in a hidden sidecar,
  ``.ctg-studies.json.zip.validators.json``, and sent as ``If-None-Match`` / ``If-Modified-Since``:
  an unchanged archive is answered 304, and no body is transferred.
- The request-rate limit, retries with backoff and timeouts are the API fetch's
  (`pipeline.sources.http`); a retry that follows progress starts the count again.

Network and files only; orchestration (CLI, Dagster) lives elsewhere.
"""
from __future__ import annotations

import logging
import os
import re
import time
import zipfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

import httpx
import orjson

from pipeline.sources.ctgov_api import write_atomically
from pipeline.sources.http import DEFAULT_BASE_URL, DEFAULT_MAX_ATTEMPTS, DEFAULT_MAX_REQUESTS_PER_SECOND
from pipeline.sources.http import RateLimiter, Retrier, RetryableResponse, new_client, raise_if_busy, utc_now

DOWNLOAD_PATH = "/api/v2/studies/download"
DOWNLOAD_PARAMS = {"format": "json.zip"}
SOURCE_FOLDER = "ctgov_bulk"
ARCHIVE_NAME = "ctg-studies.json.zip"

_logger = logging.getLogger(__name__)
_CONTENT_RANGE = re.compile(r"^\s*bytes\s+(?:(\d+)-(\d+)|\*)/(\d+|\*)\s*$")


class DownloadError(RuntimeError):
    """The download did not complete; the archive in place (if any) is untouched."""


@dataclass(frozen=True, slots=True)
class Validators:
    """What identifies one version of the archive on the server, and its size in bytes (None
    when the server did not say)."""

    etag: str | None
    last_modified: str | None
    size: int | None

    @classmethod
    def of(cls, response: httpx.Response, size: int | None) -> Validators:
        return cls(response.headers.get("ETag"), response.headers.get("Last-Modified"), size)

    def same_as(self, other: Validators) -> bool:
        """Whether ``other`` names this version: the same strong ETag, or without ETags the same
        Last-Modified and size."""
        if self.etag and other.etag:
            return self.etag == other.etag and not self.etag.startswith("W/")
        return bool(self.last_modified) and (self.last_modified, self.size) == (other.last_modified, other.size)

    def if_range(self) -> str | None:
        """The ``If-Range`` value: a strong ETag, else the Last-Modified date (RFC 9110 13.1.5)."""
        if self.etag and not self.etag.startswith("W/"):
            return self.etag
        return self.last_modified


@dataclass(frozen=True, slots=True)
class DownloadState:
    """The sidecar: the validators of the archive in place and of the partial file being filled."""

    archive: Validators | None = None
    partial: Validators | None = None

    def to_json(self) -> bytes:
        return orjson.dumps(asdict(self), option=orjson.OPT_INDENT_2)

    @classmethod
    def from_json(cls, data: bytes) -> DownloadState:
        fields = orjson.loads(data)
        return cls(*(Validators(**fields[name]) if fields.get(name) else None for name in ("archive", "partial")))


@dataclass(frozen=True, slots=True)
class DownloadSummary:
    path: Path
    changed: bool  # False: the archive in place is current (a 304, or a 200 naming the same version)
    size_bytes: int  # of the archive in place
    bytes_received: int  # body bytes over every request of this run
    resumed_at: tuple[int, ...]  # the offset of each Range request that was answered 206
    n_members: int | None  # files in the new archive; None when unchanged
    retries: int
    seconds: float
    etag: str | None
    last_modified: str | None


@dataclass(frozen=True)
class BulkFiles:
    """Where the archive, its partial download and its sidecar live."""

    folder: Path

    @property
    def archive(self) -> Path:
        return self.folder / ARCHIVE_NAME

    @property
    def partial(self) -> Path:
        return self.folder / f".{ARCHIVE_NAME}.partial"

    @property
    def sidecar(self) -> Path:
        return self.folder / f".{ARCHIVE_NAME}.validators.json"


def bulk_files(raw_dir: Path) -> BulkFiles:
    return BulkFiles(Path(raw_dir) / SOURCE_FOLDER)


def read_state(files: BulkFiles, log: Callable[[str], None] = _logger.warning) -> DownloadState:
    """The stored validators; none when there are none or they do not read. Unlike the fetch's
    watermark, a lost sidecar costs one whole download and no data, so it is not an error."""
    try:
        return DownloadState.from_json(files.sidecar.read_bytes())
    except FileNotFoundError:
        return DownloadState()
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as error:
        log(f"ignoring unreadable {files.sidecar}: {error}")
        return DownloadState()


def download_bulk(
    raw_dir: Path,
    *,
    base_url: str = DEFAULT_BASE_URL,
    max_requests_per_second: float = DEFAULT_MAX_REQUESTS_PER_SECOND,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    client: httpx.Client | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    now: Callable[[], datetime] = utc_now,
    log: Callable[[str], None] = _logger.info,
    on_total_bytes: Callable[[int, int], None] = lambda total, done: None,
    advance: Callable[[int], None] = lambda n_bytes: None,
) -> DownloadSummary:
    """Bring ``raw_dir/ctgov_bulk/ctg-studies.json.zip`` up to date with the registry's bulk archive.

    ``on_total_bytes(total, done)`` is called when the archive's size becomes known (again after
    a restart); ``advance(n)`` for every chunk written. Raises ``DownloadError`` when the archive
    cannot be had after ``max_attempts`` failures in a row, or when the finished file is no zip;
    the archive in place stays as it was, and a partial file stays for the next run to resume.
    """
    started = time.perf_counter()
    files = bulk_files(raw_dir)
    files.folder.mkdir(parents=True, exist_ok=True)
    retrier = Retrier(RateLimiter(max_requests_per_second, clock=clock, sleep=sleep), max_attempts, DownloadError, sleep, now, log)
    owns_client = client is None
    http = client or new_client()
    transfer = _Transfer(http, base_url.rstrip("/") + DOWNLOAD_PATH, files, read_state(files, log), now, log, on_total_bytes, advance)
    log(f"downloading {files.archive.name} from {base_url}" + (f", resuming at {transfer.offset:,} bytes" if transfer.offset else ""))
    try:
        changed = retrier.run(transfer.attempt, "the bulk download", progress=lambda: transfer.received)
    finally:
        if owns_client:
            http.close()
    n_members = transfer.finish() if changed else None
    state = transfer.state
    return DownloadSummary(
        path=files.archive,
        changed=changed,
        size_bytes=files.archive.stat().st_size,
        bytes_received=transfer.received,
        resumed_at=tuple(transfer.resumed_at),
        n_members=n_members,
        retries=retrier.retries,
        seconds=time.perf_counter() - started,
        etag=state.archive.etag if state.archive else None,
        last_modified=state.archive.last_modified if state.archive else None,
    )


class _Transfer:
    """One download, over as many requests as it takes; the partial file holds what has arrived."""

    def __init__(
        self,
        http: httpx.Client,
        url: str,
        files: BulkFiles,
        state: DownloadState,
        now: Callable[[], datetime],
        log: Callable[[str], None],
        on_total_bytes: Callable[[int, int], None],
        advance: Callable[[int], None],
    ) -> None:
        self.http, self.url, self.files, self.state, self.now, self.log = http, url, files, state, now, log
        self.on_total_bytes, self.advance = on_total_bytes, advance
        self.received = 0
        self.resumed_at: list[int] = []
        self.n_members: int | None = None  # once the zip directory of the partial file has been read
        if files.partial.exists() and state.partial is None:
            # Bytes of unknown origin: resuming them could splice two versions of the archive.
            log(f"removing {files.partial.name}: no record of what it was downloaded from")
            self._discard_partial()

    @property
    def offset(self) -> int:
        return self.files.partial.stat().st_size if self.files.partial.exists() else 0

    def _archive_is_ours(self) -> bool:
        """Whether the archive in place is the one the stored validators describe."""
        stored = self.state.archive
        return stored is not None and self.files.archive.exists() and self.files.archive.stat().st_size == stored.size

    def _headers(self, offset: int) -> dict[str, str]:
        # The archive is already compressed; a gzip layer would also move the range offsets.
        headers = {"Accept-Encoding": "identity"}
        if self._archive_is_ours():
            if self.state.archive.etag:
                headers["If-None-Match"] = self.state.archive.etag
            if self.state.archive.last_modified:
                headers["If-Modified-Since"] = self.state.archive.last_modified
        if offset:
            headers["Range"] = f"bytes={offset}-"
            validator = self.state.partial.if_range()
            # Without a validator the server cannot tell us the archive changed; the size check
            # against Content-Range and the zip directory check then catch a splice.
            if validator:
                headers["If-Range"] = validator
        return headers

    def attempt(self) -> bool:
        """One request: True when the partial file now holds the whole archive, False when the
        archive in place is current."""
        offset = self.offset
        with self.http.stream("GET", self.url, params=DOWNLOAD_PARAMS, headers=self._headers(offset)) as response:
            raise_if_busy(response, self.now())
            status = response.status_code
            if status == 304:
                if not self._archive_is_ours():
                    raise DownloadError(f"GET {response.url} answered 304 Not Modified to a request that was not conditional")
                return self._current(offset)
            if status == 416:
                return self._range_not_satisfiable(response, offset)
            if status == 206:
                start, total = _content_range(response.headers.get("Content-Range"))
                expected_total = self.state.partial.size if self.state.partial else None
                if start != offset or (expected_total is not None and total != expected_total):
                    self._discard_partial()
                    raise RetryableResponse(
                        f"the server sent bytes from {start} of {total} for a request from {offset} of {expected_total}; starting over"
                    )
                self.resumed_at.append(offset)
                mode = "ab"
            elif status == 200:
                length = response.headers.get("Content-Length", "")
                sent = Validators.of(response, int(length) if length.isdigit() else None)
                if self._archive_is_ours() and self.state.archive.same_as(sent):
                    # A server that ignores the conditional headers still names its archive:
                    # hang up rather than read 2.5 GB of what is already here.
                    self.log("the server ignored If-None-Match / If-Modified-Since, but its archive is the one in place")
                    return self._current(offset)
                if offset:
                    self.log(f"the server sent the whole archive instead of the rest from {offset:,} bytes; starting over")
                self._record(partial=sent)
                total = sent.size
                offset, mode = 0, "wb"
            else:
                raise DownloadError(f"GET {response.url} answered HTTP {status}: {response.read()[:500]!r}")
            if total is not None:
                self.on_total_bytes(total, offset)
            self._receive(response, mode)
        return self._whole()

    def _current(self, offset: int) -> bool:
        """The archive in place is the server's: a partial file is of a version that is gone."""
        if offset:
            self.log(f"removing {self.files.partial.name}: the archive in place is current")
            self._discard_partial()
        return False

    def _receive(self, response: httpx.Response, mode: str) -> None:
        with open(self.files.partial, mode) as file:
            try:
                # As the network delivers it: a chunk size would have httpx hold back up to a chunk
                # until it is full, and lose it when the connection drops.
                for chunk in response.iter_raw():
                    file.write(chunk)
                    self.received += len(chunk)
                    self.advance(len(chunk))
            finally:
                # What arrived before a dropped connection is kept, for the next request to resume after.
                file.flush()
                os.fsync(file.fileno())

    def _range_not_satisfiable(self, response: httpx.Response, offset: int) -> bool:
        _, total = _content_range(response.headers.get("Content-Range"))
        if offset and total == offset:
            return True
        self._discard_partial()
        raise RetryableResponse(f"HTTP 416 for bytes from {offset} of {total}; starting over")

    def _whole(self) -> bool:
        """True when the partial file is as long as announced; when the length was never
        announced, the zip directory at the end of the file decides."""
        size, expected = self.offset, self.state.partial.size
        if expected is None:
            self.n_members = _zip_members(self.files.partial)
            if self.n_members is None:
                raise RetryableResponse(f"the body ended at {size:,} bytes without the zip directory; asking for the rest")
            return True
        if size < expected:
            raise RetryableResponse(f"the body ended at {size:,} of {expected:,} bytes")
        return True

    def finish(self) -> int:
        """Check the whole file, move it into place, and store its validators; the number of members."""
        size, expected = self.offset, self.state.partial.size
        n_members = self.n_members if self.n_members is not None else _zip_members(self.files.partial)
        if n_members is None or (expected is not None and size != expected):
            self._discard_partial()
            problem = "its zip directory does not read" if n_members is None else f"{size:,} bytes, not {expected:,}"
            raise DownloadError(f"the downloaded archive was discarded: {problem}; the next run downloads it again")
        os.replace(self.files.partial, self.files.archive)
        self._record(archive=Validators(self.state.partial.etag, self.state.partial.last_modified, size), partial=None)
        self.log(f"{self.files.archive} holds {n_members:,} files ({size:,} bytes)")
        return n_members

    def _record(self, **changes: Validators | None) -> None:
        self.state = DownloadState(**{**{"archive": self.state.archive, "partial": self.state.partial}, **changes})
        write_atomically(self.files.sidecar, self.state.to_json())

    def _discard_partial(self) -> None:
        self.files.partial.unlink(missing_ok=True)
        if self.state.partial is not None:
            self._record(partial=None)


def _content_range(value: str | None) -> tuple[int | None, int | None]:
    """(first byte, total size) of a ``Content-Range`` header; None for what it does not give."""
    match = _CONTENT_RANGE.match(value or "")
    if not match:
        raise DownloadError(f"unreadable Content-Range {value!r}")
    first, _, total = match.groups()
    return (int(first) if first else None), (int(total) if total and total != "*" else None)


def _zip_members(path: Path) -> int | None:
    """How many files the zip at ``path`` lists in its directory; None when the directory does not read."""
    try:
        with zipfile.ZipFile(path) as archive:
            return sum(1 for member in archive.infolist() if not member.is_dir())
    except (zipfile.BadZipFile, OSError, EOFError, ValueError):
        return None

