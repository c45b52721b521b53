"""Synthetic ClinicalTrials.gov API v2 studies at registry scale, resampled from real records.

    python bench/generate.py --studies 600000 --seed 1 --out /tmp/ctgov-600k --formats zip,ndjson
    python bench/generate.py --mutate 0.01 --out /tmp/ctgov-600k --mutated-out /tmp/ctgov-600k-m1

Every study starts from one of the ~250 real API v2 records in ``data/raw/ctgov_v2`` (the
*templates*). Its arms and interventions are the template's own, untouched, so the
``interventionNames`` / ``armGroupLabels`` cross references stay consistent. What varies:

- the NCT id (``identificationModule.nctId``; unique, ``NCT`` + 8 digits; aliases too);
- sites, conditions, keywords and, for studies without results, the registered outcomes: the
  list length is drawn from the empirical distribution of that length over the templates,
  the elements are sampled from the pool of every real element of that kind;
- brief summary + detailed description (together) and eligibility criteria: taken from a
  random template, so text lengths follow the real records;
- overallStatus, lastUpdatePostDate (and the dates derived from it), drawn from a
  registry-like status mix and date ranges that fit the status.

About 13% of studies carry a resultsSection (they are drawn from the templates that have
one). The templates are biased towards large, recent records, so template choice is tilted
(weight ``exp(-lambda * expected_size)`` within the results / no-results groups) so that the
mean compact-JSON study size is ~17.2 KB, the registry's 10.3 GB / 600,000; the tilt is
solved once from the templates (seed independent) and the achieved mean is printed.

Long tails, at fixed positions so any run of a few hundred studies has one of each:
index % 5000 == 7 has 1,001-1,500 sites; index % 5000 == 11 has over 100 outcomes;
index % 20000 == 13 has a 1.05-3.4 MB detailedDescription.

Studies are generated in chunks of 1,000, each with its own ``random.Random(seed, chunk)``,
so the output is byte-identical for a seed whatever the number of worker processes.

``--templates DIR`` takes the templates from another folder of real records instead, in any form
the pipeline reads (API v2 JSON in any container, registry exports, study pages). With
``--replicate``, nothing is resampled: study *i* is template *i mod n* exactly as it is, under a new
NCT id (and new aliases) -- real records replicated to scale, for checking that the ratios
measured on the synthetic registry hold on records the generator was not tuned on.

Output (``--out DIR``): ``DIR/ndjson/studies-00001.ndjson`` ... (50,000 studies a file) and
``DIR/zip/ctg-studies.json.zip`` (one compact ``NCTxxxxxxxx.json`` member per study, like the
bulk download), the same study bytes in both, and ``DIR/manifest.json``. ``--formats xml`` (with
``--replicate`` of legacy XML templates, e.g. the shared ``legacy_xml`` samples) adds
``DIR/xml/AllPublicXML.zip``: each study's original ``<clinical_study>`` record under its new NCT
id, in the bulk download's ``NCT0000xxxx/`` folders; the JSON formats then hold the same studies
as the pipeline reads them from that XML, so XML and JSON builds of one data set compare.
"""
from __future__ import annotations

import argparse
import bisect
import datetime as dt
import hashlib
import json
import math
import multiprocessing
import os
import random
import re
import struct
import sys
import time
import zipfile
import zlib
from array import array
from collections import deque
from pathlib import Path
from typing import Any, Iterable, Iterator

import orjson

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

TEMPLATE_DIR = REPO / "data" / "raw" / "ctgov_v2"

# The registry: ~600,000 studies, 10.3 GB of JSON, ~13% with results.
TARGET_MEAN_BYTES = 17_200
RESULTS_FRACTION = 0.13

CHUNK_STUDIES = 1000
NDJSON_STUDIES_PER_FILE = 50_000
ZIP_NAME = "ctg-studies.json.zip"
XML_ZIP_NAME = "AllPublicXML.zip"
MAX_STUDIES = 5_000_000

TAIL_SITES = "sites"        # more than 1,000 sites
TAIL_OUTCOMES = "outcomes"  # more than 100 registered outcomes
TAIL_TEXT = "text"          # over 1 MB of text (a huge detailedDescription)
TAIL_KINDS = (TAIL_SITES, TAIL_OUTCOMES, TAIL_TEXT)

SNAPSHOT = dt.date(2025, 12, 31)  # the latest lastUpdatePostDate a generated study carries
_EPOCH = dt.date(2000, 1, 1)
_ZIP_DATE_TIME = (2026, 1, 1, 0, 0, 0)

# A registry-like mix (studies without results; those with results are nearly all finished).
_STATUS_NO_RESULTS = {
    "COMPLETED": 0.45, "UNKNOWN": 0.17, "RECRUITING": 0.13, "ACTIVE_NOT_RECRUITING": 0.05,
    "TERMINATED": 0.045, "NOT_YET_RECRUITING": 0.045, "WITHDRAWN": 0.03, "ENROLLING_BY_INVITATION": 0.012,
    "SUSPENDED": 0.004,
}
_STATUS_RESULTS = {"COMPLETED": 0.80, "TERMINATED": 0.14, "ACTIVE_NOT_RECRUITING": 0.05, "UNKNOWN": 0.01}
_ONGOING = {"RECRUITING", "NOT_YET_RECRUITING", "ENROLLING_BY_INVITATION", "ACTIVE_NOT_RECRUITING", "SUSPENDED"}
_EXPANDED_ACCESS_STATUSES = {"AVAILABLE", "NO_LONGER_AVAILABLE", "TEMPORARILY_NOT_AVAILABLE", "APPROVED_FOR_MARKETING"}
# Where a study goes next when it is updated (mutate mode).
_NEXT_STATUS = {
    "NOT_YET_RECRUITING": "RECRUITING", "RECRUITING": "ACTIVE_NOT_RECRUITING", "ENROLLING_BY_INVITATION": "ACTIVE_NOT_RECRUITING",
    "ACTIVE_NOT_RECRUITING": "COMPLETED", "SUSPENDED": "TERMINATED", "UNKNOWN": "COMPLETED", "COMPLETED": "TERMINATED",
    "TERMINATED": "COMPLETED", "WITHDRAWN": "NOT_YET_RECRUITING",
}

