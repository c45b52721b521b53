"""The results tables: what a study posted after it ran (resultsSection), the documents it
provides (documentSection) and ClinicalTrials.gov's notes on its results (annotationSection).

Tables and grains follow AACT's where AACT has the table (result_groups, participant_flows,
milestones, drop_withdrawals, baseline_counts, baseline_measurements, outcome_counts,
outcome_measurements, outcome_analyses, reported_events, reported_event_totals,
result_agreements, result_contacts, provided_documents, pending_results), so that AACT's schema
can be laid over them; AACT's `outcomes` is `outcome_measures` here (ours names the registered
outcomes). Counts the registry writes as text keep the text (`_raw`) beside a typed twin.
"""
from __future__ import annotations

from pipeline.tables.schema.base import (
    Column, Derivation, Lookup, Source, Table, date_columns, nct_id_column, number_columns, position_column,
)

RESULTS = "resultsSection"
FLOW = f"{RESULTS}.participantFlowModule"
BASELINE = f"{RESULTS}.baselineCharacteristicsModule"
OUTCOME_MEASURES = f"{RESULTS}.outcomeMeasuresModule.outcomeMeasures[]"
ADVERSE_EVENTS = f"{RESULTS}.adverseEventsModule"
MORE_INFO = f"{RESULTS}.moreInfoModule"
LARGE_DOCUMENTS = "documentSection.largeDocumentModule"
ANNOTATIONS = "annotationSection.annotationModule"


def _position(name: str, what: str, level: int) -> Column:
    return Column(name, "INTEGER", f"1-based position of the {what}, in document order.", f"#{level}")


def _positions(*levels: tuple[str, str]) -> tuple[Column, ...]:
    """The positions at each `[]` of a source, outermost first: (column name, what it counts)."""
    return tuple(_position(name, what, level) for level, (name, what) in enumerate(levels))


def _group_code(what: str) -> Column:
    return Column("group_code", "VARCHAR", f"Code of the {what}'s group within its part of the results (e.g. FG000, BG001, OG000, EG002); result_groups.group_code.", "groupId")


# ---------------------------------------------------------------- groups and study-level details

RESULT_GROUPS = Table(
    name="result_groups",
    grain="one row per group per part of the results: participant flow (FG…), baseline (BG…), each outcome measure (OG…), adverse events (EG…)",
    description="The arms or comparison groups each part of the results reports on; adverse-event groups carry their totals.",
    key=("nct_id", "group_position"),
    sources=(
        Source(f"{FLOW}.groups[]", constants={"result_part": "participant_flow"}),
        Source(f"{BASELINE}.groups[]", constants={"result_part": "baseline"}),
        Source(f"{OUTCOME_MEASURES}.groups[]", constants={"result_part": "outcome"}, overrides={"outcome_measure_position": "#0"}),
        Source(f"{ADVERSE_EVENTS}.eventGroups[]", constants={"result_part": "adverse_events"}, overrides={
            "deaths_subjects_affected": "deathsNumAffected", "deaths_subjects_at_risk": "deathsNumAtRisk",
            "serious_subjects_affected": "seriousNumAffected", "serious_subjects_at_risk": "seriousNumAtRisk",
            "other_subjects_affected": "otherNumAffected", "other_subjects_at_risk": "otherNumAtRisk",
        }),
    ),
    columns=(
        nct_id_column(),
        position_column("group_position", "group (participant flow groups first, then baseline, outcome measures in order, adverse events)"),
        Column("result_part", "VARCHAR", "The part of the results the group belongs to: participant_flow, baseline, outcome or adverse_events."),
        Column("outcome_measure_position", "INTEGER", "For outcome groups, outcome_measures.outcome_measure_position of their measure; null for the other parts."),
        Column("group_code", "VARCHAR", "The group's code within its part (FG000, BG000, OG000, EG000, ...), as the part's rows name it.", "id"),
        Column("title", "VARCHAR", "Group title, verbatim.", "title"),
        Column("description", "VARCHAR", "Group description, verbatim.", "description", long_text=True),
        Column("deaths_subjects_affected", "INTEGER", "Adverse-event groups: participants who died of any cause (all-cause mortality)."),
        Column("deaths_subjects_at_risk", "INTEGER", "Adverse-event groups: participants at risk for all-cause mortality."),
        Column("serious_subjects_affected", "INTEGER", "Adverse-event groups: participants with at least one serious adverse event (the group's own total, not a sum over terms)."),
        Column("serious_subjects_at_risk", "INTEGER", "Adverse-event groups: participants at risk for serious adverse events."),
        Column("other_subjects_affected", "INTEGER", "Adverse-event groups: participants with at least one other (not serious) adverse event above the frequency threshold."),
        Column("other_subjects_at_risk", "INTEGER", "Adverse-event groups: participants at risk for other adverse events."),
    ),
)
PARTICIPANT_FLOWS = Table(
    name="participant_flows",
    grain="one row per study with a participant flow in its results",
    description="How participants moved through the study: recruitment and pre-assignment details (periods and counts are in milestones and drop_withdrawals).",
    key=("nct_id",),
    sources=(Source(FLOW),),
    columns=(
        nct_id_column(),
        Column("recruitment_details", "VARCHAR", "Recruitment details: dates and settings of recruitment, verbatim.", "recruitmentDetails", long_text=True),
        Column("pre_assignment_details", "VARCHAR", "Events after enrollment and before assignment to groups (wash-out, run-in), verbatim.", "preAssignmentDetails", long_text=True),
        Column("units_analyzed", "VARCHAR", "Type of units assigned when they are not participants (e.g. eyes, lesions), verbatim.", "typeUnitsAnalyzed"),
    ),
)

