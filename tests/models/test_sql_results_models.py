"""The results models, literal rows in, exact rows out.

Upstream quirks pinned here: an adverse-event group's totals differ from its terms summed
(participants with several events); older records lack the FDA-regulation flags (added in
January 2017), so the FDAAA TrialsTracker decides them by intervention type and US sites;
results count as reported when first submitted, though they are posted months later, and
submissions still in quality control show only as pending-results events; a trial with a
certificate of delay is due only three years after completion.
"""
from __future__ import annotations

from datetime import date, timedelta

import duckdb
import pytest

TODAY = duckdb.sql("select current_date").fetchall()[0][0]


def study(nct_id: str, **fields) -> dict:
    """An interventional phase 3 study of an FDA-regulated drug, started after the Final Rule, unless told otherwise."""
    return {
        "nct_id": nct_id, "lead_sponsor_name": "Acme", "lead_sponsor_class": "INDUSTRY", "overall_status": "COMPLETED",
        "study_type": "INTERVENTIONAL", "phases": ["PHASE3"], "primary_purpose": "TREATMENT", "is_fda_regulated_drug": True,
        "is_fda_regulated_device": False, "start_date": date(2018, 1, 1), **fields,
    }


def older(nct_id: str, **fields) -> dict:
    """A record from before the FDA flags: started before 18 January 2017, no flags."""
    return study(nct_id, **{"start_date": date(2015, 1, 1), "is_fda_regulated_drug": None, "is_fda_regulated_device": None, **fields})


STUDIES = [
    study("NCT01", primary_completion_date=date(2019, 1, 31), results_first_submit_date=date(2019, 12, 15),
          results_first_post_date=date(2020, 3, 1)),  # submitted on time, posted late: on time
    study("NCT02", overall_status="TERMINATED", phases=["NA"], is_fda_regulated_drug=False, is_fda_regulated_device=True,
          primary_completion_date=date(2019, 6, 30)),  # terminated device trial, nothing submitted: overdue
    study("NCT03", phases=["PHASE1"], primary_completion_date=date(2019, 1, 31)),  # phase 1: not covered
    study("NCT04", phases=["EARLY_PHASE1"], primary_completion_date=date(2019, 1, 31)),
    study("NCT05", phases=["PHASE1", "PHASE2"], lead_sponsor_class="OTHER", primary_completion_date=date(2019, 3, 31),
          results_first_submit_date=date(2020, 4, 10)),  # phase 1/2 is covered; 10 days late
    study("NCT06", overall_status="WITHDRAWN", primary_completion_date=date(2019, 1, 31)),
    study("NCT07", study_type="OBSERVATIONAL", phases=None, primary_completion_date=date(2019, 1, 31)),
    study("NCT08", primary_purpose="DEVICE_FEASIBILITY", primary_completion_date=date(2019, 1, 31)),
    study("NCT09", is_fda_regulated_drug=False, primary_completion_date=date(2019, 1, 31)),  # flags say not regulated
    older("NCT10", primary_completion_date=date(2017, 6, 30)),  # pACT: drug, US site; submitted while in QC (pending)
    older("NCT11", primary_completion_date=date(2017, 6, 30)),  # no US site: not covered
    older("NCT12", primary_completion_date=date(2017, 6, 30)),  # behavioral only: not covered
    older("NCT13", start_date=date(2010, 5, 1), is_fda_regulated_device=True, primary_completion_date=None,
          completion_date=date(2017, 3, 31), disp_first_submit_date=date(2018, 1, 15)),  # certificate, long past: overdue
    older("NCT14", primary_completion_date=date(2016, 12, 31)),  # completed before the Final Rule
    study("NCT15", start_date=date(2024, 1, 1), primary_completion_date=date(2098, 12, 31)),  # not due yet
    study("NCT16", primary_completion_date=TODAY - timedelta(days=500), disp_first_submit_date=TODAY - timedelta(days=600)),
]
ROWS = {
    "studies": STUDIES,
    "interventions": [
        {"nct_id": nct_id, "intervention_position": 1, "intervention_type": kind}
        for nct_id, kind in (("NCT10", "DRUG"), ("NCT11", "DRUG"), ("NCT12", "BEHAVIORAL"), ("NCT13", "DEVICE"), ("NCT14", "DRUG"))
    ],
    "sites": [
        {"nct_id": nct_id, "site_position": 1, "country": country}
        for nct_id, country in (("NCT10", "United States"), ("NCT11", "Canada"), ("NCT12", "United States"),
                                ("NCT13", "Puerto Rico"), ("NCT14", "United States"))
    ],
    "pending_results": [
        {"nct_id": "NCT10", "event_position": 1, "event_type": "RELEASE", "event_date": date(2018, 5, 1)},
        {"nct_id": "NCT10", "event_position": 2, "event_type": "RESET", "event_date": date(2018, 5, 20)},
        {"nct_id": "NCT10", "event_position": 3, "event_type": "RELEASE", "event_date": date(2018, 7, 2)},
    ],
}


def plus_12_months(day: date) -> date:
    return duckdb.sql(f"select (date '{day}' + interval 12 month)::date").fetchall()[0][0]


