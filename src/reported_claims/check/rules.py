"""Rules across records, each with a stable code: references, ids, vocabularies, lineage."""

from __future__ import annotations

import os
from collections import defaultdict

from reported_claims.problems import Problem
from reported_claims.model.graph import cycles, lineage_edges, references, term_uses, uses
from reported_claims.model.records import ACT_STRENGTH, Claim, Source, Vocabulary
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
    for item in files:
        if item.target:  # a choice the model already reported as a placeholder is not repeated
            told = {(p.line, p.col) for p in item.doc.problems if p.code == "placeholder"}
            problems += [p for p in placeholders(dataset, item) if (p.line, p.col) not in told]
    problems += _lineage(dataset)
    problems += _loops(dataset)
    problems += near_duplicates(dataset, files)
    return problems


def _ids(files: list[Loaded]) -> list[Problem]:
    out = []
    by_id: dict[str, list[Loaded]] = defaultdict(list)
    by_name: dict[tuple, list[Loaded]] = defaultdict(list)
    for item in files:
        folder, name = os.path.split(item.shown)
        by_name[(folder, name.lower())].append(item)
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
        if len(items) < 2:
            continue
        for item in items:
            others = ", ".join(o.shown for o in items if o is not item)
            if item.target and others:
                out.append(item.doc.problem("duplicate-id", ("id",), f"id {rid!r} is also used by {others}"))
    for items in by_name.values():
        if len(items) < 2:
            continue
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
    refs, terms = uses(record)
    # Most records refer only to what exists and use only live terms: their locations are never
    # needed, and the walk that keeps them is left for the few that have something to report.
    if not (dataset.all_exist(refs) and dataset.all_live(terms)):
        out += _references_and_terms(dataset, item)
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
    if isinstance(record, Claim):
        out += _claim_reports(record, doc)
    if isinstance(record, Source) and record.kind == "news-article" and record.publisher is None:
        out.append(doc.problem(
            "missing-publisher", ("kind",),
            "a news article needs `publisher`; when the text does not say who published it, use a group "
            "entity that describes the unidentified site",
        ))
    if isinstance(record, Vocabulary):
        seen_terms: set[str] = set()
        for i, t in enumerate(record.terms):
            if t.id in seen_terms:
                out.append(doc.problem("duplicate-term", ("terms", i, "id"), f"term {t.id!r} appears twice"))
            seen_terms.add(t.id)
    return out


def _references_and_terms(dataset: Dataset, item: Loaded) -> list[Problem]:
    """Where a record refers to what does not exist, or uses a term that is not live."""
    out = []
    record, doc = item.record, item.doc
    for loc, kind, rid in references(record):
        if is_placeholder(rid):
            continue  # reported by placeholders()
        if not dataset.exists(kind, rid):
            out.append(doc.problem("unknown-reference", loc, f"no {kind} with id {rid!r}{_did_you_mean(rid, dataset.ids(kind))}"))
    for loc, vocab, term in term_uses(record):
        terms = dataset.terms(vocab)
        if is_placeholder(term):
            continue  # reported by placeholders()
        if term not in terms:
            live = sorted(t for t, v in terms.items() if not v.deprecated)
            known = ", ".join(live) or "(vocabulary missing)"
            out.append(doc.problem(
                "unknown-term", loc,
                f"{term!r} is not a term of records/vocabularies/{vocab}.yaml{_did_you_mean(term, live)}; "
                f"the terms are: {known} (or add the term there)",
            ))
        elif terms[term].deprecated:
            out.append(doc.problem("deprecated-term", loc, f"{term!r} is deprecated: {terms[term].deprecated}", "warning"))
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


def _did_you_mean(value: str, known) -> str:
    """``; did you mean 'x'?`` for the closest known id or term, or nothing when none is close."""
    from rapidfuzz import fuzz, process, utils

    match = process.extractOne(value, list(known), scorer=fuzz.ratio, processor=utils.default_process,
                               score_cutoff=80)
    return f"; did you mean {match[0]!r}?" if match else ""


def _claim_reports(claim: Claim, doc) -> list[Problem]:
    """The rules between a claim and its reports: who they name, how strongly, which count."""
    out = []
    claimants = {c.entity for c in claim.claimants}
    named = set()
    for i, r in enumerate(claim.reports):
        named.add(r.claimant)
        if r.claimant not in claimants:
            out.append(doc.problem(
                "unknown-claimant", ("reports", i, "claimant"),
                f"{r.claimant} is not a claimant of this claim; add it to `claimants` or name one of: "
                f"{', '.join(sorted(claimants))}",
            ))
        act = r.act or claim.act
        if ACT_STRENGTH[claim.act] <= ACT_STRENGTH["suggests"] and ACT_STRENGTH[act] > ACT_STRENGTH[claim.act]:
            out.append(doc.problem(
                "act-stronger-than-claim", ("reports", i, "act"),
                f"the claim `{claim.act}`, but this report's act is `{act}`: a report that states more strongly "
                "than the claim carries another claim; split it out",
            ))
    for i, c in enumerate(claim.claimants):
        if c.entity not in named:
            out.append(doc.problem(
                "unreported-claimant", ("claimants", i, "entity"),
                f"no report attributes the claim to {c.entity}; every claimant is named by a report's `claimant`",
            ))
    strongest = max(ACT_STRENGTH[r.act or claim.act] for r in claim.reports)
    if ACT_STRENGTH[claim.act] > strongest:
        out.append(doc.problem(
            "act-stronger-than-reports", ("act",),
            f"the claim `{claim.act}` but no report does more than `{max((r.act or claim.act for r in claim.reports), key=ACT_STRENGTH.get)}`: "
            "a statement never asserts what its reports only question or suggest",
        ))
    if claim.status != "withdrawn" and not any(r.counted for r in claim.reports):
        out.append(doc.problem(
            "no-carrying-report", ("reports",),
            "no report's quote states the claim (`fit: exact` or `narrower`); broader and partial reports are "
            "listed but do not carry it: write the statement as the quotes say it, or split the claim",
        ))
    return out


def _loops(dataset: Dataset) -> list[Problem]:
    """Self-references and cycles where a chain must end: an entity part of itself, claims replaced
    by one another, a claim part of itself."""
    out = []
    relations = [
        ("part-of-cycle", "entity", {e.id: [e.part_of] if e.part_of else [] for e in dataset.entities.values()},
         lambda r: [(("part_of",), r.part_of)] if r.part_of else [], "is part of"),
        ("replacement-cycle", "claim",
         {c.id: [c.withdrawal.replaced_by] if c.withdrawal and c.withdrawal.replaced_by else []
          for c in dataset.claims.values()},
         lambda r: [(("withdrawal", "replaced_by"), r.withdrawal.replaced_by)]
         if r.withdrawal and r.withdrawal.replaced_by else [], "is replaced by"),
        ("part-of-cycle", "claim",
         {c.id: [x.claim for x in c.links if x.type == "part-of"] for c in dataset.claims.values()},
         lambda r: [(("links", i, "claim"), x.claim) for i, x in enumerate(r.links) if x.type == "part-of"],
         "is part of"),
    ]
    for code, kind, graph, edges, verb in relations:
        table = dataset.table(kind)
        for comp in cycles(graph):
            members = set(comp)
            for rid in comp:
                item = dataset.files.get(rid)
                if item is None or not item.target:
                    continue
                for loc, target in edges(table[rid]):
                    if target in members:
                        what = "itself" if target == rid else f"{target}, in a circle ({' -> '.join(comp)})"
                        out.append(item.doc.problem(code, loc, f"{rid} {verb} {what}; the chain must end"))
    return out
