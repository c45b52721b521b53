-- Purpose: Sites by place, for maps: for each country, state and city, how many sites and studies
--   are there and how many sites recruit, with the place's coordinates.
-- Grain: one row per country, state and city of the sites (sites with neither country nor city are
--   left out).
-- Columns:
--   country: Country name, as the sites give it.
--   state: State or province; null when the sites give none.
--   city: City; null when the sites give none.
--   n_studies: Distinct studies with a site there.
--   n_sites: Site rows there.
--   n_recruiting_sites: Of those, sites whose site_status is RECRUITING.
--   latitude: Mean latitude of the sites there that have coordinates (the registry geocodes the city).
--   longitude: Mean longitude of the sites there that have coordinates.
with

site_rows as (
    select nct_id, site_status, country, state, city, latitude, longitude
    from sites
    where country is not null or city is not null
),

site_geography as (
    select
        country,
        state,
        city,
        count(distinct nct_id) as n_studies,
        count(*) as n_sites,
        count(*) filter (where site_status = 'RECRUITING') as n_recruiting_sites,
        -- Summed as exact decimals: a float sum depends on row order, and a rebuild must
        -- give the same coordinates as an incremental build.
        avg(latitude::decimal(11, 7))::double as latitude,
        avg(longitude::decimal(11, 7))::double as longitude
    from site_rows
    group by country, state, city
)

select * from site_geography
order by n_sites desc, country nulls last, state nulls last, city nulls last
