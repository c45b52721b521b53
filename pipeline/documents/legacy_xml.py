"""ClinicalTrials.gov's retired XML records (``<clinical_study>``), read into the API v2 structure.

Until 2024 the registry published each study as one ``<clinical_study>`` document: the
AllPublicXML bulk download (one file per study, in folders such as ``NCT0000xxxx/``) and the
classic API. Two public schemas exist: the one before 2017 (``firstreceived_date``,
``lastchanged_date``, a free-text ``study_design``, gender ``Both``) and the 2017+ one
(``study_first_submitted``, ``last_update_posted``, ``study_design_info``); transition-era
records carry the dates of both. Both are read here.

The mapping follows ClinicalTrials.gov's own correspondence of data elements: the XML schema
(public.xsd, whose change history names each element's successor) and the data element to API
field crosswalk of the classic API, whose field names are API v2's, in API v2's structure:

- coded values take their API v2 spelling (``Phase 1/Phase 2`` -> ``[PHASE1, PHASE2]``,
  ``N/A`` -> ``NA``, ``Anticipated`` -> ``ESTIMATED``, ``Both`` -> ``ALL``, ``Parallel
  Assignment`` -> ``PARALLEL``, ``None (Open Label)`` -> ``NONE``, ``U.S. Fed`` -> ``FED``),
  Yes/No flags become booleans (``Accepts Healthy Volunteers`` -> true);
- dates (``March 5, 2019``, ``March 2019``) become ISO (``2019-03-05``, ``2019-03``);
- text blocks are dedented, their paragraphs (blank-line separated) kept;
- ``<source>`` is the organisation (``identificationModule.organization.fullName``), the
  download date the data version (``miscInfoModule.versionHolder``);
- the pre-2017 dates stand in for their successors when those are absent
  (``firstreceived_date`` -> studyFirstSubmitDate, ``lastchanged_date`` -> lastUpdateSubmitDate
  and lastUpdatePostDate, so that an old snapshot takes its place in a study's history);
- ``<clinical_results>`` becomes ``resultsSection`` (see ``legacy_xml_results``).

Values with no home in API v2 (``number_of_arms``, ``oversight_info/authority``, an
outcome's ``safety_issue``, a country listed only in ``location_countries``, an element the
schema never had, ...) go under the record's ``legacyXml`` key, keyed by their XPath below
``clinical_study`` (positions 1-based, as XPath counts); the normalizer stores them in
``unmapped_values``. Only the download header's fixed link text and record URL (the NCT id's
address) are not kept.

Parsing is lxml's with entity resolution, DTD loading and network access off and libxml2's
size and depth limits on; a document that declares entities (billion laughs, external
entities), nests too deep, is cut short, is not well-formed or has another root element is
one error.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from lxml import etree

from pipeline.documents.detect import first_non_utf8_byte, not_utf8_error
from pipeline.documents.model import ReadError, ReadItem, check_study, excerpt_of
from pipeline.documents.legacy_xml_results import results_section
from pipeline.documents.xml_values import (
    EntityFound, Field, code, flag, iso_date, keep_subtree, person_name, read_fields, text_of, textblock,
)

LEGACY_XML = "legacy_xml"
ROOT_TAG = "clinical_study"
UNMAPPED_KEY = "legacyXml"

# One parser per process (lxml parsers are not shared between threads; the loader uses processes).
_SAFE = dict(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_comments=True,
             remove_pis=True, remove_blank_text=True, collect_ids=False)
_PARSER = etree.XMLParser(**_SAFE)
# Documents are UTF-8 (or UTF-16, transcoded to UTF-8 before they get here), whatever they declare;
# forcing the encoding costs half the parse, so only a document declaring another one pays it.
_UTF8_PARSER = etree.XMLParser(**_SAFE, encoding="utf-8")
_DECLARED_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._-]+)""")


def read_legacy_xml(data: bytes, position: str = "") -> Iterator[ReadItem]:
    """The study of one ``<clinical_study>`` document, or the error that stops it."""
    yield parse_study(data, position)


