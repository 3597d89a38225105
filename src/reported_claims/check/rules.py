"""Rules across records, each with a stable code: references, ids, vocabularies, lineage."""

from __future__ import annotations

from collections import defaultdict

from reported_claims.problems import Problem
from reported_claims.model.graph import cycles, lineage_edges, references, term_uses
from reported_claims.model.records import Claim, Vocabulary
from reported_claims.repo.load import Dataset, Loaded
from reported_claims.repo.scaffold import is_placeholder, placeholders
from reported_claims.check.similar import near_duplicates

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


def _lineage(dataset: Dataset) -> list[Problem]:
    """Cycles in ``derived_from`` and ``attributes_to``: a source derives only from earlier ones."""
    graph = {sid: [t for _, t in lineage_edges(s)] for sid, s in dataset.sources.items()}
    out = []
    for comp in cycles(graph):
        members = set(comp)
        circle = " -> ".join(comp)
        for sid in comp:
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
