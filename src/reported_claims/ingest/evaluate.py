"""Leave one out: how well ingest proposes the curated records of each archived article.

For each archived article, a copy of the repository loses its source record, its archived text
and its reports (and the claims only it carries, which are then expected back as candidates);
ingest runs on its text in that copy, and the proposals are compared with the curated records.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import yaml

from reported_claims.check.quotes import ARCHIVE, fold, parts
from reported_claims.ingest.extract import Article
from reported_claims.ingest.propose import Context, context, propose
from reported_claims.repo.load import RECORDS, load

if TYPE_CHECKING:
    from reported_claims.ingest.embed import Embedder

TOP = 3


@dataclass
class Result:
    """The figures of one left-out article."""

    source: str
    curated: int = 0
    """Curated reports of claims still in the records."""
    proposed: int = 0
    found: int = 0
    """Curated reports proposed for their claim, at a sentence of their quote."""
    correct: int = 0
    """Proposals that are curated reports."""
    top: int = 0
    """Curated reports whose claim is among the first three at a proposed sentence of their quote."""
    attribution: int = 0
    """Found reports whose claimant and mode agree with the curated ones."""
    only: int = 0
    """Claims only this article carries."""
    covered: int = 0
    """Of those, how many a candidate's sentence quotes."""
    lineage_expected: list[str] = field(default_factory=list)
    lineage_top: list[str] = field(default_factory=list)
    seconds: float = 0.0
    misses: list[str] = field(default_factory=list)
    """One line per curated report missed, wrong proposal, attribution differing, claim uncovered."""


def _sentence_holds(sentence: str, quote: str) -> bool:
    """Whether a proposed sentence is where a curated quote stands (any of its parts)."""
    s = fold(sentence)
    return any(p in s or s in p for p in parts(quote))


