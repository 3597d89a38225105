"""The reference graph of the records, derived from the model annotations.

Every field typed ``ClaimId``, ``SourceId`` or ``EntityId`` is a reference to a record of that
kind, and every field typed with a vocabulary's term (``TopicTerm``...) is a use of that
vocabulary: nobody lists them by hand, so a new reference field is checked the day it is
added. The lineage of sources (``derived_from``, ``attributes_to`` and a report's own
``derived_from``) is walked here once, for the rules, the tables and the origins alike.
"""

from __future__ import annotations

import functools
import types
import typing
from dataclasses import dataclass
from typing import Any, Iterable, Iterator, Mapping, Optional, Union

from reported_claims.model.records import Claim, InVocabulary, Record, Report, Source
from reported_claims.model.types import ClaimId, EntityId, SourceId

REFERENCE_TYPES: dict[Any, str] = {ClaimId: "claim", SourceId: "source", EntityId: "entity"}
"""The annotated types whose values are the id of a record of a kind."""

Loc = tuple
"""A path inside a record: field names and list indexes, e.g. ``("reports", 0, "source")``."""


@dataclass(frozen=True)
class Step:
    """What one field of a model holds, for the walk."""

    field: str
    many: bool
    """A list of values rather than one."""
    reference: Optional[str] = None
    """The kind it refers to, for a reference field."""
    vocabulary: Optional[str] = None
    """The vocabulary of its terms, for a term field."""
    model: Optional[type[Record]] = None
    """The nested model, for a field holding records."""


