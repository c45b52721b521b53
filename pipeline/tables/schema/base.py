"""The mapping's vocabulary: tables, columns, sources and derivations, and the column helpers
every part of the mapping shares.

How a study table is read from a canonical (API v2) study, in the manner of AACT's mapping:
- `Source.path` is a dotted path from the study root; a `[]` after a key fans out over that list.
  A path that ends in an object yields one row; one that ends in `[]` yields a row per element.
- A column's `source` is a dotted path relative to the row's element; `.` is the element itself
  (for lists of strings); `#0`, `#1` are the 1-based positions at the first and second `[]`.
- `Source.constants` give fixed column values for rows from that source (an outcome's kind).
- `Source.overrides` re-point a column for that source only (an alias id is the element itself).
- A column with `derive` is computed from another column of the same row (a DATE from its raw text).
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

    kind: str  # "date", "date_precision", "age_years", "phase_label", "country_code"
    from_column: str


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # DuckDB type
    description: str
    source: str | None = None  # path relative to the row element; None for constants, positions set by Source
    derive: Derivation | None = None
    position: bool = False  # running 1-based position of the row within its study


@dataclass(frozen=True)
class Source:
    path: str
    constants: dict[str, str] = field(default_factory=dict)
    overrides: dict[str, str] = field(default_factory=dict)


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