RESULT_DETAILS = Table(
    name="result_details",
    grain="one row per study with posted results",
    description="Study-level parts of the results that belong to no row of their own: the baseline population, the adverse-event reporting frame and the limitations and caveats.",
    key=("nct_id",),
    sources=(Source(RESULTS),),
    columns=(
        nct_id_column(),
        Column("baseline_population_description", "VARCHAR", "Baseline analysis population, when it differs from the participants who started, verbatim.", "baselineCharacteristicsModule.populationDescription", long_text=True),
        Column("baseline_units_analyzed", "VARCHAR", "Type of units analyzed at baseline when they are not participants, verbatim.", "baselineCharacteristicsModule.typeUnitsAnalyzed"),
        Column("adverse_events_time_frame", "VARCHAR", "Time frame over which adverse events were collected, verbatim.", "adverseEventsModule.timeFrame"),
        Column("adverse_events_description", "VARCHAR", "How adverse events were defined or collected, when it differs from the standard definitions, verbatim.", "adverseEventsModule.description", long_text=True),
        *number_columns("adverse_events_frequency_threshold", "adverseEventsModule.frequencyThreshold",
                        "Frequency threshold (percent) above which other (not serious) adverse events are reported"),
        Column("all_cause_mortality_comment", "VARCHAR", "Comment on the all-cause mortality numbers, verbatim.", "adverseEventsModule.allCauseMortalityComment"),
        Column("limitations_and_caveats", "VARCHAR", "Limitations and caveats of the results (early termination, small numbers, technical problems), verbatim.", "moreInfoModule.limitationsAndCaveats.description", long_text=True),
    ),
)

# ---------------------------------------------------------------- participant flow

_PERIOD = ("period_position", "period within the participant flow")
_PERIOD_TITLE = Column("period_title", "VARCHAR", "Period title (e.g. 'Overall Study'), verbatim.", "@0.title")
_FLOW_COUNTS = (
    *number_columns("n_subjects", "numSubjects", "Number of participants", kind="integer"),
    *number_columns("n_units", "numUnits", "Number of units (when units other than participants are counted)", kind="integer"),
    Column("comment", "VARCHAR", "Comment on this group's count, verbatim.", "comment"),
)

MILESTONES = Table(
    name="milestones",
    grain="one row per period × milestone × group of a study's participant flow",
    description="Participants who reached each milestone of each period (STARTED, COMPLETED, NOT COMPLETED and the sponsor's own), per group.",
    key=("nct_id", "period_position", "milestone_position", "achievement_position"),
    sources=(Source(f"{FLOW}.periods[].milestones[].achievements[]"),),
    columns=(
        nct_id_column(),
        *_positions(_PERIOD, ("milestone_position", "milestone within its period"), ("achievement_position", "group's count within its milestone")),
        _PERIOD_TITLE,
        Column("milestone_type", "VARCHAR", "Milestone: STARTED, COMPLETED, NOT COMPLETED, or the sponsor's own title, verbatim.", "@1.type"),
        Column("milestone_comment", "VARCHAR", "Comment on the milestone, verbatim.", "@1.comment"),
        _group_code("count"),
        *_FLOW_COUNTS,
    ),
)

