"""Given literal warehouse rows, each SQL model returns exactly these rows (every column, in order)."""
from __future__ import annotations

from datetime import date, datetime

STATUS_COUNTS = (
    "n_recruiting", "n_not_yet_recruiting", "n_active_not_recruiting", "n_enrolling_by_invitation",
    "n_completed", "n_suspended", "n_terminated", "n_withdrawn", "n_unknown_status", "n_other_status",
)
PHASE_COUNTS = ("n_early_phase1", "n_phase1", "n_phase2", "n_phase3", "n_phase4", "n_phase_na", "n_no_phase")


def status_phase_counts(**nonzero: int) -> dict[str, int]:
    """Every by-status and by-phase count: the ones given, 0 for the rest."""
    assert set(nonzero) <= set(STATUS_COUNTS + PHASE_COUNTS), set(nonzero) - set(STATUS_COUNTS + PHASE_COUNTS)
    return {column: nonzero.get(column, 0) for column in STATUS_COUNTS + PHASE_COUNTS}


def test_study_overview(model_rows):
    rows = {
        "studies": [
            {"nct_id": "NCT00000002", "brief_title": "Bare study"},
            {
                "nct_id": "NCT00000001", "brief_title": "Full study", "overall_status": "COMPLETED",
                "study_type": "INTERVENTIONAL", "phases": ["PHASE1", "PHASE2"], "phase_label": "Phase 1/Phase 2",
                "enrollment": 120, "enrollment_type": "ACTUAL", "start_date": date(2020, 1, 15),
                "primary_completion_date": date(2021, 3, 31), "completion_date": date(2021, 7, 15),
                "has_results": True, "lead_sponsor_name": "Not read from here",
            },
        ],
        "sponsors": [
            {"nct_id": "NCT00000001", "sponsor_position": 1, "sponsor_role": "lead", "sponsor_name": "Acme", "agency_class": "INDUSTRY"},
            {"nct_id": "NCT00000001", "sponsor_position": 2, "sponsor_role": "collaborator", "sponsor_name": "NCI", "agency_class": "NIH"},
        ],
        "conditions": [
            {"nct_id": "NCT00000001", "condition_position": 2, "condition": "Asthma"},
            {"nct_id": "NCT00000001", "condition_position": 1, "condition": "COPD"},
        ],
        "arms": [{"nct_id": "NCT00000001", "arm_position": p} for p in (1, 2)],
        "interventions": [{"nct_id": "NCT00000001", "intervention_position": p} for p in (1, 2, 3)],
        "outcomes": [
            {"nct_id": "NCT00000001", "outcome_position": 1, "outcome_kind": "primary"},
            {"nct_id": "NCT00000001", "outcome_position": 2, "outcome_kind": "secondary"},
            {"nct_id": "NCT00000001", "outcome_position": 3, "outcome_kind": "secondary"},
            {"nct_id": "NCT00000001", "outcome_position": 4, "outcome_kind": "other"},
        ],
        "sites": [
            {"nct_id": "NCT00000001", "site_position": 1, "country": "United States", "site_status": "RECRUITING"},
            {"nct_id": "NCT00000001", "site_position": 2, "country": "United States", "site_status": "COMPLETED"},
            {"nct_id": "NCT00000001", "site_position": 3, "country": "Canada"},
            {"nct_id": "NCT00000001", "site_position": 4},
        ],
    }
    assert model_rows("study_overview", rows) == [
        {
            "nct_id": "NCT00000001", "brief_title": "Full study", "overall_status": "COMPLETED",
            "study_type": "INTERVENTIONAL", "phase_label": "Phase 1/Phase 2", "phases": ["PHASE1", "PHASE2"],
            "enrollment": 120, "enrollment_type": "ACTUAL", "start_date": date(2020, 1, 15),
            "primary_completion_date": date(2021, 3, 31), "completion_date": date(2021, 7, 15),
            "duration_months": 18.0,  # 547 days / 30.4375 = 17.97
            "has_results": True, "lead_sponsor_name": "Acme", "lead_sponsor_class": "INDUSTRY",
            "conditions": ["COPD", "Asthma"], "n_conditions": 2,
            "n_arms": 2, "n_interventions": 3,
            "n_primary_outcomes": 1, "n_secondary_outcomes": 2, "n_other_outcomes": 1, "n_outcomes": 4,
            "n_sites": 4, "n_recruiting_sites": 1, "n_countries": 2,
        },
        {
            "nct_id": "NCT00000002", "brief_title": "Bare study", "overall_status": None,
            "study_type": None, "phase_label": None, "phases": None,
            "enrollment": None, "enrollment_type": None, "start_date": None,
            "primary_completion_date": None, "completion_date": None, "duration_months": None,
            "has_results": None, "lead_sponsor_name": None, "lead_sponsor_class": None,
            "conditions": [], "n_conditions": 0,
            "n_arms": 0, "n_interventions": 0,
            "n_primary_outcomes": 0, "n_secondary_outcomes": 0, "n_other_outcomes": 0, "n_outcomes": 0,
            "n_sites": 0, "n_recruiting_sites": 0, "n_countries": 0,
        },
    ]


