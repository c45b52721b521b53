"""The protocol tables: what the sponsor registered (protocolSection) and what ClinicalTrials.gov
derives from it (derivedSection), one table per repeated part of the record."""
from __future__ import annotations

from pipeline.tables.schema.base import (
    ARMS_INTERVENTIONS, CONDITIONS, CONTACTS_LOCATIONS, DERIVED, DESCRIPTION, DESIGN, ELIGIBILITY, IDENT, IPD, MISC,
    OUTCOMES, OVERSIGHT, REFERENCES, SPONSORS, STATUS, Column, Derivation, Source, Table, View, age_columns,
    date_columns, nct_id_column, position_column,
)

STUDIES = Table(
    name="studies",
    grain="one row per study (NCT id)",
    description="Registered clinical studies: identification, status and dates, sponsor responsibility, oversight, description, design and eligibility.",
    key=("nct_id",),
    sources=(Source(""),),
    columns=(
        nct_id_column(f"{IDENT}.nctId"),
        Column("brief_title", "VARCHAR", "Short title in plain language.", f"{IDENT}.briefTitle"),
        Column("official_title", "VARCHAR", "Official scientific title.", f"{IDENT}.officialTitle"),
        Column("acronym", "VARCHAR", "Study acronym.", f"{IDENT}.acronym"),
        Column("org_study_id", "VARCHAR", "The sponsor organisation's own study id (also in identifiers).", f"{IDENT}.orgStudyIdInfo.id"),
        Column("organization_name", "VARCHAR", "Full name of the organisation that registered the study.", f"{IDENT}.organization.fullName"),
        Column("organization_class", "VARCHAR", "Class of the registering organisation (API code: INDUSTRY, NIH, FED, OTHER_GOV, INDIV, NETWORK, OTHER, UNKNOWN).", f"{IDENT}.organization.class"),
        Column("overall_status", "VARCHAR", "Overall recruitment status (API code, e.g. RECRUITING, COMPLETED).", f"{STATUS}.overallStatus"),
        Column("last_known_status", "VARCHAR", "Last known recruitment status, for studies whose status has not been verified recently (API code).", f"{STATUS}.lastKnownStatus"),
        Column("why_stopped", "VARCHAR", "Reason a study stopped early, verbatim.", f"{STATUS}.whyStopped"),
        Column("has_delayed_posting", "BOOLEAN", "Whether posting of a device study was delayed.", f"{STATUS}.delayedPosting"),
        Column("has_expanded_access", "BOOLEAN", "Whether expanded access to the intervention is available.", f"{STATUS}.expandedAccessInfo.hasExpandedAccess"),
        Column("expanded_access_nct_id", "VARCHAR", "NCT id of the expanded-access record for this study's intervention.", f"{STATUS}.expandedAccessInfo.nctId"),
        Column("expanded_access_status", "VARCHAR", "Status of that expanded-access record (API code).", f"{STATUS}.expandedAccessInfo.statusForNctId"),
        *date_columns("status_verified_date", f"{STATUS}.statusVerifiedDate", "Date the status was last verified", typed=False),
        *date_columns("start_date", f"{STATUS}.startDateStruct", "Study start date", typed=True),
        *date_columns("primary_completion_date", f"{STATUS}.primaryCompletionDateStruct", "Primary completion date", typed=True),
        *date_columns("completion_date", f"{STATUS}.completionDateStruct", "Study completion date", typed=True),
        *date_columns("study_first_submit_date", f"{STATUS}.studyFirstSubmitDate", "Date first submitted to ClinicalTrials.gov", typed=False),
        *date_columns("study_first_submit_qc_date", f"{STATUS}.studyFirstSubmitQcDate", "Date first submitted that met QC criteria", typed=False),
        *date_columns("study_first_post_date", f"{STATUS}.studyFirstPostDateStruct", "Date first posted", typed=True),
        Column("is_results_waived", "BOOLEAN", "Whether results submission was waived.", f"{STATUS}.resultsWaived"),
        *date_columns("results_first_submit_date", f"{STATUS}.resultsFirstSubmitDate", "Date results were first submitted", typed=False),
        *date_columns("results_first_submit_qc_date", f"{STATUS}.resultsFirstSubmitQcDate", "Date results first met QC criteria", typed=False),
        *date_columns("results_first_post_date", f"{STATUS}.resultsFirstPostDateStruct", "Date results were first posted", typed=True),
        *date_columns("disp_first_submit_date", f"{STATUS}.dispFirstSubmitDate", "Date a certification/extension request was first submitted", typed=False),
        *date_columns("disp_first_submit_qc_date", f"{STATUS}.dispFirstSubmitQcDate", "Date that request first met QC criteria", typed=False),
        *date_columns("disp_first_post_date", f"{STATUS}.dispFirstPostDateStruct", "Date that request was first posted", typed=True),
        *date_columns("last_update_submit_date", f"{STATUS}.lastUpdateSubmitDate", "Date the last update was submitted", typed=False),
        *date_columns("last_update_post_date", f"{STATUS}.lastUpdatePostDateStruct", "Date the last update was posted", typed=True),
        Column("lead_sponsor_name", "VARCHAR", "Lead sponsor's name (also in sponsors).", f"{SPONSORS}.leadSponsor.name"),
        Column("lead_sponsor_class", "VARCHAR", "Lead sponsor's agency class (API code).", f"{SPONSORS}.leadSponsor.class"),
        Column("responsible_party_type", "VARCHAR", "Who is responsible for the record (API code: SPONSOR, PRINCIPAL_INVESTIGATOR, SPONSOR_INVESTIGATOR).", f"{SPONSORS}.responsibleParty.type"),
        Column("responsible_party_investigator_full_name", "VARCHAR", "Responsible investigator's full name.", f"{SPONSORS}.responsibleParty.investigatorFullName"),
        Column("responsible_party_investigator_title", "VARCHAR", "Responsible investigator's title.", f"{SPONSORS}.responsibleParty.investigatorTitle"),
        Column("responsible_party_investigator_affiliation", "VARCHAR", "Responsible investigator's affiliation.", f"{SPONSORS}.responsibleParty.investigatorAffiliation"),
        Column("responsible_party_old_name_title", "VARCHAR", "Responsible party name and title in the legacy format.", f"{SPONSORS}.responsibleParty.oldNameTitle"),
        Column("responsible_party_old_organization", "VARCHAR", "Responsible party organisation in the legacy format.", f"{SPONSORS}.responsibleParty.oldOrganization"),
        Column("has_dmc", "BOOLEAN", "Whether a data monitoring committee oversees the study.", f"{OVERSIGHT}.oversightHasDmc"),
        Column("is_fda_regulated_drug", "BOOLEAN", "Whether the study tests an FDA-regulated drug.", f"{OVERSIGHT}.isFdaRegulatedDrug"),
        Column("is_fda_regulated_device", "BOOLEAN", "Whether the study tests an FDA-regulated device.", f"{OVERSIGHT}.isFdaRegulatedDevice"),
        Column("is_unapproved_device", "BOOLEAN", "Whether a tested device is not approved or cleared by the FDA.", f"{OVERSIGHT}.isUnapprovedDevice"),
        Column("is_ppsd", "BOOLEAN", "Whether the device is a pediatric post-market surveillance device.", f"{OVERSIGHT}.isPpsd"),
        Column("is_us_export", "BOOLEAN", "Whether a product is manufactured in and exported from the US.", f"{OVERSIGHT}.isUsExport"),
        Column("has_fdaaa801_violation", "BOOLEAN", "Whether the record carries an FDAAA 801 violation notice.", f"{OVERSIGHT}.fdaaa801Violation"),
        Column("brief_summary", "VARCHAR", "Brief summary, verbatim (its paragraphs are also in text_paragraphs).", f"{DESCRIPTION}.briefSummary", long_text=True),
        Column("detailed_description", "VARCHAR", "Detailed description, verbatim (its paragraphs are also in text_paragraphs).", f"{DESCRIPTION}.detailedDescription", long_text=True),
        Column("study_type", "VARCHAR", "Study type (API code: INTERVENTIONAL, OBSERVATIONAL, EXPANDED_ACCESS).", f"{DESIGN}.studyType"),
        Column("n_ptrs_to_this_exp_acc_nct_id", "INTEGER", "Number of studies that point to this expanded-access record.", f"{DESIGN}.nPtrsToThisExpAccNctId"),
        Column("is_expanded_access_individual", "BOOLEAN", "Expanded access for individual patients.", f"{DESIGN}.expandedAccessTypes.individual"),
        Column("is_expanded_access_intermediate", "BOOLEAN", "Expanded access for intermediate-size populations.", f"{DESIGN}.expandedAccessTypes.intermediate"),
        Column("is_expanded_access_treatment", "BOOLEAN", "Expanded access under a treatment IND/protocol.", f"{DESIGN}.expandedAccessTypes.treatment"),
        Column("is_patient_registry", "BOOLEAN", "Whether an observational study is a patient registry.", f"{DESIGN}.patientRegistry"),
        Column("target_duration", "VARCHAR", "Target follow-up duration of a patient registry, verbatim.", f"{DESIGN}.targetDuration"),
        Column("phases", "VARCHAR[]", "Phases as API codes (EARLY_PHASE1, PHASE1 .. PHASE4, NA), in document order.", f"{DESIGN}.phases"),
        Column("phase_label", "VARCHAR", "Readable phase label (e.g. 'Phase 1/Phase 2', 'Not Applicable'); null when no phase is given.", derive=Derivation("phase_label", "phases")),
        Column("allocation", "VARCHAR", "Allocation (API code: RANDOMIZED, NON_RANDOMIZED, NA).", f"{DESIGN}.designInfo.allocation"),
        Column("intervention_model", "VARCHAR", "Intervention model (API code, e.g. PARALLEL).", f"{DESIGN}.designInfo.interventionModel"),
        Column("intervention_model_description", "VARCHAR", "Free-text description of the intervention model.", f"{DESIGN}.designInfo.interventionModelDescription", long_text=True),
        Column("primary_purpose", "VARCHAR", "Primary purpose (API code, e.g. TREATMENT).", f"{DESIGN}.designInfo.primaryPurpose"),
        Column("observational_model", "VARCHAR", "Observational model (API code, e.g. COHORT).", f"{DESIGN}.designInfo.observationalModel"),
        Column("time_perspective", "VARCHAR", "Time perspective of an observational study (API code).", f"{DESIGN}.designInfo.timePerspective"),
        Column("masking", "VARCHAR", "Masking (API code: NONE, SINGLE, DOUBLE, TRIPLE, QUADRUPLE).", f"{DESIGN}.designInfo.maskingInfo.masking"),
        Column("masking_description", "VARCHAR", "Free-text description of the masking.", f"{DESIGN}.designInfo.maskingInfo.maskingDescription", long_text=True),
        Column("who_masked", "VARCHAR[]", "Who is masked (API codes: PARTICIPANT, CARE_PROVIDER, INVESTIGATOR, OUTCOMES_ASSESSOR).", f"{DESIGN}.designInfo.maskingInfo.whoMasked"),
        Column("bio_spec_retention", "VARCHAR", "Whether biospecimens are retained, with or without DNA (API code).", f"{DESIGN}.bioSpec.retention"),
        Column("bio_spec_description", "VARCHAR", "Description of retained biospecimens.", f"{DESIGN}.bioSpec.description", long_text=True),
        Column("enrollment", "INTEGER", "Enrollment count (actual or anticipated, see enrollment_type).", f"{DESIGN}.enrollmentInfo.count"),
        Column("enrollment_type", "VARCHAR", "Whether enrollment is ACTUAL or ESTIMATED (API code).", f"{DESIGN}.enrollmentInfo.type"),
        Column("eligibility_criteria", "VARCHAR", "Eligibility criteria text, verbatim (markdown escapes such as \\>= kept).", f"{ELIGIBILITY}.eligibilityCriteria", long_text=True),
        Column("accepts_healthy_volunteers", "BOOLEAN", "Whether healthy volunteers are accepted.", f"{ELIGIBILITY}.healthyVolunteers"),
        Column("sex", "VARCHAR", "Sex of eligible participants (API code: ALL, FEMALE, MALE).", f"{ELIGIBILITY}.sex"),
        Column("is_gender_based", "BOOLEAN", "Whether eligibility is based on gender identity.", f"{ELIGIBILITY}.genderBased"),
        Column("gender_description", "VARCHAR", "Description of gender-based eligibility.", f"{ELIGIBILITY}.genderDescription"),
        *age_columns("minimum_age", f"{ELIGIBILITY}.minimumAge", "Minimum eligible age"),
        *age_columns("maximum_age", f"{ELIGIBILITY}.maximumAge", "Maximum eligible age"),
        Column("std_ages", "VARCHAR[]", "Standard age groups (API codes: CHILD, ADULT, OLDER_ADULT).", f"{ELIGIBILITY}.stdAges"),
        Column("study_population", "VARCHAR", "Study population of an observational study.", f"{ELIGIBILITY}.studyPopulation", long_text=True),
        Column("sampling_method", "VARCHAR", "Sampling method of an observational study (API code).", f"{ELIGIBILITY}.samplingMethod"),
        Column("has_results", "BOOLEAN", "Whether results are posted (they are in the results tables: result_groups, outcome_measures, reported_events, ...).", "hasResults"),
        Column("version_holder", "VARCHAR", "Date of the ClinicalTrials.gov data version the record comes from.", f"{MISC}.versionHolder"),
        Column("removed_countries", "VARCHAR[]", "Countries that once had sites and no longer do.", f"{MISC}.removedCountries"),
    ),
)

