"""What a new article adds to the records: its source, lineage, reports, candidates and ledger.

Each sentence of the article is scored against every claim's statement and report quotes
through the claims' index (only claims sharing a content word are scored), and against its
figures: a sentence giving the claim's number in the claim's unit scores higher, one giving
another number in that unit lower, and the difference is flagged. A sentence is scored whole, clause by
clause, and (when it opens with "This", "They"…) read with the sentence before it. Each claim is
proposed once, when the score passes ``THRESHOLD``: at its best sentence among those no other
claim fits better, else at its best; the other claims that sentence matches are its
``alternatives``. Attribution comes from the sentence itself (``explicit``), or
from an earlier sentence of its paragraph or the paragraph before (``implied``), else ``none``.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Optional

from reported_claims.check.quotes import ARCHIVE, find, fold, parts
from reported_claims.check.sentences import Sentence, sentences
from reported_claims.ingest import lineage
from reported_claims.ingest.attribution import Attribution, attributions
from reported_claims.ingest.extract import Article
from reported_claims.ingest.figures import Figure, figures
from reported_claims.ingest.index import MARGIN, Index, stems, title_like, words
from reported_claims.model.records import Claim
from reported_claims.repo.load import Dataset

if TYPE_CHECKING:
    from reported_claims.ingest.embed import Embedder

THRESHOLD = 0.55
"""Score at which a sentence is proposed as a report of a claim."""
LOWER = 0.45
"""Score at which a sentence is proposed for the claim it matches best."""
ALTERNATIVE = 0.3
"""Score at which another claim is listed as an alternative for a proposed sentence."""
FIGURE_AGREES = 0.15
FIGURE_DIFFERS = 0.15
ALIGNED = 0.2
"""Added, times the sentences' similarity, for a claim quoted at the archived sentence this one rewords."""
ATTRIBUTION_DIFFERS = 0.1
"""Taken off when the sentence cites an entity of the records that is none of the claim's claimants."""
MIN_PASSAGE = 4
"""Content words a quote's part needs to stand for its claim in the index."""
CLAUSE = 0.9
"""A clause's score counts for this much of the whole sentence's."""
BLEND = (0.55, 0.15, 0.3)
"""A sentence's similarity to a passage: this much of the share of the passage found in it, of
its own share found in the passage, and of their geometric mean (see ``Index.search``)."""
RELEVANT = min(THRESHOLD, LOWER, ALTERNATIVE) - max(FIGURE_AGREES, 0.0)
"""The least similarity that the figure bonus could lift to a proposal or an alternative: for a
claim that no reworded archived sentence carries (``ALIGNED``), lower ones change nothing and
are not scored."""
MIN_CLAUSE = 3
"""Content words a clause needs to be scored alone."""
_CLAUSE = re.compile(r"\s*(?:;|,?\s+as well as|,\s+(?:and|but|while|whereas))\s+|\s+and\s+(?=[a-z]+\s+of\s)")
_ANAPHOR = re.compile(r"^(?:[A-Z][a-z]+,\s+)?(?:this|these|those|they|it|such|that|the two|both)\b", re.IGNORECASE)
_BULLET = re.compile(r"^\s*(?:[•·▪‣*+-]|\d+[.)])\s+")
NEWS_KINDS = frozenset({"news-organisation"})


@dataclass
class Context:
    """The records an article is compared with, indexed once."""

    dataset: Dataset
    archive: lineage.Archive
    claims: Index
    derived: dict[str, list[tuple[str, str]]]
    names: re.Pattern
    quoted_at: dict[tuple[str, int], set[str]] = field(default_factory=dict)
    """(source id, sentence number) of an archived text -> the claims whose reports quote it."""
    by_name: dict[str, set[str]] = field(default_factory=dict)
    """Folded lower-case name or alias -> the entities that bear it."""
    values: dict[str, dict[str, set[float]]] = field(default_factory=dict)
    """Claim -> unit -> the values its quantities and figures give (see ``_claim_values``)."""
    claimants: dict[str, frozenset[str]] = field(default_factory=dict)
    """Claim -> the entities of its claimants."""
    published: dict[str, list[str]] = field(default_factory=dict)
    """Entity -> the sources it published."""

    def entities_in(self, phrase: str) -> set[str]:
        """The entities whose name or alias stands in ``phrase`` as whole words, leaving out a name
        that stands only inside a longer one ("US" in "US officials")."""
        text = f" {' '.join(words(phrase))} "
        hits = [n for n in self.by_name if f" {n} " in text]
        kept = [n for n in hits if not any(n != m and f" {n} " in f" {m} " for m in hits)]
        return {e for n in kept for e in self.by_name[n]}