# NCT numbers: an affine bijection of the study index onto [0, _ID_SPACE), like real ids (< NCT08000000).
_ID_SPACE = 8_000_000
_ID_MULTIPLIER = 2_718_281  # coprime with 8,000,000 = 2^9 * 5^6
_ALIAS_BASE = 50_000_000    # aliases live above every primary id: 50,000,000 + 8 * index + j


def generator_version(template_dir: Path = TEMPLATE_DIR) -> str:
    """Changes whenever this file or the templates change: the cache key of generated data."""
    digest = hashlib.sha256(Path(__file__).read_bytes())
    digest.update(str(template_dir.resolve()).encode())
    for path in template_files(template_dir):
        digest.update(f"{path.relative_to(template_dir)}:{path.stat().st_size}:{path.stat().st_mtime_ns}".encode())
    return digest.hexdigest()[:12]


def template_files(template_dir: Path) -> list[Path]:
    """The documents of a template folder: every file under it, except notes such as the default
    folder's SOURCES.md."""
    return sorted(p for p in template_dir.rglob("*") if p.is_file() and p.suffix.lower() != ".md")


def nct_id(index: int, seed: int) -> str:
    offset = (seed * 7_654_321 + 1_000_003) % _ID_SPACE
    return f"NCT{(index * _ID_MULTIPLIER + offset) % _ID_SPACE:08d}"


def tail_kind(index: int) -> str | None:
    if index % 20_000 == 13:
        return TAIL_TEXT
    if index % 5000 == 7:
        return TAIL_SITES
    if index % 5000 == 11:
        return TAIL_OUTCOMES
    return None


# --------------------------------------------------------------------------------------------
# The corpus: templates, element pools and empirical count distributions


def load_templates(template_dir: Path = TEMPLATE_DIR) -> list[dict]:
    """Every distinct real study in the template folder (first occurrence of an NCT id wins),
    read by the pipeline's own readers, so any form it reads can serve."""
    from pipeline.documents import read_document
    from pipeline.documents.model import StudyRecord

    studies: dict[str, dict] = {}
    for path in template_files(template_dir):
        for item in read_document(path).items:
            # Anything else is a ReadError: a file or record that is not a study is no template.
            if isinstance(item, StudyRecord):
                studies.setdefault(item.nct_id, item.study)
    if not studies:
        raise SystemExit(f"no studies found in {template_dir}")
    return [studies[k] for k in sorted(studies)]


def load_xml_sources(template_dir: Path) -> dict[str, bytes]:
    """The legacy XML records among the templates, as their files' bytes, by NCT id: the source
    of ``--formats xml`` (the same studies as the JSON formats, which hold what the pipeline reads
    from these files)."""
    from pipeline.documents import read_document
    from pipeline.documents.legacy_xml import LEGACY_XML
    from pipeline.documents.model import StudyRecord

    sources: dict[str, bytes] = {}
    for path in template_files(template_dir):
        reading = read_document(path)
        items = [item for item in reading.items if isinstance(item, StudyRecord)]
        if reading.form == LEGACY_XML and items:
            sources.setdefault(items[0].nct_id, path.read_bytes())
    return sources


_XML_NCT_ID = re.compile(rb"<nct_id>\s*NCT\d{8}\s*</nct_id>")
_XML_ALIAS = re.compile(rb"<nct_alias>\s*NCT\d{8}\s*</nct_alias>")


def renumbered_xml(source: bytes, study: dict) -> bytes:
    """An XML record under the NCT id and aliases ``renumbered`` gave its study."""
    ident = study["protocolSection"]["identificationModule"]
    data = _XML_NCT_ID.sub(f"<nct_id>{ident['nctId']}</nct_id>".encode(), source, count=1)
    aliases = iter(ident.get("nctIdAliases") or ())
    return _XML_ALIAS.sub(lambda match: f"<nct_alias>{next(aliases, 'NCT00000000')}</nct_alias>".encode(), data)


def _get(study: dict, *path: str) -> Any:
    node: Any = study
    for key in path:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node


def _has_results(study: dict) -> bool:
    return isinstance(study.get("resultsSection"), dict)


