"""The tables of the data package: their columns, keys and rows, and their Table Schemas.

Each column is either taken from a model field (type, description, pattern, length, range
and enum come from the field) or is a derived column described here. The Table Schemas under
``schema/tables/`` are generated from these definitions and inlined in ``datapackage.json``.
"""

from __future__ import annotations

import functools
import types
import typing
from dataclasses import dataclass, field
from typing import Annotated, Any, Callable, Iterable, Iterator, Literal, Optional, Union

from pydantic.fields import FieldInfo

from reported_claims.model.graph import Lineage
from reported_claims.package import drift, types as package_types
from reported_claims.model.kinds import KINDS, VOCABULARIES
from reported_claims.model.kinds import kind as kind_named
from reported_claims.model.records import (
    Claim,
    ClaimLink,
    Claimant,
    Derivation,
    Entity,
    EntityRole,
    ExternalIds,
    Figure,
    Quantity,
    Report,
    Source,
    Vocabulary,
    VocabularyTerm,
    NotRecorded,
    Withdrawal,
    attribute_docstrings,
)
from reported_claims.model.types import date_precision, period_bounds

GENERATED_NOTE = (
    "Generated from src/reported_claims/model/records.py and package/tables.py by `reported-claims build`. DO NOT EDIT."
)
JOIN = "; "
"""Separator of the convenience columns that join a list (the normalised table is the truth)."""

def vocab_table(vocabulary: str) -> str:
    """The table of a vocabulary's terms: its id with ``_`` for ``-`` (``source_kinds``)."""
    return vocabulary.replace("-", "_")


# --- columns ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    """Table Schema type: string, number, integer, boolean or date."""
    description: str
    constraints: dict = field(default_factory=dict)

    def schema(self) -> dict:
        out = {"name": self.name, "type": self.type, "description": self.description}
        if self.constraints:
            out["constraints"] = dict(self.constraints)
        return out


def _xsd(pattern: str) -> str:
    """A model regex as a Table Schema pattern: anchored implicitly, no ``(?:``."""
    return pattern.removeprefix("^").removesuffix("$").replace("(?:", "(")


def _unwrap(annotation: Any, metadata: list, description: Optional[str]) -> tuple[Any, bool, list, Optional[str]]:
    """The scalar type behind Optional, list and Annotated, with its collected constraints."""
    optional = False
    if typing.get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        optional, annotation = True, args[0]
    if typing.get_origin(annotation) is list:
        annotation = typing.get_args(annotation)[0]
    if typing.get_origin(annotation) is Annotated:
        inner = FieldInfo.from_annotation(annotation)
        metadata = metadata + list(inner.metadata)
        description = description or inner.description
        annotation = inner.annotation
    return annotation, optional, metadata, description


def docstrings(model: type) -> dict[str, str]:
    """The attribute docstrings written under a model's fields.

    ``model_fields[name].description`` prefers the description of an annotated type (every
    ``topic: Term`` would read "A term id...") to the docstring written for the field itself.
    """
    return attribute_docstrings(model)


def col(model: type, attr: str, name: Optional[str] = None, *, description: Optional[str] = None,
        required: Optional[bool] = None, **constraints: Any) -> Column:
    """A column holding ``model.attr`` (or one item of it, for a list field)."""
    info = model.model_fields[attr]
    annotation, optional, metadata, doc = _unwrap(info.annotation, list(info.metadata), info.description)
    out: dict[str, Any] = {}
    if typing.get_origin(annotation) is Literal:
        out["enum"] = list(typing.get_args(annotation))
        ctype = "string"
    else:
        ctype = package_types.of_python(annotation).name
    for m in metadata:
        if getattr(m, "pattern", None):
            out["pattern"] = _xsd(m.pattern)
        if getattr(m, "min_length", None) is not None and m.min_length > 1:
            out["minLength"] = m.min_length
        if getattr(m, "max_length", None) is not None:
            out["maxLength"] = m.max_length
        if getattr(m, "ge", None) is not None:
            out["minimum"] = m.ge
        if getattr(m, "le", None) is not None:
            out["maximum"] = m.le
    if required if required is not None else not optional:
        out["required"] = True
    out.update(constraints)
    text = description or docstrings(model).get(attr) or doc
    if not text:
        raise ValueError(f"{model.__name__}.{attr} has no docstring to describe column {name or attr}")
    return Column(name or attr, ctype, text, out)


def derived(name: str, type: str, description: str, **constraints: Any) -> Column:
    return Column(name, type, description, constraints)


def position(of: str) -> Column:
    return derived("position", "integer", f"0-based position of the {of} in the record's list.",
                   required=True, minimum=0)


def origin_column(description: str) -> Column:
    """A source id reached by following lineage: the item column of the origin tables."""
    return col(Source, "id", "origin_id", description=description, required=True)