def context(dataset: Dataset, root: Path) -> Context:
    """Index the archived texts of ``root`` and the wording of every claim of ``dataset``."""
    texts: dict[str, list[Sentence]] = {}
    for sid, source in sorted(dataset.sources.items()):
        path = Path(root) / ARCHIVE / f"{sid}.txt"
        if source.seen and path.is_file():
            try:
                texts[sid] = sentences(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError):
                continue  # check-quotes reports an unreadable archive; here it is just not compared
    claims = Index()
    for cid, claim in sorted(dataset.claims.items()):
        if claim.status == "withdrawn":
            continue
        claims.add((cid, None), claim.statement)
        for r in claim.reports:
            for part in parts(r.quote):
                if len(set(stems(part))) >= MIN_PASSAGE:  # "the officials said." would match any sentence
                    claims.add((cid, r.source), part)
    derived = {sid: [(d.source, d.relation) for d in s.derived_from] for sid, s in dataset.sources.items()}
    by_name: dict[str, set[str]] = defaultdict(set)
    for e in dataset.entities.values():
        for n in (e.name, *e.aliases):
            key = " ".join(words(n))
            if len(key) > 2:
                by_name[key].add(e.id)
    quoted_at: dict[tuple[str, int], set[str]] = defaultdict(set)
    folded = {sid: [fold(s.text) for s in sents] for sid, sents in texts.items()}
    for cid, claim in dataset.claims.items():
        for r in claim.reports:
            pieces = parts(r.quote)
            for n, sentence in enumerate(folded.get(r.source, ())):
                if any(p in sentence or sentence in p for p in pieces):
                    quoted_at[(r.source, n)].add(cid)
    published: dict[str, list[str]] = defaultdict(list)
    for sid, source in sorted(dataset.sources.items()):
        if source.publisher:
            published[source.publisher].append(sid)
    # what scoring asks of every claim sharing a word, so that it never needs the claim itself
    values = {cid: dict(_claim_values(c)) for cid, c in dataset.claims.items()}
    claimants = {cid: frozenset(c.entity for c in claim.claimants) for cid, claim in dataset.claims.items()}
    return Context(dataset, lineage.build(texts), claims.freeze(), derived, names(dataset),
                   quoted_at=dict(quoted_at), by_name=dict(by_name), values=values, claimants=claimants,
                   published=dict(published))


@dataclass
class Scored:
    claim: str
    score: float
    sentence: int


@dataclass
class Proposal:
    """Everything proposed for one article, in the shape ``--json`` prints."""

    source: dict
    lineage: list[lineage.Match]
    reports: list[dict]
    candidates: list[dict]
    ledger: list[dict]
    attributes_to: list[str] = field(default_factory=list)

    def as_json(self) -> dict:
        return {
            "source": self.source,
            "lineage": [m.as_json() for m in self.lineage],
            "reports": self.reports,
            "candidates": self.candidates,
            "ledger": self.ledger,
        }


def _agrees(f: Figure, value: float) -> bool:
    return abs(f.value - value) <= max(abs(value) * 0.005, 1e-9)


def _claim_values(claim: Claim) -> dict[str, set[float]]:
    """Unit -> the values the claim's quantities and its reports' figures give in it."""
    out: dict[str, set[float]] = defaultdict(set)
    for q in claim.quantities:
        out[q.unit].add(q.value)
    for r in claim.reports:
        for f in r.figures:
            out[f.unit].add(f.value)
    return out


def _figure_bonus(values: dict[str, set[float]], found: list[Figure]) -> float:
    if not values or not found:
        return 0.0
    same_unit = [f for f in found if f.unit in values]
    if not same_unit:
        return 0.0
    if any(_agrees(f, v) for f in same_unit for v in values[f.unit]):
        return FIGURE_AGREES
    return -FIGURE_DIFFERS