def country_code_column() -> Column:
    return Column(
        "country_code", "VARCHAR",
        "ISO 3166-1 alpha-2 code of the country, from its name (pycountry, and the registry's older names); "
        "null for a name that is no ISO country (Kosovo).",
        derive=Derivation("country_code", "country"),
    )


ARMS = Table(
    name="arms",
    grain="one row per arm or group of a study",
    description="Arms (interventional) or groups/cohorts (observational) of each study.",
    key=("nct_id", "arm_position"),
    sources=(Source(f"{ARMS_INTERVENTIONS}.armGroups[]"),),
    columns=(
        nct_id_column(),
        position_column("arm_position", "arm"),
        Column("arm_label", "VARCHAR", "Arm label, verbatim; arm_interventions links on it.", "label"),
        Column("arm_type", "VARCHAR", "Arm type (API code, e.g. EXPERIMENTAL, PLACEBO_COMPARATOR).", "type"),
        Column("description", "VARCHAR", "Arm description, verbatim.", "description", long_text=True),
        Column("intervention_names", "VARCHAR[]", "Interventions the arm lists, verbatim as 'Type: Name'.", "interventionNames"),
    ),
)

INTERVENTIONS = Table(
    name="interventions",
    grain="one row per intervention of a study",
    description="Interventions (drugs, devices, procedures, behaviours, ...) studied.",
    key=("nct_id", "intervention_position"),
    sources=(Source(f"{ARMS_INTERVENTIONS}.interventions[]"),),
    columns=(
        nct_id_column(),
        position_column("intervention_position", "intervention"),
        Column("intervention_type", "VARCHAR", "Intervention type (API code, e.g. DRUG, DEVICE, BEHAVIORAL).", "type"),
        Column("intervention_name", "VARCHAR", "Intervention name, verbatim.", "name"),
        Column("description", "VARCHAR", "Intervention description, verbatim.", "description", long_text=True),
        Column("arm_group_labels", "VARCHAR[]", "Labels of the arms that receive it, verbatim (resolved links are in arm_interventions).", "armGroupLabels"),
        Column("other_names", "VARCHAR[]", "Other names of the intervention.", "otherNames"),
    ),
)

