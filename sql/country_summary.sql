-- Purpose: Where studies run: for each country, how many studies have a site there, how many sites
--   there are, and how many of them are recruiting.
-- Grain: one row per site country (sites with no country are left out).
-- Columns:
--   country: Country name, as the sites give it.
--   n_studies: Distinct studies with at least one site in the country.
--   n_sites: Site rows in the country.
--   n_recruiting_sites: Of those, sites whose site_status is RECRUITING.
with

site_rows as (
    select nct_id, site_status, country
    from sites
    where country is not null
),

country_summary as (
    select
        country,
        count(distinct nct_id) as n_studies,
        count(*) as n_sites,
        count(*) filter (where site_status = 'RECRUITING') as n_recruiting_sites
    from site_rows
    group by country
)

select * from country_summary
order by n_studies desc, country