def parent(name: str, model: type, what: str) -> Column:
    return col(model, "id", name, description=f"The {what} this row belongs to.", required=True)


PARTIAL_DATE = r"[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?"
PERIOD_BOUNDS = (
    derived("period_start", "date", "First day covered by `period` (derived)."),
    derived("period_end", "date", "Last day covered by `period` (derived)."),
)


# --- tables -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ForeignKey:
    fields: tuple[str, ...]
    resource: str
    reference: tuple[str, ...]

    def schema(self) -> dict:
        return {"fields": list(self.fields), "reference": {"resource": self.resource, "fields": list(self.reference)}}


@dataclass(frozen=True)
class Table:
    name: str
    title: str
    description: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    rows: Callable[["Context"], Iterable[dict]]
    foreign_keys: tuple[ForeignKey, ...] = ()

    def schema(self) -> dict:
        return {
            "description": GENERATED_NOTE,
            "fields": [c.schema() for c in self.columns],
            "missingValues": [""],
            "primaryKey": list(self.primary_key),
            "foreignKeys": [fk.schema() for fk in self.foreign_keys],
        }

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]


def list_table(name: str, title: str, description: str, key: tuple[Column, ...], what: str, item: Column,
               rows: Callable[["Context"], Iterable[dict]], foreign_keys: tuple[ForeignKey, ...]) -> Table:
    """A table of one list of each record: the record's ``key``, the item's position, the item."""
    return Table(name=name, title=title, description=description, columns=(*key, position(what), item),
                 primary_key=(*(c.name for c in key), "position"), rows=rows, foreign_keys=foreign_keys)


def fk(fields: str, resource: str, reference: str = "id") -> ForeignKey:
    return ForeignKey(tuple(fields.split(",")), resource, tuple(reference.split(",")))


@dataclass
class Context:
    """The records a build writes, sorted by id, with what several tables derive from them."""

    claims: list[Claim]
    sources: list[Source]
    entities: list[Entity]
    vocabularies: list[Vocabulary]
    known_sources: Optional[dict[str, Source]] = None
    """Every source the lineage of these records walks, when the tables are made for some records
    only (an incremental build, a window): the sources written are still ``sources``."""
    wholes: Optional[Callable[[list], list]] = None
    """Where the claims and sources are outlines (``model.outline``: those of a build's lean
    validation), what makes some of them whole again (``repo.load.Dataset.wholes``): the tables
    are then made a ``window`` at a time. The outlines of the sources are what the lineage and
    the drifts read of every source."""

    @classmethod
    def of(cls, claims: Iterable[Claim], sources: Iterable[Source], entities: Iterable[Entity],
           vocabularies: Iterable[Vocabulary], wholes: Optional[Callable[[list], list]] = None) -> "Context":
        key = lambda r: r.id  # noqa: E731
        return cls(sorted(claims, key=key), sorted(sources, key=key), sorted(entities, key=key),
                   sorted(vocabularies, key=key), wholes=wholes)

    def window(self, kind: str, records: list) -> "Context":
        """A context of some records of ``kind`` (``claim``, ``source``, ``entity``) of this one,
        made whole: their rows are the rows of this context's tables that are theirs, since every
        table of a kind's records is keyed first by the record's id. The lineage and its origins
        found so far are this context's."""
        made = self.wholes(records) if self.wholes is not None else records
        out = Context([], [], [], self.vocabularies, known_sources=self.source_index)
        setattr(out, kind_named(kind).plural, made)
        out.__dict__["lineage"] = self.lineage
        return out

    def table(self, kind: str) -> list:
        """The records of a kind (``claim``) that are written."""
        return getattr(self, kind_named(kind).plural)

    @property
    def count(self) -> int:
        """How many claims, sources and entities are written."""
        return len(self.claims) + len(self.sources) + len(self.entities)

    def prepare(self) -> None:
        """Find now, once, the origins of every source, which the rows of every kind draw on:
        before processes that share this context fork (``build.write_package``), so that each
        need not find them again."""
        for source_id in self.source_index:
            self.roots(source_id)

    @functools.cached_property
    def source_index(self) -> dict[str, Source]:
        return self.known_sources if self.known_sources is not None else {s.id: s for s in self.sources}

    @functools.cached_property
    def lineage(self) -> Lineage:
        """The one lineage walk (``model.graph``), over the sources written."""
        return Lineage(self.source_index)

    def roots(self, source_id: str) -> list[str]:
        """The root origins of a source (see ``model.graph.Lineage``)."""
        return self.lineage.roots(source_id)

    def report_origins(self, report: Report) -> list[str]:
        return self.lineage.report_origins(report)

    def claim_origins(self, claim: Claim) -> list[str]:
        """The origins of the reports that carry the claim (fit exact or narrower)."""
        return self.lineage.claim_origins(claim, carrying(claim))

    def primary_sources(self, claim: Claim) -> list[str]:
        """The primary sources the claimants made the claim in (their ``via``)."""
        return sorted({c.via for c in claim.claimants if c.via})

    @functools.cached_property
    def drifts(self) -> dict[str, list[drift.Drift]]:
        """Claim id -> the differences of its reports (``drift.claim_drifts``), found once for
        the claims' drift counts and the report_drift table."""
        return {c.id: drift.claim_drifts(c, self.source_index) for c in self.claims}

    @functools.cached_property
    def claim_facts(self) -> dict[str, dict]:
        """Claim id -> ``claim_derived``, computed once for the tables and the JSON that share it."""
        return {c.id: claim_derived(self, c, self.drifts[c.id]) for c in self.claims}

    @functools.cached_property
    def source_facts(self) -> dict[str, dict]:
        """Source id -> ``source_derived``, computed once for the tables and the JSON that share it."""
        return {s.id: source_derived(self, s) for s in self.sources}

    def first_reported(self, claim: Claim) -> Optional[str]:
        """The earliest publication date of the reporting sources, by the first day it may be."""
        by_id = self.source_index
        dates = [by_id[r.source].published for r in carrying(claim) if r.source in by_id]
        dates = [d for d in dates if d]
        return min(dates, key=lambda d: (period_bounds(d), -len(d))) if dates else None


