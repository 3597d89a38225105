"""Which archived texts a new article derives from, and how: reprint, rewrite or summary.

Each substantial sentence of the article (six words or more, not a heading) is looked up in two indexes over the
archived sentences: word 4-shingles (the same words) and content stems (the same facts,
reworded). A sentence is *copied* from an archived text when most of its shingles stand there,
and *carried* when it is copied or close to one archived sentence in content. The share of
copied and carried sentences decides the relation; the overlap is the share carried. A matched
text that is itself a reprint or rewrite passes its score on to the source it derives from.
"""

from __future__ import annotations

import hashlib
import math
from array import array
from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass, field

from reported_claims.check.sentences import Sentence
from reported_claims.ingest.index import Index, shingles, title_like, words

MIN_WORDS = 6
COPIED = 0.8
"""Share of a sentence's shingles found in one archived text for the sentence to be copied."""
CARRIED = 0.4
"""Similarity to one archived sentence (idf cosine) for a sentence to be carried, reworded."""
REPRINT = 0.8
"""Share of sentences copied for a reprint."""
REWRITE = 0.35
"""Share of sentences carried for a rewrite."""
SUMMARY_SENTENCES = 2
"""Sentences carried, at least, for a summary (fewer is a coincidence of wording)."""


@dataclass(frozen=True)
class Match:
    source: str
    relation: str
    overlap: float
    via: str | None = None
    """For a source proposed through a matched text that derives from it: that text."""

    def as_json(self) -> dict:
        return {"source": self.source, "relation": self.relation, "overlap": round(self.overlap, 3)}


def shingle_hash(shingle: tuple[str, ...]) -> int:
    """A 64-bit hash of a shingle, the same in every run (Python's own ``hash`` is not)."""
    return int.from_bytes(hashlib.blake2b(" ".join(shingle).encode(), digest_size=8).digest(), "little",
                          signed=True)


@dataclass
class Archive:
    """The archived texts, indexed by sentence, and their shingles as sorted arrays (compact, and
    read back from the cache fast)."""

    sentences: Index
    """Its keys are text numbers; ``passage`` tells which sentence of which text a passage is."""
    texts: list[str] = field(default_factory=list)
    """Source id of each text number."""
    first: array = field(default_factory=lambda: array("i"))
    """The passage number of each text's first sentence."""
    hashes: array = field(default_factory=lambda: array("q"))
    """Shingle hashes, sorted; ``holders[i]`` is the text number that has ``hashes[i]`` (two bytes
    each up to 65,536 texts)."""
    holders: array = field(default_factory=lambda: array("i"))
    _memo: dict = field(default_factory=dict, repr=False)

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_memo": {}}

    def passage(self, number: int) -> tuple[str, int]:
        """(source id, sentence number) of passage ``number``."""
        text = self.sentences.keys[number]
        return self.texts[text], number - self.first[text]

    def holding(self, shingle: tuple[str, ...]) -> list[str]:
        """The archived texts that have ``shingle``."""
        h = shingle_hash(shingle)
        i = bisect_left(self.hashes, h)
        out = []
        while i < len(self.hashes) and self.hashes[i] == h:
            out.append(self.texts[self.holders[i]])
            i += 1
        return out

    def search(self, text: str) -> list[tuple[int, float, float]]:
        """The archived sentences that carry ``text`` (similarity ``CARRIED`` at least), once per
        text: lineage and scoring ask for the same sentences."""
        if text not in self._memo:
            self._memo[text] = self.sentences.search(text, floor=CARRIED)
        return self._memo[text]


def build(texts: dict[str, list[Sentence]], background: int = 0) -> Archive:
    """Index the sentences of the archived texts (source id -> its sentences)."""
    index = Index(keys=array("i"))
    pairs: set[tuple[int, int]] = set()
    ids = sorted(texts)
    first = array("i")
    for number, sid in enumerate(ids):
        first.append(len(index))
        for s in texts[sid]:
            index.add(number, s.text)
            pairs.update((shingle_hash(sh), number) for sh in shingles(s.text))
    ordered = sorted(pairs)
    return Archive(index.freeze(background), ids, first, array("q", (h for h, _ in ordered)),
                   array("H" if len(ids) <= 2**16 else "i", (t for _, t in ordered)))


def compare(archive: Archive, sentences: list[Sentence]) -> dict[str, tuple[float, float, int]]:
    """Per archived source: (share of sentences copied, share carried, sentences carried)."""
    substantial = [s for s in sentences if len(words(s.text)) >= MIN_WORDS and not title_like(s.text)]
    copied: dict[str, int] = defaultdict(int)
    carried: dict[str, int] = defaultdict(int)
    for s in substantial:
        own = shingles(s.text)
        hits: dict[str, int] = defaultdict(int)
        for sh in own:
            for sid in archive.holding(sh):
                hits[sid] += 1
        best: dict[str, float] = defaultdict(float)
        for number, a, b in archive.search(s.text):
            sid = archive.texts[archive.sentences.keys[number]]
            best[sid] = max(best[sid], math.sqrt(a * b))
        for sid in set(hits) | set(best):
            share = hits.get(sid, 0) / len(own) if own else 0.0
            if share >= COPIED:
                copied[sid] += 1
            if share >= COPIED or best.get(sid, 0.0) >= CARRIED:
                carried[sid] += 1
    n = len(substantial) or 1
    return {sid: (copied[sid] / n, carried[sid] / n, carried[sid]) for sid in carried}


def propose(archive: Archive, sentences: list[Sentence], derived: dict[str, list[tuple[str, str]]]) -> list[Match]:
    """The lineage proposals, best first. ``derived``: source id -> its (source, relation) derivations,
    so that a match with a reprint or rewrite proposes what it derives from as well."""
    out: list[tuple[float, int, Match]] = []
    for sid, (copied, carried, count) in compare(archive, sentences).items():
        if copied >= REPRINT:
            relation = "reprint"
        elif carried >= REWRITE:
            relation = "rewrite"
        elif count >= SUMMARY_SENTENCES:
            relation = "summary"
        else:
            continue
        overlap = max(copied, carried)
        out.append((overlap, 1, Match(sid, relation, overlap)))
        for upstream, how in derived.get(sid, ()):
            # the origin of a reprint is the likelier ancestor; a rewrite's own wording comes first
            out.append((overlap, 2 if how == "reprint" else 0, Match(upstream, relation, overlap, via=sid)))
    out.sort(key=lambda t: (-t[0], -t[1], t[2].source))
    seen, best = set(), []
    for _, _, match in out:
        if match.source not in seen:
            seen.add(match.source)
            best.append(match)
    return best
