"""Problems found in records: one small family with stable codes.

Validation never raises for a bad record: it returns problems, and only the CLI turns them
into an exit code. Each code is stable; ``CODES`` documents it (``reported-claims codes``).
"""

from __future__ import annotations

import os
import unicodedata
from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]

# Characters that can end a line, move the cursor, start a terminal escape sequence, reorder
# what a reader sees or hide in plain sight: controls (C0, DEL, C1 including U+0085), format
# characters (bidirectional overrides, zero-width), the line and paragraph separators, private
# use, unassigned code points and lone surrogates (undecodable bytes of a file name).
_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp", "Co", "Cn"})
_SHORT_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape_char(char: str) -> str:
    if char in _SHORT_ESCAPES:
        return _SHORT_ESCAPES[char]
    point = ord(char)
    if point < 0x100:
        return f"\\x{point:02x}"
    if point < 0x10000:
        return f"\\u{point:04x}"
    return f"\\U{point:08x}"


def visible(text: object) -> str:
    """``text`` with every character that could break or disguise a line of output escaped.

    Controls, format, separator, private-use, unassigned and surrogate characters become
    visible escapes (``\\n``, ``\\x1b``, ``\\u2028``...), so that text from a record, a
    file name or a YAML tag printed by the tool stays on its one line and shows what it holds.
    """
    text = str(text)
    if text.isprintable() and text.isascii():
        return text
    return "".join(
        _escape_char(c) if unicodedata.category(c) in _HIDDEN_CATEGORIES else c for c in text
    )


def _github_data(text: str) -> str:
    """Escape the message of a GitHub workflow command, as actions/toolkit's escapeData does."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _github_property(text: str) -> str:
    """Escape a property value of a GitHub workflow command (escapeProperty)."""
    return _github_data(text).replace(":", "%3A").replace(",", "%2C")


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with one place in one file.

    Its fields may hold text a contributor wrote (keys, values, file names); ``format`` and
    ``github`` escape it, so they are the only ways a problem is printed.
    """

    path: str
    """The file, relative to the repository when it is inside it, with forward slashes."""
    line: int
    """1-based line; 1 when the problem concerns the whole file."""
    col: int
    """1-based column."""
    code: str
    """Stable code, a key of ``CODES``."""
    location: str = ""
    """Where inside the record, e.g. ``reports[0].quote``; empty for the whole file."""
    message: str = ""
    """What is wrong and, where it helps, how to fix it."""
    severity: Severity = "error"

    def format(self) -> str:
        """The problem as one line, ``file:line:col: where: what [code]``."""
        where = visible(self.location or "(file)")
        code = visible(self.code)
        tag = code if self.severity == "error" else f"{code}, warning"
        return (
            f"{visible(self.path)}:{visible(self.line)}:{visible(self.col)}: {where}: "
            f"{visible(self.message)} [{tag}]"
        )

    def github(self) -> str:
        """The GitHub Actions annotation form, shown on the pull request; one line."""
        level = "error" if self.severity == "error" else "warning"
        props = ",".join(
            f"{name}={_github_property(visible(value))}"
            for name, value in (("file", self.path), ("line", self.line), ("col", self.col),
                                ("title", self.code))
        )
        msg = _github_data(f"{visible(self.location or '(file)')}: {visible(self.message)}")
        return f"::{level} {props}::{msg}"


def relpath(path: os.PathLike | str, root: os.PathLike | str) -> str:
    """``path`` relative to ``root`` when inside it, else as given; always with ``/``."""
    p = os.path.abspath(path)
    r = os.path.abspath(root)
    try:
        rel = os.path.relpath(p, r)
    except ValueError:  # another drive on Windows
        rel = p
    # A name such as "..draft.yaml" is inside the root; only a ".." component leaves it.
    if rel == os.pardir or rel.startswith(os.pardir + os.sep):
        rel = str(path)
    return rel.replace(os.sep, "/")