def carrying(claim: Claim) -> list[Report]:
    """The reports that carry the claim (fit exact or narrower): the ones counted."""
    return [r for r in claim.reports if r.counted]


def claim_derived(ctx: Context, claim: Claim, drifts: list[drift.Drift]) -> dict:
    """What the build derives for a claim (``ClaimDerived``): one place for claims.csv and claims.json
    (``drifts``: the claim's, ``drift.claim_drifts``)."""
    counted = carrying(claim)
    origins = ctx.claim_origins(claim)
    return {"report_count": len(counted), "source_count": len({r.source for r in counted}),
            "listed_report_count": len(claim.reports) - len(counted),
            "origin_count": len(origins), "origins": origins,
            "primary_sources": ctx.primary_sources(claim),
            "drift_count": len(drifts),
            "first_reported": ctx.first_reported(claim)}


def source_derived(ctx: Context, source: Source) -> dict:
    """What the build derives for a source (``SourceDerived``): one place for sources.csv and sources.json."""
    roots = ctx.roots(source.id)
    return {"origin_count": len(roots), "origins": roots}


def _claims(ctx: Context) -> Iterator[dict]:
    for c in ctx.claims:
        start, end = period_bounds(c.period) if c.period else (None, None)
        w = c.withdrawal
        derived = ctx.claim_facts[c.id]
        yield {
            "id": c.id, "statement": c.statement, "act": c.act, "made": c.made, "topic": c.topic,
            "items": JOIN.join(c.items),
            "period": c.period, "period_start": start, "period_end": end, "status": c.status,
            "withdrawal_date": w and w.date, "withdrawal_reason": w and w.reason,
            "withdrawal_replaced_by": w and w.replaced_by, "notes": c.notes,
            **derived, "origins": JOIN.join(derived["origins"]),
            "primary_sources": JOIN.join(derived["primary_sources"]),
        }


def _list_rows(records: Callable[[Context], Iterable[tuple[dict, list]]], name: str) -> Callable[[Context], Iterator[dict]]:
    """The rows of a child table of one list per record: the record's key, a position, the item."""
    def rows(ctx: Context) -> Iterator[dict]:
        for key, items in records(ctx):
            for i, item in enumerate(items):
                yield {**key, "position": i, name: item}
    return rows


_claim_origins = _list_rows(
    lambda ctx: (({"claim_id": c.id}, ctx.claim_facts[c.id]["origins"]) for c in ctx.claims), "origin_id")
_claim_primary_sources = _list_rows(
    lambda ctx: (({"claim_id": c.id}, ctx.claim_facts[c.id]["primary_sources"]) for c in ctx.claims), "source_id")
_claim_report_origins = _list_rows(
    lambda ctx: (({"claim_id": c.id, "source_id": r.source}, ctx.report_origins(r)) for c in ctx.claims for r in c.reports),
    "origin_id")
_source_origins = _list_rows(
    lambda ctx: (({"source_id": s.id}, ctx.source_facts[s.id]["origins"]) for s in ctx.sources), "origin_id")
_claim_items = _list_rows(lambda ctx: (({"claim_id": c.id}, c.items) for c in ctx.claims), "item")
_source_authors = _list_rows(lambda ctx: (({"source_id": s.id}, s.authors) for s in ctx.sources), "author")
_entity_aliases = _list_rows(lambda ctx: (({"entity_id": e.id}, e.aliases) for e in ctx.entities), "alias")