def _remove(root: Path, sid: str) -> tuple[list[tuple[str, dict]], list[tuple[str, dict]]]:
    """Take ``sid`` out of the repository at ``root``: (its reports of claims kept, its reports of
    claims removed), each as (claim id, report)."""
    (root / RECORDS / "sources" / f"{sid}.yaml").unlink()
    (root / ARCHIVE / f"{sid}.txt").unlink()
    kept, removed = [], []
    for path in sorted((root / RECORDS / "claims").glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        mine = [r for r in data.get("reports", []) if r["source"] == sid]
        if not mine:
            continue
        rest = [r for r in data["reports"] if r["source"] != sid]
        if rest:
            kept += [(data["id"], r) for r in mine]
            data["reports"] = rest
            path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
        else:
            removed += [(data["id"], r) for r in mine]
            path.unlink()
    return kept, removed


def _expected_lineage(root: Path, sid: str, kept: list[tuple[str, dict]]) -> list[str]:
    """Curated derivations of the source or its reports that can be found from the archive: the
    source's text is archived, or an archived reprint of it is."""
    dataset, _ = load(root)
    source = yaml.safe_load((root / RECORDS / "sources" / f"{sid}.yaml").read_text(encoding="utf-8"))
    wanted = [d["source"] for d in source.get("derived_from", [])]
    wanted += [d for _, r in kept for d in r.get("derived_from", [])]
    out = []
    for target in dict.fromkeys(wanted):
        archived = lambda s: (root / ARCHIVE / f"{s}.txt").is_file() and s != sid  # noqa: E731
        reprinted = any(
            archived(other.id) and any(d.source == target and d.relation == "reprint" for d in other.derived_from)
            for other in dataset.sources.values()
        )
        if archived(target) or reprinted:
            out.append(target)
    return out


def one(root: Path, sid: str, embedder: Optional["Embedder"] = None) -> Result:
    """Leave ``sid`` out of a copy of ``root``, ingest its text there, compare with the curated records."""
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "repo"
        shutil.copytree(root / RECORDS, copy / RECORDS)
        shutil.copytree(root / ARCHIVE, copy / ARCHIVE)
        text = (root / ARCHIVE / f"{sid}.txt").read_text(encoding="utf-8")
        curated = yaml.safe_load((root / RECORDS / "sources" / f"{sid}.yaml").read_text(encoding="utf-8"))
        kept, removed = _remove(copy, sid)
        expected = _expected_lineage(root, sid, kept)
        start = time.perf_counter()
        dataset, _ = load(copy)
        ctx: Context = context(dataset, copy)
        proposal = propose(ctx, Article(text), sid, curated.get("publisher"), embedder=embedder).as_json()
        seconds = time.perf_counter() - start
    return score(sid, proposal, kept, removed, expected, seconds)


def score(sid: str, proposal: dict, kept: list[tuple[str, dict]], removed: list[tuple[str, dict]],
          expected: list[str], seconds: float) -> Result:
    """Compare one proposal with the curated reports it should reproduce."""
    out = Result(sid, curated=len(kept), proposed=len(proposal["reports"]), only=len({c for c, _ in removed}),
                 lineage_expected=expected, seconds=seconds)
    out.lineage_top = [m["source"] for m in proposal["lineage"][:2]]
    by_claim = {r["claim"]: r for r in proposal["reports"]}
    curated = {(c, r["source"]): r for c, r in kept}
    for cid, report in kept:
        mine = by_claim.get(cid)
        if mine and _sentence_holds(mine["quote"], report["quote"]):
            out.found += 1
            mode = report["attribution_mode"]
            if mine["claimant"] == report["claimant"] and mine["attribution_mode"] == mode:
                out.attribution += 1
            else:
                out.misses.append(f"attribution {cid}: {mine['claimant']} {mine['attribution_mode']}, curated "
                                  f"{report['claimant']} {mode}")
        else:
            out.misses.append(f"missed {cid}: {_short(report['quote'])}"
                              + (f" (proposed at: {_short(mine['quote'])})" if mine else ""))
        at = [r for r in proposal["reports"] if _sentence_holds(r["quote"], report["quote"])]
        if any(cid in [r["claim"], *[a["claim"] for a in r["alternatives"][: TOP - 1]]] for r in at):
            out.top += 1
        else:
            out.misses.append(f"not in the top {TOP} {cid}")
    for r in proposal["reports"]:
        if (r["claim"], sid) in curated and _sentence_holds(r["quote"], curated[(r["claim"], sid)]["quote"]):
            out.correct += 1
        else:
            out.misses.append(f"wrong {r['claim']} ({r['score']}): {_short(r['quote'])}")
    for cid in sorted({c for c, _ in removed}):
        quotes = [r["quote"] for c, r in removed if c == cid]
        if any(_sentence_holds(c["quote"], q) for c in proposal["candidates"] for q in quotes):
            out.covered += 1
        else:
            out.misses.append(f"no candidate for {cid}: {_short(quotes[0])}")
    return out


def _short(text: str) -> str:
    return text if len(text) <= 90 else text[:89] + "…"


def misses(results: list[Result]) -> str:
    """What each article's figures miss, one line each, to look for their general causes."""
    return "\n".join(f"{r.source}\n" + "".join(f"  {m}\n" for m in r.misses) for r in results if r.misses)


def leave_one_out(root: Path, embedder: Optional["Embedder"] = None) -> list[Result]:
    """One result per archived article of the repository at ``root`` (``embedder``: proposed
    with sentence embeddings)."""
    root = Path(root)
    dataset, _ = load(root)
    ids = sorted(s for s in dataset.sources if (root / ARCHIVE / f"{s}.txt").is_file())
    return [one(root, sid, embedder) for sid in ids]


def _pct(n: int, d: int) -> str:
    return f"{100 * n / d:5.1f}%" if d else "    -"


def totals(results: list[Result]) -> Result:
    """The micro-average: every count summed over the articles."""
    out = Result("all")
    for r in results:
        for name in ("curated", "proposed", "found", "correct", "top", "attribution", "only", "covered"):
            setattr(out, name, getattr(out, name) + getattr(r, name))
        out.lineage_expected += r.lineage_expected
        out.lineage_top += [e for e in r.lineage_expected if e in r.lineage_top]
        out.seconds = max(out.seconds, r.seconds)
    return out


def lineage_hits(r: Result) -> tuple[int, int]:
    """(expected derivations among the first two proposals, expected derivations)."""
    if r.source == "all":
        return len(r.lineage_top), len(r.lineage_expected)
    return sum(1 for e in r.lineage_expected if e in r.lineage_top), len(r.lineage_expected)


def table(results: list[Result]) -> str:
    """The figures per article and micro-averaged, as a text table."""
    head = (f"{'article':52} {'recall':>6} {'prec.':>6} {'top-3':>6} {'attrib':>6} {'cands':>6} "
            f"{'lineage':>7} {'seconds':>7}")
    rows = [head, "-" * len(head)]
    for r in [*results, totals(results)]:
        hit, want = lineage_hits(r)
        rows.append(
            f"{r.source[:52]:52} {_pct(r.found, r.curated):>6} {_pct(r.correct, r.proposed):>6} "
            f"{_pct(r.top, r.curated):>6} {_pct(r.attribution, r.found):>6} {_pct(r.covered, r.only):>6} "
            f"{f'{hit}/{want}':>7} {r.seconds:7.2f}"
        )
    return "\n".join(rows)