DROP_WITHDRAWALS = Table(
    name="drop_withdrawals",
    grain="one row per period × reason not completed × group of a study's participant flow",
    description="Participants who did not complete a period, by reason and group.",
    key=("nct_id", "period_position", "drop_withdraw_position", "reason_position"),
    sources=(Source(f"{FLOW}.periods[].dropWithdraws[].reasons[]"),),
    columns=(
        nct_id_column(),
        *_positions(_PERIOD, ("drop_withdraw_position", "reason within its period"), ("reason_position", "group's count within its reason")),
        _PERIOD_TITLE,
        Column("reason", "VARCHAR", "Reason not completed (e.g. 'Adverse Event', 'Withdrawal by Subject'), verbatim.", "@1.type"),
        Column("reason_comment", "VARCHAR", "Description of the reason when it is 'Other', verbatim.", "@1.comment"),
        _group_code("count"),
        *_FLOW_COUNTS,
    ),
)

# ---------------------------------------------------------------- baseline and outcome measurements

def _counts_table(name: str, grain: str, description: str, path: str, outer: tuple[tuple[str, str], ...], within: str) -> Table:
    """A table of denominators: per unit (Participants, or the units analyzed) and group, the
    number analyzed. `outer` names the positions of the lists above the denominators, `within`
    what the denominators belong to."""
    positions = _positions(*outer, ("denom_position", f"denominator unit within the {within}"), ("count_position", "group's count within its unit"))
    # A class's title is carried here too: a class with denominators but no measurements has no other row.
    class_title = (Column("class_title", "VARCHAR", "Title of the class (row), verbatim.", "@1.title"),) if "classes[]" in path else ()
    return Table(
        name=name, grain=grain, description=description, key=("nct_id", *(c.name for c in positions)), sources=(Source(path),),
        columns=(
            nct_id_column(),
            *positions,
            *class_title,
            # The unit is the denominator's, the `[]` before the counts'.
            Column("units", "VARCHAR", "What is counted: Participants, or the units analyzed (e.g. Eyes), verbatim.", f"@{len(outer)}.units"),
            _group_code("count"),
            *number_columns("n_analyzed", "value", "Number analyzed in the group", kind="integer"),
        ),
    )


_BASELINE_MEASURE = ("baseline_measure_position", "baseline measure")
_OUTCOME_MEASURE = ("outcome_measure_position", "outcome measure (outcome_measures.outcome_measure_position)")
_CLASS = ("class_position", "class (row) within its measure")

BASELINE_COUNTS = _counts_table(
    "baseline_counts", "one row per baseline denominator unit × group",
    "Overall number of baseline participants (and units analyzed) per group.",
    f"{BASELINE}.denoms[].counts[]", (), "baseline",
)
BASELINE_MEASURE_COUNTS = _counts_table(
    "baseline_measure_counts", "one row per baseline measure × denominator unit × group",
    "Number analyzed for a baseline measure, per group, when it differs from the overall baseline counts.",
    f"{BASELINE}.measures[].denoms[].counts[]", (_BASELINE_MEASURE,), "measure",
)
BASELINE_CLASS_COUNTS = _counts_table(
    "baseline_class_counts", "one row per baseline measure × class × denominator unit × group",
    "Number analyzed for one class (row) of a baseline measure, per group.",
    f"{BASELINE}.measures[].classes[].denoms[].counts[]", (_BASELINE_MEASURE, _CLASS), "class",
)
OUTCOME_COUNTS = _counts_table(
    "outcome_counts", "one row per outcome measure × denominator unit × group",
    "Number of participants (and units) analyzed for each outcome measure, per group.",
    f"{OUTCOME_MEASURES}.denoms[].counts[]", (_OUTCOME_MEASURE,), "measure",
)
OUTCOME_CLASS_COUNTS = _counts_table(
    "outcome_class_counts", "one row per outcome measure × class × denominator unit × group",
    "Number analyzed for one class (row) of an outcome measure, per group, when it differs from the measure's.",
    f"{OUTCOME_MEASURES}.classes[].denoms[].counts[]", (_OUTCOME_MEASURE, _CLASS), "class",
)


