"""Where a report's differences stand in its quote, to highlight them."""

from __future__ import annotations

from typing import Iterable, Optional

from reported_claims.model.records import Report
from reported_claims.package.drift import Drift

FIGURE_TEXT = ("value", "unit", "hedge", "period")


def needles(report: Report, d: Drift) -> list[str]:
    """The words of the quote that carry a difference: the figure as printed, the new whole,
    the terms, the attribution or the modality words."""
    if d.quantity_id is not None:
        figure = next((f for f in report.figures if f.quantity == d.quantity_id), None)
        if figure is None:
            return []
        words: Optional[str] = figure.text if d.field in FIGURE_TEXT else getattr(figure, d.field, None)
        return [words] if words else []
    if d.field == "terms":
        return list(report.terms)
    if d.field == "attribution":
        return [report.attributed_to] if report.attributed_to else []
    if d.field == "modality":
        return [report.modality_text] if report.modality_text else []
    return []


def _find(quote: str, words: str) -> int:
    at = quote.find(words)
    return at if at >= 0 else quote.casefold().find(words.casefold())


def segments(report: Report, drifts: Iterable[Drift]) -> list[tuple[str, tuple[Drift, ...]]]:
    """The quote cut into plain and marked pieces, each marked one with the differences it carries."""
    spans: list[tuple[int, int, Drift]] = []
    for d in drifts:
        for words in needles(report, d):
            at = _find(report.quote, words)
            if at >= 0:
                spans.append((at, at + len(words), d))
    cuts = sorted({0, len(report.quote)} | {s for s, _, _ in spans} | {e for _, e, _ in spans})
    out: list[tuple[str, tuple[Drift, ...]]] = []
    for start, end in zip(cuts, cuts[1:]):
        here = tuple(d for s, e, d in spans if s <= start and end <= e)
        if out and bool(out[-1][1]) == bool(here):
            # neighbouring marked pieces are one mark, carrying each of their differences once
            merged = out[-1][1] + tuple(d for d in here if d not in out[-1][1])
            out[-1] = (out[-1][0] + report.quote[start:end], merged)
        else:
            out.append((report.quote[start:end], here))
    return out
