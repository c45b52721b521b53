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
  study's own MeSH terms, secondary ids before the org study id, other outcomes before primary;
  outcome measures' result groups before the adverse-event, participant-flow and baseline ones,
  other adverse events before serious ones, mortality totals before other and serious ones;
- results: an outcome's counts, measurements and analysis groups link to that outcome's own
  groups; numbers read as AACT's loader reads text (Ruby's Float() for the *_num columns, to_f
  for p-values once '<', '>', '=' and spaces are gone, the modifier being what digits, '.' and
  '-' leave); number_of_sae_subjects summed over terms and groups; were_results_reported when
  the results hold an outcome measure; booleans in text columns as 't'/'f', calculatePct as
  Yes/No; an anticipated posting month as its first day; provided documents' URL built from the
  NCT id's last two digits and a month-only document date null.
"""
from __future__ import annotations

import datetime as dt
import json
import re
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


def table_of_model(model: str) -> str:
    """The table AACT's loader writes a model's rows to: Rails' underscored plural of its name."""
    words = re.sub(r"(?<!^)(?=[A-Z])", "_", model).lower()
    if words.endswith("information"):
        return words
    if words.endswith("analysis"):
        return words.removesuffix("is") + "es"
    if words.endswith("y") and words[-2] not in "aeiou":
        return words.removesuffix("y") + "ies"
    return words + "s"


# AACT's own search table: filled by AACT's saved searches, not by the registry's records.
NOT_VIEWS = {"SearchResult"}
# AACT's loader names its output by model; each is the ctgov view of the model's table.
VIEW_OF_MODEL = {
    model: table_of_model(model) for model in json.loads(AACT_OUTPUT.read_text(encoding="utf-8"))["models"]
    if model not in NOT_VIEWS
}
# Surrogate ids and load timestamps are AACT's own: compared through the joins below instead.
NOT_COMPARED = {
    "id", "design_group_id", "intervention_id", "facility_id", "reference_id", "result_group_id", "outcome_id",
    "outcome_analysis_id", "created_at", "updated_at",
}