def _aligned(ctx: Context, text: str, related: set[str]) -> dict[str, float]:
    """Claims quoted at the sentence of a related archived text that this sentence rewords, with
    how close the two sentences are: the same passage reworded carries the same claims."""
    out: dict[str, float] = defaultdict(float)
    if not related:
        return out
    for number, a, b in ctx.archive.search(text):
        key = ctx.archive.passage(number)
        sim = math.sqrt(a * b)
        if key[0] in related and sim >= lineage.CARRIED:
            for cid in ctx.quoted_at.get(key, ()):
                out[cid] = max(out[cid], sim)
    return out


def _similar(ctx: Context, text: str, context: str = "", floor: float = 0.0,
             keep: frozenset[int] = frozenset()) -> dict[str, float]:
    """Claim -> how close ``text`` (read with ``context``, see ``Index.search``) is to its best
    passage (statement or a report's quote), for the passages at ``floor`` or above and those
    of ``keep``."""
    best: dict[str, float] = defaultdict(float)
    x, y, z = BLEND
    for number, a, b in ctx.claims.search(text, context, floor=floor, blend=BLEND, keep=keep):
        cid, _ = ctx.claims.keys[number]
        best[cid] = max(best[cid], x * a + y * b + z * math.sqrt(a * b))
    return best


def _passages(ctx: Context, claims: set[str]) -> dict[str, list[int]]:
    """The passages of the claims index that stand for each of ``claims``."""
    out: dict[str, list[int]] = defaultdict(list)
    if claims:
        for number, (cid, _) in enumerate(ctx.claims.keys):
            if cid in claims:
                out[cid].append(number)
    return out


def clauses(text: str) -> list[str]:
    """The coordinated parts of a sentence that may each carry a claim ("X, and Y", "X; Y",
    "X, as well as Y"), when there are several with enough content words each."""
    pieces = [p for p in _CLAUSE.split(text) if len(set(stems(p))) >= MIN_CLAUSE]
    return pieces if len(pieces) > 1 else []


def score_sentences(ctx: Context, sents: list[Sentence], related: set[str] = frozenset(),
                    embedder: Optional["Embedder"] = None) -> tuple[dict[int, dict[str, float]], set[tuple[int, str]]]:
    """Sentence number -> claim -> score, and the (sentence, claim) pairs scored by the sentence
    read with the one before it; ``related``: the archived texts the article derives from.

    A claim scores at a sentence by the best of the whole sentence, one of its coordinated
    clauses (discounted), and, for a sentence that opens with a pronoun ("This has enabled…",
    "They also mentioned…"), the sentence read with the one before it: that reading counts only
    where it is closer to the claim than either sentence alone, so the earlier sentence's own
    claims stay with it.

    Similarities below ``RELEVANT`` are left out, except for the claims a reworded archived
    sentence carries here (or, for the sentence read alone, in the next sentence, which compares
    with it): those get every similarity, as their bonus may lift any. With an ``embedder``
    (``--embed``), a claim's similarity is then weighed by how close the sentence's and the
    statement's embeddings are (``embed.blend``, which never raises it)."""
    out: dict[int, dict[str, float]] = {}
    alone: dict[int, dict[str, float]] = {}
    joined: set[tuple[int, str]] = set()
    scored = [n for n, s in enumerate(sents) if len(words(s.text)) >= 4 and not title_like(s.text)]
    aligned = {n: _aligned(ctx, sents[n].text, related) for n in scored}
    passages = _passages(ctx, {cid for found in aligned.values() for cid in found})
    floor = RELEVANT - MARGIN
    for n in scored:
        s = sents[n]
        here = frozenset(p for cid in aligned[n] for p in passages[cid])
        ahead = here | frozenset(p for cid in aligned.get(n + 1, ()) for p in passages[cid])
        best = _similar(ctx, s.text, floor=floor, keep=ahead)
        alone[n] = dict(best)
        for piece in clauses(s.text):
            for cid, v in _similar(ctx, piece, floor=floor / CLAUSE, keep=here).items():
                best[cid] = max(best[cid], CLAUSE * v)
        prior = n - 1
        if _ANAPHOR.match(s.text) and prior in alone and sents[prior].line == s.line:
            for cid, v in _similar(ctx, s.text, sents[prior].text, floor=floor, keep=here).items():
                if v > max(alone[prior].get(cid, 0.0), best.get(cid, 0.0)):
                    best[cid] = v
                    joined.add((n, cid))
        if embedder is not None and best:
            from reported_claims.ingest.embed import blend

            statements = {cid: ctx.dataset.claims[cid].statement for cid in best}
            embedder.embed([s.text, *statements.values()])
            for cid, v in best.items():
                best[cid] = blend(v, embedder.cosine(s.text, statements[cid]))
        for cid, sim in aligned[n].items():
            best[cid] += ALIGNED * sim
        found = figures(s.text)
        named = {e for a in attributions(s.text) for e in ctx.entities_in(a.words)}
        out[n] = {cid: v + _figure_bonus(ctx.values.get(cid, {}), found)
                  - (ATTRIBUTION_DIFFERS if named and not _related(ctx, named, ctx.claimants.get(cid, frozenset()))
                     else 0.0)
                  for cid, v in best.items()}
    return out, joined


