"""Results normalization: real records in (tests/fixtures/results/), exact rows out.

Upstream quirks pinned here: results nest four lists deep (measure > class > category >
measurement), with titles only on the outer levels and unnamed classes and categories; the
registry writes every count and estimate as text ("35", "<0.001", "NA", "0.05*"); a measure's
number analyzed sits on its class, else the measure, else the baseline's overall counts, in the
units it selected; results outcome measures repeat the registered outcomes' titles, with other
type codes (OTHER_PRE_SPECIFIED for other); adverse-event totals live on the groups, and the
per-term counts overlap (NCT00663260: 9 participants with a serious event in the placebo group,
10 by summing its terms); a value held once by a list's parent (documentSection's noSap,
annotationSection's unpostedResponsibleParty) belongs to each of the list's rows.
"""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest

from pipeline.tables import normalize as N

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "results"


def record(nct_id: str) -> dict:
    return json.loads((FIXTURES / f"{nct_id}.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def frames() -> dict[str, pl.DataFrame]:
    return N.normalize([record(n) for n in ("NCT04524598", "NCT00663260", "NCT03064438", "NCT05897242")])


def rows(frames: dict[str, pl.DataFrame], table: str, nct_id: str, *columns: str) -> list[tuple]:
    return frames[table].filter(pl.col("nct_id") == nct_id).select(columns).rows()


SPARK_I, PSYCHO_I, SPARK_II, PSYCHO_II, EXTENSION_II = "FG000", "FG001", "FG002", "FG003", "FG004"


# ---- participant flow: a study with three periods ---------------------------------------------

def test_milestones_of_three_periods(frames) -> None:
    got = rows(frames, "milestones", "NCT04524598", "period_position", "milestone_position", "achievement_position",
               "period_title", "milestone_type", "milestone_comment", "group_code", "n_subjects_raw", "n_subjects")
    assert len(got) == 50  # (3 + 4 + 3 milestones) x 5 groups
    assert got[:5] == [
        (1, 1, 1, "Phase I - Feasibility", "STARTED", None, SPARK_I, "35", 35),
        (1, 1, 2, "Phase I - Feasibility", "STARTED", None, PSYCHO_I, "25", 25),
        (1, 1, 3, "Phase I - Feasibility", "STARTED", None, SPARK_II, "0", 0),
        (1, 1, 4, "Phase I - Feasibility", "STARTED", None, PSYCHO_II, "0", 0),
        (1, 1, 5, "Phase I - Feasibility", "STARTED", None, EXTENSION_II, "0", 0),
    ]
    threshold = "Participants who met this threshold were included in the intention-to-treat analysis and the per protocol analyses."
    assert [r for r in got if r[0] == 2 and r[1] == 2] == [
        (2, 2, g, "Phase II - Outcomes", "Met PHQ-8 Threshold (Baseline >/= 10)", threshold, code, raw, n)
        for g, code, raw, n in [(1, SPARK_I, "0", 0), (2, PSYCHO_I, "0", 0), (3, SPARK_II, "63", 63), (4, PSYCHO_II, "58", 58),
                                (5, EXTENSION_II, "0", 0)]
    ]
    assert [(r[0], r[4], r[6], r[8]) for r in got if r[0] == 3 and r[6] == EXTENSION_II] == [
        (3, "STARTED", EXTENSION_II, 66), (3, "COMPLETED", EXTENSION_II, 54), (3, "NOT COMPLETED", EXTENSION_II, 12),
    ]


def test_drop_withdrawals_of_three_periods(frames) -> None:
    got = rows(frames, "drop_withdrawals", "NCT04524598", "period_position", "drop_withdraw_position", "reason_position",
               "period_title", "reason", "group_code", "n_subjects")
    assert len(got) == 35  # (2 + 3 + 2 reasons) x 5 groups
    assert [r for r in got if r[5] in (SPARK_II, PSYCHO_II) and r[0] == 2] == [
        (2, 1, 3, "Phase II - Outcomes", "Lost to Follow-up", SPARK_II, 16),
        (2, 1, 4, "Phase II - Outcomes", "Lost to Follow-up", PSYCHO_II, 8),
        (2, 2, 3, "Phase II - Outcomes", "Withdrawal by Subject", SPARK_II, 2),
        (2, 2, 4, "Phase II - Outcomes", "Withdrawal by Subject", PSYCHO_II, 0),
        (2, 3, 3, "Phase II - Outcomes", "Dropped for missing two consecutive weekly safety check-ins.", SPARK_II, 8),
        (2, 3, 4, "Phase II - Outcomes", "Dropped for missing two consecutive weekly safety check-ins.", PSYCHO_II, 5),
    ]


def test_participant_flows_and_result_groups(frames) -> None:
    assert rows(frames, "participant_flows", "NCT04524598", "recruitment_details", "pre_assignment_details", "units_analyzed") == [
        (None, None, None),
    ]
    groups = rows(frames, "result_groups", "NCT04524598", "group_position", "result_part", "outcome_measure_position", "group_code", "title")
    assert [(p, part) for _, part, p, _, _ in groups].count((None, "participant_flow")) == 5
    assert groups[9:13] == [
        (10, "baseline", None, "BG004", "Total"),
        (11, "outcome", 1, "OG000", "Number of Potentially Eligible Participants"),
        (12, "outcome", 2, "OG000", "Limbix Spark - Phase I"),
        (13, "outcome", 2, "OG001", "Psychoeducation - Phase I"),
    ]
    assert [g[0] for g in groups] == list(range(1, len(groups) + 1))
    assert rows(frames, "result_groups", "NCT00663260", "result_part", "group_code", "serious_subjects_affected", "serious_subjects_at_risk",
                "other_subjects_affected", "other_subjects_at_risk", "deaths_subjects_affected")[-3:] == [
        ("adverse_events", "EG000", 9, 84, 39, 84, None),
        ("adverse_events", "EG001", 7, 83, 45, 83, None),
        ("adverse_events", "EG002", 12, 85, 42, 85, None),
    ]


# ---- baseline: classes and categories, the number analyzed ------------------------------------

def test_baseline_measurements_carry_their_measure_class_and_category(frames) -> None:
    got = rows(frames, "baseline_measurements", "NCT04524598", "baseline_measure_position", "class_position", "category_position",
               "measurement_position", "measure_title", "param_type", "class_title", "category_title", "group_code", "value_raw",
               "value", "n_analyzed", "n_analyzed_units")
    sex = [r for r in got if r[0] == 3]
    assert len(sex) == 15  # one class, 3 categories, 5 groups
    measure = (3, 1)
    title, kind, gender = "Sex/Gender, Customized", "COUNT_OF_PARTICIPANTS", "Participant Reported Gender"
    analyzed = {"BG000": 35, "BG001": 25, "BG002": 63, "BG003": 58, "BG004": 181}  # baseline_counts
    assert sex == [
        (*measure, category, group, title, kind, gender, category_title, f"BG00{group - 1}", raw, float(raw),
         analyzed[f"BG00{group - 1}"], "Participants")
        for category, category_title, values in [
            (1, "Female", ["28", "19", "42", "39", "128"]), (2, "Male", ["6", "5", "16", "10", "37"]),
            (3, "Non-Binary", ["1", "1", "5", "9", "16"]),
        ]
        for group, raw in enumerate(values, 1)
    ]
    assert [r[6] for r in got if r[0] == 6][:1] == ["United States"]  # a named class with one unnamed category
    assert len(got) == 5 * (3 + 1 + 3 + 3 + 7 + 1)


def test_baseline_measures_and_counts(frames) -> None:
    assert rows(frames, "baseline_measures", "NCT03064438", "baseline_measure_position", "measure_title", "param_type", "dispersion_type",
                "unit_of_measure")[:2] == [
        (1, "Age, Continuous", "MEAN", "STANDARD_DEVIATION", "years"),
        (2, "Sex: Female, Male", "COUNT_OF_PARTICIPANTS", None, "Participants"),
    ]
    assert rows(frames, "baseline_counts", "NCT03064438", "denom_position", "count_position", "units", "group_code", "n_analyzed_raw",
                "n_analyzed") == [
        (1, 1, "Participants", "BG000", "27", 27), (1, 2, "Participants", "BG001", "13", 13), (1, 3, "Participants", "BG002", "40", 40),
    ]
    assert rows(frames, "baseline_measurements", "NCT03064438", "measure_title", "group_code", "value", "spread_raw", "spread")[:3] == [
        ("Age, Continuous", "BG000", 49.59, "11.537", 11.537),
        ("Age, Continuous", "BG001", 51.08, "12.473", 12.473),
        ("Age, Continuous", "BG002", 50.08, "11.708", 11.708),
    ]


def test_number_analyzed_comes_from_the_class_then_the_measure_then_the_baseline_in_the_selected_units() -> None:
    def measurement(group: str) -> dict:
        return {"groupId": group, "value": "1"}

    baseline = {
        "denoms": [{"units": "Participants", "counts": [{"groupId": "BG000", "value": "100"}, {"groupId": "BG001", "value": "90"}]},
                   {"units": "Eyes", "counts": [{"groupId": "BG000", "value": "200"}]}],
        "measures": [
            {"title": "Class counts", "classes": [
                {"title": "A", "denoms": [{"units": "Participants", "counts": [{"groupId": "BG000", "value": "40"}]}],
                 "categories": [{"measurements": [measurement("BG000"), measurement("BG001")]}]},
            ], "denoms": [{"units": "Participants", "counts": [{"groupId": "BG001", "value": "80"}]}]},
            {"title": "Eyes", "denomUnitsSelected": "Eyes", "classes": [{"categories": [{"measurements": [measurement("BG000"), measurement("BG001")]}]}]},
        ],
    }
    study = {"protocolSection": {"identificationModule": {"nctId": "NCT00000001"}},
             "resultsSection": {"baselineCharacteristicsModule": baseline}}
    assert N.normalize([study])["baseline_measurements"].select("measure_title", "group_code", "n_analyzed", "n_analyzed_units").rows() == [
        ("Class counts", "BG000", 40, "Participants"),   # the class's own count
        ("Class counts", "BG001", 80, "Participants"),   # the class has none for BG001: the measure's
        ("Eyes", "BG000", 200, "Eyes"),                  # the baseline's overall count, in the units selected
        ("Eyes", "BG001", None, "Eyes"),                 # no count of eyes for BG001 anywhere
    ]


# ---- outcome measures, measurements, analyses ---------------------------------------------------

def test_outcome_measures_link_to_the_registered_outcomes(frames) -> None:
    got = rows(frames, "outcome_measures", "NCT04524598", "outcome_measure_position", "outcome_type", "title", "reporting_status",
               "param_type", "unit_of_measure", "protocol_outcome_position")
    assert got[4:7] == [
        (5, "PRIMARY", "Phase II - Change in Depressive Symptoms", "POSTED", "MEAN", "score on a scale", 5),
        (6, "SECONDARY", "Phase I - Change in Depression Symptoms", "POSTED", "MEAN", "score on a scale", 6),
        (7, "SECONDARY", "Number of Participants in Remission", "POSTED", "COUNT_OF_PARTICIPANTS", "Participants", 7),
    ]
    assert [r[6] for r in got] == list(range(1, 13))


def test_protocol_outcome_match_folds_case_and_space_and_maps_other_pre_specified() -> None:
    study = {
        "protocolSection": {"identificationModule": {"nctId": "NCT00000001"}, "outcomesModule": {
            "primaryOutcomes": [{"measure": "HbA1c"}],
            "secondaryOutcomes": [{"measure": "Weight"}],
            "otherOutcomes": [{"measure": "Quality  of Life"}, {"measure": "Quality of life"}],
        }},
        "resultsSection": {"outcomeMeasuresModule": {"outcomeMeasures": [
            {"type": "SECONDARY", "title": "HbA1c"},               # a secondary result never matches a primary outcome
            {"type": "OTHER_PRE_SPECIFIED", "title": "quality of  life "},
            {"type": "POST_HOC", "title": "Weight"},
            {"type": "PRIMARY", "title": " hba1c"},
        ]}},
    }
    assert N.normalize([study])["outcome_measures"].select("outcome_type", "protocol_outcome_position").rows() == [
        ("SECONDARY", None), ("OTHER_PRE_SPECIFIED", 3), ("POST_HOC", None), ("PRIMARY", 1),
    ]


def test_outcome_measurements_with_classes_and_categories(frames) -> None:
    got = rows(frames, "outcome_measurements", "NCT04524598", "outcome_measure_position", "class_position", "category_position",
               "measurement_position", "outcome_type", "class_title", "category_title", "group_code", "value", "n_analyzed")
    assert [r for r in got if r[0] == 2] == [
        (2, 1, 1, 1, "PRIMARY", "% of eligible participants willing to participate", None, "OG000", 35.0, 35),
        (2, 1, 1, 2, "PRIMARY", "% of eligible participants willing to participate", None, "OG001", 25.0, 25),
        (2, 2, 1, 1, "PRIMARY", "% of enrolled participants completing all sessions by post-treatment", None, "OG000", 8.0, 35),
    ]
    assert [(r[6], r[7], r[8]) for r in got if r[0] == 11] == [
        ("Adverse Events", "OG000", 4.0), ("Adverse Events", "OG001", 2.0),
        ("Serious Adverse Events", "OG000", 0.0), ("Serious Adverse Events", "OG001", 0.0),
        ("Adverse Device Effects", "OG000", 0.0), ("Adverse Device Effects", "OG001", 0.0),
        ("Unanticipated Adverse Device Effects", "OG000", 0.0), ("Unanticipated Adverse Device Effects", "OG001", 0.0),
        ("None", "OG000", 76.0), ("None", "OG001", 78.0),
    ]
    assert rows(frames, "outcome_class_counts", "NCT04524598", "outcome_measure_position", "class_position", "class_title", "group_code",
                "n_analyzed")[-2:] == [
        (2, 2, "% of enrolled participants completing all sessions by post-treatment", "OG000", 35),
        (2, 2, "% of enrolled participants completing all sessions by post-treatment", "OG001", 0),
    ]
    assert [n for _, n in sorted(frames["outcome_counts"].filter(pl.col("nct_id") == "NCT04524598").group_by("outcome_measure_position").len().rows())] == [
        1, 2, 2, 2, 2, 2, 4, 4, 4, 4, 2, 2,
    ]


def test_outcome_analyses(frames) -> None:
    assert rows(frames, "outcome_analyses", "NCT00663260", "outcome_measure_position", "analysis_position", "outcome_type", "group_codes",
                "is_non_inferiority_tested", "non_inferiority_type", "p_value_raw", "p_value", "p_value_modifier", "statistical_method",
                "param_type", "param_value", "ci_pct", "ci_n_sides", "ci_lower_limit", "ci_upper_limit", "dispersion_type",
                "dispersion_value")[:2] == [
        (1, 1, "PRIMARY", ["OG000", "OG001"], False, "SUPERIORITY_OR_OTHER", "0.561", 0.561, None, "ANCOVA",
         "Mean Difference (Final Values)", -0.08, 95.0, "TWO_SIDED", -0.37, 0.2, "STANDARD_ERROR_OF_MEAN", 0.1448),
        (1, 2, "PRIMARY", ["OG000", "OG002"], False, "SUPERIORITY_OR_OTHER", "0.435", 0.435, None, "ANCOVA",
         "Mean Difference (Final Values)", -0.11, 95.0, "TWO_SIDED", -0.4, 0.17, "STANDARD_ERROR_OF_MEAN", 0.1457),
    ]
    assert rows(frames, "outcome_analyses", "NCT04524598", "outcome_measure_position", "p_value", "param_type", "param_value")[:2] == [
        (5, 0.06, "t", -1.911), (5, 0.01, "t", -2.546),
    ]


# ---- numbers written as text --------------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "number", "bound", "modifier", "whole"),
    [
        ("12", 12.0, 12.0, None, 12),
        (" 7.50 ", 7.5, 7.5, None, None),
        ("NA", None, None, None, None),
        ("N/A", None, None, None, None),
        ("<0.001", None, 0.001, "<", None),
        ("< .001", None, 0.001, "<", None),
        ("≤ 0.05", None, 0.05, "<=", None),
        ("=< 0.05", None, 0.05, "<=", None),
        ("> = 5", None, 5.0, ">=", None),
        (">99", None, 99.0, ">", None),
        ("0.05*", 0.05, 0.05, None, None),
        ("p = 0.03", 0.03, 0.03, None, None),
        ("P<0.0001", None, 0.0001, "<", None),
        ("1,234", 1234.0, 1234.0, None, 1234),
        ("12,345.6", 12345.6, 12345.6, None, None),
        ("0,05", 0.05, 0.05, None, None),
        ("1.5 x 10^-8", 1.5e-8, 1.5e-8, None, None),
        ("3.2E-05", 3.2e-5, 3.2e-5, None, None),
        ("−2.5", -2.5, -2.5, None, None),
        ("nan", None, None, None, None),
        ("inf", None, None, None, None),
        ("12-15", None, None, None, None),
        ("", None, None, None, None),
        (None, None, None, None, None),
        ("2147483648", 2147483648.0, 2147483648.0, None, None),  # too big for an INTEGER
    ],
)
def test_numbers_written_as_text(text, number, bound, modifier, whole) -> None:
    measure = {"title": "M", "classes": [{"categories": [{"measurements": [{"groupId": "OG000", "value": text, "spread": text}]}]}],
               "analyses": [{"pValue": text}], "denoms": [{"units": "Participants", "counts": [{"groupId": "OG000", "value": text}]}]}
    study = {"protocolSection": {"identificationModule": {"nctId": "NCT00000001"}},
             "resultsSection": {"outcomeMeasuresModule": {"outcomeMeasures": [measure]}}}
    frames = N.normalize([study])
    assert frames["outcome_analyses"].select("p_value_raw", "p_value", "p_value_modifier").rows() == [(text, bound, modifier)]
    assert frames["outcome_measurements"].select("value", "value_modifier", "spread").rows() == [(bound, modifier, number)]
    assert frames["outcome_counts"].select("n_analyzed_raw", "n_analyzed").rows() == [(text, whole)]


def test_a_batch_of_odd_numbers_never_fails_and_keeps_the_text() -> None:
    texts = ["1", "<0.001", "NA", "x", "1e999", "--", "0.5**", "≥", "1,2,3", "٣"]
    measurements = [{"groupId": f"OG{i:03d}", "value": t} for i, t in enumerate(texts)]
    study = {"protocolSection": {"identificationModule": {"nctId": "NCT00000001"}}, "resultsSection": {"outcomeMeasuresModule": {
        "outcomeMeasures": [{"classes": [{"categories": [{"measurements": measurements}]}]}]}}}
    assert N.normalize([study])["outcome_measurements"].select("value_raw", "value", "value_modifier").rows() == [
        ("1", 1.0, None), ("<0.001", 0.001, "<"), ("NA", None, None), ("x", None, None), ("1e999", None, None),
        ("--", None, None), ("0.5**", 0.5, None), ("≥", None, None), ("1,2,3", None, None), ("٣", None, None),
    ]


# ---- adverse events: the totals are the groups' ---------------------------------------------------

def test_serious_event_totals_come_from_the_groups_not_the_terms(frames) -> None:
    totals = rows(frames, "reported_event_totals", "NCT00663260", "event_group_position", "group_code", "group_title", "classification",
                  "subjects_affected", "subjects_at_risk")
    assert totals == [
        (1, "EG000", "Placebo", "all_cause_mortality", None, None),
        (2, "EG001", "Dapagliflozin 5 mg", "all_cause_mortality", None, None),
        (3, "EG002", "Dapagliflozin 10 mg", "all_cause_mortality", None, None),
        (1, "EG000", "Placebo", "serious", 9, 84),
        (2, "EG001", "Dapagliflozin 5 mg", "serious", 7, 83),
        (3, "EG002", "Dapagliflozin 10 mg", "serious", 12, 85),
        (1, "EG000", "Placebo", "other", 39, 84),
        (2, "EG001", "Dapagliflozin 5 mg", "other", 45, 83),
        (3, "EG002", "Dapagliflozin 10 mg", "other", 42, 85),
    ]
    summed = (
        frames["reported_events"].filter((pl.col("nct_id") == "NCT00663260") & (pl.col("event_type") == "serious"))
        .group_by("group_code").agg(pl.col("subjects_affected").sum()).sort("group_code").rows()
    )
    assert summed == [("EG000", 10), ("EG001", 7), ("EG002", 13)]  # one placebo participant had two serious events


def test_reported_events(frames) -> None:
    got = rows(frames, "reported_events", "NCT00663260", "event_type", "event_position", "stat_position", "organ_system",
               "adverse_event_term", "source_vocabulary", "assessment_type", "group_code", "subjects_affected", "subjects_at_risk", "n_events")
    assert len(got) == 3 * (28 + 15)
    assert got[18:21] == [
        ("serious", 7, 1, "Cardiac disorders", "ACUTE MYOCARDIAL INFARCTION", "MedDRA Version: 13.0", "SYSTEMATIC_ASSESSMENT", "EG000", 2, 84, 2),
        ("serious", 7, 2, "Cardiac disorders", "ACUTE MYOCARDIAL INFARCTION", "MedDRA Version: 13.0", "SYSTEMATIC_ASSESSMENT", "EG001", 0, 83, 0),
        ("serious", 7, 3, "Cardiac disorders", "ACUTE MYOCARDIAL INFARCTION", "MedDRA Version: 13.0", "SYSTEMATIC_ASSESSMENT", "EG002", 0, 85, 0),
    ]
    assert got[84][:3] == ("other", 1, 1)
    assert rows(frames, "result_details", "NCT00663260", "adverse_events_frequency_threshold_raw", "adverse_events_frequency_threshold") == [
        ("5", 5.0),
    ]


# ---- more information, documents, annotations -----------------------------------------------------

def test_agreements_contacts_and_details(frames) -> None:
    assert rows(frames, "result_agreements", "NCT03064438", "is_pi_sponsor_employee", "has_restrictive_agreement", "restriction_type") == [
        (False, False, None),
    ]
    assert rows(frames, "result_contacts", "NCT03064438", "name_or_title", "organization", "email", "phone", "phone_ext") == [
        ("Chief Science Officer", "Accuitis, Inc.", "info@accuitis.com", "678-812-1492", None),
    ]
    assert rows(frames, "result_details", "NCT03064438", "baseline_population_description") == [
        ("The modified intention-to-treat (MITT) population included all randomized participants who were dispensed study "
         "medication and provided any post-baseline efficacy data.",),
    ]


def test_provided_documents(frames) -> None:
    assert rows(frames, "provided_documents", "NCT03064438", "document_position", "document_type", "label", "has_protocol", "has_sap",
                "has_icf", "has_no_sap", "document_date", "document_date_precision", "uploaded_at", "file_name", "size_bytes") == [
        (1, "Prot", "Study Protocol", True, False, False, None, dt.date(2017, 8, 5), "day", dt.datetime(2021, 8, 13, 11, 54), "Prot_000.pdf", 642802),
        (2, "SAP", "Statistical Analysis Plan", False, True, False, None, dt.date(2018, 5, 11), "day", dt.datetime(2021, 8, 13, 11, 56), "SAP_001.pdf", 7296067),
    ]


def test_a_value_the_lists_parent_holds_once_is_on_each_row() -> None:
    study = {"protocolSection": {"identificationModule": {"nctId": "NCT00000001"}}, "documentSection": {"largeDocumentModule": {
        "noSap": True, "largeDocs": [{"typeAbbrev": "Prot", "filename": "Prot_000.pdf"}, None, {"typeAbbrev": "ICF"}]}}}
    assert N.normalize([study])["provided_documents"].select("document_position", "document_type", "has_no_sap").rows() == [
        (1, "Prot", True), (3, "ICF", True),  # a null element is no row, but it counts in the positions
    ]


def test_pending_results_and_violations(frames) -> None:
    party = "Jaimee Heffner, Associate Professor, Fred Hutchinson Cancer Center"
    assert rows(frames, "pending_results", "NCT05897242", "event_position", "event_type", "event_date_raw", "event_date", "responsible_party") == [
        (1, "RELEASE", "2025-04-22", dt.date(2025, 4, 22), party),
        (2, "RESET", "2025-05-06", dt.date(2025, 5, 6), party),
    ]
    assert rows(frames, "violation_events", "NCT03064438", "event_position", "event_type", "creation_date", "issued_date", "release_date",
                "posted_date") == [
        (1, "CORRECTION_CONFIRMED", dt.date(2022, 6, 6), dt.date(2022, 5, 26), dt.date(2021, 8, 17), dt.date(2022, 6, 7)),
        (2, "VIOLATION_IDENTIFIED", dt.date(2021, 7, 28), dt.date(2021, 7, 26), dt.date(2018, 4, 12), dt.date(2021, 7, 29)),
    ]


def test_every_results_leaf_of_the_fixtures_is_mapped(frames) -> None:
    assert frames["unmapped_values"].rows() == []
    assert frames["record_sections"].filter(pl.col("section").str.starts_with("results")).height == 0
