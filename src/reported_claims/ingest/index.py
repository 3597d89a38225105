"""Words, shingles and an inverted index over passages, so that a new article is compared with
the archived texts and the claims' wording without comparing every pair.

Passages (a sentence of an archived text, a claim's statement, a part of a report's quote) are
indexed by their content stems. Looking up a sentence accumulates, per passage that shares a
stem, the inverse document frequency of what they share: only passages with a word in common
are ever scored. Verbatim overlap is measured separately with word 4-shingles.
"""

from __future__ import annotations

import math
import re
from array import array
from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass, field

from reported_claims.check.quotes import fold

SHINGLE = 4
COMMON = 0.005
"""Share of the passages a stem is in, beyond which it does not make a passage a candidate."""
MIN_COMMON = 1000
"""Passages a stem may be in and still make candidates, however small the share."""
NAVIGATION_WORDS = 12
_END = re.compile(r"[.!?][\"'”’)\]]*$")
_WORD = re.compile(r"[a-z0-9]+(?:\.[a-z0-9]+)*")
STOP = frozenset(
    "a an the and or but nor of to in on at by for with from into onto over under about as than then that "
    "this these those there here it its it's is are was were be been being has have had do does did will "
    "would can could may might must shall should not no so such also too very more most much many some any "
    "each every all both either neither which who whom whose what when where why how while if because since "
    "after before during until upon within without between through across against among per via own their "
    "them they he she his her him we our us you your i me my one s t said says say told according "
    # connectives: how a sentence links to the one before, not what it says
    "additionally moreover furthermore however indeed meanwhile nevertheless regardless instead still yet "
    "likewise similarly thus therefore".split()
)


def words(text: str) -> list[str]:
    """Lower-case words of the folded text; ``U.S.`` and ``US`` are one word."""
    out = []
    for w in _WORD.findall(fold(text).lower().replace("'s ", " ").replace("’s ", " ")):
        out.append(w.replace(".", ""))
    return out


def title_like(text: str) -> bool:
    """A heading, headline, byline or link: short and without a full stop."""
    return len(words(text)) <= NAVIGATION_WORDS and not _END.search(text)


def stem(word: str) -> str:
    """A light suffix stripper: enough for plural, tense and -ly variants to meet."""
    if len(word) <= 3 or word.isdigit():
        return word
    if word.endswith(("uction", "uctions")):
        return word[: word.rindex("uction") + 2]  # "production", "reduction" meet "produce", "reduce"
    if word.endswith("ian") and len(word) > 5:
        return word[:-1]  # "Russian", "Syrian" meet "Russia", "Syria"
    for suffix, keep in (("ically", 0), ("ations", 0), ("ation", 0), ("ies", 0), ("ied", 0), ("ing", 3),
                         ("edly", 3), ("ly", 4), ("ed", 3), ("es", 3), ("s", 3)):
        if word.endswith(suffix) and len(word) - len(suffix) >= max(keep, 3):
            base = word[: -len(suffix)]
            if suffix in ("ies", "ied"):
                base += "y"
            if suffix == "s" and word.endswith("ss"):
                return word
            return base.rstrip("e") if base.endswith("e") and len(base) > 4 else base
    return word.rstrip("e") if len(word) > 4 and word.endswith("e") else word


def stems(text: str) -> list[str]:
    """The content stems of a text, in order (stop words left out)."""
    return [stem(w) for w in words(text) if w not in STOP]


def shingles(text: str) -> set[tuple[str, ...]]:
    """Word 4-shingles of the text: what a reprint shares with its original."""
    ws = words(text)
    return {tuple(ws[i: i + SHINGLE]) for i in range(len(ws) - SHINGLE + 1)}