def _related(ctx: Context, named: set[str], claimants: frozenset[str]) -> bool:
    """Whether an entity the sentence cites is one of a claim's claimants, or part of one, or its whole."""
    for e in named:
        entity = ctx.dataset.entities.get(e)
        if e in claimants or (entity and entity.part_of in claimants):
            return True
        if any(getattr(ctx.dataset.entities.get(c), "part_of", None) == e for c in claimants):
            return True
    return False


def _paragraph_starts(sents: list[Sentence]) -> list[int]:
    """For each sentence, the number of the first sentence of the paragraph before its own."""
    lines = sorted({s.line for s in sents})
    previous = {line: lines[i - 1] if i else line for i, line in enumerate(lines)}
    first_of: dict[int, int] = {}
    for n, s in enumerate(sents):
        first_of.setdefault(s.line, n)
    return [first_of[previous[s.line]] for s in sents]


def _claimant(ctx: Context, claim: Claim, phrase: str) -> Optional[str]:
    """The claimant of ``claim`` that ``phrase`` names best: by the entity's names and aliases,
    the claimant's description and how other reports named it."""
    own = set(stems(phrase))
    best, best_score = None, 0.0
    for c in claim.claimants:
        entity = ctx.dataset.entities.get(c.entity)
        names = [entity.name, *entity.aliases] if entity else []
        names += [c.description or ""]
        names += [r.attributed_to or "" for r in claim.reports if r.claimant == c.entity]
        score = max((len(own & set(stems(n))) / (len(set(stems(n))) or 1) for n in names if n), default=0.0)
        if score > best_score:
            best, best_score = c.entity, score
    return best if best_score > 0 else None


def _default_claimant(claim: Claim) -> Optional[str]:
    """The claimant most reports name with an attribution, else the first that is not a news outlet."""
    counts: dict[str, int] = defaultdict(int)
    for r in claim.reports:
        if r.attribution_mode != "none":
            counts[r.claimant] += 1
    if counts:
        return max(counts, key=lambda k: (counts[k], k))
    for c in claim.claimants:
        if c.attribution not in NEWS_KINDS:
            return c.entity
    return None


def _attribution_of(claim: Claim, claimant: Optional[str]) -> Optional[str]:
    for c in claim.claimants:
        if c.entity == claimant:
            return c.attribution
    return None


def _figures_json(claim: Claim, found: list[Figure]) -> list[dict]:
    out = []
    for f in found:
        q = next((q for q in claim.quantities if q.unit == f.unit and _agrees(f, q.value)), None)
        if q is None:
            q = next((q for q in claim.quantities if q.unit == f.unit), None)
        out.append({**f.as_json(), "quantity": q.id if q else None})
    return out


def _wider(scope: str, other: str) -> bool:
    """Whether ``scope`` has words ``other`` lacks ("imported", "computer chips"), so the whole differs."""
    return bool(set(stems(scope)) - set(stems(other)))


