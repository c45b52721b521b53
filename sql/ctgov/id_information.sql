-- Purpose: AACT's id_information: a study's identifiers other than its NCT id, with id_source
--   org_study_id, secondary_id or nct_alias. Ids follow AACT's load order: secondary ids, the
--   org study id, then NCT aliases.
-- Grain: one row per identifier of a study other than its NCT id.
-- Columns:
--   id: aact_id(nct_id, n): n counts the secondary ids, the org study id, then the aliases, each in document order.
--   nct_id: identifiers.nct_id.
--   id_source: identifiers.identifier_source: org_study_id, secondary_id or nct_alias.
--   id_value: identifiers.identifier, verbatim.
--   id_type: identifiers.identifier_type (API code, e.g. NIH, REGISTRY, OTHER_GRANT).
--   id_type_description: identifiers.domain (the issuing domain or registry).
--   id_link: identifiers.link.
select
    aact_id(
        nct_id,
        row_number() over (
            partition by nct_id
            order by case identifier_source when 'secondary_id' then 1 when 'org_study_id' then 2 else 3 end, identifier_position
        )
    ) as id,
    nct_id,
    identifier_source as id_source,
    identifier as id_value,
    identifier_type as id_type,
    domain as id_type_description,
    link as id_link
from main.identifiers
