"""Sentences of an archived text, with their line and column: what the ledger accounts for.

Each line of an archived text is a paragraph, a heading or a byline. A line is split into
sentences after ``.``, ``!`` or ``?`` (and any closing quote or bracket) followed by white space
and a capital letter, a digit or an opening quote, unless the word before is an abbreviation
("U.S.", "Co.", "Mr.") or an initial ("J. Michael Cole").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterator

_END = re.compile(r"[.!?][\"'”’)\]]*(\s+)(?=[\"'“‘(\[]?[A-Z0-9])")
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof sr jr st co corp inc ltd llc plc gen lt col sgt capt sen rep gov pres "
    "no nos vs etc al fig jan feb mar apr jun jul aug sep sept oct nov dec u.s u.k u.n e.g i.e "
    "a.m p.m approx dept est".split()
)


@dataclass(frozen=True)
class Sentence:
    text: str
    line: int
    """1-based line of the archived text."""
    col: int
    """1-based column where the sentence starts."""


def _is_abbreviation(before: str) -> bool:
    """Whether the word ending at a full stop is an abbreviation or an initial, not a sentence end."""
    word = before.rsplit(None, 1)[-1] if before.strip() else ""
    word = word.lstrip("\"'“‘([").rstrip(".")
    if len(word) == 1 and word.isalpha() and word.isupper():
        return True  # an initial: "J. Michael Cole"
    return word.lower() in _ABBREVIATIONS


def split_line(line: str) -> Iterator[tuple[int, str]]:
    """The sentences of one line: (0-based offset, text without surrounding white space)."""
    start = 0
    for m in _END.finditer(line):
        end = m.start(1)
        if line[m.start()] == "." and _is_abbreviation(line[start:m.start()]):
            continue
        piece = line[start:end]
        if piece.strip():
            yield start + len(piece) - len(piece.lstrip()), piece.strip()
        start = m.end(1)
    piece = line[start:]
    if piece.strip():
        yield start + len(piece) - len(piece.lstrip()), piece.strip()


def sentences(text: str) -> list[Sentence]:
    """Every sentence of a text, in order, with where it starts."""
    out = []
    for number, line in enumerate(text.splitlines(), 1):
        for offset, piece in split_line(line):
            out.append(Sentence(piece, number, offset + 1))
    return out