def test_study_status_phase_counts(model_rows):
    rows = {
        "studies": [
            {"nct_id": "NCT00000003", "overall_status": "AVAILABLE", "phases": []},
            {"nct_id": "NCT00000001", "overall_status": "RECRUITING", "phases": ["PHASE1", "PHASE2"]},
            {"nct_id": "NCT00000002", "overall_status": None, "phases": None},
            {"nct_id": "NCT00000004", "overall_status": "UNKNOWN", "phases": ["NA"]},
        ],
    }
    assert model_rows("study_status_phase_counts", rows) == [
        {"nct_id": "NCT00000001", **status_phase_counts(n_recruiting=1, n_phase1=1, n_phase2=1)},
        {"nct_id": "NCT00000002", **status_phase_counts(n_other_status=1, n_no_phase=1)},
        {"nct_id": "NCT00000003", **status_phase_counts(n_other_status=1, n_no_phase=1)},
        {"nct_id": "NCT00000004", **status_phase_counts(n_unknown_status=1, n_phase_na=1)},
    ]


def test_condition_summary(model_rows):
    rows = {
        "studies": [
            {"nct_id": "NCT1", "overall_status": "RECRUITING", "phases": ["PHASE1", "PHASE2"], "enrollment": 10},
            {"nct_id": "NCT2", "overall_status": "COMPLETED", "phases": ["PHASE3"], "enrollment": 30},
            {"nct_id": "NCT3", "overall_status": "AVAILABLE", "phases": None, "enrollment": None},
            {"nct_id": "NCT4", "overall_status": "UNKNOWN", "phases": ["NA"], "enrollment": 20},
        ],
        "condition_mesh_terms": [
            # NCT1 maps two of its conditions to the same term: it still counts once.
            {"nct_id": "NCT1", "mesh_position": 1, "relation": "direct", "mesh_id": "D001249", "mesh_term": "Asthma"},
            {"nct_id": "NCT1", "mesh_position": 2, "relation": "direct", "mesh_id": "D001249", "mesh_term": "Asthma"},
            {"nct_id": "NCT1", "mesh_position": 3, "relation": "ancestor", "mesh_id": "D008171", "mesh_term": "Lung Diseases"},
            {"nct_id": "NCT2", "mesh_position": 1, "relation": "direct", "mesh_id": "D001249", "mesh_term": "Asthma"},
            {"nct_id": "NCT2", "mesh_position": 2, "relation": "ancestor", "mesh_id": "D008171", "mesh_term": "Lung Diseases"},
            {"nct_id": "NCT3", "mesh_position": 1, "relation": "direct", "mesh_id": "D001249", "mesh_term": "Asthma"},
            {"nct_id": "NCT4", "mesh_position": 1, "relation": "direct", "mesh_id": "D006973", "mesh_term": "Hypertension"},
        ],
        "sites": [
            {"nct_id": "NCT1", "site_position": 1, "site_status": "RECRUITING"},
            {"nct_id": "NCT1", "site_position": 2, "site_status": "NOT_YET_RECRUITING"},
            {"nct_id": "NCT2", "site_position": 1, "site_status": "COMPLETED"},
            {"nct_id": "NCT4", "site_position": 1, "site_status": "RECRUITING"},
        ],
    }
    assert model_rows("condition_summary", rows) == [
        {
            "mesh_term": "Asthma", "n_studies": 3,
            **status_phase_counts(n_recruiting=1, n_completed=1, n_other_status=1, n_phase1=1, n_phase2=1, n_phase3=1, n_no_phase=1),
            "total_enrollment": 40, "median_enrollment": 20.0, "n_sites": 3, "n_recruiting_sites": 1,
        },
        {
            "mesh_term": "Hypertension", "n_studies": 1,
            **status_phase_counts(n_unknown_status=1, n_phase_na=1),
            "total_enrollment": 20, "median_enrollment": 20.0, "n_sites": 1, "n_recruiting_sites": 1,
        },
    ]