def reporting(nct_id, kind, start, completion, primary, due, certificate, submitted, posted, is_due, reported, on_time, overdue, late):
    source = next(s for s in STUDIES if s["nct_id"] == nct_id)
    return {
        "nct_id": nct_id, "lead_sponsor_name": "Acme", "lead_sponsor_class": source["lead_sponsor_class"],
        "overall_status": source["overall_status"], "act_kind": kind, "start_date": start, "counted_completion_date": completion,
        "is_primary_completion_counted": primary, "results_due_date": due, "has_certificate": certificate,
        "results_submit_date": submitted, "results_first_post_date": posted, "is_due": is_due, "is_reported": reported,
        "is_reported_on_time": on_time, "is_overdue": overdue, "days_late": late,
    }


def test_results_reporting_studies_follow_the_trialstracker_rule(model_rows):
    nct16_completion = TODAY - timedelta(days=500)
    assert model_rows("results_reporting_studies", ROWS) == [
        reporting("NCT01", "ACT", date(2018, 1, 1), date(2019, 1, 31), True, date(2020, 1, 31), False, date(2019, 12, 15),
                  date(2020, 3, 1), True, True, True, False, 0),
        reporting("NCT02", "ACT", date(2018, 1, 1), date(2019, 6, 30), True, date(2020, 6, 30), False, None, None,
                  True, False, False, True, (TODAY - date(2020, 6, 30)).days),
        reporting("NCT05", "ACT", date(2018, 1, 1), date(2019, 3, 31), True, date(2020, 3, 31), False, date(2020, 4, 10), None,
                  True, True, False, False, 10),
        reporting("NCT10", "pACT", date(2015, 1, 1), date(2017, 6, 30), True, date(2018, 6, 30), False, date(2018, 5, 1), None,
                  True, True, True, False, 0),
        reporting("NCT13", "pACT", date(2010, 5, 1), date(2017, 3, 31), False, date(2018, 3, 31), True, None, None,
                  True, False, False, True, (TODAY - date(2018, 3, 31)).days),
        reporting("NCT15", "ACT", date(2024, 1, 1), date(2098, 12, 31), True, date(2099, 12, 31), False, None, None,
                  False, False, False, False, None),
        # With a certificate, not due until 3 years and 30 days after completion, though 12 months have passed.
        reporting("NCT16", "ACT", date(2018, 1, 1), nct16_completion, True, plus_12_months(nct16_completion),
                  True, None, None, False, False, False, False, None),
    ]


def test_results_reporting_counts_by_sponsor_class_and_due_year(model_rows):
    got = [r for r in model_rows("results_reporting", ROWS) if r["due_year"] < 2024]
    assert got == [
        {"lead_sponsor_class": "INDUSTRY", "due_year": 2018, "n_covered_trials": 2, "n_due": 2, "n_reported": 1,
         "n_reported_on_time": 1, "n_overdue": 1, "share_reported": 0.5, "median_days_late": float((TODAY - date(2018, 3, 31)).days)},
        {"lead_sponsor_class": "INDUSTRY", "due_year": 2020, "n_covered_trials": 2, "n_due": 2, "n_reported": 1,
         "n_reported_on_time": 1, "n_overdue": 1, "share_reported": 0.5, "median_days_late": float((TODAY - date(2020, 6, 30)).days)},
        {"lead_sponsor_class": "OTHER", "due_year": 2020, "n_covered_trials": 1, "n_due": 1, "n_reported": 1,
         "n_reported_on_time": 0, "n_overdue": 0, "share_reported": 1.0, "median_days_late": 10.0},
    ]


def test_adverse_event_rates_use_the_groups_totals(model_rows):
    def total(position, code, classification, affected, at_risk):
        return {"nct_id": "NCT01", "event_group_position": position, "group_code": code, "group_title": f"Arm {code}",
                "classification": classification, "subjects_affected": affected, "subjects_at_risk": at_risk}

    rows = {
        "reported_event_totals": [
            total(1, "EG000", "all_cause_mortality", None, None),  # not reported: left out
            total(1, "EG000", "serious", 9, 84),
            total(1, "EG000", "other", 39, 84),
            total(2, "EG001", "all_cause_mortality", 0, 0),  # nobody at risk: no rate
            total(2, "EG001", "serious", 7, 83),
        ],
        # The terms of EG000 add up to 10 participants with a serious event: the model never reads them.
        "reported_events": [
            {"nct_id": "NCT01", "event_type": "serious", "event_position": p, "stat_position": 1, "group_code": "EG000",
             "subjects_affected": n, "subjects_at_risk": 84} for p, n in ((1, 2), (2, 8))
        ],
        "result_groups": [
            {"nct_id": "NCT01", "group_position": 1, "result_part": "participant_flow", "group_code": "EG000", "description": "not this one"},
            {"nct_id": "NCT01", "group_position": 2, "result_part": "adverse_events", "group_code": "EG000", "description": "Placebo daily"},
            {"nct_id": "NCT01", "group_position": 3, "result_part": "adverse_events", "group_code": "EG001", "description": "Drug daily"},
        ],
    }

    def rate(position, code, description, classification, affected, at_risk, value):
        return {"nct_id": "NCT01", "event_group_position": position, "group_code": code, "group_title": f"Arm {code}",
                "group_description": description, "classification": classification, "subjects_affected": affected,
                "subjects_at_risk": at_risk, "affected_rate": value}

    assert model_rows("adverse_event_rates", rows) == [
        rate(1, "EG000", "Placebo daily", "serious", 9, 84, pytest.approx(9 / 84)),
        rate(1, "EG000", "Placebo daily", "other", 39, 84, pytest.approx(39 / 84)),
        rate(2, "EG001", "Drug daily", "all_cause_mortality", 0, 0, None),
        rate(2, "EG001", "Drug daily", "serious", 7, 83, pytest.approx(7 / 83)),
    ]