def _measurement_columns(measure: str, class_counts: str, measure_counts: str, overall_counts: str | None) -> tuple[Column, ...]:
    """The columns a measurement shares between baseline and outcomes: its place, its value and
    the number analyzed, found like AACT finds it (the class's denominators, else the measure's,
    else the study's overall baseline counts), in the units the measure is analyzed in."""
    same_group = (("nct_id", "nct_id"), (f"{measure}_position", f"{measure}_position"), ("group_code", "group_code"), ("n_analyzed_units", "units"))
    overall = None
    if overall_counts is not None:
        overall = Lookup(overall_counts, "n_analyzed", (("nct_id", "nct_id"), ("group_code", "group_code"), ("n_analyzed_units", "units")))
    n_analyzed = Lookup(
        class_counts, "n_analyzed", (*same_group, ("class_position", "class_position")),
        otherwise=Lookup(measure_counts, "n_analyzed", same_group, otherwise=overall),
    )
    return (
        Column("class_title", "VARCHAR", "Class (row) title, e.g. a subgroup or time point; null when the measure has one unnamed class.", "@1.title"),
        Column("category_title", "VARCHAR", "Category title, e.g. 'Female' or 'Male'; null when the class has one unnamed category.", "@2.title"),
        _group_code("measurement"),
        *number_columns("value", "value", "The measurement", kind="bounded_number"),
        *number_columns("spread", "spread", "Dispersion of the value (per dispersion_type: standard deviation, standard error, ...)"),
        *number_columns("lower_limit", "lowerLimit", "Lower limit of the dispersion range (confidence interval, inter-quartile range, full range)"),
        *number_columns("upper_limit", "upperLimit", "Upper limit of the dispersion range"),
        Column("explanation_of_na", "VARCHAR", "Why the value is NA (not available), verbatim.", "comment"),
        Column("n_analyzed", "INTEGER", f"Number analyzed in this group for this class, in n_analyzed_units: from {class_counts}, else {measure_counts}"
               + (f", else {overall_counts}" if overall_counts else "") + "; null when none gives it.", derive=n_analyzed),
        Column("n_analyzed_units", "VARCHAR", "Units of n_analyzed: denom_units_selected, else Participants.", derive=Derivation("denominator_units", "denom_units_selected")),
    )


_MEASUREMENT_LEVELS = (
    ("category_position", "category within its class"),
    ("measurement_position", "group's measurement within its category"),
)

def _baseline_measure_columns(at: str) -> tuple[Column, ...]:
    """A baseline measure's own fields, read from the measure (`at` "") or carried from it (`at` "@0.")."""
    return (
        Column("measure_title", "VARCHAR", "Baseline measure title (e.g. 'Age, Continuous', 'Sex: Female, Male'), verbatim.", f"{at}title"),
        # Carried down a measure's measurements (`at` "@0."), a description repeats row after row:
        # DuckDB's own dictionary suits it there better than zstd.
        Column("measure_description", "VARCHAR", "Baseline measure description, verbatim.", f"{at}description", long_text=not at),
        Column("population_description", "VARCHAR", "Analysis population of the measure when it differs from the overall baseline population, verbatim.", f"{at}populationDescription", long_text=not at),
        Column("unit_of_measure", "VARCHAR", "Unit of measure (e.g. 'years', 'Participants'), verbatim.", f"{at}unitOfMeasure"),
        Column("param_type", "VARCHAR", "Measure type (API code: COUNT_OF_PARTICIPANTS, MEAN, MEDIAN, NUMBER, ...).", f"{at}paramType"),
        Column("dispersion_type", "VARCHAR", "Measure of dispersion (API code: STANDARD_DEVIATION, FULL_RANGE, INTER_QUARTILE_RANGE, ...).", f"{at}dispersionType"),
        Column("is_percentage_calculated", "BOOLEAN", "Whether the registry shows counts as a percentage of the number analyzed.", f"{at}calculatePct"),
        Column("denom_units_selected", "VARCHAR", "Units the measure is analyzed in when not participants, verbatim.", f"{at}denomUnitsSelected"),
    )


BASELINE_MEASURES = Table(
    name="baseline_measures",
    grain="one row per baseline measure of a study's results",
    description="The baseline characteristics a study reports (its measurements are in baseline_measurements), listed even when no data were collected.",
    key=("nct_id", "baseline_measure_position"),
    sources=(Source(f"{BASELINE}.measures[]"),),
    columns=(
        nct_id_column(),
        *_positions(_BASELINE_MEASURE),
        *_baseline_measure_columns(""),
    ),
)

BASELINE_MEASUREMENTS = Table(
    name="baseline_measurements",
    grain="one row per baseline measure × class × category × group measurement",
    description="Baseline characteristics (age, sex, race, ...) measured per group, with the measure's description carried on each row.",
    key=("nct_id", "baseline_measure_position", "class_position", "category_position", "measurement_position"),
    sources=(Source(f"{BASELINE}.measures[].classes[].categories[].measurements[]"),),
    columns=(
        nct_id_column(),
        *_positions(_BASELINE_MEASURE, _CLASS, *_MEASUREMENT_LEVELS),
        *_baseline_measure_columns("@0."),
        *_measurement_columns("baseline_measure", "baseline_class_counts", "baseline_measure_counts", "baseline_counts"),
    ),
)

