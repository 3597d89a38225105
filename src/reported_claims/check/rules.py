"""Rules across records, each with a stable code: references, ids, vocabularies, lineage."""

from __future__ import annotations

import os
from collections import defaultdict

from reported_claims.problems import Problem
from reported_claims.model.graph import Uses, cycles, lineage_edges, references, term_uses, uses
from reported_claims.model.records import Record
from reported_claims.repo.load import Dataset, Loaded, whole
from reported_claims.repo.scaffold import is_placeholder, placeholders
from reported_claims.check.similar import near_duplicates

def check(dataset: Dataset, files: list[Loaded]) -> list[Problem]:
    """Problems across records, for the target files."""
    problems: list[Problem] = []
    problems += _ids(files)
    targets = [item for item in files if item.record is not None and item.target]
    dangling = _dangling(dataset, targets)
    for item in targets:
        problems += _record_rules(dataset, item, dangling)
    for item in files:
        left = placeholders(dataset, item) if item.target else None
        if left:  # a choice the model already reported as a placeholder is not repeated
            told = {(p.line, p.col) for p in item.doc.problems if p.code == "placeholder"}
            problems += [p for p in left if (p.line, p.col) not in told]
    problems += _lineage(dataset)
    problems += _loops(dataset)
    problems += near_duplicates(dataset, files)
    return problems


def _ids(files: list[Loaded]) -> list[Problem]:
    out = []
    for item in files:
        record = item.record
        if item.target and record is not None and not item.shown.endswith("/" + record.id + ".yaml") \
                and record.id != item.path.stem:
            out.append(item.doc.problem(
                "id-mismatch", ("id",),
                f"id {record.id!r} is not the file name {item.path.stem!r}; "
                f"rename the file to {record.id}.yaml (ids never change)",
            ))
    # Ids and names are grouped only when one repeats: most repositories have none that do.
    ids = [item.record.id for item in files if item.record is not None]
    if len(set(ids)) < len(ids):
        by_id: dict[str, list[Loaded]] = defaultdict(list)
        for item in files:
            if item.record is not None:
                by_id[item.record.id].append(item)
        for rid, items in by_id.items():
            if len(items) < 2:
                continue
            for item in items:
                others = ", ".join(o.shown for o in items if o is not item)
                if item.target and others:
                    out.append(item.doc.problem("duplicate-id", ("id",), f"id {rid!r} is also used by {others}"))
    lowered = [item.shown.lower() for item in files]  # alike whenever their folded names are
    if len(set(lowered)) < len(lowered):
        names = [_folded(item.shown) for item in files]
        by_name: dict[tuple, list[Loaded]] = defaultdict(list)
        for name, item in zip(names, files):
            by_name[name].append(item)
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


def _folded(shown: str) -> tuple[str, str]:
    """A file's folder and its name in lower case: two files alike in these collide where case is ignored."""
    folder, name = os.path.split(shown)
    return folder, name.lower()


def _dangling(dataset: Dataset, targets: list[Loaded]) -> tuple[set, set]:
    """The references (kind, id) to no record and the uses (vocabulary, term) of no live term,
    among what the targets (or all the records the load read) refer to and use: both empty for
    a repository in order."""
    used = dataset.used
    if used is None:
        used = Uses()
        for item in targets:
            used.add(item.record)
    tables = {kind: dataset.table(kind) for kind, _ in used.refs} if used.refs else {}
    bad_refs = {(kind, rid) for kind, rid in used.refs if rid not in tables[kind] and (kind, rid) not in dataset.invalid}
    live = {vocab: dataset.live(vocab) for vocab, _ in used.terms} if used.terms else {}
    bad_terms = {(vocab, term) for vocab, term in used.terms if term not in live[vocab]}
    return bad_refs, bad_terms


def _record_rules(dataset: Dataset, item: Loaded, dangling: tuple[set, set]) -> list[Problem]:
    """Where a target record refers to no record or uses no live term. (What a record breaks on
    its own is found as it is read: ``model.checks``.)"""
    out: list[Problem] = []
    # Most repositories refer only to what exists and use only live terms: then no record needs
    # walking, and the walk that keeps locations is left for the few that have something to report.
    bad_refs, bad_terms = dangling
    if bad_refs or bad_terms:
        record = whole(item)  # walked in full: an outline holds only what the other rules read
        if record is None:
            return out
        refs, terms = uses(record)
        if any(r in bad_refs for r in refs) or any(t in bad_terms for t in terms):
            out += _references_and_terms(dataset, item, record)
    return out


def _references_and_terms(dataset: Dataset, item: Loaded, record: Record) -> list[Problem]:
    """Where a record (``item``'s, whole) refers to what does not exist, or uses a term that is not live."""
    out = []
    doc = item.doc
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


def _loops(dataset: Dataset) -> list[Problem]:
    """Self-references and cycles where a chain must end: an entity part of itself, claims replaced
    by one another, a claim part of itself."""
    out = []
    # Only the records with an edge out are listed: no other is in a cycle.
    relations = [
        ("part-of-cycle", "entity", {e.id: [e.part_of] for e in dataset.entities.values() if e.part_of},
         lambda r: [(("part_of",), r.part_of)] if r.part_of else [], "is part of"),
        ("replacement-cycle", "claim",
         {c.id: [c.withdrawal.replaced_by] for c in dataset.claims.values()
          if c.withdrawal and c.withdrawal.replaced_by},
         lambda r: [(("withdrawal", "replaced_by"), r.withdrawal.replaced_by)]
         if r.withdrawal and r.withdrawal.replaced_by else [], "is replaced by"),
        ("part-of-cycle", "claim",
         {c.id: [x.claim for x in c.links if x.type == "part-of"] for c in dataset.claims.values() if c.links},
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
