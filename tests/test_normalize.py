"""Normalization: small literal study fragments in, exact rows out.

Upstream quirks pinned here: the API gives dates at day, month or year precision ('2024-02'
means some day in February; AACT stores the month's last day, leap years included); ages are
free text ('6 Months', 'N/A'); phases are a list of codes; an arm names its interventions as
'Type: Name' while an intervention names its arms by label, and the two sides need not agree
(labels differ in case and spacing, one side may be missing, and two interventions may share a
name); new API fields appear without notice and must not be dropped silently; a site's country
comes as a name only, in the registry's own wording ("Korea, Republic of", "Turkey", older names
the ISO list has since changed), and the countries a study no longer has sites in are a separate
list of names.
"""
from __future__ import annotations

import datetime as dt
import json

import polars as pl
import pytest

from pipeline.tables.normalize import normalize

NCT = "NCT00000001"


def study(nct_id: str = NCT, **modules) -> dict:
    """A canonical study holding the given protocolSection modules (plus any top-level 'sections')."""
    sections = modules.pop("sections", {})
    protocol = {"identificationModule": {"nctId": nct_id, **modules.pop("identificationModule", {})}, **modules}
    return {"protocolSection": protocol, **sections}


def rows(table: str, studies: list[dict] | dict, *columns: str) -> list[tuple]:
    frame: pl.DataFrame = normalize(studies if isinstance(studies, list) else [studies])[table]
    return frame.select(columns).rows()


# ---- dates -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "date", "precision"),
    [
        ("2024-03-15", dt.date(2024, 3, 15), "day"),
        ("2025-06", dt.date(2025, 6, 30), "month"),
        ("2024-02", dt.date(2024, 2, 29), "month"),  # leap year
        ("2023-02", dt.date(2023, 2, 28), "month"),
        ("2000-02", dt.date(2000, 2, 29), "month"),  # divisible by 400: leap
        ("1900-02", dt.date(1900, 2, 28), "month"),  # divisible by 100 only: not leap
        ("2024-12", dt.date(2024, 12, 31), "month"),
        ("2023", dt.date(2023, 12, 31), "year"),
    ],
)
def test_date_derivations(raw: str, date: dt.date, precision: str) -> None:
    fragment = study(statusModule={
        "statusVerifiedDate": raw,  # a bare date string
        "startDateStruct": {"date": raw, "type": "ESTIMATED"},  # a date struct with its type
    })
    assert rows(
        "studies", fragment,
        "status_verified_date_raw", "status_verified_date", "status_verified_date_precision",
        "start_date_raw", "start_date", "start_date_precision", "start_date_type",
    ) == [(raw, date, precision, raw, date, precision, "ESTIMATED")]


@pytest.mark.parametrize("raw", ["garbage", "March 2024", "2024-3", "20240315", "2024/03/15", "TBD"])
def test_unreadable_date_keeps_its_raw_text_and_has_no_date_or_precision(raw: str) -> None:
    fragment = study(statusModule={"completionDateStruct": {"date": raw, "type": "ACTUAL"}})
    assert rows(
        "studies", fragment, "completion_date_raw", "completion_date", "completion_date_precision", "completion_date_type"
    ) == [(raw, None, None, "ACTUAL")]


@pytest.mark.parametrize("raw", ["2024-13", "2024-02-30", "2023-02-29"])
def test_impossible_calendar_date_keeps_its_raw_text_and_has_no_date(raw: str) -> None:
    fragment = study(statusModule={"completionDateStruct": {"date": raw}})
    assert rows("studies", fragment, "completion_date_raw", "completion_date") == [(raw, None)]


@pytest.mark.parametrize("raw", [" 2024-03-15", "2024-03-15 ", "2024-03-15\n"])
def test_date_padded_with_whitespace_parses_like_its_precision_says(raw: str) -> None:
    fragment = study(statusModule={"startDateStruct": {"date": raw}})
    assert rows("studies", fragment, "start_date_raw", "start_date", "start_date_precision") == [
        (raw, dt.date(2024, 3, 15), "day")
    ]


