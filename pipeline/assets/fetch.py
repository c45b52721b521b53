"""The live source: studies ClinicalTrials.gov updated since the last fetch, landed in the raw folder.

Not part of the scheduled build job: operators opt in by materializing it (or scheduling it)
ahead of the refresh, which then picks the new files up like any other documents.
"""
import datetime as dt
from typing import Optional

import dagster as dg

from pipeline.assets.warehouse import FETCH_ASSET
from pipeline.resources import RawFolder
from pipeline.sources.ctgov_api import DEFAULT_BASE_URL, DEFAULT_MAX_REQUESTS_PER_SECOND, fetch_updated_studies


class FetchConfig(dg.Config):
    since: Optional[str] = None
    """First LastUpdatePostDate to fetch (YYYY-MM-DD); default: the stored watermark minus a few days."""
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