ARM_INTERVENTIONS = Table(
    name="arm_interventions",
    grain="one row per link between an arm and an intervention of the same study",
    description="Which intervention each arm receives, resolved from the interventions' arm labels and the arms' 'Type: Name' lists.",
    key=("nct_id", "arm_position", "intervention_position"),
    columns=(
        nct_id_column(),
        Column("arm_label", "VARCHAR", "Label of the arm (as in arms.arm_label)."),
        Column("intervention_name", "VARCHAR", "Name of the intervention (as in interventions.intervention_name)."),
        Column("arm_position", "INTEGER", "arms.arm_position of the linked arm."),
        Column("intervention_position", "INTEGER", "interventions.intervention_position of the linked intervention."),
        Column("intervention_type", "VARCHAR", "Type of the linked intervention (API code)."),
    ),
)

OUTCOME_MEASURES = Table(
    name="outcomes",
    grain="one row per registered outcome measure of a study (primary, secondary and other)",
    description="Registered outcome measures with their kind and order.",
    key=("nct_id", "outcome_position"),
    sources=(
        Source(f"{OUTCOMES}.primaryOutcomes[]", constants={"outcome_kind": "primary"}),
        Source(f"{OUTCOMES}.secondaryOutcomes[]", constants={"outcome_kind": "secondary"}),
        Source(f"{OUTCOMES}.otherOutcomes[]", constants={"outcome_kind": "other"}),
    ),
    columns=(
        nct_id_column(),
        position_column("outcome_position", "outcome (primary first, then secondary, then other)"),
        Column("outcome_kind", "VARCHAR", "primary, secondary or other."),
        Column("kind_position", "INTEGER", "1-based order of the outcome within its kind.", "#0"),
        Column("measure", "VARCHAR", "Outcome measure title, verbatim.", "measure"),
        Column("description", "VARCHAR", "Outcome description, verbatim.", "description", long_text=True),
        Column("time_frame", "VARCHAR", "Time frame, verbatim.", "timeFrame"),
    ),
)

