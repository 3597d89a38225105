"""One claim described for a reader or a script: statement, claimants, lineage, reports with
their differences. ``describe`` gives the stable shape that ``show --json`` prints."""

from __future__ import annotations

from dataclasses import asdict
from typing import Optional

from reported_claims.model.graph import Lineage
from reported_claims.model.records import Claim
from reported_claims.package.drift import render, report_drifts
from reported_claims.site.data import Records
from reported_claims.site.lineage import claim_graph
from reported_claims.site.marks import segments

SHAPE_VERSION = 1
"""Bumped when a key of ``describe`` is renamed or removed; new keys may be added."""


def close_ids(ids: list[str], wanted: str, limit: int = 3) -> list[str]:
    """The ids most like ``wanted``, best first (rapidfuzz where installed, else difflib)."""
    try:
        from rapidfuzz import fuzz, process
    except ImportError:
        import difflib

        return difflib.get_close_matches(wanted, ids, n=limit, cutoff=0.4)
    found = process.extract(wanted, ids, scorer=fuzz.WRatio, limit=limit, score_cutoff=50)
    return [match for match, _, _ in found]


def _source(records: Records, sid: str) -> dict:
    s = records.sources.get(sid)
    if s is None:
        return {"id": sid, "kind": None, "title": None, "published": None, "publisher": None, "seen": None}
    return {"id": sid, "kind": s.kind, "title": s.title, "published": s.published,
            "publisher": records.name(s.publisher), "seen": s.seen}


def describe(records: Records, claim: Claim) -> dict:
    """Everything ``show`` prints about a claim, as plain JSON values."""
    graph = claim_graph(claim, records.sources)
    lineage = Lineage(records.sources)
    origins = records.origins(claim)
    reports = []
    for report in claim.reports:
        drifts = report_drifts(claim, report, records.sources)
        reports.append({
            "source": _source(records, report.source),
            "quote": report.quote,
            "claimant": report.claimant,
            "attribution": report.attribution,
            "attribution_mode": report.attribution_mode,
            "attributed_to": report.attributed_to,
            "fit": report.fit,
            "counted": report.counted,
            "act": report.act or claim.act,
            "modality": report.modality,
            "origins": lineage.report_origins(report),
            "segments": [{"text": text, "kinds": sorted({d.kind for d in ds})}
                         for text, ds in segments(report, drifts)],
            "drifts": [{k: v for k, v in asdict(d).items() if k not in ("claim_id", "source_id")} for d in drifts],
        })
    return {
        "shape": SHAPE_VERSION,
        "id": claim.id,
        "statement": claim.statement,
        "act": claim.act,
        "topic": claim.topic,
        "items": list(claim.items),
        "status": claim.status,
        "made": claim.made,
        "period": claim.period,
        "claimants": [{"entity": c.entity, "name": records.name(c.entity), "attribution": c.attribution,
                       "description": c.description, "via": c.via} for c in claim.claimants],
        "quantities": [{"id": q.id, "measure": q.measure, "value": q.value, "unit": q.unit, "hedge": q.hedge,
                        "text": render(q.value, q.unit, q.hedge)} for q in claim.quantities],
        "origin_count": len(origins),
        "origins": origins,
        "lineage": {
            "nodes": [{**_source(records, n), "reports": n in graph.reporting, "primary": n in graph.primary}
                      for n in graph.nodes],
            "edges": [{"from": e.upstream, "to": e.downstream, "relation": e.relation} for e in graph.edges],
        },
        "reports": reports,
        "notes": claim.notes,
    }


def tree_lines(described: dict) -> list[tuple[str, dict, Optional[str], bool]]:
    """The lineage as an indented tree from the sources nothing derives from: (prefix, node,
    relation from its parent, whether it was listed above). A node reached twice is listed
    again without its children."""
    nodes = {n["id"]: n for n in described["lineage"]["nodes"]}
    edges = described["lineage"]["edges"]
    fed = {e["to"] for e in edges}
    out: list[tuple[str, dict, Optional[str], bool]] = []
    shown: set[str] = set()

    def walk(node: str, prefix: str, child_prefix: str, relation: Optional[str]) -> None:
        out.append((prefix, nodes[node], relation, node in shown))
        if node in shown:
            return
        shown.add(node)
        below = [e for e in edges if e["from"] == node]
        for i, e in enumerate(below):
            last = i == len(below) - 1
            walk(e["to"], child_prefix + ("└── " if last else "├── "), child_prefix + ("    " if last else "│   "),
                 e["relation"])

    for root in sorted(n for n in nodes if n not in fed):
        walk(root, "", "", None)
    return out
