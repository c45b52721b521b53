"""ISO 3166-1 alpha-2 codes for the country names ClinicalTrials.gov writes.

The registry names a site's country in words, mostly as ISO 3166 does ("Korea, Republic of",
"Iran, Islamic Republic of"), which pycountry (the ISO data, maintained) resolves by name,
official name or common name, in any letter case ("Côte D'Ivoire"). Older records keep names
the standard has since changed or dropped; those the registry is known to use are listed here.
A name that is no ISO country (Kosovo) has no code.
"""
from __future__ import annotations

from functools import cache

# Registry names pycountry does not resolve, by their casefolded form.
REGISTRY_NAMES = {
    name.casefold(): code
    for name, code in {
        "Turkey": "TR",  # Türkiye since 2022
        "Czech Republic": "CZ",
        "Macedonia, The Former Yugoslav Republic of": "MK",
        "Swaziland": "SZ",
        "Cape Verde": "CV",
        "Libyan Arab Jamahiriya": "LY",
        "Palestinian Territory, occupied": "PS",
        "Palestinian Territories, Occupied": "PS",
        "Virgin Islands (U.S.)": "VI",
        "Macau": "MO",
        "Burma": "MM",
        "East Timor": "TL",
        "Saint Martin": "MF",
        "Sint Maarten": "SX",
        "Aland Islands": "AX",
        "Federated States of Micronesia": "FM",
        "Korea, South": "KR",
        # Codes withdrawn from ISO 3166-1, for the countries the registry still lists by these names.
        "Former Yugoslavia": "YU",  # withdrawn in 2003
        "Former Serbia and Montenegro": "CS",  # withdrawn in 2006
        "Netherlands Antilles": "AN",  # withdrawn in 2010
    }.items()
}


@cache
def country_code(name: str) -> str | None:
    """The alpha-2 code of a country name as the registry writes it; None when it names no ISO country."""
    # Imported on first use: pycountry's import takes about 50 ms, which every `trials` command
    # and Dagster process would otherwise pay at start-up, building or not.
    import pycountry

    text = " ".join(name.split())
    if text.casefold() in REGISTRY_NAMES:
        return REGISTRY_NAMES[text.casefold()]
    try:
        return pycountry.countries.lookup(text).alpha_2
    except LookupError:
        return None