SITES = Table(
    name="sites",
    grain="one row per site (location) of a study",
    description="Facilities where the study runs or ran, with recruitment status and coordinates.",
    key=("nct_id", "site_position"),
    sources=(Source(f"{CONTACTS_LOCATIONS}.locations[]"),),
    columns=(
        nct_id_column(),
        position_column("site_position", "site"),
        Column("facility", "VARCHAR", "Facility name.", "facility"),
        Column("site_status", "VARCHAR", "Recruitment status at the site (API code).", "status"),
        Column("city", "VARCHAR", "City.", "city"),
        Column("state", "VARCHAR", "State or province.", "state"),
        Column("zip", "VARCHAR", "Postal code, verbatim.", "zip"),
        Column("country", "VARCHAR", "Country name, verbatim.", "country"),
        country_code_column(),
        Column("latitude", "DOUBLE", "Latitude of the site's city (geoPoint.lat).", "geoPoint.lat"),
        Column("longitude", "DOUBLE", "Longitude of the site's city (geoPoint.lon).", "geoPoint.lon"),
    ),
)

COUNTRIES = Table(
    name="countries",
    grain="one row per country of a study: each country of its sites, then each country it no longer has sites in",
    description=(
        "Countries of each study, as AACT lists them: the countries of its sites in the order they first appear, then "
        "the countries ClinicalTrials.gov lists as removed (they once had sites and no longer do)."
    ),
    key=("nct_id", "country_position"),
    sources=(
        Source(f"{CONTACTS_LOCATIONS}.locations[]", constants={"is_removed": False}),
        Source(f"{MISC}.removedCountries[]", constants={"is_removed": True}, overrides={"country": "."}),
    ),
    distinct=("country",),
    columns=(
        nct_id_column(),
        position_column("country_position", "country (those of current sites first)"),
        Column("country", "VARCHAR", "Country name, verbatim.", "country"),
        country_code_column(),
        Column("is_removed", "BOOLEAN", "Whether the study no longer has sites in this country (derivedSection.miscInfoModule.removedCountries)."),
    ),
)

