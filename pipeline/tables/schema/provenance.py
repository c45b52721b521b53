"""Provenance and history: where every record came from, what was rejected, which version is
current, the build itself, and every version of every study a build has loaded. Filled by the
loader, not read from the record by the mapping."""
from __future__ import annotations

from pipeline.tables.schema.base import Column, Table, nct_id_column

DOCUMENTS = Table(
    name="documents",
    grain="one row per source document in the raw folder",
    description="Provenance: every document read, its detected form, content hash and what it yielded.",
    key=("document_path",),
    columns=(
        Column("document_path", "VARCHAR", "Path of the document, relative to the raw folder."),
        Column("document_form", "VARCHAR", "Detected form: json_study, json_list, json_page, ndjson, zip, legacy_xml, registry_export, study_page, unknown; '+gzip' when gzipped."),
        Column("content_hash", "VARCHAR", "SHA-256 of the document's bytes."),
        Column("size_bytes", "BIGINT", "Size of the document in bytes."),
        Column("modified_at", "TIMESTAMP", "File modification time."),
        Column("n_studies_found", "INTEGER", "Studies read from the document."),
        Column("n_studies_loaded", "INTEGER", "Of those, the ones that are the current version of their study (the rest are superseded)."),
        Column("n_errors", "INTEGER", "Records or parts of the document that could not be read (see ingest_errors)."),
    ),
)

INGEST_ERRORS = Table(
    name="ingest_errors",
    grain="one row per document, or record within a document, that could not be read, and per entry of the raw folder that is not read",
    description=(
        "Rejected input, with where it is and why, so nothing is lost silently: documents and records that could not be "
        "read or loaded, and entries of the raw folder that are not read (symbolic links leaving it, FIFOs and devices, "
        "folders nested too deep, paths too long), named but never read."
    ),
    key=("document_path", "position"),
    columns=(
        Column("document_path", "VARCHAR", "Path of the document (or skipped entry), relative to the raw folder; bytes of a name that are not UTF-8 are escaped (\\xff)."),
        Column("position", "VARCHAR", "Where in the document: empty for the whole document, else e.g. 'line 7', 'member NCT01.json', '[3]', 'line 2, column 5 (byte 40)'."),
        Column("nct_id", "VARCHAR", "The study the rejected record holds, when it names a well-formed NCT id; else null."),
        Column("reason", "VARCHAR", "Why it was rejected."),
        Column("excerpt", "VARCHAR", "A short excerpt of the offending input."),
    ),
)

STUDY_RECORDS = Table(
    name="study_records",
    grain="one row per study record read from any document, loaded or superseded",
    description=(
        "Provenance: where every study record sits and which one is current. Incremental builds use it to tell "
        "which studies a changed or removed document affects."
    ),
    key=("document_path", "record_index"),
    columns=(
        nct_id_column(),
        Column("document_path", "VARCHAR", "Document holding the record."),
        Column("record_index", "INTEGER", "0-based ordinal of the record within the document; orders ties between versions."),
        Column("position", "VARCHAR", "Position of the record in the document, as in ingest_errors."),
        Column("last_update_post_date_raw", "VARCHAR", "The record's lastUpdatePostDate, verbatim."),
        Column("record_hash", "VARCHAR", "BLAKE2b-128 of the record's canonical JSON: equal hashes are the same version."),
        Column("is_current", "BOOLEAN", "Whether this record is the one loaded for its study: the latest lastUpdatePostDate, ties to the later document and record."),
    ),
)

SUPERSEDED_RECORDS = Table(
    name="superseded_records",
    grain="one row per study record read but not loaded because another document holds a newer (or later-read) version",
    description="Duplicate study records: the latest lastUpdatePostDate wins, ties go to the later document path and record.",
    key=("nct_id", "document_path", "position"),
    columns=(
        nct_id_column(),
        Column("document_path", "VARCHAR", "Document holding the superseded record."),
        Column("position", "VARCHAR", "Position of the superseded record in that document."),
        Column("last_update_post_date_raw", "VARCHAR", "Its lastUpdatePostDate, verbatim."),
        Column("superseded_by_document_path", "VARCHAR", "Document holding the version that was loaded."),
        Column("superseded_by_position", "VARCHAR", "Position of that version."),
    ),
)

