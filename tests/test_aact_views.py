"""The ctgov views against AACT's own loader output, cell by cell.

Upstream quirks pinned here, each from AACT's loader (ctti-clinicaltrials/aact, API v2 era):
- its column names and order (db/ctgov_v2.sql), its lower-case `lead_or_collaborator`,
  `outcome_type`, `mesh-list`/`mesh-ancestor`, and `primary`/`backup` contact types;
- site contacts split by role: a role matching /investigator|study.chair/i is an investigator,
  anything else (no role included) a contact, numbered primary/backup among the contacts only;
- `last_update_submitted_qc_date` filled from lastUpdateSubmitDate; a month-only date is the
  month's last day, with the text kept in `*_month_year`; `phase` is the phases joined with '/';
- calculated_values: 30-day months truncated toward zero, no duration from ESTIMATED dates, ages
  split into number and singular unit, outcome counts null when none;
- ids assigned in AACT's load order: collaborators before the lead sponsor, ancestors before a
  study's own MeSH terms, secondary ids before the org study id, other outcomes before primary.
"""
from __future__ import annotations

import datetime as dt
import json
import shutil
from collections import Counter
from pathlib import Path

import duckdb
import pytest

from pipeline import cli
from pipeline.warehouse.ddl import create_tables, quote_identifier
from pipeline.warehouse.models import discover_models, materialize

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "aact"
AACT_STUDY = FIXTURES / "NCT06388018.json"
AACT_OUTPUT = FIXTURES / "NCT06388018.aact.json"
CTGOV_VIEWS = discover_models(schema="ctgov")

# AACT's loader names its output by model; each is the ctgov view of the same table.
VIEW_OF_MODEL = {
    "BriefSummary": "brief_summaries", "BrowseCondition": "browse_conditions", "BrowseIntervention": "browse_interventions",
    "CalculatedValue": "calculated_values", "CentralContact": "central_contacts", "Condition": "conditions",
    "Country": "countries", "Design": "designs", "DesignGroup": "design_groups",
    "DesignGroupIntervention": "design_group_interventions", "DesignOutcome": "design_outcomes",
    "DetailedDescription": "detailed_descriptions", "Document": "documents", "Eligibility": "eligibilities",
    "Facility": "facilities", "FacilityContact": "facility_contacts", "FacilityInvestigator": "facility_investigators",
    "IdInformation": "id_information", "Intervention": "interventions", "InterventionOtherName": "intervention_other_names",
    "IpdInformationType": "ipd_information_types", "Keyword": "keywords", "Link": "links",
    "OverallOfficial": "overall_officials", "ResponsibleParty": "responsible_parties", "Retraction": "retractions",
    "Sponsor": "sponsors", "Study": "studies", "StudyReference": "study_references",
}
# Results models: their views come with the results tables (phase 2); AACT's output for this
# study has no rows in them. SearchResult is AACT's own search table.
NOT_VIEWS_YET = {
    "BaselineCount", "BaselineMeasurement", "DropWithdrawal", "Milestone", "Outcome", "OutcomeAnalysis",
    "OutcomeAnalysisGroup", "OutcomeCount", "OutcomeMeasurement", "ParticipantFlow", "PendingResult",
    "ProvidedDocument", "ReportedEvent", "ReportedEventTotal", "ResultAgreement", "ResultContact", "ResultGroup",
    "SearchResult",
}
# Surrogate ids and load timestamps are AACT's own: compared through the joins below instead.
NOT_COMPARED = {"id", "design_group_id", "intervention_id", "facility_id", "reference_id", "created_at", "updated_at"}