OUTCOME_MEASURE_RESULTS = Table(
    name="outcome_measures",
    grain="one row per outcome measure of a study's results",
    description=(
        "Outcome measures as reported in the results (AACT's outcomes); the registered outcomes are in outcomes, "
        "and protocol_outcome_position links the two where the title and kind agree."
    ),
    key=("nct_id", "outcome_measure_position"),
    sources=(Source(OUTCOME_MEASURES),),
    columns=(
        nct_id_column(),
        _position("outcome_measure_position", "outcome measure within the results", 0),
        Column("outcome_type", "VARCHAR", "Outcome type (API code: PRIMARY, SECONDARY, OTHER_PRE_SPECIFIED, POST_HOC).", "type"),
        Column("title", "VARCHAR", "Outcome measure title, verbatim.", "title"),
        Column("description", "VARCHAR", "Outcome measure description, verbatim.", "description", long_text=True),
        Column("population_description", "VARCHAR", "Analysis population description, verbatim.", "populationDescription", long_text=True),
        Column("reporting_status", "VARCHAR", "Whether the data are posted (API code: POSTED, NOT_POSTED).", "reportingStatus"),
        *date_columns("anticipated_posting_date", "anticipatedPostingDate", "Anticipated posting date of data not yet posted", typed=False),
        Column("param_type", "VARCHAR", "Measure type (API code: MEAN, MEDIAN, COUNT_OF_PARTICIPANTS, NUMBER, ...).", "paramType"),
        Column("dispersion_type", "VARCHAR", "Measure of dispersion (API code, e.g. STANDARD_DEVIATION, CONFIDENCE_INTERVAL_95).", "dispersionType"),
        Column("unit_of_measure", "VARCHAR", "Unit of measure, verbatim.", "unitOfMeasure"),
        Column("is_percentage_calculated", "BOOLEAN", "Whether the registry shows counts as a percentage of the number analyzed.", "calculatePct"),
        Column("time_frame", "VARCHAR", "Time frame, verbatim.", "timeFrame"),
        Column("units_analyzed", "VARCHAR", "Type of units analyzed when they are not participants, verbatim.", "typeUnitsAnalyzed"),
        Column("denom_units_selected", "VARCHAR", "Units the measure is analyzed in when not participants, verbatim.", "denomUnitsSelected"),
        Column(
            "protocol_outcome_position", "INTEGER",
            "outcomes.outcome_position of the registered outcome of the same kind (PRIMARY: primary, SECONDARY: secondary, "
            "OTHER_PRE_SPECIFIED: other) and title (whitespace and case aside); null when none matches (POST_HOC never does).",
            derive=Lookup(
                "outcomes", "outcome_position",
                (("nct_id", "nct_id"), ("outcome_type", "outcome_kind"), ("title", "measure")),
                fold=("title",),
                recode=(("outcome_type", (("PRIMARY", "primary"), ("SECONDARY", "secondary"), ("OTHER_PRE_SPECIFIED", "other"))),),
            ),
        ),
    ),
)

OUTCOME_MEASUREMENTS = Table(
    name="outcome_measurements",
    grain="one row per outcome measure × class × category × group measurement",
    description="Outcome results per group, with the measure's type, title and units carried on each row (its description is in outcome_measures).",
    key=("nct_id", "outcome_measure_position", "class_position", "category_position", "measurement_position"),
    sources=(Source(f"{OUTCOME_MEASURES}.classes[].categories[].measurements[]"),),
    columns=(
        nct_id_column(),
        *_positions(_OUTCOME_MEASURE, _CLASS, *_MEASUREMENT_LEVELS),
        Column("outcome_type", "VARCHAR", "Outcome type (API code: PRIMARY, SECONDARY, OTHER_PRE_SPECIFIED, POST_HOC).", "@0.type"),
        Column("outcome_title", "VARCHAR", "Outcome measure title, verbatim.", "@0.title"),
        Column("param_type", "VARCHAR", "Measure type (API code).", "@0.paramType"),
        Column("dispersion_type", "VARCHAR", "Measure of dispersion (API code).", "@0.dispersionType"),
        Column("unit_of_measure", "VARCHAR", "Unit of measure, verbatim.", "@0.unitOfMeasure"),
        Column("denom_units_selected", "VARCHAR", "Units the measure is analyzed in when not participants, verbatim.", "@0.denomUnitsSelected"),
        *_measurement_columns("outcome_measure", "outcome_class_counts", "outcome_counts", None),
    ),
)

