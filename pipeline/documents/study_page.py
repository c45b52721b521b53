"""Read a rendered ClinicalTrials.gov study page back into the API v2 study structure.

The page layout
---------------
The page is a sequence of *blocks* joined by a blank line ("\\n\\n"); a block itself never
contains "\\n\\n" except where noted below. It reads, in this fixed order:

    <brief title>
    NCT ID: NCT01234567
    Last Updated: 2024-06-04
    Study Results                       (no blurb; followed by one of)
    Results pending | Results available
    <fixed sentence about published results>

then a series of sections, each a *heading* block followed by that heading's fixed *blurb*
block (``BLURB`` below), then its body:

    Basic Information       label / value block pairs: Recruitment Status, Clinical Phase
                            (", ".join(phases)), Total Enrollment ("N participants"),
                            Study Classification, Study Start Date, Study Completion Date.
                            A pair is left out when its value is empty.
    Brief Summary           the text split into paragraphs, one block each   (optional)
    Detailed Description    likewise                                          (optional)
    Conditions              one block per condition                           (optional)
    Study Design            label / value pairs (Allocation Method, Intervention Model,
                            Observational Model, Time Perspective, Primary Study Purpose,
                            Blinding Strategy), then optionally one "who is masked" line
                            ("Participants, Outcomes Assessors").
    Study Groups            per arm: label, description paragraphs, "Group Type[ X]", then
                            for each intervention linked to the arm (in intervention order):
                            name, "Intervention Type X", the intervention's paragraphs. (optional)
    Interventions           per intervention: name, paragraphs, "Intervention Type X". (optional)
    Eligibility Criteria    the criteria text, which keeps its own blank lines (so it spans
                            several blocks) and runs into the first tail label with a single
                            "\\n"; then the tail pairs Minimum Eligible Age, Maximum Eligible Age,
                            Eligible Sex, Accepts Healthy Volunteers (Yes/No).
    Sponsors                per sponsor: name, class, "Sponsor Role lead|collaborator".
    Responsible Party       "Responsibility Role X".                            (optional)
    Principal Investigators per official: name, "Role: X", optional affiliation. (optional)
    Locations               per site: optional facility, optional "city, state, country"
                            (missing parts left out), "Site Status[ X]".        (optional)
    Countries               one block per distinct site country.                 (optional)
    Other Identifiers       per identifier: id, "Identifier Type: X|-",
                            "Identifier Source: org_study_id|secondary_id".      (optional)
    More Related Trials     always last; anything after it is about other studies.

A heading is recognised only when the next block is its blurb, and only in the order above,
so a condition or paragraph that happens to read "Conditions" is not taken for a heading.

The page carries less than the API record: only what it shows is mapped, everything else
is left absent. Text that the page split into paragraphs is rejoined with "\\n\\n".

What the layout cannot tell apart, and the choice made:
  - the criteria sub-headings lose their colon on the page; "Inclusion Criteria" /
    "Exclusion Criteria" alone on a line get it back (the API text almost always has it);
  - a site's place line is split with the Countries list: a trailing listed country is the
    country, then the first part is the city and the rest the state (a city holding a comma
    with no state, e.g. "Pune, Maharashtra", reads as city + state);
  - a lone line before "Site Status" is the place if it ends in a listed country, else the facility;
  - interventions that share name, type and paragraphs are interchangeable; an arm is linked
    to the first one that lets the rest of the section parse.

A page that departs from the layout gives a ReadError whose position is `block N` (1-based,
counting blank-line separated blocks from the top) or `section "Heading"`.
"""
from __future__ import annotations

import re
from typing import Any, Iterator

from pipeline.documents.model import ReadError, ReadItem, check_study, excerpt_of

__all__ = ["read_study_page"]

