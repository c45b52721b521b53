"""``<clinical_results>`` of the legacy XML as API v2's ``resultsSection``.

Element by element (names as in public.xsd, fields as in API v2's results modules):

- ``participant_flow`` -> ``participantFlowModule``: groups, periods, each milestone's
  ``participants`` as ``achievements`` and each drop/withdraw reason's as ``reasons``
  (``count`` -> numSubjects, the element's text -> comment);
- ``baseline`` -> ``baselineCharacteristicsModule``: ``analyzed_list`` -> ``denoms`` (at the
  module, the measure and the class), ``measure`` -> ``measures[]`` with ``classes[]`` of
  ``categories[]`` of ``measurements[]``;
- ``outcome_list`` -> ``outcomeMeasuresModule.outcomeMeasures[]``, with the measure's fields,
  groups, denoms, classes and ``analysis_list`` -> ``analyses[]``;
- ``reported_events`` -> ``adverseEventsModule``: groups as ``eventGroups``, each event's
  ``counts`` as ``stats``; the vocabulary and assessment the events section states as its
  default apply to every event that states none;
- ``certain_agreements``, ``limitations_and_caveats``, ``point_of_contact`` -> ``moreInfoModule``.

Group ids are API v2's: ``P1`` -> ``FG000``, ``B2`` -> ``BG001``, ``O1`` -> ``OG000``, ``E3`` -> ``EG002``.

Two things the XML holds in its own way:

- The per-group totals of adverse events come as events of a ``Total`` category ("Total, serious
  adverse events", "Total, all-cause mortality", ...). They stay events, one stat per group as the
  XML counts them (so the results tables hold the XML's rows, as AACT's XML-era reported_events
  did), and also fill the event groups' ``seriousNumAffected``/``AtRisk``, ``otherNum...`` and
  ``deathsNum...``, where API v2 keeps them.
- Records from before December 2016 may carry the old results layout: categories straight under
  a baseline measure (no ``class_list``) and an outcome's ``measure_list`` of measures. That layout
  has no place in API v2's classes; its values are kept verbatim among the unmapped values, under
  their XPath, and the measure's own fields (title, units, parameter) still map.
"""
from __future__ import annotations

import re
from typing import Any

from pipeline.documents.xml_values import code, flag, keep_subtree, text_of

ROOT = "clinical_results"

_GROUP_ID = re.compile(r"^([PBOE])(\d+)$")
_GROUP_PREFIXES = {"P": "FG", "B": "BG", "O": "OG", "E": "EG"}
_group_ids: dict[str, str] = {}


def group_id(xml_id: str | None) -> str | None:
    """``O2`` -> ``OG001``; an id of another shape stays as it is."""
    if not xml_id:
        return xml_id
    found = _group_ids.get(xml_id)
    if found is None:
        match = _GROUP_ID.match(xml_id)
        found = f"{_GROUP_PREFIXES[match.group(1)]}{int(match.group(2)) - 1:03d}" if match else xml_id
        if len(_group_ids) < 10_000:
            _group_ids[xml_id] = found
    return found


class _Results:
    """The section being built and where unmapped values go."""

    __slots__ = ("unmapped",)

    def __init__(self, unmapped: dict[str, str]) -> None:
        self.unmapped = unmapped

    def keep(self, element) -> None:
        keep_subtree(element, self.unmapped)


