"""A record's outline: what the rules across records read of it, for a run that keeps no records.

``validate`` of a whole repository reports problems and keeps nothing: holding every claim and
source as its model only for the rules across records costs about 5 kB a claim (0.8 GiB at
100,000 claims). Once a record is validated and checked on its own, and what it refers to and
uses is gathered (``graph.Uses``), the rules across records read only a few of its fields: its
id; a claim's statement, status, entities, links, withdrawal and the sources its reports cite
(``check.similar``, the cycles of ``check.rules``, ``check.quotes`` for a missing archived text);
a source's lineage (``check.rules``), and its publisher and publication date, which a build reads
of every source for every claim (``package.drift``, ``package.tables``: a build streams the claims
and sources whole, a few at a time, and keeps the sources' outlines for the lineage). An outline
holds those fields under the model's names, as the model's own values, and nothing else.

A record whose every field a rule may read is kept whole instead (``outline``): a claim with
a report from a source whose text is archived (``check.quotes`` and ``check.coverage`` read its
quotes), and such a source itself (its ledger and hash). A rule that walks a whole record (a
reference to no record, a term that is not live) reads the file again (``repo.load.whole``).
"""

from __future__ import annotations

import sys
from typing import Any, NamedTuple, Optional, Union

from reported_claims.model.records import Claim, ClaimLink, Record, Source, Withdrawal


class Cited(NamedTuple):
    """Of a claim's report, or of a source's derivation: the source it cites."""

    source: str

    def __reduce__(self) -> Any:
        return shared, (Cited, self.source)


class Derived(NamedTuple):
    """Of a source's ``derived_from``: the source it derives from, and how."""

    source: str
    relation: str

    def __reduce__(self) -> Any:
        return shared, (Derived, self.source, self.relation)


class About(NamedTuple):
    """Of a claim's entities: the entity it is about."""

    entity: str

    def __reduce__(self) -> Any:
        return shared, (About, self.entity)


_SHARED: dict[tuple, Any] = {}


def shared(kind: type, *values: str) -> Any:
    """The one ``kind(*values)`` (``Cited``, ``Derived``, ``About``) of this process, also where
    one is unpickled: many reports cite the same source, many claims are about the same entity."""
    key = (kind, *values)
    made = _SHARED.get(key)
    if made is None:
        made = _SHARED[key] = kind(*values)
    return made


class ClaimOutline(NamedTuple):
    id: str
    statement: str
    status: str
    entities: tuple[About, ...]
    links: list[ClaimLink]
    withdrawal: Optional[Withdrawal]
    reports: tuple[Cited, ...]


class SourceOutline(NamedTuple):
    id: str
    derived_from: tuple[Derived, ...]
    attributes_to: list[str]
    publisher: Optional[str]
    published: Optional[str]


Outlined = Union[Record, ClaimOutline, SourceOutline]


def outline(record: Record, archived: frozenset[str]) -> Outlined:
    """``record``'s outline, or the record itself where it has none (entities and vocabularies:
    few, and small) or where a rule may read more of it: a claim reporting from, or a source that
    is, one of the ``archived`` sources (those whose text is archived)."""
    if type(record) is Claim and not any(r.source in archived for r in record.reports):
        return ClaimOutline(record.id, record.statement, record.status,
                            tuple(shared(About, e.entity) for e in record.entities), record.links,
                            record.withdrawal, tuple(shared(Cited, r.source) for r in record.reports))
    if type(record) is Source and record.id not in archived:
        return SourceOutline(record.id, tuple(shared(Derived, d.source, d.relation) for d in record.derived_from),
                             record.attributes_to, record.publisher and sys.intern(record.publisher),
                             record.published)
    return record
