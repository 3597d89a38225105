"""The value types of the records: ids, texts, URLs, partial dates and periods.

Each is an annotated type whose constraints and validators pydantic applies wherever a model
field uses it; the reference types (``ClaimId``, ``SourceId``, ``EntityId``) and ``Term`` are
also what ``model.graph`` reads to find every reference and vocabulary use of a record.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import textwrap
import unicodedata
from typing import Annotated, Literal, Optional

from pydantic import AfterValidator, BeforeValidator, Field
from pydantic_core import PydanticCustomError

# --- identifiers -------------------------------------------------------------------------

SLUG = r"[a-z0-9]+(?:-[a-z0-9]+)*"
ID_MAX = 80
CLAIM_ID = rf"^clm-{SLUG}$"
SOURCE_ID = rf"^src-{SLUG}$"
ENTITY_ID = rf"^ent-{SLUG}$"
TERM = rf"^{SLUG}$"


def _id_words(prefix: str, example: str) -> str:
    return f"`{prefix}` then lower-case words (letters and digits) joined by hyphens, e.g. `{example}`"


PATTERN_WORDS = {
    CLAIM_ID: _id_words("clm-", "clm-china-denies-lethal-support-to-russia"),
    SOURCE_ID: _id_words("src-", "src-us-reportedly-warns-missile-drone-parts"),
    ENTITY_ID: _id_words("ent-", "ent-us-government"),
    TERM: "lower-case letters, digits and hyphens, e.g. `dual-use-trade`",
    # The formats the record models declare with their fields.
    r"^[A-Z]{2}$": "two capital letters, an ISO 3166-1 alpha-2 country code, e.g. `CN`",
    r"^Q[1-9][0-9]{0,11}$": "`Q` then the digits of the Wikidata item, e.g. `Q148`",
    r"^[A-Z0-9]{18}[0-9]{2}$": "the 20 capital letters and digits of a Legal Entity Identifier",
    r"^[A-Za-z0-9][A-Za-z0-9._-]{1,99}$": "an OpenSanctions id: letters, digits, dots, underscores and hyphens",
    r"^[a-z]{2,3}(-[A-Z]{2})?$": "a language code: two or three lower-case letters, then optionally "
                                 "`-` and a country in capitals, e.g. `en`, `zh` or `en-GB`",
    r"^[0-9a-f]{64}$": "the 64 lower-case hexadecimal digits that `sha256sum` prints",
    r"^(percent|count|times|[A-Z]{3})$": "`percent`, `count`, `times` or a currency code in capitals, e.g. `USD`",
}
"""Each format (a regular expression) in words, for the messages a contributor reads."""

ClaimId = Annotated[
    str,
    Field(pattern=CLAIM_ID, max_length=ID_MAX, description="A claim id: `clm-` and a lower-case slug."),
]
SourceId = Annotated[
    str,
    Field(pattern=SOURCE_ID, max_length=ID_MAX, description="A source id: `src-` and a lower-case slug."),
]
EntityId = Annotated[
    str,
    Field(pattern=ENTITY_ID, max_length=ID_MAX, description="An entity id: `ent-` and a lower-case slug."),
]
Term = Annotated[
    str,
    Field(
        pattern=TERM,
        max_length=ID_MAX,
        description="A term id from one of the vocabularies in `records/vocabularies/`.",
    ),
]

# --- text ----------------------------------------------------------------------------------

# Characters that can make text display differently from what it contains (Trojan Source):
# bidirectional embeddings, overrides and isolates, zero-width characters and the BOM.
# Characters that hide or change what a text shows, by Unicode category: format characters (Cf:
# zero-width, bidi controls, the tag block that can spell hidden ASCII), private use (Co),
# unassigned and noncharacters (Cn), controls (Cc) and line and paragraph separators (Zl, Zp);
# and the combining marks that only select a variant (variation selectors, the grapheme joiner).
_HIDDEN_CATEGORIES = frozenset({"Cf", "Co", "Cn", "Cc", "Zl", "Zp"})
_SELECTORS = re.compile("[\u034f\u180b-\u180f\ufe00-\ufe0f\U000e0100-\U000e01ef]")


_ASCII_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f]")


def _hidden(value: str):
    """(code point, offset, category) of the first hidden character of a text, if any (tab and new line are text)."""
    if value.isascii():  # most text: of ASCII, only the controls hide, and a regex finds them in C
        m = _ASCII_CONTROL.search(value)
        return (f"{ord(m.group()):04X}", m.start(), "Cc") if m else None
    for i, ch in enumerate(value):
        if ch in "\t\n":
            continue
        category = unicodedata.category(ch)
        if category in _HIDDEN_CATEGORIES or _SELECTORS.match(ch):
            return f"{ord(ch):04X}", i, category
    return None


INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\u00ad]")
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")
# A cell starting with one of these is run as a formula by spreadsheets (CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PLACEHOLDER = "TODO"
PLACEHOLDER_TERM = "todo"
"""What `reported-claims new` writes where a term, an id's slug or a choice is to be filled in."""


