"""The registry's retired XML records (<clinical_study>) read into the API v2 structure.

Quirks pinned: the XML spells codes as display labels ("Phase 1/Phase 2", "None (Open Label)",
gender "Both", agency class "U.S. Fed", "Anticipated" dates) and dates as "March 5, 2019"; its
text blocks are indented and wrapped by the generator; the pre-2017 schema has its own dates
(lastchanged_date, firstreceived_date), a free-text study_design and elements API v2 dropped
(oversight_info/authority, safety_issue, number_of_arms); results list per-group totals as events
of a "Total" category and, before December 2016, measures without classes; AllPublicXML has no
XML declaration in some members and puts them in NCT0000xxxx/ folders.
"""
from __future__ import annotations

import gzip
import io
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest

from pipeline.documents import read_bytes, read_document
from pipeline.documents.detect import XML, sniff_form
from pipeline.documents.legacy_xml import parse_study
from pipeline.documents.model import ReadError, StudyRecord

FIXTURES = Path(__file__).parent.parent / "fixtures" / "legacy_xml"


def study_of(xml: str | bytes) -> dict:
    item = parse_study(xml.encode() if isinstance(xml, str) else xml)
    assert isinstance(item, StudyRecord), item
    return item.study


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def test_a_pre_2017_record_reads_into_the_api_v2_structure() -> None:
    assert study_of(fixture("NCT02147561.xml")) == {
        "protocolSection": {
            "identificationModule": {
                "orgStudyIdInfo": {"id": "191622-148"},
                "nctId": "NCT02147561",
                "briefTitle": "A Safety and Efficacy Study of BOTOX® in Korean Adults With Chronic Migraine",
                "organization": {"fullName": "Allergan"},
            },
            "statusModule": {
                "overallStatus": "NOT_YET_RECRUITING",
                "startDateStruct": {"date": "2014-06"},
                "completionDateStruct": {"date": "2015-01", "type": "ESTIMATED"},
                "primaryCompletionDateStruct": {"date": "2015-01", "type": "ESTIMATED"},
                "statusVerifiedDate": "2014-05",
                "expandedAccessInfo": {"hasExpandedAccess": False},
                # lastchanged_date and firstreceived_date stand in for their 2017 successors.
                "lastUpdateSubmitDate": "2014-05-22",
                "lastUpdatePostDateStruct": {"date": "2014-05-22"},
                "studyFirstSubmitDate": "2014-05-22",
            },
            "sponsorCollaboratorsModule": {
                "leadSponsor": {"name": "Allergan", "class": "INDUSTRY"},
                "responsibleParty": {"type": "SPONSOR"},
            },
            "oversightModule": {"oversightHasDmc": False},
            "descriptionModule": {
                "briefSummary": "This study will evaluate the safety and efficacy of BOTOX® treatment in Korean adults with\n"
                                "chronic migraine.",
            },
            "conditionsModule": {"conditions": ["Migraine Disorders"]},
            "designModule": {
                "phases": ["PHASE4"],
                "studyType": "INTERVENTIONAL",
                # From the pre-2017 study_design: "Intervention Model: Single Group Assignment, Masking: Open Label, ..."
                "designInfo": {"interventionModel": "SINGLE_GROUP", "maskingInfo": {"masking": "NONE"},
                               "primaryPurpose": "TREATMENT"},
                "enrollmentInfo": {"count": 200, "type": "ESTIMATED"},
            },
            "armsInterventionsModule": {
                "armGroups": [{
                    "label": "botulinum toxin Type A", "type": "EXPERIMENTAL",
                    "description": "Botulinum toxin Type A injected across specific head and neck muscles on Day 0.",
                }],
                "interventions": [{
                    "type": "BIOLOGICAL", "name": "botulinum toxin Type A",
                    "description": "Botulinum toxin Type A injected across specific head and neck muscles on Day 0.",
                    "armGroupLabels": ["botulinum toxin Type A"], "otherNames": ["BOTOX®", "onabotulinumtoxinA"],
                }],
            },
            "outcomesModule": {
                "primaryOutcomes": [{"measure": "Percentage of Patients with Adverse Events", "timeFrame": "28 Days"}],
                "secondaryOutcomes": [
                    {"measure": "Change from Baseline in Headache Impact Test-6 (HIT-6) Total Score",
                     "timeFrame": "Baseline, Day 28"},
                    {"measure": "Physician Global Assessment of Outcome on a 3-Point Scale", "timeFrame": "Day 28"},
                ],
            },
            "eligibilityModule": {
                "eligibilityCriteria": (
                    "Inclusion Criteria:\n\n  -  Ethnically Korean with a diagnosis of chronic migraine\n\n"
                    "Exclusion Criteria:\n\n"
                    "  -  Anticipated need for botulinum toxin treatment for any reason other than chronic\n"
                    "     migraine during the study\n\n"
                    "  -  Diagnosis of myasthenia gravis, Eaton-Lambert syndrome, or amyotrophic lateral\n     sclerosis"
                ),
                "sex": "ALL",
                "minimumAge": "18 Years",
                "healthyVolunteers": False,
            },
            "contactsLocationsModule": {
                "overallOfficials": [{"name": "Medical Director", "role": "STUDY_DIRECTOR", "affiliation": "Allergan"}],
                "centralContacts": [{"name": "Allergan Inc.", "role": "CONTACT", "email": "clinicaltrials@allergan.com"}],
                "locations": [{"city": "Seoul", "country": "Korea, Republic of", "status": "NOT_YET_RECRUITING"}],
            },
        },
        "derivedSection": {
            "miscInfoModule": {"versionHolder": "2014-06-19"},
            "conditionBrowseModule": {"meshes": [{"term": "Migraine Disorders"}]},
            "interventionBrowseModule": {"meshes": [{"term": "Botulinum Toxins, Type A"}, {"term": "Botulinum Toxins"}]},
        },
        "hasResults": False,
        # No home in API v2: kept by XPath, the normalizer puts them in unmapped_values.
        "legacyXml": {
            "oversight_info/authority": "South Korea: Korea Food and Drug Administration (KFDA)",
            "study_design": "Endpoint Classification: Safety/Efficacy Study, Intervention Model: Single Group Assignment, "
                            "Masking: Open Label, Primary Purpose: Treatment",
            "primary_outcome/safety_issue": "No",
            "secondary_outcome[1]/safety_issue": "No",
            "secondary_outcome[2]/safety_issue": "No",
            "number_of_arms": "1",
            "is_fda_regulated": "Yes",
            "is_section_801": "Yes",
            "@rank": "1",
        },
    }