CONDITION_LIST = Table(
    name="conditions",
    grain="one row per condition a study lists",
    description="Conditions or diseases studied, verbatim as the sponsor lists them (MeSH mapping in condition_mesh_terms).",
    key=("nct_id", "condition_position"),
    sources=(Source(f"{CONDITIONS}.conditions[]"),),
    columns=(
        nct_id_column(),
        position_column("condition_position", "condition"),
        Column("condition", "VARCHAR", "Condition, verbatim.", "."),
    ),
)

KEYWORDS = Table(
    name="keywords",
    grain="one row per keyword a study lists",
    description="Keywords the sponsor gives for the study.",
    key=("nct_id", "keyword_position"),
    sources=(Source(f"{CONDITIONS}.keywords[]"),),
    columns=(
        nct_id_column(),
        position_column("keyword_position", "keyword"),
        Column("keyword", "VARCHAR", "Keyword, verbatim.", "."),
    ),
)

SPONSOR_LIST = Table(
    name="sponsors",
    grain="one row per sponsor or collaborator of a study",
    description="The lead sponsor and the collaborators of each study, with their role.",
    key=("nct_id", "sponsor_position"),
    sources=(
        Source(f"{SPONSORS}.leadSponsor", constants={"sponsor_role": "lead"}),
        Source(f"{SPONSORS}.collaborators[]", constants={"sponsor_role": "collaborator"}),
    ),
    columns=(
        nct_id_column(),
        position_column("sponsor_position", "sponsor (the lead first)"),
        Column("sponsor_role", "VARCHAR", "lead or collaborator."),
        Column("sponsor_name", "VARCHAR", "Sponsor name, verbatim.", "name"),
        Column("agency_class", "VARCHAR", "Agency class (API code: INDUSTRY, NIH, FED, OTHER_GOV, INDIV, NETWORK, OTHER, UNKNOWN).", "class"),
    ),
)