# AACT's column order per table (db/ctgov_v2.sql; studies.patient_registry and facilities'
# latitude/longitude from its newest mapping, lib/aact/mapping.json).
AACT_COLUMNS = {
    "brief_summaries": "id nct_id description",
    "browse_conditions": "id nct_id mesh_term downcase_mesh_term mesh_type",
    "browse_interventions": "id nct_id mesh_term downcase_mesh_term mesh_type",
    "calculated_values": "id nct_id number_of_facilities number_of_nsae_subjects number_of_sae_subjects "
    "registered_in_calendar_year nlm_download_date actual_duration were_results_reported months_to_report_results "
    "has_us_facility has_single_facility minimum_age_num maximum_age_num minimum_age_unit maximum_age_unit "
    "number_of_primary_outcomes_to_measure number_of_secondary_outcomes_to_measure number_of_other_outcomes_to_measure",
    "central_contacts": "id nct_id contact_type name phone email phone_extension role",
    "conditions": "id nct_id name downcase_name",
    "countries": "id nct_id name removed",
    "design_group_interventions": "id nct_id design_group_id intervention_id",
    "design_groups": "id nct_id group_type title description",
    "design_outcomes": "id nct_id outcome_type measure time_frame population description",
    "designs": "id nct_id allocation intervention_model observational_model primary_purpose time_perspective masking "
    "masking_description intervention_model_description subject_masked caregiver_masked investigator_masked "
    "outcomes_assessor_masked",
    "detailed_descriptions": "id nct_id description",
    "documents": "id nct_id document_id document_type url comment",
    "eligibilities": "id nct_id sampling_method gender minimum_age maximum_age healthy_volunteers population criteria "
    "gender_description gender_based adult child older_adult",
    "facilities": "id nct_id status name city state zip country latitude longitude",
    "facility_contacts": "id nct_id facility_id contact_type name email phone phone_extension",
    "facility_investigators": "id nct_id facility_id role name",
    "id_information": "id nct_id id_source id_value id_type id_type_description id_link",
    "intervention_other_names": "id nct_id intervention_id name",
    "interventions": "id nct_id intervention_type name description",
    "ipd_information_types": "id nct_id name",
    "keywords": "id nct_id name downcase_name",
    "links": "id nct_id url description",
    "overall_officials": "id nct_id role name affiliation",
    "responsible_parties": "id nct_id responsible_party_type name title organization affiliation old_name_title",
    "retractions": "id reference_id pmid source nct_id",
    "sponsors": "id nct_id agency_class lead_or_collaborator name",
    "studies": "nct_id nlm_download_date_description study_first_submitted_date results_first_submitted_date "
    "disposition_first_submitted_date last_update_submitted_date study_first_submitted_qc_date study_first_posted_date "
    "study_first_posted_date_type results_first_submitted_qc_date results_first_posted_date "
    "results_first_posted_date_type disposition_first_submitted_qc_date disposition_first_posted_date "
    "disposition_first_posted_date_type last_update_submitted_qc_date last_update_posted_date "
    "last_update_posted_date_type start_month_year start_date_type start_date verification_month_year "
    "verification_date completion_month_year completion_date_type completion_date primary_completion_month_year "
    "primary_completion_date_type primary_completion_date target_duration study_type acronym baseline_population "
    "brief_title official_title overall_status last_known_status phase enrollment enrollment_type source "
    "limitations_and_caveats number_of_arms number_of_groups why_stopped has_expanded_access "
    "expanded_access_type_individual expanded_access_type_intermediate expanded_access_type_treatment has_dmc "
    "is_fda_regulated_drug is_fda_regulated_device is_unapproved_device is_ppsd is_us_export biospec_retention "
    "biospec_description ipd_time_frame ipd_access_criteria ipd_url plan_to_share_ipd plan_to_share_ipd_description "
    "created_at updated_at source_class delayed_posting expanded_access_nctid expanded_access_status_for_nctid "
    "fdaaa801_violation baseline_type_units_analyzed patient_registry",
    "study_references": "id nct_id pmid reference_type citation",
}


def rows_of(con: duckdb.DuckDBPyConnection, sql: str, parameters: list | None = None) -> list[dict]:
    cursor = con.execute(sql, parameters or [])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def as_json_value(value):
    """Our value as AACT's loader writes it to JSON: dates as ISO text."""
    return value.isoformat() if isinstance(value, dt.date) else value


@pytest.fixture(scope="module")
def aact_output() -> dict[str, list[dict]]:
    return json.loads(AACT_OUTPUT.read_text(encoding="utf-8"))["models"]


@pytest.fixture(scope="module")
def fixture_con(build_warehouse):
    warehouse = build_warehouse({"NCT06388018.json": AACT_STUDY}, name="aact_fixture")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        yield con


