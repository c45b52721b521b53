"""Every place in a parsed record, for tests that replace any part of one."""
from __future__ import annotations


def places(value, path: tuple = ()) -> list[tuple]:
    """Every place in a record: each object, list and value, by its keys and list positions (the
    record itself is the empty place, first)."""
    found = [path]
    if isinstance(value, dict):
        for key, child in value.items():
            found += places(child, path + (key,))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += places(child, path + (index,))
    return found