def _claim_reports(ctx: Context) -> Iterator[dict]:
    for c in ctx.claims:
        for i, r in enumerate(c.reports):
            yield {"claim_id": c.id, "source_id": r.source, "position": i, "quote": r.quote,
                   "claimant_id": r.claimant, "attribution": r.attribution,
                   "attribution_mode": r.attribution_mode, "attributed_to": r.attributed_to,
                   "attribution_context": r.attribution_context, "fit": r.fit, "counted": r.counted,
                   "act": r.act, "modality": r.modality, "modality_text": r.modality_text,
                   "terms": JOIN.join(r.terms), "note": r.note,
                   "origins": JOIN.join(ctx.report_origins(r))}


def _report_rows(attr: str, row: Callable[[Any], dict]) -> Callable[[Context], Iterator[dict]]:
    """The rows of a table holding one list of each report, keyed by claim, source and position."""
    def rows(ctx: Context) -> Iterator[dict]:
        for c in ctx.claims:
            for r in c.reports:
                for i, item in enumerate(getattr(r, attr)):
                    yield {"claim_id": c.id, "source_id": r.source, "position": i, **row(item)}
    return rows


_claim_report_lineage = _report_rows("derived_from", lambda d: {"target_id": d})
_claim_report_figures = _report_rows("figures", lambda f: {
    "quantity_id": f.quantity, "text": f.text, "value": f.value, "unit": f.unit, "hedge": f.hedge,
    "share_of": f.share_of, "period": f.period, "compared_to": f.compared_to})
_claim_report_terms = _report_rows("terms", lambda t: {"term": t})


def _claim_claimants(ctx: Context) -> Iterator[dict]:
    for c in ctx.claims:
        for i, x in enumerate(c.claimants):
            yield {"claim_id": c.id, "position": i, "entity_id": x.entity, "attribution": x.attribution,
                   "description": x.description, "via": x.via}


def _claim_entities(ctx: Context) -> Iterator[dict]:
    for c in ctx.claims:
        for i, e in enumerate(c.entities):
            yield {"claim_id": c.id, "position": i, "entity_id": e.entity, "role": e.role}


def figures_disagree(claim: Claim, quantity: Quantity) -> bool:
    """Whether any report gives this quantity with another value, unit or hedge."""
    return any(
        (f.value, f.unit, f.hedge) != (quantity.value, quantity.unit, quantity.hedge)
        for r in claim.reports for f in r.figures if f.quantity == quantity.id
    )


def _quantities(ctx: Context) -> Iterator[dict]:
    for c in ctx.claims:
        for i, q in enumerate(c.quantities):
            start, end = period_bounds(q.period) if q.period else (None, None)
            yield {"claim_id": c.id, "id": q.id, "position": i, "measure": q.measure, "value": q.value,
                   "unit": q.unit, "compared_to": q.compared_to, "share_of": q.share_of, "hedge": q.hedge,
                   "period": q.period,
                   "period_start": start, "period_end": end,
                   "figure_count": sum(f.quantity == q.id for r in c.reports for f in r.figures),
                   "figures_disagree": figures_disagree(c, q)}


def _claim_links(ctx: Context) -> Iterator[dict]:
    for c in ctx.claims:
        for i, link in enumerate(c.links):
            yield {"claim_id": c.id, "position": i, "type": link.type, "target_id": link.claim, "note": link.note}


def _sources(ctx: Context) -> Iterator[dict]:
    for s in ctx.sources:
        derived = ctx.source_facts[s.id]
        yield {"id": s.id, "kind": s.kind, "title": s.title, "publisher": s.publisher, "url": s.url,
               "published": s.published, "published_precision": date_precision(s.published),
               "retrieved": s.retrieved, "seen": s.seen,
               "authors": JOIN.join(s.authors), "language": s.language, "text_sha256": s.text_sha256,
               "notes": s.notes, "origin_count": derived["origin_count"], "origins": JOIN.join(derived["origins"])}


ATTRIBUTES_TO = "attributes-to"


def _source_lineage(ctx: Context) -> Iterator[dict]:
    for s in ctx.sources:
        edges = [(d.source, d.relation, d.note) for d in s.derived_from]
        edges += [(t, ATTRIBUTES_TO, None) for t in s.attributes_to]
        for i, (target, relation, note) in enumerate(edges):
            yield {"source_id": s.id, "position": i, "target_id": target, "relation": relation, "note": note}


def _source_not_recorded(ctx: Context) -> Iterator[dict]:
    for s in ctx.sources:
        for i, x in enumerate(s.not_recorded):
            yield {"source_id": s.id, "position": i, "quote": x.quote, "reason": x.reason, "note": x.note}