def _mesh_table(name: str, module: str, what: str) -> Table:
    return Table(
        name=name,
        grain=f"one row per MeSH term mapped to a study's {what}, direct or ancestor",
        description=f"MeSH terms ClinicalTrials.gov derives from the study's {what}: the direct matches and their ancestors in the MeSH tree.",
        key=("nct_id", "mesh_position"),
        sources=(
            Source(f"{DERIVED}.{module}.meshes[]", constants={"relation": "direct"}),
            Source(f"{DERIVED}.{module}.ancestors[]", constants={"relation": "ancestor"}),
        ),
        columns=(
            nct_id_column(),
            position_column("mesh_position", "MeSH term (direct terms first)"),
            Column("relation", "VARCHAR", "direct (the study's own term) or ancestor (a broader term above it)."),
            Column("mesh_id", "VARCHAR", "MeSH descriptor id (e.g. D015470).", "id"),
            Column("mesh_term", "VARCHAR", "MeSH term.", "term"),
        ),
    )


CONDITION_MESH_TERMS = _mesh_table("condition_mesh_terms", "conditionBrowseModule", "conditions")
INTERVENTION_MESH_TERMS = _mesh_table("intervention_mesh_terms", "interventionBrowseModule", "interventions")

BROWSE_LEAVES = Table(
    name="browse_leaves",
    grain="one row per MeSH browse leaf of a study's conditions or interventions",
    description="ClinicalTrials.gov's browse leaves: MeSH terms found in the record, with how relevant they are.",
    key=("nct_id", "leaf_position"),
    sources=(
        Source(f"{DERIVED}.conditionBrowseModule.browseLeaves[]", constants={"browse_module": "condition"}),
        Source(f"{DERIVED}.interventionBrowseModule.browseLeaves[]", constants={"browse_module": "intervention"}),
    ),
    columns=(
        nct_id_column(),
        position_column("leaf_position", "browse leaf"),
        Column("browse_module", "VARCHAR", "condition or intervention."),
        Column("mesh_id", "VARCHAR", "MeSH id.", "id"),
        Column("name", "VARCHAR", "MeSH term.", "name"),
        Column("as_found", "VARCHAR", "The text in the record it was found as.", "asFound"),
        Column("relevance", "VARCHAR", "Relevance (API code: HIGH, LOW).", "relevance"),
    ),
)

BROWSE_BRANCHES = Table(
    name="browse_branches",
    grain="one row per MeSH browse branch of a study's conditions or interventions",
    description="ClinicalTrials.gov's browse branches (MeSH tree categories) of the study.",
    key=("nct_id", "branch_position"),
    sources=(
        Source(f"{DERIVED}.conditionBrowseModule.browseBranches[]", constants={"browse_module": "condition"}),
        Source(f"{DERIVED}.interventionBrowseModule.browseBranches[]", constants={"browse_module": "intervention"}),
    ),
    columns=(
        nct_id_column(),
        position_column("branch_position", "browse branch"),
        Column("browse_module", "VARCHAR", "condition or intervention."),
        Column("abbrev", "VARCHAR", "Branch abbreviation.", "abbrev"),
        Column("name", "VARCHAR", "Branch name.", "name"),
    ),
)