def test_missing_dates_are_null() -> None:
    assert rows("studies", study(), "start_date_raw", "start_date", "start_date_precision", "start_date_type") == [
        (None, None, None, None)
    ]


# ---- ages ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("age", "years"),
    [
        ("18 Years", 18.0),
        ("1 Year", 1.0),
        ("6 Months", 0.5),
        ("4 Weeks", 28 / 365.25),
        ("30 Days", 30 / 365.25),
        ("N/A", None),
        (None, None),
    ],
)
def test_age_in_years(age: str | None, years: float | None) -> None:
    eligibility = {} if age is None else {"minimumAge": age, "maximumAge": age}
    [(minimum, minimum_years, maximum, maximum_years)] = rows(
        "studies", study(eligibilityModule=eligibility), "minimum_age", "minimum_age_years", "maximum_age", "maximum_age_years"
    )
    assert (minimum, maximum) == (age, age)
    if years is None:
        assert (minimum_years, maximum_years) == (None, None)
    else:
        assert minimum_years == pytest.approx(years, rel=1e-12)
        assert maximum_years == pytest.approx(years, rel=1e-12)


# ---- phases ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("phases", "label"),
    [
        (["PHASE1", "PHASE2"], "Phase 1/Phase 2"),
        (["PHASE2", "PHASE3"], "Phase 2/Phase 3"),
        (["NA"], "Not Applicable"),
        (["EARLY_PHASE1"], "Early Phase 1"),
        (["PHASE4"], "Phase 4"),
        ([], None),
        (None, None),
    ],
)
def test_phase_label(phases: list[str] | None, label: str | None) -> None:
    design = {"studyType": "INTERVENTIONAL"} | ({} if phases is None else {"phases": phases})
    assert rows("studies", study(designModule=design), "phases", "phase_label") == [(phases, label)]


# ---- sponsors, outcomes, contacts, identifiers ----------------------------------------------


def test_sponsors_lead_first_then_collaborators_in_order() -> None:
    fragment = study(sponsorCollaboratorsModule={
        "responsibleParty": {"type": "SPONSOR"},
        "collaborators": [{"name": "Collab A", "class": "NIH"}, {"name": "Collab B", "class": "INDUSTRY"}],
        "leadSponsor": {"name": "Lead Org", "class": "OTHER"},  # listed last; still position 1
    })
    assert rows("sponsors", fragment, "nct_id", "sponsor_position", "sponsor_role", "sponsor_name", "agency_class") == [
        (NCT, 1, "lead", "Lead Org", "OTHER"),
        (NCT, 2, "collaborator", "Collab A", "NIH"),
        (NCT, 3, "collaborator", "Collab B", "INDUSTRY"),
    ]


def test_positions_restart_for_each_study() -> None:
    first = study("NCT00000001", sponsorCollaboratorsModule={"leadSponsor": {"name": "A"}, "collaborators": [{"name": "B"}]})
    second = study("NCT00000002", sponsorCollaboratorsModule={"leadSponsor": {"name": "C"}})
    assert rows("sponsors", [first, second], "nct_id", "sponsor_position", "sponsor_name") == [
        ("NCT00000001", 1, "A"),
        ("NCT00000001", 2, "B"),
        ("NCT00000002", 1, "C"),
    ]


def test_outcomes_kinds_running_position_and_position_within_kind() -> None:
    fragment = study(outcomesModule={
        "otherOutcomes": [{"measure": "O1"}, {"measure": "O2", "timeFrame": "1 year"}],
        "primaryOutcomes": [{"measure": "P1", "description": "first", "timeFrame": "12 weeks"}, {"measure": "P2"}],
        "secondaryOutcomes": [{"measure": "S1"}],
    })
    assert rows(
        "outcomes", fragment, "nct_id", "outcome_position", "outcome_kind", "kind_position", "measure", "description", "time_frame"
    ) == [
        (NCT, 1, "primary", 1, "P1", "first", "12 weeks"),
        (NCT, 2, "primary", 2, "P2", None, None),
        (NCT, 3, "secondary", 1, "S1", None, None),
        (NCT, 4, "other", 1, "O1", None, None),
        (NCT, 5, "other", 2, "O2", None, "1 year"),
    ]