BLURB: dict[str, str | None] = {
    "Study Results": None,
    "Basic Information": "Get a concise snapshot of the trial, including recruitment status, study phase, enrollment targets, and key timeline milestones.",
    "Brief Summary": "Review the sponsor-provided synopsis that highlights what the study is about and why it is being conducted.",
    "Detailed Description": "Dive into the extended narrative that explains the scientific background, objectives, and procedures in greater depth.",
    "Conditions": "See the medical conditions and disease areas that this research is targeting or investigating.",
    "Study Design": "Understand how the trial is structured, including allocation methods, masking strategies, primary purpose, and other design elements.",
    "Study Groups": "Review each arm or cohort in the study, along with the interventions and objectives associated with them.",
    "Interventions": "Learn about the drugs, procedures, or behavioral strategies being tested and how they are applied within this trial.",
    "Eligibility Criteria": "Check the participation requirements, including inclusion and exclusion rules, age limits, and whether healthy volunteers are accepted.",
    "Sponsors": "Meet the organizations funding or collaborating on the study and learn about their roles.",
    "Responsible Party": "Identify the individual or organization who holds primary responsibility for the study information submitted to regulators.",
    "Principal Investigators": "Learn about the lead researchers overseeing the trial and their institutional affiliations.",
    "Locations": "Explore where the study is taking place and check the recruitment status at each participating site.",
    "Countries": "Review the countries where the study has at least one active or historical site.",
    "Other Identifiers": "Review additional registry numbers or institutional identifiers associated with this trial.",
    "More Related Trials": "Additional clinical trials that may be relevant based on similarity analysis.",
}
SECTION_ORDER = list(BLURB)
# rendered whatever the record holds, so a page without them is not this layout (or is cut short)
REQUIRED_SECTIONS = ("Study Results", "Basic Information", "Study Design", "Eligibility Criteria", "Sponsors", "More Related Trials")
RESULT_STATES = {"Results pending": False, "Results available": True}

WHO_MASKED = {"Participants": "PARTICIPANT", "Care Providers": "CARE_PROVIDER", "Investigators": "INVESTIGATOR",
              "Outcomes Assessors": "OUTCOMES_ASSESSOR"}
# the API's display form of an intervention type, as used in armGroups[].interventionNames ("Drug: Aspirin")
TYPE_TITLE = {"DRUG": "Drug", "BIOLOGICAL": "Biological", "DEVICE": "Device", "PROCEDURE": "Procedure",
              "RADIATION": "Radiation", "BEHAVIORAL": "Behavioral", "GENETIC": "Genetic",
              "DIETARY_SUPPLEMENT": "Dietary Supplement", "COMBINATION_PRODUCT": "Combination Product",
              "DIAGNOSTIC_TEST": "Diagnostic Test", "OTHER": "Other"}

BASIC_LABELS = ("Recruitment Status", "Clinical Phase", "Total Enrollment", "Study Classification",
                "Study Start Date", "Study Completion Date")
DESIGN_LABELS = {"Allocation Method": "allocation", "Intervention Model": "interventionModel",
                 "Observational Model": "observationalModel", "Time Perspective": "timePerspective",
                 "Primary Study Purpose": "primaryPurpose", "Blinding Strategy": "masking"}
TAIL_LABELS = ("Minimum Eligible Age", "Maximum Eligible Age", "Eligible Sex", "Accepts Healthy Volunteers")

# the lines that carry their value on the label's own line; the value is an API enum, possibly empty
GROUP_TYPE = re.compile(r"Group Type(?: ([A-Z][A-Z0-9_]*))?")
INTERVENTION_TYPE = re.compile(r"Intervention Type ?([A-Z][A-Z0-9_]*)?")
SPONSOR_ROLE = re.compile(r"Sponsor Role (lead|collaborator)")
RESPONSIBILITY_ROLE = re.compile(r"Responsibility Role ?(.*)")
OFFICIAL_ROLE = re.compile(r"Role: ?([A-Z][A-Z0-9_]*)?")
SITE_STATUS = re.compile(r"Site Status(?: ([A-Z][A-Z0-9_]*))?")
IDENTIFIER_TYPE = re.compile(r"Identifier Type: (.*)")
IDENTIFIER_SOURCE = re.compile(r"Identifier Source: (org_study_id|secondary_id)")
ENROLLMENT = re.compile(r"(.+) participants")
# ASCII digits only (\d takes any script's, and int() reads them); a count beyond 64 bits, or one
# not written in digits, is kept as the text the page shows (it then lands in unmapped_values).
COUNT = re.compile(r"[0-9]{1,19}")
# the renderer drops the colon of the criteria's own sub-headings ("Inclusion Criteria:" -> "Inclusion
# Criteria"); the API text nearly always carries it, so it is put back for the canonical form
CRITERIA_SUBHEADING = re.compile(r"^((?:Inclusion|Exclusion) Criteria)$", re.M)