def test_sponsor_summary(model_rows):
    rows = {
        "studies": [
            {"nct_id": "NCT1", "overall_status": "COMPLETED", "phases": ["PHASE2"], "enrollment": 10},
            {"nct_id": "NCT2", "overall_status": "RECRUITING", "phases": ["PHASE2", "PHASE3"], "enrollment": 30},
            {"nct_id": "NCT3", "overall_status": "COMPLETED", "phases": None, "enrollment": None},
            {"nct_id": "NCT4", "overall_status": "WITHDRAWN", "phases": ["EARLY_PHASE1"], "enrollment": 0},
        ],
        "sponsors": [
            {"nct_id": "NCT1", "sponsor_position": 1, "sponsor_role": "lead", "sponsor_name": "Acme", "agency_class": "INDUSTRY"},
            {"nct_id": "NCT1", "sponsor_position": 2, "sponsor_role": "collaborator", "sponsor_name": "Uni", "agency_class": "OTHER"},
            {"nct_id": "NCT2", "sponsor_position": 1, "sponsor_role": "lead", "sponsor_name": "Acme", "agency_class": "INDUSTRY"},
            # Same name, other class: a sponsor of its own.
            {"nct_id": "NCT3", "sponsor_position": 1, "sponsor_role": "lead", "sponsor_name": "Acme", "agency_class": "OTHER"},
            {"nct_id": "NCT4", "sponsor_position": 1, "sponsor_role": "lead", "sponsor_name": "Uni", "agency_class": "OTHER"},
        ],
    }
    assert model_rows("sponsor_summary", rows) == [
        {
            "sponsor_name": "Acme", "agency_class": "INDUSTRY", "n_studies": 2,
            **status_phase_counts(n_recruiting=1, n_completed=1, n_phase2=2, n_phase3=1),
            "completed_share": 0.5, "median_enrollment": 20.0, "total_enrollment": 40,
        },
        {
            "sponsor_name": "Acme", "agency_class": "OTHER", "n_studies": 1,
            **status_phase_counts(n_completed=1, n_no_phase=1),
            "completed_share": 1.0, "median_enrollment": None, "total_enrollment": 0,
        },
        {
            "sponsor_name": "Uni", "agency_class": "OTHER", "n_studies": 1,
            **status_phase_counts(n_withdrawn=1, n_early_phase1=1),
            "completed_share": 0.0, "median_enrollment": 0.0, "total_enrollment": 0,
        },
    ]


def test_country_summary(model_rows):
    rows = {
        "sites": [
            {"nct_id": "NCT1", "site_position": 1, "country": "United States", "site_status": "RECRUITING"},
            {"nct_id": "NCT1", "site_position": 2, "country": "United States", "site_status": "COMPLETED"},
            {"nct_id": "NCT1", "site_position": 3, "country": "France", "site_status": "RECRUITING"},
            {"nct_id": "NCT2", "site_position": 1, "country": "United States"},
            {"nct_id": "NCT3", "site_position": 1, "country": None, "site_status": "RECRUITING"},
            {"nct_id": "NCT3", "site_position": 2, "country": "Germany", "site_status": "WITHDRAWN"},
        ],
    }
    assert model_rows("country_summary", rows) == [
        {"country": "United States", "n_studies": 2, "n_sites": 3, "n_recruiting_sites": 1},
        {"country": "France", "n_studies": 1, "n_sites": 1, "n_recruiting_sites": 1},
        {"country": "Germany", "n_studies": 1, "n_sites": 1, "n_recruiting_sites": 0},
    ]