def results_section(element, unmapped: dict[str, str]) -> dict[str, Any]:
    results = _Results(unmapped)
    section: dict[str, Any] = {}
    more_info: dict[str, Any] = {}
    for child in element:
        tag = child.tag
        if tag == "participant_flow":
            section["participantFlowModule"] = _participant_flow(child, results)
        elif tag == "baseline":
            section["baselineCharacteristicsModule"] = _baseline(child, results)
        elif tag == "outcome_list":
            section["outcomeMeasuresModule"] = {"outcomeMeasures": _outcomes(child, results)}
        elif tag == "reported_events":
            section["adverseEventsModule"] = _adverse_events(child, results)
        elif tag == "certain_agreements":
            agreement = _certain_agreement(child, results)
            if agreement:
                more_info["certainAgreement"] = agreement
        elif tag == "limitations_and_caveats":
            value = text_of(child)
            if value:
                more_info["limitationsAndCaveats"] = {"description": value}
        elif tag == "point_of_contact":
            contact = _point_of_contact(child, results)
            if contact:
                more_info["pointOfContact"] = contact
        else:
            results.keep(child)
    if more_info:
        section["moreInfoModule"] = {key: more_info[key] for key in
                                     ("limitationsAndCaveats", "certainAgreement", "pointOfContact") if key in more_info}
    return section


# ---------------------------------------------------------------- groups and counts


def _groups(element, results: _Results) -> list[dict]:
    groups = []
    for group in element:
        if group.tag != "group":
            results.keep(group)
            continue
        entry: dict[str, Any] = {"id": group_id(group.get("group_id"))}
        for part in group:
            value = text_of(part)
            if part.tag in ("title", "description"):
                if value:
                    entry[part.tag] = value
            else:
                results.keep(part)
        groups.append(entry)
    return groups


def _denoms(element, results: _Results) -> list[dict]:
    """An ``analyzed_list``: one denom per ``analyzed`` (its units and per-group counts); the
    scope (Overall, Measure, Class) is where the list sits."""
    denoms = []
    for analyzed in element:
        if analyzed.tag != "analyzed":
            results.keep(analyzed)
            continue
        denom: dict[str, Any] = {}
        for part in analyzed:
            tag = part.tag
            if tag == "units":
                value = text_of(part)
                if value:
                    denom["units"] = value
            elif tag == "count_list":
                denom["counts"] = [{"groupId": group_id(count.get("group_id")), "value": count.get("value")}
                                   for count in part if count.tag == "count"]
            elif tag != "scope":
                results.keep(part)
        denoms.append(denom)
    return denoms


# ---------------------------------------------------------------- participant flow


def _participant_flow(element, results: _Results) -> dict[str, Any]:
    module: dict[str, Any] = {}
    for child in element:
        tag = child.tag
        if tag == "recruitment_details":
            _put(module, "recruitmentDetails", text_of(child))
        elif tag == "pre_assignment_details":
            _put(module, "preAssignmentDetails", text_of(child))
        elif tag == "group_list":
            module["groups"] = _groups(child, results)
        elif tag == "period_list":
            module["periods"] = [_period(period, results)
                                 for period in child]
        else:
            results.keep(child)
    return {key: module[key] for key in ("preAssignmentDetails", "recruitmentDetails", "groups", "periods") if key in module}


def _period(element, results: _Results) -> dict[str, Any]:
    period: dict[str, Any] = {}
    for child in element:
        tag = child.tag
        if tag == "title":
            _put(period, "title", text_of(child))
        elif tag == "milestone_list":
            period["milestones"] = [_flow_row(row, results, "achievements")
                                    for row in child]
        elif tag == "drop_withdraw_reason_list":
            period["dropWithdraws"] = [_flow_row(row, results, "reasons")
                                       for row in child]
        else:
            results.keep(child)
    return period



def _flow_row(element, results: _Results, key: str) -> dict[str, Any]:
    """A milestone or drop/withdraw reason: its title as type, its participants per group."""
    row: dict[str, Any] = {}
    for child in element:
        if child.tag == "title":
            _put(row, "type", text_of(child))
        elif child.tag == "participants_list":
            row[key] = [_attributes(participants, _PARTICIPANTS, results, "comment") for participants in child]
        else:
            results.keep(child)
    return row


# ---------------------------------------------------------------- baseline and outcome measures