def test_site_contacts_carry_their_site_position_and_their_own() -> None:
    fragment = study(contactsLocationsModule={"locations": [
        {"facility": "Site 1", "contacts": [{"name": "A", "role": "CONTACT", "email": "a@x.org"},
                                            {"name": "B", "role": "PRINCIPAL_INVESTIGATOR"}]},
        {"facility": "Site 2"},
        {"facility": "Site 3", "contacts": [{"name": "C", "phone": "555", "phoneExt": "12"}]},
    ]})
    assert rows("sites", fragment, "site_position", "facility") == [(1, "Site 1"), (2, "Site 2"), (3, "Site 3")]
    assert rows(
        "site_contacts", fragment,
        "nct_id", "site_position", "contact_position", "contact_name", "contact_role", "phone", "phone_ext", "email",
    ) == [
        (NCT, 1, 1, "A", "CONTACT", None, None, "a@x.org"),
        (NCT, 1, 2, "B", "PRINCIPAL_INVESTIGATOR", None, None, None),
        (NCT, 3, 1, "C", None, "555", "12", None),
    ]


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("United States", "US"), ("Korea, Republic of", "KR"), ("Korea, Democratic People's Republic of", "KP"),
        ("Iran, Islamic Republic of", "IR"), ("Turkey", "TR"), ("Türkiye", "TR"), ("Czechia", "CZ"),
        ("Czech Republic", "CZ"), ("Côte D'Ivoire", "CI"), ("Russian Federation", "RU"), ("Taiwan", "TW"),
        ("Macedonia, The Former Yugoslav Republic of", "MK"), ("North Macedonia", "MK"), ("Moldova, Republic of", "MD"),
        ("Congo, The Democratic Republic of the", "CD"), ("Lao People's Democratic Republic", "LA"),
        ("Virgin Islands (U.S.)", "VI"), ("Holy See (Vatican City State)", "VA"), ("Réunion", "RE"),
        ("Former Serbia and Montenegro", "CS"), ("Former Yugoslavia", "YU"), ("Iran", "IR"), ("  United   Kingdom ", "GB"), ("Kosovo", None), ("Atlantis", None),
    ],
)
def test_site_country_code_from_the_registry_country_name(name: str, code: str | None) -> None:
    fragment = study(contactsLocationsModule={"locations": [{"facility": "Site", "country": name}]})
    assert rows("sites", fragment, "site_position", "country", "country_code") == [(1, name, code)]


def test_countries_one_per_country_of_the_sites_in_first_appearance_then_the_removed_ones() -> None:
    fragment = study(
        contactsLocationsModule={"locations": [
            {"facility": "A", "country": "Turkey"},
            {"facility": "B", "country": "Korea, Republic of"},
            {"facility": "C", "country": "Turkey"},
            {"facility": "D"},  # no country: no row
            {"facility": "E", "country": "Kosovo"},
        ]},
        # A removed country that still has a site is listed once, as a country of the sites.
        sections={"derivedSection": {"miscInfoModule": {"removedCountries": ["Côte D'Ivoire", "Korea, Republic of", "Czechia"]}}},
    )
    assert rows("countries", [fragment, study("NCT00000002", contactsLocationsModule={"locations": [{"country": "France"}]})],
                "nct_id", "country_position", "country", "country_code", "is_removed") == [
        (NCT, 1, "Turkey", "TR", False),
        (NCT, 2, "Korea, Republic of", "KR", False),
        (NCT, 3, "Kosovo", None, False),
        (NCT, 4, "Côte D'Ivoire", "CI", True),
        (NCT, 5, "Czechia", "CZ", True),
        ("NCT00000002", 1, "France", "FR", False),
    ]


def test_a_study_without_sites_or_removed_countries_has_no_countries() -> None:
    assert rows("countries", study(contactsLocationsModule={"centralContacts": [{"name": "X"}]}), "nct_id") == []


