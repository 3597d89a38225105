"""Who a sentence says said it: "according to X", "X said", "X told the AP", "said X".

The words returned are the source as the sentence names it (``Two senior Biden administration
officials``), without the verb, so that they can be matched against the names and aliases of the
entities and against how other reports of a claim named its claimant.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

VERBS = (
    "said|says|say|told|tells|tell|warned|warns|warn|warning|denied|denies|deny|claimed|claims|claim|alleged|"
    "alleges|alleging|reported|reports|stated|states|testified|testifies|acknowledged|acknowledges|"
    "acknowledge|admitted|admits|emphasized|emphasised|emphasizes|stressed|believe|believes|believed|suggest|"
    "suggests|suggested|indicates|indicated|indicate|revealed|reveals|reveal|divulged|disclosed|argued|"
    "argues|noted|notes|insists|insisted|insist|commented|confirmed|confirms|announced|estimated|estimates|"
    "assessed|found|finds|concluded|cited|citing|complained|complains|outlined|outlines|mentioned|added|"
    "explained|question|questioned|questions|echoed|urged|urges|urging|pushed back|rejected|accused|"
    "expressed|raised|show|shows|showed|illuminate|illuminates|contends|maintains|asserted|asserts"
)
_VERB = re.compile(rf"\b(?:{VERBS})\b", re.IGNORECASE)
_ACCORDING = re.compile(r"\b(?:according to|as reported by|citing|in an? [^,.]{0,60}?\bby)\s+([^,.;:]+)",
                        re.IGNORECASE)
_AUX = re.compile(r"(?:\s+(?:have|has|had|also|recently|previously|already|repeatedly|increasingly|publicly|"
                  r"privately|reportedly|have been|has been|had been|is|are|was|were|would|will|could|did|do|"
                  r"does|not|now|further|then|earlier|later|today|yesterday|separately|both|all))+$",
                  re.IGNORECASE)
_RELATIVE = re.compile(r"^\s*(?:who|which|whom|speaking|saying|citing|adding|in|on|at|for|after|while|"
                       r"when|as|the\s+\w+\s+said)\b", re.IGNORECASE)
_CLAUSE_START = re.compile(r".*\b(?:that|and|but|while|whereas|because|so|as|if|when|though|although|"
                           r"with|—|-)\s+", re.IGNORECASE | re.DOTALL)
_SOURCE_WORDS = re.compile(
    r"\b(?:officials?|spokes(?:man|woman|person)|ministry|minister|government|administration|assessment|"
    r"intelligence|report|data|analysts?|economists?|experts?|critics?|sources?|agency|department|"
    r"secretary|president|general|commander|readout|statement|study|analysis|disclosures?|research|"
    r"press|news|officers?|diplomats?|people|he|she|they|we|state|envoy|ambassador|chairman|leader|"
    r"message|documents?|"
    r"foundation|institute|group|company|companies|firms?|outlets?|media)\b",
    re.IGNORECASE,
)
_PASSIVE = re.compile(r"\b(?:is|are|was|were|be|been|being)(?:\s+\w+ly|\s+also|\s+still|\s+not)*\s*$",
                      re.IGNORECASE)
MAX_WORDS = 12
_AUDIENCE = re.compile(r"\s+(?:to\s+)?((?:the\s+)?[A-Z][^,.;:]{0,60})")
_NOT_SOURCES = frozenset("it this that which there these those what".split())


@dataclass(frozen=True)
class Attribution:
    """Words of a sentence naming whom it attributes its content to."""

    words: str
    verb: str
    at: int
    """Where the attribution starts in the sentence."""
    audience: Optional[str] = None
    """Whom it was said to, for "told the AP" or "suggested to the Journal": an outlet often."""


def _before(text: str) -> Optional[str]:
    """The noun phrase that ends where the verb starts, skipping relative clauses between commas."""
    segments = text.split(",")
    for segment in reversed(segments):
        segment = _AUX.sub("", segment.rstrip()).strip()
        if not segment or _RELATIVE.match(segment):
            continue
        segment = _CLAUSE_START.sub("", segment).strip()
        ws = segment.split()
        if not ws or len(ws) > MAX_WORDS:
            ws = ws[-MAX_WORDS:]
        phrase = " ".join(ws).strip(" \"“”'‘’(")
        return phrase or None
    return None


def _after(text: str) -> Optional[str]:
    """The noun phrase right after an inverted verb: ``..., said the officials``."""
    m = re.match(r"\s+((?:the|a|an|two|three|several|senior|[A-Z])[^,.;:]{0,80})", text)
    return m.group(1).strip() if m else None


def _looks_like_source(phrase: str) -> bool:
    if phrase.lower() in _NOT_SOURCES:
        return False
    return bool(_SOURCE_WORDS.search(phrase)) or any(w[:1].isupper() for w in phrase.split()[1:]) or \
        phrase[:1].isupper() and len(phrase.split()) <= 4


def attributions(sentence: str) -> list[Attribution]:
    """Every attribution in a sentence, in order."""
    out = []
    for m in _ACCORDING.finditer(sentence):
        phrase = m.group(1).strip()
        if _looks_like_source(phrase):
            out.append(Attribution(phrase, "according to", m.start()))
    for m in _VERB.finditer(sentence):
        before = sentence[: m.start()]
        if _PASSIVE.search(before):
            continue  # "are believed to", "is expected to": the sentence's hedge, not whom it cites
        phrase = None
        if before.rstrip().endswith(",") or not before.strip():
            phrase = _after(sentence[m.end():])  # inverted: "..., said the officials"
        if phrase is None and before.strip():
            phrase = _before(before)
            if phrase and phrase.lower().startswith(("according", "it is")):
                phrase = None
        if phrase and _looks_like_source(phrase) and phrase in sentence:
            to = _AUDIENCE.match(sentence[m.end():])
            out.append(Attribution(phrase, m.group(0).lower(), m.start(), to.group(1).strip() if to else None))
    return sorted(out, key=lambda a: a.at)
