"""Registry exports: a text header, then the study record written as a Python literal.

The form looks like::

    Viewing Study NCT06486350

    Study NCT ID: NCT06486350
    Status: RECRUITING
    ...
    Raw JSON

    {'hasResults': False, 'protocolSection': {...}, ...}

The record after the ``Raw JSON`` line is the API v2 study printed with Python's ``repr``
(single quotes, ``True``/``False``/``None``). It is untrusted input, so it is never
evaluated: its size and bracket nesting are bounded before parsing, and the parsed syntax
tree is converted by a walk that accepts only literal nodes (strings, numbers, booleans,
``None``, dicts, lists, tuples, and a sign on a number). Anything else is reported as
``registry export holds a non-literal: <node type> at line L``. Tuples become lists and
every dict key must be a string, so the result is plain JSON-shaped data.

Line numbers in errors count from the top of the document.
"""
from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from typing import Any

from pipeline.documents.model import ReadError, ReadItem, check_study, excerpt_of

MAX_LITERAL_CHARS = 64 * 1024 * 1024
MAX_NESTING_DEPTH = 64

_RAW_JSON_HEADING = re.compile(r"^Raw JSON[ \t]*\r?$", re.MULTILINE)
_FIRST_NON_SPACE = re.compile(r"\S")
_HEADER_LINE = re.compile(r"^([A-Za-z][A-Za-z ]*?):[ \t]*(.*?)[ \t]*\r?$", re.MULTILINE)
_HEADER_NCT_ID_KEY = "Study NCT ID"

# Brackets inside string literals and comments must not count toward nesting, so the scan
# steps over whole strings (any prefix, any quoting) and comments in one match each.
# An unterminated quote ends the scan: the parser reports it better than a depth count.
_NESTING_TOKENS = re.compile(
    r"""
      (?P<string>[rRbBuUfF]{0,2}(?:'''(?:[^\\]|\\.)*?'''|\"\"\"(?:[^\\]|\\.)*?\"\"\"
                                  |'[^'\\\n]*(?:\\.[^'\\\n]*)*'|"[^"\\\n]*(?:\\.[^"\\\n]*)*"))
    | (?P<comment>\#[^\n]*)
    | (?P<open>[\[{(])
    | (?P<close>[\]})])
    | (?P<unterminated>['"])
    """,
    re.VERBOSE | re.DOTALL,
)

_SIGNS = {ast.USub: lambda number: -number, ast.UAdd: lambda number: +number}


class _NotALiteral(Exception):
    def __init__(self, reason: str, line: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.line = line


def read_registry_export(text: str) -> Iterator[ReadItem]:
    """The one study a registry export holds, or the error explaining why it cannot be read."""
    heading = _RAW_JSON_HEADING.search(text)
    if heading is None:
        yield ReadError("", "registry export has no 'Raw JSON' section", excerpt_of(text))
        return
    literal_match = _FIRST_NON_SPACE.search(text, heading.end())
    if literal_match is None:
        yield ReadError("", "registry export has an empty 'Raw JSON' section", excerpt_of(text, heading.start()))
        return
    literal_start = literal_match.start()
    literal_first_line = text.count("\n", 0, literal_start) + 1
    parsed = parse_python_literal(text[literal_start:], literal_first_line)
    if isinstance(parsed, ReadError):
        yield parsed
        return
    checked = check_study(parsed, "")
    if isinstance(checked, ReadError):
        yield ReadError(checked.position, checked.reason, excerpt_of(text, literal_start))
        return
    header_nct_id = _header_fields(text[: heading.start()]).get(_HEADER_NCT_ID_KEY)
    if header_nct_id and header_nct_id != checked.nct_id:
        yield ReadError(
            "",
            f"registry export header names {header_nct_id} but its record holds {checked.nct_id}",
            excerpt_of(text),
        )
        return
    yield checked


def parse_python_literal(source: str, first_line: int = 1) -> Any | ReadError:
    """The JSON-shaped value a Python literal denotes, parsed without evaluating anything.

    ``first_line`` is the document line on which ``source`` starts, so errors point into
    the document rather than into the literal.
    """
    if len(source) > MAX_LITERAL_CHARS:
        return ReadError(
            "",
            f"registry export literal is too large: {len(source)} characters (limit {MAX_LITERAL_CHARS})",
            excerpt_of(source),
        )
    too_deep_at = _first_offset_deeper_than(source, MAX_NESTING_DEPTH)
    if too_deep_at is not None:
        line = first_line + source.count("\n", 0, too_deep_at)
        return ReadError(
            f"line {line}",
            f"registry export nests deeper than {MAX_NESTING_DEPTH} levels at line {line}",
            excerpt_of(source, too_deep_at),
        )
    try:
        tree = ast.parse(source, mode="eval")
    except (SyntaxError, ValueError, MemoryError, RecursionError) as error:
        line = first_line + (getattr(error, "lineno", None) or 1) - 1
        message = getattr(error, "msg", None) or str(error)
        return ReadError(f"line {line}", f"registry export literal is malformed: {message} at line {line}", excerpt_of(source))
    try:
        return _literal_value(tree.body, first_line)
    except _NotALiteral as refusal:
        return ReadError(f"line {refusal.line}", refusal.reason, excerpt_of(source, _offset_of_line(source, refusal.line - first_line + 1)))


def _first_offset_deeper_than(source: str, limit: int) -> int | None:
    depth = 0
    for token in _NESTING_TOKENS.finditer(source):
        kind = token.lastgroup
        if kind == "open":
            depth += 1
            if depth > limit:
                return token.start()
        elif kind == "close":
            depth -= 1
        elif kind == "unterminated":
            return None
    return None


def _literal_value(node: ast.expr, first_line: int) -> Any:
    # Recursion is bounded: the nesting scan already capped the depth of containers.
    if isinstance(node, ast.Constant):
        if node.value is None or isinstance(node.value, (str, bool, int, float)):
            return node.value
        raise _not_a_literal(f"{type(node.value).__name__} constant", node, first_line)
    if isinstance(node, ast.Dict):
        value: dict[str, Any] = {}
        for key_node, value_node in zip(node.keys, node.values):
            if key_node is None:
                raise _not_a_literal("dict unpacking (**)", value_node, first_line)
            key = _literal_value(key_node, first_line)
            if not isinstance(key, str):
                line = first_line + key_node.lineno - 1
                raise _NotALiteral(f"registry export has a non-string key {key!r} at line {line}", line)
            value[key] = _literal_value(value_node, first_line)
        return value
    if isinstance(node, (ast.List, ast.Tuple)):
        return [_literal_value(element, first_line) for element in node.elts]
    if (
        isinstance(node, ast.UnaryOp)
        and type(node.op) in _SIGNS
        and isinstance(node.operand, ast.Constant)
        and type(node.operand.value) in (int, float)
    ):
        return _SIGNS[type(node.op)](node.operand.value)
    raise _not_a_literal(type(node).__name__, node, first_line)


def _not_a_literal(what: str, node: ast.AST, first_line: int) -> _NotALiteral:
    line = first_line + getattr(node, "lineno", 1) - 1
    return _NotALiteral(f"registry export holds a non-literal: {what} at line {line}", line)


def _offset_of_line(source: str, line: int) -> int:
    offset = 0
    for _ in range(line - 1):
        offset = source.find("\n", offset) + 1
    return offset


def _header_fields(header: str) -> dict[str, str]:
    return {match.group(1): match.group(2) for match in _HEADER_LINE.finditer(header)}
