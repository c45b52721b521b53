"""The mapping's vocabulary: tables, columns, sources and derivations, and the column helpers
every part of the mapping shares.

How a study table is read from a canonical (API v2) study, in the manner of AACT's mapping:
- `Source.path` is a dotted path from the study root; a `[]` after a key fans out over that list.
  A path that ends in an object yields one row; one that ends in `[]` yields a row per element.
- A column's `source` is a dotted path relative to the row's element; `.` is the element itself
  (for lists of strings); `#0`, `#1` are the 1-based positions at the first and second `[]`.
- `@0.path`, `@1.path` read `path` from the element at the first and second `[]` of the source's
  path (the row's ancestors), so a measurement row carries its measure's and class's titles
  without a join; `$.path` reads from the study root, so a row carries a value that its list's
  parent object holds once (documentSection.largeDocumentModule.noSap).
- `Source.constants` give fixed column values for rows from that source (an outcome's kind).
- `Source.overrides` re-point a column for that source only (an alias id is the element itself).
- A column with `derive` is computed from another column of the same row (a DATE from its raw text,
  a number from the registry's text); one with a `Lookup` is read from another table of the same
  batch, from the first of its matches that finds a row (a measurement's number analyzed).
- `position` columns count rows of the table within a study across all its sources, 1-based, in
  document order, so child rows have a stable key that survives reloads (no autoincrement).
- `Table.distinct` names columns whose values a study's rows do not repeat: a row repeating an
  earlier row's values, or lacking one, is dropped (the first stays), and positions count the
  rows kept (one row per country of a study, from sites that share countries).
"""
from __future__ import annotations

from dataclasses import dataclass, field

PS = "protocolSection"
IDENT = f"{PS}.identificationModule"
STATUS = f"{PS}.statusModule"
SPONSORS = f"{PS}.sponsorCollaboratorsModule"
OVERSIGHT = f"{PS}.oversightModule"
DESCRIPTION = f"{PS}.descriptionModule"
CONDITIONS = f"{PS}.conditionsModule"
DESIGN = f"{PS}.designModule"
ARMS_INTERVENTIONS = f"{PS}.armsInterventionsModule"
OUTCOMES = f"{PS}.outcomesModule"
ELIGIBILITY = f"{PS}.eligibilityModule"
CONTACTS_LOCATIONS = f"{PS}.contactsLocationsModule"
REFERENCES = f"{PS}.referencesModule"
IPD = f"{PS}.ipdSharingStatementModule"
DERIVED = "derivedSection"
MISC = f"{DERIVED}.miscInfoModule"


@dataclass(frozen=True)
class Derivation:
    """A column computed from another column of the same row."""

    # "date", "date_precision", "age_years", "phase_label", "country_code", "timestamp", "number",
    # "integer", "bounded_number", "inequality", "denominator_units" (see normalize.DERIVATIONS)
    kind: str
    from_column: str


@dataclass(frozen=True)
class Lookup:
    """A column read from another study table of the same batch: `value` of the first row of
    `table` whose `on` columns equal this row's (pairs of this table's column, that table's
    column); `fold` names this table's columns compared with whitespace collapsed and case
    folded on both sides, and `recode` maps this table's codes to that table's before the
    comparison (a code with no entry matches nothing). When no row matches, `otherwise` is tried.
    """

    table: str
    value: str
    on: tuple[tuple[str, str], ...]
    fold: tuple[str, ...] = ()
    recode: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()
    otherwise: "Lookup | None" = None

    @property
    def kind(self) -> str:
        return "lookup"

    @property
    def tables(self) -> tuple[str, ...]:
        """Every table the lookup reads, in the order it tries them."""
        return (self.table,) + (self.otherwise.tables if self.otherwise else ())


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # DuckDB type
    description: str
    source: str | None = None  # path relative to the row element; None for constants, positions set by Source
    derive: Derivation | Lookup | None = None
    position: bool = False  # running 1-based position of the row within its study
    # Paragraphs of free text, each row's its own (eligibility criteria, descriptions): stored
    # with zstd rather than DuckDB's own choice of compression (see ddl.column_sql).
    long_text: bool = False