CODED = """<clinical_study>
  <id_info><nct_id>NCT01000001</nct_id></id_info>
  <sponsors>
    <lead_sponsor><agency>VA</agency><agency_class>U.S. Fed</agency_class></lead_sponsor>
    <collaborator><agency>NCI</agency><agency_class>NIH</agency_class></collaborator>
  </sponsors>
  <overall_status>Active, not recruiting</overall_status>
  <start_date type="Actual">March 5, 2019</start_date>
  <completion_date type="Anticipated">March 2021</completion_date>
  <phase>Phase 1/Phase 2</phase>
  <study_type>Observational [Patient Registry]</study_type>
  <study_design_info>
    <allocation>Non-Randomized</allocation>
    <intervention_model>Parallel Assignment</intervention_model>
    <primary_purpose>Educational/Counseling/Training</primary_purpose>
    <masking>Double (Participant, Outcomes Assessor)</masking>
  </study_design_info>
  <arm_group><arm_group_label>A</arm_group_label><arm_group_type>Placebo Comparator</arm_group_type></arm_group>
  <intervention>
    <intervention_type>Dietary Supplement</intervention_type><intervention_name>Fish oil</intervention_name>
    <arm_group_label>A</arm_group_label>
  </intervention>
  <eligibility>
    <gender>Both</gender><minimum_age>6 Months</minimum_age><maximum_age>N/A</maximum_age>
    <healthy_volunteers>Accepts Healthy Volunteers</healthy_volunteers>
  </eligibility>
  <location><facility><name>Site</name></facility><status>Enrolling by invitation</status>
    <investigator><first_name>Ann</first_name><last_name>Lee</last_name><degrees>MD</degrees>
      <role>Sub-Investigator</role></investigator>
  </location>
  <link><url>https://example.org</url><description>Home page</description></link>
  <reference><citation>Paper A</citation><PMID>123</PMID></reference>
  <results_reference><citation>Paper B</citation></results_reference>
  <patient_data><sharing_ipd>Undecided</sharing_ipd>
    <ipd_info_type>Statistical Analysis Plan (SAP)</ipd_info_type></patient_data>
  <brand_new_element><part a="1">x</part></brand_new_element>
</clinical_study>"""


