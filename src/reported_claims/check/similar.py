"""Near-duplicate claims: a statement and entities that closely match another claim's.

Two claims are compared when their statements share at least ``WORDS_MIN`` of their distinct
words (Jaccard). They are near-duplicates when their statements score at least ``STATEMENT_MIN`` with
rapidfuzz's ``token_sort_ratio`` (words compared in sorted order, so reordered clauses still
match) and the sets of entities they are about overlap with a Jaccard index of at least
``ENTITIES_MIN``, or when their statements are (nearly) the same, scoring at least
``IDENTICAL_MIN``, whatever their entities: a statement copied from another claim and tagged with
other entities is still the same claim. Withdrawn claims are left out, and so are two claims
linked to each other: the link says how they differ ("is not neutral" denies "is neutral").

The thresholds were tuned on the seed records: the closest pair of distinct seed claims
scores 68 (token_set_ratio, which scores a statement contained in a longer one as 100, gave
89 there and could not tell them apart); a near copy with one or two words changed scores 88
to 95.

Comparing every pair is too slow for 10,000 claims, so pairs are first blocked by the words
of their statements (prefix filtering): words are ranked rarest first across all statements,
and each claim is indexed under the rarest part of its words, long enough that any two
statements sharing at least ``WORDS_MIN`` of their distinct words (Jaccard) share an indexed
word. A near copy with a word or two changed shares 0.75 or more; common words such as
"China" are never indexed. On 10,000 synthetic claims this takes about a second.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Iterable

from rapidfuzz import fuzz, utils

from reported_claims.problems import Problem
from reported_claims.model.records import Claim
from reported_claims.repo.cache import WORDS_MIN, blocking_words, statement_words
from reported_claims.repo.load import Dataset, Loaded

STATEMENT_MIN = 85.0
ENTITIES_MIN = 0.5
IDENTICAL_MIN = 98.0


def _jaccard(a: set, b: set) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def _candidate_pairs(words: dict[str, frozenset]) -> set[tuple[str, str]]:
    """Pairs of claim ids whose statements may share ``WORDS_MIN`` of their words."""
    df = Counter(w for ws in words.values() for w in ws)
    index: dict[str, list[str]] = defaultdict(list)
    for cid, ws in words.items():
        for w in blocking_words(ws, df):
            index[w].append(cid)
    # Only the pairs that share that much, whichever the other statements are: what is found for
    # one claim does not depend on which others were read (a one-file validation reads only
    # the claims that hold one of its rarest words). Each pair is judged as it is met, by the
    # Jaccard index ``_jaccard`` gives, from the size of the words shared alone; a pair of very
    # different lengths shares too little whatever its words. Statements whose words are all about
    # as rare put millions of pairs in the blocks (4 million at 100,000 claims): none is kept.
    pairs = set()
    for ids in index.values():
        for i, a in enumerate(ids):
            wa = words[a]
            na = len(wa)
            for b in ids[i + 1:]:
                wb = words[b]
                nb = len(wb)
                if (na / nb if na < nb else nb / na) < WORDS_MIN:
                    continue
                shared = len(wa & wb)
                if shared / (na + nb - shared) >= WORDS_MIN:
                    pairs.add((a, b) if a < b else (b, a))
    return pairs


def pairs(claims: Iterable[Claim]) -> list[tuple[str, str, float, float]]:
    """Near-duplicate pairs among ``claims``: (id, id, statement score, entity Jaccard)."""
    live = {c.id: c for c in claims if c.status != "withdrawn"}
    words = {cid: statement_words(c.statement) for cid, c in live.items()}
    candidates = sorted(_candidate_pairs(words))
    if not candidates:
        return []
    # A link between two claims says how they differ (one denies or is part of the other...).
    linked = {frozenset((c.id, x.claim)) for c in live.values() for x in c.links}
    text = {cid: utils.default_process(live[cid].statement) for pair in candidates for cid in pair}
    found = []
    for a, b in candidates:
        if frozenset((a, b)) in linked:
            continue
        score = fuzz.token_sort_ratio(text[a], text[b], score_cutoff=STATEMENT_MIN)
        if not score:
            continue
        shared = _jaccard({e.entity for e in live[a].entities}, {e.entity for e in live[b].entities})
        if shared >= ENTITIES_MIN or score >= IDENTICAL_MIN:
            found.append((a, b, score, shared))
    return found


def near_duplicates(dataset: Dataset, files: list[Loaded]) -> list[Problem]:
    """A ``near-duplicate`` warning on each target claim that closely matches another."""
    targets = {
        item.record.id: item for item in files  # type: ignore[attr-defined]
        if item.target and item.kind == "claim" and item.record is not None
        and dataset.files.get(item.record.id) is item  # type: ignore[attr-defined]
    }
    out = []
    for a, b, score, shared in pairs(dataset.claims.values()):
        for this, other in ((a, b), (b, a)):
            if this in targets:
                out.append(targets[this].doc.problem(
                    "near-duplicate", ("statement",),
                    f"closely matches {other} (statements {score:.0f}% alike, entities {shared:.0%} shared): "
                    f"if it is the same claim, move its reports to {other} and withdraw this one "
                    f"(status: withdrawn, withdrawal.replaced_by: {other}); if not, word the statement "
                    "so that the difference shows",
                    "warning",
                ))
    return out