OUTCOME_ANALYSES = Table(
    name="outcome_analyses",
    grain="one row per outcome measure × statistical analysis",
    description="Statistical analyses of outcome measures: the groups compared, the test, the p-value and the estimate with its confidence interval.",
    key=("nct_id", "outcome_measure_position", "analysis_position"),
    sources=(Source(f"{OUTCOME_MEASURES}.analyses[]"),),
    columns=(
        nct_id_column(),
        *_positions(_OUTCOME_MEASURE),
        _position("analysis_position", "analysis within its measure", 1),
        Column("outcome_type", "VARCHAR", "Type of the analysed outcome (API code: PRIMARY, SECONDARY, ...).", "@0.type"),
        Column("outcome_title", "VARCHAR", "Title of the analysed outcome measure, verbatim.", "@0.title"),
        Column("group_codes", "VARCHAR[]", "Codes of the groups compared (OG000, OG001, ...), in document order.", "groupIds"),
        Column("groups_description", "VARCHAR", "Description of the comparison groups, verbatim.", "groupDescription"),
        Column("is_non_inferiority_tested", "BOOLEAN", "Whether the analysis tests non-inferiority or equivalence.", "testedNonInferiority"),
        Column("non_inferiority_type", "VARCHAR", "Type of test (API code: SUPERIORITY, NON_INFERIORITY, EQUIVALENCE, ..._OR_OTHER).", "nonInferiorityType"),
        Column("non_inferiority_comment", "VARCHAR", "Details of the non-inferiority or equivalence test (margin, power), verbatim.", "nonInferiorityComment"),
        *number_columns("p_value", "pValue", "P-value", kind="bounded_number"),
        Column("p_value_comment", "VARCHAR", "Comment on the p-value (adjustments, threshold), verbatim.", "pValueComment"),
        Column("statistical_method", "VARCHAR", "Statistical test (e.g. 'ANCOVA', 'Log Rank'), verbatim.", "statisticalMethod"),
        Column("statistical_comment", "VARCHAR", "Comment on the method, verbatim.", "statisticalComment"),
        Column("param_type", "VARCHAR", "Estimated parameter (e.g. 'Mean Difference (Final Values)', 'Hazard Ratio (HR)'), verbatim.", "paramType"),
        *number_columns("param_value", "paramValue", "Estimated value of the parameter"),
        *number_columns("ci_pct", "ciPctValue", "Confidence level of the interval, in percent"),
        Column("ci_n_sides", "VARCHAR", "Sides of the confidence interval (API code: ONE_SIDED, TWO_SIDED).", "ciNumSides"),
        *number_columns("ci_lower_limit", "ciLowerLimit", "Lower limit of the confidence interval"),
        Column("ci_lower_limit_comment", "VARCHAR", "Why the lower limit is not given, verbatim.", "ciLowerLimitComment"),
        *number_columns("ci_upper_limit", "ciUpperLimit", "Upper limit of the confidence interval"),
        Column("ci_upper_limit_comment", "VARCHAR", "Why the upper limit is not given, verbatim.", "ciUpperLimitComment"),
        Column("dispersion_type", "VARCHAR", "Dispersion of the estimate (API code: STANDARD_DEVIATION, STANDARD_ERROR_OF_MEAN).", "dispersionType"),
        *number_columns("dispersion_value", "dispersionValue", "Dispersion of the estimate"),
        Column("estimate_comment", "VARCHAR", "Comment on the estimate (direction, scale), verbatim.", "estimateComment"),
        Column("other_analysis_description", "VARCHAR", "Description of any other analysis, verbatim.", "otherAnalysisDescription"),
    ),
)

# ---------------------------------------------------------------- adverse events

_EVENT_COLUMNS = (
    Column("organ_system", "VARCHAR", "Organ system class of the event (e.g. 'Cardiac disorders'), verbatim.", "@0.organSystem"),
    Column("adverse_event_term", "VARCHAR", "Adverse event term, verbatim.", "@0.term"),
    Column("source_vocabulary", "VARCHAR", "Vocabulary of the term (e.g. 'MedDRA (25.0)'), verbatim.", "@0.sourceVocabulary"),
    Column("assessment_type", "VARCHAR", "How the event was assessed (API code: SYSTEMATIC_ASSESSMENT, NON_SYSTEMATIC_ASSESSMENT).", "@0.assessmentType"),
    Column("notes", "VARCHAR", "Notes on the event term, verbatim.", "@0.notes"),
    _group_code("stat"),
    Column("subjects_affected", "INTEGER", "Participants in the group with this event. Participants overlap between terms: sum them never; the totals are in reported_event_totals.", "numAffected"),
    Column("subjects_at_risk", "INTEGER", "Participants in the group at risk for this event.", "numAtRisk"),
    Column("n_events", "INTEGER", "Occurrences of the event in the group (a participant may have several); null when not reported.", "numEvents"),
)