def _entities(ctx: Context) -> Iterator[dict]:
    for e in ctx.entities:
        ids = e.ids or ExternalIds()
        yield {"id": e.id, "name": e.name, "kind": e.kind, "country": e.country, "part_of": e.part_of,
               "wikidata": ids.wikidata, "lei": ids.lei, "opensanctions": ids.opensanctions,
               "website": ids.website, "description": e.description, "aliases": JOIN.join(e.aliases)}


def _terms(vocabulary: str) -> Callable[[Context], Iterator[dict]]:
    def rows(ctx: Context) -> Iterator[dict]:
        for v in ctx.vocabularies:
            if v.id == vocabulary:
                for i, t in enumerate(v.terms):
                    yield {"id": t.id, "position": i, "label": t.label, "description": t.description,
                           "deprecated": t.deprecated}
    return rows


CLAIM_ID = ("claim_id",)
REPORT_KEY = ("claim_id", "source_id")


def _claim_tables() -> list[Table]:
    """The claims and what each claim lists: reports (with their figures, terms, lineage),
    claimants, entities, items, quantities and links."""
    claim_fk = fk("claim_id", "claims")
    report_fk = fk("claim_id,source_id", "claim_reports", "claim_id,source_id")
    claim_key = (parent("claim_id", Claim, "claim"),)
    report_key = (*claim_key, col(Report, "source", "source_id"))
    return [
        Table(
            name="claims", title="Claims",
            description="One row per claim, with counts and origins derived from its reports.",
            columns=(
                col(Claim, "id", unique=True),
                col(Claim, "statement"),
                col(Claim, "act"),
                col(Claim, "made", pattern=PARTIAL_DATE),
                col(Claim, "topic"),
                derived("items", "string", f"The claim's items joined with `{JOIN}` (convenience; see claim_items)."),
                col(Claim, "period"),
                *PERIOD_BOUNDS,
                col(Claim, "status"),
                col(Withdrawal, "date", "withdrawal_date", required=False),
                col(Withdrawal, "reason", "withdrawal_reason", required=False),
                col(Withdrawal, "replaced_by", "withdrawal_replaced_by"),
                col(Claim, "notes"),
                derived("report_count", "integer",
                        "Number of reports that carry the claim: those whose quote states it (fit `exact` or "
                        "`narrower`). Broader and partial reports are listed in claim_reports, not counted.",
                        required=True, minimum=0),
                derived("source_count", "integer", "Number of distinct sources among the counted reports.",
                        required=True, minimum=0),
                derived("listed_report_count", "integer",
                        "Number of reports listed but not counted (fit `broader` or `partial`).",
                        required=True, minimum=0),
                derived("origin_count", "integer",
                        "Number of distinct origins of the counted reports: `derived_from` is followed to the "
                        "sources that derive from none, so five reprints of one wire story count once.",
                        required=True, minimum=0),
                derived("origins", "string", f"The origins of the counted reports (source ids) joined with `{JOIN}` "
                        "(convenience; see claim_origins); empty when no report carries the claim (a withdrawn one)."),
                derived("primary_sources", "string",
                        f"The primary sources the claimants made the claim in (their `via`), joined with `{JOIN}` "
                        "(convenience; see claim_primary_sources): one briefing behind many articles shows here as one id."),
                derived("drift_count", "integer",
                        "Number of differences between the claim's reports and the texts they derive from "
                        "(see report_drift).", required=True, minimum=0),
                derived("first_reported", "string",
                        "Earliest publication date among the sources of the counted reports (`YYYY`, `YYYY-MM` or `YYYY-MM-DD`); "
                        "empty when none is dated.", pattern=PARTIAL_DATE),
            ),
            primary_key=("id",),
            rows=_claims,
            foreign_keys=(fk("topic", "topics"), fk("status", "statuses"), fk("withdrawal_replaced_by", "claims")),
        ),
        Table(
            name="claim_reports", title="Reports",
            description="One row per report: a source carrying a claim, with its quote.",
            columns=(
                parent("claim_id", Claim, "claim"),
                col(Report, "source", "source_id"),
                position("report"),
                col(Report, "quote"),
                col(Report, "claimant", "claimant_id"),
                col(Report, "attribution"),
                col(Report, "attribution_mode"),
                col(Report, "attributed_to"),
                col(Report, "attribution_context"),
                col(Report, "fit"),
                derived("counted", "boolean",
                        "Whether the report carries the claim (fit `exact` or `narrower`) and counts in the "
                        "claim's report_count and origins.", required=True),
                col(Report, "act"),
                col(Report, "modality"),
                col(Report, "modality_text"),
                derived("terms", "string",
                        f"The report's terms joined with `{JOIN}` (convenience; see claim_report_terms)."),
                col(Report, "note"),
                derived("origins", "string",
                        f"The report's origins joined with `{JOIN}` (convenience; see claim_report_origins): the roots "
                        "of its passage's `derived_from` (see claim_report_lineage), else of its source's.", required=True),
            ),
            primary_key=REPORT_KEY,
            rows=_claim_reports,
            foreign_keys=(claim_fk, fk("source_id", "sources"), fk("claimant_id", "entities"),
                          fk("attribution", "attribution_kinds"), fk("modality", "modalities")),
        ),
        Table(
            name="claim_report_figures", title="Figures",
            description="One row per figure as a report gave it.",
            columns=(
                parent("claim_id", Claim, "claim"),
                col(Report, "source", "source_id"),
                position("figure"),
                col(Figure, "quantity", "quantity_id"),
                col(Figure, "text"),
                col(Figure, "value"),
                col(Figure, "unit"),
                col(Figure, "hedge"),
                col(Figure, "share_of"),
                col(Figure, "period"),
                col(Figure, "compared_to"),
            ),
            primary_key=REPORT_KEY + ("position",),
            rows=_claim_report_figures,
            foreign_keys=(report_fk, fk("claim_id,quantity_id", "quantities", "claim_id,id")),
        ),
        list_table(
            "claim_report_terms", "Report terms",
            "One row per term a report uses for the items or parties.",
            key=report_key, what="term",
            item=col(Report, "terms", "term"),
            rows=_claim_report_terms, foreign_keys=(report_fk,),
        ),
        list_table(
            "claim_report_lineage", "Report lineage",
            "One row per source a report's passage was taken from (`reports[].derived_from`).",
            key=report_key, what="source in the report's derived_from",
            item=col(Report, "derived_from", "target_id", description="The source the passage was taken from."),
            rows=_claim_report_lineage, foreign_keys=(report_fk, fk("target_id", "sources")),
        ),
        list_table(
            "claim_report_origins", "Report origins",
            "One row per origin of a report: the roots of its passage's `derived_from`, else of its source's.",
            key=report_key, what="origin (sorted by id)",
            item=origin_column("An origin of the report: a source that derives from none."),
            rows=_claim_report_origins, foreign_keys=(report_fk, fk("origin_id", "sources")),
        ),
        Table(
            name="claim_claimants", title="Claimants",
            description="One row per claimant of a claim.",
            columns=(
                parent("claim_id", Claim, "claim"),
                position("claimant"),
                col(Claimant, "entity", "entity_id"),
                col(Claimant, "attribution"),
                col(Claimant, "description"),
                col(Claimant, "via"),
            ),
            primary_key=CLAIM_ID + ("position",),
            rows=_claim_claimants,
            foreign_keys=(claim_fk, fk("entity_id", "entities"), fk("attribution", "attribution_kinds"),
                          fk("via", "sources")),
        ),
        Table(
            name="claim_entities", title="Claim entities",
            description="One row per entity a claim is about, with its role.",
            columns=(
                parent("claim_id", Claim, "claim"),
                position("entity"),
                col(EntityRole, "entity", "entity_id"),
                col(EntityRole, "role"),
            ),
            primary_key=CLAIM_ID + ("position",),
            rows=_claim_entities,
            foreign_keys=(claim_fk, fk("entity_id", "entities"), fk("role", "roles")),
        ),
        list_table(
            "claim_items", "Claim items",
            "One row per item (good or technology) a claim is about.",
            key=claim_key, what="item",
            item=col(Claim, "items", "item"),
            rows=_claim_items, foreign_keys=(claim_fk, fk("item", "items")),
        ),
        Table(
            name="quantities", title="Quantities",
            description="One row per figure a claim states, normalised.",
            columns=(
                parent("claim_id", Claim, "claim"),
                col(Quantity, "id"),
                position("quantity"),
                col(Quantity, "measure"),
                col(Quantity, "value"),
                col(Quantity, "unit"),
                col(Quantity, "compared_to"),
                col(Quantity, "share_of"),
                col(Quantity, "hedge"),
                col(Quantity, "period", description="What time the figure is about (ISO 8601 year, quarter, "
                                                     "month, day or `START/END` interval)."),
                *PERIOD_BOUNDS,
                derived("figure_count", "integer", "Number of report figures that give this quantity.",
                        required=True, minimum=0),
                derived("figures_disagree", "boolean",
                        "True when a report gives this quantity with another value, unit or hedge.", required=True),
            ),
            primary_key=CLAIM_ID + ("id",),
            rows=_quantities,
            foreign_keys=(claim_fk,),
        ),
        list_table(
            "claim_origins", "Claim origins",
            "One row per origin of a claim's counted reports: the sources their lineage leads back "
            "to, so that reprints of one story are one origin.",
            key=claim_key, what="origin (sorted by id)",
            item=origin_column("An origin of the claim: a source that derives from none, reached from a counted report."),
            rows=_claim_origins, foreign_keys=(claim_fk, fk("origin_id", "sources")),
        ),
        list_table(
            "claim_primary_sources", "Claim primary sources",
            "One row per primary source a claim was made in: where its claimants made it (their `via`), "
            "whoever reported it.",
            key=claim_key, what="primary source (sorted by id)",
            item=col(Claimant, "via", "source_id", required=True,
                    description="A source the claimants made the claim in (a briefing, a statement)."),
            rows=_claim_primary_sources, foreign_keys=(claim_fk, fk("source_id", "sources")),
        ),
        Table(
            name="claim_links", title="Claim links",
            description="One row per typed link from a claim to another.",
            columns=(
                parent("claim_id", Claim, "claim"),
                position("link"),
                col(ClaimLink, "type"),
                col(ClaimLink, "claim", "target_id"),
                col(ClaimLink, "note"),
            ),
            primary_key=CLAIM_ID + ("position",),
            rows=_claim_links,
            foreign_keys=(claim_fk, fk("target_id", "claims")),
        ),
        Table(
            name="report_drift", title="Report drift",
            description="One row per difference between a report and the text it derives from: how a claim's "
                        "hedges, figures, scope and attribution changed as it travelled.",
            columns=(
                parent("claim_id", Claim, "claim"),
                col(Report, "source", "source_id", description="The source of the report that differs."),
                position("difference among the report's differences"),
                derived("kind", "string",
                        "What changed: `hedge-changed`, `hedge-dropped` (the figure became exact), `value-changed`, "
                        "`unit-changed`, `scope-changed` (the whole a share is of, what a multiple compares against, or "
                        "the terms), `attribution-changed`, `attribution-dropped` (stated in the writer's own voice), "
                        "`modality-changed`, `act-changed` or `period-changed`.", required=True, enum=list(drift.KINDS)),
                derived("field", "string", "The report field that differs (for a figure, the field of "
                        "`reports[].figures`; `attribution` covers its kind and mode).", required=True, enum=list(drift.FIELDS)),
                col(Figure, "quantity", "quantity_id", required=False,
                    description="For a figure, the id of the claim's quantity; empty otherwise."),
                derived("before", "string", "The value in the text compared with, as written (a figure of the claim in "
                        "words, e.g. `about 90%`); empty when it had none."),
                derived("after", "string", "The value in this report, as written; empty when it has none (a dropped "
                        "attribution or modality)."),
                derived("compared_with", "string",
                        f"The source whose report carries the text this report derives from (a reprint stands for the text "
                        f"it reprints), or `{drift.CLAIM}` where that text was not seen: then the claim's normalised quantities, "
                        "act and claimants' attribution.", required=True, pattern=f"{drift.CLAIM}|src-[a-z0-9]+(-[a-z0-9]+)*"),
                derived("first_source_id", "string",
                        "The source furthest up this report's lineage whose report already has the new value: where the "
                        "difference first appears in a text that was seen (this report's source when none before it has it).",
                        required=True),
            ),
            primary_key=("claim_id", "source_id", "position"),
            rows=lambda ctx: drift.rows(ctx.claims, ctx.drifts),
            # No foreign key on (claim_id, quantity_id): the validator refuses a composite key with an
            # empty part, and quantity_id is empty on the rows that are not about a figure.
            foreign_keys=(report_fk, fk("first_source_id", "sources")),
        ),
    ]