_PARAM_TYPES = {"Count of Participants": "COUNT_OF_PARTICIPANTS", "Count of Units": "COUNT_OF_UNITS"}
_DISPERSIONS = {
    "80% Confidence Interval": "CONFIDENCE_80", "90% Confidence Interval": "CONFIDENCE_90",
    "95% Confidence Interval": "CONFIDENCE_95", "97.5% Confidence Interval": "CONFIDENCE_975",
    "99% Confidence Interval": "CONFIDENCE_99", "Geometric Coefficient of Variation": "GEOMETRIC_COEFFICIENT",
    "Inter-Quartile Range": "INTER_QUARTILE_RANGE",
}
_MEASURE_ORDER = ("title", "description", "populationDescription", "paramType", "dispersionType", "unitOfMeasure",
                  "denomUnitsSelected", "denoms", "classes")


def _measure(element, results: _Results, baseline: bool) -> dict[str, Any]:
    """A baseline measure, or the fields of an outcome's measure (API v2 puts them on the outcome).

    API v2 codes a baseline measure's dispersion (STANDARD_DEVIATION) but gives an outcome's as
    written (``Standard Deviation``)."""
    measure: dict[str, Any] = {}
    for child in element:
        tag = child.tag
        if tag == "class_list":
            measure["classes"] = [_class(item, results)
                                  for item in child]
            continue
        if tag == "analyzed_list":
            measure["denoms"] = _denoms(child, results)
            continue
        value = text_of(child)
        if tag == "title":
            _put(measure, "title", value)
        elif tag == "description":
            _put(measure, "description", value)
        elif tag == "population":
            _put(measure, "populationDescription", value)
        elif tag == "units":
            _put(measure, "unitOfMeasure", value)
        elif tag == "param":
            _put(measure, "paramType", _PARAM_TYPES.get(value) or code(value))
        elif tag == "dispersion":
            _put(measure, "dispersionType", (_DISPERSIONS.get(value) or code(value)) if baseline else value)
        elif tag == "units_analyzed":
            _put(measure, "denomUnitsSelected", value)
        else:
            # category_list straight under the measure: the layout before December 2016.
            results.keep(child)
    return {key: measure[key] for key in _MEASURE_ORDER if key in measure}


def _class(element, results: _Results) -> dict[str, Any]:
    item: dict[str, Any] = {}
    for child in element:
        tag = child.tag
        if tag == "title":
            _put(item, "title", text_of(child))
        elif tag == "analyzed_list":
            item["denoms"] = _denoms(child, results)
        elif tag == "category_list":
            item["categories"] = [_category(category, results)
                                  for category in child]
        else:
            results.keep(child)
    return item



def _category(element, results: _Results) -> dict[str, Any]:
    category: dict[str, Any] = {}
    for child in element:
        if child.tag == "title":
            _put(category, "title", text_of(child))
        elif child.tag == "measurement_list":
            category["measurements"] = [_attributes(measurement, _MEASUREMENT, results, "comment")
                                        for measurement in child]
        else:
            results.keep(child)
    return category


def _baseline(element, results: _Results) -> dict[str, Any]:
    module: dict[str, Any] = {}
    for child in element:
        tag = child.tag
        if tag == "population":
            _put(module, "populationDescription", text_of(child))
        elif tag == "group_list":
            module["groups"] = _groups(child, results)
        elif tag == "analyzed_list":
            module["denoms"] = _denoms(child, results)
        elif tag == "measure_list":
            module["measures"] = [_measure(measure, results, baseline=True)
                                  for measure in child]
        else:
            results.keep(child)
    return {key: module[key] for key in ("populationDescription", "groups", "denoms", "measures") if key in module}


_OUTCOME_TYPES = {"Other Pre-specified": "OTHER_PRE_SPECIFIED", "Post-Hoc": "POST_HOC"}
_OUTCOME_ORDER = ("type", "title", "description", "populationDescription", "reportingStatus", "anticipatedPostingDate",
                  "paramType", "dispersionType", "unitOfMeasure", "timeFrame", "denomUnitsSelected", "groups", "denoms",
                  "classes", "analyses")
_POSTING_DATE = re.compile(r"^(?:(\d{2})/)?(\d{4})$")