REPORTED_EVENTS = Table(
    name="reported_events",
    grain="one row per serious or other adverse event term × group",
    description="Adverse events by term and group: participants affected and at risk, and occurrences.",
    key=("nct_id", "event_type", "event_position", "stat_position"),
    sources=(
        Source(f"{ADVERSE_EVENTS}.seriousEvents[].stats[]", constants={"event_type": "serious"}),
        Source(f"{ADVERSE_EVENTS}.otherEvents[].stats[]", constants={"event_type": "other"}),
    ),
    columns=(
        nct_id_column(),
        Column("event_type", "VARCHAR", "serious or other (not serious, reported above the frequency threshold)."),
        _position("event_position", "event term within its type's list", 0),
        _position("stat_position", "group's numbers within the event term", 1),
        *_EVENT_COLUMNS,
    ),
)

_EVENT_TOTALS = {"all_cause_mortality": "deaths", "serious": "serious", "other": "other"}

REPORTED_EVENT_TOTALS = Table(
    name="reported_event_totals",
    grain="one row per adverse-event group × classification (all-cause mortality, serious, other)",
    description=(
        "Participants affected and at risk per adverse-event group, as the group reports them. These are the totals: "
        "summing reported_events over terms counts a participant with two events twice."
    ),
    key=("nct_id", "event_group_position", "classification"),
    sources=tuple(
        Source(f"{ADVERSE_EVENTS}.eventGroups[]", constants={"classification": classification},
               overrides={"subjects_affected": f"{field}NumAffected", "subjects_at_risk": f"{field}NumAtRisk"})
        for classification, field in _EVENT_TOTALS.items()
    ),
    columns=(
        nct_id_column(),
        _position("event_group_position", "adverse-event group", 0),
        Column("group_code", "VARCHAR", "Code of the adverse-event group (EG000, ...); result_groups.group_code.", "id"),
        Column("group_title", "VARCHAR", "Title of the adverse-event group, verbatim.", "title"),
        Column("classification", "VARCHAR", "all_cause_mortality, serious or other."),
        Column("subjects_affected", "INTEGER", "Participants in the group affected (for all_cause_mortality: who died); null when the record gives none."),
        Column("subjects_at_risk", "INTEGER", "Participants in the group at risk; null when the record gives none."),
    ),
)

# ---------------------------------------------------------------- more information, documents, annotations

RESULT_AGREEMENTS = Table(
    name="result_agreements",
    grain="one row per study that states its agreements on disclosing results",
    description="Whether the principal investigators may discuss or publish the results, and the sponsor's restrictions.",
    key=("nct_id",),
    sources=(Source(f"{MORE_INFO}.certainAgreement"),),
    columns=(
        nct_id_column(),
        Column("is_pi_sponsor_employee", "BOOLEAN", "Whether all principal investigators are employed by the sponsor.", "piSponsorEmployee"),
        Column("has_restrictive_agreement", "BOOLEAN", "Whether an agreement restricts the investigators' rights to discuss or publish the results.", "restrictiveAgreement"),
        Column("restriction_type", "VARCHAR", "Type of restriction (API code: LTE60, GT60, OTHER).", "restrictionType"),
        Column("other_details", "VARCHAR", "Details of an other restriction, verbatim.", "otherDetails", long_text=True),
    ),
)

RESULT_CONTACTS = Table(
    name="result_contacts",
    grain="one row per study that names a point of contact for its results",
    description="Who to contact about the results.",
    key=("nct_id",),
    sources=(Source(f"{MORE_INFO}.pointOfContact"),),
    columns=(
        nct_id_column(),
        Column("name_or_title", "VARCHAR", "Name or official title of the contact, verbatim.", "title"),
        Column("organization", "VARCHAR", "Organization, verbatim.", "organization"),
        Column("email", "VARCHAR", "Email address.", "email"),
        Column("phone", "VARCHAR", "Phone, verbatim.", "phone"),
        Column("phone_ext", "VARCHAR", "Phone extension, verbatim.", "phoneExt"),
    ),
)