def _differences(claim: Claim, found: list[Figure], derived_reports: list[tuple[str, dict]],
                 mode: str) -> list[dict]:
    out = []
    for q in claim.quantities:
        same = [f for f in found if f.unit == q.unit]
        if not same:
            continue
        f = min(same, key=lambda f: abs(f.value - q.value))
        if not _agrees(f, q.value):
            out.append({"field": "value", "quantity": q.id, "claim": q.value, "here": f.value, "text": f.text})
        if f.hedge != q.hedge:
            out.append({"field": "hedge", "quantity": q.id, "claim": q.hedge, "here": f.hedge, "text": f.text})
        if q.share_of and f.scope and _wider(f.scope, q.share_of):
            out.append({"field": "scope", "quantity": q.id, "claim": q.share_of, "here": f.scope, "text": f.text})
    for sid, upstream in derived_reports:
        theirs = figures(upstream["quote"])
        for f in found:
            same = [g for g in theirs if g.unit == f.unit]
            if not same:
                continue
            g = min(same, key=lambda g: abs(g.value - f.value))
            if not _agrees(f, g.value):
                out.append({"field": "value", "source": sid, "there": g.value, "here": f.value, "text": f.text})
            if f.hedge != g.hedge:
                out.append({"field": "hedge", "source": sid, "there": g.hedge, "here": f.hedge, "text": f.text})
            if f.scope and g.scope and (_wider(f.scope, g.scope) or _wider(g.scope, f.scope)):
                out.append({"field": "scope", "source": sid, "there": g.scope, "here": f.scope, "text": f.text})
        if upstream["attribution_mode"] != "none" and mode == "none":
            out.append({"field": "attribution", "source": sid, "there": upstream["attributed_to"], "here": None})
    return out


def names(dataset: Dataset) -> re.Pattern:
    """A pattern of every entity's name and aliases, as whole words."""
    found = sorted({n for e in dataset.entities.values() for n in [e.name, *e.aliases] if len(n) > 2},
                   key=len, reverse=True)
    return re.compile(r"\b(?:" + "|".join(re.escape(fold(n)) for n in found) + r")\b")


def _names(ctx: Context, text: str) -> bool:
    """Whether a sentence names an entity of the records: it is within the collection's scope."""
    return bool(ctx.names.search(fold(text)))


def _ledger_reason(s: Sentence, line: str, seen: set[str]) -> str:
    folded = fold(s.text)
    if folded in seen:
        return "duplicate"
    n = len(words(s.text))
    if _BULLET.match(line) or n <= 4 or title_like(s.text):
        return "navigation"
    return "background"


def propose(ctx: Context, article: Article, sid: str, publisher: Optional[str] = None,
            url: Optional[str] = None, embedder: Optional["Embedder"] = None) -> Proposal:
    """Propose the records of ``article`` as source ``sid`` against the records of ``ctx``
    (``embedder``: weigh sentence embeddings into the claims' scores, see ``ingest.embed``)."""
    text = article.text
    folded = fold(text)
    lines = text.splitlines()
    sents = sentences(text)
    matches = lineage.propose(ctx.archive, sents, ctx.derived)
    related = {m.source for m in matches if m.via is None and m.relation != "summary"}
    scores, joined = score_sentences(ctx, sents, related, embedder)

    top_of = {n: max(per.values()) for n, per in scores.items() if per}
    # a claim goes to its best sentence among those where it passes the threshold and no other
    # claim fits better (a sentence another claim explains better is that claim's), else to its
    # best sentence
    best: dict[str, Scored] = {}
    rank: dict[str, tuple[bool, float]] = {}
    for n, per in scores.items():
        for cid, v in per.items():
            key = (v >= THRESHOLD and v >= top_of[n], v)
            if cid not in rank or key > rank[cid]:
                best[cid], rank[cid] = Scored(cid, v, n), key
    accepted = sorted((b for b in best.values() if b.score >= THRESHOLD
                       or (b.score >= LOWER and b.score == top_of[b.sentence])),
                      key=lambda b: (b.sentence, -b.score, b.claim))  # ties by id: one order in every run
    quoted = {b.sentence for b in accepted}
    attrs = [attributions(s.text) for s in sents]
    prev_para = _paragraph_starts(sents)
    lineage_sources = [m.source for m in matches]

    reports, merged = [], set()
    for b in accepted:
        claim = ctx.dataset.claims[b.claim]
        s = sents[b.sentence]
        quote, mode, words_, context_ = s.text, "none", None, None
        named = lambda k: _claimant(ctx, claim, attrs[k][0].words)  # noqa: E731
        prior = b.sentence - 1
        if (b.sentence, b.claim) in joined and find(f"{sents[prior].text} {s.text}", folded) is None:
            # the sentence says the claim only with the one before it ("This has enabled…"): both are the quote
            quote = f"{sents[prior].text} {s.text}"
            merged.add(prior)
        if attrs[b.sentence]:
            mode, words_ = "explicit", attrs[b.sentence][0].words
        elif quote != s.text and attrs[prior]:
            mode, words_ = "explicit", attrs[prior][0].words
        else:
            # an earlier sentence carries the attribution only when it names one of the claimants
            if (prior >= 0 and sents[prior].line == s.line and attrs[prior] and prior not in quoted
                    and named(prior) and find(f"{sents[prior].text} {s.text}", folded) is None):
                quote = f"{sents[prior].text} {s.text}"
                mode, words_ = "explicit", attrs[prior][0].words
                merged.add(prior)
            else:
                # in a rewrite of a text that attributes the claim, the attribution carries
                # through the passage it rewrites, back to the article's start
                carried = any(r.source in related and r.attribution_mode != "none" for r in claim.reports)
                for k in range(b.sentence - 1, -1 if carried else prev_para[b.sentence] - 1, -1):
                    if attrs[k] and named(k):
                        mode, words_, context_ = "implied", attrs[k][0].words, sents[k].text
                        break
        if mode == "none":
            claimant = publisher
        else:
            claimant = _claimant(ctx, claim, words_) or _default_claimant(claim)
        derived_reports = [(r.source, r.model_dump()) for r in claim.reports if r.source in lineage_sources]
        found = figures(quote)
        alternatives = sorted(
            ({"claim": cid, "score": round(v, 3)} for cid, v in scores[b.sentence].items()
             if cid != b.claim and v >= ALTERNATIVE),
            key=lambda a: (-a["score"], a["claim"]),
        )[:5]
        if find(quote, folded) is not None:
            continue  # never proposed: a quote the quote checker would not find in the text
        reports.append({
            "claim": b.claim,
            "quote": quote,
            "score": round(b.score, 3),
            "line": s.line,
            "attributed_to": words_,
            "attribution_context": context_,
            "claimant": claimant,
            "attribution": "news-organisation" if mode == "none" else _attribution_of(claim, claimant),
            "attribution_mode": mode,
            "figures": _figures_json(claim, found),
            "differences": _differences(claim, found, derived_reports, mode),
            "alternatives": alternatives,
        })

    candidates, ledger, seen = [], [], set()
    for n, s in enumerate(sents):
        if n in quoted or n in merged:
            seen.add(fold(s.text))
            continue
        line = lines[s.line - 1]
        reason = _ledger_reason(s, line, seen)
        if reason == "background" and (attrs[n] or figures(s.text) or _names(ctx, s.text)):
            candidates.append({"quote": s.text, "line": s.line})
        else:
            ledger.append({"quote": s.text, "reason": reason})
        seen.add(fold(s.text))

    attributes_to = sorted(_cited(ctx, reports, attrs, sid))
    source = _source_fields(article, sid, publisher, url, matches, attributes_to)
    return Proposal(source, matches, reports, candidates, ledger, attributes_to)


