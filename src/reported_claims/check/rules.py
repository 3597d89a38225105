"""Rules across records, each with a stable code: references, ids, vocabularies, lineage."""

from __future__ import annotations

from collections import defaultdict
from typing import Iterator

from reported_claims.problems import Problem
from reported_claims.model.records import Claim, Entity, Source, Vocabulary
from reported_claims.repo.load import Dataset, Loaded
from reported_claims.repo.scaffold import is_placeholder, placeholders
from reported_claims.check.similar import near_duplicates

# (location, kind of record referred to, id)
Ref = tuple[tuple, str, str]
# (location, vocabulary, term)
TermUse = tuple[tuple, str, str]


def references(record) -> Iterator[Ref]:
    """Every reference a record makes to another record."""
    if isinstance(record, Claim):
        for i, c in enumerate(record.claimants):
            yield ("claimants", i, "entity"), "entity", c.entity
            if c.via:
                yield ("claimants", i, "via"), "source", c.via
        for i, e in enumerate(record.entities):
            yield ("entities", i, "entity"), "entity", e.entity
        if record.withdrawal and record.withdrawal.replaced_by:
            yield ("withdrawal", "replaced_by"), "claim", record.withdrawal.replaced_by
        for i, link in enumerate(record.links):
            yield ("links", i, "claim"), "claim", link.claim
        for i, r in enumerate(record.reports):
            yield ("reports", i, "source"), "source", r.source
            for j, d in enumerate(r.derived_from):
                yield ("reports", i, "derived_from", j), "source", d
    elif isinstance(record, Source):
        if record.publisher:
            yield ("publisher",), "entity", record.publisher
        for i, d in enumerate(record.derived_from):
            yield ("derived_from", i, "source"), "source", d.source
        for i, s in enumerate(record.attributes_to):
            yield ("attributes_to", i), "source", s
    elif isinstance(record, Entity):
        if record.part_of:
            yield ("part_of",), "entity", record.part_of


def term_uses(record) -> Iterator[TermUse]:
    """Every vocabulary term a record uses."""
    if isinstance(record, Claim):
        yield ("topic",), "topics", record.topic
        for i, item in enumerate(record.items):
            yield ("items", i), "items", item
        for i, c in enumerate(record.claimants):
            yield ("claimants", i, "attribution"), "attribution-kinds", c.attribution
        for i, e in enumerate(record.entities):
            yield ("entities", i, "role"), "roles", e.role
        yield ("status",), "statuses", record.status
    elif isinstance(record, Source):
        yield ("kind",), "source-kinds", record.kind
    elif isinstance(record, Entity):
        yield ("kind",), "entity-kinds", record.kind


def check(dataset: Dataset, files: list[Loaded]) -> list[Problem]:
    """Problems across records, for the target files."""
    problems: list[Problem] = []
    problems += _ids(files)
    for item in files:
        if item.record is None or not item.target:
            continue
        problems += _record_rules(dataset, item)
    problems += [p for item in files if item.target for p in placeholders(dataset, item)]
    problems += _lineage(dataset)
    problems += near_duplicates(dataset, files)
    return problems


def _ids(files: list[Loaded]) -> list[Problem]:
    out = []
    by_id: dict[str, list[Loaded]] = defaultdict(list)
    by_name: dict[tuple, list[Loaded]] = defaultdict(list)
    for item in files:
        by_name[(str(item.path.parent), item.path.name.lower())].append(item)
        if item.record is None:
            continue
        by_id[item.record.id].append(item)
        if item.target and item.record.id != item.path.stem:
            out.append(item.doc.problem(
                "id-mismatch", ("id",),
                f"id {item.record.id!r} is not the file name {item.path.stem!r}; "
                f"rename the file to {item.record.id}.yaml (ids never change)",
            ))
    for rid, items in by_id.items():
        for item in items:
            others = ", ".join(o.shown for o in items if o is not item)
            if item.target and others:
                out.append(item.doc.problem("duplicate-id", ("id",), f"id {rid!r} is also used by {others}"))
    for items in by_name.values():
        for item in items:
            others = ", ".join(o.shown for o in items if o is not item)
            if item.target and others:
                out.append(item.doc.problem(
                    "case-collision", (),
                    f"file name differs from {others} only by case; they collide on macOS and Windows",
                ))
    return out


