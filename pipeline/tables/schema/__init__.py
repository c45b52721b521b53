"""The one declarative description of the warehouse: every table, its grain, key, columns,
DuckDB types, descriptions, and the document path each column comes from.

The normalizer (`pipeline/tables/normalize.py`), the DDL and `COMMENT ON` statements
(`pipeline/warehouse/ddl.py`) and `docs/data-dictionary.md` are all generated from what is
declared here. The mapping is split by part of the record: `base` (the vocabulary: tables,
columns, sources), `protocol`, `results`, `provenance`; this module gathers the tables in load order.
"""
from __future__ import annotations

# The vocabulary and every table are importable from here, as `schema.Column`, `schema.STUDIES`.
from pipeline.tables.schema.base import (  # noqa: F401
    MISC, Column, Derivation, Lookup, Source, Table, View, age_columns, date_columns, nct_id_column, number_columns,
    position_column,
)
from pipeline.tables.schema.protocol import (  # noqa: F401
    ARM_INTERVENTIONS, ARMS, AVAILABLE_IPDS, BROWSE_BRANCHES, BROWSE_LEAVES, CENTRAL_CONTACTS, CONDITION_LIST,
    CONDITION_MESH_TERMS, COUNTRIES, IDENTIFIERS, INTERVENTION_MESH_TERMS, INTERVENTIONS, IPD_SHARING_STATEMENTS, KEYWORDS,
    OFFICIALS, OUTCOME_MEASURES, REFERENCE_LIST, RETRACTIONS, SEE_ALSO_LINKS, SITE_CONTACTS, SITES, SPONSOR_LIST,
    STUDIES, TEXT_PARAGRAPHS,
)
from pipeline.tables.schema.results import RESULTS_TABLES  # noqa: F401
from pipeline.tables.schema.provenance import (  # noqa: F401
    BUILD_INFO, DOCUMENTS, INGEST_ERRORS, STUDY_RECORDS, STUDY_VERSION_RETURNS, STUDY_VERSIONS, SUPERSEDED_RECORDS,
)

RECORD_SECTIONS = Table(
    name="record_sections",
    grain="one row per study per part of the record kept whole as JSON",
    description=(
        "Parts of the record that have no tables of their own yet, kept whole as JSON so nothing is lost: "
        "derivedSection's modelPredictions and submissionTracking."
    ),
    key=("nct_id", "section"),
    columns=(
        nct_id_column(),
        Column("section", "VARCHAR", "Dotted path of the part in the API v2 record (e.g. derivedSection.miscInfoModule.submissionTracking)."),
        Column("section_json", "JSON", "The part, as JSON."),
    ),
)

UNMAPPED_VALUES = Table(
    name="unmapped_values",
    grain="one row per value of a study record that no table column maps",
    description=(
        "Values the mapping does not know (new API fields), and values that can't take their column's type (an enrollment "
        "of 'abc', a count beyond the column's range), which leave that column null: kept here so nothing is lost silently."
    ),
    key=("nct_id", "path"),
    columns=(
        nct_id_column(),
        Column("path", "VARCHAR", "Dotted path of the value, list positions in brackets (e.g. protocolSection.designModule.newField)."),
        Column("value", "VARCHAR", "The value: strings verbatim, other scalars as JSON."),
    ),
)

# Study tables read from the record by the mapping above, in load order.
STUDY_TABLES: tuple[Table, ...] = (
    STUDIES, ARMS, INTERVENTIONS, ARM_INTERVENTIONS, OUTCOME_MEASURES, SITES, COUNTRIES, CONDITION_LIST, KEYWORDS,
    SPONSOR_LIST, CONDITION_MESH_TERMS, INTERVENTION_MESH_TERMS, BROWSE_LEAVES, BROWSE_BRANCHES, OFFICIALS,
    CENTRAL_CONTACTS, SITE_CONTACTS, REFERENCE_LIST, RETRACTIONS, SEE_ALSO_LINKS, AVAILABLE_IPDS, IDENTIFIERS,
    IPD_SHARING_STATEMENTS, *RESULTS_TABLES, RECORD_SECTIONS, UNMAPPED_VALUES,
)
PROVENANCE_TABLES: tuple[Table, ...] = (DOCUMENTS, INGEST_ERRORS, STUDY_RECORDS, SUPERSEDED_RECORDS, BUILD_INFO)
HISTORY_TABLES: tuple[Table, ...] = (STUDY_VERSIONS, STUDY_VERSION_RETURNS)
ALL_TABLES: tuple[Table, ...] = STUDY_TABLES + PROVENANCE_TABLES + HISTORY_TABLES
TABLES_BY_NAME = {t.name: t for t in ALL_TABLES}

# Parts of the record kept whole in record_sections rather than column by column.
WHOLE_SECTIONS: tuple[str, ...] = (
    f"{MISC}.modelPredictions",
    f"{MISC}.submissionTracking",
)

VIEWS: tuple[View, ...] = (TEXT_PARAGRAPHS,)