class Corpus:
    """What studies are resampled from. Built once, shared with forked workers, never mutated."""

    def __init__(self, templates: list[dict]):
        self.templates = templates
        self.sizes = [len(orjson.dumps(t)) for t in templates]

        def pool_and_counts(*path: str) -> tuple[list, list[int]]:
            pool, counts = [], []
            for t in templates:
                items = _get(t, "protocolSection", *path)
                items = items if isinstance(items, list) else []
                pool.extend(items)
                counts.append(len(items))
            return pool, counts

        self.locations, self.location_counts = pool_and_counts("contactsLocationsModule", "locations")
        self.primary, self.primary_counts = pool_and_counts("outcomesModule", "primaryOutcomes")
        self.secondary, self.secondary_counts = pool_and_counts("outcomesModule", "secondaryOutcomes")
        self.other, self.other_counts = pool_and_counts("outcomesModule", "otherOutcomes")
        conditions, self.condition_counts = pool_and_counts("conditionsModule", "conditions")
        keywords, self.keyword_counts = pool_and_counts("conditionsModule", "keywords")
        self.conditions = sorted(set(conditions))
        self.keywords = sorted(set(keywords))
        # Texts travel together: (briefSummary, detailedDescription) of one real record.
        self.descriptions = [
            (_get(t, "protocolSection", "descriptionModule", "briefSummary"),
             _get(t, "protocolSection", "descriptionModule", "detailedDescription"))
            for t in templates
        ]
        self.long_texts = [d for _, d in self.descriptions if d]
        self.eligibility = [_get(t, "protocolSection", "eligibilityModule", "eligibilityCriteria") for t in templates]

        self.results_group = [i for i, t in enumerate(templates) if _has_results(t)]
        self.plain_group = [i for i, t in enumerate(templates) if not _has_results(t)]
        if not self.results_group or not self.plain_group:
            raise SystemExit("templates need studies both with and without a resultsSection")
        self.results_fraction = RESULTS_FRACTION
        self.tilt = 0.0
        self._set_weights([1.0] * len(templates))
        self.calibration: dict[str, Any] = {}

    def _set_weights(self, weights: list[float]) -> None:
        self.weights = weights
        self.results_cum = list(_cumulative([weights[i] for i in self.results_group]))
        self.plain_cum = list(_cumulative([weights[i] for i in self.plain_group]))

    def pick_template(self, rng: random.Random, with_results: bool) -> int:
        group, cum = (self.results_group, self.results_cum) if with_results else (self.plain_group, self.plain_cum)
        return group[bisect.bisect_right(cum, rng.random() * cum[-1])]

    def expected_sizes(self) -> list[float]:
        """The expected compact-JSON size of a study made from each template, computed from the
        pools rather than sampled (no sampling noise): the size of the template without its
        resampled parts, plus the expected size of each resampled part."""

        def size(value: Any) -> int:
            return len(orjson.dumps(value))

        def entry(key: str, value: Any) -> int:  # what a key adds to an object: "key":value and a comma
            return size(key) + 1 + size(value) + 1

        def list_part(key: str, pool: list, counts: list[int], at_least: int = 0) -> float:
            item = sum(size(x) for x in pool) / len(pool)  # each drawn element is any pool element, equally likely
            total = 0.0
            for k in counts:
                k = max(k, at_least)
                if k:
                    total += size(key) + 1 + 2 + k * item + (k - 1) + 1
            return total / len(counts)

        sites = list_part("locations", self.locations, self.location_counts)
        conditions = list_part("conditions", self.conditions, self.condition_counts, at_least=1)
        keywords = list_part("keywords", self.keywords, self.keyword_counts)
        outcomes = (list_part("primaryOutcomes", self.primary, self.primary_counts, at_least=1)
                    + list_part("secondaryOutcomes", self.secondary, self.secondary_counts)
                    + list_part("otherOutcomes", self.other, self.other_counts))
        texts = sum(sum(entry(k, v) for k, v in zip(("briefSummary", "detailedDescription"), pair) if v)
                    for pair in self.descriptions) / len(self.descriptions)
        criteria = [c for c in self.eligibility if c]
        criteria_share = len(criteria) / len(self.eligibility)
        criteria_bytes = sum(entry("eligibilityCriteria", c) for c in criteria) / len(criteria)

        def status_bytes(table: dict[str, float]) -> float:
            return sum(w * size(s) for s, w in table.items()) / sum(table.values())

        expected = []
        for template in self.templates:
            results = _has_results(template)
            skeleton = orjson.loads(orjson.dumps(template))
            ps = skeleton["protocolSection"]
            extra = sites + conditions + keywords + texts
            ps.get("contactsLocationsModule", {}).pop("locations", None)
            for key in ("conditions", "keywords"):
                ps.get("conditionsModule", {}).pop(key, None)
            for key in ("briefSummary", "detailedDescription"):
                ps.get("descriptionModule", {}).pop(key, None)
            if not results:
                for key in ("primaryOutcomes", "secondaryOutcomes", "otherOutcomes"):
                    ps.get("outcomesModule", {}).pop(key, None)
                extra += outcomes
            eligibility = ps.get("eligibilityModule")
            if isinstance(eligibility, dict):
                own = eligibility.pop("eligibilityCriteria", None)
                extra += criteria_share * criteria_bytes + (1 - criteria_share) * (entry("eligibilityCriteria", own) if own else 0)
            status = ps.get("statusModule", {})
            if status.get("overallStatus") not in _EXPANDED_ACCESS_STATUSES:
                extra += status_bytes(_STATUS_RESULTS if results else _STATUS_NO_RESULTS) - size(status.get("overallStatus"))
            expected.append(size(skeleton) + extra)
        return expected

    def calibrate(self, target_mean: float, long_tail: bool) -> None:
        """Solve the template tilt so the expected study size is ``target_mean`` bytes.

        Expected sizes per template come from ``expected_sizes``; the long tails add their
        expected extra bytes per study (sampled with a fixed RNG). Seed independent.
        """
        expected = self.expected_sizes()
        rng = random.Random("ctgov-bench-calibration")
        plain_mean = sum(expected) / len(expected)
        tail_bytes = 0.0
        if long_tail:
            for kind, period in ((TAIL_SITES, 5000), (TAIL_OUTCOMES, 5000), (TAIL_TEXT, 20_000)):
                sizes = [len(orjson.dumps(make_study(self, rng, 0, 0, kind=kind))) for _ in range(20)]
                tail_bytes += (sum(sizes) / len(sizes) - plain_mean) / period

        def mean_for(tilt: float) -> float:
            mean = tail_bytes
            for group, share in ((self.results_group, self.results_fraction), (self.plain_group, 1 - self.results_fraction)):
                low = min(expected[i] for i in group)
                w = [math.exp(-tilt * (expected[i] - low)) for i in group]
                mean += share * sum(wi * expected[i] for wi, i in zip(w, group)) / sum(w)
            return mean

        low, high = -2e-4, 2e-3
        untilted = mean_for(0.0)
        for _ in range(80):
            mid = (low + high) / 2
            if mean_for(mid) > target_mean:
                low = mid
            else:
                high = mid
        tilt = (low + high) / 2
        weights = [0.0] * len(self.templates)
        for group in (self.results_group, self.plain_group):
            floor = min(expected[i] for i in group)
            for i in group:
                weights[i] = math.exp(-tilt * (expected[i] - floor))
        self.tilt = tilt
        self._set_weights(weights)

        def effective(group: list[int]) -> float:
            w = [weights[i] for i in group]
            return sum(w) ** 2 / sum(x * x for x in w)

        self.calibration = {
            "target_mean_bytes": target_mean,
            "untilted_expected_mean_bytes": round(untilted),
            "expected_mean_bytes": round(mean_for(tilt)),
            "tilt_per_byte": tilt,
            "long_tail_bytes_per_study": round(tail_bytes),
            "templates": len(self.templates),
            "templates_with_results": len(self.results_group),
            "effective_templates_results": round(effective(self.results_group), 1),
            "effective_templates_no_results": round(effective(self.plain_group), 1),
        }


def _cumulative(values: Iterable[float]) -> Iterator[float]:
    total = 0.0
    for v in values:
        total += v
        yield total


# --------------------------------------------------------------------------------------------
# One study


