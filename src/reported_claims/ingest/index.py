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
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from reported_claims.check.quotes import fold

SHINGLE = 4
COMMON = 0.005
"""Share of the passages a stem is in, beyond which it does not make a passage a candidate."""
MIN_COMMON = 1000
"""Passages a stem may be in and still make candidates, however small the share."""
MARGIN = 1e-9
"""Slack of a bound that leaves a passage out: rounding never drops one that reaches the floor."""
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

    Once frozen, it is a few arrays and one dict of stems (compact, and read back from the cache
    fast): stem ``terms[t]`` has weight ``idf[terms[t]]`` and is in the passages
    ``flat[starts[terms[t]]:starts[terms[t] + 1]]``, in increasing order."""

    keys: list[object] = field(default_factory=list)
    """What each passage stands for (for instance ``(claim id, source id)``); any sequence
    that ``append`` adds to, such as an ``array`` of text numbers."""
    weights: array = field(default_factory=lambda: array("d"))
    """Each passage's total idf weight of its distinct stems."""
    postings: dict[str, array] = field(default_factory=dict)
    """While passages are added: stem -> the passages that have it, in increasing order."""
    terms: dict[str, int] = field(default_factory=dict)
    """Once frozen: stem -> its number."""
    starts: array = field(default_factory=lambda: array("q"))
    flat: array = field(default_factory=lambda: array("i"))
    idf: array = field(default_factory=lambda: array("d"))
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
        idf = {t: math.log(1 + n / len(p)) for t, p in self.postings.items()}
        self.weights = array("d", (sum(idf[t] for t in sorted(terms)) for terms in self._stems))
        self._stems = []
        self.starts.append(0)
        for number, (t, p) in enumerate(self.postings.items()):
            self.terms[t] = number
            self.idf.append(idf[t])
            self.flat.extend(p)
            self.starts.append(len(self.flat))
        self.postings = {}
        return self

    def __len__(self) -> int:
        return len(self.keys)

    def weight(self, terms: frozenset[str]) -> float:
        default = math.log(1 + max(len(self.keys), 1))
        known, idf = self.terms, self.idf
        # in order: the same sum in every run
        return sum(idf[known[t]] if t in known else default for t in sorted(terms))

    def search(self, text: str, context: str = "", floor: float = 0.0,
               blend: tuple[float, float, float] | None = None,
               keep: frozenset[int] = frozenset()) -> list[tuple[int, float, float]]:
        """Passages sharing a stem with ``text``: (passage, share of the passage's weight found in
        the text, share of the text's weight found in the passage).

        ``context``: words that ``text`` refers to without repeating them (the sentence before
        one that opens with "This"); they count as found in the text, but not in its weight.

        In a large index, only passages that share a stem rarer than ``COMMON`` are scored (the
        common stems are then only looked up for them): a passage sharing nothing but words
        found everywhere is no match, and walking those words' postings is most of the work.

        ``floor``: only passages whose similarity reaches it, ``sqrt(a * b)`` or, given
        ``blend = (x, y, z)``, ``x * a + y * b + z * sqrt(a * b)``; the others are left out as
        soon as a bound shows they cannot get there. ``keep``: passages returned whatever
        their similarity."""
        terms = frozenset(stems(text))
        own = self.weight(terms)
        if not own:
            return []
        extra = frozenset(stems(context)) - terms
        cap = max(MIN_COMMON, COMMON * len(self.keys))
        known, starts, view = self.terms, self.starts, memoryview(self.flat)
        ordered = sorted(t for t in terms | extra if t in known)  # in order: sums and ties alike in every run
        postings = {t: view[starts[known[t]]:starts[known[t] + 1]] for t in ordered}
        idf = {t: self.idf[known[t]] for t in ordered}
        rare = [t for t in ordered if len(postings[t]) <= cap]
        common = [t for t in ordered if len(postings[t]) > cap] if rare else []
        mix = blend or (0.0, 0.0, 1.0)
        # without context words, what a passage shares with the text is all it has of it: one sum
        own_only = all(t in terms for t in ordered)
        if floor and not rare:
            # no rare stem: every passage sharing a stem is a candidate, and walking every
            # posting is the cost; count the stems each passage shares instead, and weigh only
            # those that enough shared stems could lift to the floor
            reachable = self._reachable(ordered, terms, postings, idf, own, floor, mix, keep)
            found = defaultdict(float)
            shared = found if own_only else defaultdict(float)
            # every stem in order for each passage: the same sums as walking every posting
            self._lookup(ordered, reachable, terms, postings, idf, found, shared, own_only)
        else:
            found, shared = self._accumulate(rare or ordered, terms, postings, idf, own_only)
            if floor and common:
                left = sum(idf[t] for t in common)
                left_own = sum(idf[t] for t in common if t in terms)
                weights = self.weights
                found = {n: w for n, w in found.items()
                         if n in keep or _bound(mix, (w + left) / weights[n] if weights[n] else 1.0,
                                                (shared[n] + left_own) / own) >= floor - MARGIN}
                if own_only:
                    shared = found
            self._lookup(common, found, terms, postings, idf, found, shared, own_only)
        weights = self.weights
        if blend is None:
            need = floor * floor * own
            return [(n, w / weights[n], shared[n] / own) for n, w in found.items()
                    if shared[n] and weights[n] and (n in keep or w * shared[n] >= need * weights[n])]
        x, y, z = blend
        out = []
        for n, w in found.items():
            if shared[n] and weights[n]:
                a, b = w / weights[n], shared[n] / own
                if n in keep or x * a + y * b + z * math.sqrt(a * b) >= floor:
                    out.append((n, a, b))
        return out

    @staticmethod
    def _accumulate(walked: list[str], terms: frozenset[str], postings: dict, idf: dict, own_only: bool
                    ) -> tuple[dict[int, float], dict[int, float]]:
        """Passage -> the weight of the stems of ``walked`` it has, all of them and the text's own
        (one dict for both when every stem is the text's own)."""
        found: dict[int, float] = defaultdict(float)
        shared: dict[int, float] = found if own_only else defaultdict(float)
        for t in walked:
            w = idf[t]
            for number in postings[t]:
                found[number] += w
            if not own_only and t in terms:
                for number in postings[t]:
                    shared[number] += w
        return found, shared

    @staticmethod
    def _lookup(walked: list[str], within, terms: frozenset[str], postings: dict, idf: dict,
                found: dict[int, float], shared: dict[int, float], own_only: bool) -> None:
        """Add the weight of each stem of ``walked``, in order, to the passages of ``within`` that
        have it: by walking its posting, or by looking each passage up in it when that is shorter."""
        for t in walked:
            if not within:
                break
            p = postings[t]
            if len(p) <= 8 * len(within):
                hits = [number for number in p if number in within]
            else:
                hits = [number for number in within if (i := bisect_left(p, number)) < len(p) and p[i] == number]
            w = idf[t]
            for number in hits:
                found[number] += w
            if not own_only and t in terms:
                for number in hits:
                    shared[number] += w

    def _reachable(self, ordered: list[str], terms: frozenset[str], postings: dict, idf: dict, own: float,
                   floor: float, mix: tuple[float, float, float], keep: frozenset[int]) -> set[int]:
        """The passages sharing a stem of the text whose similarity may reach ``floor``: with ``k``
        of the text's stems, a passage has at most the weight of its ``k`` heaviest ones (and of
        the context's), which is too little for a passage heavier than ``heaviest[k]``."""
        counts: Counter = Counter()
        for t in ordered:
            if t in terms:
                counts.update(postings[t])
        context = sum(idf[t] for t in ordered if t not in terms)
        top = [0.0]
        for w in sorted((idf[t] for t in ordered if t in terms), reverse=True):
            top.append(top[-1] + w)
        heaviest = [-1.0]  # no passage shares none of the text's stems
        for k in range(1, len(top)):
            least = _least_share(mix, top[k] / own, floor - MARGIN)
            heaviest.append(-1.0 if least is None else math.inf if least <= 0 else (top[k] + context) / least)
        weights = self.weights
        return {n for n, k in counts.items() if weights[n] <= heaviest[k] or n in keep}


def _bound(mix: tuple[float, float, float], a: float, b: float) -> float:
    """The similarity of passages whose shares are at most ``a`` and ``b``."""
    a, b = min(a, 1.0), min(b, 1.0)
    x, y, z = mix
    return x * a + y * b + z * math.sqrt(a * b)


def _least_share(mix: tuple[float, float, float], b: float, floor: float) -> float | None:
    """A share ``a`` of a passage below the least one that reaches ``floor`` with ``b`` (found
    by halving, and never above it), or None when even ``a = 1`` does not."""
    if _bound(mix, 1.0, b) < floor:
        return None
    if _bound(mix, 0.0, b) >= floor:
        return 0.0
    low, high = 0.0, 1.0
    for _ in range(40):
        middle = (low + high) / 2
        if _bound(mix, middle, b) >= floor:
            high = middle
        else:
            low = middle
    return low