OFFICIALS = Table(
    name="officials",
    grain="one row per overall official of a study",
    description="Overall officials (principal investigators, study chairs and directors).",
    key=("nct_id", "official_position"),
    sources=(Source(f"{CONTACTS_LOCATIONS}.overallOfficials[]"),),
    columns=(
        nct_id_column(),
        position_column("official_position", "official"),
        Column("official_name", "VARCHAR", "Name, verbatim (degrees included).", "name"),
        Column("affiliation", "VARCHAR", "Affiliation.", "affiliation"),
        Column("official_role", "VARCHAR", "Role (API code: PRINCIPAL_INVESTIGATOR, STUDY_CHAIR, STUDY_DIRECTOR).", "role"),
    ),
)

CONTACT_COLUMNS = (
    Column("contact_name", "VARCHAR", "Contact name.", "name"),
    Column("contact_role", "VARCHAR", "Contact role (API code, e.g. CONTACT, PRINCIPAL_INVESTIGATOR).", "role"),
    Column("phone", "VARCHAR", "Phone, verbatim.", "phone"),
    Column("phone_ext", "VARCHAR", "Phone extension, verbatim.", "phoneExt"),
    Column("email", "VARCHAR", "Email address.", "email"),
)

CENTRAL_CONTACTS = Table(
    name="central_contacts",
    grain="one row per central contact of a study",
    description="Central contacts for enrollment questions.",
    key=("nct_id", "contact_position"),
    sources=(Source(f"{CONTACTS_LOCATIONS}.centralContacts[]"),),
    columns=(nct_id_column(), position_column("contact_position", "central contact"), *CONTACT_COLUMNS),
)

SITE_CONTACTS = Table(
    name="site_contacts",
    grain="one row per contact at a site of a study",
    description="Contacts and investigators listed at each site.",
    key=("nct_id", "site_position", "contact_position"),
    sources=(Source(f"{CONTACTS_LOCATIONS}.locations[].contacts[]"),),
    columns=(
        nct_id_column(),
        Column("site_position", "INTEGER", "sites.site_position of the site.", "#0"),
        Column("contact_position", "INTEGER", "1-based position of the contact within the site.", "#1"),
        *CONTACT_COLUMNS,
    ),
)

REFERENCE_LIST = Table(
    name="study_references",
    grain="one row per literature reference of a study",
    description="Publications cited by the study record (background, results, derived).",
    key=("nct_id", "reference_position"),
    sources=(Source(f"{REFERENCES}.references[]"),),
    columns=(
        nct_id_column(),
        position_column("reference_position", "reference"),
        Column("pmid", "VARCHAR", "PubMed id.", "pmid"),
        Column("reference_type", "VARCHAR", "Reference type (API code: BACKGROUND, RESULT, DERIVED).", "type"),
        Column("citation", "VARCHAR", "Citation, verbatim.", "citation", long_text=True),
    ),
)

RETRACTIONS = Table(
    name="retractions",
    grain="one row per retraction notice of a study's reference",
    description="Retractions of cited publications.",
    key=("nct_id", "reference_position", "retraction_position"),
    sources=(Source(f"{REFERENCES}.references[].retractions[]"),),
    columns=(
        nct_id_column(),
        Column("reference_position", "INTEGER", "study_references.reference_position of the retracted reference.", "#0"),
        Column("retraction_position", "INTEGER", "1-based position of the retraction within the reference.", "#1"),
        Column("pmid", "VARCHAR", "PubMed id of the retraction notice.", "pmid"),
        Column("retraction_source", "VARCHAR", "Source of the retraction notice.", "source"),
    ),
)

SEE_ALSO_LINKS = Table(
    name="see_also_links",
    grain="one row per see-also link of a study",
    description="Web links the sponsor gives for more information.",
    key=("nct_id", "link_position"),
    sources=(Source(f"{REFERENCES}.seeAlsoLinks[]"),),
    columns=(
        nct_id_column(),
        position_column("link_position", "link"),
        Column("label", "VARCHAR", "Link label.", "label"),
        Column("url", "VARCHAR", "URL.", "url"),
    ),
)

AVAILABLE_IPDS = Table(
    name="available_ipds",
    grain="one row per available individual-participant-data set of a study",
    description="Individual participant data sets and documents that the sponsor says are available.",
    key=("nct_id", "ipd_position"),
    sources=(Source(f"{REFERENCES}.availIpds[]"),),
    columns=(
        nct_id_column(),
        position_column("ipd_position", "data set"),
        Column("ipd_id", "VARCHAR", "Identifier of the data set.", "id"),
        Column("ipd_type", "VARCHAR", "Type of data set.", "type"),
        Column("url", "VARCHAR", "URL.", "url"),
        Column("comment", "VARCHAR", "Comment.", "comment"),
    ),
)