def _draw(rng: random.Random, pool: list, k: int) -> list:
    if k <= 0:
        return []
    if k <= len(pool):
        return rng.sample(pool, k)
    return [rng.choice(pool) for _ in range(k)]


def _set_list(module: dict, key: str, items: list) -> None:
    if items:
        module[key] = items
    else:
        module.pop(key, None)


def _parse_date(raw: Any) -> dt.date | None:
    if not isinstance(raw, str):
        return None
    raw = raw.strip()
    try:
        if len(raw) == 7:
            return dt.date(int(raw[:4]), int(raw[5:7]), 1)
        return dt.date.fromisoformat(raw[:10])
    except ValueError:
        return None


def _random_day(rng: random.Random, low: dt.date, high: dt.date, recent_mode: bool) -> dt.date:
    if high <= low:
        return low
    span = (high - low).days
    offset = rng.triangular(0, span, span) if recent_mode else rng.uniform(0, span)
    return low + dt.timedelta(days=int(offset))


def _weighted(rng: random.Random, table: dict[str, float]) -> str:
    return rng.choices(list(table), weights=list(table.values()))[0]


def _vary_status(study: dict, ps: dict, rng: random.Random) -> None:
    status = ps["statusModule"] = dict(ps.get("statusModule") or {})
    if status.get("overallStatus") not in _EXPANDED_ACCESS_STATUSES:
        status["overallStatus"] = _weighted(rng, _STATUS_RESULTS if _has_results(study) else _STATUS_NO_RESULTS)
    overall = status.get("overallStatus")
    if overall in _ONGOING:
        low, high, recent = dt.date(2022, 1, 1), SNAPSHOT, True
    elif overall == "UNKNOWN":
        low, high, recent = dt.date(2008, 1, 1), dt.date(2023, 12, 31), False
    else:
        low, high, recent = dt.date(2005, 6, 1), SNAPSHOT, True
    day = _random_day(rng, low, high, recent)
    # The templates are mostly recent registrations: move their first submission / posting
    # (and results posting) back before an earlier last update.
    for posted_key, submitted in (("studyFirstPostDateStruct", ("studyFirstSubmitDate", "studyFirstSubmitQcDate")),
                                  ("resultsFirstPostDateStruct", ("resultsFirstSubmitDate", "resultsFirstSubmitQcDate"))):
        posted = _parse_date(_get(status, posted_key, "date"))
        if posted is not None and posted > day:
            posted = day - dt.timedelta(days=rng.randint(0, 400) if posted_key.startswith("study") else rng.randint(0, 30))
            status[posted_key] = dict(status[posted_key], date=posted.isoformat())
            for key in submitted:
                if key in status:
                    status[key] = (posted - dt.timedelta(days=rng.randint(1, 5))).isoformat()
    post = dict(status.get("lastUpdatePostDateStruct") or {})
    post["date"] = day.isoformat()
    post.setdefault("type", "ACTUAL")
    status["lastUpdatePostDateStruct"] = post
    status["lastUpdateSubmitDate"] = (day - dt.timedelta(days=rng.randint(0, 4))).isoformat()
    if "statusVerifiedDate" in status:
        status["statusVerifiedDate"] = day.isoformat()[:7]


def make_study(corpus: Corpus, rng: random.Random, index: int, seed: int,
               template: int | None = None, kind: str | None = None) -> dict:
    """One synthetic study: a template with its varying parts resampled (shallow copies only;
    the templates and pools are shared and never mutated)."""
    if template is None:
        if kind == TAIL_OUTCOMES:
            with_results = False  # its outcomes are resampled, so keep them off results records
        else:
            with_results = rng.random() < corpus.results_fraction
        template = corpus.pick_template(rng, with_results)
    study = renumbered(corpus.templates[template], index, seed)
    ps = study["protocolSection"]
    _vary_status(study, ps, rng)

    # Text: summary and description of one real record, eligibility criteria of another.
    summary, description = corpus.descriptions[rng.randrange(len(corpus.descriptions))]
    if kind == TAIL_TEXT:
        target = rng.randint(1_050_000, 3_400_000)
        parts, length = [], 0
        while length < target:
            part = rng.choice(corpus.long_texts)
            parts.append(part)
            length += len(part) + 2
        description = "\n\n".join(parts)
    desc = ps["descriptionModule"] = dict(ps.get("descriptionModule") or {})
    for key, text in (("briefSummary", summary), ("detailedDescription", description)):
        if text:
            desc[key] = text
        else:
            desc.pop(key, None)
    criteria = corpus.eligibility[rng.randrange(len(corpus.eligibility))]
    if criteria and isinstance(ps.get("eligibilityModule"), dict):
        ps["eligibilityModule"] = dict(ps["eligibilityModule"], eligibilityCriteria=criteria)

    cond = ps["conditionsModule"] = dict(ps.get("conditionsModule") or {})
    conditions = _draw(rng, corpus.conditions, rng.choice(corpus.condition_counts))
    _set_list(cond, "conditions", conditions or [rng.choice(corpus.conditions)])
    _set_list(cond, "keywords", _draw(rng, corpus.keywords, rng.choice(corpus.keyword_counts)))

    if not _has_results(study) or kind == TAIL_OUTCOMES:
        # Results records keep their outcomes, which their outcome measures report on.
        out = ps["outcomesModule"] = dict(ps.get("outcomesModule") or {})
        if kind == TAIL_OUTCOMES:
            counts = (rng.randint(5, 30), rng.randint(101, 180), rng.randint(0, 20))
        else:
            counts = (max(1, rng.choice(corpus.primary_counts)), rng.choice(corpus.secondary_counts), rng.choice(corpus.other_counts))
        for key, pool, k in zip(("primaryOutcomes", "secondaryOutcomes", "otherOutcomes"),
                                (corpus.primary, corpus.secondary, corpus.other), counts):
            _set_list(out, key, _draw(rng, pool, k))

    contacts = ps["contactsLocationsModule"] = dict(ps.get("contactsLocationsModule") or {})
    if kind == TAIL_SITES:
        n_sites = rng.randint(1001, 1500)
        sites = _draw(rng, corpus.locations, min(n_sites, len(corpus.locations)))
        while len(sites) < n_sites:  # more sites than the pool: copies under new facility names
            site = dict(rng.choice(corpus.locations))
            site["facility"] = f"{site.get('facility') or 'Research Site'} - Site {len(sites) + 1}"
            sites.append(site)
    else:
        sites = _draw(rng, corpus.locations, rng.choice(corpus.location_counts))
    _set_list(contacts, "locations", sites)
    return study


