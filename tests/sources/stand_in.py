"""Stand-ins for ClinicalTrials.gov in the source tests: the real sample studies, a local HTTP
server that answers with whatever a test's handler writes, and a clock that moves only when
slept on, so that no test sleeps."""
from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from pipeline.documents import StudyRecord, read_document

SAMPLE_API_DIR = Path(__file__).resolve().parents[2] / "data" / "raw" / "ctgov_v2"


@cache
def real_studies() -> tuple[dict, ...]:
    """Every study in the sample API documents, once each, in NCT id order."""
    by_id = {}
    for path in sorted(SAMPLE_API_DIR.glob("*.json")):
        for item in read_document(path).items:
            assert isinstance(item, StudyRecord), item
            by_id.setdefault(item.nct_id, item.study)
    return tuple(by_id[nct_id] for nct_id in sorted(by_id))


def nct_id(study: dict) -> str:
    return study["protocolSection"]["identificationModule"]["nctId"]


@contextmanager
def serving(handle: Callable[[BaseHTTPRequestHandler], None], protocol_version: str = "HTTP/1.1") -> Iterator[str]:
    """Serve GET requests on 127.0.0.1 with ``handle(request)``, and yield the base URL.

    HTTP/1.1 keeps connections alive, so a body cut short must be caught by its length; under
    HTTP/1.0 a body without Content-Length simply ends where the server hangs up."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            handle(self)

        def log_message(self, format: str, *args: object) -> None:
            pass

    class Server(ThreadingHTTPServer):
        def handle_error(self, request, client_address) -> None:
            # A client that hangs up (as the downloads do on a cut body) is no error of the test's.
            if not isinstance(sys.exc_info()[1], ConnectionError):
                super().handle_error(request, client_address)

    Handler.protocol_version = protocol_version
    server = Server(("127.0.0.1", 0), Handler)
    # A short poll keeps shutdown() from waiting out the default half second.
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


class FakeTime:
    """A monotonic clock that moves only when slept on, recording each sleep."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