def _cited(ctx: Context, reports: list[dict], attrs: list[list[Attribution]], sid: str) -> set[str]:
    """The primary sources the article cites: where its reports' claimants spoke (``via``), and the
    sources published by an entity its attributions name ("told the AP", "Bloomberg reported")."""
    out = {
        c.via for r in reports for c in ctx.dataset.claims[r["claim"]].claimants
        if r["attribution_mode"] != "none" and c.entity == r["claimant"] and c.via
    }
    named = {e for found in attrs for a in found for e in ctx.entities_in(a.words)}
    named |= {e for found in attrs for a in found if a.audience for e in ctx.entities_in(a.audience)}
    out |= {s for e in named for s in ctx.published.get(e, ()) if s != sid}
    return out


def _source_fields(article: Article, sid: str, publisher: Optional[str], url: Optional[str],
                   matches: list[lineage.Match], attributes_to: list[str]) -> dict:
    """The source record proposed, with the fields of the model (unknown ones left out)."""
    top = matches[0] if matches and matches[0].relation in ("reprint", "rewrite") else None
    out: dict = {
        "id": sid,
        "kind": "reprint" if top and top.relation == "reprint" else "news-article",
        "title": article.title or sid,
    }
    if publisher:
        out["publisher"] = publisher
    if url or article.url:
        out["url"] = url or article.url
    if article.date:
        out["published"] = article.date
    out["seen"] = True
    if article.authors:
        out["authors"] = article.authors
    if top:
        out["derived_from"] = [{"source": top.source, "relation": top.relation,
                                "note": f"Proposed by reported-claims ingest: {top.overlap:.0%} of the "
                                        "sentences are carried" + (f" (through {top.via})" if top.via else "")}]
    if attributes_to:
        out["attributes_to"] = attributes_to
    return out