def test_coded_values_take_their_api_v2_spelling_and_dates_their_iso_form() -> None:
    protocol = study_of(CODED)["protocolSection"]
    assert protocol["sponsorCollaboratorsModule"] == {
        "leadSponsor": {"name": "VA", "class": "FED"},
        "collaborators": [{"name": "NCI", "class": "NIH"}],
    }
    assert protocol["statusModule"] == {
        "overallStatus": "ACTIVE_NOT_RECRUITING",
        "startDateStruct": {"date": "2019-03-05", "type": "ACTUAL"},
        "completionDateStruct": {"date": "2021-03", "type": "ESTIMATED"},
    }
    assert protocol["designModule"] == {
        "phases": ["PHASE1", "PHASE2"],
        "studyType": "OBSERVATIONAL",
        "patientRegistry": True,
        "designInfo": {"allocation": "NON_RANDOMIZED", "interventionModel": "PARALLEL", "primaryPurpose": "ECT",
                       "maskingInfo": {"masking": "DOUBLE", "whoMasked": ["PARTICIPANT", "OUTCOMES_ASSESSOR"]}},
    }
    assert protocol["armsInterventionsModule"] == {
        "armGroups": [{"label": "A", "type": "PLACEBO_COMPARATOR"}],
        "interventions": [{"type": "DIETARY_SUPPLEMENT", "name": "Fish oil", "armGroupLabels": ["A"]}],
    }
    assert protocol["eligibilityModule"] == {"sex": "ALL", "minimumAge": "6 Months", "healthyVolunteers": True}
    assert protocol["contactsLocationsModule"] == {"locations": [{
        "facility": "Site", "status": "ENROLLING_BY_INVITATION",
        "contacts": [{"name": "Ann Lee, MD", "role": "SUB_INVESTIGATOR"}],
    }]}
    assert protocol["referencesModule"] == {
        "seeAlsoLinks": [{"label": "Home page", "url": "https://example.org"}],
        "references": [{"pmid": "123", "type": "BACKGROUND", "citation": "Paper A"},
                       {"type": "RESULT", "citation": "Paper B"}],
    }
    assert protocol["ipdSharingStatementModule"] == {"ipdSharing": "UNDECIDED", "infoTypes": ["SAP"]}


def test_an_element_the_schema_never_had_is_kept_by_its_xpath() -> None:
    assert study_of(CODED)["legacyXml"] == {"brand_new_element/part/@a": "1", "brand_new_element/part": "x"}


def test_phases_not_applicable_and_zero_and_a_legacy_date_that_differs_from_its_successor() -> None:
    study = study_of("""<clinical_study><id_info><nct_id>NCT01000002</nct_id></id_info><phase>N/A</phase>
      <last_update_submitted>May 2, 2017</last_update_submitted><last_update_posted type="Actual">May 4, 2017</last_update_posted>
      <lastchanged_date>May 1, 2017</lastchanged_date><last_update_submitted_qc>May 2, 2017</last_update_submitted_qc>
      </clinical_study>""")
    assert study["protocolSection"]["designModule"] == {"phases": ["NA"]}
    assert study["protocolSection"]["statusModule"] == {
        "lastUpdateSubmitDate": "2017-05-02", "lastUpdatePostDateStruct": {"date": "2017-05-04", "type": "ACTUAL"},
    }
    # The successor's date wins; the legacy date that says otherwise is kept, the QC date equal to it is not.
    assert study["legacyXml"] == {"lastchanged_date": "May 1, 2017"}
    assert study_of("<clinical_study><id_info><nct_id>NCT01000003</nct_id></id_info><phase>Phase 0</phase>"
                    "</clinical_study>")["protocolSection"]["designModule"] == {"phases": ["EARLY_PHASE1"]}