@dataclass
class Index:
    """An inverted index of passages by content stem, with inverse document frequencies.

    Once frozen, postings and weights are arrays: compact, and read back from the cache fast."""

    keys: list[object] = field(default_factory=list)
    """What each passage stands for (for instance ``(source id, sentence number)``)."""
    weights: array = field(default_factory=lambda: array("d"))
    """Each passage's total idf weight of its distinct stems."""
    postings: dict[str, array] = field(default_factory=dict)
    """While passages are added: stem -> the passages that have it, in increasing order."""
    spans: dict[str, tuple[int, int]] = field(default_factory=dict)
    """Once frozen: stem -> where its passages stand in ``flat``."""
    flat: array = field(default_factory=lambda: array("i"))
    idf: dict[str, float] = field(default_factory=dict)
    _stems: list[frozenset[str]] = field(default_factory=list)

    def add(self, key: object, text: str) -> None:
        terms = frozenset(stems(text))
        number = len(self.keys)
        self.keys.append(key)
        self._stems.append(terms)
        for t in terms:
            self.postings.setdefault(t, array("i")).append(number)

    def freeze(self, background: int = 0) -> "Index":
        """Compute the idf weights once every passage is added (``background``: passages counted
        only for the frequencies, such as the sentences of texts that are not searched)."""
        n = len(self.keys) + background
        self.idf = {t: math.log(1 + n / len(p)) for t, p in self.postings.items()}
        self.weights = array("d", (sum(self.idf[t] for t in sorted(terms)) for terms in self._stems))
        self._stems = []
        for t, p in self.postings.items():
            self.spans[t] = (len(self.flat), len(self.flat) + len(p))
            self.flat.extend(p)
        self.postings = {}
        return self

    def _posting(self, view: memoryview, term: str) -> memoryview:
        start, end = self.spans[term]
        return view[start:end]

    def weight(self, terms: frozenset[str]) -> float:
        default = math.log(1 + max(len(self.keys), 1))
        return sum(self.idf.get(t, default) for t in sorted(terms))  # in order: the same sum in every run

    def search(self, text: str, context: str = "", floor: float = 0.0) -> list[tuple[int, float, float]]:
        """Passages sharing a stem with ``text``: (passage, share of the passage's weight found in
        the text, share of the text's weight found in the passage).

        ``context``: words that ``text`` refers to without repeating them (the sentence before
        one that opens with "This"); they count as found in the text, but not in its weight.

        In a large index, only passages that share a stem rarer than ``COMMON`` are scored (the
        common stems are then only looked up for them): a passage sharing nothing but words
        found everywhere is no match, and walking those words' postings is most of the work.

        ``floor``: only passages whose similarity ``sqrt(a * b)`` reaches it; the others are left
        out as soon as even the common stems could not lift them there."""
        terms = frozenset(stems(text))
        own = self.weight(terms)
        if not own:
            return []
        extra = frozenset(stems(context)) - terms
        cap = max(MIN_COMMON, COMMON * len(self.keys))
        ordered = sorted(t for t in terms | extra if t in self.spans)  # in order: sums and ties alike in every run
        view = memoryview(self.flat)
        postings = {t: self._posting(view, t) for t in ordered}
        rare = {t for t in ordered if len(postings[t]) <= cap} or set(ordered)
        found: dict[int, float] = defaultdict(float)
        shared: dict[int, float] = defaultdict(float)
        for t in sorted(rare):
            w = self.idf[t]
            for number in postings[t]:
                found[number] += w
            if t in terms:
                for number in postings[t]:
                    shared[number] += w
        common = [t for t in ordered if t not in rare]
        if floor and common:
            # a ≥ floor² and b ≥ floor² are needed (each is at most 1): drop what cannot get there
            need = floor * floor
            left = sum(self.idf[t] for t in common)
            left_own = sum(self.idf[t] for t in common if t in terms)
            found = defaultdict(float, {n: w for n, w in found.items()
                                        if (w + left) >= need * self.weights[n] and shared[n] + left_own >= need * own})
        for t in common:
            if not found:
                break
            p = postings[t]
            if len(p) <= 8 * len(found):
                hits = [number for number in p if number in found]
            else:
                hits = [number for number in found if (i := bisect_left(p, number)) < len(p) and p[i] == number]
            w = self.idf[t]
            for number in hits:
                found[number] += w
            if t in terms:
                for number in hits:
                    shared[number] += w
        need = floor * floor * own
        weights = self.weights
        return [(n, w / weights[n], shared[n] / own) for n, w in found.items()
                if shared[n] and weights[n] and w * shared[n] >= need * weights[n]]
