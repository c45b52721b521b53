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
from collections.abc import Callable
from typing import Any

from pipeline.documents.xml_values import Field, code, flag, keep_subtree, text_of

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


# ---------------------------------------------------------------- reading structures


def _read(element, results: _Results, fields: dict[str, Field], nested: dict[str, tuple[str, Callable]] | None = None,
          order: tuple[str, ...] | None = None) -> dict[str, Any]:
    """A structure: its leaves by ``fields`` (tag -> (key, conversion)), its parts by ``nested``
    (tag -> (key, reader of the part)), in API v2's key ``order`` when given; anything else, and
    a leaf whose text does not convert, is kept."""
    target: dict[str, Any] = {}
    for child in element:
        tag = child.tag
        spec = fields.get(tag)
        if spec is not None and not len(child):
            text = child.text
            if text is not None and (text := text.strip()):
                key, convert = spec
                value = text if convert is None else convert(text)
                if value is None:
                    results.keep(child)
                else:
                    target[key] = value
            continue
        found = nested.get(tag) if nested is not None else None
        if found is None:
            results.keep(child)
        else:
            target[found[0]] = found[1](child, results)
    return target if order is None else _ordered(target, order)


# Key orders already checked against an API v2 order (a structure's keys mostly come in it).
_in_order: set[tuple[tuple[str, ...], tuple[str, ...]]] = set()


def _ordered(target: dict[str, Any], order: tuple[str, ...]) -> dict[str, Any]:
    """``target`` with its keys in ``order`` (keys not in it left out)."""
    keys = tuple(target)
    if (keys, order) in _in_order:
        return target
    ordered = {key: target[key] for key in order if key in target}
    if tuple(ordered) == keys and len(_in_order) < 10_000:
        _in_order.add((keys, order))
    return ordered


def _each(tag: str, read: Callable) -> Callable:
    """A reader of a list element: ``read`` for each child named ``tag``, any other child kept."""

    def read_list(element, results: _Results) -> list:
        items = []
        for child in element:
            if child.tag == tag:
                items.append(read(child, results))
            else:
                results.keep(child)
        return items

    return read_list


def _each_read(tag: str, fields: dict[str, Field], nested: dict[str, tuple[str, Callable]] | None = None,
               order: tuple[str, ...] | None = None) -> Callable:
    """A reader of a list element whose items (children named ``tag``) ``_read`` reads."""

    def read_list(element, results: _Results) -> list:
        items = []
        for child in element:
            if child.tag == tag:
                items.append(_read(child, results, fields, nested, order))
            else:
                results.keep(child)
        return items

    return read_list


_TEXT_FIELDS: dict[str, Field] = {"title": ("title", None), "description": ("description", None)}


def _group(element, results: _Results) -> dict[str, Any]:
    return {"id": group_id(element.get("group_id")), **_read(element, results, _TEXT_FIELDS)}


_groups = _each("group", _group)


_counts = _each("count", lambda element, results: {"groupId": group_id(element.get("group_id")), "value": element.get("value")})


# An analyzed_list: one denom per analyzed (its units and per-group counts). Its scope (Overall,
# Measure, Class) says where the list sits, which the denom's place says too: read, then left out.
_denoms = _each_read("analyzed", {"units": ("units", None), "scope": ("scope", None)}, {"count_list": ("counts", _counts)},
                     order=("units", "counts"))


# ---------------------------------------------------------------- participant flow


def _participants(element, results: _Results) -> list[dict]:
    return _cells(element, _PARTICIPANTS, results, "comment")


# A milestone or drop/withdraw reason: its title as type, its participants per group.
_milestones = _each_read("milestone", {"title": ("type", None)}, {"participants_list": ("achievements", _participants)})
_drop_withdraws = _each_read("drop_withdraw_reason", {"title": ("type", None)}, {"participants_list": ("reasons", _participants)})
_periods = _each_read("period", {"title": ("title", None)},
                      {"milestone_list": ("milestones", _milestones), "drop_withdraw_reason_list": ("dropWithdraws", _drop_withdraws)})


def _participant_flow(element, results: _Results) -> dict[str, Any]:
    return _read(element, results,
                 {"recruitment_details": ("recruitmentDetails", None), "pre_assignment_details": ("preAssignmentDetails", None)},
                 {"group_list": ("groups", _groups), "period_list": ("periods", _periods)},
                 order=("preAssignmentDetails", "recruitmentDetails", "groups", "periods"))


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


def _measurements(element, results: _Results) -> list[dict]:
    return _cells(element, _MEASUREMENT, results, "comment")


_categories = _each_read("category", {"title": ("title", None)}, {"measurement_list": ("measurements", _measurements)})
_classes = _each_read("class", {"title": ("title", None)},
                      {"analyzed_list": ("denoms", _denoms), "category_list": ("categories", _categories)},
                      order=("title", "denoms", "categories"))