def _outcomes(element, results: _Results) -> list[dict]:
    outcomes = []
    for outcome in element:
        if outcome.tag == "outcome":
            outcomes.append(_outcome(outcome, results))
        else:
            results.keep(outcome)
    return outcomes


def _outcome(element, results: _Results) -> dict[str, Any]:
    outcome: dict[str, Any] = {}
    for child in element:
        tag = child.tag
        if tag == "measure":
            measure = _measure(child, results, baseline=False)
            outcome.update((key, value) for key, value in measure.items() if key not in outcome)
            # An outcome with measurements is posted; one without them awaits its posting date.
            outcome["reportingStatus"] = "POSTED"
            continue
        if tag == "group_list":
            outcome["groups"] = _groups(child, results)
            continue
        if tag == "analysis_list":
            outcome["analyses"] = [_analysis(analysis, results)
                                   for analysis in child]
            continue
        value = text_of(child)
        if tag == "type":
            _put(outcome, "type", _OUTCOME_TYPES.get(value) or code(value))
        elif tag == "title":
            _put(outcome, "title", value)
        elif tag == "description":
            _put(outcome, "description", value)
        elif tag == "time_frame":
            _put(outcome, "timeFrame", value)
        elif tag == "population":
            _put(outcome, "populationDescription", value)
        elif tag == "posting_date" and value and _POSTING_DATE.match(value):
            month, year = _POSTING_DATE.match(value).groups()
            outcome["anticipatedPostingDate"] = f"{year}-{month}" if month else year
            outcome.setdefault("reportingStatus", "NOT_POSTED")
        else:
            # safety_issue (retired in 2017), and the old layout's measure_list.
            results.keep(child)
    return {key: outcome[key] for key in _OUTCOME_ORDER if key in outcome}


_ANALYSIS_TEXTS = {
    "groups_desc": "groupDescription", "non_inferiority_desc": "nonInferiorityComment", "p_value": "pValue",
    "p_value_desc": "pValueComment", "method": "statisticalMethod", "method_desc": "statisticalComment",
    "param_type": "paramType", "param_value": "paramValue", "dispersion_value": "dispersionValue",
    "ci_percent": "ciPctValue", "ci_lower_limit": "ciLowerLimit", "ci_upper_limit": "ciUpperLimit",
    "ci_upper_limit_na_comment": "ciUpperLimitComment", "estimate_desc": "estimateComment",
    "other_analysis_desc": "otherAnalysisDescription",
}
_ANALYSIS_CODES = {"non_inferiority_type": "nonInferiorityType", "dispersion_type": "dispersionType",
                   "ci_n_sides": "ciNumSides"}
_ANALYSIS_RENAMES = {"1-Sided": "ONE_SIDED", "2-Sided": "TWO_SIDED", "Standard Error of the Mean": "STANDARD_ERROR_OF_MEAN"}


def _analysis(element, results: _Results) -> dict[str, Any]:
    analysis: dict[str, Any] = {}
    for child in element:
        tag = child.tag
        if tag == "group_id_list":
            analysis["groupIds"] = [group_id(text_of(item)) for item in child if text_of(item)]
            continue
        value = text_of(child)
        if not value:
            continue
        if tag in _ANALYSIS_TEXTS:
            analysis[_ANALYSIS_TEXTS[tag]] = value
        elif tag in _ANALYSIS_CODES:
            analysis[_ANALYSIS_CODES[tag]] = _ANALYSIS_RENAMES.get(value) or code(value)
        elif tag == "non_inferiority" and flag(value) is not None:
            # Before 2017 a Yes/No: whether non-inferiority or equivalence was tested.
            analysis["testedNonInferiority"] = flag(value)
        else:
            results.keep(child)
    return analysis


# ---------------------------------------------------------------- adverse events