def test_text_blocks_are_dedented_with_their_paragraphs_and_carriage_returns_dropped() -> None:
    summary = study_of(
        "<clinical_study><id_info><nct_id>NCT01000004</nct_id></id_info><detailed_description><textblock>\n"
        "      First paragraph,&#xD;\n      wrapped.&#xD;\n&#xD;\n        -  an item\n           continued\n    \n"
        "      Last.\n    </textblock></detailed_description></clinical_study>"
    )["protocolSection"]["descriptionModule"]["detailedDescription"]
    assert summary == "First paragraph,\nwrapped.\n\n  -  an item\n     continued\n\nLast."


def test_results_map_to_the_api_v2_results_section_with_its_group_ids() -> None:
    study = study_of(fixture("NCT01565369.xml"))
    results = study["resultsSection"]
    assert study["hasResults"] is True
    group = {"title": "All A07 Autopsy Subjects",
             "description": "Subjects who had a valid florbetapir-PET scan and came to autopsy in Study A07"}
    assert results["participantFlowModule"] == {
        "recruitmentDetails": "NO SUBJECTS WERE ENROLLED IN THIS STUDY - this study re-read scans obtained in other "
                              "clinical studies",
        "groups": [{"id": "FG000", **group}],
        "periods": [{"title": "Overall Study", "milestones": [
            {"type": "STARTED", "achievements": [{"groupId": "FG000", "numSubjects": "35"}]},
            {"type": "COMPLETED", "achievements": [{"groupId": "FG000", "numSubjects": "35"}]},
            {"type": "NOT COMPLETED", "achievements": [{"groupId": "FG000", "numSubjects": "0"}]},
        ]}],
    }
    assert results["baselineCharacteristicsModule"]["measures"][:2] == [
        {"title": "Age", "paramType": "MEAN", "dispersionType": "STANDARD_DEVIATION", "unitOfMeasure": "years",
         "classes": [{"categories": [{"measurements": [{"groupId": "BG000", "value": "79.3", "spread": "13.3"}]}]}]},
        {"title": "Gender", "paramType": "NUMBER", "unitOfMeasure": "participants", "classes": [
            {"title": "Female", "categories": [{"measurements": [{"groupId": "BG000", "value": "17"}]}]},
            {"title": "Male", "categories": [{"measurements": [{"groupId": "BG000", "value": "18"}]}]}]},
    ]
    outcome = results["outcomeMeasuresModule"]["outcomeMeasures"][0]
    assert {key: outcome[key] for key in ("type", "reportingStatus", "paramType", "dispersionType", "denoms", "classes")} == {
        "type": "PRIMARY", "reportingStatus": "POSTED", "paramType": "MEDIAN", "dispersionType": "Full Range",
        "denoms": [{"units": "Participants", "counts": [{"groupId": "OG000", "value": "19"}]}],
        "classes": [{"categories": [{"measurements": [
            {"groupId": "OG000", "value": "100", "lowerLimit": "84.2", "upperLimit": "100"}]}]}],
    }
    # The totals stay events (the XML's rows) and also fill the event group, where API v2 keeps them.
    assert results["adverseEventsModule"] == {
        "frequencyThreshold": "0",
        "description": "No subjects received florbetapir in this study. This study consisted of rereads of scans "
                       "previously acquired in another clinical study (A07).",
        "eventGroups": [{"id": "EG000", **group, "seriousNumAffected": 0, "seriousNumAtRisk": 0,
                         "otherNumAffected": 0, "otherNumAtRisk": 0}],
        "seriousEvents": [{"term": "Total, serious adverse events", "organSystem": "Total",
                           "stats": [{"groupId": "EG000", "numAffected": 0, "numAtRisk": 0}]}],
        "otherEvents": [{"term": "Total, other adverse events", "organSystem": "Total",
                         "stats": [{"groupId": "EG000", "numAffected": 0, "numAtRisk": 0}]}],
    }
    assert results["moreInfoModule"] == {
        "certainAgreement": {"piSponsorEmployee": False, "restrictionType": "GT60", "restrictiveAgreement": True},
        "pointOfContact": {"title": "Chief Medical Officer", "organization": "Avid Radiopharmaceuticals",
                           "email": "clinicaloperations@avidrp.com", "phone": "215-798-0700"},
    }