_MEASURE_FIELDS: dict[str, Field] = {
    "title": ("title", None), "description": ("description", None), "population": ("populationDescription", None),
    "units": ("unitOfMeasure", None), "param": ("paramType", lambda value: _PARAM_TYPES.get(value) or code(value)),
    "units_analyzed": ("denomUnitsSelected", None),
}
# API v2 codes a baseline measure's dispersion (STANDARD_DEVIATION) but gives an outcome's as written.
_BASELINE_MEASURE_FIELDS = {**_MEASURE_FIELDS,
                            "dispersion": ("dispersionType", lambda value: _DISPERSIONS.get(value) or code(value))}
_OUTCOME_MEASURE_FIELDS = {**_MEASURE_FIELDS, "dispersion": ("dispersionType", None)}
# A measure's categories straight under it (no class_list) are the layout before December 2016: kept.
_MEASURE_PARTS = {"class_list": ("classes", _classes), "analyzed_list": ("denoms", _denoms)}

_measures = _each_read("measure", _BASELINE_MEASURE_FIELDS, _MEASURE_PARTS, order=_MEASURE_ORDER)


def _baseline(element, results: _Results) -> dict[str, Any]:
    return _read(element, results, {"population": ("populationDescription", None)},
                 {"group_list": ("groups", _groups), "analyzed_list": ("denoms", _denoms), "measure_list": ("measures", _measures)},
                 order=("populationDescription", "groups", "denoms", "measures"))


_OUTCOME_TYPES = {"Other Pre-specified": "OTHER_PRE_SPECIFIED", "Post-Hoc": "POST_HOC"}
_OUTCOME_ORDER = ("type", "title", "description", "populationDescription", "reportingStatus", "anticipatedPostingDate",
                  "paramType", "dispersionType", "unitOfMeasure", "timeFrame", "denomUnitsSelected", "groups", "denoms",
                  "classes", "analyses")
_POSTING_DATE = re.compile(r"^(?:(\d{2})/)?(\d{4})$")


def _posting_date(value: str) -> str | None:
    match = _POSTING_DATE.match(value)
    return None if match is None else f"{match.group(2)}-{match.group(1)}" if match.group(1) else match.group(2)


_OUTCOME_FIELDS: dict[str, Field] = {
    "type": ("type", lambda value: _OUTCOME_TYPES.get(value) or code(value)), "title": ("title", None),
    "description": ("description", None), "time_frame": ("timeFrame", None), "population": ("populationDescription", None),
    "posting_date": ("anticipatedPostingDate", _posting_date),
}


def _outcome_measure(element, results: _Results) -> dict[str, Any]:
    return _read(element, results, _OUTCOME_MEASURE_FIELDS, _MEASURE_PARTS)


def _outcome(element, results: _Results) -> dict[str, Any]:
    # safety_issue (retired in 2017) and the old layout's measure_list are kept.
    outcome = _read(element, results, _OUTCOME_FIELDS, {
        "measure": ("measure", _outcome_measure), "group_list": ("groups", _groups),
        "analysis_list": ("analyses", _each("analysis", _analysis)),
    })
    measure = outcome.pop("measure", None)
    if measure is not None:
        # API v2 puts the measure's fields on the outcome; an outcome with a measure is posted.
        outcome.update((key, value) for key, value in measure.items() if key not in outcome)
        outcome["reportingStatus"] = "POSTED"
    elif "anticipatedPostingDate" in outcome:
        outcome["reportingStatus"] = "NOT_POSTED"
    return {key: outcome[key] for key in _OUTCOME_ORDER if key in outcome}


_outcomes = _each("outcome", _outcome)

_ANALYSIS_RENAMES = {"1-Sided": "ONE_SIDED", "2-Sided": "TWO_SIDED", "Standard Error of the Mean": "STANDARD_ERROR_OF_MEAN"}


def _analysis_code(value: str) -> str | None:
    return _ANALYSIS_RENAMES.get(value) or code(value)


_ANALYSIS_FIELDS: dict[str, Field] = {
    **{tag: (key, None) for tag, key in {
        "groups_desc": "groupDescription", "non_inferiority_desc": "nonInferiorityComment", "p_value": "pValue",
        "p_value_desc": "pValueComment", "method": "statisticalMethod", "method_desc": "statisticalComment",
        "param_type": "paramType", "param_value": "paramValue", "dispersion_value": "dispersionValue",
        "ci_percent": "ciPctValue", "ci_lower_limit": "ciLowerLimit", "ci_upper_limit": "ciUpperLimit",
        "ci_upper_limit_na_comment": "ciUpperLimitComment", "estimate_desc": "estimateComment",
        "other_analysis_desc": "otherAnalysisDescription",
    }.items()},
    **{tag: (key, _analysis_code) for tag, key in {
        "non_inferiority_type": "nonInferiorityType", "dispersion_type": "dispersionType", "ci_n_sides": "ciNumSides",
    }.items()},
    # Before 2017 a Yes/No: whether non-inferiority or equivalence was tested.
    "non_inferiority": ("testedNonInferiority", flag),
}


