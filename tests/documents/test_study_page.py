"""The rendered study page reader (seed 003 layout) against real pages.

Fixtures: `seed_NCT06442709.txt` is the seed page as found; the `rendered_*.txt` pages were
rendered in that layout from real ClinicalTrials.gov API v2 records, and the expected values
below are the records' own values.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.documents.model import ReadError, StudyRecord
from pipeline.documents.study_page import read_study_page

FIXTURES = Path(__file__).parent.parent / "fixtures" / "study_page"


def page(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def read_one(text: str) -> StudyRecord:
    items = list(read_study_page(text))
    assert len(items) == 1
    item = items[0]
    assert isinstance(item, StudyRecord), item
    assert item.position == ""
    return item


def read_error(text: str) -> ReadError:
    items = list(read_study_page(text))
    assert len(items) == 1
    assert isinstance(items[0], ReadError), items[0]
    return items[0]


# ---- the seed page ---------------------------------------------------------------------------

SEED_STUDY = {
    "protocolSection": {
        "identificationModule": {
            "nctId": "NCT06442709",
            "briefTitle": "Combined Anti-IL6R and Anticoagulation Therapy in Advanced NPC Patients",
            "orgStudyIdInfo": {"id": "2023-K015"},
        },
        "statusModule": {
            "overallStatus": "ACTIVE_NOT_RECRUITING",
            "startDateStruct": {"date": "2021-08-01"},
            "completionDateStruct": {"date": "2024-07-01"},
            "lastUpdatePostDateStruct": {"date": "2024-06-04"},
        },
        "sponsorCollaboratorsModule": {
            "leadSponsor": {"name": "Affiliated Hospital of Nantong University", "class": "OTHER"},
            "responsibleParty": {"type": "SPONSOR"},
        },
        "descriptionModule": {
            "briefSummary": (
                "The investigators have demonstrated the crucial role of the liver-lung axis in the distant "
                "metastasis of NPC. Furthermore, the investigators have identified a potential therapeutic "
                "approach to improve outcomes in NPC patients by identifying those most suitable for "
                "anticoagulant therapy. Further, the combination of anticoagulant therapy and anti-IL6R therapy "
                "has shown promising results in enhancing the prognosis of NPC patients. These findings highlight "
                "the significance of targeting the liver-lung axis and utilizing personalized treatment "
                "strategies for NPC."
            ),
            "detailedDescription": (
                "Distant metastasis accounts for nasopharyngeal carcinoma (NPC)-related mortalities. Recently, "
                "extracellular vesicles (EVs) have been widely explored as key mediators of bidirectional "
                "tumor-host cell interactions by mediating pre-metastatic niche (PMN) formation. However, "
                "considering the complexity of the human body, multiple organ studies of tumor metastasis remain "
                "poorly understood. Here, the investigators have demonstrated the crucial role of the liver-lung "
                "axis in the distant metastasis of NPC. The investigators demonstrated mechanistically that "
                "hepatocellular derived EVs can be specifically taken up by the lung to form a hypercoagulable "
                "pre-metastatic microenvironment associated with IL6.Furthermore, the investigators have "
                "identified a potential therapeutic approach to improve outcomes in NPC patients by identifying "
                "those most suitable for anticoagulant therapy. Further, the combination of anticoagulant therapy "
                "and anti-IL6R therapy has shown promising results in enhancing the prognosis of NPC patients. "
                "These findings highlight the significance of targeting the liver-lung axis and utilizing "
                "personalized treatment strategies for NPC."
            ),
        },
        "conditionsModule": {"conditions": ["Nasopharyngeal Carcinoma"]},
        "designModule": {
            "phases": ["NA"],
            "enrollmentInfo": {"count": 100},
            "studyType": "INTERVENTIONAL",
            "designInfo": {
                "allocation": "RANDOMIZED",
                "interventionModel": "PARALLEL",
                "primaryPurpose": "TREATMENT",
                "maskingInfo": {"masking": "SINGLE", "whoMasked": ["PARTICIPANT"]},
            },
        },
        "armsInterventionsModule": {
            "armGroups": [
                {
                    "label": "Combined Anti-IL6R and Anticoagulation Therapy in Advanced NPC Patients",
                    "type": "EXPERIMENTAL",
                    "description": (
                        "Tocilizumab, an IL6R inhibitor, injected once a month at a dose of 4mg/kg in advanced NPC "
                        "patients.\n\n"
                        "Asprin,an anticoagulant, taken orally once daily at a dose of 100mg in advanced NPC patients."
                    ),
                    "interventionNames": ["Drug: Tocilizumab Asprin"],
                },
                {
                    "label": "Receive placebo in Advanced NPC Patients",
                    "type": "PLACEBO_COMPARATOR",
                    "description": "Placebo replaces tocilizumab and asprin in advanced NPC patients.",
                    "interventionNames": ["Other: Placebo"],
                },
            ],
            "interventions": [
                {
                    "type": "DRUG",
                    "name": "Tocilizumab Asprin",
                    "description": (
                        "Tocilizumab alone, Asprin alone, Tocilizumab combined with Asprin. Tocilizumab, an IL6R "
                        "inhibitor, injected once a month at a dose of 4mg/kg in advanced NPC patients.\n\n"
                        "Asprin,an anticoagulant, taken orally once daily at a dose of 100mg in advanced NPC patients."
                    ),
                    "armGroupLabels": ["Combined Anti-IL6R and Anticoagulation Therapy in Advanced NPC Patients"],
                },
                {
                    "type": "OTHER",
                    "name": "Placebo",
                    "description": "Placebo replaces tocilizumab and asprin in advanced NPC patients.",
                    "armGroupLabels": ["Receive placebo in Advanced NPC Patients"],
                },
            ],
        },
        "eligibilityModule": {
            # the page drops the sub-headings' colons; the API form carries them
            "eligibilityCriteria": (
                "Inclusion Criteria:\n\n"
                "* Clinical diagnosis of NPC with distant metastasis\n"
                "* Must be able to swallow tablets\n\n"
                "Exclusion Criteria:\n\n"
                "* Liver disease\n"
                "* Blood disease\n"
                "* Long-term use of anticoagulants"
            ),
            "healthyVolunteers": False,
            "sex": "ALL",
            "minimumAge": "20 Years",
            "maximumAge": "70 Years",
        },
        "contactsLocationsModule": {
            "overallOfficials": [
                {
                    "name": "Bo You, Doctor",
                    "role": "PRINCIPAL_INVESTIGATOR",
                    "affiliation": "Department of Otorhinolaryngology-Head and Neck Surgery, Affiliated Hospital of "
                    "Nantong University",
                }
            ],
            # the site has no status: the page shows a bare "Site Status"
            "locations": [{"facility": "Bo You", "city": "Nantong", "state": "Jiangsu", "country": "China"}],
        },
    },
    "hasResults": False,
}


def test_seed_page_reads_to_exactly_what_it_shows():
    record = read_one(page("seed_NCT06442709.txt"))
    assert record.nct_id == "NCT06442709"
    assert record.study == SEED_STUDY


def test_seed_page_field_by_field():
    ps = read_one(page("seed_NCT06442709.txt")).study["protocolSection"]
    assert ps["identificationModule"]["briefTitle"] == "Combined Anti-IL6R and Anticoagulation Therapy in Advanced NPC Patients"
    assert ps["statusModule"]["overallStatus"] == "ACTIVE_NOT_RECRUITING"
    assert ps["designModule"]["phases"] == ["NA"]
    assert ps["designModule"]["enrollmentInfo"]["count"] == 100
    assert ps["eligibilityModule"]["healthyVolunteers"] is False
    arms = ps["armsInterventionsModule"]["armGroups"]
    assert [a["type"] for a in arms] == ["EXPERIMENTAL", "PLACEBO_COMPARATOR"]
    assert arms[0]["description"].count("\n\n") == 1
    site = ps["contactsLocationsModule"]["locations"][0]
    assert "status" not in site


def test_page_tolerates_a_trailing_newline_and_windows_line_ends():
    text = page("seed_NCT06442709.txt")
    assert read_one(text + "\n").study == SEED_STUDY
    assert read_one(text.replace("\n", "\r\n")).study == SEED_STUDY


# ---- pages rendered from real records ---------------------------------------------------------

def test_interventional_with_shared_intervention_collaborators_and_secondary_id():
    # NCT06021431: "Treatment as Usual" belongs to both arms; two collaborators; an NIH grant id;
    # outcomes assessors masked; multi-paragraph arm and intervention descriptions
    study = read_one(page("rendered_NCT06021431.txt")).study
    assert study["hasResults"] is False
    ps = study["protocolSection"]
    assert ps["identificationModule"] == {
        "nctId": "NCT06021431",
        "briefTitle": "Virtual Reality Cognitive-Affective Training for Opioid Use Disorder- A Phase 2 RCT",
        "orgStudyIdInfo": {"id": "00157860"},
        "secondaryIdInfos": [{"id": "5R44DA053848", "type": "NIH"}],
    }
    assert ps["statusModule"] == {
        "overallStatus": "RECRUITING",
        "startDateStruct": {"date": "2023-09-07"},
        "completionDateStruct": {"date": "2026-05"},
        "lastUpdatePostDateStruct": {"date": "2024-03-28"},
    }
    assert ps["sponsorCollaboratorsModule"] == {
        "leadSponsor": {"name": "BehaVR LLC", "class": "INDUSTRY"},
        "collaborators": [
            {"name": "University of Utah", "class": "OTHER"},
            {"name": "National Institute on Drug Abuse (NIDA)", "class": "NIH"},
        ],
        "responsibleParty": {"type": "SPONSOR"},
    }
    assert ps["conditionsModule"] == {"conditions": ["Opioid Use Disorder"]}
    assert ps["designModule"] == {
        "phases": ["NA"],
        "enrollmentInfo": {"count": 128},
        "studyType": "INTERVENTIONAL",
        "designInfo": {
            "allocation": "RANDOMIZED",
            "interventionModel": "PARALLEL",
            "primaryPurpose": "TREATMENT",
            "maskingInfo": {"masking": "SINGLE", "whoMasked": ["OUTCOMES_ASSESSOR"]},
        },
    }
    assert ps["descriptionModule"]["detailedDescription"] == (
        "This project is a Phase II, two-arm, parallel randomized controlled trial (RCT) of a virtual reality form "
        "of Mindfulness-Oriented Recovery Enhancement (MORE-VR) versus treatment as usual (TAU) for patients "
        "receiving medications for opioid use disorder (MOUD) to assess the efficacy of the MORE-VR system. "
        "Participants will be randomized (1:1) to either 8 weekly sessions of MORE-VR or TAU. Participants will be "
        "assessed at intake, post-treatment, and a 3 month post-treatment follow-up. The primary outcome assessed "
        "will be days of opioid use."
    )
    assert ps["armsInterventionsModule"] == {
        "armGroups": [
            {
                "label": "MORE-VR",
                "type": "EXPERIMENTAL",
                "description": (
                    "An 8-session version of Mindfulness-Oriented Recovery Enhancement (MORE) delivered by virtual "
                    "reality. The treatment involves training in mindfulness, reappraisal, and savoring techniques to "
                    "address OUD.\n\n"
                    "Participants in this arm will also receive Treatment as usual (TAU) with medications for opioid "
                    "use disorder (MOUD) such as buprenorphine, methadone, or naltrexone plus any psychological "
                    "counseling they are already receiving in their standard care."
                ),
                "interventionNames": ["Device: MORE-VR", "Other: Treatment as Usual"],
            },
            {
                "label": "Treatment as Usual (TAU)",
                "type": "ACTIVE_COMPARATOR",
                "description": (
                    "Treatment as usual (TAU) with medications for opioid use disorder (MOUD) such as buprenorphine, "
                    "methadone, or naltrexone plus any psychological counseling they are already receiving in their "
                    "standard care."
                ),
                "interventionNames": ["Other: Treatment as Usual"],
            },
        ],
        "interventions": [
            {
                "type": "DEVICE",
                "name": "MORE-VR",
                "description": (
                    "An 8-session version of Mindfulness-Oriented Recovery Enhancement (MORE) delivered by virtual "
                    "reality. The treatment involves training in mindfulness,reappraisal, and savoring techniques to "
                    "address OUD.\n\n"
                    "Combination Product: Participants in this arm will also receive Treatment as usual (TAU) with "
                    "medications for opioid use disorder (MOUD). Usual addictions treatment with medications such as "
                    "buprenorphine or methadone plus psychological counseling."
                ),
                "armGroupLabels": ["MORE-VR"],
            },
            {
                "type": "OTHER",
                "name": "Treatment as Usual",
                "description": (
                    "Participants will receive their usual treatment for OUD, including medications such as "
                    "buprenorphine or methadone and any counseling they might already be receiving"
                ),
                "armGroupLabels": ["MORE-VR", "Treatment as Usual (TAU)"],
            },
        ],
    }
    elig = ps["eligibilityModule"]
    assert elig["eligibilityCriteria"].startswith("Inclusion Criteria:\n\n* 18 years of age or older\n")
    assert elig["eligibilityCriteria"].endswith("severe motion sickness, recent concussion")
    # no maximum age on the page: the tail starts at the minimum age and skips the maximum
    assert {k: v for k, v in elig.items() if k != "eligibilityCriteria"} == {
        "healthyVolunteers": False,
        "sex": "ALL",
        "minimumAge": "18 Years",
    }
    assert ps["contactsLocationsModule"] == {
        "overallOfficials": [{"name": "Risa Weisberg, PhD", "role": "PRINCIPAL_INVESTIGATOR", "affiliation": "BehaVR LLC"}],
        "locations": [
            {
                "facility": "University of Utah",
                "status": "RECRUITING",
                "city": "Salt Lake City",
                "state": "Utah",
                "country": "United States",
            }
        ],
    }


def test_observational_study_without_arms_or_interventions():
    # NCT02643888: no Study Groups / Interventions sections, no phase, four collaborators,
    # a three-paragraph detailed description, a site without a state
    study = read_one(page("rendered_NCT02643888.txt")).study
    ps = study["protocolSection"]
    assert "armsInterventionsModule" not in ps
    assert ps["designModule"] == {
        "enrollmentInfo": {"count": 30},
        "studyType": "OBSERVATIONAL",
        "designInfo": {"observationalModel": "COHORT", "timePerspective": "RETROSPECTIVE"},
    }
    assert ps["identificationModule"] == {
        "nctId": "NCT02643888",
        "briefTitle": "Pre-existing Kinase Domain Mutations in Ph-positive Leukemias",
        "orgStudyIdInfo": {"id": "BCR-ABL 001"},
    }
    assert ps["statusModule"] == {
        "overallStatus": "RECRUITING",
        "startDateStruct": {"date": "2016-12"},
        "completionDateStruct": {"date": "2023-05"},
        "lastUpdatePostDateStruct": {"date": "2022-10-31"},
    }
    assert ps["sponsorCollaboratorsModule"] == {
        "leadSponsor": {"name": "St. Anna Kinderkrebsforschung", "class": "OTHER"},
        "collaborators": [
            {"name": "Medical University of Vienna", "class": "OTHER"},
            {"name": "National Research Center for Radiation Medicine in Kiev", "class": "UNKNOWN"},
            {"name": "St. Petersburg State Pavlov Medical University", "class": "OTHER"},
            {"name": "UHKT Prague", "class": "UNKNOWN"},
        ],
        "responsibleParty": {"type": "PRINCIPAL_INVESTIGATOR"},
    }
    detailed = ps["descriptionModule"]["detailedDescription"].split("\n\n")
    assert len(detailed) == 3
    assert detailed[0].startswith("Background Single or multiple point mutations in the tyrosine kinase domain")
    assert detailed[1] == (
        "Hypothesis Detection of mutant subclones within the stem cell or early progenitor compartments at "
        "diagnosis or early into therapy of Ph-positive leukemias, and monitoring of their proliferation kinetics, "
        "permit early prediction of resistant disease under the ongoing TKI treatment."
    )
    assert detailed[2].endswith("to prevent treatment adjustments according to experimental data.")
    assert ps["conditionsModule"] == {"conditions": ["Leukemia"]}
    assert ps["eligibilityModule"] == {
        "eligibilityCriteria": "Inclusion Criteria:\n\n* Established diagnosis of Ph-positive leukemia\n\n"
        "Exclusion Criteria:\n\n* no",
        "healthyVolunteers": False,
        "sex": "ALL",
    }
    assert ps["contactsLocationsModule"] == {
        "overallOfficials": [
            {
                "name": "Thomas Lion, MD PhD Prof",
                "role": "PRINCIPAL_INVESTIGATOR",
                "affiliation": "Children´s Cancer Research Institute",
            }
        ],
        "locations": [
            {"facility": "Medical Universitiy of Vienna", "status": "RECRUITING", "city": "Vienna", "country": "Austria"}
        ],
    }


def test_results_available_sites_without_facility_and_full_masking():
    # NCT02210780: has results; 42 sites, none with a facility or status; the arms list their
    # interventions in arm order (Placebo first) though the Interventions section lists Dupilumab first
    study = read_one(page("rendered_NCT02210780.txt")).study
    assert study["hasResults"] is True
    ps = study["protocolSection"]
    assert ps["designModule"]["phases"] == ["PHASE2"]
    assert ps["designModule"]["enrollmentInfo"] == {"count": 194}
    assert ps["designModule"]["designInfo"]["maskingInfo"] == {
        "masking": "TRIPLE",
        "whoMasked": ["PARTICIPANT", "INVESTIGATOR", "OUTCOMES_ASSESSOR"],
    }
    assert ps["sponsorCollaboratorsModule"]["collaborators"] == [{"name": "Sanofi", "class": "INDUSTRY"}]
    aim = ps["armsInterventionsModule"]
    assert [(a["label"], a["type"], a["interventionNames"]) for a in aim["armGroups"]] == [
        ("Placebo qw", "EXPERIMENTAL", ["Drug: Placebo"]),
        ("Dupilumab 300 mg qw", "EXPERIMENTAL", ["Drug: Dupilumab"]),
    ]
    assert aim["interventions"] == [
        {"type": "DRUG", "name": "Dupilumab", "description": "Administered via subcutaneous injection.",
         "armGroupLabels": ["Dupilumab 300 mg qw"]},
        {"type": "DRUG", "name": "Placebo",
         "description": "An inactive substance containing no medicine administered via subcutaneous injection.",
         "armGroupLabels": ["Placebo qw"]},
    ]
    elig = ps["eligibilityModule"]
    # "Key Inclusion Criteria:" is not one of the sub-headings the page strips, so it keeps its colon
    assert elig["eligibilityCriteria"].startswith("Key Inclusion Criteria:\n\n1. Male or female adults")
    assert elig["eligibilityCriteria"].endswith("not all inclusion/ exclusion criteria are listed.")
    assert (elig["minimumAge"], elig["maximumAge"], elig["sex"], elig["healthyVolunteers"]) == (
        "18 Years", "64 Years", "ALL", False)
    contacts = ps["contactsLocationsModule"]
    assert contacts["overallOfficials"] == [
        {"name": "Clinical Trial Management", "role": "STUDY_DIRECTOR", "affiliation": "Regeneron Pharmaceuticals"}
    ]
    sites = contacts["locations"]
    assert len(sites) == 42
    assert sites[0] == {"city": "Birmingham", "state": "Alabama", "country": "United States"}
    assert sites[-1] == {"city": "Seattle", "state": "Washington", "country": "United States"}
    assert all("facility" not in s and "status" not in s for s in sites)
    assert ps["identificationModule"]["orgStudyIdInfo"] == {"id": "R668-AD-1314"}
    assert "secondaryIdInfos" not in ps["identificationModule"]


# ---- layout edge cases, made by editing the seed ----------------------------------------------

SEED_SITE = "Bo You\n\nNantong, Jiangsu, China\n\nSite Status"
SEED_COUNTRIES = "Review the countries where the study has at least one active or historical site.\n\nChina"


def with_sites(sites: str, countries: str) -> str:
    text = page("seed_NCT06442709.txt")
    assert SEED_SITE in text and SEED_COUNTRIES in text
    return text.replace(SEED_SITE, sites).replace(
        SEED_COUNTRIES, "Review the countries where the study has at least one active or historical site.\n\n" + countries)


def test_sites_split_by_the_listed_countries():
    text = with_sites(
        "Kangwon National University Hospital\n\nChuncheon, Kangwon, Korea, Republic of\n\nSite Status RECRUITING\n\n"
        "Seoul, Korea, Republic of\n\nSite Status COMPLETED\n\n"
        "Hospital Clinic, Barcelona\n\nSite Status\n\n"
        "Korea, Republic of\n\nSite Status\n\n"
        "Site Status WITHDRAWN",
        "Korea, Republic of",
    )
    sites = read_one(text).study["protocolSection"]["contactsLocationsModule"]["locations"]
    assert sites == [
        {"facility": "Kangwon National University Hospital", "status": "RECRUITING", "city": "Chuncheon",
         "state": "Kangwon", "country": "Korea, Republic of"},
        # a lone line ending in a listed country is the place, not the facility
        {"status": "COMPLETED", "city": "Seoul", "country": "Korea, Republic of"},
        # a lone line not ending in a listed country is the facility
        {"facility": "Hospital Clinic, Barcelona"},
        {"country": "Korea, Republic of"},
        {"status": "WITHDRAWN"},
    ]


def test_a_state_holding_a_comma_stays_whole():
    text = with_sites("Bristol Centre\n\nBristol, Bristol, City Of, United Kingdom\n\nSite Status RECRUITING",
                      "United Kingdom")
    sites = read_one(text).study["protocolSection"]["contactsLocationsModule"]["locations"]
    assert sites == [{"facility": "Bristol Centre", "status": "RECRUITING", "city": "Bristol",
                      "state": "Bristol, City Of", "country": "United Kingdom"}]


def test_a_condition_named_like_a_heading_is_not_a_heading():
    text = page("seed_NCT06442709.txt").replace(
        "\n\nNasopharyngeal Carcinoma\n\n", "\n\nConditions\n\nStudy Design\n\nNasopharyngeal Carcinoma\n\n")
    ps = read_one(text).study["protocolSection"]
    assert ps["conditionsModule"]["conditions"] == ["Conditions", "Study Design", "Nasopharyngeal Carcinoma"]
    assert ps["designModule"]["designInfo"]["allocation"] == "RANDOMIZED"


def test_interventions_sharing_a_name_are_told_apart_by_their_paragraphs():
    # two "Placebo" interventions whose paragraphs start alike. The last arm lists the second one:
    # taking the first would leave "Second part." to be read as another arm, which has no
    # "Group Type" line, so the reader must back up and take the second
    blurb_groups = "Review each arm or cohort in the study, along with the interventions and objectives associated with them."
    blurb_ivs = "Learn about the drugs, procedures, or behavioral strategies being tested and how they are applied within this trial."
    groups = "\n\n".join([
        "Study Groups", blurb_groups,
        "Arm B", "Arm B text.", "Group Type PLACEBO_COMPARATOR", "Placebo", "Intervention Type DRUG", "Same start.",
        "Arm A", "Group Type EXPERIMENTAL", "Placebo", "Intervention Type DRUG", "Same start.", "Second part.",
        "Interventions", blurb_ivs,
        "Placebo", "Same start.", "Intervention Type DRUG",
        "Placebo", "Same start.", "Second part.", "Intervention Type DRUG",
    ])
    text = page("seed_NCT06442709.txt")
    start = text.index("Study Groups\n\n")
    end = text.index("Eligibility Criteria\n\n")
    aim = read_one(text[:start] + groups + "\n\n" + text[end:]).study["protocolSection"]["armsInterventionsModule"]
    assert aim["armGroups"] == [
        {"label": "Arm B", "type": "PLACEBO_COMPARATOR", "description": "Arm B text.", "interventionNames": ["Drug: Placebo"]},
        {"label": "Arm A", "type": "EXPERIMENTAL", "interventionNames": ["Drug: Placebo"]},
    ]
    assert aim["interventions"] == [
        {"type": "DRUG", "name": "Placebo", "description": "Same start.", "armGroupLabels": ["Arm B"]},
        {"type": "DRUG", "name": "Placebo", "description": "Same start.\n\nSecond part.", "armGroupLabels": ["Arm A"]},
    ]


def test_empty_group_type_and_no_eligibility_tail():
    text = page("seed_NCT06442709.txt").replace("Group Type PLACEBO_COMPARATOR", "Group Type")
    text = text.replace(
        "* Long-term use of anticoagulants\nMinimum Eligible Age\n\n20 Years\n\nMaximum Eligible Age\n\n70 Years\n\n"
        "Eligible Sex\n\nALL\n\nAccepts Healthy Volunteers\n\nNo\n\n",
        "* Long-term use of anticoagulants\n\n")
    ps = read_one(text).study["protocolSection"]
    assert "type" not in ps["armsInterventionsModule"]["armGroups"][1]
    assert ps["eligibilityModule"] == {"eligibilityCriteria": SEED_STUDY["protocolSection"]["eligibilityModule"]["eligibilityCriteria"]}


def test_eligibility_tail_without_criteria():
    text = page("seed_NCT06442709.txt")
    start = text.index("Inclusion Criteria\n\n")
    end = text.index("Minimum Eligible Age")
    ps = read_one(text[:start] + text[end:]).study["protocolSection"]
    assert ps["eligibilityModule"] == {"healthyVolunteers": False, "sex": "ALL", "minimumAge": "20 Years",
                                       "maximumAge": "70 Years"}


# ---- pages that cannot be read -----------------------------------------------------------------

def test_missing_nct_id_block_is_an_error():
    text = page("seed_NCT06442709.txt").replace("NCT ID: NCT06442709\n\n", "")
    err = read_error(text)
    assert err.position == "block 2"
    assert "NCT ID" in err.reason
    assert err.excerpt


def test_malformed_nct_id_is_an_error():
    err = read_error(page("seed_NCT06442709.txt").replace("NCT ID: NCT06442709", "NCT ID: NCT0644"))
    assert "malformed NCT id" in err.reason


def test_truncated_page_is_an_error():
    text = page("seed_NCT06442709.txt")
    err = read_error(text[: text.index("Countries")])
    assert err.position == 'section "More Related Trials"'


def test_arm_listing_an_unknown_intervention_is_an_error():
    text = page("seed_NCT06442709.txt").replace(
        "Group Type PLACEBO_COMPARATOR\n\nPlacebo\n\n", "Group Type PLACEBO_COMPARATOR\n\nSaline\n\n")
    err = read_error(text)
    assert err.position.startswith("block ")
    assert "Study Groups" in err.reason


def test_bad_field_value_is_an_error():
    err = read_error(page("seed_NCT06442709.txt").replace("100 participants", "about a hundred"))
    assert err.position == "block 14"  # title, NCT ID, ..., "Total Enrollment", then its value
    assert "Total Enrollment" in err.reason
    assert "about a hundred" in err.excerpt


@pytest.mark.parametrize("text", ["", "just some text", "Study Results\n\nResults pending"])
def test_not_a_study_page_is_an_error(text):
    err = read_error(text)
    assert err.reason