def view_rows(con, view: str, columns: list[str]) -> list[dict]:
    order = "nct_id" if view == "studies" else "id"
    return rows_of(con, f"select {', '.join(columns)} from ctgov.{view} order by {order}")


def test_every_model_of_aact_output_is_a_view_or_waits_for_the_results_tables(aact_output):
    assert set(aact_output) == set(VIEW_OF_MODEL) | NOT_VIEWS_YET
    assert [model for model in NOT_VIEWS_YET if aact_output[model]] == []


def test_aact_loader_output_matches_cell_by_cell_in_aact_id_order(aact_output, fixture_con):
    compared, mismatches = 0, []
    for model, view in VIEW_OF_MODEL.items():
        expected = aact_output[model]
        columns = [c for c in AACT_COLUMNS[view].split() if c not in NOT_COMPARED and (not expected or c in expected[0])]
        got = view_rows(fixture_con, view, columns)
        assert len(got) == len(expected), view
        for position, (want, have) in enumerate(zip(expected, got)):
            for column in columns:
                compared += 1
                if want[column] != as_json_value(have[column]):
                    mismatches.append((view, position, column, want[column], have[column]))
    assert mismatches == []
    assert compared == 531


def test_aact_ids_join_the_same_arms_interventions_other_names_and_sites(aact_output, fixture_con):
    # AACT's ids are its load sequence, consecutive within one study's rows of a table; its
    # output has the referencing ids only, so the k-th lowest id is the table's k-th row.
    def by_aact_id(model: str, ids: list[int], key: str) -> dict[int, str]:
        return {aact_id: row[key] for aact_id, row in zip(sorted(set(ids)), aact_output[model])}

    pairs = aact_output["DesignGroupIntervention"]
    arm = by_aact_id("DesignGroup", [p["design_group_id"] for p in pairs], "title")
    drug = by_aact_id("Intervention", [p["intervention_id"] for p in pairs], "name")
    expected_pairs = [(arm[p["design_group_id"]], drug[p["intervention_id"]]) for p in pairs]
    expected_names = [(drug[n["intervention_id"]], n["name"]) for n in aact_output["InterventionOtherName"]]
    expected_sites = [(aact_output["Facility"][0]["name"], c["name"])
                      for c in aact_output["FacilityContact"] + aact_output["FacilityInvestigator"]]

    got_pairs = fixture_con.execute(
        "select g.title, i.name from ctgov.design_group_interventions x "
        "join ctgov.design_groups g on g.id = x.design_group_id join ctgov.interventions i on i.id = x.intervention_id order by x.id"
    ).fetchall()
    got_names = fixture_con.execute(
        "select i.name, o.name from ctgov.intervention_other_names o join ctgov.interventions i on i.id = o.intervention_id order by o.id"
    ).fetchall()
    got_sites = fixture_con.execute(
        "select f.name, c.name from ctgov.facility_contacts c join ctgov.facilities f on f.id = c.facility_id "
        "union all select f.name, i.name from ctgov.facility_investigators i join ctgov.facilities f on f.id = i.facility_id"
    ).fetchall()
    assert (got_pairs, got_names, got_sites) == (expected_pairs, expected_names, expected_sites)
    assert (len(got_pairs), len(got_names), len(got_sites)) == (21, 59, 2)


def test_ids_are_the_nct_number_times_ten_billion_plus_the_aact_load_ordinal(fixture_con):
    assert fixture_con.execute("select id, lead_or_collaborator, name from ctgov.sponsors order by id").fetchall() == [
        (63880180000000001, "collaborator", "National Cancer Institute (NCI)"),
        (63880180000000002, "collaborator", "Canadian Cancer Trials Group (CCTG)"),
        (63880180000000003, "lead", "NRG Oncology"),
    ]
    assert fixture_con.execute(
        "select design_group_id, intervention_id from ctgov.design_group_interventions order by id limit 2"
    ).fetchall() == [(63880180000000001, 63880180000000001), (63880180000000002, 63880180000000001)]