def renumbered(template: dict, index: int, seed: int) -> dict:
    """A shallow copy of a study under the NCT id (and aliases) of study `index`."""
    study = dict(template)
    ps = study["protocolSection"] = dict(template["protocolSection"])
    ident = ps["identificationModule"] = dict(ps["identificationModule"])
    ident["nctId"] = nct_id(index, seed)
    if ident.get("nctIdAliases"):
        ident["nctIdAliases"] = [f"NCT{_ALIAS_BASE + 8 * index + j:08d}" for j in range(min(8, len(ident["nctIdAliases"])))]
    return study


class Replicas:
    """--replicate: real records as they are, study `index` being template `index` mod n."""

    def __init__(self, templates: list[dict], xml_sources: dict[str, bytes] | None = None):
        self.templates = templates
        # The XML file of each template, where it came from one (for --formats xml).
        self.xml_sources = [(xml_sources or {}).get(t["protocolSection"]["identificationModule"]["nctId"]) for t in templates]
        self.calibration = {
            "mode": "replicate",
            "templates": len(templates),
            "templates_with_results": sum(map(_has_results, templates)),
            "template_mean_bytes": round(sum(len(orjson.dumps(t)) for t in templates) / len(templates)),
        }

    def study(self, index: int, seed: int) -> dict:
        return renumbered(self.templates[index % len(self.templates)], index, seed)

    def xml(self, index: int, study: dict) -> bytes:
        source = self.xml_sources[index % len(self.templates)]
        if source is None:
            raise SystemExit("--formats xml replicates legacy XML templates: every template must be an XML record")
        return renumbered_xml(source, study)


# --------------------------------------------------------------------------------------------
# Chunks: the unit of work and of randomness


def chunk_rng(seed: int, chunk: int) -> random.Random:
    return random.Random(f"ctgov-bench:{seed}:{chunk}")


def generate_chunk(corpus: Corpus | Replicas, seed: int, chunk: int, start: int, stop: int, long_tail: bool,
                   want_ndjson: bool, zip_level: int | None, xml_level: int | None = None) -> dict:
    """Studies [start, stop) as NDJSON bytes and/or compressed zip members (JSON, and XML in
    AllPublicXML's folders), with their sizes."""
    rng = chunk_rng(seed, chunk)
    lines: list[bytes] = []
    members: list[tuple[str, int, int, bytes]] = []
    xml_members: list[tuple[str, int, int, bytes]] = []
    sizes = array("I")
    with_results = 0
    tails: dict[str, list[str]] = {k: [] for k in TAIL_KINDS}
    for index in range(start, stop):
        if isinstance(corpus, Replicas):
            kind, study = None, corpus.study(index, seed)
        else:
            kind = tail_kind(index) if long_tail else None
            study = make_study(corpus, rng, index, seed, kind=kind)
        data = orjson.dumps(study)
        sizes.append(len(data))
        with_results += _has_results(study)
        nct = study["protocolSection"]["identificationModule"]["nctId"]
        if kind:
            tails[kind].append(nct)
        if want_ndjson:
            lines.append(data)
        if zip_level is not None:
            members.append(_compress_member(f"{nct}.json", data, zip_level))
        if xml_level is not None:
            xml_members.append(_compress_member(f"{nct[:7]}xxxx/{nct}.xml", corpus.xml(index, study), xml_level))
    return {
        "chunk": chunk,
        "ndjson": b"\n".join(lines) + b"\n" if lines else b"",
        "members": members,
        "xml_members": xml_members,
        "sizes": sizes,
        "with_results": with_results,
        "tails": tails,
    }


def _compress_member(name: str, data: bytes, level: int) -> tuple[str, int, int, bytes]:
    compressor = zlib.compressobj(level, zlib.DEFLATED, -15)
    return name, zlib.crc32(data), len(data), compressor.compress(data) + compressor.flush()


class ZipAppender:
    """A zip writer taking members already deflated (in worker processes) or copied raw from
    another archive. It uses zipfile's own header and central-directory code (so ZIP64 for
    archives over 4 GB or 65,535 members is handled), feeding it through attributes zipfile
    itself uses when writing (fp, filelist, NameToInfo, start_dir)."""

    def __init__(self, path: Path):
        self.zip = zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, allowZip64=True)

    def add(self, name: str, crc: int, size: int, payload: bytes, method: int = zipfile.ZIP_DEFLATED) -> None:
        info = zipfile.ZipInfo(name, date_time=_ZIP_DATE_TIME)
        info.compress_type = method
        info.external_attr = 0o644 << 16
        info.file_size = size
        info.compress_size = len(payload)
        info.CRC = crc
        zf = self.zip
        info.header_offset = zf.fp.tell()
        zf.fp.write(info.FileHeader(zip64=size > zipfile.ZIP64_LIMIT or len(payload) > zipfile.ZIP64_LIMIT))
        zf.fp.write(payload)
        zf.filelist.append(info)
        zf.NameToInfo[name] = info
        zf.start_dir = zf.fp.tell()
        zf._didModify = True

    def close(self) -> None:
        self.zip.close()


def raw_member(handle, info: zipfile.ZipInfo) -> bytes:
    """A member's compressed bytes, read straight from the archive file."""
    handle.seek(info.header_offset)
    header = handle.read(zipfile.sizeFileHeader)
    name_length, extra_length = struct.unpack("<HH", header[26:30])
    handle.seek(info.header_offset + zipfile.sizeFileHeader + name_length + extra_length)
    return handle.read(info.compress_size)


# --------------------------------------------------------------------------------------------
# Generation: chunks in worker processes, written in order by the parent

_WORKER_CORPUS: Corpus | None = None


def _worker_chunk(args: tuple) -> dict:
    return generate_chunk(_WORKER_CORPUS, *args)