def parse_study(data: bytes, position: str = "") -> ReadItem:
    declared = _DECLARED_ENCODING.match(data[:200])
    utf8 = declared is None or declared.group(1).lower() in (b"utf-8", b"utf8")
    try:
        root = etree.fromstring(data, _PARSER if utf8 else _UTF8_PARSER)
    except etree.XMLSyntaxError as error:
        return _syntax_error(data, error, position)
    dtd = root.getroottree().docinfo.internalDTD
    if dtd is not None and any(True for _ in dtd.iterentities()):
        return ReadError(position, "XML declares entities (entity expansion and external entities are refused)",
                         excerpt_of(data[:400]))
    if root.tag != ROOT_TAG:
        return ReadError(position, f"XML root element is <{root.tag}>, not <{ROOT_TAG}>", excerpt_of(data[:400]))
    try:
        study = study_from_element(root)
    except EntityFound:
        return ReadError(position, "XML uses an undeclared entity", excerpt_of(data[:400]))
    return check_study(study, position, data[:400])


def _syntax_error(data: bytes, error: etree.XMLSyntaxError, position: str) -> ReadError:
    bad_byte = first_non_utf8_byte(data)
    if bad_byte is not None:
        return not_utf8_error(data, bad_byte, position)
    line, column = error.position
    message = _WHERE.sub("", error.msg)
    kind = "truncated XML" if "Premature end" in message else "malformed XML"
    where = f"line {line}, column {column}"
    return ReadError(", ".join(p for p in (position, where) if p), f"{kind}: {message}", excerpt_of(_line(data, line)))


_WHERE = re.compile(r",? line \d+, column \d+$")


def _line(data: bytes, number: int) -> bytes:
    lines = data.split(b"\n", number)
    return lines[number - 1][:400] if 0 < number <= len(lines) else data[-400:]


# ---------------------------------------------------------------- the protocol


class _Study:
    """The canonical record being built, with the unmapped values found on the way."""

    __slots__ = ("record", "unmapped", "modules", "lists", "legacy_dates", "listed_countries")

    def __init__(self) -> None:
        self.record: dict[str, Any] = {}
        self.unmapped: dict[str, str] = {}
        self.modules: dict[str, dict] = {}
        self.lists: dict[str, list] = {}
        self.legacy_dates: list = []  # pre-2017 date elements, placed once their successors are known
        self.listed_countries: list = []  # location_countries, kept where no site is in the country

    def module(self, name: str) -> dict:
        """A module of protocolSection (or derivedSection for names that start with 'derived.')."""
        found = self.modules.get(name)
        if found is None:
            section, _, module = name.rpartition(".")
            found = self.modules[name] = {}
            self.record.setdefault(section or "protocolSection", {})[module] = found
        return found

    def items(self, module: str, key: str) -> list:
        """The list at ``key`` of a module (keys that hold lists are unique across modules)."""
        found = self.lists.get(key)
        if found is None:
            found = self.lists[key] = self.module(module)[key] = []
        return found

    def keep(self, element) -> None:
        """Every value under an element with no API v2 home, by its XPath."""
        keep_subtree(element, self.unmapped)


def study_from_element(root) -> dict[str, Any]:
    """The API v2 study for a parsed ``<clinical_study>`` element."""
    study = _Study()
    for child in root:
        handler = _HANDLERS.get(child.tag)
        if handler is None:
            # An element the schema never had, or an entity reference (refused in keep_subtree).
            study.keep(child)
        else:
            handler(study, child)
    for name, value in root.attrib.items():
        study.unmapped[f"@{name}"] = value
    _finish(study)
    record = study.record
    if study.unmapped:
        record[UNMAPPED_KEY] = study.unmapped
    return record


def _finish(study: _Study) -> None:
    """What depends on several elements: the legacy dates' fallbacks, countries only listed, and
    the modules in API v2's order."""
    if study.legacy_dates:
        status = study.module("statusModule")
        for element in study.legacy_dates:
            tag, date = element.tag, iso_date(text_of(element))
            if tag in _REDUNDANT_DATES:
                held = date is not None and status.get(_REDUNDANT_DATES[tag]) == date
            else:
                held = _place_legacy_date(status, _LEGACY_DATE_TARGETS[tag], date)
            if not held:
                study.keep(element)
    if study.listed_countries:
        sites = study.modules.get("contactsLocationsModule", {}).get("locations", ())
        at_sites = {site.get("country") for site in sites}
        for country in study.listed_countries:
            if text_of(country) not in at_sites:
                study.keep(country)
    record = study.record
    protocol = record.get("protocolSection")
    if protocol is not None:
        record["protocolSection"] = {name: protocol[name] for name in _MODULE_ORDER if name in protocol}
    record["hasResults"] = "resultsSection" in record
    study.record = {key: record[key] for key in _SECTION_ORDER if key in record}


