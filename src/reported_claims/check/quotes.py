"""Quotes against the archived texts: every report's quote must stand in its source's text.

The archived text of source ``src-x`` is ``archive/src-x.txt``; the source record's
``text_sha256`` pins it. Both sides are compared after folding runs of white space to one
space and typographic quotes, apostrophes and dashes to ASCII, so that a quote typed with
straight quotes matches a text printed with curly ones. ``...`` between spaces, or ``…``,
marks an elision: each part must be found, in order.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from rapidfuzz import fuzz

from reported_claims.errors import ReportedClaimsError
from reported_claims.model.types import shorten
from reported_claims.problems import Problem, relpath
from reported_claims.repo.load import Dataset, load

ARCHIVE = "archive"


def archived(folder: Path) -> frozenset[str]:
    """The ids of the sources whose text is archived in ``folder`` (``<id>.txt``): none when
    there is no such folder. Listed once, rather than a file looked for by each source. In lower
    case, as ids are: where file names are not told apart by case (macOS, Windows), ``SRC-A.TXT``
    is the text of ``src-a``."""
    try:
        names = os.listdir(folder)
    except OSError:
        return frozenset()
    return frozenset(name[:-4].lower() for name in names if name.lower().endswith(".txt"))


_FOLD = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "\u00b4": "'", "`": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"', "\u00ab": '"', "\u00bb": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-", "\u2212": "-",
})
_SPACE = re.compile(r"\s+")
_ELISION = re.compile(r"(?:^|\s)\.\.\.(?:\s|$)|\u2026")
SHOWN = 160  # characters of a passage shown in a message


def fold(text: str) -> str:
    """The text as compared: NFC, ASCII quotes and dashes, single spaces."""
    return _SPACE.sub(" ", unicodedata.normalize("NFC", text).translate(_FOLD)).strip()


def parts(quote: str) -> list[str]:
    """The parts of a quote between its elisions, folded; empty parts dropped."""
    return [p for p in (fold(x) for x in _ELISION.split(quote)) if p]


CONTEXT_WORDS = 4  # unchanged words kept on each side of a difference


class ArchiveMissing(ReportedClaimsError):
    """The folder of archived texts named does not exist."""


def _clip(text: str) -> str:
    return shorten(text, SHOWN)


def marked(passage: str, quote: str) -> str:
    """``passage`` with the words that differ from ``quote`` marked as ``[-passage-]{+quote+}``.

    Long runs of equal words are cut to their ends with "…", so that the differences stand out.
    """
    old, new = passage.split(), quote.split()
    out: list[str] = []
    import difflib  # on use: only a quote that differs needs it
    opcodes = difflib.SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes()
    for op, a1, a2, b1, b2 in opcodes:
        if op == "equal":
            words = old[a1:a2]
            if len(words) > 2 * CONTEXT_WORDS + 1:
                words = words[:CONTEXT_WORDS] + ["…"] + words[-CONTEXT_WORDS:]
            out += words
            continue
        removed = "[-" + " ".join(old[a1:a2]) + "-]" if a2 > a1 else ""
        added = "{+" + " ".join(new[b1:b2]) + "+}" if b2 > b1 else ""
        out.append(removed + added)
    return " ".join(out)


CLOSEST_MAX = 400
"""Characters of a quote compared when looking for the closest passage."""


def closest(part: str, text: str) -> tuple[float, str]:
    """The passage of ``text`` that best matches ``part``, and its score (0-100)."""
    # Bounded: a very long quote against a long text would take minutes; its start is enough to
    # find where it was taken from.
    al = fuzz.partial_ratio_alignment(part[:CLOSEST_MAX], text)
    if al is None:
        return 0.0, ""
    start, end = al.dest_start, al.dest_end
    while start < end and text[start] == " ":
        start += 1
    while start > 0 and text[start - 1].isalnum():  # widen to whole words, not to punctuation
        start -= 1
    while end < len(text) and text[end].isalnum():
        end += 1
    return al.score, text[start:end].strip()


def find(quote: str, text: str) -> Optional[str]:
    """None when every part of ``quote`` is in the folded ``text`` in order, else why not."""
    pieces = parts(quote)
    pos = 0
    for n, part in enumerate(pieces, 1):
        at = text.find(part, pos)
        if at >= 0:
            pos = at + len(part)
            continue
        which = f"part {n} of {len(pieces)} ({_clip(part)!r})" if len(pieces) > 1 else "the quote"
        if text.find(part) >= 0:
            return f"{which} is in the text, but before the part preceding it; keep the parts in the source's order"
        score, passage = closest(part, text)
        if not passage:
            return f"{which} is not in the archived text"
        return (f"{which} is not in the archived text; closest passage ({score:.0f}% alike): "
                f"{marked(passage, part)!r} ([-the source's words-]{{+the quote's+}})")
    return None


@dataclass
class Report:
    """What check-quotes found."""

    problems: list[Problem] = field(default_factory=list)
    quotes: int = 0
    sources: int = 0

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]


MAX_TEXT_BYTES = 4 * 1024 * 1024
"""Largest archived text read; a news article is a few tens of kilobytes."""


def read_archive(path: Path) -> bytes:
    """An archived text's bytes: a regular file (never a link, a FIFO or a device) of bounded size.

    Raises ``FileNotFoundError`` when there is none and ``OSError`` naming why it is refused.
    """
    st = os.lstat(path)
    if stat.S_ISLNK(st.st_mode):
        raise OSError(0, "it is a symbolic link; archive the text itself")
    if not stat.S_ISREG(st.st_mode):
        raise OSError(0, "it is not a regular file")
    if st.st_size > MAX_TEXT_BYTES:
        raise OSError(0, f"it has {st.st_size} bytes, more than the {MAX_TEXT_BYTES} an archived text may have")
    with open(path, "rb") as f:
        data = f.read(MAX_TEXT_BYTES + 1)
    if len(data) > MAX_TEXT_BYTES:
        raise OSError(0, f"it has more than the {MAX_TEXT_BYTES} bytes an archived text may have")
    return data


def _archived(dataset: Dataset, sid: str, archive: Path, out: Report) -> Optional[str]:
    """The folded archived text of a source, with hash and missing-file problems noted."""
    source, doc = dataset.sources[sid], dataset.files[sid].doc
    path = archive / f"{sid}.txt"
    shown = relpath(path, dataset.root)
    try:
        data = read_archive(path)
    except FileNotFoundError:
        out.problems.append(doc.problem(
            "archive-missing", ("id",),
            f"reports quote this source but {shown} does not exist; its quotes are not checked. "
            "Save the source's text there and set text_sha256",
            "warning",
        ))
        return None
    except OSError as exc:
        out.problems.append(doc.problem("archive-missing", ("id",), f"cannot read {shown}: {exc.strerror}"))
        return None
    digest = hashlib.sha256(data).hexdigest()
    if source.text_sha256 is None:
        out.problems.append(doc.problem(
            "archive-hash-missing", ("id",), f"add `text_sha256: {digest}` to pin {shown}", "warning"
        ))
    elif source.text_sha256 != digest:
        out.problems.append(doc.problem(
            "archive-hash-mismatch", ("text_sha256",),
            f"{shown} has SHA-256 {digest}, not the recorded {source.text_sha256}: "
            "the archived text changed; restore it, or if the record is wrong correct text_sha256",
        ))
    try:
        return fold(data.decode("utf-8"))
    except UnicodeDecodeError:
        out.problems.append(doc.problem("archive-missing", ("id",), f"{shown} is not UTF-8 text"))
        return None


def check_quotes(root: Path, archive: Optional[Path] = None) -> Report:
    """Check every quote of every report of every claim that is not withdrawn."""
    root = Path(root)
    if archive is not None and not Path(archive).is_dir():
        raise ArchiveMissing(f"no folder {archive}: pass --archive the folder of the archived texts "
                             "(<source-id>.txt), or leave it out for the repository's archive/")
    archive = Path(archive) if archive is not None else root / ARCHIVE
    dataset, _ = load(root)
    return check_dataset(dataset, archive)


def check_dataset(dataset: Dataset, archive: Optional[Path] = None) -> Report:
    """Check the quotes of the dataset's claims against the archived texts (``archive/`` of its root)."""
    root = dataset.root
    archive = Path(archive) if archive is not None else root / ARCHIVE
    out = Report()
    texts: dict[str, Optional[str]] = {}
    for claim in sorted(dataset.claims.values(), key=lambda c: c.id):
        if claim.status == "withdrawn":
            continue
        doc = dataset.files[claim.id].doc
        for i, report in enumerate(claim.reports):
            if report.source not in dataset.sources:
                continue  # validate reports the dangling reference
            if report.source not in texts:
                texts[report.source] = _archived(dataset, report.source, archive, out)
            text = texts[report.source]
            if text is None:
                continue
            out.quotes += 1
            why = find(report.quote, text)
            if why:
                out.problems.append(doc.problem(
                    "quote-not-found", ("reports", i, "quote"), f"{why} ({relpath(archive / f'{report.source}.txt', root)})"
                ))
    out.sources = sum(1 for t in texts.values() if t is not None)
    out.problems.sort()
    return out