class PageError(Exception):
    """The page departs from the layout; `block` is the 0-based index of the offending block."""

    def __init__(self, reason: str, block: int | None = None, section: str | None = None):
        super().__init__(reason)
        self.reason = reason
        self.block = block
        self.section = section


def read_study_page(text: str) -> Iterator[ReadItem]:
    """Yield the one study a rendered study page describes, or a ReadError saying why it cannot be read."""
    text = text.lstrip("\ufeff").replace("\r\n", "\n").rstrip()
    blocks = text.split("\n\n")
    # character offset of each block, for error excerpts
    offsets, at = [], 0
    for b in blocks:
        offsets.append(at)
        at += len(b) + 2
    try:
        study = _Page(blocks).study()
    except PageError as err:
        if err.block is not None:
            i = min(max(err.block, 0), len(blocks) - 1)
            yield ReadError(f"block {i + 1}", err.reason, excerpt_of(text, offsets[i] + 100))
        else:
            yield ReadError(f'section "{err.section}"', err.reason, excerpt_of(text))
        return
    yield check_study(study, "", text)


class _Page:
    def __init__(self, blocks: list[str]):
        self.blocks = blocks

    # ---- overall structure -------------------------------------------------------------------
    def study(self) -> dict[str, Any]:
        blocks = self.blocks
        nct_at = next((i for i, b in enumerate(blocks) if b.startswith("NCT ID: ")), None)
        if nct_at is None:
            raise PageError("no 'NCT ID: ...' block: not a study page", 1)
        if nct_at + 1 >= len(blocks) or not blocks[nct_at + 1].startswith("Last Updated:"):
            raise PageError("expected 'Last Updated: ...' after the NCT ID", nct_at + 1)
        sections = self.sections(nct_at + 2)
        for name in REQUIRED_SECTIONS:
            if name not in sections:
                raise PageError(f'section "{name}" is missing (page not in study-page layout, or cut short)',
                                section=name)

        ident: dict[str, Any] = {"nctId": blocks[nct_at][len("NCT ID: "):].strip()}
        # the title is everything before the NCT ID block (normally exactly one block)
        title = "\n\n".join(blocks[:nct_at])
        if title:
            ident["briefTitle"] = title
        status: dict[str, Any] = {}
        updated = blocks[nct_at + 1][len("Last Updated:"):].strip()

        ps: dict[str, Any] = {"identificationModule": ident, "statusModule": status}
        has_results = self.results(sections["Study Results"])
        design: dict[str, Any] = {}
        self.basic(sections["Basic Information"], status, design)
        if updated:
            status["lastUpdatePostDateStruct"] = {"date": updated}

        spons = self.sponsors(sections["Sponsors"])
        if "Responsible Party" in sections:
            start, end = sections["Responsible Party"]
            rp = self.responsible(start, end)
            if rp:
                spons["responsibleParty"] = rp
        if spons:
            ps["sponsorCollaboratorsModule"] = spons

        desc: dict[str, Any] = {}
        for heading, key in (("Brief Summary", "briefSummary"), ("Detailed Description", "detailedDescription")):
            if heading in sections:
                start, end = sections[heading]
                if end > start:
                    desc[key] = "\n\n".join(blocks[start:end])
        if desc:
            ps["descriptionModule"] = desc
        if "Conditions" in sections:
            start, end = sections["Conditions"]
            if end > start:
                ps["conditionsModule"] = {"conditions": blocks[start:end]}

        self.design(sections["Study Design"], design)
        if design:
            ps["designModule"] = design

        interventions, paras = self.interventions(sections.get("Interventions"))
        arms = self.groups(sections.get("Study Groups"), interventions, paras)
        aim: dict[str, Any] = {}
        if arms:
            aim["armGroups"] = arms
        if interventions:
            aim["interventions"] = interventions
        if aim:
            ps["armsInterventionsModule"] = aim

        elig = self.eligibility(sections["Eligibility Criteria"])
        if elig:
            ps["eligibilityModule"] = elig

        contacts: dict[str, Any] = {}
        if "Principal Investigators" in sections:
            officials = self.officials(sections["Principal Investigators"])
            if officials:
                contacts["overallOfficials"] = officials
        countries = blocks[slice(*sections["Countries"])] if "Countries" in sections else []
        if "Locations" in sections:
            locations = self.locations(sections["Locations"], countries)
            if locations:
                contacts["locations"] = locations
        if contacts:
            ps["contactsLocationsModule"] = contacts

        if "Other Identifiers" in sections:
            self.identifiers(sections["Other Identifiers"], ident)
        if not status:
            del ps["statusModule"]
        return {"protocolSection": ps, "hasResults": has_results}

    def sections(self, start: int) -> dict[str, tuple[int, int]]:
        """Body (start, end) block ranges by heading, headings taken only in their fixed order."""
        blocks = self.blocks
        found: list[tuple[str, int]] = []  # heading, index of its block
        next_allowed = 0
        i = start
        while i < len(blocks):
            b = blocks[i]
            if b in BLURB and i + 1 < len(blocks):
                rank = SECTION_ORDER.index(b)
                blurb = BLURB[b]
                follows = blocks[i + 1] in RESULT_STATES if blurb is None else blocks[i + 1] == blurb
                if follows and rank >= next_allowed:
                    found.append((b, i))
                    next_allowed = rank + 1
                    i += 1 if blurb is None else 2
                    if b == "More Related Trials":
                        break  # what follows lists other studies
                    continue
            if not found:
                raise PageError("expected the 'Study Results' heading", i)
            i += 1
        out: dict[str, tuple[int, int]] = {}
        for n, (name, at) in enumerate(found):
            body = at + (1 if BLURB[name] is None else 2)
            end = found[n + 1][1] if n + 1 < len(found) else len(blocks)
            out[name] = (body, end)
        return out

    # ---- sections ----------------------------------------------------------------------------
    def results(self, span: tuple[int, int]) -> bool:
        start, _ = span
        return RESULT_STATES[self.blocks[start]]  # the heading was only recognised with one of these next

    def pairs(self, span: tuple[int, int], labels, section: str) -> Iterator[tuple[str, str, int]]:
        """label / value block pairs; a label's value is never empty, so pairs are strict."""
        start, end = span
        i = start
        while i < end:
            label = self.blocks[i]
            if label not in labels:
                raise PageError(f"{section}: unexpected block {label[:60]!r} where a field label was expected", i)
            if i + 1 >= end:
                raise PageError(f"{section}: field {label!r} has no value", i)
            yield label, self.blocks[i + 1], i + 1
            i += 2

    def basic(self, span: tuple[int, int], status: dict, design: dict) -> None:
        for label, value, at in self.pairs(span, BASIC_LABELS, "Basic Information"):
            if label == "Recruitment Status":
                status["overallStatus"] = value
            elif label == "Clinical Phase":
                design["phases"] = value.split(", ")
            elif label == "Total Enrollment":
                m = ENROLLMENT.fullmatch(value)
                if not m:
                    raise PageError(f"Total Enrollment {value[:40]!r} is not 'N participants'", at)
                count = m.group(1)
                fits = COUNT.fullmatch(count) and int(count) < 2**63
                design["enrollmentInfo"] = {"count": int(count) if fits else count}
            elif label == "Study Classification":
                design["studyType"] = value
            elif label == "Study Start Date":
                status["startDateStruct"] = {"date": value}
            elif label == "Study Completion Date":
                status["completionDateStruct"] = {"date": value}

    def design(self, span: tuple[int, int], design: dict) -> None:
        start, end = span
        info: dict[str, Any] = {}
        masking: dict[str, Any] = {}
        # the who-masked line is the only block that is not a label/value pair; it comes last
        if end > start and (end - start) % 2 == 1 and self.blocks[end - 1] not in DESIGN_LABELS:
            end -= 1
            masking["whoMasked"] = [WHO_MASKED.get(w, w) for w in self.blocks[end].split(", ")]
        for label, value, _ in self.pairs((start, end), DESIGN_LABELS, "Study Design"):
            key = DESIGN_LABELS[label]
            if key == "masking":
                masking = {"masking": value, **masking}
            else:
                info[key] = value
        if masking:
            info["maskingInfo"] = masking
        if info:
            design["designInfo"] = info

    def interventions(self, span: tuple[int, int] | None) -> tuple[list[dict[str, Any]], list[list[str]]]:
        """The interventions, and each one's description paragraphs as blocks (to find them under the arms)."""
        if span is None:
            return [], []
        start, end = span
        out: list[dict[str, Any]] = []
        paras: list[list[str]] = []
        i = start
        while i < end:
            # name, then paragraphs up to the type line
            j = i + 1
            while j < end and not INTERVENTION_TYPE.fullmatch(self.blocks[j]):
                j += 1
            if j >= end:
                raise PageError("Interventions: intervention without an 'Intervention Type' line", i)
            iv: dict[str, Any] = {}
            kind = INTERVENTION_TYPE.fullmatch(self.blocks[j]).group(1)
            if kind:
                iv["type"] = kind
            iv["name"] = self.blocks[i]
            if j > i + 1:
                iv["description"] = "\n\n".join(self.blocks[i + 1 : j])
            paras.append(self.blocks[i + 1 : j])
            out.append(iv)
            i = j + 1
        return out, paras

    def groups(self, span: tuple[int, int] | None, interventions: list[dict[str, Any]],
               paras: list[list[str]]) -> list[dict[str, Any]]:
        """Arms, resolving each intervention listed under an arm against the Interventions section.

        An arm lists its linked interventions with their full descriptions, so the only way to
        know where one ends and the next arm's label starts is to know each intervention's
        paragraphs. Interventions may share a name and type, so each one that fits (in order
        after the arm's previous link, as the page lists them) is tried, backtracking if the
        rest of the section then fails to parse.
        """
        if span is None:
            return []
        start, end = span
        blocks = self.blocks
        furthest = start

        def arm_at(i: int) -> tuple[int, dict[str, Any]] | None:
            """An arm's label, paragraphs and group type line starting at block i; the next block."""
            j = i + 1
            while j < end and not GROUP_TYPE.fullmatch(blocks[j]):
                j += 1
            if j >= end:
                return None
            arm: dict[str, Any] = {"label": blocks[i]}
            kind = GROUP_TYPE.fullmatch(blocks[j]).group(1)
            if kind:
                arm["type"] = kind
            if j > i + 1:
                arm["description"] = "\n\n".join(blocks[i + 1 : j])
            return j + 1, arm

        # depth-first search with an explicit stack (pages can list hundreds of links);
        # a state is (next block, finished arms as a cons list, (current arm, its links, last link))
        stack: list[tuple[int, Any, Any]] = [(start, None, None)]
        result = None
        budget = 200_000  # a malformed page with many look-alike interventions must not search forever
        while stack and result is None:
            i, done, cur = stack.pop()
            while budget > 0:
                budget -= 1
                furthest = max(furthest, i)
                if i >= end:
                    result = (done, cur) if cur is not None else (None, None)
                    break
                typed = INTERVENTION_TYPE.fullmatch(blocks[i + 1]) if i + 1 < end else None
                if cur is not None and typed:
                    arm, links, after = cur
                    fits = [k for k in range(after + 1, len(interventions))
                            if interventions[k]["name"] == blocks[i]
                            and interventions[k].get("type") == typed.group(1)
                            and blocks[i + 2 : i + 2 + len(paras[k])] == paras[k]]
                    if not fits:
                        break
                    for k in reversed(fits[1:]):
                        stack.append((i + 2 + len(paras[k]), done, (arm, links + (k,), k)))
                    k = fits[0]
                    i, cur = i + 2 + len(paras[k]), (arm, links + (k,), k)
                    continue
                found = arm_at(i)
                if found is None:
                    break
                if cur is not None:
                    done = (done, cur)
                i, arm = found
                cur = (arm, (), -1)
        if result is None:
            raise PageError("Study Groups: cannot split into arms (label, paragraphs, 'Group Type' line) and "
                            "their interventions as listed in the Interventions section", furthest)

        chain: list[tuple[dict[str, Any], tuple[int, ...]]] = []
        done, cur = result
        if cur is not None:
            chain.append(cur[:2])
        while done is not None:
            done, (arm, links, _) = done
            chain.append((arm, links))
        chain.reverse()

        arms = []
        for arm, links in chain:
            names = []
            for k in links:
                iv = interventions[k]
                labels = iv.setdefault("armGroupLabels", [])
                if arm["label"] not in labels:
                    labels.append(arm["label"])
                kind = iv.get("type", "")
                names.append(f"{TYPE_TITLE.get(kind, kind.replace('_', ' ').title())}: {iv['name']}")
            if names:
                arm["interventionNames"] = names
            arms.append(arm)
        return arms

    def eligibility(self, span: tuple[int, int]) -> dict[str, Any]:
        start, end = span
        blocks = self.blocks
        elig: dict[str, Any] = {}
        criteria = None
        tail_start = start
        if start < end and blocks[start] not in TAIL_LABELS:
            # the criteria run to the first block whose last line is a tail label and after which
            # the rest parses as tail pairs; no such block means the page shows no tail at all
            tail_start = end
            criteria = "\n\n".join(blocks[start:end])
            for e in range(start, end):
                head, sep, last = blocks[e].rpartition("\n")
                if sep and last in TAIL_LABELS and head and self._tail_fits(last, e + 1, end):
                    criteria = "\n\n".join(blocks[start:e] + [head])
                    elig["eligibilityCriteria"] = None  # keeps the API's key order
                    self._tail_value(elig, last, blocks[e + 1], e + 1)
                    tail_start = e + 2
                    break
        if criteria:
            elig["eligibilityCriteria"] = CRITERIA_SUBHEADING.sub(r"\1:", criteria)
        for label, value, at in self.pairs((tail_start, end), TAIL_LABELS, "Eligibility Criteria"):
            self._tail_value(elig, label, value, at)
        order = ["eligibilityCriteria", "healthyVolunteers", "sex", "minimumAge", "maximumAge"]
        return {k: elig[k] for k in order if k in elig}

    def _tail_fits(self, first: str, at: int, end: int) -> bool:
        """Whether blocks[at:end] are the value of `first`, then later tail label/value pairs in order."""
        if at >= end:
            return False
        rank = TAIL_LABELS.index(first)
        i = at + 1
        while i < end:
            label = self.blocks[i]
            if label not in TAIL_LABELS or TAIL_LABELS.index(label) <= rank or i + 1 >= end:
                return False
            rank = TAIL_LABELS.index(label)
            i += 2
        return True

    def _tail_value(self, elig: dict, label: str, value: str, at: int) -> None:
        if label == "Minimum Eligible Age":
            elig["minimumAge"] = value
        elif label == "Maximum Eligible Age":
            elig["maximumAge"] = value
        elif label == "Eligible Sex":
            elig["sex"] = value
        else:
            if value not in ("Yes", "No"):
                raise PageError(f"Accepts Healthy Volunteers is {value[:40]!r}, not Yes/No", at)
            elig["healthyVolunteers"] = value == "Yes"

    def sponsors(self, span: tuple[int, int]) -> dict[str, Any]:
        start, end = span
        out: dict[str, Any] = {}
        chunk_start = start
        for i in range(start, end):
            m = SPONSOR_ROLE.fullmatch(self.blocks[i])
            if not m:
                continue
            # name (possibly several blocks, if it held a blank line), then class, then the role line
            if i - chunk_start < 2:
                raise PageError("Sponsors: sponsor without a name and class", i)
            sponsor = {"name": "\n\n".join(self.blocks[chunk_start : i - 1]), "class": self.blocks[i - 1]}
            sponsor = {k: v for k, v in sponsor.items() if v}
            if m.group(1) == "lead":
                out["leadSponsor"] = sponsor
            else:
                out.setdefault("collaborators", []).append(sponsor)
            chunk_start = i + 1
        if chunk_start < end:
            raise PageError("Sponsors: blocks after the last 'Sponsor Role' line", chunk_start)
        return out

    def responsible(self, start: int, end: int) -> dict[str, Any]:
        if end - start != 1 or not RESPONSIBILITY_ROLE.fullmatch(self.blocks[start]):
            raise PageError("Responsible Party: expected one 'Responsibility Role X' line", start)
        kind = RESPONSIBILITY_ROLE.fullmatch(self.blocks[start]).group(1)
        return {"type": kind} if kind else {}

    def officials(self, span: tuple[int, int]) -> list[dict[str, Any]]:
        start, end = span
        roles = [i for i in range(start, end) if OFFICIAL_ROLE.fullmatch(self.blocks[i])]
        if not roles or roles[0] == start:
            raise PageError("Principal Investigators: expected a name followed by 'Role: X'", start)
        out = []
        for n, r in enumerate(roles):
            # the name is the block before the role line; anything between this role line and the
            # next official's name is this official's affiliation
            name_at = start if n == 0 else r - 1
            if n > 0 and name_at <= roles[n - 1]:
                raise PageError("Principal Investigators: official without a name", r)
            nxt = roles[n + 1] - 1 if n + 1 < len(roles) else end
            official: dict[str, Any] = {"name": "\n\n".join(self.blocks[name_at:r])}
            role = OFFICIAL_ROLE.fullmatch(self.blocks[r]).group(1)
            if role:
                official["role"] = role
            if nxt > r + 1:
                official["affiliation"] = "\n\n".join(self.blocks[r + 1 : nxt])
            out.append({k: v for k, v in official.items() if v})
        return out

    def locations(self, span: tuple[int, int], countries: list[str]) -> list[dict[str, Any]]:
        start, end = span
        # longest first, so "Korea, Republic of" is not read as a state "Korea" of country "Republic of"
        by_length = sorted(set(countries), key=len, reverse=True)
        out = []
        chunk_start = start
        for i in range(start, end):
            m = SITE_STATUS.fullmatch(self.blocks[i])
            if not m:
                continue
            chunk = self.blocks[chunk_start:i]
            loc: dict[str, Any] = {}
            if len(chunk) >= 2:
                loc["facility"] = "\n\n".join(chunk[:-1])
                place = chunk[-1]
            elif len(chunk) == 1:
                # a lone block is the place line only if it ends in a listed country
                place = chunk[0] if _country_of(chunk[0], by_length) else None
                if place is None:
                    loc["facility"] = chunk[0]
            else:
                place = None
            if place is not None:
                loc.update(_place(place, by_length))
            if m.group(1):
                loc["status"] = m.group(1)
            out.append(loc)
            chunk_start = i + 1
        if chunk_start < end:
            raise PageError("Locations: blocks after the last 'Site Status' line", chunk_start)
        order = ["facility", "status", "city", "state", "country"]
        return [{k: loc[k] for k in order if k in loc} for loc in out]

    def identifiers(self, span: tuple[int, int], ident: dict[str, Any]) -> None:
        start, end = span
        chunk_start = start
        secondary = []
        for i in range(start, end):
            m = IDENTIFIER_SOURCE.fullmatch(self.blocks[i])
            if not m:
                continue
            t = IDENTIFIER_TYPE.fullmatch(self.blocks[i - 1]) if i - 1 > chunk_start else None
            if t is None:
                raise PageError("Other Identifiers: expected id, 'Identifier Type: X', 'Identifier Source: X'", i)
            ident_id = "\n\n".join(self.blocks[chunk_start : i - 1])
            if m.group(1) == "org_study_id":
                ident["orgStudyIdInfo"] = {"id": ident_id}
            else:
                entry = {"id": ident_id}
                if t.group(1) != "-":  # "-" stands for a missing type
                    entry["type"] = t.group(1)
                secondary.append(entry)
            chunk_start = i + 1
        if chunk_start < end:
            raise PageError("Other Identifiers: blocks after the last 'Identifier Source' line", chunk_start)
        if secondary:
            ident["secondaryIdInfos"] = secondary


def _country_of(place: str, countries: list[str]) -> str | None:
    for c in countries:
        if place == c or place.endswith(", " + c):
            return c
    return None


def _place(place: str, countries: list[str]) -> dict[str, str]:
    """Split "city, state, country" (parts left out when missing) using the page's country list."""
    out: dict[str, str] = {}
    country = _country_of(place, countries)
    rest = place
    if country:
        out["country"] = country
        rest = place[: -len(country)].removesuffix(", ")
    if rest:
        # city first: a state may hold a comma ("Bristol, City Of"), so everything after the
        # first comma is the state; a city with a comma and no state cannot be told apart
        city, _, state = rest.partition(", ")
        out["city"] = city
        if state:
            out["state"] = state
    return out