def test_phase_status_summary(model_rows):
    rows = {
        "studies": [
            {"nct_id": "NCT1", "phase_label": "Phase 1", "overall_status": "RECRUITING", "enrollment": 10},
            {"nct_id": "NCT2", "phase_label": "Phase 1", "overall_status": "RECRUITING", "enrollment": 30},
            {"nct_id": "NCT3", "phase_label": "Phase 1", "overall_status": "COMPLETED", "enrollment": None},
            {"nct_id": "NCT4", "phase_label": None, "overall_status": "COMPLETED", "enrollment": 5},
            {"nct_id": "NCT5", "phase_label": None, "overall_status": None, "enrollment": 7},
        ],
    }
    assert model_rows("phase_status_summary", rows) == [
        {"phase_label": "No phase", "overall_status": "COMPLETED", "n_studies": 1, "total_enrollment": 5, "median_enrollment": 5.0},
        {"phase_label": "No phase", "overall_status": None, "n_studies": 1, "total_enrollment": 7, "median_enrollment": 7.0},
        {"phase_label": "Phase 1", "overall_status": "COMPLETED", "n_studies": 1, "total_enrollment": 0, "median_enrollment": None},
        {"phase_label": "Phase 1", "overall_status": "RECRUITING", "n_studies": 2, "total_enrollment": 40, "median_enrollment": 20.0},
    ]


def test_intervention_summary(model_rows):
    def intervention(nct_id, position, kind, name):
        return {"nct_id": nct_id, "intervention_position": position, "intervention_type": kind, "intervention_name": name}

    def link(nct_id, arm_position, intervention_position):
        return {"nct_id": nct_id, "arm_position": arm_position, "intervention_position": intervention_position}

    rows = {
        "interventions": [
            intervention("NCT1", 1, "DRUG", "Aspirin"),
            intervention("NCT1", 2, "DRUG", "Placebo"),
            intervention("NCT2", 1, "DRUG", "Aspirin"),
            intervention("NCT2", 2, "DRUG", "Aspirin"),  # listed twice in one study: one study, two rows
            intervention("NCT3", 1, "DEVICE", "Stent"),
        ],
        "arm_interventions": [link("NCT1", 1, 1), link("NCT1", 2, 1), link("NCT1", 2, 2), link("NCT2", 1, 1)],
    }
    assert model_rows("intervention_summary", rows) == [
        {"intervention_type": "DRUG", "intervention_name": "Aspirin", "n_studies": 2, "n_arms": 3, "n_interventions": 3},
        {"intervention_type": "DEVICE", "intervention_name": "Stent", "n_studies": 1, "n_arms": 0, "n_interventions": 1},
        {"intervention_type": "DRUG", "intervention_name": "Placebo", "n_studies": 1, "n_arms": 1, "n_interventions": 1},
    ]


def test_enrollment_trends(model_rows):
    rows = {
        "studies": [
            {"nct_id": "NCT1", "start_date": date(2020, 3, 31), "phase_label": "Phase 2", "enrollment": 100},
            {"nct_id": "NCT2", "start_date": date(2020, 6, 30), "phase_label": "Phase 2", "enrollment": 50},
            {"nct_id": "NCT3", "start_date": date(2020, 1, 1), "phase_label": None, "enrollment": 10},
            {"nct_id": "NCT4", "start_date": date(2019, 12, 31), "phase_label": "Phase 3", "enrollment": None},
            {"nct_id": "NCT5", "start_date": None, "phase_label": "Phase 2", "enrollment": 40},
        ],
    }
    assert model_rows("enrollment_trends", rows) == [
        {"start_year": 2019, "phase_label": "Phase 3", "n_studies": 1, "median_enrollment": None, "total_enrollment": 0},
        {"start_year": 2020, "phase_label": "No phase", "n_studies": 1, "median_enrollment": 10.0, "total_enrollment": 10},
        {"start_year": 2020, "phase_label": "Phase 2", "n_studies": 2, "median_enrollment": 75.0, "total_enrollment": 150},
        {"start_year": None, "phase_label": "Phase 2", "n_studies": 1, "median_enrollment": 40.0, "total_enrollment": 40},
    ]