def build_corpus(target_mean: float = TARGET_MEAN_BYTES, long_tail: bool = True, templates: Path = TEMPLATE_DIR,
                 replicate: bool = False) -> Corpus | Replicas:
    if replicate:
        return Replicas(load_templates(templates), load_xml_sources(templates))
    corpus = Corpus(load_templates(templates))
    corpus.calibrate(target_mean, long_tail)
    return corpus


def generate(out: Path, studies: int, seed: int = 1, formats: Iterable[str] = ("ndjson",), workers: int = 2,
             per_file: int = NDJSON_STUDIES_PER_FILE, long_tail: bool = True, target_mean: float = TARGET_MEAN_BYTES,
             zip_level: int = 6, log=print, templates: Path = TEMPLATE_DIR, replicate: bool = False) -> dict:
    """Generate ``studies`` studies into ``out`` and write ``out/manifest.json``; returns the manifest.
    With ``replicate``, the studies are the records of ``templates`` as they are (no long tail, no
    size calibration: their sizes are the records' own)."""
    global _WORKER_CORPUS
    formats = tuple(dict.fromkeys(formats))
    unknown = set(formats) - {"ndjson", "zip", "xml"}
    if unknown or not formats:
        raise ValueError(f"formats must be ndjson, zip and/or xml, not {sorted(unknown) or 'nothing'}")
    if "xml" in formats and not replicate:
        raise ValueError("the xml format replicates legacy XML templates: it needs --replicate")
    if not 0 < studies <= MAX_STUDIES:
        raise ValueError(f"--studies must be between 1 and {MAX_STUDIES}")
    if per_file % CHUNK_STUDIES:
        raise ValueError(f"--per-file must be a multiple of {CHUNK_STUDIES}")
    started = time.perf_counter()
    long_tail = long_tail and not replicate
    corpus = build_corpus(target_mean, long_tail, templates, replicate)
    prepared = time.perf_counter() - started
    out.mkdir(parents=True, exist_ok=True)
    (out / "manifest.json").unlink(missing_ok=True)
    want_ndjson = "ndjson" in formats
    level = zip_level if "zip" in formats else None
    xml_level = zip_level if "xml" in formats else None
    n_chunks = math.ceil(studies / CHUNK_STUDIES)
    tasks = [(seed, c, c * CHUNK_STUDIES, min(studies, (c + 1) * CHUNK_STUDIES), long_tail, want_ndjson, level, xml_level)
             for c in range(n_chunks)]

    ndjson_dir, zip_dir, xml_dir = out / "ndjson", out / "zip", out / "xml"
    ndjson_files: list[dict] = []
    for directory, wanted in ((ndjson_dir, want_ndjson), (zip_dir, level is not None), (xml_dir, xml_level is not None)):
        if directory.exists():
            for old in directory.iterdir():
                old.unlink()
        if wanted:
            directory.mkdir(parents=True, exist_ok=True)
    zip_writer = ZipAppender(zip_dir / ZIP_NAME) if level is not None else None
    xml_writer = ZipAppender(xml_dir / XML_ZIP_NAME) if xml_level is not None else None
    ndjson_handle = None
    sizes = array("I")
    with_results = 0
    tails: dict[str, list[str]] = {k: [] for k in TAIL_KINDS}

    def consume(result: dict) -> None:
        nonlocal ndjson_handle, with_results
        start = result["chunk"] * CHUNK_STUDIES
        if want_ndjson:
            if start % per_file == 0:
                if ndjson_handle:
                    ndjson_handle.close()
                name = f"studies-{start // per_file + 1:05d}.ndjson"
                ndjson_handle = open(ndjson_dir / name, "wb")
                ndjson_files.append({"path": f"ndjson/{name}", "studies": 0})
            ndjson_handle.write(result["ndjson"])
            ndjson_files[-1]["studies"] += len(result["sizes"])
        if zip_writer:
            for member in result["members"]:
                zip_writer.add(*member)
        if xml_writer:
            for member in result["xml_members"]:
                xml_writer.add(*member)
        sizes.extend(result["sizes"])
        with_results += result["with_results"]
        for kind, ids in result["tails"].items():
            tails[kind].extend(ids)
        done = len(sizes)
        if done % (CHUNK_STUDIES * 50) == 0 or done == studies:
            elapsed = time.perf_counter() - started
            log(f"  generated {done:,}/{studies:,} studies ({done / max(elapsed, 1e-9):,.0f}/s)")

    try:
        if workers <= 1 or n_chunks == 1:
            for task in tasks:
                consume(generate_chunk(corpus, *task))
        else:
            _WORKER_CORPUS = corpus
            context = multiprocessing.get_context("fork")
            with context.Pool(workers) as pool:
                pending: deque = deque()
                for task in tasks:
                    pending.append(pool.apply_async(_worker_chunk, (task,)))
                    if len(pending) >= 2 * workers + 1:  # bounded: never more than a few chunks in memory
                        consume(pending.popleft().get())
                while pending:
                    consume(pending.popleft().get())
            _WORKER_CORPUS = None
    finally:
        if ndjson_handle:
            ndjson_handle.close()
        if zip_writer:
            zip_writer.close()
        if xml_writer:
            xml_writer.close()
    seconds = time.perf_counter() - started

    json_bytes = sum(sizes)
    ordered = sorted(sizes)
    file_formats: dict[str, Any] = {}
    if want_ndjson:
        for entry in ndjson_files:
            entry["bytes"] = (out / entry["path"]).stat().st_size
        file_formats["ndjson"] = {"dir": "ndjson", "files": ndjson_files, "bytes": sum(f["bytes"] for f in ndjson_files)}
    if zip_writer:
        zip_bytes = (zip_dir / ZIP_NAME).stat().st_size
        file_formats["zip"] = {"dir": "zip", "files": [{"path": f"zip/{ZIP_NAME}", "studies": studies, "bytes": zip_bytes}],
                               "bytes": zip_bytes}
    if xml_writer:
        xml_bytes = (xml_dir / XML_ZIP_NAME).stat().st_size
        file_formats["xml"] = {"dir": "xml", "files": [{"path": f"xml/{XML_ZIP_NAME}", "studies": studies, "bytes": xml_bytes}],
                               "bytes": xml_bytes}
    manifest = {
        "generator_version": generator_version(templates),
        "params": {"studies": studies, "seed": seed, "formats": list(formats), "per_file": per_file,
                   "long_tail": long_tail, "target_mean_bytes": None if replicate else target_mean, "zip_level": zip_level,
                   "templates": str(templates), "replicate": replicate},
        "studies": studies,
        "json_bytes": json_bytes,
        "mean_study_bytes": round(json_bytes / studies, 1),
        "median_study_bytes": ordered[len(ordered) // 2],
        "p99_study_bytes": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))],
        "max_study_bytes": ordered[-1],
        "studies_with_results": with_results,
        "results_fraction": round(with_results / studies, 4),
        "long_tail": tails,
        "formats": file_formats,
        "calibration": corpus.calibration,
        "seconds": round(seconds, 2),
        "corpus_seconds": round(prepared, 2),
        "studies_per_s": round(studies / seconds, 1),
        "json_mb_per_s": round(json_bytes / 1e6 / seconds, 1),
        "workers": workers,
    }
    (out / "manifest.json").write_bytes(orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
    return manifest


# --------------------------------------------------------------------------------------------
# Mutation: the incremental refresh


def mutate_study(study: dict, rng: random.Random) -> dict:
    """An update of a study: new status, enrollment, completion date, and a newer lastUpdatePostDate."""
    ps = study["protocolSection"]
    status = ps.setdefault("statusModule", {})
    old_status = status.get("overallStatus")
    new_status = _NEXT_STATUS.get(old_status) or rng.choice([s for s in _STATUS_NO_RESULTS if s != old_status])
    status["overallStatus"] = new_status

    enrollment = ps.setdefault("designModule", {}).setdefault("enrollmentInfo", {})
    old_count = enrollment.get("count") if isinstance(enrollment.get("count"), int) else 0
    new_count = max(1, round((old_count or rng.randint(20, 400)) * rng.uniform(0.6, 1.6)))
    enrollment["count"] = new_count if new_count != old_count else new_count + 1
    if new_status in ("COMPLETED", "TERMINATED"):
        enrollment["type"] = "ACTUAL"

    previous = _parse_date(_get(status, "lastUpdatePostDateStruct", "date")) or SNAPSHOT
    day = max(previous, SNAPSHOT) + dt.timedelta(days=rng.randint(1, 14))
    if new_status in ("COMPLETED", "TERMINATED"):
        completion = day - dt.timedelta(days=rng.randint(10, 300))
    else:
        completion = max(_parse_date(_get(status, "completionDateStruct", "date")) or day, day)
        completion += dt.timedelta(days=rng.randint(30, 400))
    status["completionDateStruct"] = {
        "date": completion.isoformat(), "type": "ACTUAL" if new_status in ("COMPLETED", "TERMINATED") else "ESTIMATED",
    }
    status["lastUpdateSubmitDate"] = (day - dt.timedelta(days=rng.randint(0, 3))).isoformat()
    status["lastUpdatePostDateStruct"] = {"date": day.isoformat(), "type": "ACTUAL"}
    return study


def _link_or_copy(src: Path, dst: Path) -> None:
    dst.unlink(missing_ok=True)
    try:
        os.link(src, dst)
    except OSError:
        import shutil

        shutil.copy2(src, dst)


def mutate(src: Path, fraction: float, seed: int = 1, dst: Path | None = None, mode: str = "rewrite",
           formats: Iterable[str] | None = None, log=print) -> dict:
    """Change ``round(fraction * studies)`` distinct studies of a generated data set.

    ``mode="rewrite"``: each document holding a changed study is rewritten, every other line /
    zip member byte-identical (zip members are copied still compressed); documents without a
    change are left alone. ``mode="delta"``: the documents stay as they are and the changed
    studies go into one new document beside them (``delta-...``), as an incremental pull
    would deliver them; their newer lastUpdatePostDate makes them win.

    ``dst`` (default: ``src``, in place) receives a full data set: unchanged documents are
    hard links (or copies) of ``src``'s. Writes ``dst/mutation.json`` and returns it.
    """
    if mode not in ("rewrite", "delta"):
        raise ValueError("mode must be rewrite or delta")
    manifest = json.loads((src / "manifest.json").read_text())
    total = manifest["studies"]
    n_changed = round(fraction * total)
    if not 0 <= n_changed <= total:
        raise ValueError("fraction must be between 0 and 1")
    chosen = set(random.Random(f"ctgov-bench-mutate:{seed}:{fraction}").sample(range(total), n_changed))
    # Each changed study's update depends on (seed, fraction, index) only: every format and mode agree.
    rng = _StudyRngs(f"ctgov-bench-mutate:{seed}:{fraction}")
    dst = dst or src
    in_place = dst.resolve() == src.resolve()
    started = time.perf_counter()
    report: dict[str, Any] = {"fraction": fraction, "mode": mode, "studies": total, "changed": n_changed,
                              "formats": {}, "changed_nct_ids": []}
    changed_ids: set[str] = set()
    ordered = sorted(chosen)
    tag = f"{fraction:g}".replace(".", "_")
    for fmt, info in manifest["formats"].items():
        if formats is not None and fmt not in formats:
            continue
        (dst / info["dir"]).mkdir(parents=True, exist_ok=True)
        rewritten: list[str] = []
        delta: list = []
        first = 0
        for entry in info["files"]:
            path, target = src / entry["path"], dst / entry["path"]
            last = first + entry["studies"]
            has_hits = bisect.bisect_left(ordered, last) > bisect.bisect_left(ordered, first)
            if has_hits and mode == "rewrite":
                tmp = target.with_name(target.name + ".tmp")
                if fmt == "ndjson":
                    with open(tmp, "wb") as handle:
                        handle.writelines(_mutated_lines(path, first, chosen, rng, changed_ids))
                else:
                    _mutate_zip(path, tmp, first, chosen, rng, changed_ids, manifest["params"].get("zip_level", 6))
                os.replace(tmp, target)
                rewritten.append(entry["path"])
            else:
                if has_hits:  # delta: collect the changed studies, leave the document as it is
                    if fmt == "ndjson":
                        delta.extend(line for line, hit in _mutated_lines(path, first, chosen, rng, changed_ids, flags=True) if hit)
                    else:
                        _mutate_zip(path, None, first, chosen, rng, changed_ids, manifest["params"].get("zip_level", 6), delta)
                if not in_place:
                    _link_or_copy(path, target)
            first = last
        delta_path = None
        if mode == "delta":
            if fmt == "ndjson":
                delta_path = f"{info['dir']}/delta-{tag}.ndjson"
                (dst / delta_path).write_bytes(b"".join(delta))
            else:
                delta_path = f"{info['dir']}/delta-{tag}.json.zip"
                writer = ZipAppender(dst / delta_path)
                for member in delta:
                    writer.add(*member)
                writer.close()
        report["formats"][fmt] = {"rewritten_files": rewritten, "delta_file": delta_path}
    report["changed_nct_ids"] = sorted(changed_ids)
    report["seconds"] = round(time.perf_counter() - started, 2)
    if not in_place:
        (dst / "manifest.json").write_bytes((src / "manifest.json").read_bytes())
    (dst / "mutation.json").write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2))
    log(f"mutated {n_changed:,} of {total:,} studies ({mode}) in {report['seconds']}s")
    return report


