"""The lineage graph of one claim: from the primary sources its claimants spoke in to each
source that reports it, through the sources those derive from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from reported_claims.model.records import Claim, Source

PASSAGE = "passage"
"""The relation of a report's own ``derived_from``: the passage was taken from that source."""
QUOTES = "quotes"
"""The relation from a primary source (a claimant's ``via``) to an origin that attributes to it."""


@dataclass(frozen=True, order=True)
class Edge:
    """A source (``upstream``) carried on by another (``downstream``), and how."""

    upstream: str
    downstream: str
    relation: str
    """``reprint``, ``rewrite``, ``summary``, ``translation``, ``excerpt``, ``passage`` or ``quotes``."""


@dataclass(frozen=True)
class Graph:
    """A claim's lineage: nodes are source ids, sorted; edges sorted."""

    nodes: tuple[str, ...]
    edges: tuple[Edge, ...]
    reporting: tuple[str, ...]
    """The sources of the claim's reports, in report order."""
    primary: tuple[str, ...]
    """The primary sources the claimants made the claim in (their ``via``), sorted."""

    def parents(self, node: str) -> list[Edge]:
        return [e for e in self.edges if e.downstream == node]

    def children(self, node: str) -> list[Edge]:
        return [e for e in self.edges if e.upstream == node]


def claim_graph(claim: Claim, sources: Mapping[str, Source]) -> Graph:
    """The lineage graph of a claim, walked from its reports up ``derived_from``.

    A report's own ``derived_from`` replaces its source's for that passage. Each origin (a
    node nothing in the graph derives it from) that attributes its claims to a claimant's
    primary source is joined to it by a ``quotes`` edge.
    """
    edges: set[Edge] = set()
    nodes: set[str] = set()
    todo: list[str] = []
    for report in claim.reports:
        nodes.add(report.source)
        if report.derived_from:
            edges.update(Edge(p, report.source, PASSAGE) for p in report.derived_from)
            todo.extend(report.derived_from)
        else:
            todo.append(report.source)
    walked: set[str] = set()
    while todo:
        sid = todo.pop()
        if sid in walked:
            continue
        walked.add(sid)
        nodes.add(sid)
        source = sources.get(sid)
        for d in source.derived_from if source else []:
            edges.add(Edge(d.source, sid, d.relation))
            todo.append(d.source)
    primary = sorted({c.via for c in claim.claimants if c.via})
    fed = {e.downstream for e in edges}
    for sid in sorted(nodes - fed):
        source = sources.get(sid)
        for via in primary:
            if via != sid and source is not None and via in source.attributes_to:
                edges.add(Edge(via, sid, QUOTES))
    nodes.update(primary)
    return Graph(tuple(sorted(nodes)), tuple(sorted(edges)), tuple(r.source for r in claim.reports),
                 tuple(primary))
