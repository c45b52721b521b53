-- Purpose: AACT's facilities: the sites where a study runs or ran. Their ids are the facility_id
--   of facility_contacts and facility_investigators. Latitude and longitude follow AACT's newest
--   mapping (locations[].geoPoint).
-- Grain: one row per site (location) of a study.
-- Columns:
--   id: aact_id(nct_id, sites.site_position).
--   nct_id: sites.nct_id.
--   status: sites.site_status (API code, e.g. RECRUITING).
--   name: sites.facility.
--   city: sites.city.
--   state: sites.state.
--   zip: sites.zip, verbatim.
--   country: sites.country.
--   latitude: sites.latitude (geoPoint.lat).
--   longitude: sites.longitude (geoPoint.lon).
select
    aact_id(nct_id, site_position) as id,
    nct_id,
    site_status as status,
    facility as name,
    city,
    state,
    zip,
    country,
    latitude,
    longitude
from main.sites