CODES: dict[str, str] = {
    # reading the file
    "file-too-large": "The file is larger than the limit for one record; records are small.",
    "not-utf8": "The file is not valid UTF-8 text.",
    "bom": "The file starts with a byte-order mark; save it as UTF-8 without BOM.",
    "nul-byte": "The file contains a NUL byte: it is binary, not a YAML record.",
    "unreadable": "The file could not be read (permissions, a folder, a broken link).",
    "empty-file": "The file holds no record.",
    "line-separator": "U+2028, U+2029 or U+0085 in a record file: a line break to YAML that editors do not show.",
    "yaml-syntax": "The YAML cannot be parsed (bad indentation, tabs, unclosed quotes...).",
    "multiple-documents": "The file holds more than one YAML document; one record per file.",
    "yaml-anchor": "Anchors (&name) are not allowed: write each value out.",
    "yaml-alias": "Aliases (*name) are not allowed: write each value out.",
    "merge-key": "Merge keys (<<) are not allowed: write each key out.",
    "yaml-tag": "Tags (!!str, !python/...) are not allowed: values are typed by the model.",
    "complex-key": "A mapping key must be a plain string.",
    "duplicate-key": "The same key appears twice in one mapping.",
    "too-deep": "The record nests deeper than any record kind allows.",
    "not-a-mapping": "A record file must hold one mapping (key: value lines) at the top.",
    "symlink": "A record file that is a symbolic link: its target could be outside the repository.",
    "unknown-folder": "A folder under records/ that is not one of the kind folders (a typo?).",
    "misplaced-file": "A file directly under records/, outside the kind folders.",
    "nested-folder": "A folder inside a kind folder: records are not nested.",
    "unknown-extension": "A file in a kind folder whose name does not end in .yaml.",
    "unknown-kind": "The file is not in a records folder and its id has no known prefix.",
    # one record
    "missing-field": "A required field is missing.",
    "unknown-field": "A field that the model does not define (a typo?).",
    "invalid-type": "A value of the wrong type (text where a list is expected...).",
    "invalid-format": "A value that does not match the required format (an id, a code...).",
    "invalid-length": "A text or list that is too long or too short.",
    "invalid-choice": "A value that is not one of the allowed choices.",
    "invalid-value": "A value the model rejects.",
    "out-of-range": "A number outside its allowed range (negative amounts...).",
    "not-finite": "A number that is infinite or not a number.",
    "invalid-date": "A date that does not exist or is not written YYYY-MM-DD.",
    "invalid-period": "A period that is not YYYY, YYYY-Qn, YYYY-MM, YYYY-MM-DD or START/END.",
    "period-order": "A period that ends before it starts.",
    "future-date": "A date in the future.",
    "invalid-url": "A URL that is not http or https.",
    "unknown-country": "A country code that is not ISO 3166-1 alpha-2.",
    "blank-text": "An empty text.",
    "surrounding-whitespace": "A text that starts or ends with white space.",
    "control-character": "A control character inside a text.",
    "invisible-character": "An invisible, zero-width or bidirectional control character in a text.",
    "not-nfc": "A text that is not in Unicode normal form C.",
    "formula-prefix": "A text that starts with = + - @ tab or CR, which spreadsheets run as a formula.",
    "placeholder": "A placeholder left by `reported-claims new` that is not filled in.",
    "share-over-100": "A percentage above 100.",
    "missing-share-of": "A percentage without the whole it is a share of.",
    "claim-without-report": "A claim with no report: every claim needs a source and its quote.",
    "withdrawal-mismatch": "`status: withdrawn` without `withdrawal`, or the reverse.",
    "duplicate-quantity": "Two quantities of one claim share an id.",
    "unknown-quantity": "A report's figure refers to a quantity the claim does not define.",
    "missing-compared-to": "A multiple (`unit: times`) without `compared_to`: what it compares against.",
    "seen-mismatch": "`text_sha256`, `retrieved` or `not_recorded` on a source whose text was not seen (`seen: false`).",
    "attribution-not-in-quote": "An explicit attribution whose `attributed_to` is not words of the quote (or of the context, when implied).",
    "missing-attribution-context": "An implied attribution without `attribution_context`, the sentence that carries it.",
    "attribution-mismatch": "Attribution fields that do not go with the attribution mode.",
    "modality-mismatch": "`modality` without `modality_text`, or the reverse.",
    "modality-not-in-quote": "A `modality_text` that is not words of the quote.",
    # across records
    "duplicate-id": "Two records share an id.",
    "id-mismatch": "The record's id is not its file name.",
    "case-collision": "Two file names differ only by case; they collide on macOS and Windows.",
    "unknown-reference": "A reference to a record that does not exist.",
    "unknown-term": "A term that is not in its vocabulary under records/vocabularies/.",
    "deprecated-term": "A term its vocabulary marks as deprecated.",
    "duplicate-term": "Two terms of one vocabulary share an id.",
    "vocabulary-mismatch": "A vocabulary's id is not its file name.",
    "lineage-cycle": "Sources that derive from or attribute to one another in a circle.",
    "self-link": "A claim linked to itself.",
    "duplicate-report": "Two reports of one claim cite the same source.",
    "unknown-claimant": "A report's `claimant` that is not one of the claim's claimants.",
    "unreported-claimant": "A claimant that no report names as its `claimant`.",
    "act-stronger-than-claim": "A report of a claim that only questions or suggests, whose act is stronger.",
    "act-stronger-than-reports": "A claim whose act is stronger than that of every report (a question stated as a fact).",
    "no-carrying-report": "A claim with no report of fit `exact` or `narrower`: no quote states it.",
    "missing-publisher": "A news article without `publisher`.",
    "part-of-cycle": "An entity or claim that is part of itself, directly or in a circle.",
    "replacement-cycle": "Withdrawn claims replaced by themselves or by one another in a circle.",
    "unaccounted-sentence": "A sentence of an archived text that no report quotes and the source's `not_recorded` does not list.",
    "ledger-not-found": "A `not_recorded` sentence that is not in the source's archived text.",
    "near-duplicate": "A claim that closely matches another claim.",
    "stale-generated": "A generated file differs from what the models generate now.",
    "package-invalid": "The built package fails the Frictionless validator or a JSON resource's schema; "
                       "the build publishes nothing (a fault of the build: please report it).",
    # formatting and quotes
    "not-formatted": "A record not in the canonical layout; run `reported-claims fmt`.",
    "quote-not-found": "A report's quote is not in the archived text of its source.",
    "archive-hash-mismatch": "An archived text whose SHA-256 is not the source's text_sha256.",
    "archive-hash-missing": "An archived text whose source record has no text_sha256 to pin it.",
    "archive-missing": "A source quoted by reports that has no archived text under archive/.",
}