# AACT's column order per table (db/ctgov_v2.sql; studies.patient_registry and facilities'
# latitude/longitude from its newest mapping, lib/aact/mapping.json; result_groups.outcome_id from
# its migration AddOutomeIdToResultGroups, which appends it).
AACT_COLUMNS = {
    "brief_summaries": "id nct_id description",
    "browse_conditions": "id nct_id mesh_term downcase_mesh_term mesh_type",
    "browse_interventions": "id nct_id mesh_term downcase_mesh_term mesh_type",
    "calculated_values": "id nct_id number_of_facilities number_of_nsae_subjects number_of_sae_subjects "
    "registered_in_calendar_year nlm_download_date actual_duration were_results_reported months_to_report_results "
    "has_us_facility has_single_facility minimum_age_num maximum_age_num minimum_age_unit maximum_age_unit "
    "number_of_primary_outcomes_to_measure number_of_secondary_outcomes_to_measure number_of_other_outcomes_to_measure",
    "baseline_counts": "id nct_id result_group_id ctgov_group_code units scope count",
    "baseline_measurements": "id nct_id result_group_id ctgov_group_code classification category title description units "
    "param_type param_value param_value_num dispersion_type dispersion_value dispersion_value_num dispersion_lower_limit "
    "dispersion_upper_limit explanation_of_na number_analyzed number_analyzed_units population_description calculate_percentage",
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
    "drop_withdrawals": "id nct_id result_group_id ctgov_group_code period reason count drop_withdraw_comment reason_comment "
    "count_units",
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
    "milestones": "id nct_id result_group_id ctgov_group_code title period description count milestone_description count_units",
    "outcome_analyses": "id nct_id outcome_id non_inferiority_type non_inferiority_description param_type param_value "
    "dispersion_type dispersion_value p_value_modifier p_value ci_n_sides ci_percent ci_lower_limit ci_upper_limit "
    "ci_upper_limit_na_comment p_value_description method method_description estimate_description groups_description "
    "other_analysis_description ci_upper_limit_raw ci_lower_limit_raw p_value_raw",
    "outcome_analysis_groups": "id nct_id outcome_analysis_id result_group_id ctgov_group_code",
    "outcome_counts": "id nct_id outcome_id result_group_id ctgov_group_code scope units count",
    "outcome_measurements": "id nct_id outcome_id result_group_id ctgov_group_code classification category title description "
    "units param_type param_value param_value_num dispersion_type dispersion_value dispersion_value_num "
    "dispersion_lower_limit dispersion_upper_limit explanation_of_na dispersion_upper_limit_raw dispersion_lower_limit_raw",
    "outcomes": "id nct_id outcome_type title description time_frame population anticipated_posting_date "
    "anticipated_posting_month_year units units_analyzed dispersion_type param_type",
    "overall_officials": "id nct_id role name affiliation",
    "participant_flows": "id nct_id recruitment_details pre_assignment_details units_analyzed",
    "pending_results": "id nct_id event event_date_description event_date",
    "provided_documents": "id nct_id document_type has_protocol has_icf has_sap document_date url",
    "reported_event_totals": "id nct_id ctgov_group_code event_type classification subjects_affected subjects_at_risk "
    "created_at updated_at",
    "reported_events": "id nct_id result_group_id ctgov_group_code time_frame event_type default_vocab default_assessment "
    "subjects_affected subjects_at_risk description event_count organ_system adverse_event_term frequency_threshold vocab "
    "assessment",
    "responsible_parties": "id nct_id responsible_party_type name title organization affiliation old_name_title",
    "result_agreements": "id nct_id pi_employee agreement restriction_type other_details restrictive_agreement",
    "result_contacts": "id nct_id organization name phone email extension",
    "result_groups": "id nct_id ctgov_group_code result_type title description outcome_id",
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


def test_every_model_of_aact_output_is_a_view_but_aacts_search_table(aact_output):
    assert sorted(VIEW_OF_MODEL.values()) == sorted(AACT_COLUMNS)
    assert (VIEW_OF_MODEL["IdInformation"], VIEW_OF_MODEL["OutcomeAnalysis"], VIEW_OF_MODEL["Eligibility"]) == (
        "id_information", "outcome_analyses", "eligibilities")
    assert [model for model in NOT_VIEWS if aact_output[model]] == []


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


def test_aacts_functions_are_table_macros(fixture_con):
    assert fixture_con.execute("select * from ctgov.ids_for_term('%STROMAL%')").fetchall() == [("NCT06388018",)]
    assert fixture_con.execute("select * from ctgov.ids_for_term('%acne%')").fetchall() == []
    assert fixture_con.execute("select * from ctgov.ids_for_org('women and infants%')").fetchall() == [("NCT06388018",)]
    assert fixture_con.execute("select * from ctgov.ids_for_org('%cctg%')").fetchall() == [("NCT06388018",)]
    # One row per matching term (MeSH term, condition or keyword); an unstated maximum age leaves
    # AACT's range open ('18 Years to '), as its function does since its loader stopped writing 'N/A'.
    assert fixture_con.execute(
        "select nct_id, conditions, age, gender, phase, were_results_reported, number_of_facilities "
        "from ctgov.study_summaries_for_condition('%stromal sarcoma%') order by conditions"
    ).fetchall() == [
        ("NCT06388018", f"Stage {stage} Uterine Corpus Endometrial Stromal Sarcoma AJCC v8", "18 Years to ", "FEMALE", "PHASE2",
         False, 1)
        for stage in ("I", "II", "III")
    ]


# ---- derivations, literal rows in --------------------------------------------------------------


def ctgov_views(rows: dict[str, list[dict]], *views: str) -> dict[str, list[dict]]:
    """Rows of the ctgov views named over literal warehouse rows (every view built, as a build does)."""
    with duckdb.connect() as con:
        create_tables(con)
        for table, table_rows in rows.items():
            for row in table_rows:
                columns = ", ".join(quote_identifier(c) for c in row)
                con.execute(f"insert into {quote_identifier(table)} ({columns}) values ({', '.join('?' * len(row))})",
                            list(row.values()))
        for model in (*discover_models(), *CTGOV_VIEWS):
            materialize(con, model)
        return {view: rows_of(con, f"select * from ctgov.{view} order by {'nct_id' if view == 'studies' else 'id'}")
                for view in views}


def ctgov_rows(rows: dict[str, list[dict]], view: str) -> list[dict]:
    return ctgov_views(rows, view)[view]


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
    views = ctgov_views(rows, "facility_contacts", "facility_investigators")

    assert [(r["id"], r["facility_id"], r["contact_type"], r["name"]) for r in views["facility_contacts"]] == [
        (aact_id(1), aact_id(1), "primary", "Desk"),
        (aact_id(2), aact_id(1), "backup", "No role"),
        (aact_id(3), aact_id(2), "primary", "Nurse"),
    ]
    assert [(r["id"], r["facility_id"], r["role"], r["name"]) for r in views["facility_investigators"]] == [
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
        {"nct_id": "NCT07654321", "start_date": dt.date(2019, 5, 31), "start_date_type": "ESTIMATED", "has_results": True,
         "primary_completion_date": dt.date(2020, 5, 15), "primary_completion_date_type": "ACTUAL"},
    ]
    sites = [{"nct_id": NCT, "site_position": 1, "country": "Puerto Rico"}]
    outcomes = [{"nct_id": NCT, "outcome_position": i, "outcome_kind": k} for i, k in enumerate(["primary", "primary", "other"], 1)]
    # AACT sums subjects affected over terms and groups (a participant with two events counts twice).
    events = [
        {"nct_id": NCT, "event_type": "serious", "event_position": 1, "stat_position": 1, "subjects_affected": 2},
        {"nct_id": NCT, "event_type": "serious", "event_position": 1, "stat_position": 2, "subjects_affected": None},
        {"nct_id": NCT, "event_type": "serious", "event_position": 2, "stat_position": 1, "subjects_affected": 3},
        {"nct_id": NCT, "event_type": "other", "event_position": 1, "stat_position": 1, "subjects_affected": 4},
    ]
    # Results are reported when the results hold an outcome measure, whatever hasResults says.
    rows = ctgov_rows({"studies": studies, "sites": sites, "outcomes": outcomes, "reported_events": events,
                       "outcome_measures": [{"nct_id": NCT, "outcome_measure_position": 1}]}, "calculated_values")
    assert rows == [
        {"id": aact_id(1), "nct_id": NCT, "number_of_facilities": 1, "number_of_nsae_subjects": 4,
         "number_of_sae_subjects": 5, "registered_in_calendar_year": 2019, "nlm_download_date": None,
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


# ---- results views, literal rows in ------------------------------------------------------------


def test_result_groups_take_aacts_load_order_and_each_part_links_to_its_own_groups():
    parts = [("participant_flow", None, "FG000"), ("baseline", None, "BG000"), ("outcome", 1, "OG000"), ("outcome", 1, "OG001"),
             ("outcome", 2, "OG000"), ("adverse_events", None, "EG000")]
    groups = [{"nct_id": NCT, "group_position": i, "result_part": part, "outcome_measure_position": measure, "group_code": code,
               "title": f"{code} of {part} {measure or ''}".strip()} for i, (part, measure, code) in enumerate(parts, 1)]
    rows = {
        "studies": [{"nct_id": NCT}], "result_groups": groups,
        "outcome_measures": [{"nct_id": NCT, "outcome_measure_position": p, "title": f"Measure {p}"} for p in (1, 2)],
        "outcome_counts": [{"nct_id": NCT, "outcome_measure_position": 2, "denom_position": 1, "count_position": 1,
                            "units": "Participants", "group_code": "OG000", "n_analyzed": 12}],
        "outcome_analyses": [{"nct_id": NCT, "outcome_measure_position": 1, "analysis_position": 1,
                              "group_codes": ["OG001", "OG000", "OG009"]}],
        "milestones": [{"nct_id": NCT, "period_position": 1, "milestone_position": 1, "achievement_position": 1,
                        "group_code": "FG000", "milestone_type": "STARTED", "n_subjects": 30, "n_units_raw": "31"}],
        "reported_events": [{"nct_id": NCT, "event_type": "serious", "event_position": 1, "stat_position": 1, "group_code": "EG000"}],
    }
    views = ctgov_views(rows, "result_groups", "outcome_counts", "outcome_analysis_groups", "milestones", "reported_events")

    assert [(r["id"], r["ctgov_group_code"], r["result_type"], r["outcome_id"]) for r in views["result_groups"]] == [
        (aact_id(1), "OG000", "Outcome", aact_id(1)),
        (aact_id(2), "OG001", "Outcome", aact_id(1)),
        (aact_id(3), "OG000", "Outcome", aact_id(2)),
        (aact_id(4), "EG000", "Reported Event", None),
        (aact_id(5), "FG000", "Participant Flow", None),
        (aact_id(6), "BG000", "Baseline", None),
    ]
    # OG000 of the second measure, not the first's; an analysis naming a group its measure lacks links none.
    assert [(r["outcome_id"], r["result_group_id"], r["scope"], r["count"]) for r in views["outcome_counts"]] == [
        (aact_id(2), aact_id(3), "Measure", 12),
    ]
    assert [(r["id"], r["outcome_analysis_id"], r["result_group_id"], r["ctgov_group_code"])
            for r in views["outcome_analysis_groups"]] == [
        (aact_id(1), aact_id(1), aact_id(2), "OG001"),
        (aact_id(2), aact_id(1), aact_id(1), "OG000"),
        (aact_id(3), aact_id(1), None, "OG009"),
    ]
    assert [(r["result_group_id"], r["title"], r["count"], r["count_units"], r["description"])
            for r in views["milestones"]] == [(aact_id(5), "STARTED", 30, "31", None)]
    assert [r["result_group_id"] for r in views["reported_events"]] == [aact_id(4)]


def test_reported_events_come_other_first_with_the_modules_details_and_totals_deaths_other_serious():
    events = [
        {"nct_id": NCT, "event_type": t, "event_position": e, "stat_position": g, "group_code": f"EG00{g - 1}",
         "adverse_event_term": f"{t} {e}", "subjects_affected": e + g, "subjects_at_risk": 10, "source_vocabulary": "MedDRA 21.0",
         "assessment_type": "SYSTEMATIC_ASSESSMENT", "n_events": None}
        for t in ("serious", "other") for e in (1, 2) for g in (1, 2)
    ]
    details = [{"nct_id": NCT, "adverse_events_time_frame": "1 year", "adverse_events_description": "Any event",
                "adverse_events_frequency_threshold_raw": "2.5"}]
    totals = [{"nct_id": NCT, "event_group_position": g, "group_code": f"EG00{g - 1}", "classification": c,
               "subjects_affected": g, "subjects_at_risk": 10} for c in ("serious", "other", "all_cause_mortality") for g in (1, 2)]
    rows = {"studies": [{"nct_id": NCT}], "reported_events": events, "result_details": details, "reported_event_totals": totals}
    views = ctgov_views(rows, "reported_events", "reported_event_totals")

    got = views["reported_events"]
    assert [(r["id"], r["event_type"], r["adverse_event_term"], r["ctgov_group_code"], r["subjects_affected"]) for r in got] == [
        (aact_id(1), "other", "other 1", "EG000", 2), (aact_id(2), "other", "other 1", "EG001", 3),
        (aact_id(3), "other", "other 2", "EG000", 3), (aact_id(4), "other", "other 2", "EG001", 4),
        (aact_id(5), "serious", "serious 1", "EG000", 2), (aact_id(6), "serious", "serious 1", "EG001", 3),
        (aact_id(7), "serious", "serious 2", "EG000", 3), (aact_id(8), "serious", "serious 2", "EG001", 4),
    ]
    assert {(r["time_frame"], r["description"], r["frequency_threshold"], r["vocab"], r["assessment"], r["default_vocab"])
            for r in got} == {("1 year", "Any event", 2, "MedDRA 21.0", "SYSTEMATIC_ASSESSMENT", None)}
    assert [(r["id"], r["ctgov_group_code"], r["event_type"], r["classification"], r["subjects_affected"])
            for r in views["reported_event_totals"]] == [
        (aact_id(1), "EG000", "deaths", "Total, all-cause mortality", 1),
        (aact_id(2), "EG001", "deaths", "Total, all-cause mortality", 2),
        (aact_id(3), "EG000", "other", "Total, other adverse events", 1),
        (aact_id(4), "EG001", "other", "Total, other adverse events", 2),
        (aact_id(5), "EG000", "serious", "Total, serious adverse events", 1),
        (aact_id(6), "EG001", "serious", "Total, serious adverse events", 2),
    ]


def test_analysis_and_measurement_texts_read_as_aacts_loader_reads_them():
    texts = ["<0.001", "0.05", "=0.247", "≤ 0.05", "NA", "0.03 (one-sided)", None]
    analyses = [{"nct_id": NCT, "outcome_measure_position": 1, "analysis_position": i, "p_value_raw": p,
                 "param_value_raw": "1.58 (adjusted)" if i == 1 else "NA", "ci_pct_raw": "95", "ci_lower_limit_raw": "NA"}
                for i, p in enumerate(texts, 1)]
    measurements = [{"nct_id": NCT, "outcome_measure_position": 1, "class_position": 1, "category_position": 1,
                     "measurement_position": i, "value_raw": v, "spread_raw": v, "lower_limit_raw": v}
                    for i, v in enumerate(["12.5", "NA", "<0.01", "1,234"], 1)]
    rows = {"studies": [{"nct_id": NCT}], "outcome_analyses": analyses, "outcome_measurements": measurements}
    views = ctgov_views(rows, "outcome_analyses", "outcome_measurements")

    assert [(r["p_value_raw"], r["p_value_modifier"], r["p_value"]) for r in views["outcome_analyses"]] == [
        ("<0.001", "<", 0.001), ("0.05", "", 0.05), ("=0.247", "=", 0.247), ("≤ 0.05", "≤", 0.0), ("NA", "NA", 0.0),
        ("0.03 (one-sided)", "(onesided)", 0.03), (None, None, None),
    ]
    assert [(r["param_value"], r["ci_percent"], r["ci_lower_limit"]) for r in views["outcome_analyses"]][:2] == [
        (1.58, 95.0, None), (0.0, 95.0, None),
    ]
    assert [(r["param_value"], r["param_value_num"], r["dispersion_value_num"], r["dispersion_lower_limit"])
            for r in views["outcome_measurements"]] == [
        ("12.5", 12.5, 12.5, 12.5), ("NA", None, None, None), ("<0.01", None, None, None), ("1,234", None, None, None),
    ]


def test_results_dates_urls_and_yes_no_texts_follow_aact():
    rows = {
        "studies": [{"nct_id": NCT, "has_delayed_posting": True}],
        "outcome_measures": [
            {"nct_id": NCT, "outcome_measure_position": p, "anticipated_posting_date_raw": raw, "anticipated_posting_date": last_day,
             "anticipated_posting_date_precision": precision}
            for p, raw, last_day, precision in [(1, "2025-11", dt.date(2025, 11, 30), "month"),
                                                (2, "2026-02-03", dt.date(2026, 2, 3), "day"), (3, None, None, None)]
        ],
        "provided_documents": [
            {"nct_id": NCT, "document_position": 1, "label": "Study Protocol", "file_name": "Prot_000.pdf",
             "document_date_raw": "2017-08-05", "document_date": dt.date(2017, 8, 5), "document_date_precision": "day"},
            {"nct_id": NCT, "document_position": 2, "label": "Informed Consent Form", "file_name": "ICF_001.pdf",
             "document_date_raw": "2018-05", "document_date": dt.date(2018, 5, 31), "document_date_precision": "month"},
        ],
        "result_agreements": [{"nct_id": NCT, "is_pi_sponsor_employee": False, "has_restrictive_agreement": True}],
        "baseline_measurements": [
            {"nct_id": NCT, "baseline_measure_position": 1, "class_position": 1, "category_position": 1, "measurement_position": m,
             "is_percentage_calculated": pct, "n_analyzed_units": "Participants"} for m, pct in [(1, True), (2, False), (3, None)]
        ],
    }
    views = ctgov_views(rows, "outcomes", "provided_documents", "result_agreements", "baseline_measurements", "studies")
    assert [(r["anticipated_posting_date"], r["anticipated_posting_month_year"]) for r in views["outcomes"]] == [
        (dt.date(2025, 11, 1), "2025-11"), (dt.date(2026, 2, 3), "2026-02-03"), (None, None),
    ]
    assert [(r["document_type"], r["document_date"], r["url"]) for r in views["provided_documents"]] == [
        ("Study Protocol", dt.date(2017, 8, 5), "https://ClinicalTrials.gov/ProvidedDocs/67/NCT01234567/Prot_000.pdf"),
        ("Informed Consent Form", None, "https://ClinicalTrials.gov/ProvidedDocs/67/NCT01234567/ICF_001.pdf"),
    ]
    assert [(r["pi_employee"], r["restrictive_agreement"], r["agreement"]) for r in views["result_agreements"]] == [
        ("f", "t", None),
    ]
    assert [r["calculate_percentage"] for r in views["baseline_measurements"]] == ["Yes", "No", None]
    assert [r["delayed_posting"] for r in views["studies"]] == ["t"]