IDENTIFIERS = Table(
    name="identifiers",
    grain="one row per identifier of a study other than its NCT id: the org study id, secondary ids and NCT aliases",
    description="Other identifiers of each study.",
    key=("nct_id", "identifier_position"),
    sources=(
        Source(f"{IDENT}.orgStudyIdInfo", constants={"identifier_source": "org_study_id"}),
        Source(f"{IDENT}.secondaryIdInfos[]", constants={"identifier_source": "secondary_id"}),
        Source(f"{IDENT}.nctIdAliases[]", constants={"identifier_source": "nct_alias"}, overrides={"identifier": "."}),
    ),
    columns=(
        nct_id_column(),
        position_column("identifier_position", "identifier (org study id first)"),
        Column("identifier_source", "VARCHAR", "org_study_id, secondary_id or nct_alias (an obsolete NCT id merged into this study)."),
        Column("identifier", "VARCHAR", "The identifier, verbatim.", "id"),
        Column("identifier_type", "VARCHAR", "Identifier type (API code, e.g. NIH, FDA, EUDRACT_NUMBER, OTHER_GRANT).", "type"),
        Column("domain", "VARCHAR", "Issuing domain or registry.", "domain"),
        Column("link", "VARCHAR", "Link to the identifier's record.", "link"),
    ),
)

IPD_SHARING_STATEMENTS = Table(
    name="ipd_sharing_statements",
    grain="one row per study that states an individual-participant-data sharing plan",
    description="Whether and how the study shares individual participant data.",
    key=("nct_id",),
    sources=(Source(IPD),),
    columns=(
        nct_id_column(),
        Column("ipd_sharing", "VARCHAR", "Plan to share IPD (API code: YES, NO, UNDECIDED).", "ipdSharing"),
        Column("description", "VARCHAR", "Description of the plan.", "description", long_text=True),
        Column("info_types", "VARCHAR[]", "Supporting information shared (API codes: STUDY_PROTOCOL, SAP, ICF, CSR, ANALYTIC_CODE).", "infoTypes"),
        Column("time_frame", "VARCHAR", "When the data become available and for how long.", "timeFrame", long_text=True),
        Column("access_criteria", "VARCHAR", "Access criteria.", "accessCriteria", long_text=True),
        Column("url", "VARCHAR", "URL.", "url"),
    ),
)

# Paragraphs are what the rendered study page shows of long text, and what search and NLP want
# to chunk by; a view derives them from the verbatim text without storing the text twice.
TEXT_PARAGRAPHS = View(
    name="text_paragraphs",
    grain="one row per paragraph of a free-text field of a study, its arms or its interventions",
    description="Long text split into paragraphs (blank-line separated, trimmed), for search and chunked NLP.",
    sql="""
with texts as (
    select nct_id, 'brief_summary' as field, 0 as item_position, brief_summary as text from studies
    union all select nct_id, 'detailed_description', 0, detailed_description from studies
    union all select nct_id, 'arm_description', arm_position, description from arms
    union all select nct_id, 'intervention_description', intervention_position, description from interventions
), split as (
    select nct_id, field, item_position,
           list_filter(
               list_transform(string_split(replace(text, chr(13), ''), chr(10) || chr(10)), lambda p: trim(p)),
               lambda p: p <> ''
           ) as paragraphs
    from texts where text is not null
)
select nct_id, field, item_position,
       generate_subscripts(paragraphs, 1) as paragraph_position,
       unnest(paragraphs) as paragraph
from split
""",
    columns=(
        nct_id_column(),
        Column("field", "VARCHAR", "brief_summary, detailed_description, arm_description or intervention_description."),
        Column("item_position", "INTEGER", "arm_position or intervention_position for arm/intervention text; 0 for study text."),
        Column("paragraph_position", "BIGINT", "1-based position of the paragraph within the text."),
        Column("paragraph", "VARCHAR", "The paragraph, trimmed."),
    ),
)
VIEWS: tuple[View, ...] = (TEXT_PARAGRAPHS,)
