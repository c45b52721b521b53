"""The two seed documents, loaded end to end, give exactly the rows their text shows.

Upstream quirks pinned here:
- seed 000 (registry export) holds the API record as a Python literal in PostgreSQL jsonb key
  order; its eligibility criteria keep the API's markdown escape `\\>3` verbatim, its dates are
  partly month-only ('2025-06' is stored as 2025-06-30) and its only site has coordinates and
  a contact whose name is lower-case ('huifang huang') unlike the central contact.
- seed 003 (study page) is lossy: no date types, no enrollment type, no outcomes; its only
  "site" is a person's name ('Bo You') with an empty "Site Status"; its org study id is shown
  with "Identifier Type: -"; its arm and intervention descriptions span two paragraphs.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import duckdb
import pytest

SAMPLE_RAW_DIR = Path(__file__).resolve().parent.parent / "data" / "raw"
SEED_000 = "registry_exports/000_2c322e512329f80c.txt"
SEED_003 = "study_pages/003_8d465a5b8d530458.txt"
NCT_000 = "NCT06486350"
NCT_003 = "NCT06442709"


@pytest.fixture(scope="module")
def con(build_warehouse):
    warehouse = build_warehouse({SEED_000: SAMPLE_RAW_DIR / SEED_000, SEED_003: SAMPLE_RAW_DIR / SEED_003}, name="seeds")
    connection = duckdb.connect(str(warehouse), read_only=True)
    yield connection
    connection.close()


def rows(con, sql: str, *params) -> list[tuple]:
    return con.execute(sql, list(params)).fetchall()


def non_null_fields(con, table: str, nct_id: str) -> dict:
    cursor = con.execute(f"select * from {table} where nct_id = ?", [nct_id])
    names = [d[0] for d in cursor.description]
    (row,) = cursor.fetchall()
    return {name: value for name, value in zip(names, row) if value is not None}


# ---- provenance ------------------------------------------------------------------------------


def test_documents_rows_name_form_hash_and_yield(con) -> None:
    expected = []
    for relative, form in ((SEED_000, "registry_export"), (SEED_003, "study_page")):
        data = (SAMPLE_RAW_DIR / relative).read_bytes()
        expected.append((relative, form, hashlib.sha256(data).hexdigest(), len(data), 1, 1, 0))
    assert rows(
        con,
        "select document_path, document_form, content_hash, size_bytes, n_studies_found, n_studies_loaded, n_errors "
        "from documents order by document_path",
    ) == expected


def test_seed_hashes_are_the_seeds_as_committed() -> None:
    # Pins the seed bytes themselves, so an edited seed shows up here rather than as odd rows.
    assert hashlib.sha256((SAMPLE_RAW_DIR / SEED_000).read_bytes()).hexdigest() == (
        "407020213a75b1dabb382a7b372d833696e5e51b0866545d7d2e0deb568c0ec6"
    )
    assert hashlib.sha256((SAMPLE_RAW_DIR / SEED_003).read_bytes()).hexdigest() == (
        "dc7b68b7b12423c094aa3c2a66c7b422b4ae64b573711ee2f2e94ac54416be24"
    )


def test_nothing_rejected_superseded_or_unmapped(con) -> None:
    assert rows(con, "select count(*) from ingest_errors") == [(0,)]
    assert rows(con, "select count(*) from superseded_records") == [(0,)]
    assert rows(con, "select count(*) from unmapped_values") == [(0,)]
    assert rows(con, "select count(*) from record_sections") == [(0,)]


# ---- studies ---------------------------------------------------------------------------------

SEED_000_CRITERIA = (
    "Inclusion Criteria:\n\n"
    '1. Clinical diagnosis aligns with the "Chinese guidelines for diagnosis and treatment of adult acute myeloid '
    'leukemia (not APL) (2023)";\n'
    "2. All patients are experiencing their first onset of the disease and have not received any related chemotherapy "
    "prior to the study;\n"
    "3. Patients participate in the study accompanied by family members and sign informed consent documents.\n\n"
    "Exclusion Criteria:\n\n"
    "1. Patients with concurrent malignancies requiring treatment;\n"
    "2. Presence of infectious diseases, including SARS, viral hepatitis, or HIV/AIDS;\n"
    "3. Major surgery performed within the last 21 days;\n"
    "4. Performance Status (PS) score \\>3;\n"
    "5. Severe liver or kidney dysfunction or serious infection;\n"
    "6. Severe psychiatric conditions that impair understanding of the study protocol or voluntary withdrawal."
)

SEED_000_STUDY = {
    "nct_id": NCT_000,
    "brief_title": "IL-6: A Marker for AML Chemo Sensitivity",
    "official_title": "Bone Marrow Supernatant IL-6 as a Predictor of Chemotherapy Sensitivity in AML Patients",
    "org_study_id": "AML-IL6",
    "organization_name": "Fujian Medical University Union Hospital",
    "organization_class": "OTHER",
    "overall_status": "RECRUITING",
    "has_expanded_access": False,
    "status_verified_date_raw": "2024-06",
    "status_verified_date": dt.date(2024, 6, 30),
    "status_verified_date_precision": "month",
    "start_date_raw": "2023-10-01",
    "start_date": dt.date(2023, 10, 1),
    "start_date_precision": "day",
    "start_date_type": "ACTUAL",
    "primary_completion_date_raw": "2024-10",
    "primary_completion_date": dt.date(2024, 10, 31),
    "primary_completion_date_precision": "month",
    "primary_completion_date_type": "ESTIMATED",
    "completion_date_raw": "2025-06",
    "completion_date": dt.date(2025, 6, 30),
    "completion_date_precision": "month",
    "completion_date_type": "ESTIMATED",
    "study_first_submit_date_raw": "2024-06-19",
    "study_first_submit_date": dt.date(2024, 6, 19),
    "study_first_submit_date_precision": "day",
    "study_first_submit_qc_date_raw": "2024-06-30",
    "study_first_submit_qc_date": dt.date(2024, 6, 30),
    "study_first_submit_qc_date_precision": "day",
    "study_first_post_date_raw": "2024-07-03",
    "study_first_post_date": dt.date(2024, 7, 3),
    "study_first_post_date_precision": "day",
    "study_first_post_date_type": "ACTUAL",
    "last_update_submit_date_raw": "2024-06-30",
    "last_update_submit_date": dt.date(2024, 6, 30),
    "last_update_submit_date_precision": "day",
    "last_update_post_date_raw": "2024-07-03",
    "last_update_post_date": dt.date(2024, 7, 3),
    "last_update_post_date_precision": "day",
    "last_update_post_date_type": "ACTUAL",
    "lead_sponsor_name": "Fujian Medical University Union Hospital",
    "lead_sponsor_class": "OTHER",
    "responsible_party_type": "PRINCIPAL_INVESTIGATOR",
    "responsible_party_investigator_full_name": "Huifang Huang, MD",
    "responsible_party_investigator_title": "Professor",
    "responsible_party_investigator_affiliation": "Fujian Medical University Union Hospital",
    "has_dmc": False,
    "is_fda_regulated_drug": False,
    "is_fda_regulated_device": False,
    "brief_summary": (
        "Acute myeloid leukemia (AML) is a clonal malignancy that arises from the primitive hematopoietic cells within "
        "the hematopoietic system. According to SEER cancer statistics, the 5-year survival rate for AML patients stands "
        "at a concerning 30%. Despite therapeutic advancements, the development of chemotherapy resistance and the risk "
        "of disease relapse pose significant barriers to curative outcomes. Evidence has linked elevated interleukin-6 "
        "(IL-6) levels in plasma and bone marrow to a poorer prognosis in AML, with IL-6 potentially fostering "
        "chemotherapy resistance through the enhancement of fatty acid uptake and the induction of stromal-like "
        "morphological changes in AML cells. However, the role of IL-6 as a potential biomarker for monitoring "
        "chemotherapy sensitivity in AML has not been fully elucidated. This study seeks to investigate the correlation "
        "between IL-6 levels in bone marrow supernatant and the sensitivity to chemotherapy, offering a clinical "
        "perspective that could pave the way for improved prognostic markers and personalized treatment strategies."
    ),
    "detailed_description": (
        "In this prospective study, we will collect bone marrow supernatant samples from patients diagnosed with Acute "
        "Myeloid Leukemia (AML) to evaluate the levels of Interleukin-6 (IL-6). Our aim is to explore whether elevated "
        "IL-6 levels can serve as a predictive biomarker for poor treatment outcomes following standard chemotherapy "
        "regimens. The findings may help in stratifying patient risk and personalizing therapeutic approaches in AML "
        "treatment."
    ),
    "study_type": "OBSERVATIONAL",
    "is_patient_registry": False,
    "observational_model": "COHORT",
    "time_perspective": "PROSPECTIVE",
    "bio_spec_retention": "SAMPLES_WITHOUT_DNA",
    "bio_spec_description": "Bone marrow supernatant",
    "enrollment": 72,
    "enrollment_type": "ESTIMATED",
    "eligibility_criteria": SEED_000_CRITERIA,
    "accepts_healthy_volunteers": False,
    "sex": "ALL",
    "minimum_age": "18 Years",
    "minimum_age_years": 18.0,
    "std_ages": ["ADULT", "OLDER_ADULT"],
    "study_population": (
        "This prospective study enrolls patients who fulfill the diagnostic criteria for AML (excluding APL), with an "
        "age requirement of over 18 years and no restrictions on gender. Participation is entirely voluntary, with each "
        "participant or their legal guardian being thoroughly informed about the study details and signing an informed "
        "consent form. Participants are willing to adhere to and capable of completing all required study procedures."
    ),
    "sampling_method": "NON_PROBABILITY_SAMPLE",
    "has_results": False,
    "version_holder": "2025-12-24",
}

SEED_003_STUDY = {
    "nct_id": NCT_003,
    "brief_title": "Combined Anti-IL6R and Anticoagulation Therapy in Advanced NPC Patients",
    "org_study_id": "2023-K015",
    "overall_status": "ACTIVE_NOT_RECRUITING",
    "start_date_raw": "2021-08-01",
    "start_date": dt.date(2021, 8, 1),
    "start_date_precision": "day",
    "completion_date_raw": "2024-07-01",
    "completion_date": dt.date(2024, 7, 1),
    "completion_date_precision": "day",
    "last_update_post_date_raw": "2024-06-04",
    "last_update_post_date": dt.date(2024, 6, 4),
    "last_update_post_date_precision": "day",
    "lead_sponsor_name": "Affiliated Hospital of Nantong University",
    "lead_sponsor_class": "OTHER",
    "responsible_party_type": "SPONSOR",
    "brief_summary": (
        "The investigators have demonstrated the crucial role of the liver-lung axis in the distant metastasis of NPC. "
        "Furthermore, the investigators have identified a potential therapeutic approach to improve outcomes in NPC "
        "patients by identifying those most suitable for anticoagulant therapy. Further, the combination of "
        "anticoagulant therapy and anti-IL6R therapy has shown promising results in enhancing the prognosis of NPC "
        "patients. These findings highlight the significance of targeting the liver-lung axis and utilizing "
        "personalized treatment strategies for NPC."
    ),
    "detailed_description": (
        "Distant metastasis accounts for nasopharyngeal carcinoma (NPC)-related mortalities. Recently, extracellular "
        "vesicles (EVs) have been widely explored as key mediators of bidirectional tumor-host cell interactions by "
        "mediating pre-metastatic niche (PMN) formation. However, considering the complexity of the human body, multiple "
        "organ studies of tumor metastasis remain poorly understood. Here, the investigators have demonstrated the "
        "crucial role of the liver-lung axis in the distant metastasis of NPC. The investigators demonstrated "
        "mechanistically that hepatocellular derived EVs can be specifically taken up by the lung to form a "
        "hypercoagulable pre-metastatic microenvironment associated with IL6.Furthermore, the investigators have "
        "identified a potential therapeutic approach to improve outcomes in NPC patients by identifying those most "
        "suitable for anticoagulant therapy. Further, the combination of anticoagulant therapy and anti-IL6R therapy has "
        "shown promising results in enhancing the prognosis of NPC patients. These findings highlight the significance "
        "of targeting the liver-lung axis and utilizing personalized treatment strategies for NPC."
    ),
    "study_type": "INTERVENTIONAL",
    "phases": ["NA"],
    "phase_label": "Not Applicable",
    "allocation": "RANDOMIZED",
    "intervention_model": "PARALLEL",
    "primary_purpose": "TREATMENT",
    "masking": "SINGLE",
    "who_masked": ["PARTICIPANT"],
    "enrollment": 100,
    # The page shows the criteria's sub-headings without their colons; the reader restores them.
    "eligibility_criteria": (
        "Inclusion Criteria:\n\n"
        "* Clinical diagnosis of NPC with distant metastasis\n"
        "* Must be able to swallow tablets\n\n"
        "Exclusion Criteria:\n\n"
        "* Liver disease\n"
        "* Blood disease\n"
        "* Long-term use of anticoagulants"
    ),
    "accepts_healthy_volunteers": False,
    "sex": "ALL",
    "minimum_age": "20 Years",
    "minimum_age_years": 20.0,
    "maximum_age": "70 Years",
    "maximum_age_years": 70.0,
    "has_results": False,
}


def test_studies_has_one_row_per_seed(con) -> None:
    assert rows(con, "select nct_id from studies order by nct_id") == [(NCT_003,), (NCT_000,)]


def test_registry_export_seed_studies_row(con) -> None:
    # Every field the record states, and nothing else: columns it does not state stay null.
    assert non_null_fields(con, "studies", NCT_000) == SEED_000_STUDY


def test_registry_export_seed_keeps_the_markdown_escape_verbatim(con) -> None:
    (criteria,) = con.execute("select eligibility_criteria from studies where nct_id = ?", [NCT_000]).fetchone()
    assert "4. Performance Status (PS) score \\>3;" in criteria
    assert criteria.count("\\") == 1


def test_study_page_seed_studies_row(con) -> None:
    # The page carries no date types, enrollment type, official title or organisation: all null.
    assert non_null_fields(con, "studies", NCT_003) == SEED_003_STUDY


# ---- arms, interventions and their links (seed 003; seed 000 is observational without groups) ----

ARM_1 = "Combined Anti-IL6R and Anticoagulation Therapy in Advanced NPC Patients"
ARM_2 = "Receive placebo in Advanced NPC Patients"


def test_arms(con) -> None:
    assert rows(
        con, "select nct_id, arm_position, arm_label, arm_type, description, intervention_names from arms order by all"
    ) == [
        (
            NCT_003, 1, ARM_1, "EXPERIMENTAL",
            "Tocilizumab, an IL6R inhibitor, injected once a month at a dose of 4mg/kg in advanced NPC patients.\n\n"
            "Asprin,an anticoagulant, taken orally once daily at a dose of 100mg in advanced NPC patients.",
            ["Drug: Tocilizumab Asprin"],
        ),
        (
            NCT_003, 2, ARM_2, "PLACEBO_COMPARATOR",
            "Placebo replaces tocilizumab and asprin in advanced NPC patients.",
            ["Other: Placebo"],
        ),
    ]


def test_interventions(con) -> None:
    assert rows(
        con,
        "select nct_id, intervention_position, intervention_name, intervention_type, description, arm_group_labels, "
        "other_names from interventions order by all",
    ) == [
        (
            NCT_003, 1, "Tocilizumab Asprin", "DRUG",
            "Tocilizumab alone, Asprin alone, Tocilizumab combined with Asprin. Tocilizumab, an IL6R inhibitor, injected "
            "once a month at a dose of 4mg/kg in advanced NPC patients.\n\n"
            "Asprin,an anticoagulant, taken orally once daily at a dose of 100mg in advanced NPC patients.",
            [ARM_1],
            None,
        ),
        (NCT_003, 2, "Placebo", "OTHER", "Placebo replaces tocilizumab and asprin in advanced NPC patients.", [ARM_2], None),
    ]


def test_arm_interventions(con) -> None:
    assert rows(
        con,
        "select nct_id, arm_position, intervention_position, arm_label, intervention_name, intervention_type "
        "from arm_interventions order by all",
    ) == [
        (NCT_003, 1, 1, ARM_1, "Tocilizumab Asprin", "DRUG"),
        (NCT_003, 2, 2, ARM_2, "Placebo", "OTHER"),
    ]


# ---- sites and contacts ----------------------------------------------------------------------


def test_sites(con) -> None:
    assert rows(
        con,
        "select nct_id, site_position, facility, city, state, country, site_status, zip, country_code, latitude, longitude "
        "from sites order by nct_id desc, site_position",
    ) == [
        (
            NCT_000, 1, "Fujian Medical University Union Hospital", "Fuzhou", "Fujian", "China", "RECRUITING", "350001",
            "CN", 26.06139, 119.30611,
        ),
        # The page's one "location" is a person; its "Site Status" line is empty.
        (NCT_003, 1, "Bo You", "Nantong", "Jiangsu", "China", None, None, "CN", None, None),
    ]


def test_central_contacts(con) -> None:
    assert rows(
        con,
        "select nct_id, contact_position, contact_name, contact_role, phone, phone_ext, email from central_contacts",
    ) == [(NCT_000, 1, "Huifang Huang", "CONTACT", "13365910318", "0591-86218641", "huanghuif@fjmu.edu.cn")]


def test_site_contacts(con) -> None:
    assert rows(
        con,
        "select nct_id, site_position, contact_position, contact_name, contact_role, phone, phone_ext, email "
        "from site_contacts",
    ) == [(NCT_000, 1, 1, "huifang huang", "CONTACT", "13365910318", "0591-86218641", "huanghuif@fjmu.edu.cn")]


def test_officials(con) -> None:
    assert rows(con, "select nct_id, official_position, official_name, official_role, affiliation from officials") == [
        (
            NCT_003, 1, "Bo You, Doctor", "PRINCIPAL_INVESTIGATOR",
            "Department of Otorhinolaryngology-Head and Neck Surgery, Affiliated Hospital of Nantong University",
        )
    ]


# ---- lists -----------------------------------------------------------------------------------


def test_conditions(con) -> None:
    assert rows(con, "select nct_id, condition_position, condition from conditions order by nct_id desc") == [
        (NCT_000, 1, "AML, Adult"),
        (NCT_003, 1, "Nasopharyngeal Carcinoma"),
    ]


def test_keywords(con) -> None:
    assert rows(con, "select nct_id, keyword_position, keyword from keywords order by all") == [
        (NCT_000, 1, "AML"),
        (NCT_000, 2, "IL-6"),
        (NCT_000, 3, "Chemotherapy sensitivity"),
    ]


def test_sponsors(con) -> None:
    assert rows(
        con, "select nct_id, sponsor_position, sponsor_role, sponsor_name, agency_class from sponsors order by nct_id desc"
    ) == [
        (NCT_000, 1, "lead", "Fujian Medical University Union Hospital", "OTHER"),
        (NCT_003, 1, "lead", "Affiliated Hospital of Nantong University", "OTHER"),
    ]


def test_identifiers(con) -> None:
    # Seed 003 shows "Identifier Type: -": no type.
    assert rows(
        con,
        "select nct_id, identifier_position, identifier_source, identifier, identifier_type, domain, link "
        "from identifiers order by nct_id desc",
    ) == [
        (NCT_000, 1, "org_study_id", "AML-IL6", None, None, None),
        (NCT_003, 1, "org_study_id", "2023-K015", None, None, None),
    ]


def test_outcomes_of_the_registry_export_seed(con) -> None:
    assert rows(
        con,
        "select nct_id, outcome_position, outcome_kind, kind_position, measure, description, time_frame "
        "from outcomes order by outcome_position",
    ) == [
        (NCT_000, 1, "primary", 1, "ORR",
         "The primary endpoint of this study is the overall response rate (ORR) after Chemotherapy", "1 year"),
        (NCT_000, 2, "secondary", 1, "CR",
         "The secondary endpoints is the complete remission (CR) rate after Chemotherapy", "1 year"),
        (NCT_000, 3, "secondary", 2, "CRi",
         "The secondary endpoints is the complete remission with incomplete blood count recovery (CRi) rate after "
         "Chemotherapy", "1 year"),
        (NCT_000, 4, "secondary", 3, "PR",
         "The secondary endpoints is the partial remission (PR) rate after Chemotherapy", "1 year"),
        (NCT_000, 5, "secondary", 4, "OS", "The secondary endpoints is the overall survival (OS)", "2 year"),
    ]


def test_condition_mesh_terms_direct_then_ancestors(con) -> None:
    assert rows(
        con, "select nct_id, mesh_position, relation, mesh_id, mesh_term from condition_mesh_terms order by mesh_position"
    ) == [
        (NCT_000, 1, "direct", "D015470", "Leukemia, Myeloid, Acute"),
        (NCT_000, 2, "ancestor", "D007951", "Leukemia, Myeloid"),
        (NCT_000, 3, "ancestor", "D007938", "Leukemia"),
        (NCT_000, 4, "ancestor", "D009370", "Neoplasms by Histologic Type"),
        (NCT_000, 5, "ancestor", "D009369", "Neoplasms"),
        (NCT_000, 6, "ancestor", "D006402", "Hematologic Diseases"),
        (NCT_000, 7, "ancestor", "D006425", "Hemic and Lymphatic Diseases"),
    ]


def test_study_references(con) -> None:
    assert rows(con, "select nct_id, reference_position, pmid, reference_type, citation from study_references") == [
        (
            NCT_000, 1, "40668612", "DERIVED",
            "Hou D, Cai D, Dai W, Liao X, Tan M, Zheng X, Wang L, Liu J, Wang J, Wang X, Fu Q, Huang H. Targeting bone "
            "marrow mesenchymal stromal cell-derived IL-6 to overcome acute myeloid leukemia chemoresistance. Blood Adv. "
            "2025 Oct 14;9(19):4810-4824. doi: 10.1182/bloodadvances.2024015496.",
        )
    ]


def test_ipd_sharing_statements(con) -> None:
    assert rows(
        con, "select nct_id, ipd_sharing, description, info_types, time_frame, access_criteria, url from ipd_sharing_statements"
    ) == [(NCT_000, "NO", None, None, None, None, None)]


@pytest.mark.parametrize(
    "table",
    ["intervention_mesh_terms", "browse_leaves", "browse_branches", "retractions", "see_also_links", "available_ipds"],
)
def test_tables_the_seeds_say_nothing_about_are_empty(con, table: str) -> None:
    assert rows(con, f"select count(*) from {table}") == [(0,)]
