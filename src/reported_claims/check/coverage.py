"""The ledger of every sentence: each sentence of an archived text is quoted or listed, with a reason.

A sentence is accounted for when a report of a claim (withdrawn ones too) quotes it (a part
of a quote between elisions, or an implied attribution's context, overlapping it), or when the
source's ``not_recorded`` lists it with the reason it is not recorded. What is neither is an
``unaccounted-sentence`` problem at its line of the archived text, so that a pull request
adding an article must account for all of it: no more and no less than the article says.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Optional

from reported_claims.check.quotes import ARCHIVE, archived, fold, parts, read_archive
from reported_claims.check.sentences import Sentence, sentences
from reported_claims.problems import Problem, relpath
from reported_claims.repo.load import Dataset

MIN_OVERLAP = 12
"""Characters a quote must share with a sentence to account for it (all of a shorter sentence)."""
SHOWN = 100


@dataclass
class Line:
    """One sentence of an archived text and what accounts for it."""

    sentence: Sentence
    quoted_by: list[str] = field(default_factory=list)
    """The claims whose reports quote it."""
    reason: Optional[str] = None
    """The ``not_recorded`` reason that lists it."""

    @property
    def accounted(self) -> bool:
        return bool(self.quoted_by or self.reason)


@dataclass
class Article:
    """The ledger of one archived text."""

    source: str
    path: str
    """The archived text, relative to the repository."""
    lines: list[Line]
    problems: list[Problem] = field(default_factory=list)

    @property
    def unaccounted(self) -> list[Line]:
        return [x for x in self.lines if not x.accounted]


def read_text(path: Path) -> Optional[str]:
    """An archived text through the quote checker's bounded reader; None when absent or refused."""
    try:
        return read_archive(path).decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _spans(needle: str, haystack: str) -> Iterable[tuple[int, int]]:
    start = haystack.find(needle) if needle else -1
    while start >= 0:
        yield start, start + len(needle)
        start = haystack.find(needle, start + 1)


def article(dataset: Dataset, sid: str, text: str, shown: str) -> Article:
    """Account for every sentence of the archived text of source ``sid``."""
    lines = [Line(s) for s in sentences(text)]
    folded = [fold(x.sentence.text) for x in lines]
    joined, bounds, pos = [], [], 0
    for f in folded:
        bounds.append((pos, pos + len(f)))
        joined.append(f)
        pos += len(f) + 1
    whole = " ".join(joined)

    def mark(fragment: str, claim: Optional[str] = None, reason: Optional[str] = None) -> bool:
        found = False
        for a, b in _spans(fragment, whole):
            found = True
            for x, (start, end) in zip(lines, bounds):
                overlap = min(b, end) - max(a, start)
                if overlap >= min(MIN_OVERLAP, end - start) and overlap > 0:
                    if claim and claim not in x.quoted_by:
                        x.quoted_by.append(claim)
                    if reason and not x.reason:
                        x.reason = reason
        return found

    # A withdrawn claim still accounts for what it quoted: the record stays, with why it was withdrawn.
    for claim in sorted(dataset.claims.values(), key=lambda c: c.id):
        for r in claim.reports:
            if r.source != sid:
                continue
            for fragment in parts(r.quote) + ([fold(r.attribution_context)] if r.attribution_context else []):
                mark(fragment, claim=claim.id)
    out = Article(sid, shown, lines)
    source = dataset.sources[sid]
    doc = dataset.files[sid].doc if sid in dataset.files else None
    for i, entry in enumerate(source.not_recorded):
        found = all([mark(p, reason=entry.reason) for p in parts(entry.quote)])
        if not found and doc is not None:
            out.problems.append(doc.problem(
                "ledger-not-found", ("not_recorded", i, "quote"),
                f"this sentence is not in {shown}; copy it exactly from the archived text",
            ))
    for x in out.unaccounted:
        s = x.sentence
        clip = s.text if len(s.text) <= SHOWN else s.text[: SHOWN - 1].rsplit(" ", 1)[0] + " …"
        out.problems.append(Problem(
            shown, s.line, s.col, "unaccounted-sentence", "",
            f"{clip!r} is neither quoted by a report nor listed in `not_recorded` of {sid}; quote it in a "
            f"claim's report or add it to records/sources/{sid}.yaml under not_recorded with a reason",
        ))
    return out


def coverage(dataset: Dataset, archive: Optional[Path] = None,
             only: Optional[Iterable[str]] = None) -> list[Article]:
    """The ledger of every source whose text is archived (or of the ``only`` ones), by source id."""
    archive = Path(archive) if archive is not None else dataset.root / ARCHIVE
    wanted = set(only) if only is not None else None
    out = []
    kept = archived(archive)
    for sid in sorted(kept.intersection(dataset.sources)):
        if wanted is not None and sid not in wanted:
            continue
        path = archive / f"{sid}.txt"
        text = read_text(path)
        if text is None:
            continue  # a missing or unreadable text is check-quotes' to report
        out.append(article(dataset, sid, text, relpath(path, dataset.root)))
    return out