def xml_units(root: ET.Element) -> dict[str, int]:
    """Units of each results table counted in the XML itself (as check_xml counts them)."""
    results = root.find("clinical_results")

    def n(path: str) -> int:
        return len(results.findall(path))

    return {
        "milestones": n("participant_flow/period_list/period/milestone_list/milestone/participants_list/participants"),
        "drop_withdrawals": n("participant_flow/period_list/period/drop_withdraw_reason_list/drop_withdraw_reason/"
                              "participants_list/participants"),
        "baseline_measurements": n("baseline/measure_list/measure/class_list/class/category_list/category/"
                                   "measurement_list/measurement"),
        "outcome_measures": n("outcome_list/outcome"),
        "outcome_measurements": n("outcome_list/outcome/measure/class_list/class/category_list/category/"
                                  "measurement_list/measurement"),
        "outcome_analyses": n("outcome_list/outcome/analysis_list/analysis"),
        "reported_events": sum(n(f"reported_events/{kind}/category_list/category/event_list/event/counts")
                               for kind in ("serious_events", "other_events")),
    }


def api_v2_units(results: dict) -> dict[str, int]:
    """Units of each results table in an API v2 resultsSection (the results tables' grain)."""
    periods = results.get("participantFlowModule", {}).get("periods", [])
    measures = results.get("baselineCharacteristicsModule", {}).get("measures", [])
    outcomes = results.get("outcomeMeasuresModule", {}).get("outcomeMeasures", [])
    events = results.get("adverseEventsModule", {})
    return {
        "milestones": sum(len(m.get("achievements", [])) for p in periods for m in p.get("milestones", [])),
        "drop_withdrawals": sum(len(d.get("reasons", [])) for p in periods for d in p.get("dropWithdraws", [])),
        "baseline_measurements": sum(len(c.get("measurements", [])) for m in measures for k in m.get("classes", [])
                                     for c in k.get("categories", [])),
        "outcome_measures": len(outcomes),
        "outcome_measurements": sum(len(c.get("measurements", [])) for o in outcomes for k in o.get("classes", [])
                                    for c in k.get("categories", [])),
        "outcome_analyses": sum(len(o.get("analyses", [])) for o in outcomes),
        "reported_events": sum(len(e["stats"]) for kind in ("seriousEvents", "otherEvents") for e in events.get(kind, [])),
    }


@pytest.mark.parametrize("name", ["NCT01565369.xml", "NCT00362401.xml"])
def test_the_results_section_holds_exactly_the_units_the_xml_holds(name: str) -> None:
    data = fixture(name)
    assert api_v2_units(study_of(data)["resultsSection"]) == xml_units(ET.fromstring(data))


def test_an_element_inside_a_results_cell_is_kept_by_its_xpath() -> None:
    # The schema's cells (participants, measurement, counts) hold attributes and at most text.
    study = study_of(
        "<clinical_study><id_info><nct_id>NCT01000005</nct_id></id_info><clinical_results><participant_flow>"
        "<period_list><period><title>Overall</title><milestone_list><milestone><title>STARTED</title>"
        '<participants_list><participants group_id="P1" count="3">early<note>odd</note></participants>'
        "</participants_list></milestone></milestone_list></period></period_list></participant_flow>"
        "</clinical_results></clinical_study>")
    assert study["resultsSection"] == {"participantFlowModule": {"periods": [{"title": "Overall", "milestones": [
        {"type": "STARTED", "achievements": [{"groupId": "FG000", "numSubjects": "3"}]}]}]}}
    cell = "clinical_results/participant_flow/period_list/period/milestone_list/milestone/participants_list/participants"
    assert study["legacyXml"] == {cell: "early", f"{cell}/note": "odd"}


def test_the_pre_2017_results_layout_keeps_its_measures_and_its_values_by_xpath() -> None:
    study = study_of(fixture("NCT00362401.xml"))
    measures = study["resultsSection"]["baselineCharacteristicsModule"]["measures"]
    assert measures[2] == {"title": "Age", "paramType": "MEAN", "dispersionType": "STANDARD_DEVIATION",
                           "unitOfMeasure": "years"}
    kept = study["legacyXml"]
    assert kept["clinical_results/baseline/measure_list/measure[3]/category_list/category/measurement_list/"
                "measurement[1]/@value"] == "65"
    assert kept["clinical_results/baseline/measure_list/measure[2]/category_list/category[1]/sub_title"] == "<=18 years"