def _place_legacy_date(status: dict, targets: tuple[str, ...], date: str | None) -> bool:
    """Puts a pre-2017 date where its successor is absent; whether the date is then held
    (placed, or equal to its successor's)."""
    if date is None:
        return False
    held = False
    for target in targets:
        current = status.get(target)
        if target.endswith("Struct"):
            if current is None:
                status[target] = {"date": date}
            held = held or current is None or current.get("date") == date
        else:
            if current is None:
                status[target] = date
            held = held or current is None or current == date
    return held


_SECTION_ORDER = ("protocolSection", "resultsSection", "documentSection", "derivedSection", "hasResults")
_MODULE_ORDER = (
    "identificationModule", "statusModule", "sponsorCollaboratorsModule", "oversightModule", "descriptionModule",
    "conditionsModule", "designModule", "armsInterventionsModule", "outcomesModule", "eligibilityModule",
    "contactsLocationsModule", "referencesModule", "ipdSharingStatementModule",
)

# Each pre-2017 date, and the API v2 field(s) it stands in for when its successor is absent.
_LEGACY_DATE_TARGETS: dict[str, tuple[str, ...]] = {
    "firstreceived_date": ("studyFirstSubmitDate",),
    "firstreceived_results_date": ("resultsFirstSubmitDate",),
    "firstreceived_results_disposition_date": ("dispFirstSubmitDate",),
    "lastchanged_date": ("lastUpdateSubmitDate", "lastUpdatePostDateStruct"),
}



def _set(target: dict, key: str, value: Any) -> None:
    if value is not None and value != "":
        target[key] = value


def _identification(name: str) -> Callable:
    def handle(study: _Study, element) -> None:
        _set(study.module("identificationModule"), name, text_of(element))
    return handle


def _id_info(study: _Study, element) -> None:
    module = study.module("identificationModule")
    secondary, aliases = [], []
    for child in element:
        tag = child.tag
        value = text_of(child)
        if tag == "nct_id":
            _set(module, "nctId", value)
        elif tag == "org_study_id":
            if value:
                module["orgStudyIdInfo"] = {"id": value}
        elif tag == "secondary_id":
            if value:
                secondary.append({"id": value})
        elif tag == "nct_alias":
            if value:
                aliases.append(value)
        else:
            study.keep(child)
    if secondary:
        module["secondaryIdInfos"] = secondary
    if aliases:
        module["nctIdAliases"] = aliases


_SPONSOR_FIELDS: dict[str, Field] = {"agency": ("name", None), "agency_class": ("class", code)}


def _sponsor(element, study: _Study) -> dict:
    return read_fields(element, _SPONSOR_FIELDS, {}, study.keep)


def _sponsors(study: _Study, element) -> None:
    module = study.module("sponsorCollaboratorsModule")
    collaborators = []
    for child in element:
        tag = child.tag
        if tag == "lead_sponsor":
            module["leadSponsor"] = _sponsor(child, study)
        elif tag == "collaborator":
            collaborators.append(_sponsor(child, study))
        else:
            study.keep(child)
    if collaborators:
        module["collaborators"] = collaborators


def _source(study: _Study, element) -> None:
    value = text_of(element)
    if value:
        study.module("identificationModule")["organization"] = {"fullName": value}


_OVERSIGHT_FIELDS: dict[str, Field] = {
    "has_dmc": ("oversightHasDmc", flag), "is_fda_regulated_drug": ("isFdaRegulatedDrug", flag),
    "is_fda_regulated_device": ("isFdaRegulatedDevice", flag), "is_unapproved_device": ("isUnapprovedDevice", flag),
    "is_ppsd": ("isPpsd", flag), "is_us_export": ("isUsExport", flag),
}


def _oversight(study: _Study, element) -> None:
    # authority, is_fda_regulated, is_section_801: retired before API v2, which has no home for them.
    oversight = read_fields(element, _OVERSIGHT_FIELDS, {}, study.keep)
    if oversight:
        study.module("oversightModule").update(oversight)


def _textblock_of(element, study: _Study) -> str | None:
    """The dedented text of an element holding a ``<textblock>`` (anything else in it is kept)."""
    found = None
    for child in element:
        if child.tag == "textblock" and not len(child):
            found = textblock(child.text)
        else:
            study.keep(child)
    return found