def test_view_columns_are_aacts_in_aacts_order(fixture_con):
    views = {v.name for v in CTGOV_VIEWS if v.is_view and not v.name.startswith("all_")}
    assert views == set(AACT_COLUMNS)
    columns = dict(fixture_con.execute(
        "select table_name, string_agg(column_name, ' ' order by column_index) from duckdb_columns() "
        "where schema_name = 'ctgov' group by table_name"
    ).fetchall())
    assert {view: columns[view] for view in AACT_COLUMNS} == AACT_COLUMNS
    all_views = sorted(v.name for v in CTGOV_VIEWS if v.name.startswith("all_"))
    assert [columns[v] for v in all_views] == ["nct_id names"] * 18


def test_every_view_and_column_says_what_it_maps_from(fixture_con):
    comments = dict(fixture_con.execute("select view_name, comment from duckdb_views() where schema_name = 'ctgov'").fetchall())
    column_comments = fixture_con.execute(
        "select table_name, column_name, comment from duckdb_columns() where schema_name = 'ctgov' order by table_name, column_index"
    ).fetchall()
    for view in (v for v in CTGOV_VIEWS if v.is_view):
        assert comments[view.name] == view.comment
        assert [(c, text) for t, c, text in column_comments if t == view.name] == list(view.column_descriptions.items())
    assert comments["facilities"].startswith("AACT's facilities: the sites where a study runs or ran.")
    assert dict((c, t) for v, c, t in column_comments if v == "sponsors")["lead_or_collaborator"] == (
        "sponsors.sponsor_role: lead or collaborator."
    )


def test_aacts_search_functions_are_table_macros(fixture_con):
    assert fixture_con.execute("select * from ctgov.ids_for_term('%STROMAL%')").fetchall() == [("NCT06388018",)]
    assert fixture_con.execute("select * from ctgov.ids_for_term('%acne%')").fetchall() == []
    assert fixture_con.execute("select * from ctgov.ids_for_org('women and infants%')").fetchall() == [("NCT06388018",)]
    assert fixture_con.execute("select * from ctgov.ids_for_org('%cctg%')").fetchall() == [("NCT06388018",)]


# ---- derivations, literal rows in --------------------------------------------------------------


def ctgov_rows(rows: dict[str, list[dict]], view: str) -> list[dict]:
    """Rows of ctgov view `view` over literal warehouse rows (every view built, as a build does)."""
    with duckdb.connect() as con:
        create_tables(con)
        for table, table_rows in rows.items():
            for row in table_rows:
                columns = ", ".join(quote_identifier(c) for c in row)
                con.execute(f"insert into {quote_identifier(table)} ({columns}) values ({', '.join('?' * len(row))})",
                            list(row.values()))
        for model in (*discover_models(), *CTGOV_VIEWS):
            materialize(con, model)
        order = "nct_id" if view == "studies" else "id"
        return rows_of(con, f"select * from ctgov.{view} order by {order}")


NCT = "NCT01234567"


def aact_id(ordinal: int) -> int:
    """The id of the study NCT01234567's row with this ordinal."""
    return 1234567 * 10**10 + ordinal


def test_site_contacts_split_into_contacts_and_investigators_by_role():
    sites = [{"nct_id": NCT, "site_position": 1, "facility": "A"}, {"nct_id": NCT, "site_position": 2, "facility": "B"}]
    contacts = [
        {"nct_id": NCT, "site_position": 1, "contact_position": 1, "contact_name": "PI", "contact_role": "PRINCIPAL_INVESTIGATOR"},
        {"nct_id": NCT, "site_position": 1, "contact_position": 2, "contact_name": "Desk", "contact_role": "CONTACT", "phone": "1"},
        {"nct_id": NCT, "site_position": 1, "contact_position": 3, "contact_name": "No role"},
        {"nct_id": NCT, "site_position": 1, "contact_position": 4, "contact_name": "Chair", "contact_role": "STUDY_CHAIR"},
        {"nct_id": NCT, "site_position": 2, "contact_position": 1, "contact_name": "Sub", "contact_role": "SUB_INVESTIGATOR"},
        {"nct_id": NCT, "site_position": 2, "contact_position": 2, "contact_name": "Nurse", "contact_role": "CONTACT"},
    ]
    rows = {"studies": [{"nct_id": NCT}], "sites": sites, "site_contacts": contacts}

    assert [(r["id"], r["facility_id"], r["contact_type"], r["name"]) for r in ctgov_rows(rows, "facility_contacts")] == [
        (aact_id(1), aact_id(1), "primary", "Desk"),
        (aact_id(2), aact_id(1), "backup", "No role"),
        (aact_id(3), aact_id(2), "primary", "Nurse"),
    ]
    assert [(r["id"], r["facility_id"], r["role"], r["name"]) for r in ctgov_rows(rows, "facility_investigators")] == [
        (aact_id(1), aact_id(1), "PRINCIPAL_INVESTIGATOR", "PI"),
        (aact_id(2), aact_id(1), "STUDY_CHAIR", "Chair"),
        (aact_id(3), aact_id(2), "SUB_INVESTIGATOR", "Sub"),
    ]