_ASSESSMENTS = {"Systematic Assessment": "SYSTEMATIC_ASSESSMENT", "Non-systematic Assessment": "NON_SYSTEMATIC_ASSESSMENT"}
# The totals the XML gives as events of the "Total" category, and the event group fields API v2 keeps them in.
_TOTALS = {
    "Total, serious adverse events": ("seriousNumAffected", "seriousNumAtRisk"),
    "Total, other adverse events": ("otherNumAffected", "otherNumAtRisk"),
    "Total, all-cause mortality": ("deathsNumAffected", "deathsNumAtRisk"),
}
_GROUP_ORDER = ("id", "title", "description", "deathsNumAffected", "deathsNumAtRisk", "seriousNumAffected",
                "seriousNumAtRisk", "otherNumAffected", "otherNumAtRisk")


def _adverse_events(element, results: _Results) -> dict[str, Any]:
    module: dict[str, Any] = {}
    for child in element:
        tag = child.tag
        if tag == "frequency_threshold":  # before 2017 it sat here rather than in other_events
            _put(module, "frequencyThreshold", text_of(child))
        elif tag == "time_frame":
            _put(module, "timeFrame", text_of(child))
        elif tag == "desc":
            _put(module, "description", text_of(child))
        elif tag == "group_list":
            module["eventGroups"] = _groups(child, results)
        elif tag in ("serious_events", "other_events"):
            key = "seriousEvents" if tag == "serious_events" else "otherEvents"
            module[key] = _events(child, results, module)
        else:
            results.keep(child)
    groups = {group["id"]: group for group in module.get("eventGroups", ())}
    for kind in ("seriousEvents", "otherEvents"):
        for event in module.get(kind, ()):
            fields = _TOTALS.get(event.get("term")) if event.get("organSystem") == "Total" else None
            if fields is None:
                continue
            for stat in event["stats"]:
                group = groups.get(stat.get("groupId"))
                if group is not None:
                    for field, value in zip(fields, (stat.get("numAffected"), stat.get("numAtRisk"))):
                        if value is not None:
                            group[field] = value
    if groups:
        module["eventGroups"] = [{key: group[key] for key in _GROUP_ORDER if key in group} for group in groups.values()]
    order = ("frequencyThreshold", "timeFrame", "description", "eventGroups", "seriousEvents", "otherEvents")
    return {key: module[key] for key in order if key in module}



def _events(element, results: _Results, module: dict) -> list[dict]:
    vocabulary = assessment = None
    events: list[dict] = []
    for child in element:
        tag = child.tag
        if tag == "frequency_threshold":
            _put(module, "frequencyThreshold", text_of(child))
        elif tag == "default_vocab":
            vocabulary = text_of(child)
        elif tag == "default_assessment":
            assessment = text_of(child)
        elif tag == "category_list":
            for category in child:
                organ_system = text_of(category.find("title")) if category.find("title") is not None else None
                for part in category:
                    if part.tag == "event_list":
                        events += [_event(event, results,
                                          organ_system)
                                   for event in part]
                    elif part.tag != "title":
                        results.keep(part)
        else:
            results.keep(child)
    for event in events:
        if vocabulary and "sourceVocabulary" not in event:
            event["sourceVocabulary"] = vocabulary
        if assessment and "assessmentType" not in event:
            event["assessmentType"] = _ASSESSMENTS.get(assessment) or code(assessment)
    return [{key: event[key] for key in ("term", "organSystem", "sourceVocabulary", "assessmentType", "notes", "stats")
             if key in event} for event in events]


def _event(element, results: _Results, organ_system: str | None) -> dict[str, Any]:
    event: dict[str, Any] = {}
    if organ_system:
        event["organSystem"] = organ_system
    stats = []
    for child in element:
        tag = child.tag
        if tag == "sub_title":
            _put(event, "term", text_of(child))
            if child.get("vocab"):
                event["sourceVocabulary"] = child.get("vocab")
        elif tag == "assessment":
            value = text_of(child)
            if value:
                event["assessmentType"] = _ASSESSMENTS.get(value) or code(value)
        elif tag == "description":
            _put(event, "notes", text_of(child))
        elif tag == "counts":
            stats.append(_attributes(child, _COUNTS, results, None))
        else:
            results.keep(child)
    event["stats"] = stats
    return event