def _description(name: str) -> Callable:
    def handle(study: _Study, element) -> None:
        _set(study.module("descriptionModule"), name, _textblock_of(element, study))
    return handle


def _status_code(name: str) -> Callable:
    def handle(study: _Study, element) -> None:
        _set(study.module("statusModule"), name, code(text_of(element)))
    return handle


def _why_stopped(study: _Study, element) -> None:
    _set(study.module("statusModule"), "whyStopped", text_of(element))


def _date_struct(name: str, typed: bool = True) -> Callable:
    """A date element: ``{"date": ISO, "type": ACTUAL|ESTIMATED}`` (or the bare ISO date)."""

    def handle(study: _Study, element) -> None:
        raw = text_of(element)
        date = iso_date(raw)
        if date is None:
            study.keep(element)
            return
        status = study.module("statusModule")
        if not typed:
            status[name] = date
            return
        struct = {"date": date}
        date_type = element.get("type")
        if date_type:
            struct["type"] = code(date_type)
        status[name] = struct

    return handle


def _legacy_date(study: _Study, element) -> None:
    study.legacy_dates.append(element)


def _phase(study: _Study, element) -> None:
    raw = text_of(element)
    if raw:
        study.module("designModule")["phases"] = _phases(raw)


_PHASES = {"N/A": ["NA"], "Phase 0": ["EARLY_PHASE1"], "Early Phase 1": ["EARLY_PHASE1"]}


def _phases(raw: str) -> list[str]:
    found = _PHASES.get(raw)
    if found is None:
        found = [code(part) for part in raw.split("/")]
        if len(_PHASES) < 100:  # the schema has eight values; a stream of others is not remembered
            _PHASES[raw] = found
    return list(found)


def _study_type(study: _Study, element) -> None:
    raw = text_of(element)
    if not raw:
        return
    design = study.module("designModule")
    if raw.startswith("Observational") and "Patient Registry" in raw:
        design["studyType"] = "OBSERVATIONAL"
        design["patientRegistry"] = True
    else:
        design["studyType"] = code(raw)


def _has_expanded_access(study: _Study, element) -> None:
    value = flag(text_of(element))
    if value is None:
        study.keep(element)
    else:
        study.module("statusModule")["expandedAccessInfo"] = {"hasExpandedAccess": value}


_EXPANDED_ACCESS_FIELDS: dict[str, Field] = {
    "expanded_access_type_individual": ("individual", flag),
    "expanded_access_type_intermediate": ("intermediate", flag),
    "expanded_access_type_treatment": ("treatment", flag),
}


def _expanded_access_info(study: _Study, element) -> None:
    types = read_fields(element, _EXPANDED_ACCESS_FIELDS, {}, study.keep)
    if types:
        study.module("designModule")["expandedAccessTypes"] = types


_DESIGN_CODES = {
    "allocation": "allocation", "intervention_model": "interventionModel", "primary_purpose": "primaryPurpose",
    "observational_model": "observationalModel", "time_perspective": "timePerspective",
}
_DESIGN_FIELDS: dict[str, Field] = {
    **{tag: (key, code) for tag, key in _DESIGN_CODES.items()},
    "intervention_model_description": ("interventionModelDescription", None),
}


def _design_info(study: _Study, element) -> None:
    info: dict[str, Any] = {}

    def masking(child) -> None:
        value = text_of(child)
        if child.tag == "masking" and value:
            info.setdefault("maskingInfo", {}).update(_masking(value))
        elif child.tag == "masking_description" and value:
            info.setdefault("maskingInfo", {})["maskingDescription"] = value
        else:
            study.keep(child)

    read_fields(element, _DESIGN_FIELDS, info, masking)
    if info:
        study.module("designModule")["designInfo"] = info


# "Double (Participant, Investigator)" (2017+) and "Double Blind (Subject, Caregiver)" (before).
_MASKING = re.compile(r"^\s*([A-Za-z]+)(?:\s+Blind)?(?:\s*\((.*)\))?\s*$")
_MASKED_ROLES = {"subject": "PARTICIPANT", "caregiver": "CARE_PROVIDER"}


def _masking(raw: str) -> dict[str, Any]:
    if raw.startswith("None") or raw.startswith("Open Label"):
        return {"masking": "NONE"}
    match = _MASKING.match(raw)
    if not match:
        return {"masking": code(raw)}
    masking = {"masking": code(match.group(1))}
    if match.group(2):
        roles = [role.strip() for role in match.group(2).split(",") if role.strip()]
        masking["whoMasked"] = [_MASKED_ROLES.get(role.lower()) or code(role) for role in roles]
    return masking


