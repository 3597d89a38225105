"""How a claim's wording drifted as it travelled from source to source, as rows of data.

Each report is compared with the text it derives from: following ``reports[].derived_from``,
else its source's ``derived_from``, to the report of the same claim from that upstream source.
A source that reprints the upstream one (``relation: reprint``, the same text) stands for it,
so a rewrite of a wire story known only from a reprint is compared with that reprint. Where
the upstream text was not seen at all, or a report derives from nothing, it is compared with
the claim: its normalised quantities, its act and its claimants' attribution. Each difference
is one row: its kind, the field, the value before and after as written, and the source along
the lineage where the new value first appears.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Callable, Hashable, Iterable, Iterator, Mapping, Optional

from reported_claims.model.records import Claim, Claimant, Figure, Report, Source

KINDS = (
    "hedge-changed", "hedge-dropped", "value-changed", "unit-changed", "scope-changed",
    "attribution-changed", "attribution-dropped", "modality-changed", "act-changed", "period-changed",
)
"""The kinds of difference (the ``kind`` column's values)."""
CLAIM = "claim"
"""``compared_with`` of a report compared with the claim itself (no upstream text was seen)."""

OWN_VOICE = "news-organisation"
"""The attribution kind of a claim stated in an article's own voice."""

HEDGE_WORDS = {"exact": "", "about": "about", "nearly": "nearly", "over": "over", "at-least": "at least",
               "under": "under", "up-to": "up to"}


# --- what one text says -------------------------------------------------------------------


@dataclass(frozen=True)
class FigureView:
    """One quantity as a text gives it, with the claim's values where the text adds none."""

    text: str
    value: float
    unit: str
    hedge: str
    share_of: Optional[str]
    compared_to: Optional[str]
    period: Optional[str]


@dataclass(frozen=True)
class View:
    """What one text (a report, or the claim standing for an unseen text) says of the claim."""

    figures: dict[str, FigureView]
    terms: tuple[str, ...]
    attribution: Optional[str]
    """The attribution kind, None where the text states the claim in its own voice."""
    attributed_to: Optional[str]
    act: str
    modality: Optional[str]
    modality_text: Optional[str]
    modality_known: bool
    """False for the claim, which records no modality of its own."""


def render(value: float, unit: str, hedge: str) -> str:
    """A normalised figure in words: ``about 90%``, ``over $500 million``, ``3 times``."""
    def number(x: float) -> str:
        for size, word in ((1e12, "trillion"), (1e9, "billion"), (1e6, "million")):
            if x >= size:
                return f"{x / size:g} {word}"
        return f"{x:,.0f}" if float(x).is_integer() else f"{x:,g}"

    if unit == "percent":
        text = f"{value:g}%"
    elif unit == "times":
        text = f"{value:g} times"
    elif unit == "count":
        text = number(value)
    elif unit == "USD":
        text = f"${number(value)}"
    else:
        text = f"{unit} {number(value)}"
    return f"{HEDGE_WORDS[hedge]} {text}".strip()


def _claim_figures(claim: Claim) -> dict[str, FigureView]:
    return {q.id: FigureView(render(q.value, q.unit, q.hedge), q.value, q.unit, q.hedge, q.share_of,
                             q.compared_to, q.period or claim.period) for q in claim.quantities}


def _baseline_claimant(claim: Claim, report: Report, sources: Mapping[str, Source]) -> Claimant:
    """The claimant a report is compared with when no upstream text was seen.

    The report's own claimant, unless that is the publisher speaking in its own voice: then
    the first other claimant who made the claim somewhere (a ``via``) or is not a news
    organisation, whom the publisher repeats without saying so. Another article that makes
    the claim in its own voice is no such claimant.
    """
    source = sources.get(report.source)
    publisher = source.publisher if source else None
    own = next((c for c in claim.claimants if c.entity == report.claimant), claim.claimants[0])
    if own.entity != publisher:
        return own
    return next((c for c in claim.claimants
                 if c.entity != publisher and (c.via or c.attribution != OWN_VOICE)), own)


def claim_view(claim: Claim, report: Report, sources: Mapping[str, Source],
               figures: Optional[dict[str, FigureView]] = None) -> View:
    """What the claim says, as the text a report is compared with when no upstream was seen
    (``figures``: the claim's ``_claim_figures``, when already made)."""
    c = _baseline_claimant(claim, report, sources)
    source = sources.get(report.source)
    own_voice = source is not None and c.entity == source.publisher
    return View(figures if figures is not None else _claim_figures(claim), tuple(claim.items),
                None if own_voice else c.attribution, c.description, claim.act, None, None, modality_known=False)


def _figure(claim_figure: FigureView, f: Figure) -> FigureView:
    return FigureView(f.text, f.value, f.unit, f.hedge, f.share_of or claim_figure.share_of,
                      f.compared_to or claim_figure.compared_to, f.period or claim_figure.period)


def report_view(claim: Claim, report: Report, base: Optional[dict[str, FigureView]] = None) -> View:
    """What one report says: its own figures and words, the claim's where it gives none
    (``base``: the claim's ``_claim_figures``, when already made; it is not changed)."""
    figures = dict(base) if base is not None else _claim_figures(claim)
    for f in report.figures:
        figures[f.quantity] = _figure(figures[f.quantity], f)
    return View(figures, tuple(report.terms) or tuple(claim.items),
                None if report.attribution_mode == "none" else report.attribution, report.attributed_to,
                report.act or claim.act, report.modality, report.modality_text, modality_known=True)


# --- the aspects compared -----------------------------------------------------------------


def _norm(text: Optional[str]) -> Optional[str]:
    """Text compared regardless of case, typographic quotes and spacing."""
    if text is None:
        return None
    text = unicodedata.normalize("NFKC", text).replace("\u2019", "'").replace("\u2018", "'")
    return " ".join(text.replace("\u201c", '"').replace("\u201d", '"').casefold().split())


@dataclass(frozen=True)
class Aspect:
    """One thing compared between two texts: its key, how it is shown, and the kind of a change."""

    field: str
    quantity: Optional[str]
    key: Callable[[View], Hashable]
    shown: Callable[[View], Optional[str]]
    kind: Callable[[View, View], Optional[str]]
    """The kind of difference from the first view to the second, None when it is not one."""


def _figure_aspects(q: str) -> list[Aspect]:
    def fig(view: View) -> FigureView:
        return view.figures[q]

    text = lambda v: fig(v).text  # noqa: E731
    return [
        Aspect("value", q, lambda v: fig(v).value, text, lambda b, a: "value-changed"),
        Aspect("unit", q, lambda v: fig(v).unit, text, lambda b, a: "unit-changed"),
        Aspect("hedge", q, lambda v: fig(v).hedge, text,
               lambda b, a: "hedge-dropped" if fig(a).hedge == "exact" else "hedge-changed"),
        Aspect("share_of", q, lambda v: _norm(fig(v).share_of), lambda v: fig(v).share_of,
               lambda b, a: "scope-changed"),
        Aspect("compared_to", q, lambda v: _norm(fig(v).compared_to), lambda v: fig(v).compared_to,
               lambda b, a: "scope-changed"),
        Aspect("period", q, lambda v: fig(v).period, lambda v: fig(v).period, lambda b, a: "period-changed"),
    ]


def _attribution_kind(before: View, after: View) -> str:
    return "attribution-dropped" if after.attribution is None else "attribution-changed"


def _attribution_shown(view: View) -> Optional[str]:
    """The words of the attribution with its kind, which can change while the words stay."""
    if view.attribution is None:
        return None
    return f"{view.attributed_to} ({view.attribution})" if view.attributed_to else view.attribution


def _modality_kind(before: View, after: View) -> Optional[str]:
    return "modality-changed" if before.modality_known else None


def _joined(values: tuple[str, ...]) -> Optional[str]:
    return "; ".join(values) or None


ASPECTS_OF_REPORT = [
    Aspect("terms", None, lambda v: tuple(sorted(_norm(t) for t in v.terms)), lambda v: _joined(v.terms),
           lambda b, a: "scope-changed"),
    Aspect("attribution", None, lambda v: v.attribution, _attribution_shown, _attribution_kind),
    Aspect("act", None, lambda v: v.act, lambda v: v.act, lambda b, a: "act-changed"),
    Aspect("modality", None, lambda v: v.modality, lambda v: v.modality_text, _modality_kind),
]


def aspects(claim: Claim) -> list[Aspect]:
    """Everything compared for a claim's reports: each quantity's figure, then the report's words."""
    return [a for q in claim.quantities for a in _figure_aspects(q.id)] + ASPECTS_OF_REPORT


# --- lineage ------------------------------------------------------------------------------


def parents(report: Report, sources: Mapping[str, Source]) -> list[str]:
    """The sources a report's passage derives from: its own ``derived_from``, else its source's."""
    if report.derived_from:
        return list(report.derived_from)
    source = sources.get(report.source)
    return [d.source for d in source.derived_from] if source else []


def _stand_in(claim: Claim, upstream: str, sources: Mapping[str, Source], besides: Report) -> Optional[Report]:
    """The claim's report from ``upstream``, else from a reprint of it (the same text)."""
    for r in claim.reports:
        if r is not besides and r.source == upstream:
            return r
    for r in claim.reports:
        source = sources.get(r.source)
        if r is besides or source is None or (r.derived_from and upstream not in r.derived_from):
            continue
        if any(d.source == upstream and d.relation == "reprint" for d in source.derived_from):
            return r
    return None


def upstream_report(claim: Claim, report: Report, sources: Mapping[str, Source]) -> Optional[Report]:
    """The report of the same claim that carries the text this report derives from, if one was seen."""
    for p in parents(report, sources):
        found = _stand_in(claim, p, sources, report)
        if found is not None:
            return found
    return None


def _ancestors(report: Report, sources: Mapping[str, Source]) -> list[tuple[int, str]]:
    """(distance, source id) of every source up a report's lineage, nearest first."""
    out, seen = [], {report.source}
    level = parents(report, sources)
    distance = 1
    while level:
        nxt = []
        for sid in sorted(set(level) - seen):
            seen.add(sid)
            out.append((distance, sid))
            s = sources.get(sid)
            if s is not None:
                nxt.extend(d.source for d in s.derived_from)
        level, distance = nxt, distance + 1
    return out


# --- rows ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Drift:
    """One difference between a report and the text it derives from."""

    claim_id: str
    source_id: str
    kind: str
    field: str
    quantity_id: Optional[str]
    before: Optional[str]
    after: Optional[str]
    compared_with: str
    first_source_id: str


class _Views:
    """The aspects of one claim, and the view of each of its reports and that view's key for
    each aspect, each made once: a report is compared with its upstream one, and the reports up
    its lineage are looked at again for where a new value first appears."""

    def __init__(self, claim: Claim):
        self.claim = claim
        self.aspects = aspects(claim)
        self.figures = _claim_figures(claim)
        self._views: dict[int, tuple[View, tuple]] = {}

    def of(self, report: Report) -> tuple[View, tuple]:
        """The report's view and its key for each aspect, in the order of ``aspects``."""
        made = self._views.get(id(report))
        if made is None:
            view = report_view(self.claim, report, self.figures)
            made = self._views[id(report)] = (view, self.keys(view))
        return made

    def keys(self, view: View) -> tuple:
        return tuple([aspect.key(view) for aspect in self.aspects])  # a list first: quicker than a generator


def report_drifts(claim: Claim, report: Report, sources: Mapping[str, Source],
                  views: Optional[_Views] = None) -> list[Drift]:
    """The differences of one report from the text it derives from, in the order of ``aspects``
    (``views``: those of the claim's other reports, when they are compared too)."""
    views = views if views is not None and views.claim is claim else _Views(claim)
    upstream = upstream_report(claim, report, sources)
    if upstream:
        before, before_keys = views.of(upstream)
    else:
        before = claim_view(claim, report, sources, views.figures)
        before_keys = views.keys(before)
    after, after_keys = views.of(report)
    ancestors: Optional[list[tuple[int, str]]] = None  # looked up at the first difference
    out = []
    for i, aspect in enumerate(views.aspects):
        key = after_keys[i]
        if before_keys[i] == key:
            continue
        kind = aspect.kind(before, after)
        if kind is None:
            continue
        if ancestors is None:
            by_source = {r.source: r for r in claim.reports}
            ancestors = [(d, sid) for d, sid in _ancestors(report, sources) if sid in by_source]
            carried = {sid: views.of(by_source[sid])[1] for _, sid in ancestors}
        carriers = [(d, sid) for d, sid in ancestors if carried[sid][i] == key]
        first = max(carriers, key=lambda c: (c[0], c[1]))[1] if carriers else report.source
        out.append(Drift(claim.id, report.source, kind, aspect.field, aspect.quantity, aspect.shown(before),
                         aspect.shown(after), upstream.source if upstream else CLAIM, first))
    return out


def claim_drifts(claim: Claim, sources: Mapping[str, Source]) -> list[Drift]:
    """Every difference of every report of a claim, report by report."""
    views = _Views(claim)
    return [d for r in claim.reports for d in report_drifts(claim, r, sources, views)]


def rows(claims: Iterable[Claim], drifts: Mapping[str, list[Drift]]) -> Iterator[dict]:
    """The rows of the ``report_drift`` table, one per difference, numbered within each report,
    from each claim's ``claim_drifts``."""
    for claim in sorted(claims, key=lambda c: c.id):
        position: dict[str, int] = {}
        for d in drifts[claim.id]:
            i = position[d.source_id] = position.get(d.source_id, -1) + 1
            yield {"claim_id": d.claim_id, "source_id": d.source_id, "position": i, "kind": d.kind,
                   "field": d.field, "quantity_id": d.quantity_id, "before": d.before, "after": d.after,
                   "compared_with": d.compared_with, "first_source_id": d.first_source_id}


FIELDS = ("value", "unit", "hedge", "share_of", "compared_to", "period", "terms", "attribution", "act", "modality")
"""The report fields a difference can be in (the ``field`` column of ``report_drift``)."""
