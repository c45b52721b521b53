"""What reading one document may cost, whatever it holds: the bounds every reader goes through.

The raw folder takes whatever arrives, so a reader never trusts a document's size, its
compression ratio or its shape to be sane:

- a document is opened only if it is a regular file, never through a symbolic link and never
  waiting on a FIFO (``open_regular``);
- compressed data inflates through a bound (``BoundedInflation``, ``inflate_limit``): a gzip
  document or a zip member may grow to ``INFLATE_RATIO`` times its compressed size (and at least
  to its floor), so a decompression bomb stops early with a plain error;
- one study's JSON (an NDJSON line, a zip member, a document parsed whole) is at most
  ``MAX_RECORD_BYTES``; what parsing it would cost in memory is estimated from its bytes before
  it is parsed (``parse_cost_error``), since a few bytes per value (``[{},{},...]``) cost tens
  of bytes each once parsed.

A bound that is hit raises ``LimitExceeded`` (its message is the error row's reason) or returns
that reason; readers turn it into one error row. The XML reader uses the same helpers.
"""
from __future__ import annotations

import io
import os
import stat
from pathlib import Path
from typing import IO

MIB = 1024 * 1024

# One study's JSON. The largest real study records (results included) are a few MiB; this leaves
# room for a study with one enormous text field, which loads.
MAX_RECORD_BYTES = 256 * MIB
# Real JSON deflates 4 to 12 times; pretty-printed JSON a little more. Far beyond that is a bomb.
INFLATE_RATIO = 100
# Below these sizes any ratio is allowed (a small document of repeated text inflates far).
GZIP_INFLATE_FLOOR = 64 * MIB
MEMBER_INFLATE_FLOOR = 1 * MIB
# Parsing JSON costs about 2.4 times its bytes for real studies, but up to 23 times for
# `[{},{},...]`; a value parsed whole may cost at most this (estimated before parsing).
MAX_PARSED_BYTES = 768 * MIB
# Estimating costs a pass over the bytes; below this size nothing can cost too much.
PARSE_CHECK_FROM_BYTES = 8 * MIB
# Python objects per JSON container or value, beyond the text itself (measured: 54 to 70 bytes).
_BYTES_PER_VALUE = 72


class LimitExceeded(Exception):
    """A bound was hit; the message says which, for the error row."""


def mib(n_bytes: int) -> str:
    return f"{n_bytes / MIB:,.0f} MiB" if n_bytes >= MIB else f"{n_bytes:,} bytes"


def open_regular(path: str | Path, buffering: int = -1) -> IO[bytes]:
    """The file at ``path`` opened for reading, only if it is a regular file reached without a
    symbolic link in its last step: a link swapped in after the inventory, a FIFO (which would
    block the build) or a device is refused with an OSError."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise OSError(f"not a regular file: {path}")
        return os.fdopen(fd, "rb", buffering=buffering)
    except BaseException:
        os.close(fd)
        raise


def inflate_limit(compressed_bytes: int, floor: int) -> int:
    """How far data of ``compressed_bytes`` may inflate."""
    return max(floor, INFLATE_RATIO * compressed_bytes)


def inflate_error(what: str, limit: int) -> str:
    return f"{what} inflates to more than {mib(limit)} ({INFLATE_RATIO} times its compressed size): not read further (a decompression bomb?)"


class BoundedInflation(io.RawIOBase):
    """A decompressing stream that raises LimitExceeded once it has given ``limit`` bytes.

    Wrap it in ``io.BufferedReader``. Seeking back to the start (which a gzip stream does by
    decompressing again) starts the count again."""

    def __init__(self, inner: IO[bytes], limit: int, what: str) -> None:
        super().__init__()
        self.inner = inner
        # One decompressed chunk per call: data before a corrupt or cut-short part is passed on.
        self.read_inner = getattr(inner, "read1", inner.read)
        self.limit = limit
        self.what = what
        self.given = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return self.inner.seekable()

    def readinto(self, buffer) -> int:
        if self.given > self.limit:
            raise LimitExceeded(inflate_error(self.what, self.limit))
        # Never more than one byte past the limit, so a bomb costs no more than the limit.
        view = memoryview(buffer)[: self.limit + 1 - self.given]
        data = self.read_inner(len(view))
        view[: len(data)] = data
        self.given += len(data)
        if self.given > self.limit:
            raise LimitExceeded(inflate_error(self.what, self.limit))
        return len(data)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        position = self.inner.seek(offset, whence)
        self.given = position
        return position

    def tell(self) -> int:
        return self.given

    def close(self) -> None:
        try:
            self.inner.close()
        finally:
            super().close()


def bounded_inflation(inner: IO[bytes], limit: int, what: str, buffer_size: int = io.DEFAULT_BUFFER_SIZE) -> io.BufferedReader:
    return io.BufferedReader(BoundedInflation(inner, limit, what), buffer_size=buffer_size)


def read_at_most(stream: IO[bytes], limit: int) -> bytes:
    """Up to ``limit + 1`` bytes: more than ``limit`` tells the caller the data is too large."""
    return stream.read(limit + 1)


def parse_cost(data: bytes) -> int:
    """An upper estimate of the memory parsing ``data`` as JSON takes: the text (twice, for the
    text a string takes in Python and what orjson keeps while parsing) and the objects of every
    container and value (counted by the brackets and commas, which a string's commas overcount)."""
    values = data.count(b"{") + data.count(b"[") + data.count(b",")
    return 2 * len(data) + _BYTES_PER_VALUE * values


def parse_cost_error(data: bytes, what: str) -> str | None:
    """Why ``data`` must not be parsed whole, or None when it may."""
    if len(data) < PARSE_CHECK_FROM_BYTES:
        return None
    cost = parse_cost(data)
    if cost > MAX_PARSED_BYTES:
        return (f"{what} of {mib(len(data))} would take about {mib(cost)} of memory to parse "
                f"(limit {mib(MAX_PARSED_BYTES)}): not read")
    return None