# The pre-2017 study_design: "Allocation: Randomized, Endpoint Classification: ..., Masking: ...".
_STUDY_DESIGN_PART = re.compile(
    r"(Allocation|Endpoint Classification|Intervention Model|Masking|Primary Purpose|Observational Model|Time Perspective):\s*"
)


def _study_design(study: _Study, element) -> None:
    raw = text_of(element)
    if not raw:
        return
    parts = _STUDY_DESIGN_PART.split(raw)
    info: dict[str, Any] = {}
    kept_all = not parts[0].strip(" ,")
    for name, value in zip(parts[1::2], parts[2::2]):
        value = value.strip().rstrip(",").strip()
        if not value:
            continue
        if name == "Masking":
            info.setdefault("maskingInfo", {}).update(_masking(value))
        elif name == "Endpoint Classification":
            kept_all = False
        else:
            info[_DESIGN_CODES[name.lower().replace(" ", "_")]] = code(value)
    if info:
        design = study.module("designModule")
        existing = design.setdefault("designInfo", {})
        for key, value in info.items():
            existing.setdefault(key, value)
    if not kept_all:
        study.keep(element)


def _design_text(name: str) -> Callable:
    def handle(study: _Study, element) -> None:
        _set(study.module("designModule"), name, text_of(element))
    return handle


_OUTCOME_FIELDS: dict[str, Field] = {
    "measure": ("measure", None), "time_frame": ("timeFrame", None), "description": ("description", None),
}


def _outcome(key: str) -> Callable:
    def handle(study: _Study, element) -> None:
        # safety_issue: retired in 2017, no home in API v2.
        study.items("outcomesModule", key).append(read_fields(element, _OUTCOME_FIELDS, {}, study.keep))
    return handle


def _enrollment(study: _Study, element) -> None:
    raw = text_of(element)
    if not raw:
        return
    info: dict[str, Any] = {}
    try:
        info["count"] = int(raw)
    except ValueError:
        study.keep(element)
    if element.get("type"):
        info["type"] = code(element.get("type"))
    if info:
        study.module("designModule")["enrollmentInfo"] = info


def _conditions_list(name: str) -> Callable:
    def handle(study: _Study, element) -> None:
        value = text_of(element)
        if value:
            study.items("conditionsModule", name).append(value)
    return handle


_ARM_FIELDS: dict[str, Field] = {
    "arm_group_label": ("label", None), "arm_group_type": ("type", code), "description": ("description", None),
}


def _arm_group(study: _Study, element) -> None:
    study.items("armsInterventionsModule", "armGroups").append(read_fields(element, _ARM_FIELDS, {}, study.keep))


_INTERVENTION_FIELDS: dict[str, Field] = {
    "intervention_type": ("type", code), "intervention_name": ("name", None), "description": ("description", None),
}
_INTERVENTION_LISTS = {"arm_group_label": "armGroupLabels", "other_name": "otherNames"}
_INTERVENTION_ORDER = ("type", "name", "description", "armGroupLabels", "otherNames")


def _intervention(study: _Study, element) -> None:
    intervention: dict[str, Any] = {}

    def listed(child) -> None:
        key = _INTERVENTION_LISTS.get(child.tag)
        if key is None or len(child):
            study.keep(child)
        elif value := text_of(child):
            intervention.setdefault(key, []).append(value)

    read_fields(element, _INTERVENTION_FIELDS, intervention, listed)
    study.items("armsInterventionsModule", "interventions").append(
        {key: intervention[key] for key in _INTERVENTION_ORDER if key in intervention})


def _biospec_retention(study: _Study, element) -> None:
    value = text_of(element)
    if value:
        study.module("designModule").setdefault("bioSpec", {})["retention"] = code(value)


def _biospec_descr(study: _Study, element) -> None:
    value = _textblock_of(element, study)
    if value:
        study.module("designModule").setdefault("bioSpec", {})["description"] = value


_ELIGIBILITY_FIELDS: dict[str, Field] = {
    "gender": ("sex", code), "gender_based": ("genderBased", flag), "gender_description": ("genderDescription", None),
    "healthy_volunteers": ("healthyVolunteers", flag), "sampling_method": ("samplingMethod", code),
}
_ELIGIBILITY_BLOCKS = {"criteria": "eligibilityCriteria", "study_pop": "studyPopulation"}
_AGES = {"minimum_age": "minimumAge", "maximum_age": "maximumAge"}