RESULTS_STUDIES = [
    # In scope: completed, interventional, with a primary completion date.
    {"nct_id": "NCT1", "lead_sponsor_name": "Acme", "lead_sponsor_class": "INDUSTRY", "primary_completion_date": date(2020, 1, 31),
     "results_first_post_date": date(2020, 12, 15), "has_results": True},  # 319 days: on time
    {"nct_id": "NCT2", "lead_sponsor_name": "Acme", "lead_sponsor_class": "INDUSTRY", "primary_completion_date": date(2020, 6, 30),
     "results_first_post_date": date(2022, 6, 30), "has_results": True},  # 730 days: late
    {"nct_id": "NCT3", "lead_sponsor_name": "Beta", "lead_sponsor_class": "INDUSTRY", "primary_completion_date": date(2020, 3, 31),
     "results_first_post_date": None, "has_results": False},  # no results
    {"nct_id": "NCT4", "lead_sponsor_name": "Uni", "lead_sponsor_class": "OTHER", "primary_completion_date": date(2021, 5, 31),
     "results_first_post_date": None, "has_results": True},  # results, but no posting date to time them by
    {"nct_id": "NCT8", "lead_sponsor_name": "Beta", "lead_sponsor_class": "INDUSTRY", "primary_completion_date": date(2021, 2, 28),
     "results_first_post_date": date(2022, 2, 28), "has_results": None},  # posted on the due date itself
]
OUT_OF_SCOPE_STUDIES = [
    {"nct_id": "NCT5", "overall_status": "COMPLETED", "study_type": "OBSERVATIONAL", "primary_completion_date": date(2020, 1, 31)},
    {"nct_id": "NCT6", "overall_status": "TERMINATED", "study_type": "INTERVENTIONAL", "primary_completion_date": date(2020, 1, 31)},
    {"nct_id": "NCT7", "overall_status": "COMPLETED", "study_type": "INTERVENTIONAL", "primary_completion_date": None},
]
RESULTS_ROWS = {
    "studies": [
        {**study, "overall_status": "COMPLETED", "study_type": "INTERVENTIONAL"} for study in RESULTS_STUDIES
    ] + OUT_OF_SCOPE_STUDIES,
}


def test_results_posting_studies(model_rows):
    def expected(nct_id, due, has_results, months, on_time):
        study = next(s for s in RESULTS_STUDIES if s["nct_id"] == nct_id)
        return {
            "nct_id": nct_id, "lead_sponsor_name": study["lead_sponsor_name"], "lead_sponsor_class": study["lead_sponsor_class"],
            "primary_completion_date": study["primary_completion_date"], "posting_due_date": due,
            "results_first_post_date": study["results_first_post_date"], "has_results": has_results,
            "months_to_results_posting": months, "is_posted_within_12_months": on_time,
        }

    assert model_rows("results_posting_studies", RESULTS_ROWS) == [
        expected("NCT1", date(2021, 1, 31), True, 10.5, True),
        expected("NCT2", date(2021, 6, 30), True, 24.0, False),
        expected("NCT3", date(2021, 3, 31), False, None, False),
        expected("NCT4", date(2022, 5, 31), True, None, False),
        expected("NCT8", date(2022, 2, 28), True, 12.0, True),
    ]