class _StudyRngs:
    def __init__(self, prefix: str):
        self.prefix = prefix

    def __call__(self, index: int) -> random.Random:
        return random.Random(f"{self.prefix}:{index}")


def _mutated_lines(path: Path, first: int, chosen: set[int], rng: _StudyRngs, changed: set[str],
                   flags: bool = False) -> Iterator:
    """The lines of an NDJSON document, the chosen studies (by global index) updated; with
    ``flags``, (line, changed) pairs."""
    index = first
    with open(path, "rb") as handle:
        for line in handle:
            hit = False
            if line.strip():
                if index in chosen:
                    study = mutate_study(orjson.loads(line), rng(index))
                    changed.add(study["protocolSection"]["identificationModule"]["nctId"])
                    line, hit = orjson.dumps(study) + b"\n", True
                index += 1
            yield (line, hit) if flags else line


def _mutate_zip(path: Path, out: Path | None, first: int, chosen: set[int], rng: _StudyRngs, changed: set[str],
                level: int, delta: list | None = None) -> None:
    """Rewrite a zip into ``out`` with the chosen members updated (the others copied still
    compressed), or, with ``out=None``, only collect the updated members into ``delta``."""
    writer = ZipAppender(out) if out is not None else None
    with zipfile.ZipFile(path) as archive, open(path, "rb") as handle:
        for offset, info in enumerate(m for m in archive.infolist() if not m.is_dir()):
            if first + offset in chosen:
                study = mutate_study(orjson.loads(archive.read(info)), rng(first + offset))
                changed.add(study["protocolSection"]["identificationModule"]["nctId"])
                member = _compress_member(info.filename, orjson.dumps(study), level)
                if delta is not None:
                    delta.append(member)
                if writer:
                    writer.add(*member)
            elif writer:
                writer.add(info.filename, info.CRC, info.file_size, raw_member(handle, info), info.compress_type)
    if writer:
        writer.close()