def _source_tables() -> list[Table]:
    """The sources, their lineage edges and their authors."""
    return [
        Table(
            name="sources", title="Sources",
            description="One row per source, with its root origins.",
            columns=(
                col(Source, "id", unique=True),
                col(Source, "kind"),
                col(Source, "title"),
                col(Source, "publisher"),
                col(Source, "url"),
                col(Source, "published", pattern=PARTIAL_DATE),
                derived("published_precision", "string", "How precise `published` is.", required=True,
                        enum=["day", "month", "year", "unknown"]),
                col(Source, "retrieved", pattern=PARTIAL_DATE),
                col(Source, "seen"),
                derived("authors", "string", f"The authors joined with `{JOIN}` (convenience; see source_authors)."),
                col(Source, "language"),
                col(Source, "text_sha256"),
                col(Source, "notes"),
                derived("origin_count", "integer", "Number of root origins: sources reached by following "
                        "`derived_from` to sources that derive from none (itself when it derives from none).",
                        required=True, minimum=1),
                derived("origins", "string", f"The root origins (source ids) joined with `{JOIN}` "
                        "(convenience; see source_origins).", required=True),
            ),
            primary_key=("id",),
            rows=_sources,
            foreign_keys=(fk("kind", "source_kinds"), fk("publisher", "entities")),
        ),
        Table(
            name="source_lineage", title="Source lineage",
            description="One row per `derived_from` edge (with its relation) and per `attributes_to` edge "
                        f"(relation `{ATTRIBUTES_TO}`).",
            columns=(
                parent("source_id", Source, "source"),
                position("edge (derived_from first, then attributes_to)"),
                col(Derivation, "source", "target_id", description="The source derived from or attributed to."),
                col(Derivation, "relation",
                    enum=list(typing.get_args(Derivation.model_fields["relation"].annotation)) + [ATTRIBUTES_TO],
                    description="How: `reprint`, `rewrite`, `summary`, `translation`, `excerpt` (derived_from), "
                                f"or `{ATTRIBUTES_TO}` (attributes_to)."),
                col(Derivation, "note"),
            ),
            primary_key=("source_id", "position"),
            rows=_source_lineage,
            foreign_keys=(fk("source_id", "sources"), fk("target_id", "sources")),
        ),
        list_table(
            "source_origins", "Source origins",
            "One row per root origin of a source: `derived_from` followed to sources that derive from none.",
            key=(parent("source_id", Source, "source"),), what="origin (sorted by id)",
            item=origin_column("A root origin of the source (the source itself when it derives from none)."),
            rows=_source_origins, foreign_keys=(fk("source_id", "sources"), fk("origin_id", "sources")),
        ),
        Table(
            name="source_not_recorded", title="Sentences not recorded",
            description="The ledger of each archived text: one row per sentence that no report quotes, with the "
                        "reason it is not recorded.",
            columns=(
                parent("source_id", Source, "source"),
                position("sentence"),
                col(NotRecorded, "quote"),
                col(NotRecorded, "reason"),
                col(NotRecorded, "note"),
            ),
            primary_key=("source_id", "position"),
            rows=_source_not_recorded,
            foreign_keys=(fk("source_id", "sources"),),
        ),
        list_table(
            "source_authors", "Source authors",
            "One row per credited author of a source.",
            key=(parent("source_id", Source, "source"),), what="author",
            item=col(Source, "authors", "author"),
            rows=_source_authors, foreign_keys=(fk("source_id", "sources"),),
        ),
    ]