def _eligibility(study: _Study, element) -> None:
    module = study.module("eligibilityModule")

    def blocks_and_ages(child) -> None:
        tag = child.tag
        if tag in _ELIGIBILITY_BLOCKS:
            _set(module, _ELIGIBILITY_BLOCKS[tag], _textblock_of(child, study))
        elif tag in _AGES and not len(child):
            value = text_of(child)
            if value and value != "N/A":  # API v2 leaves an unstated age out
                module[_AGES[tag]] = value
        else:
            study.keep(child)

    read_fields(element, _ELIGIBILITY_FIELDS, module, blocks_and_ages)


_PERSON_FIELDS: dict[str, Field] = {
    **{part: (part, None) for part in ("first_name", "middle_name", "last_name", "degrees")},
    "role": ("role", code), "affiliation": ("affiliation", None), "phone": ("phone", None),
    "phone_ext": ("phoneExt", None), "email": ("email", None),
}


def _person(element, study: _Study, role: str | None = None) -> dict[str, Any]:
    """A contact or investigator: its name parts joined, as API v2 gives the name."""
    person = read_fields(element, _PERSON_FIELDS, {}, study.keep)
    name = person_name(person)
    if name:
        person["name"] = name
    if role is not None:
        person.setdefault("role", role)
    return {key: person[key] for key in ("name", "role", "affiliation", "phone", "phoneExt", "email") if key in person}


def _overall_official(study: _Study, element) -> None:
    official = _person(element, study)
    study.items("contactsLocationsModule", "overallOfficials").append(official)


def _overall_contact(study: _Study, element) -> None:
    contact = _person(element, study, role="CONTACT")
    study.items("contactsLocationsModule", "centralContacts").append(contact)


_ADDRESS_PARTS = frozenset({"city", "state", "zip", "country"})


def _location(study: _Study, element) -> None:
    site: dict[str, Any] = {}
    contacts = []
    for child in element:
        tag = child.tag
        if tag == "facility":
            for part in child:
                if part.tag == "address":
                    for line in part:
                        tag = line.tag
                        if tag in _ADDRESS_PARTS:
                            value = line.text
                            if value and (value := value.strip()):
                                site[tag] = value
                        else:
                            study.keep(line)
                elif part.tag == "name":
                    value = text_of(part)
                    if value:
                        site["facility"] = value
                else:
                    study.keep(part)
        elif tag == "status":
            value = text_of(child)
            if value:
                site["status"] = code(value)
        elif tag == "contact" or tag == "contact_backup":
            contacts.append(_person(child, study, role="CONTACT"))
        elif tag == "investigator":
            contacts.append(_person(child, study))
        else:
            study.keep(child)
    if contacts:
        site["contacts"] = contacts
    study.items("contactsLocationsModule", "locations").append(site)


def _location_countries(study: _Study, element) -> None:
    countries = study.listed_countries
    for child in element:
        if child.tag == "country":
            countries.append(child)
        else:
            study.keep(child)


def _removed_countries(study: _Study, element) -> None:
    removed = []
    for child in element:
        value = text_of(child)
        if child.tag == "country":
            if value:
                removed.append(value)
        else:
            study.keep(child)
    if removed:
        study.module("derivedSection.miscInfoModule")["removedCountries"] = removed


_LINK_FIELDS: dict[str, Field] = {"description": ("label", None), "url": ("url", None)}
_REFERENCE_FIELDS: dict[str, Field] = {"PMID": ("pmid", None), "citation": ("citation", None)}


def _link(study: _Study, element) -> None:
    link = read_fields(element, _LINK_FIELDS, {}, study.keep)
    study.items("referencesModule", "seeAlsoLinks").append({key: link[key] for key in ("label", "url") if key in link})


def _reference(reference_type: str) -> Callable:
    def handle(study: _Study, element) -> None:
        reference = read_fields(element, _REFERENCE_FIELDS, {}, study.keep)
        reference["type"] = reference_type
        study.items("referencesModule", "references").append(
            {key: reference[key] for key in ("pmid", "type", "citation") if key in reference})
    return handle