BUILD_INFO = Table(
    name="build_info",
    grain="one row: the build that produced this warehouse",
    description="When the warehouse was built and from which sources, for freshness checks and export manifests.",
    key=("built_at",),
    columns=(
        Column("built_at", "TIMESTAMP", "When the build finished loading (UTC)."),
        Column("build_kind", "VARCHAR", "full (every document read) or incremental (only new and changed documents read)."),
        Column("sources_hash", "VARCHAR", "SHA-256 over the sorted (document path, content hash) pairs of the raw folder."),
        Column("schema_hash", "VARCHAR", "Hash of the table definitions and SQL models; a build whose code differs rebuilds in full."),
        Column("n_documents", "INTEGER", "Documents in the raw folder."),
        Column("n_documents_read", "INTEGER", "Documents read by this build (all of them for a full build)."),
        Column("n_studies", "INTEGER", "Studies loaded."),
        Column("n_studies_written", "INTEGER", "Studies whose rows this build wrote (all of them for a full build)."),
        Column("n_studies_dropped", "INTEGER", "Studies removed because no document holds them any more."),
        Column("n_rejected", "INTEGER", "Documents or records rejected (rows of ingest_errors)."),
        Column("raw_folder", "VARCHAR", "The raw folder the documents were read from."),
    ),
)

# The record's fields that study_changes follows from one version to the next.
STUDY_VERSIONS = Table(
    name="study_versions",
    grain="one row per distinct version of a study's record that the warehouse has loaded",
    description=(
        "Study history, kept in its own file beside the warehouse so that it survives incremental and full rebuilds; "
        "each build copies it in. A version is identified by the hash of the record."
    ),
    key=("nct_id", "record_hash"),
    columns=(
        nct_id_column(),
        Column("record_hash", "VARCHAR", "BLAKE2b-128 of the record's canonical JSON (as study_records.record_hash)."),
        Column("last_update_post_date", "DATE", "The version's lastUpdatePostDate."),
        Column("last_update_post_date_raw", "VARCHAR", "The version's lastUpdatePostDate, verbatim."),
        Column("first_seen_at", "TIMESTAMP", "When a build first loaded this version (UTC)."),
        Column("last_seen_at", "TIMESTAMP", "When a build last loaded this version (UTC)."),
        Column("source_document", "VARCHAR", "Document the version was loaded from when first seen."),
        Column("overall_status", "VARCHAR", "Overall recruitment status of the version."),
        Column("enrollment", "INTEGER", "Enrollment count of the version."),
        Column("enrollment_type", "VARCHAR", "ACTUAL or ESTIMATED."),
        Column("start_date_raw", "VARCHAR", "Start date, verbatim."),
        Column("start_date_type", "VARCHAR", "ACTUAL or ESTIMATED."),
        Column("primary_completion_date_raw", "VARCHAR", "Primary completion date, verbatim."),
        Column("primary_completion_date_type", "VARCHAR", "ACTUAL or ESTIMATED."),
        Column("completion_date_raw", "VARCHAR", "Completion date, verbatim."),
        Column("completion_date_type", "VARCHAR", "ACTUAL or ESTIMATED."),
        Column("phases", "VARCHAR[]", "Phases as API codes."),
        Column("n_sites", "INTEGER", "Number of sites listed."),
        Column("has_results", "BOOLEAN", "Whether results were posted."),
    ),
)

STUDY_VERSION_RETURNS = Table(
    name="study_version_returns",
    grain="one row per time a study's current version went back to a version loaded before",
    description=(
        "Study history, beside study_versions: when the newest version of a study left the raw folder and a version "
        "the warehouse had loaded before became current again, so that study_changes can show the step back."
    ),
    key=("nct_id", "returned_at"),
    columns=(
        nct_id_column(),
        Column("record_hash", "VARCHAR", "record_hash of the version that became current again (as in study_versions)."),
        Column("returned_at", "TIMESTAMP", "When the build that made it current again ran (UTC)."),
    ),
)
