-- Purpose: AACT's countries: the countries a study's sites are in, each once, and the countries
--   that once had sites and were removed from the record (removed = true; all_countries leaves
--   them out). Ids follow AACT's load order: removed countries, then site countries.
-- Grain: one row per country of a study's sites or removed countries.
-- Columns:
--   id: aact_id(nct_id, n): n counts the removed countries in document order, then the site countries in order of first appearance.
--   nct_id: studies.nct_id.
--   name: sites.country (each once), or an element of studies.removed_countries.
--   removed: true for a country from studies.removed_countries, false for a site country.
with

site_countries as (
    select nct_id, country as name, false as removed, min(site_position) as country_position
    from main.sites
    where country is not null
    group by nct_id, country
),

removed_countries as (
    select nct_id, unnest(removed_countries) as name, true as removed, generate_subscripts(removed_countries, 1) as country_position
    from main.studies
    where removed_countries is not null
),

countries as (
    select nct_id, name, removed, min(country_position) as country_position
    from (select * from removed_countries union all select * from site_countries)
    group by nct_id, name, removed
)

select
    aact_id(nct_id, row_number() over (partition by nct_id order by removed desc, country_position)) as id,
    nct_id,
    name,
    removed
from countries