def _record_rules(dataset: Dataset, item: Loaded) -> list[Problem]:
    out = []
    record, doc = item.record, item.doc
    for loc, kind, rid in references(record):
        if is_placeholder(rid):
            continue  # reported by placeholders()
        if not dataset.exists(kind, rid):
            out.append(doc.problem("unknown-reference", loc, f"no {kind} with id {rid!r}"))
    for loc, vocab, term in term_uses(record):
        terms = dataset.terms(vocab)
        if is_placeholder(term):
            continue  # reported by placeholders()
        if term not in terms:
            known = ", ".join(sorted(terms)[:12]) or "(vocabulary missing)"
            out.append(doc.problem(
                "unknown-term", loc,
                f"{term!r} is not in records/vocabularies/{vocab}.yaml; use one of: {known}, or add the term there",
            ))
        elif terms[term].deprecated:
            out.append(doc.problem("deprecated-term", loc, f"{term!r} is deprecated: {terms[term].deprecated}", "warning"))
    if isinstance(record, Claim):
        for i, link in enumerate(record.links):
            if link.claim == record.id:
                out.append(doc.problem("self-link", ("links", i, "claim"), "a claim cannot link to itself"))
        seen: dict[str, int] = {}
        for i, r in enumerate(record.reports):
            if r.source in r.derived_from:
                j = r.derived_from.index(r.source)
                out.append(doc.problem(
                    "lineage-cycle", ("reports", i, "derived_from", j),
                    f"a passage of {r.source} cannot derive from {r.source} itself",
                ))
            if r.source in seen:
                out.append(doc.problem(
                    "duplicate-report", ("reports", i, "source"),
                    f"reports[{seen[r.source]}] already cites {r.source}; merge the two quotes with ' ... '",
                ))
            seen.setdefault(r.source, i)
    if isinstance(record, Vocabulary):
        seen_terms: set[str] = set()
        for i, t in enumerate(record.terms):
            if t.id in seen_terms:
                out.append(doc.problem("duplicate-term", ("terms", i, "id"), f"term {t.id!r} appears twice"))
            seen_terms.add(t.id)
    return out


def lineage_edges(source: Source) -> Iterator[tuple[tuple, str]]:
    for i, d in enumerate(source.derived_from):
        yield ("derived_from", i, "source"), d.source
    for i, s in enumerate(source.attributes_to):
        yield ("attributes_to", i), s


def _lineage(dataset: Dataset) -> list[Problem]:
    """Cycles in ``derived_from`` and ``attributes_to``, found with Tarjan's algorithm."""
    graph = {
        sid: [t for _, t in lineage_edges(s) if t in dataset.sources] for sid, s in dataset.sources.items()
    }
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            edges = graph[node]
            if i < len(edges):
                work.append((node, i + 1))
                nxt = edges[i]
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            if low[node] == index[node]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == node:
                        break
                components.append(comp)
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    out = []
    for comp in components:
        members = set(comp)
        if len(comp) == 1 and comp[0] not in graph[comp[0]]:
            continue
        circle = " -> ".join(sorted(members))
        for sid in sorted(members):
            item = dataset.files[sid]
            if not item.target:
                continue
            for loc, target in lineage_edges(dataset.sources[sid]):
                if target in members:
                    out.append(item.doc.problem(
                        "lineage-cycle", loc,
                        f"{sid} and {target} derive from each other in a circle ({circle}); "
                        "a source can only derive from earlier sources",
                    ))
                    break
    return out