@dataclass(frozen=True)
class Source:
    path: str
    constants: dict[str, str] = field(default_factory=dict)
    overrides: dict[str, str] = field(default_factory=dict)

    def record_path(self, column_path: str) -> str:
        """Where a column path of this source reads in the record, from the study root (`[]`
        after a list); positions (`#N`) are not read from the record and have none."""
        if column_path == ".":
            return self.path
        if column_path.startswith("$."):
            return column_path[2:]
        if column_path.startswith("@"):
            level, _, rest = column_path[1:].partition(".")
            return "[]".join(self.path.split("[]")[: int(level) + 1]) + "[]." + rest
        return ".".join(p for p in (self.path, column_path) if p)


@dataclass(frozen=True)
class Table:
    name: str
    grain: str  # "one row per ..."
    description: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    sources: tuple[Source, ...] = ()  # empty for tables filled by the loader itself
    distinct: tuple[str, ...] = ()  # columns whose values a study's rows do not repeat

    @property
    def comment(self) -> str:
        return f"{self.description} Grain: {self.grain}."

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


def nct_id_column(source: str = "") -> Column:
    # Child rows carry the study id; for study-level sources it is read from the row itself.
    return Column("nct_id", "VARCHAR", "ClinicalTrials.gov identifier of the study (NCT followed by 8 digits).", source or None)


def position_column(name: str, what: str) -> Column:
    return Column(name, "INTEGER", f"1-based position of the {what} within the study, in document order; with nct_id, the stable key.", position=True)


def date_columns(name: str, path: str, what: str, *, typed: bool) -> tuple[Column, ...]:
    """A date as the API gives it, verbatim, plus the DATE, its precision and (for date structs) its type."""
    raw_path = f"{path}.date" if typed else path
    columns = [
        Column(f"{name}_raw", "VARCHAR", f"{what}, verbatim as in the record (YYYY, YYYY-MM or YYYY-MM-DD).", raw_path),
        Column(name, "DATE", f"{what} as a DATE; a month-only date resolves to the month's last day and a year-only date to 31 December (as AACT does).", derive=Derivation("date", f"{name}_raw")),
        Column(f"{name}_precision", "VARCHAR", f"Precision of {what.lower()}: day, month or year.", derive=Derivation("date_precision", f"{name}_raw")),
    ]
    if typed:
        columns.append(Column(f"{name}_type", "VARCHAR", f"Whether {what.lower()} is ACTUAL or ESTIMATED (API code).", f"{path}.type"))
    return tuple(columns)


def age_columns(name: str, path: str, what: str) -> tuple[Column, ...]:
    return (
        Column(name, "VARCHAR", f"{what}, verbatim (e.g. '18 Years', '6 Months').", path),
        Column(f"{name}_years", "DOUBLE", f"{what} in years (months/12, weeks*7/365.25, days/365.25, ...); null when not stated.", derive=Derivation("age_years", name)),
    )


def number_columns(name: str, path: str, what: str, *, kind: str = "number") -> tuple[Column, ...]:
    """A number the registry writes as text: the text verbatim, and its typed twin.

    `kind` is "number" (DOUBLE: a plain number, null for NA, an inequality or other text),
    "integer" (INTEGER: a whole number, null otherwise) or "bounded_number" (DOUBLE: the number
    behind an inequality too, whose sign goes to a `<name>_modifier` column).
    """
    raw = Column(f"{name}_raw", "VARCHAR", f"{what}, verbatim as in the record.", path)
    forms = {
        "number": ("DOUBLE", "null for NA, text or an inequality such as '<0.001'"),
        "integer": ("INTEGER", "null unless the text is a whole number"),
        "bounded_number": ("DOUBLE", "for an inequality such as '<0.001' the bound, its sign in the modifier column; null for NA or text"),
    }
    dtype, when_null = forms[kind]
    columns = [raw, Column(name, dtype, f"{what} as a number ({NUMBER_FORMS}); {when_null}.", derive=Derivation(kind, raw.name))]
    if kind == "bounded_number":
        columns.append(Column(
            f"{name}_modifier", "VARCHAR", f"The inequality {what.lower()} is given with: <, <=, > or >= (≤ and ≥ written as <= and >=); null for a plain number.",
            derive=Derivation("inequality", raw.name),
        ))
    return tuple(columns)


# How the numeric twins read the registry's text (normalize.DERIVATIONS implements it).
NUMBER_FORMS = "thousands separators, a decimal comma, '1.2E-5' and '1.2x10^-5' read; a trailing '*' and a leading 'p =' ignored"


@dataclass(frozen=True)
class View:
    name: str
    grain: str
    description: str
    sql: str
    columns: tuple[Column, ...]

    @property
    def comment(self) -> str:
        return f"{self.description} Grain: {self.grain}."
