"""Hostile input, measured: every case of bad or malicious input beside good studies, built by
`trials build` as an operator would, with the peak memory of the build's whole process tree.

    python3 -m uv run python bench/hostile.py --workdir /tmp/hostile [--cases PATTERN] [--jobs 2]

Each case is a raw folder: a few good studies (real records) and the hostile entries. It is
built twice, each time by `trials build` in its own process: a full build of the folder, and an
incremental build of a warehouse first built from the good studies alone (the hostile entries
arriving in a daily refresh). Each case passes when:

- both builds exit 0 within 2 minutes, and every good study is in `studies`;
- the hostile entries are named in `ingest_errors`, or loaded where they are valid (as the case
  says), and every loaded `nct_id` is exactly NCT and 8 ASCII digits;
- nothing outside the raw folder is written (the case's folder and an `outside/` folder of
  secrets beside it are compared before and after; the raw folder itself is left as it was), and
  nothing from outside it reaches the warehouse (no text column of any table holds the secrets'
  marker or the first bytes of /etc/passwd);
- the full and the incremental build hold the same tables, row for row;
- the peak resident memory of the build's process tree (the summed RSS of the build and its
  workers, sampled every 50 ms) stays under 2 GB.

Prints a markdown table (one row per case) and writes WORKDIR/results.json. Cases that need
root (a device node) or that root makes moot (an unreadable file) say so in their notes.
"""
from __future__ import annotations

import argparse
import copy
import fnmatch
import gzip
import io
import json
import os
import random
import shutil
import socket
import stat
import struct
import subprocess
import sys
import threading
import time
import warnings
import zipfile
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import duckdb
import orjson

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
sys.path.insert(0, str(BENCH_DIR))

import run as bench_run  # noqa: E402  (bench/run.py: child processes, process trees)

GOOD = sorted((REPO / "data" / "raw" / "ctgov_v2").glob("NCT*.json"))[:4]
TEMPLATE = REPO / "tests" / "fixtures" / "documents" / "NCT03475563.json"
MARKER = "HOSTILE-CANARY-7f3a9c"  # what the secrets outside the raw folder hold
PASSWD_HEAD = "root:x:0:0"
TIME_LIMIT_S = 120
MEMORY_LIMIT_MB = 2048
MB = 1024 * 1024


# ------------------------------------------------------------------------------------------------
# Cases


@dataclass
class Case:
    name: str
    bullet: str  # the bullet the case belongs to
    make: Callable[[Path, Path], None]  # (raw folder, outside folder) -> writes the hostile entries
    reported: tuple[str, ...] = ()  # relative paths that must be named in ingest_errors
    loaded: tuple[str, ...] = ()  # NCT ids that must load
    either: tuple[tuple[str, str], ...] = ()  # (path, NCT id): reported, or loaded
    note: str = ""


def template(nct_id: str = "NCT99990001") -> dict:
    study = orjson.loads(TEMPLATE.read_bytes())
    study["protocolSection"]["identificationModule"]["nctId"] = nct_id
    return study


def at(study: dict, path: str, value) -> dict:
    """The study with the value at a dotted path (list positions as `[i]`) replaced; objects
    missing on the way are made (the template study has no results)."""
    node = study
    steps = []
    for part in path.split("."):
        key, *indexes = part.split("[")
        steps.append(key)
        steps += [int(i.rstrip("]")) for i in indexes]
    for step in steps[:-1]:
        node = node.setdefault(step, {}) if isinstance(step, str) else node[step]
    node[steps[-1]] = value
    return study


def write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def json_case(name: str, bullet: str, path: str, value, expect: str = "reported", nct_id: str = "NCT99990001",
              note: str = "") -> Case:
    """A single-study JSON document with one value replaced."""
    def make(raw: Path, outside: Path) -> None:
        # json, not orjson: it writes integers beyond 64 bits.
        write(raw / "hostile.json", json.dumps(at(template(nct_id), path, value), ensure_ascii=False).encode())

    kinds = {"reported": dict(reported=("hostile.json",)), "loaded": dict(loaded=(nct_id,)),
             "either": dict(either=(("hostile.json", nct_id),))}
    return Case(name, bullet, make, note=note, **kinds[expect])


def file_case(name: str, bullet: str, relative: str, data: bytes | Callable[[], bytes], expect: str = "reported",
              nct_id: str = "NCT99990001", note: str = "") -> Case:
    def make(raw: Path, outside: Path) -> None:
        write(raw / relative, data() if callable(data) else data)

    kinds = {"reported": dict(reported=(relative,)), "loaded": dict(loaded=(nct_id,)),
             "either": dict(either=((relative, nct_id),))}
    return Case(name, bullet, make, note=note, **kinds[expect])


def registry_export(literal: str, nct_id: str = "NCT99990001") -> bytes:
    return (f"Viewing Study {nct_id}\n\nStudy NCT ID: {nct_id}\nStatus: RECRUITING\n\nRaw JSON\n\n" + literal + "\n").encode(
        "utf-8", errors="surrogatepass")


def study_literal(**replace) -> str:
    study = template()
    for path, value in replace.items():
        at(study, path.replace("__", "."), value)
    return repr(study)


def study_page(enrollment: str = "100 participants", nct_id: str = "NCT99990001") -> bytes:
    page = (REPO / "tests" / "fixtures" / "study_page" / "seed_NCT06442709.txt").read_text()
    return page.replace("NCT06442709", nct_id).replace("100 participants", enrollment).encode()