def test_identifiers_org_id_first_then_secondary_ids_then_nct_aliases() -> None:
    fragment = study(identificationModule={
        "nctIdAliases": ["NCT00000099", "NCT00000098"],
        "secondaryIdInfos": [
            {"id": "U10CA180868", "type": "NIH", "link": "https://reporter.nih.gov/quickSearch/U10CA180868"},
            {"id": "NCI-2023-09355", "type": "REGISTRY", "domain": "CTRP (Clinical Trial Reporting Program)"},
        ],
        "orgStudyIdInfo": {"id": "ORG-1"},
    })
    assert rows(
        "identifiers", fragment,
        "nct_id", "identifier_position", "identifier_source", "identifier", "identifier_type", "domain", "link",
    ) == [
        (NCT, 1, "org_study_id", "ORG-1", None, None, None),
        (NCT, 2, "secondary_id", "U10CA180868", "NIH", None, "https://reporter.nih.gov/quickSearch/U10CA180868"),
        (NCT, 3, "secondary_id", "NCI-2023-09355", "REGISTRY", "CTRP (Clinical Trial Reporting Program)", None),
        (NCT, 4, "nct_alias", "NCT00000099", None, None, None),
        (NCT, 5, "nct_alias", "NCT00000098", None, None, None),
    ]
    assert rows("studies", fragment, "org_study_id") == [("ORG-1",)]


# ---- arm_interventions -----------------------------------------------------------------------

LINK_COLUMNS = ("nct_id", "arm_label", "intervention_name", "arm_position", "intervention_position", "intervention_type")


def test_links_from_arm_group_labels_only() -> None:
    fragment = study(armsInterventionsModule={
        "armGroups": [{"label": "Arm A"}, {"label": "Arm B"}],
        "interventions": [
            {"type": "DRUG", "name": "Aspirin", "armGroupLabels": ["Arm A", "Arm B"]},
            {"type": "DRUG", "name": "Placebo", "armGroupLabels": ["Arm B", "No such arm"]},
        ],
    })
    assert rows("arm_interventions", fragment, *LINK_COLUMNS) == [
        (NCT, "Arm A", "Aspirin", 1, 1, "DRUG"),
        (NCT, "Arm B", "Aspirin", 2, 1, "DRUG"),
        (NCT, "Arm B", "Placebo", 2, 2, "DRUG"),
    ]


def test_links_from_type_and_name_only() -> None:
    fragment = study(armsInterventionsModule={
        "armGroups": [
            {"label": "Arm A", "interventionNames": ["Drug: Aspirin", "Dietary Supplement: Vitamin D"]},
            {"label": "Arm B", "interventionNames": ["Device: Placebo", "Behavioral: Not an intervention here"]},
        ],
        "interventions": [
            {"type": "DRUG", "name": "Aspirin"},
            {"type": "DRUG", "name": "Placebo"},
            {"type": "DEVICE", "name": "Placebo"},  # same name, other type: the type picks it
            {"type": "DIETARY_SUPPLEMENT", "name": "Vitamin D"},
        ],
    })
    assert rows("arm_interventions", fragment, *LINK_COLUMNS) == [
        (NCT, "Arm A", "Aspirin", 1, 1, "DRUG"),
        (NCT, "Arm A", "Vitamin D", 1, 4, "DIETARY_SUPPLEMENT"),
        (NCT, "Arm B", "Placebo", 2, 3, "DEVICE"),
    ]


def test_links_are_the_union_of_both_sides_without_duplicates() -> None:
    fragment = study(armsInterventionsModule={
        "armGroups": [
            {"label": "Arm A", "interventionNames": ["Drug: Aspirin"]},  # both sides agree
            {"label": "Arm  b", "interventionNames": ["Drug: Placebo"]},  # only the arm says so
            {"label": "Arm C"},
        ],
        "interventions": [
            # labels match arms regardless of case and spacing; the link carries the arm's own label
            {"type": "DRUG", "name": "Aspirin", "armGroupLabels": ["Arm A", "arm c"]},
            {"type": "DRUG", "name": "Placebo", "armGroupLabels": []},
        ],
    })
    assert rows("arm_interventions", fragment, *LINK_COLUMNS) == [
        (NCT, "Arm A", "Aspirin", 1, 1, "DRUG"),
        (NCT, "Arm  b", "Placebo", 2, 2, "DRUG"),
        (NCT, "Arm C", "Aspirin", 3, 1, "DRUG"),
    ]