def _analysis_groups(element, results: _Results) -> list[str]:
    return [group_id(value) for item in element if (value := text_of(item))]


def _analysis(element, results: _Results) -> dict[str, Any]:
    return _read(element, results, _ANALYSIS_FIELDS, {"group_id_list": ("groupIds", _analysis_groups)})


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
    """A serious_events or other_events list. Its default vocabulary and assessment apply to every
    event that states none (API v2 states them per event)."""
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
            assessment = _ASSESSMENTS.get(assessment) or code(assessment)
        elif tag == "category_list":
            for category in child:
                organ_system = None
                for part in category:  # the category's first title, mostly its first child
                    if part.tag == "title":
                        organ_system = text_of(part)
                        break
                for part in category:
                    if part.tag == "event_list":
                        events += [_event(event, results, organ_system) for event in part]
                    elif part.tag != "title":
                        results.keep(part)
        else:
            results.keep(child)
    if vocabulary or assessment:
        for event in events:
            if vocabulary and "sourceVocabulary" not in event:
                event["sourceVocabulary"] = vocabulary
            if assessment and "assessmentType" not in event:
                event["assessmentType"] = assessment
    return events


def _event(element, results: _Results, organ_system: str | None) -> dict[str, Any]:
    event: dict[str, Any] = {}
    stats = []
    for child in element:
        tag = child.tag
        if tag == "counts":
            stats.append(_cell(child, _COUNTS, results, None))
        elif tag == "sub_title":
            _put(event, "term", text_of(child))
            if organ_system:
                event["organSystem"] = organ_system
            vocabulary = child.get("vocab")
            if vocabulary:
                event["sourceVocabulary"] = vocabulary
        elif tag == "assessment":
            value = text_of(child)
            if value:
                event["assessmentType"] = _ASSESSMENTS.get(value) or code(value)
        elif tag == "description":
            _put(event, "notes", text_of(child))
        else:
            results.keep(child)
    if organ_system:
        event.setdefault("organSystem", organ_system)
    event["stats"] = stats
    return event


# Attribute tables: XML name -> (API v2 key, kind), kind 0 the value as it is, 1 a group id, 2 an integer.
_PARTICIPANTS = {"group_id": ("groupId", 1), "count": ("numSubjects", 0)}
_MEASUREMENT = {"group_id": ("groupId", 1), "value": ("value", 0), "spread": ("spread", 0),
                "lower_limit": ("lowerLimit", 0), "upper_limit": ("upperLimit", 0)}
_COUNTS = {"group_id": ("groupId", 1), "events": ("numEvents", 2), "subjects_affected": ("numAffected", 2),
           "subjects_at_risk": ("numAtRisk", 2)}


def _cells(element, table: dict[str, tuple[str, int]], results: _Results, text_key: str) -> list[dict]:
    """The cells of a participants_list or measurement_list (see ``_cell``)."""
    return [_cell(cell, table, results, text_key) for cell in element]


def _cell(element, table: dict[str, tuple[str, int]], results: _Results, text_key: str | None) -> dict[str, Any]:
    """A participants, measurement or counts element (the bulk of a results section): its
    attributes under their API v2 names, and its text, if any, under `text_key`. An attribute the
    table does not name, text where none is expected, and any element inside are kept unmapped."""
    entry: dict[str, Any] = {}
    for name, value in element.items():
        spec = table.get(name)
        if spec is None:
            results.unmapped[f"{_xpath(element)}/@{name}"] = value
            continue
        key, kind = spec
        if kind == 1:
            value = _group_ids.get(value) or group_id(value)
        elif kind == 2 and value.isdigit():
            value = int(value)
        entry[key] = value
    text = element.text
    if text is not None and not text.isspace():
        if text_key is None or len(element):
            results.unmapped[_xpath(element)] = text.strip()
        else:
            entry[text_key] = text.strip()
    if len(element):
        for child in element:
            results.keep(child)
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


_CONTACT_FIELDS: dict[str, Field] = {
    "name_or_title": ("title", None), "organization": ("organization", None), "email": ("email", None),
    "phone": ("phone", None), "phone_ext": ("phoneExt", None),
}


def _point_of_contact(element, results: _Results) -> dict[str, Any]:
    return _read(element, results, _CONTACT_FIELDS, order=("title", "organization", "email", "phone", "phoneExt"))


def _put(target: dict, key: str, value: Any) -> None:
    if value is not None and value != "":
        target[key] = value