def _entity_tables() -> list[Table]:
    """The entities and their aliases."""
    return [
        Table(
            name="entities", title="Entities",
            description="One row per entity: governments, agencies, companies, people...",
            columns=(
                col(Entity, "id", unique=True),
                col(Entity, "name"),
                col(Entity, "kind"),
                col(Entity, "country"),
                col(Entity, "part_of"),
                col(ExternalIds, "wikidata"),
                col(ExternalIds, "lei"),
                col(ExternalIds, "opensanctions"),
                col(ExternalIds, "website"),
                col(Entity, "description"),
                derived("aliases", "string", f"The aliases joined with `{JOIN}` (convenience; see entity_aliases)."),
            ),
            primary_key=("id",),
            rows=_entities,
            foreign_keys=(fk("kind", "entity_kinds"), fk("part_of", "entities")),
        ),
        list_table(
            "entity_aliases", "Entity aliases",
            "One row per alias of an entity.",
            key=(parent("entity_id", Entity, "entity"),), what="alias",
            item=col(Entity, "aliases", "alias"),
            rows=_entity_aliases, foreign_keys=(fk("entity_id", "entities"),),
        ),
    ]


def _vocabulary_tables() -> list[Table]:
    """One table of terms per vocabulary, in the order the model lists the vocabularies."""
    return [
        Table(
            name=vocab_table(vocabulary), title=vocabulary,
            description=f"The terms of the `{vocabulary}` vocabulary.",
            columns=(
                col(VocabularyTerm, "id", unique=True),
                position("term"),
                col(VocabularyTerm, "label"),
                col(VocabularyTerm, "description"),
                col(VocabularyTerm, "deprecated"),
            ),
            primary_key=("id",),
            rows=_terms(vocabulary),
        )
        for vocabulary in VOCABULARIES
    ]


@functools.cache
def table_kinds() -> dict[str, Optional[str]]:
    """Table name -> the kind of record each row belongs to, by the table's first key column
    (none for a vocabulary's terms): a record's rows of such a table are keyed first by its id."""
    first = {"claim_id": "claim", "source_id": "source", "entity_id": "entity"}
    plain = {k.plural: k.name for k in KINDS}
    return {t.name: first.get(t.primary_key[0]) or (plain.get(t.name) if t.primary_key[0] == "id" else None)
            for t in tables()}


@functools.cache
def tables() -> tuple[Table, ...]:
    """Every table, in package order (built on first use: nothing is computed at import)."""
    return (*_claim_tables(), *_source_tables(), *_entity_tables(), *_vocabulary_tables())


def table(name: str) -> Table:
    """The table called ``name``; KeyError when there is none."""
    for t in tables():
        if t.name == name:
            return t
    raise KeyError(f"no table {name!r}")