def shorten(text: str, width: int) -> str:
    """``text`` cut at a word boundary to at most ``width`` characters, ending in "…" when cut."""
    return textwrap.shorten(text, width, placeholder="…") if len(text) > width else text


# An ASCII text that passes every check of ``_check_each`` but the placeholder's, matched at once:
# it starts and ends with a visible character, the first no formula start, and holds no control
# character but tab and new line. Most text is such; any other is checked rule by rule.
_PLAIN_ASCII = re.compile(r"(?![=+\-@])[!-~](?:[\t\n -~]*[!-~])?")


def _check_text(value: str) -> str:
    if value.isascii() and _PLAIN_ASCII.fullmatch(value) and not value.startswith(PLACEHOLDER):
        return value
    return _check_each(value)


def _check_each(value: str) -> str:
    if not value.strip():
        raise PydanticCustomError("blank-text", "text is empty; write the value or remove the field")
    if value.startswith(FORMULA_START):
        raise PydanticCustomError(
            "formula-prefix",
            "text starts with {char}, which spreadsheets run as a formula; reword the start",
            {"char": repr(value[0])},
        )
    if value != value.strip():
        raise PydanticCustomError(
            "surrounding-whitespace", "text starts or ends with white space; remove it"
        )
    if m := _hidden(value):
        cp, offset, category = m
        code = "control-character" if category in ("Cc", "Zl", "Zp") else "invisible-character"
        raise PydanticCustomError(
            code,
            "{what} U+{cp} at offset {offset}; remove it",
            {"what": "control character" if code == "control-character" else "invisible or format character",
             "cp": cp, "offset": offset},
        )
    if m := CONTROL.search(value):
        raise PydanticCustomError(
            "control-character",
            "control character U+{cp} at offset {offset}; remove it",
            {"cp": f"{ord(m.group()):04X}", "offset": m.start()},
        )
    if m := INVISIBLE.search(value):
        raise PydanticCustomError(
            "invisible-character",
            "invisible or bidirectional character U+{cp} at offset {offset}; remove it",
            {"cp": f"{ord(m.group()):04X}", "offset": m.start()},
        )
    if not unicodedata.is_normalized("NFC", value):
        raise PydanticCustomError(
            "not-nfc", "text is not in Unicode normal form C (a letter and a separate accent?); retype it or normalise it to NFC"
        )
    if value.startswith(PLACEHOLDER):
        raise PydanticCustomError("placeholder", "placeholder not filled in: {value}", {"value": shorten(value, 60)})
    return value


Text = Annotated[str, Field(min_length=1, max_length=10_000), AfterValidator(_check_text)]
"""Free text: one line or more, NFC, no control, invisible or bidi characters, no formula start."""

Line = Annotated[str, Field(min_length=1, max_length=1_000), AfterValidator(_check_text)]


def _check_past(value: dt.date) -> dt.date:
    if value > dt.date.today():
        raise PydanticCustomError("future-date", "date {date} is in the future", {"date": value.isoformat()})
    return value


def _iso_date(value: object) -> object:
    """A date written ``YYYY-MM-DD`` in ASCII digits (or a date already): never a number of
    seconds, a fullwidth digit or a trailing new line, which pydantic's lax mode would take."""
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        return value
    raise PydanticCustomError("invalid-date", "{value} is not a date written YYYY-MM-DD", {"value": repr(value)[:40]})


PastDate = Annotated[dt.date, BeforeValidator(_iso_date), AfterValidator(_check_past)]


def _check_url(value: str) -> str:
    if not re.fullmatch(r"https?://[^\s/$.?#][^\s]*", value, re.IGNORECASE):
        raise PydanticCustomError("invalid-url", "not an http(s) URL: {value}", {"value": value[:80]})
    _check_text(value)
    return value


Url = Annotated[str, Field(max_length=2_000), AfterValidator(_check_url)]

# --- partial dates and periods -------------------------------------------------------------