def test_results_posting(model_rows):
    assert model_rows("results_posting", RESULTS_ROWS) == [
        {
            "lead_sponsor_class": "INDUSTRY", "completion_year": 2020, "n_completed_studies": 3, "n_with_results": 2,
            "share_with_results": 2 / 3, "n_posted_within_12_months": 1, "median_months_to_results_posting": 17.25,
        },
        {
            "lead_sponsor_class": "INDUSTRY", "completion_year": 2021, "n_completed_studies": 1, "n_with_results": 1,
            "share_with_results": 1.0, "n_posted_within_12_months": 1, "median_months_to_results_posting": 12.0,
        },
        {
            "lead_sponsor_class": "OTHER", "completion_year": 2021, "n_completed_studies": 1, "n_with_results": 1,
            "share_with_results": 1.0, "n_posted_within_12_months": 0, "median_months_to_results_posting": None,
        },
    ]


def test_site_geography(model_rows):
    def site(nct_id, position, country, state, city, status, lat, lon):
        return {"nct_id": nct_id, "site_position": position, "country": country, "state": state, "city": city,
                "site_status": status, "latitude": lat, "longitude": lon}

    rows = {
        "sites": [
            site("NCT1", 1, "United States", "Massachusetts", "Boston", "RECRUITING", 42.0, -71.0),
            site("NCT1", 2, "United States", "Massachusetts", "Boston", "COMPLETED", 43.0, -72.0),
            site("NCT2", 1, "United States", "Massachusetts", "Boston", None, None, None),
            site("NCT2", 2, "France", None, "Paris", "RECRUITING", 48.75, 2.25),
            site("NCT3", 1, None, None, None, "RECRUITING", None, None),
        ],
    }
    assert model_rows("site_geography", rows) == [
        {"country": "United States", "state": "Massachusetts", "city": "Boston", "n_studies": 2, "n_sites": 3,
         "n_recruiting_sites": 1, "latitude": 42.5, "longitude": -71.5},
        {"country": "France", "state": None, "city": "Paris", "n_studies": 1, "n_sites": 1,
         "n_recruiting_sites": 1, "latitude": 48.75, "longitude": 2.25},
    ]


def test_study_changes_follow_the_versions_in_the_order_they_became_current_step_backs_included(model_rows):
    def version(nct_id, record_hash, updated, seen, status, enrollment):
        return {"nct_id": nct_id, "record_hash": record_hash, "last_update_post_date": date.fromisoformat(updated),
                "last_update_post_date_raw": updated, "first_seen_at": seen, "last_seen_at": seen,
                "overall_status": status, "enrollment": enrollment, "n_sites": 1}

    monday, tuesday, wednesday = (datetime(2025, 5, day, 6, 0) for day in (5, 6, 7))
    rows = model_rows("study_changes", {
        "study_versions": [
            version("NCT00000001", "a1", "2025-01-10", monday, "RECRUITING", 100),
            version("NCT00000001", "a2", "2025-04-02", tuesday, "COMPLETED", 100),
            # Loaded first as the newer copy; its older copy only became current when it was withdrawn.
            version("NCT00000002", "b2", "2025-03-01", monday, "TERMINATED", 40),
            version("NCT00000002", "b1", "2025-02-01", tuesday, "RECRUITING", 50),
        ],
        # NCT00000001's newer version was withdrawn on Wednesday: back to a1.
        "study_version_returns": [{"nct_id": "NCT00000001", "record_hash": "a1", "returned_at": wednesday}],
    })
    assert [
        (r["nct_id"], r["field"], r["old_value"], r["new_value"], r["changed_between"], r["is_step_back"], r["detected_at"],
         r["previous_record_hash"], r["record_hash"])
        for r in rows
    ] == [
        ("NCT00000001", "overall_status", "RECRUITING", "COMPLETED", "2025-01-10 -> 2025-04-02", False, tuesday, "a1", "a2"),
        ("NCT00000001", "overall_status", "COMPLETED", "RECRUITING", "2025-04-02 -> 2025-01-10", True, wednesday, "a2", "a1"),
        ("NCT00000002", "enrollment", "40", "50", "2025-03-01 -> 2025-02-01", True, tuesday, "b2", "b1"),
        ("NCT00000002", "overall_status", "TERMINATED", "RECRUITING", "2025-03-01 -> 2025-02-01", True, tuesday, "b2", "b1"),
    ]
