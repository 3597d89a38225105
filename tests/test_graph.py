"""The reference graph comes from the model annotations: a new reference field is checked."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from hypothesis import given, settings
from hypothesis import strategies as st

from reported_claims.check import rules
from reported_claims.model import graph
from reported_claims.model.kinds import KINDS
from reported_claims.model.records import AttributionKindTerm, Record, Source
from reported_claims.model.types import EntityId, SourceId
from reported_claims.repo import reader
from reported_claims.repo.load import Dataset, Loaded


class ReviewedSource(Source):
    """A copy of the source model with two fields more, as a contributor might add them."""

    reviewed_by: Optional[SourceId] = None
    """A source that reviewed this one."""
    checkers: list[EntityId] = []
    """Who checked it."""
    checked_as: Optional[AttributionKindTerm] = None
    """How it was checked."""


TEXT = """\
id: src-new
kind: news-article
title: A new source
seen: false
reviewed_by: src-missing
checkers:
  - ent-nobody
checked_as: not-a-term
"""


def test_a_new_reference_field_is_found_and_checked_without_being_listed():
    doc = reader.parse(TEXT, "records/sources/src-new.yaml")
    record = ReviewedSource.model_validate(doc.data)
    found = set(graph.references(record))
    assert (("reviewed_by",), "source", "src-missing") in found
    assert (("checkers", 0), "entity", "ent-nobody") in found
    assert (("checked_as",), "attribution-kinds", "not-a-term") in set(graph.term_uses(record))

    item = Loaded(Path("records/sources/src-new.yaml"), doc.path, "source", doc, record)
    problems = rules.check(Dataset(Path(".")), [item])
    located = {(p.code, p.location) for p in problems}
    assert ("unknown-reference", "reviewed_by") in located
    assert ("unknown-reference", "checkers[0]") in located
    assert ("unknown-term", "checked_as") in located
    line_of = {p.location: p.line for p in problems}
    assert line_of["reviewed_by"] == 5 and line_of["checkers[0]"] == 7


def test_every_reference_and_term_field_of_the_models_is_in_the_graph():
    fields = {(k.name, s.field, s.reference or s.vocabulary) for k in KINDS for s in graph.steps(k.model, True)}
    assert ("source", "publisher", "entity") in fields
    assert ("claim", "topic", "topics") in fields
    assert ("entity", "part_of", "entity") in fields
    # a record's own id is its identity, not a reference
    assert not any(f == "id" for _, f, _ in fields)
    assert graph.vocabulary_of(KINDS[0].model, ("claimants", 0, "attribution")) == "attribution-kinds"
    assert graph.vocabulary_of(KINDS[0].model, ("statement",)) is None


def test_cycles_are_found_with_self_loops_and_nothing_else():
    g = {"a": ["b"], "b": ["c"], "c": ["a"], "d": ["d"], "e": ["a"], "f": []}
    assert graph.cycles(g) == [["a", "b", "c"], ["d"]]
    assert graph.cycles({"x": ["y"], "y": []}) == []
    # a long chain is walked without recursion
    chain = {str(i): [str(i + 1)] for i in range(50_000)}
    chain["50000"] = ["0"]
    assert len(graph.cycles(chain)[0]) == 50_001


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from("abcdefgh"), st.lists(st.sampled_from("abcdefghxy"), max_size=3), max_size=8))
def test_cycles_are_the_components_in_which_every_node_reaches_every_other(g):
    """Against the definition: u and v are in one cycle when each reaches the other (a node alone
    only by an edge to itself); edges to nodes outside the graph lead nowhere."""
    def reach(u: str) -> set[str]:
        seen, todo = set(), [t for t in g[u] if t in g]
        while todo:
            v = todo.pop()
            if v not in seen:
                seen.add(v)
                todo += [t for t in g[v] if t in g]
        return seen

    reaches = {u: reach(u) for u in g}
    expected = {frozenset({u} | {v for v in reaches[u] if u in reaches[v]}) for u in g if u in reaches[u]}
    found = graph.cycles(g)
    assert all(c == sorted(c) for c in found) and len(found) == len(expected)
    assert {frozenset(c) for c in found} == expected


class Box(Record):
    """A nested model that holds no reference or term: the walks leave it out."""

    label: str = "x"


class Pair(Record):
    """A nested model that holds a reference one level down."""

    inner: Optional["Holder"] = None


class Holder(Record):
    """A nested model with a reference of its own."""

    source: Optional[SourceId] = None


class Nesting(Record):
    id: str
    boxes: list[Box] = []
    pairs: list[Pair] = []


def test_a_nested_model_is_walked_only_if_it_may_hold_a_reference_or_a_term_at_some_depth():
    Pair.model_rebuild()
    assert [s.field for s in graph.steps(Nesting, True)] == ["pairs"]
    record = Nesting.model_validate({"id": "n", "boxes": [{}], "pairs": [{"inner": {"source": "src-a"}}, {}]})
    assert graph.uses(record) == ([("source", "src-a")], [])
    assert list(graph.references(record)) == [(("pairs", 0, "inner", "source"), "source", "src-a")]


class Tree(Record):
    """A model nested in itself: its steps are found without looping."""

    children: list["Tree"] = []
    source: Optional[SourceId] = None


def test_a_model_nested_in_itself_is_walked_to_any_depth():
    Tree.model_rebuild()
    assert [s.field for s in graph.steps(Tree)] == ["children", "source"]
    record = Tree.model_validate({"children": [{"children": [{"source": "src-deep"}]}]})
    assert graph.uses(record) == ([("source", "src-deep")], [])
