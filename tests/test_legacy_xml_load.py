"""Legacy XML through the whole load: AllPublicXML zips shared out in member ranges, loose and
gzipped records, hostile documents as ingest_errors rows, history against newer JSON, and the
rows the XML and the JSON of one study version give.

Quirks pinned: AllPublicXML members sit in NCT0000xxxx/ folders and some lack an XML
declaration; an old snapshot's last update date is the pre-2017 lastchanged_date; the XML
re-wraps text at about 100 columns where API v2 keeps the submitted lines.
"""
from __future__ import annotations

import copy
import gzip
import zipfile
from pathlib import Path

import duckdb
import orjson
import pytest

from pipeline.documents.legacy_xml import parse_study
from pipeline.tables import schema
from pipeline.tables.normalize import normalize
from pipeline.warehouse.build import build
from pipeline.warehouse.load import LOADED_TABLES, inventory, load_full
from pipeline.warehouse.load.parts import document_groups
from tests.documents.test_legacy_xml import BILLION_LAUGHS, DEEP, TRUNCATED, WRONG_ROOT, XXE

FIXTURES = Path(__file__).parent / "fixtures" / "legacy_xml"
RECORDS = sorted(FIXTURES.glob("*.xml"))


def query(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def renumbered_xml(path: Path, number: int) -> bytes:
    """A fixture record under another NCT id (the XML's only occurrence of it that is read)."""
    data = path.read_bytes()
    nct_id = path.stem
    return data.replace(f"<nct_id>{nct_id}</nct_id>".encode(), f"<nct_id>NCT9{number:07d}</nct_id>".encode())


def allpublicxml(path: Path, members: list[tuple[str, bytes]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            archive.writestr(name, data)


@pytest.fixture
def raw(tmp_path: Path) -> Path:
    """An AllPublicXML-shaped zip of 40 records and two hostile members, loose records (one
    gzipped) and hostile files beside them."""
    raw = tmp_path / "raw"
    members = [(f"NCT9{n // 10:03d}xxxx/NCT9{n:07d}.xml", renumbered_xml(RECORDS[n % len(RECORDS)], n)) for n in range(40)]
    members[20:20] = [("NCT9002xxxx/bomb.xml", BILLION_LAUGHS), ("NCT9002xxxx/cut.xml", TRUNCATED)]
    allpublicxml(raw / "AllPublicXML.zip", members)
    for n in range(40, 44):
        (raw / "loose").mkdir(parents=True, exist_ok=True)
        (raw / "loose" / f"NCT9{n:07d}.xml").write_bytes(renumbered_xml(RECORDS[n % len(RECORDS)], n))
    (raw / "loose" / "NCT90000044.xml.gz").write_bytes(gzip.compress(renumbered_xml(RECORDS[0], 44)))
    for name, data in (("xxe.xml", XXE), ("deep.xml", DEEP), ("wrong_root.xml", WRONG_ROOT)):
        (raw / "hostile" / name).parent.mkdir(parents=True, exist_ok=True)
        (raw / "hostile" / name).write_bytes(data)
    return raw


def test_a_folder_of_xml_loads_every_record_and_each_hostile_document_is_one_error_row(raw: Path, tmp_path: Path):
    warehouse = tmp_path / "w.duckdb"
    result = build(raw, warehouse)
    assert result.load.n_studies == 45
    assert query(warehouse, "select document_path, document_form, n_studies_loaded, n_errors from documents order by 1") == [
        ("AllPublicXML.zip", "zip", 40, 2),
        ("hostile/deep.xml", "legacy_xml", 0, 1),
        ("hostile/wrong_root.xml", "legacy_xml", 0, 1),
        ("hostile/xxe.xml", "legacy_xml", 0, 1),
        ("loose/NCT90000040.xml", "legacy_xml", 1, 0),
        ("loose/NCT90000041.xml", "legacy_xml", 1, 0),
        ("loose/NCT90000042.xml", "legacy_xml", 1, 0),
        ("loose/NCT90000043.xml", "legacy_xml", 1, 0),
        ("loose/NCT90000044.xml.gz", "legacy_xml+gzip", 1, 0),
    ]
    assert query(warehouse, "select document_path, position, reason from ingest_errors order by 1, 2") == [
        ("AllPublicXML.zip", "member NCT9002xxxx/bomb.xml",
         "XML declares entities (entity expansion and external entities are refused)"),
        ("AllPublicXML.zip", "member NCT9002xxxx/cut.xml, line 4, column 19",
         "truncated XML: Premature end of data in tag brief_title line 4"),
        ("hostile/deep.xml", "line 1, column 784",
         "malformed XML: Excessive depth in document: 256, use XML_PARSE_HUGE option"),
        ("hostile/wrong_root.xml", "", "XML root element is <FullStudy>, not <clinical_study>"),
        ("hostile/xxe.xml", "", "XML declares entities (entity expansion and external entities are refused)"),
    ]
    # The pre-2017 record's elements with no API v2 home, by XPath, for each of its copies.
    assert query(warehouse, "select path, value from unmapped_values where nct_id = 'NCT90000003' order by 1") == [
        ("legacyXml.@rank", "1"),
        ("legacyXml.is_fda_regulated", "Yes"),
        ("legacyXml.is_section_801", "Yes"),
        ("legacyXml.number_of_arms", "1"),
        ("legacyXml.oversight_info/authority", "South Korea: Korea Food and Drug Administration (KFDA)"),
        ("legacyXml.primary_outcome/safety_issue", "No"),
        ("legacyXml.secondary_outcome[1]/safety_issue", "No"),
        ("legacyXml.secondary_outcome[2]/safety_issue", "No"),
        ("legacyXml.study_design", "Endpoint Classification: Safety/Efficacy Study, Intervention Model: Single Group "
                                   "Assignment, Masking: Open Label, Primary Purpose: Treatment"),
    ]


@pytest.mark.parametrize("n_workers", [1, 2])
def test_an_allpublicxml_zip_shared_out_in_member_ranges_loads_what_one_reading_loads(raw: Path, tmp_path: Path, n_workers: int):
    documents = inventory(raw)
    ranges = [part for group in document_groups(documents.documents, group_bytes=30_000) for part in group if part.members]
    assert len(ranges) > 4 and [p.members[0] for p in ranges[1:]] == [p.members[1] for p in ranges[:-1]]
    built = {}
    for name, size, workers in (("whole", 10**12, 1), ("ranges", 30_000, n_workers)):
        built[name] = tmp_path / f"{name}.duckdb"
        with duckdb.connect(str(built[name])) as con:
            summary = load_full(con, raw, documents, tmp_path / f"parts-{name}", studies_per_batch=7, n_workers=workers,
                                group_bytes=size)
        assert (summary.n_studies, summary.n_rejected) == (45, 5)
    with duckdb.connect() as con:
        con.execute(f"attach '{built['whole']}' as l (read_only)")
        con.execute(f"attach '{built['ranges']}' as r (read_only)")
        for table in (schema.DOCUMENTS, *LOADED_TABLES):
            differing = con.execute(f"select count(*) from ((select * from l.{table.name} except all select * from r.{table.name}) "
                                    f"union all (select * from r.{table.name} except all select * from l.{table.name}))").fetchone()
            assert differing == (0,), table.name


def next_version_as_json(xml: bytes) -> dict:
    """The study's next version as API v2 JSON: completed, enrolment actual, posted later."""
    study = copy.deepcopy(parse_study(xml).study)
    del study["legacyXml"]
    status = study["protocolSection"]["statusModule"]
    status["overallStatus"] = "COMPLETED"
    status["completionDateStruct"] = {"date": "2015-03", "type": "ACTUAL"}
    status["lastUpdatePostDateStruct"] = {"date": "2015-04-02", "type": "ACTUAL"}
    study["protocolSection"]["designModule"]["enrollmentInfo"] = {"count": 187, "type": "ACTUAL"}
    return study


def test_an_old_xml_snapshot_then_a_newer_json_record_make_two_versions_and_their_changes(tmp_path: Path):
    raw, warehouse = tmp_path / "raw", tmp_path / "w.duckdb"
    raw.mkdir()
    xml = (FIXTURES / "NCT02147561.xml").read_bytes()
    (raw / "snapshot-2014.xml").write_bytes(xml)
    build(raw, warehouse)
    (raw / "NCT02147561.json").write_bytes(orjson.dumps(next_version_as_json(xml)))
    build(raw, warehouse)

    assert query(warehouse, "select last_update_post_date_raw, source_document, overall_status from study_versions "
                            "order by 1") == [
        ("2014-05-22", "snapshot-2014.xml", "NOT_YET_RECRUITING"), ("2015-04-02", "NCT02147561.json", "COMPLETED")]
    assert set(query(warehouse, "select field, old_value, new_value from study_changes")) == {
        ("overall_status", "NOT_YET_RECRUITING", "COMPLETED"),
        ("completion_date", "2015-01", "2015-03"),
        ("completion_date_type", "ESTIMATED", "ACTUAL"),
        ("enrollment", "200", "187"),
        ("enrollment_type", "ESTIMATED", "ACTUAL"),
    }
    assert query(warehouse, "select document_path, superseded_by_document_path from superseded_records") == [
        ("snapshot-2014.xml", "NCT02147561.json")]


# NCT00000346 (the 2017+ fixture) as API v2 serves the same version: the XML's fields with API
# v2's text (lines as submitted) and fields the XML never carried (the organization's class,
# standard age groups, MeSH ids, the site's coordinates).
SAME_VERSION_AS_JSON = {
    "protocolSection": {
        "identificationModule": {
            "nctId": "NCT00000346",
            "orgStudyIdInfo": {"id": "NIDA-3-0010-11"},
            "secondaryIdInfos": [{"id": "Y01-3-0010-11"}],
            "organization": {"fullName": "National Institute on Drug Abuse (NIDA)", "class": "NIH"},
            "briefTitle": "Cognitive Correlates of Substance Abuse - 11",
            "officialTitle": "Cognitive Correlates of Substance Abuse, Part 1",
        },
        "statusModule": {
            "statusVerifiedDate": "2002-12",
            "overallStatus": "UNKNOWN",
            "lastKnownStatus": "ACTIVE_NOT_RECRUITING",
            "expandedAccessInfo": {"hasExpandedAccess": False},
            "studyFirstSubmitDate": "1999-09-20",
            "studyFirstSubmitQcDate": "1999-09-20",
            "studyFirstPostDateStruct": {"date": "1999-09-21", "type": "ESTIMATED"},
            "lastUpdateSubmitDate": "2017-01-10",
            "lastUpdatePostDateStruct": {"date": "2017-01-11", "type": "ESTIMATED"},
        },
        "sponsorCollaboratorsModule": {"leadSponsor": {"name": "National Institute on Drug Abuse (NIDA)", "class": "NIH"}},
        "descriptionModule": {
            "briefSummary": "The purpose of this study is to characterize the cognitive performance of methamphetamine "
                            "abusers by comparing them with cocaine abusers and normal controls.",
        },
        "conditionsModule": {"conditions": ["Amphetamine-Related Disorders"], "keywords": ["amphetamine dependence"]},
        "designModule": {
            "studyType": "INTERVENTIONAL",
            "phases": ["PHASE4"],
            "designInfo": {"primaryPurpose": "TREATMENT"},
            "enrollmentInfo": {"count": 80},
        },
        "armsInterventionsModule": {"interventions": [{"type": "BEHAVIORAL", "name": "counseling"}]},
        "eligibilityModule": {
            "eligibilityCriteria": "Inclusion Criteria:\n\nM/F . Meet DSM-IV criteria for cocaine or methamphetamine "
                                   "dependence. Agree to conditions of the study and sign informed consent.",
            "healthyVolunteers": False,
            "sex": "ALL",
            "stdAges": ["CHILD", "ADULT", "OLDER_ADULT"],
        },
        "contactsLocationsModule": {
            "overallOfficials": [{"name": "Walter Ling, M.D.", "affiliation": "Friends Research Institute, Inc.",
                                  "role": "PRINCIPAL_INVESTIGATOR"}],
            "locations": [{"facility": "Friends Research Institute", "city": "Los Angeles", "state": "California",
                           "zip": "90025", "country": "United States", "geoPoint": {"lat": 34.05223, "lon": -118.24368}}],
        },
    },
    "derivedSection": {
        "miscInfoModule": {"versionHolder": "2023-02-03"},
        "conditionBrowseModule": {"meshes": [{"id": "D019966", "term": "Substance-Related Disorders"},
                                             {"id": "D019969", "term": "Amphetamine-Related Disorders"}]},
    },
    "hasResults": False,
}


def comparable(value):
    # The XML re-wraps text at about 100 columns: its line breaks are not the submitter's.
    return " ".join(value.split()) if isinstance(value, str) else value


def test_the_xml_and_the_json_of_one_study_version_give_the_same_rows_wherever_the_xml_carries_the_field():
    from_xml = normalize([parse_study((FIXTURES / "NCT00000346.xml").read_bytes()).study])
    from_json = normalize([SAME_VERSION_AS_JSON])
    compared = 0
    for table in schema.STUDY_TABLES:
        xml_rows, json_rows = from_xml[table.name].to_dicts(), from_json[table.name].to_dicts()
        assert len(xml_rows) == len(json_rows), table.name
        for xml_row, json_row in zip(xml_rows, json_rows):
            for column, value in xml_row.items():
                if value is not None and value != []:
                    assert comparable(value) == comparable(json_row[column]), (table.name, column)
                    compared += 1
    # What the JSON adds is what the XML never carried.
    assert from_json["studies"].select("organization_class", "std_ages").to_dicts() == [
        {"organization_class": "NIH", "std_ages": ["CHILD", "ADULT", "OLDER_ADULT"]}]
    assert from_xml["studies"].select("organization_class", "std_ages").to_dicts() == [
        {"organization_class": None, "std_ages": None}]
    assert from_json["condition_mesh_terms"]["mesh_id"].to_list() == ["D019966", "D019969"]
    assert compared > 60