Precision = Literal["day", "month", "year", "unknown"]

# ASCII digits only, matched against the whole value (``fullmatch``): ``\d`` would take "٢٠٢٣"
# and ``$`` would let a block scalar's final new line through.
_PARTIAL = re.compile(r"([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2}))?)?")
_QUARTER = re.compile(r"([0-9]{4})-Q([1-4])")


def _month_end(year: int, month: int) -> dt.date:
    nxt = dt.date(year + (month == 12), month % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


_FORMS = "YYYY, YYYY-Qn, YYYY-MM or YYYY-MM-DD"
_MONTH_FIRST = re.compile(r"^(\d{1,2})/(\d{4})$")


def _bounds(text: str, period: Optional[str] = None) -> tuple[dt.date, dt.date]:
    """First and last day of a year, quarter, month or day written in ISO 8601.

    ``period`` is the whole value ``text`` is a part of, quoted in the message whole.
    """
    if m := _QUARTER.fullmatch(text):
        year, q = int(m.group(1)), int(m.group(2))
        return dt.date(year, 3 * q - 2, 1), _month_end(year, 3 * q)
    m = _PARTIAL.fullmatch(text)
    if not m:
        whole = period if period is not None else text
        if "/" not in whole:
            why = f"write {_FORMS}, or a range START/END of those"
        else:
            why = f"`/` separates the start and end of a range (START/END), and {text!r} is not {_FORMS}"
            if guess := _MONTH_FIRST.match(whole):
                why += f"; for a month write {guess.group(2)}-{int(guess.group(1)):02d}"
        raise PydanticCustomError(
            "invalid-period", "{value} is not a period: {why}", {"value": repr(shorten(whole, 40)), "why": why}
        )
    year, month, day = (int(g) if g else None for g in m.groups())
    try:
        if month is None:
            return dt.date(year, 1, 1), dt.date(year, 12, 31)
        if day is None:
            return dt.date(year, month, 1), _month_end(year, month)
        d = dt.date(year, month, day)
    except ValueError as exc:
        raise PydanticCustomError(
            "invalid-date", "{value} is not a real date: {why}", {"value": repr(text), "why": str(exc)}
        ) from None
    return d, d


@functools.lru_cache(maxsize=4096)
def period_bounds(period: str) -> tuple[dt.date, dt.date]:
    """The first and last day covered by a period (``2023``, ``2023-Q4``, ``2021/2022``...).
    Kept for the last few thousand asked: a repository's claims and sources share a few periods
    and dates, asked for by the validation of each and by the build for each report (600,000
    times at 100,000 claims). A period that is not one raises, and is not kept."""
    start, _, end = period.partition("/")
    first = _bounds(start, period)[0]
    last = _bounds(end or start, period)[1]
    return first, last


def _check_period(value: str) -> str:
    start, sep, end = value.partition("/")
    if sep and not end:
        raise PydanticCustomError("invalid-period", "period {value} has no end after '/'", {"value": repr(value)})
    first, last = period_bounds(value)
    if sep and _bounds(end)[0] < _bounds(start)[0]:
        raise PydanticCustomError(
            "period-order", "period {value} ends before it starts", {"value": repr(value)}
        )
    _check_past(first)
    return value


Period = Annotated[
    str,
    Field(
        max_length=40,
        description="What time the claim is about: `YYYY`, `YYYY-Qn`, `YYYY-MM`, `YYYY-MM-DD`, "
        "or a range `START/END` of those (ISO 8601 interval).",
        examples=["2023", "2023-Q4", "2021/2022", "2024-04-01/2024-04-30"],
    ),
    AfterValidator(_check_period),
]


def _check_partial_date(value: str) -> str:
    if not _PARTIAL.fullmatch(value):
        raise PydanticCustomError(
            "invalid-date", "{value} is not YYYY, YYYY-MM or YYYY-MM-DD", {"value": repr(value[:40])}
        )
    _check_past(_bounds(value)[0])
    return value


PartialDate = Annotated[
    str,
    Field(
        max_length=10,
        description="A date as precise as it is known: `YYYY-MM-DD`, `YYYY-MM` or `YYYY`.",
        examples=["2024-04-12", "2024-04", "2024"],
    ),
    AfterValidator(_check_partial_date),
]


def date_precision(value: Optional[str]) -> Precision:
    """How precise a partial date is: day, month, year, or unknown when there is none."""
    if not value:
        return "unknown"
    return {4: "year", 7: "month", 10: "day"}[len(value)]