_RESPONSIBLE_PARTY_FIELDS: dict[str, Field] = {
    "responsible_party_type": ("type", code), "investigator_full_name": ("investigatorFullName", None),
    "investigator_title": ("investigatorTitle", None), "investigator_affiliation": ("investigatorAffiliation", None),
    # The style before 2011: a name and title, and an organisation.
    "name_title": ("oldNameTitle", None), "organization": ("oldOrganization", None),
}


def _responsible_party(study: _Study, element) -> None:
    party = read_fields(element, _RESPONSIBLE_PARTY_FIELDS, {}, study.keep)
    if party:
        study.module("sponsorCollaboratorsModule")["responsibleParty"] = party


def _browse(module: str) -> Callable:
    def handle(study: _Study, element) -> None:
        meshes = []
        for child in element:
            value = text_of(child)
            if child.tag == "mesh_term":
                if value:
                    meshes.append({"term": value})
            else:
                study.keep(child)
        if meshes:
            study.module(f"derivedSection.{module}")["meshes"] = meshes
    return handle


_IPD_FIELDS: dict[str, Field] = {
    "sharing_ipd": ("ipdSharing", code), "ipd_description": ("description", None), "ipd_time_frame": ("timeFrame", None),
    "ipd_access_criteria": ("accessCriteria", None), "ipd_url": ("url", None),
}
_IPD_INFO_TYPES = {"Statistical Analysis Plan (SAP)": "SAP", "Informed Consent Form (ICF)": "ICF",
                   "Clinical Study Report (CSR)": "CSR"}


def _patient_data(study: _Study, element) -> None:
    module = study.module("ipdSharingStatementModule")

    def info_type(child) -> None:
        value = text_of(child)
        if child.tag == "ipd_info_type" and value and not len(child):
            module.setdefault("infoTypes", []).append(_IPD_INFO_TYPES.get(value) or code(value))
        else:
            study.keep(child)

    read_fields(element, _IPD_FIELDS, module, info_type)


_STUDY_DOC_FIELDS: dict[str, Field] = {
    "doc_id": ("id", None), "doc_type": ("type", None), "doc_url": ("url", None), "doc_comment": ("comment", None),
}


def _study_docs(study: _Study, element) -> None:
    documents = []
    for child in element:
        if child.tag == "study_doc":
            document = read_fields(child, _STUDY_DOC_FIELDS, {}, study.keep)
            documents.append({key: document[key] for key in ("id", "type", "url", "comment") if key in document})
        else:
            study.keep(child)
    if documents:
        study.module("referencesModule")["availIpds"] = documents


_DOCUMENT_FLAGS = {"document_has_protocol": "hasProtocol", "document_has_icf": "hasIcf", "document_has_sap": "hasSap"}


def _provided_documents(study: _Study, element) -> None:
    documents = []
    for child in element:
        if child.tag != "provided_document":
            study.keep(child)
            continue
        document: dict[str, Any] = {}
        for part in child:
            tag = part.tag
            value = text_of(part)
            if not value:
                continue
            if tag == "document_type":
                document["label"] = value
            elif tag in _DOCUMENT_FLAGS and flag(value) is not None:
                document[_DOCUMENT_FLAGS[tag]] = flag(value)
            elif tag == "document_date" and iso_date(value):
                document["date"] = iso_date(value)
            elif tag == "document_url":
                # The file name is API v2's; the address is the registry's, kept as it was.
                filename = value.rstrip("/").rpartition("/")[2]
                document["filename"] = filename
                document["typeAbbrev"] = filename.rpartition("_")[0] or filename.rpartition(".")[0]
                study.keep(part)
            else:
                study.keep(part)
        order = ("typeAbbrev", "hasProtocol", "hasSap", "hasIcf", "label", "date", "filename")
        documents.append({key: document[key] for key in order if key in document})
    if documents:
        study.record.setdefault("documentSection", {})["largeDocumentModule"] = {"largeDocs": documents}


# Pending results: each submission, then its return or cancellation, as submissionTracking's infos.
_PENDING_DATES = {"submitted": "releaseDate", "returned": "resetDate", "submission_canceled": "unreleaseDate"}


def _pending_results(study: _Study, element) -> None:
    infos: list[dict] = []
    for child in element:
        tag = child.tag
        key = _PENDING_DATES.get(tag)
        raw = text_of(child)
        date = iso_date(raw)
        if key is None or date is None:
            study.keep(child)
            continue
        if key == "releaseDate" or not infos or key in infos[-1]:
            infos.append({})
        infos[-1][key] = date
    if infos:
        study.module("derivedSection.miscInfoModule")["submissionTracking"] = {"submissionInfos": infos}