def test_arm_labels_link_exactly_then_ignoring_case_and_spaces_and_an_unknown_label_links_nothing():
    arms = [{"nct_id": NCT, "arm_position": 1, "arm_label": "Arm A"}, {"nct_id": NCT, "arm_position": 2, "arm_label": "arm b"}]
    interventions = [
        {"nct_id": NCT, "intervention_position": 1, "intervention_name": "X", "arm_group_labels": ["Arm A", " ARM B ", "Arm C"]},
        {"nct_id": NCT, "intervention_position": 2, "intervention_name": "Y", "arm_group_labels": ["arm b"]},
    ]
    rows = ctgov_rows({"studies": [{"nct_id": NCT}], "arms": arms, "interventions": interventions}, "design_group_interventions")
    assert [(r["id"], r["design_group_id"], r["intervention_id"]) for r in rows] == [
        (aact_id(1), aact_id(1), aact_id(1)),
        (aact_id(2), aact_id(2), aact_id(1)),
        (aact_id(3), None, aact_id(1)),
        (aact_id(4), aact_id(2), aact_id(2)),
    ]


def test_countries_are_site_countries_once_each_and_removed_ones_flagged_removed_first():
    sites = [{"nct_id": NCT, "site_position": i, "country": c} for i, c in enumerate(["France", "Spain", "France", None], 1)]
    studies = [{"nct_id": NCT, "removed_countries": ["Italy"]}]
    rows = ctgov_rows({"studies": studies, "sites": sites}, "countries")
    assert [(r["id"], r["name"], r["removed"]) for r in rows] == [
        (aact_id(1), "Italy", True), (aact_id(2), "France", False), (aact_id(3), "Spain", False),
    ]


def test_calculated_values_follow_aacts_definitions():
    studies = [
        {"nct_id": NCT, "study_first_submit_date": dt.date(2019, 3, 1), "start_date": dt.date(2019, 5, 31),
         "start_date_type": "ACTUAL", "primary_completion_date": dt.date(2020, 5, 15), "primary_completion_date_type": "ACTUAL",
         "results_first_submit_date": dt.date(2020, 3, 31), "has_results": True, "minimum_age": "6 Months",
         "maximum_age": "1 Year"},
        {"nct_id": "NCT07654321", "start_date": dt.date(2019, 5, 31), "start_date_type": "ESTIMATED",
         "primary_completion_date": dt.date(2020, 5, 15), "primary_completion_date_type": "ACTUAL"},
    ]
    sites = [{"nct_id": NCT, "site_position": 1, "country": "Puerto Rico"}]
    outcomes = [{"nct_id": NCT, "outcome_position": i, "outcome_kind": k} for i, k in enumerate(["primary", "primary", "other"], 1)]
    rows = ctgov_rows({"studies": studies, "sites": sites, "outcomes": outcomes}, "calculated_values")
    assert rows == [
        {"id": aact_id(1), "nct_id": NCT, "number_of_facilities": 1, "number_of_nsae_subjects": None,
         "number_of_sae_subjects": None, "registered_in_calendar_year": 2019, "nlm_download_date": None,
         # 350 days / 30 = 11.67 and -45 days / 30 = -1.5, both truncated toward zero
         "actual_duration": 11, "were_results_reported": True, "months_to_report_results": -1, "has_us_facility": True,
         "has_single_facility": True, "minimum_age_num": 6, "maximum_age_num": 1, "minimum_age_unit": "month",
         "maximum_age_unit": "year", "number_of_primary_outcomes_to_measure": 2,
         "number_of_secondary_outcomes_to_measure": None, "number_of_other_outcomes_to_measure": 1},
        {"id": 76543210000000001, "nct_id": "NCT07654321", "number_of_facilities": 0, "number_of_nsae_subjects": None,
         "number_of_sae_subjects": None, "registered_in_calendar_year": None, "nlm_download_date": None,
         "actual_duration": None, "were_results_reported": False, "months_to_report_results": None, "has_us_facility": None,
         "has_single_facility": None, "minimum_age_num": None, "maximum_age_num": None, "minimum_age_unit": None,
         "maximum_age_unit": None, "number_of_primary_outcomes_to_measure": None,
         "number_of_secondary_outcomes_to_measure": None, "number_of_other_outcomes_to_measure": None},
    ]


