-- Purpose: AACT's pending_results: results submitted but not (yet) posted, event by event:
--   submitted (RELEASE), returned after review (RESET), cancelled (UNRELEASE).
-- Grain: one row per submission event of results not yet posted.
-- Columns:
--   id: aact_id(nct_id, pending_results.event_position).
--   nct_id: pending_results.nct_id.
--   event: pending_results.event_type (API code: RELEASE, RESET, UNRELEASE).
--   event_date_description: pending_results.event_date_raw, verbatim.
--   event_date: pending_results.event_date: a month-only date is the month's last day.
select
    aact_id(nct_id, event_position) as id,
    nct_id,
    event_type as event,
    event_date_raw as event_date_description,
    event_date
from main.pending_results
