"""The text of an article and what its page says about it, from plain text, Markdown or saved HTML.

HTML goes through trafilatura, given the page as a string so that nothing is ever fetched: it
keeps the article's paragraphs and drops navigation, related links and footers, and reads the
title, date, author and site name from the page's metadata. The text comes back with one
paragraph, heading or byline per line, the layout of ``archive/<id>.txt``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from reported_claims.errors import ReportedClaimsError, require

MAX_BYTES = 5 * 1024 * 1024
_HTML_START = re.compile(rb"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body|meta|article)\b",
                         re.IGNORECASE | re.DOTALL)
_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+")
_MD_EMPHASIS = re.compile(r"(\*\*|__|\*|_)(?=\S)(.+?)(?<=\S)\1")
_MD_BULLET = re.compile(r"^\s*(?:[-*+]|\d+\.)\s+")
_MD_QUOTE = re.compile(r"^\s*>\s?")


class IngestError(ReportedClaimsError):
    """The input cannot be read as an article; the message says why."""


@dataclass
class Article:
    """An article's text, one paragraph per line, and the metadata its page gave."""

    text: str
    title: Optional[str] = None
    date: Optional[str] = None
    authors: list[str] = field(default_factory=list)
    site: Optional[str] = None
    url: Optional[str] = None
    kind: str = "text"
    """``text``, ``markdown`` or ``html``: how it was read."""


def read_bytes(path: Path) -> bytes:
    """The bytes of ``path``, refusing what is too large to be an article."""
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise IngestError(f"{path}: {size:,} bytes is more than an article ({MAX_BYTES:,} at most)")
        return path.read_bytes()
    except FileNotFoundError:
        raise IngestError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise IngestError(f"{path}: is a folder, not a file") from None
    except OSError as exc:
        raise IngestError(f"{path}: cannot read: {exc.strerror}") from None


def decode(data: bytes, shown: str) -> str:
    """UTF-8 text, NFC, or an error saying what the input is instead."""
    if not data.strip():
        raise IngestError(f"{shown}: the file is empty")
    if b"\x00" in data[:8192]:
        raise IngestError(f"{shown}: a binary file, not text, Markdown or HTML")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise IngestError(f"{shown}: not UTF-8 text (byte {exc.start}); save it as UTF-8 first") from None
    return unicodedata.normalize("NFC", text)


def _lines(text: str) -> str:
    """One paragraph per line, without blank or white-space-only lines, ending in a newline."""
    kept = [re.sub(r"[ \t\u00a0]+", " ", line).strip() for line in text.splitlines()]
    return "\n".join(line for line in kept if line) + "\n"


def from_markdown(text: str) -> str:
    """Markdown as plain paragraphs: headings, emphasis, links and bullets reduced to their words."""
    out, para = [], []

    def flush() -> None:
        if para:
            out.append(" ".join(para))
            para.clear()

    for raw in text.splitlines():
        line = _MD_EMPHASIS.sub(r"\2", _MD_LINK.sub(r"\1", _MD_QUOTE.sub("", raw))).strip()
        if not line or set(line) <= set("-*_=| "):
            flush()  # a blank line, a rule or a table border ends a paragraph
        elif _MD_HEADING.match(line) or _MD_BULLET.match(line):
            flush()
            out.append(_MD_BULLET.sub("", _MD_HEADING.sub("", line)))  # each on a line of its own
        else:
            para.append(line)
    flush()
    return _lines("\n".join(out))


def from_html(html: str) -> Article:
    """The main text and metadata of a saved page, extracted without any network access."""
    trafilatura = require("trafilatura", "ingest", "reading HTML")
    doc = trafilatura.bare_extraction(
        html, with_metadata=True, include_comments=False, include_tables=False, include_links=False,
        include_images=False, favor_precision=True, deduplicate=False,
    )
    if doc is None or not (doc.text or "").strip():
        raise IngestError("no article text found in the page")
    authors = [a.strip() for a in re.split(r";|\band\b|,", doc.author or "") if a.strip()]
    return Article(_lines(doc.text), doc.title or None, doc.date or None, authors, doc.sitename or None,
                   doc.url or None, "html")


def read(path: Path) -> Article:
    """The article in ``path``: HTML by its name or its first tag, Markdown by its name, else text."""
    path = Path(path)
    data = read_bytes(path)
    text = decode(data, str(path))
    suffix = path.suffix.lower()
    if suffix in (".html", ".htm", ".xhtml") or _HTML_START.match(data[:4096]):
        article = from_html(text)
    elif suffix in (".md", ".markdown"):
        article = Article(from_markdown(text), kind="markdown")
    else:
        article = Article(text if text.endswith("\n") else text + "\n")
    if not article.text.strip():
        raise IngestError(f"{path}: no text in the file")
    if article.title is None:
        article.title = article.text.splitlines()[0]
    return article