def test_arms_count_for_any_interventional_type_and_groups_for_the_others():
    studies = [{"nct_id": NCT, "study_type": "INTERVENTIONAL", "phases": ["PHASE1", "PHASE2"]},
               {"nct_id": "NCT07654321", "study_type": "OBSERVATIONAL"},
               {"nct_id": "NCT07654322", "study_type": "INTERVENTIONAL", "phases": ["NA"]}]
    arms = [{"nct_id": n, "arm_position": p} for n in (NCT, "NCT07654321") for p in (1, 2)]
    rows = ctgov_rows({"studies": studies, "arms": arms}, "studies")
    assert [(r["nct_id"], r["number_of_arms"], r["number_of_groups"], r["phase"]) for r in rows] == [
        (NCT, 2, None, "PHASE1/PHASE2"), ("NCT07654321", None, 2, None), ("NCT07654322", None, None, "NA"),
    ]


# ---- ids across builds ----------------------------------------------------------------------------


def test_ids_are_the_same_in_full_and_incremental_builds_and_other_studies_never_move_them(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    samples = Path(__file__).resolve().parent.parent / "data" / "raw" / "ctgov_v2"
    for name in ("NCT02552212.json", "NCT04431453.json", "NCT03475563.json"):
        shutil.copy(samples / name, raw / name)
    incremental, full = tmp_path / "incremental.duckdb", tmp_path / "full.duckdb"
    id_query = (
        "select 'facilities', nct_id, id, name from ctgov.facilities union all "
        "select 'design_groups', nct_id, id, title from ctgov.design_groups union all "
        "select 'intervention_other_names', nct_id, id, name from ctgov.intervention_other_names union all "
        "select 'design_group_interventions', nct_id, id, cast(design_group_id as varchar) from ctgov.design_group_interventions "
        "order by 1, 2, 3"
    )

    assert cli.main(["build", "--raw-dir", str(raw), "--warehouse", str(incremental)]) == 0
    with duckdb.connect(str(incremental), read_only=True) as con:
        before = con.execute(id_query).fetchall()
    # Another study arrives and one of the first two changes elsewhere in the record.
    shutil.copy(FIXTURES / "NCT06388018.json", raw / "NCT06388018.json")
    changed = json.loads((raw / "NCT03475563.json").read_text(encoding="utf-8"))
    changed["protocolSection"]["statusModule"]["lastUpdatePostDateStruct"]["date"] = "2030-01-01"
    (raw / "NCT03475563.json").write_text(json.dumps(changed), encoding="utf-8")
    assert cli.main(["build", "--raw-dir", str(raw), "--warehouse", str(incremental)]) == 0
    assert cli.main(["build", "--raw-dir", str(raw), "--warehouse", str(full), "--full"]) == 0

    with duckdb.connect(str(incremental), read_only=True) as con:
        after = con.execute(id_query).fetchall()
        assert con.execute("select build_kind from build_info").fetchall() == [("incremental",)]
    with duckdb.connect(str(full), read_only=True) as con:
        assert con.execute(id_query).fetchall() == after
    assert [row for row in after if row[1] != "NCT06388018"] == before
    assert Counter(row[0] for row in before) == {
        "facilities": 140, "design_groups": 11, "intervention_other_names": 4, "design_group_interventions": 11,
    }