def test_an_ambiguous_type_and_name_does_not_link_to_an_intervention_that_names_other_arms() -> None:
    # NCT00663260 in the samples, reduced: one intervention entry per dose arm, both named Dapagliflozin.
    fragment = study(armsInterventionsModule={
        "armGroups": [
            {"label": "Dapagliflozin (10 mg)", "interventionNames": ["Drug: Dapagliflozin"]},
            {"label": "Dapagliflozin (5 mg)", "interventionNames": ["Drug: Dapagliflozin"]},
        ],
        "interventions": [
            {"type": "DRUG", "name": "Dapagliflozin", "armGroupLabels": ["Dapagliflozin (10 mg)"]},
            {"type": "DRUG", "name": "Dapagliflozin", "armGroupLabels": ["Dapagliflozin (5 mg)"]},
        ],
    })
    assert rows("arm_interventions", fragment, "arm_position", "intervention_position") == [(1, 1), (2, 2)]


# ---- what the mapping does not know ---------------------------------------------------------


def test_unknown_fields_land_in_unmapped_values_with_their_dotted_path() -> None:
    fragment = study(
        designModule={"studyType": "INTERVENTIONAL", "newField": "hello", "newCount": 3,
                      "newList": ["a", {"flag": True}]},
        newModule={"note": "kept"},
    )
    assert rows("unmapped_values", fragment, "nct_id", "path", "value") == [
        (NCT, "protocolSection.designModule.newField", "hello"),
        (NCT, "protocolSection.designModule.newCount", "3"),
        (NCT, "protocolSection.designModule.newList[0]", "a"),
        (NCT, "protocolSection.designModule.newList[1].flag", "true"),
        (NCT, "protocolSection.newModule.note", "kept"),
    ]
    assert rows("studies", fragment, "study_type") == [("INTERVENTIONAL",)]


def test_a_fully_mapped_study_has_no_unmapped_values() -> None:
    fragment = study(
        designModule={"studyType": "OBSERVATIONAL", "phases": ["NA"]},
        armsInterventionsModule={"armGroups": [{"label": "A", "interventionNames": ["Drug: X"]}],
                                 "interventions": [{"type": "DRUG", "name": "X", "armGroupLabels": ["A"]}]},
    )
    assert rows("unmapped_values", fragment, "path") == []


def test_results_land_in_tables_not_json_and_a_new_results_field_is_not_dropped() -> None:
    results = {
        "participantFlowModule": {"groups": [{"id": "FG000", "title": "Aspirin", "description": "81 mg", "newNote": "n"}]},
        "baselineCharacteristicsModule": {"denoms": [{"units": "Participants", "counts": [{"groupId": "BG000", "value": "12"}]}]},
    }
    fragment = study(sections={"hasResults": True, "resultsSection": results})
    assert rows("record_sections", fragment, "section") == []
    assert rows("result_groups", fragment, "group_position", "result_part", "group_code", "title", "description") == [
        (1, "participant_flow", "FG000", "Aspirin", "81 mg"),
    ]
    assert rows("baseline_counts", fragment, "units", "group_code", "n_analyzed_raw", "n_analyzed") == [
        ("Participants", "BG000", "12", 12),
    ]
    assert rows("unmapped_values", fragment, "path", "value") == [
        ("resultsSection.participantFlowModule.groups[0].newNote", "n"),
    ]
    assert rows("studies", fragment, "has_results") == [(True,)]


def test_every_study_table_has_a_frame_even_when_empty() -> None:
    frames = normalize([study()])
    assert frames["studies"].height == 1
    assert {name for name, frame in frames.items() if frame.height == 0} >= {
        "arms", "interventions", "arm_interventions", "outcomes", "sites", "record_sections", "unmapped_values",
    }