PROVIDED_DOCUMENTS = Table(
    name="provided_documents",
    grain="one row per document (protocol, statistical analysis plan, consent form) a study provides",
    description="Study documents uploaded to ClinicalTrials.gov; the file is at https://cdn.clinicaltrials.gov/large-docs/<last two digits of the NCT id>/<nct_id>/<file_name>.",
    key=("nct_id", "document_position"),
    sources=(Source(f"{LARGE_DOCUMENTS}.largeDocs[]"),),
    columns=(
        nct_id_column(),
        _position("document_position", "document", 0),
        Column("document_type", "VARCHAR", "Document type abbreviation (Prot, SAP, ICF, Prot_SAP, Prot_ICF, Prot_SAP_ICF, ...).", "typeAbbrev"),
        Column("label", "VARCHAR", "Document label (e.g. 'Study Protocol and Statistical Analysis Plan').", "label"),
        Column("has_protocol", "BOOLEAN", "Whether the document holds the study protocol.", "hasProtocol"),
        Column("has_sap", "BOOLEAN", "Whether the document holds the statistical analysis plan.", "hasSap"),
        Column("has_icf", "BOOLEAN", "Whether the document holds the informed consent form.", "hasIcf"),
        Column("has_no_sap", "BOOLEAN", "Whether the study states it has no statistical analysis plan (documentSection.largeDocumentModule.noSap, the same on each of its documents).",
               "$.documentSection.largeDocumentModule.noSap"),
        *date_columns("document_date", "date", "Date of the document", typed=False),
        Column("uploaded_at_raw", "VARCHAR", "When the document was uploaded, verbatim (YYYY-MM-DDTHH:MM).", "uploadDate"),
        Column("uploaded_at", "TIMESTAMP", "When the document was uploaded, as a TIMESTAMP; null when the text is not one.", derive=Derivation("timestamp", "uploaded_at_raw")),
        Column("file_name", "VARCHAR", "File name on ClinicalTrials.gov (the column is not called filename: the loader reads Parquet parts with that name reserved).", "filename"),
        Column("size_bytes", "BIGINT", "File size in bytes.", "size"),
    ),
)

PENDING_RESULTS = Table(
    name="pending_results",
    grain="one row per submission event of results not yet posted (submitted, returned, cancelled)",
    description="Results submitted but not (yet) posted: when the sponsor submitted them and when ClinicalTrials.gov returned them for correction.",
    key=("nct_id", "event_position"),
    sources=(Source(f"{ANNOTATIONS}.unpostedAnnotation.unpostedEvents[]"),),
    columns=(
        nct_id_column(),
        _position("event_position", "event", 0),
        Column("event_type", "VARCHAR", "Event (API code: RELEASE = submitted, RESET = returned after quality control review, UNRELEASE = submission cancelled).", "type"),
        *date_columns("event_date", "date", "Date of the event", typed=False),
        Column("is_date_unknown", "BOOLEAN", "Whether the event's date is unknown.", "dateUnknown"),
        Column("responsible_party", "VARCHAR", "Responsible party named for the unposted results (the same on each of the study's events), verbatim.",
               "$.annotationSection.annotationModule.unpostedAnnotation.unpostedResponsibleParty"),
    ),
)

VIOLATION_EVENTS = Table(
    name="violation_events",
    grain="one row per FDAAA 801 violation notice event of a study",
    description="Violations of FDAAA 801 that ClinicalTrials.gov posted for the study, and their corrections.",
    key=("nct_id", "event_position"),
    sources=(Source(f"{ANNOTATIONS}.violationAnnotation.violationEvents[]"),),
    columns=(
        nct_id_column(),
        _position("event_position", "event", 0),
        Column("event_type", "VARCHAR", "Event (API code, e.g. VIOLATION_IDENTIFIED, CORRECTION_CONFIRMED, PENALTY_IMPOSED).", "type"),
        Column("description", "VARCHAR", "Description of the event, verbatim.", "description"),
        *date_columns("creation_date", "creationDate", "Date the event was created", typed=False),
        *date_columns("issued_date", "issuedDate", "Date the notice was issued", typed=False),
        *date_columns("release_date", "releaseDate", "Date the information concerned was released", typed=False),
        *date_columns("posted_date", "postedDate", "Date the event was posted", typed=False),
    ),
)

# In load order; a table another one looks up comes before it (the lookups run once per batch).
RESULTS_TABLES: tuple[Table, ...] = (
    RESULT_GROUPS, PARTICIPANT_FLOWS, RESULT_DETAILS, MILESTONES, DROP_WITHDRAWALS, BASELINE_COUNTS, BASELINE_MEASURES,
    BASELINE_MEASURE_COUNTS, BASELINE_CLASS_COUNTS, BASELINE_MEASUREMENTS, OUTCOME_MEASURE_RESULTS, OUTCOME_COUNTS,
    OUTCOME_CLASS_COUNTS, OUTCOME_MEASUREMENTS, OUTCOME_ANALYSES, REPORTED_EVENTS, REPORTED_EVENT_TOTALS,
    RESULT_AGREEMENTS, RESULT_CONTACTS, PROVIDED_DOCUMENTS, PENDING_RESULTS, VIOLATION_EVENTS,
)