def _inner(annotation: Any) -> tuple[Any, bool]:
    """The annotation behind Optional and list, and whether it was a list."""
    many = False
    while True:
        origin = typing.get_origin(annotation)
        if origin in (Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            annotation = args[0]
        elif origin is list:
            many, annotation = True, typing.get_args(annotation)[0]
        else:
            return annotation, many


@functools.cache
def steps(model: type[Record], root: bool = False) -> tuple[Step, ...]:
    """The fields of ``model`` that hold references, terms or nested records that hold some.

    ``root`` marks a record kind's own model, whose ``id`` is its identity, not a reference.
    A nested model with none at any depth (a claim's quantities, a report's figures) is left
    out: the walks need not visit its records.
    """
    _FINDING.add(model)
    try:
        return _steps(model, root)
    finally:
        _FINDING.discard(model)


_FINDING: set[type] = set()
"""The models whose steps are being found, for a model nested in itself."""


def _steps(model: type[Record], root: bool) -> tuple[Step, ...]:
    out = []
    hints = typing.get_type_hints(model, include_extras=True)  # keeps Annotated, unlike model_fields
    for name in model.model_fields:
        annotation, many = _inner(hints[name])
        if isinstance(annotation, type) and issubclass(annotation, Record):
            # A model nested in one whose steps are being found (in itself) is taken to hold some.
            if annotation in _FINDING or steps(annotation):
                out.append(Step(name, many, model=annotation))
            continue
        if root and name == "id":
            continue
        for ref_type, kind in REFERENCE_TYPES.items():
            if annotation == ref_type:
                out.append(Step(name, many, reference=kind))
                break
        else:
            vocab = _vocabulary(annotation)
            if vocab:
                out.append(Step(name, many, vocabulary=vocab))
    return tuple(out)


def _vocabulary(annotation: Any) -> Optional[str]:
    """The vocabulary of a term type (``Annotated[str, InVocabulary(...)]``), else None."""
    extras = typing.get_args(annotation)[1:] if typing.get_origin(annotation) is typing.Annotated else ()
    return next((m.vocabulary for m in extras if isinstance(m, InVocabulary)), None)


def _walk(record: Record) -> Iterator[tuple[Loc, Step, Any]]:
    """Every (location, step, value) of references and terms in a record, in field order."""
    todo: list[tuple[Loc, Record, bool]] = [((), record, True)]
    k = 0
    while k < len(todo):  # breadth first: a queue read by position
        loc, node, root = todo[k]
        k += 1
        for step in steps(type(node), root):
            value = getattr(node, step.field)
            if value is None:
                continue
            if not step.many:
                here = loc + (step.field,)
                if step.model is not None:
                    todo.append((here, value, False))
                else:
                    yield here, step, value
                continue
            for i, v in enumerate(value):
                here = loc + (step.field, i)
                if step.model is not None:
                    todo.append((here, v, False))
                else:
                    yield here, step, v


def uses(record: Record) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The references (kind, id) and the term uses (vocabulary, term) of a record, in one walk
    that keeps no location: where one needs reporting, ``references`` and ``term_uses`` say where."""
    refs: list[tuple[str, str]] = []
    terms: list[tuple[str, str]] = []
    todo: list[tuple[Record, bool]] = [(record, True)]
    while todo:
        node, root = todo.pop()
        for step in steps(type(node), root):
            value = getattr(node, step.field)
            if value is None:
                continue
            for v in (value if step.many else (value,)):
                if step.model is not None:
                    todo.append((v, False))
                elif step.reference:
                    refs.append((step.reference, v))
                elif step.vocabulary:
                    terms.append((step.vocabulary, v))
    return refs, terms


class Uses:
    """The references (kind, id) and term uses (vocabulary, term) of many records, gathered as
    each record is made, while it is fresh in memory (at 100,000 claims, walking every record
    again once all are made costs twice as much: each is fetched from memory anew)."""

    def __init__(self) -> None:
        self.refs: set[tuple[str, str]] = set()
        self.terms: set[tuple[str, str]] = set()

    def add(self, record: Record) -> list[tuple[str, str]]:
        """Gather a record's references and term uses; returns its references, as ``uses`` does."""
        refs, terms = uses(record)
        self.refs.update(refs)
        self.terms.update(terms)
        return refs

    def update(self, other: "Uses") -> None:
        self.refs |= other.refs
        self.terms |= other.terms


def references(record: Record) -> Iterator[tuple[Loc, str, str]]:
    """Every reference a record makes: (location, kind referred to, id)."""
    for loc, step, value in _walk(record):
        if step.reference:
            yield loc, step.reference, value


def term_uses(record: Record) -> Iterator[tuple[Loc, str, str]]:
    """Every vocabulary term a record uses: (location, vocabulary, term)."""
    for loc, step, value in _walk(record):
        if step.vocabulary:
            yield loc, step.vocabulary, value


def vocabulary_of(model: type[Record], loc: Iterable) -> Optional[str]:
    """The vocabulary of the term field at ``loc`` inside a record of ``model``, if it is one."""
    current: Optional[type[Record]] = model
    parts = [p for p in loc if not isinstance(p, int)]
    for i, part in enumerate(parts):
        step = next((s for s in steps(current, i == 0) if s.field == part), None) if current else None
        if step is None:
            return None
        if i == len(parts) - 1:
            return step.vocabulary
        current = step.model
    return None


# --- lineage ------------------------------------------------------------------------------


def lineage_edges(source: Source) -> Iterator[tuple[Loc, str]]:
    """A source's lineage edges (derived_from, then attributes_to): (location, target id)."""
    for i, d in enumerate(source.derived_from):
        yield ("derived_from", i, "source"), d.source
    for i, s in enumerate(source.attributes_to):
        yield ("attributes_to", i), s


class Lineage:
    """The origins of sources, reports and claims, walked once over ``derived_from``.

    Five reprints of one wire story have one origin, the wire story: ``derived_from`` is
    followed to the sources that derive from none. A source that derives from nothing is its
    own origin. Unknown sources and cycles (refused by validation) end the walk where met.
    """

    def __init__(self, sources: Mapping[str, Source]):
        self.sources = sources
        self._roots: dict[str, list[str]] = {}

    def roots(self, source_id: str) -> list[str]:
        """The root origins of a source, sorted."""
        if source_id not in self._roots:
            found, seen, todo = set(), {source_id}, [source_id]
            while todo:
                s = self.sources.get(todo.pop())
                parents = [d.source for d in s.derived_from] if s else []
                if s is not None and not parents:
                    found.add(s.id)
                for p in parents:
                    if p not in seen:
                        seen.add(p)
                        todo.append(p)
            self._roots[source_id] = sorted(found) or [source_id]
        return self._roots[source_id]

    def report_origins(self, report: Report) -> list[str]:
        """The origins of one report: its passage's own lineage when given, else its source's."""
        lineage = report.derived_from
        if len(lineage) < 2:  # most reports: one source's roots, already sorted and distinct (a copy)
            return list(self.roots(lineage[0] if lineage else report.source))
        return sorted({root for s in lineage for root in self.roots(s)})

    def claim_origins(self, claim: Claim, reports: Optional[Iterable[Report]] = None) -> list[str]:
        """The origins of a claim's reports (all of them, or those given)."""
        chosen = claim.reports if reports is None else reports
        return sorted({root for r in chosen for root in self.report_origins(r)})


def cycles(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """The strongly connected components of ``graph`` that are cycles (a self-loop included),
    each sorted; found iteratively with Tarjan's algorithm, in a stable order."""
    # A node with no edge out is in no cycle, nor is an edge to it: most nodes, left out at once
    # (which changes neither the cycles found nor their order).
    going = {node for node, targets in graph.items() if targets}
    edges = {node: [t for t in graph[node] if t in going] for node in going}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: list[list[str]] = []
    counter = 0
    for start in sorted(edges):
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
            if i < len(edges[node]):
                work.append((node, i + 1))
                nxt = edges[node][i]
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
                if len(comp) > 1 or node in edges[node]:
                    out.append(sorted(comp))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return out