@pytest.mark.parametrize(
    ("head", "form"),
    [
        (b'<?xml version="1.0" encoding="UTF-8"?>\n<clinical_study>', XML),
        (b"<clinical_study>\n  <!-- This xml conforms to an XML Schema", XML),
        (b"\xef\xbb\xbf  \n<?xml version='1.0'?><FullStudy>", XML),
        (b"<!-- a comment first -->\n<clinical_study rank='3'>", XML),
        (b"<html><body>not a study</body></html>", "unknown"),
    ],
)
def test_xml_is_detected_by_its_content(head: bytes, form: str) -> None:
    assert sniff_form(head) == form


def test_a_file_a_gzip_and_an_allpublicxml_zip_read_alike(tmp_path: Path) -> None:
    data = fixture("NCT00000346.xml")
    path = tmp_path / "record.bin"
    path.write_bytes(data)
    reading = read_document(path)
    assert reading.form == "legacy_xml"
    assert [(i.position, i.nct_id) for i in reading.items] == [("", "NCT00000346")]
    gzipped = read_bytes(gzip.compress(data), "x")
    assert gzipped.form == "legacy_xml+gzip"
    assert [i.nct_id for i in gzipped.items] == ["NCT00000346"]
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("NCT0000xxxx/NCT00000346.xml", data)
        zf.writestr("NCT0214xxxx/NCT02147561.xml", fixture("NCT02147561.xml"))
    zipped = read_bytes(archive.getvalue(), "AllPublicXML.zip")
    assert zipped.form == "zip"
    assert [(i.position, i.nct_id) for i in zipped.items] == [
        ("member NCT0000xxxx/NCT00000346.xml", "NCT00000346"), ("member NCT0214xxxx/NCT02147561.xml", "NCT02147561")]


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<clinical_study><id_info><nct_id>NCT01000005</nct_id></id_info><brief_title>&lol3;</brief_title></clinical_study>"""
XXE = b"""<?xml version="1.0"?><!DOCTYPE x [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<clinical_study><id_info><nct_id>NCT01000006</nct_id></id_info><brief_title>&secret;</brief_title></clinical_study>"""
DEEP = b"<clinical_study>" + b"<a>" * 5000 + b"</a>" * 5000 + b"</clinical_study>"
TRUNCATED = b'<?xml version="1.0"?>\n<clinical_study>\n  <id_info><nct_id>NCT01000007</nct_id></id_info>\n  <brief_title>Cut'
WRONG_ROOT = b'<?xml version="1.0"?><FullStudy><Struct Name="ProtocolSection"/></FullStudy>'
UNDECLARED = b"<clinical_study><id_info><nct_id>NCT01000008</nct_id></id_info><brief_title>&nbsp;</brief_title></clinical_study>"
NOT_UTF8 = b"<clinical_study><id_info><nct_id>NCT01000009</nct_id></id_info><brief_title>caf\xe9</brief_title></clinical_study>"
HOSTILE = {
    "billion_laughs.xml": (BILLION_LAUGHS, "", "XML declares entities (entity expansion and external entities are refused)"),
    "xxe.xml": (XXE, "", "XML declares entities (entity expansion and external entities are refused)"),
    "deep.xml": (DEEP, "line 1, column 784", "malformed XML: Excessive depth in document: 256, use XML_PARSE_HUGE option"),
    "truncated.xml": (TRUNCATED, "line 4, column 19", "truncated XML: Premature end of data in tag brief_title line 4"),
    "wrong_root.xml": (WRONG_ROOT, "", "XML root element is <FullStudy>, not <clinical_study>"),
    "undeclared.xml": (UNDECLARED, "line 1, column 83", "malformed XML: Entity 'nbsp' not defined"),
    "not_utf8.xml": (NOT_UTF8, "byte 79", "wrong encoding: not UTF-8 (byte offset 79)"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_xml_is_one_error_naming_why(name: str) -> None:
    data, position, reason = HOSTILE[name]
    item = parse_study(data)
    assert isinstance(item, ReadError)
    assert (item.position, item.reason) == (position, reason)
    assert b"root:" not in item.excerpt.encode()  # nothing from /etc/passwd