_DOWNLOAD_DATE = re.compile(r"processed this data on ([A-Za-z]+ \d{1,2}, \d{4})")


def _required_header(study: _Study, element) -> None:
    for child in element:
        tag = child.tag
        if tag == "download_date":
            raw = text_of(child) or ""
            match = _DOWNLOAD_DATE.search(raw)
            date = iso_date(match.group(1)) if match else None
            if date:
                study.module("derivedSection.miscInfoModule")["versionHolder"] = date
            else:
                study.keep(child)
        elif tag not in ("link_text", "url"):
            study.keep(child)


def _clinical_results(study: _Study, element) -> None:
    section = results_section(element, study.unmapped)
    if section:
        study.record["resultsSection"] = section


_STATUS_DATES = {
    "start_date": ("startDateStruct", True), "completion_date": ("completionDateStruct", True),
    "primary_completion_date": ("primaryCompletionDateStruct", True),
    "verification_date": ("statusVerifiedDate", False),
    "study_first_submitted": ("studyFirstSubmitDate", False), "study_first_submitted_qc": ("studyFirstSubmitQcDate", False),
    "study_first_posted": ("studyFirstPostDateStruct", True),
    "results_first_submitted": ("resultsFirstSubmitDate", False),
    "results_first_submitted_qc": ("resultsFirstSubmitQcDate", False),
    "results_first_posted": ("resultsFirstPostDateStruct", True),
    "disposition_first_submitted": ("dispFirstSubmitDate", False),
    "disposition_first_submitted_qc": ("dispFirstSubmitQcDate", False),
    "disposition_first_posted": ("dispFirstPostDateStruct", True),
    "last_update_submitted": ("lastUpdateSubmitDate", False),
    "last_update_posted": ("lastUpdatePostDateStruct", True),
}
# Dates API v2 has no field for, kept unless they equal the field named (as they mostly do).
_REDUNDANT_DATES = {"last_update_submitted_qc": "lastUpdateSubmitDate"}

_HANDLERS: dict[str, Callable] = {
    "required_header": _required_header,
    "id_info": _id_info,
    "brief_title": _identification("briefTitle"),
    "acronym": _identification("acronym"),
    "official_title": _identification("officialTitle"),
    "sponsors": _sponsors,
    "source": _source,
    "oversight_info": _oversight,
    "brief_summary": _description("briefSummary"),
    "detailed_description": _description("detailedDescription"),
    "overall_status": _status_code("overallStatus"),
    "last_known_status": _status_code("lastKnownStatus"),
    "why_stopped": _why_stopped,
    **{tag: _date_struct(name, typed) for tag, (name, typed) in _STATUS_DATES.items()},
    **{tag: _legacy_date for tag in _LEGACY_DATE_TARGETS},
    **{tag: _legacy_date for tag in _REDUNDANT_DATES},
    "phase": _phase,
    "study_type": _study_type,
    "has_expanded_access": _has_expanded_access,
    "expanded_access_info": _expanded_access_info,
    "study_design_info": _design_info,
    "study_design": _study_design,
    "target_duration": _design_text("targetDuration"),
    "primary_outcome": _outcome("primaryOutcomes"),
    "secondary_outcome": _outcome("secondaryOutcomes"),
    "other_outcome": _outcome("otherOutcomes"),
    "enrollment": _enrollment,
    "condition": _conditions_list("conditions"),
    "keyword": _conditions_list("keywords"),
    "arm_group": _arm_group,
    "intervention": _intervention,
    "biospec_retention": _biospec_retention,
    "biospec_descr": _biospec_descr,
    "eligibility": _eligibility,
    "overall_official": _overall_official,
    "overall_contact": _overall_contact,
    "overall_contact_backup": _overall_contact,
    "location": _location,
    "location_countries": _location_countries,
    "removed_countries": _removed_countries,
    "link": _link,
    "reference": _reference("BACKGROUND"),
    "results_reference": _reference("RESULT"),
    "responsible_party": _responsible_party,
    "condition_browse": _browse("conditionBrowseModule"),
    "intervention_browse": _browse("interventionBrowseModule"),
    "patient_data": _patient_data,
    "study_docs": _study_docs,
    "provided_document_section": _provided_documents,
    "pending_results": _pending_results,
    "clinical_results": _clinical_results,
}