# Attribute tables: XML name -> (API v2 key, kind), kind 0 the value as it is, 1 a group id, 2 an integer.
_PARTICIPANTS = {"group_id": ("groupId", 1), "count": ("numSubjects", 0)}
_MEASUREMENT = {"group_id": ("groupId", 1), "value": ("value", 0), "spread": ("spread", 0),
                "lower_limit": ("lowerLimit", 0), "upper_limit": ("upperLimit", 0)}
_COUNTS = {"group_id": ("groupId", 1), "events": ("numEvents", 2), "subjects_affected": ("numAffected", 2),
           "subjects_at_risk": ("numAtRisk", 2)}


def _attributes(element, table: dict[str, tuple[str, int]], results: _Results, text_key: str | None) -> dict[str, Any]:
    """A participants, measurement or counts element (the bulk of a results section): its
    attributes under their API v2 names, and its text, if any, under `text_key`. An attribute the
    table does not name, or text where none is expected, is kept unmapped."""
    entry: dict[str, Any] = {}
    for name, value in element.items():
        spec = table.get(name)
        if spec is None:
            results.unmapped[f"{_xpath(element)}/@{name}"] = value
            continue
        key, kind = spec
        if kind == 1:
            value = group_id(value)
        elif kind == 2 and value.isdigit():
            value = int(value)
        entry[key] = value
    text = element.text
    if text is not None and not text.isspace():
        if text_key is None or len(element):
            results.unmapped[_xpath(element)] = text.strip()
        else:
            entry[text_key] = text.strip()
    return entry


def _xpath(element) -> str:
    tree = element.getroottree()
    return tree.getpath(element)[len(tree.getroot().tag) + 2:]


# ---------------------------------------------------------------- more information

_PI_EMPLOYEE = {
    "All Principal Investigators ARE employed by the organization sponsoring the study.": True,
    "Principal Investigators are NOT employed by the organization sponsoring the study.": False,
}
_NO_AGREEMENT = "There is NOT an agreement"
_RESTRICTION_TYPES = (("less than or equal to 60 days", "LTE60"), ("more than 60 days but less than or equal to 180 days", "GT60"))


def _certain_agreement(element, results: _Results) -> dict[str, Any]:
    agreement: dict[str, Any] = {}
    for child in element:
        value = text_of(child)
        if not value:
            continue
        if child.tag == "pi_employee" and value in _PI_EMPLOYEE:
            agreement["piSponsorEmployee"] = _PI_EMPLOYEE[value]
        elif child.tag == "restrictive_agreement":
            agreement.update(_restriction(value))
        else:
            results.keep(child)
    return agreement


def _restriction(text: str) -> dict[str, Any]:
    """The restriction sentence: no agreement, the registry's standard embargo sentences
    (LTE60, GT60), or the sponsor's own terms (OTHER, kept as otherDetails)."""
    if text.startswith(_NO_AGREEMENT):
        return {"restrictiveAgreement": False}
    if text.startswith("The only disclosure restriction on the PI is that the sponsor can review results"):
        for phrase, restriction_type in _RESTRICTION_TYPES:
            if phrase in text:
                return {"restrictionType": restriction_type, "restrictiveAgreement": True}
    return {"restrictionType": "OTHER", "restrictiveAgreement": True, "otherDetails": text}


def _point_of_contact(element, results: _Results) -> dict[str, Any]:
    contact: dict[str, Any] = {}
    keys = {"name_or_title": "title", "organization": "organization", "email": "email", "phone": "phone",
            "phone_ext": "phoneExt"}
    for child in element:
        key = keys.get(child.tag)
        if key is None:
            results.keep(child)
        else:
            _put(contact, key, text_of(child))
    return {key: contact[key] for key in ("title", "organization", "email", "phone", "phoneExt") if key in contact}


def _put(target: dict, key: str, value: Any) -> None:
    if value is not None and value != "":
        target[key] = value
