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
evaluated, nor handed to Python's own parser (whose syntax tree costs about 500 times the
literal's size): one regular expression splits it into tokens and a parser with an explicit
stack builds the value, accepting only literals (strings, numbers, ``True``/``False``/``None``,
dicts, lists, tuples, and a sign before a number), within bounds on its size
(``MAX_LITERAL_CHARS``), its nesting (``MAX_NESTING_DEPTH``) and its number of values
(``MAX_LITERAL_VALUES``). Anything else is reported as ``registry export holds a non-literal:
<what> at line L``; a literal that does not parse as ``registry export literal is malformed:
<why> at line L``. Tuples become lists and every dict key must be a string, so the result is
plain JSON-shaped data.

What JSON can't hold is kept as text, not lost and not allowed to break the record's hashing:
an integer beyond 64 bits and a non-finite float (``1e9999``) become the text of the literal as
written. A surrogate pair written as two escapes (``'\\ud83d\\ude00'``) becomes its character;
a lone surrogate is not text, and rejects the record.

Line numbers in errors count from the top of the document.
"""
from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterator
from typing import Any

from pipeline.documents.model import EXCERPT_CHARS, ReadError, ReadItem, check_study, excerpt_of, short_repr

MAX_LITERAL_CHARS = 64 * 1024 * 1024
MAX_NESTING_DEPTH = 64
# A real record, results included, holds well under 100,000 values; each costs 50 to 70 bytes
# once built, so this bounds the parsed record to about 150 MB.
MAX_LITERAL_VALUES = 2_000_000

_RAW_JSON_HEADING = re.compile(r"^Raw JSON[ \t]*\r?$", re.MULTILINE)
_FIRST_NON_SPACE = re.compile(r"\S")
_HEADER_LINE = re.compile(r"^([A-Za-z][A-Za-z ]*?):[ \t]*(.*?)[ \t]*\r?$", re.MULTILINE)
_HEADER_NCT_ID_KEY = "Study NCT ID"

# One token per match, with the whitespace, comments and line joins before it. Strings are
# matched whole (any quoting; runs of plain characters at once, so a long string costs one
# match); an unterminated quote falls through to `other`; `end` is the end of the literal.
_TOKEN = re.compile(
    r"""
    (?:[ \t\f\r\n]+|\#[^\n]*|\\\r?\n)*
    (?:
      (?P<punct>[\[\](){},:+\-]|\.\.\.|\*\*)
    | (?P<string>(?P<prefix>[A-Za-z]{0,2})
        (?:'(?!'')[^'\\\n]*(?:\\.[^'\\\n]*)*'
          |"(?!"")[^"\\\n]*(?:\\.[^"\\\n]*)*"
          |'\'\'[^'\\]*(?:(?:\\.|'(?!''))[^'\\]*)*'\'\'
          |\"\"\"[^"\\]*(?:(?:\\.|"(?!""))[^"\\]*)*\"\"\"
          |''|""))
    | (?P<int>(?:[1-9](?:_?[0-9])*|0[xX](?:_?[0-9a-fA-F])+|0[oO](?:_?[0-7])+|0[bB](?:_?[01])+|0(?:_?[0-9])*)(?![jJ\w.]))
    | (?P<float>(?:[0-9](?:_?[0-9])*\.(?:[0-9](?:_?[0-9])*)?(?:[eE][+-]?[0-9](?:_?[0-9])*)?
        |\.[0-9](?:_?[0-9])*(?:[eE][+-]?[0-9](?:_?[0-9])*)?
        |[0-9](?:_?[0-9])*[eE][+-]?[0-9](?:_?[0-9])*)(?![jJ\w]))
    | (?P<name>[^\W\d]\w*)
    | (?P<complex>(?:[0-9][0-9_.eE+-]*|\.[0-9][0-9_.eE+-]*)[jJ])
    | (?P<end>\Z)
    | (?P<other>.)
    )
    """,
    re.VERBOSE | re.DOTALL,
)
_ESCAPE = re.compile(
    r"""\\(?:(?P<join>\r?\n)|(?P<simple>[\\'"abfnrtv])|(?P<octal>[0-7]{1,3})|x(?P<x>[0-9a-fA-F]{2})"""
    r"""|u(?P<u>[0-9a-fA-F]{4})|U(?P<U>[0-9a-fA-F]{8})|N\{(?P<name>[^}\n]*)\}|(?P<truncated>[xuUN]))""",
    re.DOTALL,
)
_SIMPLE_ESCAPES = {"\\": "\\", "'": "'", '"': '"', "a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}
_SURROGATE = re.compile("[\ud800-\udfff]")
_SURROGATE_PAIR = re.compile("[\ud800-\udbff][\udc00-\udfff]")
_JSON_WORDS = {"true": "True", "false": "False", "null": "None"}
_CONSTANTS = {"True": True, "False": False, "None": None}
_OPENERS = {"[": "]", "(": ")", "{": "}"}
_INT64 = range(-(2**63), 2**63)
# More digits than any 64-bit integer has: kept as text without being converted (int() of a
# long digit string is slow, and refused past 4,300 digits).
_MAX_INT_DIGITS = 19


class _Refused(Exception):
    """The literal is not read; `reason` ends with "at line L" once `_at` has placed it."""

    def __init__(self, reason: str, offset: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.offset = offset


def _malformed(why: str, offset: int) -> _Refused:
    return _Refused(f"registry export literal is malformed: {why}", offset)


def _non_literal(what: str, offset: int) -> _Refused:
    return _Refused(f"registry export holds a non-literal: {what}", offset)


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
    parsed = parse_python_literal(text, literal_first_line, start=literal_start)
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


def parse_python_literal(source: str, first_line: int = 1, start: int = 0) -> Any | ReadError:
    """The JSON-shaped value the Python literal at ``source[start:]`` denotes, parsed without
    evaluating anything (a document's text is not copied to take its literal).

    ``first_line`` is the document line on which the literal starts, so errors point into
    the document rather than into the literal.
    """
    if len(source) - start > MAX_LITERAL_CHARS:
        return ReadError(
            "",
            f"registry export literal is too large: {len(source) - start} characters (limit {MAX_LITERAL_CHARS})",
            excerpt_of(source, start),
        )
    try:
        return _LiteralParser(source, start).value()
    except _Refused as refusal:
        line = first_line + source.count("\n", start, refusal.offset)
        # The excerpt stays within the literal, as if it had been cut out of the document.
        window = max(start, refusal.offset - EXCERPT_CHARS // 2)
        return ReadError(f"line {line}", f"{refusal.reason} at line {line}", source[window : window + EXCERPT_CHARS])


class _Frame:
    """An open container: its items, the key waiting for its value (dicts), and where it opened."""

    __slots__ = ("opener", "items", "key", "offset", "n_items", "comma_last")

    def __init__(self, opener: str, offset: int) -> None:
        self.opener = opener
        self.items: list | dict = {} if opener == "{" else []
        self.key: Any = _NO_KEY
        self.offset = offset
        self.n_items = 0
        self.comma_last = False


_NO_KEY = object()


class _LiteralParser:
    """Tokens in, one value out; containers are kept on an explicit stack, never recursed into.
    (Written for speed: a 60 MB literal is 2 million tokens.)"""

    def __init__(self, source: str, start: int) -> None:
        self.source = source
        self.tokens = _TOKEN.finditer(source, start)
        self.pending: re.Match | None = None
        self.n_values = 0

    def next_token(self) -> re.Match:
        if self.pending is not None:
            token, self.pending = self.pending, None
            return token
        return next(self.tokens)

    def value(self) -> Any:
        stack: list[_Frame] = []
        next_token = self.next_token
        while True:
            token = next_token()
            kind = token.lastgroup
            frame = stack[-1] if stack else None
            if kind == "punct":
                text = token.group(kind)
                if text in _OPENERS:
                    if len(stack) >= MAX_NESTING_DEPTH:
                        raise _Refused(f"registry export nests deeper than {MAX_NESTING_DEPTH} levels", token.start(kind))
                    self.count(token)
                    stack.append(_Frame(text, token.start(kind)))
                    continue
                if frame is not None and text == _OPENERS[frame.opener] and frame.key is _NO_KEY and (
                    frame.n_items == 0 or frame.comma_last
                ):
                    value = self.close(stack, token)
                elif frame is not None and frame.opener == "{" and text == "**" and frame.key is _NO_KEY:
                    raise _non_literal("dict unpacking (**)", token.start(kind))
                else:
                    value = self.scalar(token)
            elif kind == "end":
                if stack:
                    raise _malformed(f"'{stack[-1].opener}' was never closed", stack[-1].offset)
                raise _malformed("the literal is empty", token.start(kind))
            else:
                value = self.scalar(token)
            # A value is complete: it goes into the open container, or it is the whole literal.
            while True:
                if not stack:
                    self.expect_end()
                    return value
                frame = stack[-1]
                following = next_token()
                text = following.group(following.lastgroup)
                if frame.opener == "{" and frame.key is _NO_KEY:
                    if text != ":":
                        if text in (",", "}"):
                            raise _non_literal("set", frame.offset)
                        raise self.unexpected(following, "':' after a dict key", frame)
                    if type(value) is not str:
                        raise _Refused(f"registry export has a non-string key {short_repr(value)}", following.start(following.lastgroup))
                    frame.key = value
                    break
                if frame.opener == "{":
                    frame.items[frame.key] = value
                    frame.key = _NO_KEY
                else:
                    frame.items.append(value)
                frame.n_items += 1
                if text == ",":
                    frame.comma_last = True
                    break
                if text == _OPENERS[frame.opener]:
                    frame.comma_last = False
                    value = self.close(stack, following)
                    continue
                raise self.unexpected(following, f"',' or '{_OPENERS[frame.opener]}'", frame)

    def close(self, stack: list[_Frame], token: re.Match) -> Any:
        frame = stack.pop()
        if frame.opener == "(" and frame.n_items == 1 and not frame.comma_last:
            return frame.items[0]  # (x) is x; only (x,) is a tuple
        return frame.items

    def count(self, token: re.Match) -> None:
        self.n_values += 1
        if self.n_values > MAX_LITERAL_VALUES:
            raise _Refused(f"registry export literal holds more than {MAX_LITERAL_VALUES:,} values", token.start(token.lastgroup))

    def scalar(self, token: re.Match) -> Any:
        kind = token.lastgroup
        text, offset = token.group(kind), token.start(kind)
        self.count(token)
        if kind == "string":
            return self.strings(token)
        if kind == "int":
            return _integer(text, offset)
        if kind == "float":
            return _float(text)
        if kind == "name":
            if text in _CONSTANTS:
                return _CONSTANTS[text]
            if text in _JSON_WORDS:
                raise _non_literal(
                    f"JSON {text} (JSON true/false/null are not Python literals: the record must be written "
                    f"with True/False/None, as Python prints it)", offset)
            raise _non_literal(f"name {text!r}", offset)
        if kind == "complex":
            raise _non_literal(f"complex number {text[:40]!r}", offset)
        if text in ("-", "+"):
            number = self.next_token()
            if number.lastgroup == "int":
                value = _integer(number.group("int"), number.start("int"), text)
            elif number.lastgroup == "float":
                value = _float(number.group("float"), text)
            else:
                raise _non_literal(f"a sign before {_describe(number)}", offset)
            return value
        if text == "...":
            raise _non_literal("ellipsis (...)", offset)
        if kind == "other" and text in "'\"":
            raise _malformed("a string is never closed", offset)
        if text in (",", ":", "]", ")", "}"):
            raise _malformed(f"unexpected '{text}'", offset)
        raise _non_literal(_describe(token), offset)

    def strings(self, token: re.Match) -> str:
        """A string, joined with the strings written right after it ('a' 'b' is 'ab')."""
        first = _string(token)
        following = self.next_token()
        if following.lastgroup != "string":
            self.pending = following
            return first
        parts = [first]
        while following.lastgroup == "string":
            parts.append(_string(following))
            following = self.next_token()
        self.pending = following
        return "".join(parts)

    def expect_end(self) -> None:
        following = self.next_token()
        kind = following.lastgroup
        if kind != "end":
            text = following.group(kind)
            if kind in ("name", "other") and text not in "'\"" or text in ("+", "-", "**", "..."):
                raise _non_literal(_describe(following), following.start(kind))
            raise _malformed(f"unexpected {_describe(following)} after the literal", following.start(kind))

    def unexpected(self, token: re.Match, wanted: str, frame: _Frame) -> _Refused:
        kind = token.lastgroup
        text = token.group(kind)
        if kind == "end":
            return _malformed(f"'{frame.opener}' was never closed", frame.offset)
        if kind == "name" or text in ("+", "-", "**", "...") or (kind == "other" and text not in "'\""):
            return _non_literal(_describe(token), token.start(kind))
        if kind == "punct" and text in ("]", ")", "}"):
            return _malformed(f"'{text}' does not match the '{frame.opener}' opened before it", token.start(kind))
        return _malformed(f"expected {wanted}, found {_describe(token)}", token.start(kind))


def _describe(token: re.Match) -> str:
    kind = token.lastgroup
    text = token.group(kind)
    if kind == "end":
        return "the end"
    if kind == "name":
        return f"name {text!r}"
    if kind == "string":
        return "a string"
    if kind in ("int", "float", "complex"):
        return f"number {text[:40]!r}"
    if text in ("+", "-", "**"):
        return f"operator {text!r}"
    if kind == "other" and text not in "'\"":
        return f"operator {text!r}" if not text.isalnum() else f"character {text!r}"
    return repr(text)


def _integer(text: str, offset: int, sign: str = "") -> int | str:
    """An int; one beyond 64 bits as the text written (int() of a long digit string is slow,
    and refused past 4,300 digits, so a long one is never converted)."""
    digits = text.replace("_", "")
    if len(digits) > 1 and digits[0] == "0" and digits[1] not in "xXoObB" and digits.strip("0"):
        raise _malformed(f"leading zeros in the integer {text[:40]!r}", offset)
    if len(digits) > _MAX_INT_DIGITS + 2 and len(digits.lstrip("0")) > _MAX_INT_DIGITS:
        return sign + text if sign == "-" else text
    value = int(digits, 0) if digits[:2] in ("0x", "0X", "0o", "0O", "0b", "0B") else int(digits)
    if sign == "-":
        value = -value
    return value if value in _INT64 else (sign + text if sign == "-" else text)


def _float(text: str, sign: str = "") -> float | str:
    """A float; a non-finite one (1e9999) as the text written, which JSON can hold."""
    value = float(text.replace("_", ""))
    if not math.isfinite(value):
        return sign + text if sign == "-" else text
    return -value if sign == "-" else value


def _string(token: re.Match) -> str:
    prefix = token.group("prefix").lower()
    offset = token.start("string")
    if "b" in prefix:
        raise _non_literal("bytes", offset)
    if "f" in prefix:
        raise _non_literal("f-string", offset)
    if prefix not in ("", "r", "u"):
        raise _malformed(f"unknown string prefix {token.group('prefix')!r}", offset)
    body = token.group("string")[len(prefix):]
    quote = 3 if body[:3] in ("'''", '"""') else 1
    body = body[quote:-quote]
    if prefix != "r" and "\\" in body:
        body = _unescape(body, offset)
    if not body.isascii() and _SURROGATE.search(body):
        body = _SURROGATE_PAIR.sub(_joined_pair, body)
        lone = _SURROGATE.search(body)
        if lone:
            raise _Refused(f"registry export holds a lone surrogate {lone.group()!r} (not Unicode text) in a string", offset)
    return body


def _joined_pair(pair: re.Match) -> str:
    high, low = pair.group()
    return chr(0x10000 + ((ord(high) - 0xD800) << 10) + (ord(low) - 0xDC00))


def _unescape(body: str, offset: int) -> str:
    def replace(escape: re.Match) -> str:
        kind = escape.lastgroup
        if kind == "join":
            return ""
        if kind == "simple":
            return _SIMPLE_ESCAPES[escape.group(kind)]
        if kind == "octal":
            return chr(int(escape.group(kind), 8))
        if kind in ("x", "u", "U"):
            code = int(escape.group(kind), 16)
            if code > 0x10FFFF:
                raise _malformed(f"\\U{escape.group(kind)} is beyond Unicode", offset)
            return chr(code)
        if kind == "name":
            try:
                return unicodedata.lookup(escape.group(kind))
            except KeyError:
                raise _malformed(f"unknown character name \\N{{{escape.group(kind)[:40]}}}", offset) from None
        raise _malformed(f"truncated \\{escape.group(kind)} escape", offset)

    return _ESCAPE.sub(replace, body)


def _header_fields(header: str) -> dict[str, str]:
    return {match.group(1): match.group(2) for match in _HEADER_LINE.finditer(header)}