# --------------------------------------------------------------------------------------------


def summary_lines(manifest: dict) -> list[str]:
    mb = 1e6
    lines = [
        f"{manifest['studies']:,} studies, {manifest['json_bytes'] / mb:,.1f} MB of JSON in {manifest['seconds']}s "
        f"({manifest['studies_per_s']:,.0f} studies/s, {manifest['json_mb_per_s']:,.1f} MB/s, {manifest['workers']} workers)",
        f"study size: mean {manifest['mean_study_bytes'] / 1000:.2f} KB ("
        + (f"replicated from {manifest['calibration']['templates']} real records" if manifest["params"].get("replicate")
           else f"target {manifest['params']['target_mean_bytes'] / 1000:.1f} KB") + "), "
        f"median {manifest['median_study_bytes'] / 1000:.1f} KB, p99 {manifest['p99_study_bytes'] / 1000:.1f} KB, "
        f"max {manifest['max_study_bytes'] / mb:.2f} MB",
        f"with results: {manifest['studies_with_results']:,} ({manifest['results_fraction']:.1%}); long tail: "
        + ", ".join(f"{len(v)} {k}" for k, v in manifest["long_tail"].items()),
    ]
    for fmt, info in manifest["formats"].items():
        lines.append(f"{fmt}: {len(info['files'])} file(s), {info['bytes'] / mb:,.1f} MB")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="output folder (ndjson/, zip/, manifest.json)")
    parser.add_argument("--studies", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--formats", default="zip,ndjson",
                        help="comma separated: zip, ndjson, xml (an AllPublicXML zip; --replicate of legacy XML templates)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--per-file", type=int, default=NDJSON_STUDIES_PER_FILE, help="studies per NDJSON file")
    parser.add_argument("--no-long-tail", action="store_true", help="no huge studies (sites, outcomes, text)")
    parser.add_argument("--target-mean-bytes", type=float, default=TARGET_MEAN_BYTES)
    parser.add_argument("--zip-level", type=int, default=6, help="deflate level of zip members")
    parser.add_argument("--templates", type=Path, default=TEMPLATE_DIR,
                        help="folder of real records to start from, in any form the pipeline reads (default: data/raw/ctgov_v2)")
    parser.add_argument("--replicate", action="store_true",
                        help="copy the template records as they are, under new NCT ids, instead of resampling them")
    parser.add_argument("--mutate", type=float, metavar="FRACTION", help="instead of generating: change this fraction of the studies in --out")
    parser.add_argument("--mutated-out", type=Path, help="with --mutate: write the changed data set here (default: in place)")
    parser.add_argument("--mutate-mode", choices=("rewrite", "delta"), default="rewrite")
    args = parser.parse_args(argv)
    if args.mutate is not None:
        report = mutate(args.out, args.mutate, args.seed, args.mutated_out, args.mutate_mode)
        for fmt, info in report["formats"].items():
            print(f"{fmt}: rewritten {info['rewritten_files']}, delta {info['delta_file']}")
        return 0
    manifest = generate(
        args.out, args.studies, args.seed, [f.strip() for f in args.formats.split(",") if f.strip()], args.workers,
        args.per_file, not args.no_long_tail, args.target_mean_bytes, args.zip_level,
        templates=args.templates, replicate=args.replicate,
    )
    print("calibration:", json.dumps(manifest["calibration"]))
    for line in summary_lines(manifest):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
