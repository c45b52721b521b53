"""The live sources, landed in the raw folder: the studies ClinicalTrials.gov updated since the
last fetch (`ctgov_api_studies`), and the registry's whole bulk archive (`ctgov_bulk_studies`).

Neither is part of the scheduled build job: operators opt in by materializing them (or
scheduling their jobs) ahead of the refresh, which then picks the new files up like any other
documents.
"""
import datetime as dt
from typing import Optional

import dagster as dg

from pipeline.assets.progress import byte_progress
from pipeline.assets.warehouse import BULK_ASSET, FETCH_ASSET
from pipeline.resources import RawFolder
from pipeline.sources.ctgov_api import DEFAULT_BASE_URL, DEFAULT_MAX_REQUESTS_PER_SECOND, fetch_updated_studies
from pipeline.sources.ctgov_bulk import DownloadError, download_bulk


class FetchConfig(dg.Config):
    since: Optional[str] = None
    """First LastUpdatePostDate to fetch (YYYY-MM-DD); default: the stored watermark minus a few days."""
    base_url: str = DEFAULT_BASE_URL
    max_requests_per_second: float = DEFAULT_MAX_REQUESTS_PER_SECOND


class DownloadConfig(dg.Config):
    base_url: str = DEFAULT_BASE_URL
    max_requests_per_second: float = DEFAULT_MAX_REQUESTS_PER_SECOND


@dg.asset(
    name=FETCH_ASSET,
    group_name="sources",
    description="NDJSON pages of the studies ClinicalTrials.gov API v2 updated since the last successful fetch, under <raw>/ctgov_api/.",
    kinds={"json"},
)
def ctgov_api_studies(context: dg.AssetExecutionContext, config: FetchConfig, raw_folder: RawFolder) -> dg.MaterializeResult:
    summary = fetch_updated_studies(
        raw_folder.directory,
        dt.date.fromisoformat(config.since) if config.since else None,
        base_url=config.base_url,
        max_requests_per_second=config.max_requests_per_second,
        log=context.log.info,
    )
    return dg.MaterializeResult(
        metadata={
            "window_since": summary.window_since.isoformat(),
            "n_pages": summary.pages,
            "n_studies": summary.studies,
            "files": [str(p) for p in summary.files],
            "retries": summary.retries,
            "watermark": summary.watermark.fetch_started_on.isoformat(),
        }
    )


@dg.asset(
    name=BULK_ASSET,
    group_name="sources",
    description=(
        "The registry's bulk download, every study as one JSON file in <raw>/ctgov_bulk/ctg-studies.json.zip "
        "(about 2.5 GB), resumed when cut and replaced only when the registry's copy changed. Grain: one archive."
    ),
    kinds={"json"},
    # An unchanged archive (the server's 304) is no new materialization; it is recorded as an observation.
    output_required=False,
)
def ctgov_bulk_studies(context: dg.AssetExecutionContext, config: DownloadConfig, raw_folder: RawFolder):
    try:
        with byte_progress("downloading", context.log.info) as progress:
            summary = download_bulk(
                raw_folder.directory, base_url=config.base_url, max_requests_per_second=config.max_requests_per_second,
                log=context.log.info, on_total_bytes=progress.set_total, advance=progress.advance,
            )
    except DownloadError as error:
        # The message says what happened and what the next run does; a traceback adds nothing.
        raise dg.Failure(description=str(error), allow_retries=False) from None
    metadata = {
        "path": str(summary.path), "size_bytes": summary.size_bytes, "bytes_received": summary.bytes_received,
        "resumed_at": list(summary.resumed_at), "retries": summary.retries, "seconds": round(summary.seconds, 3),
        "etag": summary.etag or "", "last_modified": summary.last_modified or "",
    }
    if summary.changed:
        yield dg.MaterializeResult(metadata={**metadata, "n_members": summary.n_members})
    else:
        context.log.info(f"{summary.path} is current: the registry answered 304 Not Modified")
        context.log_event(dg.AssetObservation(asset_key=BULK_ASSET, metadata={**metadata, "unchanged": True}))
