"""Figures as an article prints them: value, unit, hedge and the whole a share is of.

``nearly 70% of Russia's machine tool imports`` is 70 ``percent``, hedge ``nearly``, scope
"Russia's machine tool imports"; ``more than USD500 million`` is 500,000,000 ``USD``, hedge
``over``; ``between 60 and 70 percent`` is the midpoint, 65, hedge ``about``, with ``low`` and
``high`` kept. Years, dates and small spelled-out counts ("two officials") are not figures.
The units and hedges are those of the model (``Figure.unit``, ``Figure.hedge``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

# Hedge words, longest first within each hedge, as the model normalises them.
HEDGES: dict[str, str] = {}
for _hedge, _words in {
    "about": "approximately|approx.|roughly|about|around|some|an estimated|estimated|circa|an average of|on average",
    "nearly": "nearly|almost|close to|just under|just shy of",
    "over": "more than|over|above|in excess of|upwards of|upward of|exceeding|just over|well over|greater than",
    "at-least": "at least|no less than|no fewer than|a minimum of|not less than",
    "under": "less than|fewer than|under|below|not more than|no more than",
    "up-to": "up to|as much as|as many as|as high as|a maximum of",
    # intensifiers that leave the figure exact, recognised so that they are not read as hedges
    "exact": "a staggering|a whopping|a record|a mere|only|just|exactly|precisely|fully|a full",
}.items():
    for _w in _words.split("|"):
        HEDGES[_w] = _hedge

_CURRENCY_WORDS = {
    "dollar": "USD", "dollars": "USD", "us dollars": "USD", "euro": "EUR", "euros": "EUR", "pound": "GBP",
    "pounds": "GBP", "pounds sterling": "GBP", "yuan": "CNY", "renminbi": "CNY", "rouble": "RUB",
    "roubles": "RUB", "ruble": "RUB", "rubles": "RUB", "yen": "JPY", "rupees": "INR", "rupee": "INR",
}
_CURRENCY_SIGNS = {"us$": "USD", "$": "USD", "€": "EUR", "£": "GBP", "¥": "CNY", "₽": "RUB", "₹": "INR"}
_ISO = "USD|EUR|GBP|CNY|RMB|RUB|JPY|INR|CHF|UAH"
_MAGNITUDES = {
    "thousand": 1e3, "k": 1e3, "million": 1e6, "mn": 1e6, "m": 1e6, "mln": 1e6, "billion": 1e9, "bn": 1e9,
    "b": 1e9, "trillion": 1e12, "tn": 1e12, "tr": 1e12,
}
_WORD_NUMBERS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20, "thirty": 30, "forty": 40,
    "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "a hundred": 100, "hundred": 100,
    "a dozen": 12,
}
_MULTIPLES = {"twice": 2, "doubled": 2, "tripled": 3, "quadrupled": 4, "thrice": 3,
              "twofold": 2, "threefold": 3, "fourfold": 4, "fivefold": 5, "tenfold": 10}
_PERCENT = r"%|\s?per\s?cent\b|\s?percent\b|\s?pct\b|\s?percentage points?\b"

_hedge_alt = "|".join(re.escape(w) for w in sorted(HEDGES, key=len, reverse=True))
_word_alt = "|".join(re.escape(w) for w in sorted(_WORD_NUMBERS, key=len, reverse=True))
_NUM = rf"(?:\d{{1,3}}(?:,\d{{3}})+(?:\.\d+)?|\d+(?:\.\d+)?|(?:{_word_alt}))"
_MAG = r"(?:thousand|million|billion|trillion|mln|mn|bn|tn|m|b|k)\b"
_CUR_WORD = "|".join(sorted((re.escape(w) for w in _CURRENCY_WORDS), key=len, reverse=True))

FIGURE = re.compile(
    rf"(?<![\w$€£¥.,:/-])"
    rf"(?:(?P<hedge>{_hedge_alt})\s+)?"
    rf"(?:between\s+(?P<low>{_NUM})\s*(?:{_PERCENT})?\s+and\s+|from\s+(?P<from>{_NUM})\s+to\s+)?"
    rf"(?P<cur>US\$|\$|€|£|¥|₽|₹|(?:{_ISO})\s?)?"
    rf"(?P<num>{_NUM})"
    rf"(?:\s*[-–]\s*(?P<high>{_NUM}))?"
    rf"(?:\s?(?P<mag>{_MAG}))?"
    rf"(?:(?P<pct>{_PERCENT})|\s+(?P<times>times|fold)\b|-(?P<fold>fold)\b|\s+(?P<curword>{_CUR_WORD})\b)?",
    re.IGNORECASE,
)
_MULTIPLE = re.compile(rf"\b(?:(?P<hedge>{_hedge_alt})\s+)?(?P<word>{'|'.join(sorted(_MULTIPLES))})\b",
                       re.IGNORECASE)
_MONTHS = re.compile(r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s*$", re.IGNORECASE)
_INNER_AMOUNT = re.compile(
    rf"(?:(?:{_hedge_alt})\s+)?(?:US\$|\$|€|£|¥|(?:{_ISO})\s?)\d[\d,.]*(?:\s?{_MAG})?\s+(?:worth\s+of|in|of|worth)\s+",
    re.IGNORECASE,
)
_SCOPE_STOP = frozenset(
    "came come comes coming was were is are has have had in during last this from according that which who "
    "emanated went goes go originated valued worth between since before after while when and but as were".split()
)


@dataclass(frozen=True)
class Figure:
    """One figure found in a text."""

    text: str
    """As printed, with its hedge: ``nearly 70%``."""
    value: float
    unit: str
    """``percent``, ``count``, ``times`` or an ISO 4217 code."""
    hedge: str
    """``exact``, ``about``, ``nearly``, ``over``, ``at-least``, ``under`` or ``up-to``."""
    scope: Optional[str] = None
    """The whole a share is of, in the text's words (``of Russia's microelectronics``)."""
    low: Optional[float] = None
    high: Optional[float] = None
    start: int = 0
    end: int = 0

    def as_json(self) -> dict:
        out = {"text": self.text, "value": self.value, "unit": self.unit, "hedge": self.hedge, "scope": self.scope}
        if self.low is not None:
            out["low"], out["high"] = self.low, self.high
        return out


def _number(text: str) -> float:
    word = text.lower()
    if word in _WORD_NUMBERS:
        return float(_WORD_NUMBERS[word])
    return float(word.replace(",", ""))


def _scope(text: str, end: int) -> Optional[str]:
    """The words after ``of`` that follow a share, up to the next clause or preposition."""
    m = re.match(r"\s+of\s+(.+)", text[end:])
    if not m:
        return None
    # "of Russia's $900 million worth of machine tool imports": the whole is the imports
    rest = _INNER_AMOUNT.sub("", m.group(1))
    words = []
    for word in rest.split():
        bare = word.strip(",;:.!?()\"“”")
        if bare.lower() in _SCOPE_STOP or FIGURE.fullmatch(bare) and bare[:1].isdigit():
            break
        words.append(bare)
        if word[-1:] in ",;:.!?)" or len(words) >= 8:
            break
    return " ".join(words) or None


def _is_date_or_year(text: str, m: re.Match, value: float) -> bool:
    if _MONTHS.search(text[max(0, m.start() - 6): m.start()]):
        return True
    following = text[m.end(): m.end() + 12]
    if re.match(r"\s*(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b", following, re.IGNORECASE):
        return True
    return value.is_integer() and 1900 <= value <= 2100 and "," not in m.group("num")


def figures(text: str) -> list[Figure]:
    """Every figure in ``text``, in order."""
    out = []
    for m in FIGURE.finditer(text):
        num = m.group("num")
        cur, mag, curword = m.group("cur"), m.group("mag"), m.group("curword")
        pct, times = m.group("pct"), m.group("times") or m.group("fold")
        spelled = not num[0].isdigit()
        if mag and mag.lower() in ("m", "b", "k") and not cur:
            continue  # "5 m" is a distance, "5 b" nothing: a bare letter needs a currency sign
        factor = _MAGNITUDES[mag.lower()] if mag else 1.0
        value = _number(num) * factor
        if pct:
            unit = "percent"
        elif times:
            unit = "times"
        elif cur:
            code = cur.strip().upper()
            unit = _CURRENCY_SIGNS.get(cur.strip().lower(), "CNY" if code == "RMB" else code)
        elif curword:
            unit = _CURRENCY_WORDS[curword.lower()]
        else:
            unit = "count"
            if (spelled and not mag) or (not mag and _is_date_or_year(text, m, value)):
                continue
        hedge = HEDGES.get((m.group("hedge") or "").lower(), "exact")
        low = high = None
        first = m.group("low") or m.group("from")
        if first or m.group("high"):
            low, high = (_number(first) * factor, value) if first else (value, _number(m.group("high")) * factor)
            value = (low + high) / 2
            hedge = "about"
        shown = m.group(0).rstrip()
        out.append(Figure(shown, value, unit, hedge, _scope(text, m.end()) if unit == "percent" else None,
                          low, high, m.start(), m.start() + len(shown)))
    for m in _MULTIPLE.finditer(text):
        hedge = HEDGES.get((m.group("hedge") or "").lower(), "exact")
        out.append(Figure(m.group(0), float(_MULTIPLES[m.group("word").lower()]), "times", hedge,
                          start=m.start(), end=m.end()))
    return sorted(out, key=lambda f: f.start)