def gzip_of(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=9)


def gzip_stream(head: bytes, filler: bytes, total: int) -> bytes:
    """gzip of `head` then `filler` repeated to `total` bytes: one gzip member of a MiB of filler,
    repeated (a gzip stream of several members is one stream), made in an instant."""
    chunk = filler * (MB // len(filler))
    return gzip_of(head + chunk) + gzip_of(chunk) * (total // MB - 1)


def zip_of(members: list[tuple[str, bytes]], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(out, "w", compression=compression) as archive:
        warnings.simplefilter("ignore")  # repeated names are one of the cases
        for name, data in members:
            archive.writestr(name, data)
    return out.getvalue()


def zip_bomb(inflated: int, declared: int | None = None, entries: int = 1, fill: bytes = b" ") -> bytes:
    """A zip of one member that inflates to `inflated` bytes of `fill`, its entry stating
    `declared` (default: the truth); with `entries` > 1, that many directory entries over the same
    compressed data (the overlapping-files zip bomb)."""
    inflater = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk = fill * MB
    body = b"".join(inflater.compress(chunk) for _ in range(inflated // MB)) + inflater.flush()
    crc = 0
    for _ in range(inflated // MB):
        crc = zlib.crc32(chunk, crc)
    size = inflated if declared is None else declared
    name = b"bomb.json"
    local = struct.pack("<4s5H3I2H", b"PK\x03\x04", 20, 0, 8, 0, 0, crc, len(body), size, len(name), 0) + name
    names = [name + (b"%05d" % i if entries > 1 else b"") for i in range(entries)]
    central = b"".join(struct.pack("<4s6H3I5H2I", b"PK\x01\x02", 20, 20, 0, 8, 0, 0, crc, len(body), size, len(n), 0, 0, 0, 0, 0, 0) + n
                       for n in names)
    end = struct.pack("<4s4H2IH", b"PK\x05\x06", 0, 0, entries, entries, len(central), len(local) + len(body), 0)
    return local + body + central + end


def many_member_zip(n_members: int) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as archive:
        for i in range(n_members):
            archive.writestr(f"m{i}.json", b"{}")
    return out.getvalue()


def symlink_case(name: str, target: str | Callable[[Path, Path], str], note: str = "", relative: str = "link.json",
                 expect: str = "reported") -> Case:
    def make(raw: Path, outside: Path) -> None:
        link = raw / relative
        link.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(target(raw, outside) if callable(target) else target, link)

    if expect == "loaded":
        return Case(name, "file system", make, loaded=("NCT99990001",), note=note)
    return Case(name, "file system", make, reported=(relative,), note=note)


def fifo_case(raw: Path, outside: Path) -> None:
    os.mkfifo(raw / "pipe.json")


def socket_case(raw: Path, outside: Path) -> None:
    folder = os.open(raw, os.O_RDONLY)
    try:
        server = socket.socket(socket.AF_UNIX)
        server.bind(f"/proc/self/fd/{folder}/sock.json")  # a socket's path must be short
        server.close()
    finally:
        os.close(folder)


def device_case(raw: Path, outside: Path) -> None:
    os.mknod(raw / "zero.json", 0o600 | stat.S_IFCHR, os.makedev(1, 5))


def deep_tree(levels: int, name: str = "d") -> Callable[[Path, Path], None]:
    def make(raw: Path, outside: Path) -> None:
        # Made with relative steps: the full path may be longer than the system allows.
        fd = os.open(raw, os.O_RDONLY)
        try:
            for _ in range(levels):
                os.mkdir(name, dir_fd=fd)
                child = os.open(name, os.O_RDONLY, dir_fd=fd)
                os.close(fd)
                fd = child
            study = os.open("NCT99990001.json", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
            os.write(study, orjson.dumps(template()))
            os.close(study)
        finally:
            os.close(fd)
    return make


def unreadable_case(raw: Path, outside: Path) -> None:
    write(raw / "secret.json", orjson.dumps(template()))
    os.chmod(raw / "secret.json", 0)


def vanishing_case(raw: Path, outside: Path) -> None:
    """A document removed while the build runs (a thread waits for the build's lock file)."""
    doomed = raw / "vanishing.json"
    write(doomed, orjson.dumps(template()))
    # A big, slow document so the build is still reading when the other one goes.
    write(raw / "slow.ndjson", b"".join(orjson.dumps(template(f"NCT9998{i:04d}")) + b"\n" for i in range(3000)))

    def remove_when_building() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if any(raw.parent.glob("*/*.building-*")):
                time.sleep(0.05)
                doomed.unlink(missing_ok=True)
                return
            time.sleep(0.01)

    threading.Thread(target=remove_when_building, daemon=True).start()


def text_field_study(n_bytes: int) -> bytes:
    """A study whose brief summary is `n_bytes` of text (words drawn at random: it compresses as
    prose does, about 3 to 1, not as a bomb)."""
    words = random.Random(1).choices(["trial", "patients", "dose", "placebo", "week", "safety", "efficacy", "blood",
                                      "pressure", "randomized", "study", "outcome", "adverse", "events", "the", "of"],
                                     k=n_bytes // 7)
    return orjson.dumps(at(template(), "protocolSection.descriptionModule.briefSummary", " ".join(words)[:n_bytes]))


def ndjson_of(*lines: bytes) -> bytes:
    return b"\n".join(lines) + b"\n"


def cases() -> list[Case]:
    found: list[Case] = []
    t = "wrong-typed record"
    modules = ["identificationModule", "statusModule", "sponsorCollaboratorsModule", "oversightModule", "descriptionModule",
               "conditionsModule", "designModule", "armsInterventionsModule", "outcomesModule", "eligibilityModule",
               "contactsLocationsModule", "referencesModule", "ipdSharingStatementModule"]
    for module in modules:
        if module != "identificationModule":
            found.append(json_case(f"{module} as a list", t, f"protocolSection.{module}", [1, 2]))
            found.append(json_case(f"{module} as a number", t, f"protocolSection.{module}", 42))
    found += [
        json_case("statusModule as a string", t, "protocolSection.statusModule", "RECRUITING"),
        json_case("derivedSection as a string", t, "derivedSection", "x"),
        json_case("conditionBrowseModule as a list", t, "derivedSection.conditionBrowseModule", []),
        json_case("miscInfoModule as a number", t, "derivedSection.miscInfoModule", 7),
        json_case("resultsSection as a list", t, "resultsSection", [1, {"a": 2}]),
        json_case("outcomeMeasures as a string", t, "resultsSection.outcomeMeasuresModule.outcomeMeasures", "x"),
        json_case("eventGroups as an object", t, "resultsSection.adverseEventsModule.eventGroups", {"id": "EG000"}),
        json_case("submissionTracking as a list (kept whole)", t, "derivedSection.miscInfoModule.submissionTracking",
                  [1, {"a": 2}], expect="loaded"),
        json_case("armGroups as a number", t, "protocolSection.armsInterventionsModule.armGroups", 3),
        json_case("armGroups as an object", t, "protocolSection.armsInterventionsModule.armGroups", {"label": "A"}),
        json_case("interventions as a string", t, "protocolSection.armsInterventionsModule.interventions", "Drug: X"),
        json_case("locations as a string", t, "protocolSection.contactsLocationsModule.locations", "Boston"),
        json_case("conditions as a string", t, "protocolSection.conditionsModule.conditions", "Asthma"),
        json_case("phases as a string", t, "protocolSection.designModule.phases", "PHASE2"),
        json_case("keywords as a number", t, "protocolSection.conditionsModule.keywords", 5),
        json_case("primaryOutcomes as an object", t, "protocolSection.outcomesModule.primaryOutcomes", {"measure": "m"}),
        json_case("collaborators as a string", t, "protocolSection.sponsorCollaboratorsModule.collaborators", "Acme"),
        json_case("armGroups[0] as a string", t, "protocolSection.armsInterventionsModule.armGroups[0]", "Arm A"),
        json_case("locations[0] as a list", t, "protocolSection.contactsLocationsModule.locations[0]", [1]),
        json_case("conditions[0] as an object", t, "protocolSection.conditionsModule.conditions[0]", {"name": "x"}),
        json_case("interventionNames as a number", t, "protocolSection.armsInterventionsModule.armGroups[0].interventionNames", 9),
        json_case("armGroupLabels as a number", t, "protocolSection.armsInterventionsModule.interventions[0].armGroupLabels", 9),
        json_case("geoPoint as a string", t, "protocolSection.contactsLocationsModule.locations[0].geoPoint", "42,1"),
        json_case("enrollmentInfo as a list", t, "protocolSection.designModule.enrollmentInfo", [72]),
        json_case("last update date as a number", t, "protocolSection.statusModule.lastUpdatePostDateStruct.date", 20240101,
                  expect="loaded"),
        json_case("last update date as an object", t, "protocolSection.statusModule.lastUpdatePostDateStruct.date", {"y": 1},
                  expect="either"),
        json_case("last update struct as a string", t, "protocolSection.statusModule.lastUpdatePostDateStruct", "2024-01-01"),
        json_case("brief title as an object", t, "protocolSection.identificationModule.briefTitle", {"text": "x"}, expect="either"),
        json_case("protocolSection as a list", t, "protocolSection", [1], note="no NCT id can be found: the record is reported"),
    ]
    v = "value that does not fit its column"
    found += [
        json_case("enrollment 'abc'", v, "protocolSection.designModule.enrollmentInfo.count", "abc", expect="loaded"),
        json_case("enrollment 30-digit number (JSON)", v, "protocolSection.designModule.enrollmentInfo.count",
                  123456789012345678901234567890, expect="loaded"),
        json_case("enrollment 1.5", v, "protocolSection.designModule.enrollmentInfo.count", 1.5, expect="loaded"),
        json_case("enrollment true", v, "protocolSection.designModule.enrollmentInfo.count", True, expect="loaded"),
        json_case("enrollment beyond 32 bits", v, "protocolSection.designModule.enrollmentInfo.count", 2**40, expect="loaded"),
        json_case("latitude as text", v, "protocolSection.contactsLocationsModule.locations[0].geoPoint.lat", "north",
                  expect="loaded"),
        json_case("healthy volunteers 'yes'", v, "protocolSection.eligibilityModule.healthyVolunteers", "yes", expect="loaded"),
        json_case("hasResults as a number", v, "hasResults", 1, expect="loaded"),
        file_case("enrollment 1e9999 (JSON)", v, "inf.json",
                  orjson.dumps(template()).replace(b'"count":100', b'"count":1e9999'), note="orjson refuses it: the document is reported"),
    ]
    ids = "strict NCT id"
    found += [
        json_case("NCT id with a final newline", ids, "protocolSection.identificationModule.nctId", "NCT99990001\n"),
        json_case("NCT id in Arabic-Indic digits", ids, "protocolSection.identificationModule.nctId", "NCT٩٩٩٩٠٠٠١"),
        json_case("NCT id in fullwidth digits", ids, "protocolSection.identificationModule.nctId", "NCT９９９９０００１"),
        json_case("NCT id with a leading space", ids, "protocolSection.identificationModule.nctId", " NCT99990001"),
        json_case("NCT id in lower case", ids, "protocolSection.identificationModule.nctId", "nct99990001"),
        json_case("NCT id too short", ids, "protocolSection.identificationModule.nctId", "NCT9999"),
        json_case("NCT id as a number", ids, "protocolSection.identificationModule.nctId", 99990001),
        file_case("registry export header in Arabic digits", ids, "export.txt",
                  registry_export(study_literal()).replace(b"Viewing Study NCT99990001", "Viewing Study NCT٩٩٩٩٠٠٠١".encode()),
                  expect="either"),
        file_case("study page NCT id in Devanagari digits", ids, "page.txt", study_page().replace(b"NCT99990001", "NCT९९९९०००१".encode())),
    ]
    c = "canonical JSON"
    found += [
        file_case("registry export 30-digit enrollment", c, "export.txt",
                  registry_export(study_literal(protocolSection__designModule__enrollmentInfo__count=10**29)), expect="loaded"),
        file_case("registry export negative 30-digit number", c, "export.txt",
                  registry_export(study_literal(protocolSection__designModule__enrollmentInfo__count=-(10**29))), expect="loaded"),
        file_case("registry export 1e9999", c, "export.txt",
                  registry_export(study_literal().replace("'count': 100", "'count': 1e9999")), expect="loaded"),
        file_case("registry export -1e9999 latitude", c, "export.txt",
                  registry_export(study_literal().replace("'lat': ", "'lat': -1e9999, 'was': ")), expect="loaded"),
        file_case("registry export big integer in an unmapped field", c, "export.txt",
                  registry_export(study_literal()[:-1] + ", 'newField': 99999999999999999999999999999}"), expect="loaded"),
        file_case("registry export lone surrogate", c, "export.txt",
                  registry_export(study_literal(protocolSection__identificationModule__briefTitle="a\ud800b"))),
        file_case("registry export lone surrogate escape", c, "export.txt",
                  registry_export(study_literal().replace("'briefTitle': '", "'briefTitle': '\\udc80"))),
        file_case("registry export surrogate pair escape", c, "export.txt",
                  registry_export(study_literal().replace("'briefTitle': '", "'briefTitle': '\\ud83d\\ude00")), expect="loaded"),
        file_case("study page 30-digit enrollment", c, "page.txt",
                  study_page("123456789012345678901234567890 participants"), expect="loaded"),
        file_case("study page enrollment in Arabic digits", c, "page.txt", study_page("١٠٠ participants"), expect="loaded"),
        file_case("JSON nested 300 levels in an unmapped field", c, "deep.json",
                  orjson.dumps(template())[:-1] + b',"deep":' + b"[" * 300 + b"]" * 300 + b"}"),
        file_case("JSON nested 100,000 levels", c, "deeper.json", b"[" * 100_000 + b"]" * 100_000),
    ]
    m = "clear message"
    found += [
        file_case("zip inside zip", m, "nested.zip", zip_of([("inner.zip", zip_of([("a.json", orjson.dumps(template()))]))])),
        file_case("gzip inside zip", m, "gz.zip", zip_of([("a.json.gz", gzip_of(orjson.dumps(template())))])),
        file_case("gzip inside gzip", m, "double.json.gz", gzip_of(gzip_of(orjson.dumps(template())))),
        file_case("malformed literal", m, "export.txt", registry_export("{'protocolSection': [1, 2,\n 3")),
        file_case("JSON-style export (true/false/null)", m, "export.txt",
                  registry_export(json.dumps(template()))),
        file_case("code in a registry export", m, "export.txt",
                  registry_export("__import__('os').system('touch /tmp/hostile-pwned')")),
        file_case("registry export with a set", m, "export.txt", registry_export("{'a', 'b'}")),
        file_case("registry export without Raw JSON", m, "export.txt", b"Viewing Study NCT99990001\n\nStatus: X\n"),
        file_case("empty file", m, "empty.json", b""),
        file_case("binary garbage", m, "garbage.bin", bytes(range(256)) * 64),
        file_case("UTF-16 without content", m, "u16.json", b"\xff\xfe" + "   ".encode("utf-16-le")),
        file_case("not UTF-8", m, "latin1.json", orjson.dumps(template()).replace(b"BiOSS", b"Bi\xefOSS")),
        file_case("truncated JSON", m, "cut.json", orjson.dumps(template())[:5000]),
        file_case("truncated gzip", m, "cut.json.gz", gzip_of(orjson.dumps(template()))[:-20]),
    ]
    mem = "bounded memory"
    found += [
        file_case("gzip bomb of whitespace (10 GB)", mem, "ws.json.gz", lambda: gzip_stream(b"", b" ", 10 * 1024 * MB)),
        file_case("gzip bomb opening with [", mem, "bracket.json.gz", lambda: gzip_stream(b"[", b" ", 10 * 1024 * MB)),
        file_case("gzip bomb of [[[[", mem, "brackets.json.gz", lambda: gzip_stream(b"", b"[", 4 * 1024 * MB)),
        file_case("gzip bomb of one long string", mem, "string.json.gz", lambda: gzip_stream(b'{"a":"', b"a", 6 * 1024 * MB)),
        file_case("gzip bomb opening with a zip signature", mem, "zip.gz", lambda: gzip_stream(b"PK\x03\x04", b"\0", 6 * 1024 * MB)),
        file_case("gzip bomb of blank lines", mem, "lines.ndjson.gz", lambda: gzip_stream(b"", b"\n", 4 * 1024 * MB)),
        file_case("gzip bomb of NDJSON lines", mem, "ndjson.gz",
                  lambda: gzip_stream(orjson.dumps(template()) + b"\n", b'{"a":1}\n', 2 * 1024 * MB), expect="either"),
        file_case("zip member bomb (declared small)", mem, "bomb.zip", lambda: zip_bomb(1024 * MB, declared=100)),
        file_case("zip member bomb (declared huge)", mem, "bomb.zip", lambda: zip_bomb(2048 * MB)),
        file_case("overlapping-entries zip bomb", mem, "overlap.zip", lambda: zip_bomb(64 * MB, entries=2000, fill=b"a")),
        file_case("zip of 300,000 members", mem, "many.zip", lambda: many_member_zip(300_000)),
        file_case("registry export of 60 MB of small items", mem, "export.txt",
                  lambda: registry_export("[" + "{}," * 20_000_000 + "]")),
        file_case("registry export over the size cap", mem, "export.txt", lambda: registry_export("'" + "a" * (70 * MB) + "'")),
        file_case("JSON list of 40 MB of empty objects", mem, "objects.json", lambda: b"[" + b"{}," * (14 * MB) + b"{}]"),
        file_case("JSON of 300 MB (over the cap)", mem, "big.json", lambda: b'{"a":"' + b"a" * (300 * MB) + b'"}'),
        file_case("one 1 GB line without a newline", mem, "line.ndjson",
                  lambda: orjson.dumps(template()) + b"\n" + b'{"a":"' + b"x" * (1024 * MB) + b'"}', expect="either"),
        file_case("3 million rejected lines", mem, "bad.ndjson", lambda: b"x\n" * 3_000_000),
        file_case("millions of blank lines around a study", mem, "blank.ndjson",
                  lambda: b"\n" * 5_000_000 + orjson.dumps(template()) + b"\n" + b"  \n" * 3_000_000, expect="loaded"),
        file_case("200 MB text field (JSON)", mem, "long.json", lambda: text_field_study(200 * MB), expect="loaded"),
        file_case("200 MB text field (NDJSON line)", mem, "long.ndjson",
                  lambda: orjson.dumps(template("NCT99990002")) + b"\n" + text_field_study(200 * MB) + b"\n", expect="loaded"),
        file_case("200 MB text field (gzip)", mem, "long.json.gz", lambda: gzip_of(text_field_study(200 * MB)), expect="loaded"),
        file_case("one study copied 200,000 times", mem, "copies.ndjson",
                  lambda: (orjson.dumps(template()) + b"\n") * 200_000, expect="loaded"),
        file_case("300 MB of whitespace", mem, "blank.json", lambda: b" " * (300 * MB)),
        file_case("UTF-16 document of 100 MB", mem, "u16.json",
                  lambda: b"\xff\xfe" + ("[" + "{}," * (16 * MB) + "{}]").encode("utf-16-le")),
        file_case("study page of 20 MB of tiny blocks", mem, "page.txt", lambda: study_page() + b"ab\n\n" * (5 * MB)),
        file_case("zip inside gzip, valid", mem, "studies.zip.gz",
                  lambda: gzip_of(zip_of([("a.json", orjson.dumps(template()))])), expect="loaded"),
    ]
    fs = "file system"
    found += [
        Case("name with a newline and non-UTF-8 bytes", fs,
             lambda raw, outside: write(Path(os.fsdecode(os.fsencode(raw) + b"/bad\nna\xffme.json")), orjson.dumps(template())),
             loaded=("NCT99990001",)),
        Case("folder tree 1,000 levels deep", fs, deep_tree(1000), reported=("d/d/d/*",)),
        Case("path longer than the system allows", fs, deep_tree(200, "x" * 250), reported=("x*/x*/x*",)),
        Case("unreadable file", fs, unreadable_case, either=(("secret.json", "NCT99990001"),),
             note="as root the file is readable, and loads"),
        Case("file vanishing mid-build", fs, vanishing_case, note="removed once the build holds its lock"),
        symlink_case("symlink to /proc/self/mem", "/proc/self/mem"),
        symlink_case("symlink to /dev/zero", "/dev/zero"),
        symlink_case("symlink to /dev/urandom", "/dev/urandom"),
        symlink_case("symlink to /etc/passwd", "/etc/passwd"),
        symlink_case("symlink to /etc", "/etc", relative="etc"),
        symlink_case("symlink to a secret outside", lambda raw, outside: str(outside / "secret.json")),
        symlink_case("symlink to a folder of secrets outside", lambda raw, outside: str(outside), relative="secrets"),
        symlink_case("relative symlink climbing out", lambda raw, outside: "../outside/secret.json"),
        symlink_case("symlink to the parent folder", "..", relative="up"),
        symlink_case("symlink loop", "loop.json", relative="loop.json"),
        symlink_case("dangling symlink", "missing.json"),
        Case("symlink chain leading out", fs, lambda raw, outside: (os.symlink(str(outside / "secret.json"), raw / "a.json"),
                                                                    os.symlink("a.json", raw / "b.json")),
             reported=("a.json", "b.json")),
        Case("symlink to a study inside", fs, lambda raw, outside: (
            write(raw / "inside" / "NCT99990003.json", orjson.dumps(template("NCT99990003"))),
            os.symlink("inside/NCT99990003.json", raw / "link.json")), loaded=("NCT99990003",)),
        Case("FIFO", fs, fifo_case, reported=("pipe.json",)),
        Case("socket", fs, socket_case, reported=("sock.json",)),
        Case("character device", fs, device_case, reported=("zero.json",), note="needs root to make"),
        Case("file from the year 33,000", fs, lambda raw, outside: os.utime(_touch_study(raw / "future.json"), (10**12, 10**12)),
             loaded=("NCT99990001",)),
        Case("sparse file of 40 GB", fs, lambda raw, outside: os.truncate(_touch(raw / "sparse.bin"), 40 * 1024**3),
             reported=("sparse.bin",)),
        Case("sparse file of 2 GB", fs, lambda raw, outside: os.truncate(_touch(raw / "sparse.bin"), 2 * 1024**3),
             reported=("sparse.bin",)),
        Case("hidden files only", fs, lambda raw, outside: write(raw / ".hidden" / "a.json", orjson.dumps(template()))),
    ]
    iso = "isolation in containers"
    good_line = orjson.dumps(template("NCT99990002"))
    bad = at(template(), "protocolSection.armsInterventionsModule", [])
    found += [
        file_case("NDJSON with one wrong-typed line", iso, "mixed.ndjson", ndjson_of(good_line, orjson.dumps(bad)),
                  expect="reported"),
        file_case("JSON list with one wrong-typed study", iso, "list.json", orjson.dumps([template("NCT99990002"), bad])),
        file_case("API page with one wrong-typed study", iso, "page.json",
                  orjson.dumps({"studies": [bad, template("NCT99990002")], "nextPageToken": "x"})),
        file_case("zip with one wrong-typed member", iso, "bulk.zip",
                  zip_of([("NCT99990002.json", good_line), ("NCT99990001.json", orjson.dumps(bad))])),
        file_case("zip with repeated member names", iso, "dup.zip",
                  zip_of([("a.json", good_line), ("a.json", orjson.dumps(bad)), ("a.json", b"{")])),
        file_case("gzipped NDJSON with one wrong-typed line", iso, "mixed.ndjson.gz", gzip_of(ndjson_of(orjson.dumps(bad), good_line))),
        file_case("newer wrong-typed copy of a good study", iso, "newer.json",
                  orjson.dumps(at(at(copy.deepcopy(bad), "protocolSection.identificationModule.nctId", "NCT99990001"),
                                  "protocolSection.statusModule.lastUpdatePostDateStruct.date", "2099-01-01"))),
    ]
    for case in found:
        if case.bullet == iso and case.name != "newer wrong-typed copy of a good study":
            case.loaded = ("NCT99990002",)
    found[-1].make = _with_older_good_copy(found[-1].make)
    found[-1].loaded = ("NCT99990001",)
    return found


def _with_older_good_copy(make: Callable[[Path, Path], None]) -> Callable[[Path, Path], None]:
    def both(raw: Path, outside: Path) -> None:
        make(raw, outside)
        write(raw / "older.json", orjson.dumps(template()))
    return both


def _touch_study(path: Path) -> Path:
    write(path, orjson.dumps(template()))
    return path


def _touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()
    return path


# ------------------------------------------------------------------------------------------------
# Running a case


def snapshot(folder: Path) -> dict[str, tuple]:
    """What a folder holds (names, kinds, sizes, times), read without following links or reading files."""
    found = {}
    stack = [folder]
    while stack:
        current = stack.pop()
        try:
            entries = list(os.scandir(current))
        except OSError:
            continue
        for entry in entries:
            try:
                status = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            found[os.fsencode(entry.path)] = (stat.S_IFMT(status.st_mode), status.st_size, status.st_mtime_ns)
            if entry.is_dir(follow_symlinks=False):
                stack.append(entry.path)
    return found


def build(raw: Path, warehouse: Path, log_dir: Path, name: str) -> dict:
    """`trials build` in its own process: exit code, wall time, output, and the peak summed RSS
    of its process tree (the build and its workers) sampled every 20 ms; RSS counts shared pages
    in each process, so it overstates what the tree takes, never understates it."""
    command = [*bench_run.trials_command(), "build", "--raw-dir", str(raw), "--warehouse", str(warehouse)]
    return bench_run.run_child(command, log_dir, name, memory="rss", interval=0.02)


def table_names(con) -> list[str]:
    # The main schema only: the ctgov schema holds views over these tables, with the same names.
    return [row[0] for row in con.execute(
        "select table_name from duckdb_tables() where database_name = current_database() and schema_name = 'main'").fetchall()]


def leaked(warehouse: Path) -> list[str]:
    """Tables whose text holds the secrets' marker or the first bytes of /etc/passwd."""
    found = []
    with duckdb.connect(str(warehouse), read_only=True, config=CHECK_CONFIG) as con:
        for table in table_names(con):
            columns = [row[0] for row in con.execute(
                "select column_name from duckdb_columns() where schema_name = 'main' and table_name = ? and data_type = 'VARCHAR'", [table]).fetchall()]
            for column in columns:
                hits = con.execute(f'select count(*) from "{table}" where contains("{column}", ?) or contains("{column}", ?)',
                                   [MARKER, PASSWD_HEAD]).fetchone()[0]
                if hits:
                    found.append(f"{table}.{column}")
    return found


REPRODUCIBLE_SKIP = {"build_info", "study_versions", "study_changes"}
# The checks' own DuckDB connections: a case of millions of error rows must not take the machine.
CHECK_CONFIG = {"memory_limit": "2GB", "threads": 2}


def differences(left: Path, right: Path) -> dict[str, tuple[int, int]]:
    found = {}
    with duckdb.connect(config={**CHECK_CONFIG, "temp_directory": str(left.parent / "compare.tmp")}) as con:
        con.execute(f"attach '{left}' as l (read_only)")
        con.execute(f"attach '{right}' as r (read_only)")
        tables = [row[0] for row in con.execute(
            "select table_name from duckdb_tables() where database_name = 'l' and schema_name = 'main'").fetchall()]
        for table in tables:
            if table in REPRODUCIBLE_SKIP:
                continue
            # modified_at differs between a copied and an original file; everything else must agree.
            columns = ", ".join(f'"{c}"' for (c,) in con.execute(
                "select column_name from duckdb_columns() where database_name = 'l' and schema_name = 'main' and table_name = ? "
                "and column_name <> 'modified_at'",
                [table]).fetchall())
            only_left = con.execute(f'select count(*) from (select {columns} from l."{table}" except all select {columns} from r."{table}")').fetchone()[0]
            only_right = con.execute(f'select count(*) from (select {columns} from r."{table}" except all select {columns} from l."{table}")').fetchone()[0]
            if only_left or only_right:
                found[table] = (only_left, only_right)
    return found


def good_ids() -> list[str]:
    return [orjson.loads(path.read_bytes())["protocolSection"]["identificationModule"]["nctId"] for path in GOOD]


def remove_tree(path: Path) -> None:
    """shutil.rmtree recurses once per level, and a case's folder may be a thousand levels deep."""
    subprocess.run(["rm", "-rf", "--", str(path)], check=False)


def prepare_base(workdir: Path) -> Path:
    """A warehouse built from the good studies alone, copied for every case's incremental build."""
    base = workdir / "base"
    remove_tree(base)  # built by the code under test, every run
    for path in GOOD:
        write(base / "raw" / "good" / path.name, path.read_bytes())
    result = build(base / "raw", base / "w.duckdb", base / "logs", "base")
    if result["returncode"] != 0:
        raise SystemExit(f"the base build failed: {result['stderr_tail']}")
    return base


def run_case(case: Case, workdir: Path, base: Path) -> dict:
    root = workdir / "cases" / "".join(ch if ch.isalnum() else "-" for ch in case.name)
    remove_tree(root)
    raw, outside = root / "raw", root / "outside"
    shutil.copytree(base / "raw", raw)
    write(outside / "secret.json", f'{{"secret": "{MARKER}"}}'.encode())
    write(outside / "notes.txt", MARKER.encode())
    (root / "incremental").mkdir()
    for name in ("w.duckdb", "w.history.duckdb"):
        if (base / name).exists():
            shutil.copy2(base / name, root / "incremental" / name)
    result = {"case": case.name, "bullet": case.bullet, "note": case.note, "problems": []}
    try:
        case.make(raw, outside)
    except PermissionError as error:
        result["skipped"] = f"could not be made here: {error}"
        return result
    before_raw, before_outside = snapshot(raw), snapshot(outside)
    problems = result["problems"]
    runs = {}
    for kind, warehouse in (("full", root / "full" / "w.duckdb"), ("incremental", root / "incremental" / "w.duckdb")):
        if case.name == "file vanishing mid-build" and kind == "incremental":
            case.make(raw, outside)  # the document comes back, and goes again during this build
        run = build(raw, warehouse, root / "logs", kind)
        runs[kind] = run
        if run["returncode"] == 0 and kind == "incremental" and not run["stdout"].startswith(("incremental build", f"{warehouse} is up")):
            problems.append(f"the refresh was no incremental build: {run['stdout'][:80]}")
        if run["returncode"] != 0:
            problems.append(f"{kind} build exited {run['returncode']}: {run['stderr_tail'][-300:]}")
        if run["wall_s"] > TIME_LIMIT_S:
            problems.append(f"{kind} build took {run['wall_s']:.0f} s")
        if run["peak_tree_rss_mb"] > MEMORY_LIMIT_MB:
            problems.append(f"{kind} build peaked at {run['peak_tree_rss_mb']:.0f} MB")
    result.update({f"{kind}_{key}": run[key] for kind, run in runs.items() for key in ("returncode", "wall_s", "peak_tree_rss_mb")})
    result["peak_rss_mb"] = max(run["peak_rss_mb"] for run in runs.values())
    if any(run["returncode"] != 0 for run in runs.values()):
        return result
    full = root / "full" / "w.duckdb"
    with duckdb.connect(str(full), read_only=True, config=CHECK_CONFIG) as con:
        studies = {row[0] for row in con.execute("select nct_id from studies").fetchall()}
        n_errors = con.execute("select count(*) from ingest_errors").fetchone()[0]
        errors = con.execute("select document_path, position, nct_id, reason from ingest_errors order by all limit 1000").fetchall()
        reported = {row[0] for row in con.execute("select distinct document_path from ingest_errors").fetchall()}
        documents = {row[0]: row[1] for row in con.execute("select document_path, document_form from documents").fetchall()}
        bad_ids = con.execute("select nct_id from studies where not regexp_full_match(nct_id, 'NCT[0-9]{8}')").fetchall()
    result["errors"] = [f"{path} | {position} | {reason}"[:240] for path, position, _, reason in errors][:6]
    result["n_errors"] = n_errors
    missing_good = sorted(set(good_ids()) - studies)
    if missing_good:
        problems.append(f"good studies missing: {missing_good}")
    if bad_ids:
        problems.append(f"ids that are not NCT + 8 ASCII digits loaded: {bad_ids}")
    for path in case.reported:
        if not any(fnmatch.fnmatchcase(found, path) for found in reported):
            problems.append(f"{path!r} not in ingest_errors")
    for nct_id in case.loaded:
        if nct_id not in studies:
            problems.append(f"{nct_id} not loaded")
    for path, nct_id in case.either:
        if path not in reported and nct_id not in studies:
            problems.append(f"{path!r} neither reported nor loaded")
    if case.name == "code in a registry export" and Path("/tmp/hostile-pwned").exists():
        problems.append("the registry export's code ran")
    for kind in runs:
        leaks = leaked(root / kind / "w.duckdb")
        if leaks:
            problems.append(f"{kind} warehouse holds text from outside the raw folder in {leaks}")
    if snapshot(outside) != before_outside:
        problems.append("the outside folder changed")
    if case.name != "file vanishing mid-build" and snapshot(raw) != before_raw:
        problems.append("the raw folder changed")
    expected_files = {"full", "incremental", "logs", "raw", "outside"}
    stray = sorted(p.name for p in root.iterdir() if p.name not in expected_files)
    stray += sorted(f"{kind}/{p.name}" for kind in ("full", "incremental") for p in (root / kind).iterdir()
                    if not p.name.startswith("w.") or ".building-" in p.name or p.name.endswith((".wal", ".tmp")))
    if stray:
        problems.append(f"stray files: {stray}")
    if case.name != "file vanishing mid-build":
        diff = differences(full, root / "incremental" / "w.duckdb")
        if diff:
            problems.append(f"full and incremental builds differ: {diff}")
    result["forms"] = sorted({form for path, form in documents.items() if not path.startswith(("good/", "inside/"))})
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/hostile"))
    parser.add_argument("--cases", default="*", help="fnmatch pattern over case names")
    parser.add_argument("--jobs", type=int, default=1, help="cases run side by side")
    parser.add_argument("--keep", action="store_true", help="keep each case's folder (they can be large)")
    args = parser.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    selected = [case for case in cases() if fnmatch.fnmatch(case.name, args.cases)]
    # Every build runs a copy of the code taken now: an edit meanwhile would turn the refreshes
    # into full builds (the code's hash is part of the warehouse).
    bench_run.freeze_code(args.workdir / "code")
    base = prepare_base(args.workdir)

    def one(case: Case) -> dict:
        started = time.perf_counter()
        try:
            result = run_case(case, args.workdir, base)
        except Exception as error:  # noqa: BLE001 - a case that can't be run is reported, not fatal
            result = {"case": case.name, "bullet": case.bullet, "note": case.note,
                      "problems": [f"the case could not be run: {type(error).__name__}: {error}"]}
        result["case_s"] = time.perf_counter() - started
        status = "skipped" if result.get("skipped") else ("FAIL" if result["problems"] else "ok")
        print(f"{status:7} {case.name} ({result['case_s']:.0f} s)" + "".join(f"\n        {p}" for p in result["problems"]), flush=True)
        if not args.keep:
            remove_tree(args.workdir / "cases" / "".join(ch if ch.isalnum() else "-" for ch in case.name))
        return result

    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        results = list(pool.map(one, selected))
    (args.workdir / "results.json").write_text(json.dumps(results, indent=2, default=str))
    print()
    print("| # | case | kind | full: exit, s, tree MB | incremental: exit, s, tree MB | error rows | result |")
    print("|---:|---|---|---|---|---:|---|")
    for number, r in enumerate(results, 1):
        if r.get("skipped"):
            print(f"| {number} | {r['case']} | {r['bullet']} | | | | skipped: {r['skipped']} |")
            continue
        cells = [f"{r.get(f'{k}_returncode', '')}, {r.get(f'{k}_wall_s', 0):.1f}, {r.get(f'{k}_peak_tree_rss_mb', 0):.0f}"
                 for k in ("full", "incremental")]
        outcome = "ok" if not r["problems"] else "FAIL: " + "; ".join(r["problems"])
        first_error = (r.get("errors") or [""])[0] if r.get("n_errors") else ""
        shown = next((e for e in r.get("errors", []) if not e.startswith(("good/", "inside/"))), first_error)
        print(f"| {number} | {r['case']} | {r['bullet']} | {cells[0]} | {cells[1]} | {r.get('n_errors', '')} | "
              f"{outcome}{' (' + r['note'] + ')' if r['note'] else ''}<br>`{shown.replace('|', '/')[:160]}` |")
    failed = [r for r in results if r["problems"]]
    peak = max((max(r.get("full_peak_tree_rss_mb", 0), r.get("incremental_peak_tree_rss_mb", 0)) for r in results), default=0)
    print(f"\n{len(results) - len(failed)} of {len(results)} cases pass; highest peak tree RSS {peak:.0f} MB")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
