"""Drift as data: each report compared with the text it derives from, one row per difference."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import REPO
from reported_claims.model.records import Derivation, Figure, Report, Source
from reported_claims.package import drift, tables
from reported_claims.package.build import csv_text
from reported_claims.repo.load import load

MICRO = "clm-china-share-russian-microelectronics-2023"
TOOLS = "clm-china-share-russian-machine-tool-imports-2023-q4"
CHIPS = "clm-russia-semiconductor-imports-from-china-2021-2022"
WSJ_REWRITE = "src-china-russia-joined-forces-military-production"
SENTINEL = "src-sentinel-assam-china-plays-backstop"
ICARO = "src-icaro-china-support-raises-concerns"
AP_REPRINT = "src-intl-identities-surging-equipment-sales"
AP = "src-ap-china-surges-sales-to-russia"


@pytest.fixture(scope="module")
def dataset():
    ds, _ = load(REPO)
    return ds


def table(dataset, claim_id):
    """(source, kind, field, quantity, before, after, compared_with, first_source) of each row."""
    return [(d.source_id, d.kind, d.field, d.quantity_id, d.before, d.after, d.compared_with, d.first_source_id)
            for d in drift.claim_drifts(dataset.claims[claim_id], dataset.sources)]


def test_microelectronics_share(dataset):
    # The AP text (reprinted, rewritten by ICARO, cited by the article on AP and Bloomberg) keeps
    # "about"; the WSJ text was not seen, so its rewrite and Sentinel Assam (which derives from
    # nothing recorded) are compared with the claim.
    officials = "two senior Biden administration officials (anonymous-officials)"
    assert table(dataset, MICRO) == [
        (WSJ_REWRITE, "hedge-dropped", "hedge", "china-share", "about 90%", "a staggering 90%", "claim", WSJ_REWRITE),
        (WSJ_REWRITE, "scope-changed", "share_of", "china-share", "Russia's microelectronics",
         "Russia’s microelectronics imports", "claim", WSJ_REWRITE),
        (WSJ_REWRITE, "scope-changed", "terms", None, "microelectronics", "microelectronics imports", "claim",
         WSJ_REWRITE),
        (WSJ_REWRITE, "attribution-changed", "attribution", None, officials,
         "recently declassified intelligence (intelligence)", "claim", WSJ_REWRITE),
        (SENTINEL, "hedge-dropped", "hedge", "china-share", "about 90%", "90 per cent", "claim", SENTINEL),
        (SENTINEL, "scope-changed", "share_of", "china-share", "Russia's microelectronics",
         "computer chips imported by Russia", "claim", SENTINEL),
        (SENTINEL, "scope-changed", "terms", None, "microelectronics", "computer chips", "claim", SENTINEL),
        (SENTINEL, "attribution-dropped", "attribution", None, officials, None, "claim", SENTINEL),
    ]


def test_machine_tool_share(dataset):
    # ICARO and Sentinel Assam derive from the AP story, whose text is its reprint's; the WSJ
    # rewrite has "over 70%" and "nearly $900 million" against the claim's "nearly" and "about".
    assert table(dataset, TOOLS) == [
        (ICARO, "hedge-dropped", "hedge", "total-imports", "about $900 million", "$900 million", AP_REPRINT, ICARO),
        (WSJ_REWRITE, "hedge-changed", "hedge", "china-share", "nearly 70%", "over 70%", "claim", WSJ_REWRITE),
        (WSJ_REWRITE, "hedge-changed", "hedge", "total-imports", "about $900 million", "nearly $900 million",
         "claim", WSJ_REWRITE),
        (WSJ_REWRITE, "attribution-changed", "attribution", None,
         "two senior Biden administration officials (anonymous-officials)", "Recent disclosures (intelligence)",
         "claim", WSJ_REWRITE),
        (SENTINEL, "hedge-dropped", "hedge", "total-imports", "about $900 million", "USD 900 million", AP_REPRINT,
         SENTINEL),
        (SENTINEL, "attribution-changed", "attribution", None,
         "Two senior Biden administration officials (anonymous-officials)", "US officials (unnamed-officials)",
         AP_REPRINT, SENTINEL),
    ]


def test_semiconductor_imports(dataset):
    # "$200 million" and "over $500 million" reach Sentinel Assam as "USD200 million" and "more
    # than USD500 million": other words, the same figures, so no figure row. What drifts is who
    # says so: ICARO makes the customs analysis "The U.S. assessment", Sentinel Assam says it itself.
    frf = "Russian customs data analyzed by the Free Russia Foundation (data-analysis)"
    assert table(dataset, CHIPS) == [
        (ICARO, "attribution-changed", "attribution", None, frf, "The U.S. assessment (intelligence)", AP_REPRINT,
         ICARO),
        (SENTINEL, "attribution-dropped", "attribution", None, frf, None, AP_REPRINT, SENTINEL),
    ]


def test_modality_compared_with_the_reprinted_text(dataset):
    claim = dataset.claims["clm-chinese-companies-nitrocellulose-for-russian-ammunition"]
    rows = [(d.source_id, d.kind, d.before, d.after) for d in drift.claim_drifts(claim, dataset.sources)]
    assert rows == [(ICARO, "modality-changed", "are likely", "are also believed")]


def _with_report(dataset, claim_id, report, *new_sources):
    claim = dataset.claims[claim_id]
    claim = claim.model_copy(update={"reports": [*claim.reports, report]})
    sources = {**dataset.sources, **{s.id: s for s in new_sources}}
    return claim, sources


def _source(sid, *derived):
    return Source(id=sid, kind="news-article", title="t", seen=False,
                  derived_from=[Derivation(source=s, relation=r) for s, r in derived])


def test_a_reprint_is_compared_with_what_it_reprints(dataset):
    reprint = _source("src-reprint-of-wsj-rewrite", (WSJ_REWRITE, "reprint"))
    wsj = dataset.claims[TOOLS].reports[2]
    same = wsj.model_copy(update={"source": reprint.id})
    claim, sources = _with_report(dataset, TOOLS, same, reprint)
    assert drift.report_drifts(claim, same, sources) == []
    changed = same.model_copy(update={"figures": [wsj.figures[0], Figure(
        quantity="total-imports", text="$1 billion", value=1e9, unit="USD")]})
    claim, sources = _with_report(dataset, TOOLS, changed, reprint)
    assert [(d.kind, d.quantity_id, d.before, d.after, d.compared_with)
            for d in drift.report_drifts(claim, changed, sources)] == [
        ("value-changed", "total-imports", "nearly $900 million", "$1 billion", WSJ_REWRITE),
        ("hedge-dropped", "total-imports", "nearly $900 million", "$1 billion", WSJ_REWRITE),
    ]


def test_first_source_is_furthest_up_the_lineage(dataset):
    # An unseen rewrite of ICARO, rewritten again: no report of the middle text, so the last one
    # is compared with the claim; the dropped "about" first appears in ICARO, two steps up.
    middle = _source("src-unseen-rewrite-of-icaro", (ICARO, "rewrite"))
    last = _source("src-rewrite-of-the-rewrite", (middle.id, "rewrite"))
    icaro = dataset.claims[TOOLS].reports[1]
    report = icaro.model_copy(update={"source": last.id})
    claim, sources = _with_report(dataset, TOOLS, report, middle, last)
    assert [(d.kind, d.quantity_id, d.compared_with, d.first_source_id)
            for d in drift.report_drifts(claim, report, sources)] == [
        ("hedge-dropped", "total-imports", "claim", ICARO),
    ]


def test_own_voice_claims_drop_no_attribution(dataset):
    # Both articles state the forecast themselves: neither drops an attribution it never had.
    claim = dataset.claims["clm-blinken-expected-to-address-china-support-visit"]
    assert [d.kind for d in drift.claim_drifts(claim, dataset.sources)] == []


def test_render():
    assert drift.render(90, "percent", "about") == "about 90%"
    assert drift.render(900_000_000, "USD", "exact") == "$900 million"
    assert drift.render(1.5e9, "EUR", "over") == "over EUR 1.5 billion"
    assert drift.render(3, "times", "up-to") == "up to 3 times"
    assert drift.render(12000, "count", "at-least") == "at least 12,000"


def test_count_matches_rows(dataset):
    """claims.drift_count and the rows of report_drift come from one finding per claim; the rows
    are numbered from 0 within each report."""
    from reported_claims.package.build import context

    ctx = context(dataset)
    rows = list(tables.table("report_drift").rows(ctx))
    for claim in dataset.claims.values():
        mine = [r for r in rows if r["claim_id"] == claim.id]
        assert ctx.claim_facts[claim.id]["drift_count"] == len(mine) == len(drift.claim_drifts(claim, dataset.sources))
        for source in {r["source_id"] for r in mine}:
            assert [r["position"] for r in mine if r["source_id"] == source] == list(
                range(sum(r["source_id"] == source for r in mine)))
    assert ctx.claim_facts[MICRO]["drift_count"] == 8
    assert {r["kind"] for r in rows} <= set(drift.KINDS)


def test_the_table_validates_inside_the_package(dataset):
    # The published package holds the table: the real validator checks its types, constraints,
    # primary key and foreign keys to reports and sources; its rows are what the records give.
    frictionless = pytest.importorskip("frictionless")
    from reported_claims.package.build import context

    t = tables.table("report_drift")
    descriptor = json.loads((REPO / "datapackage.json").read_text(encoding="utf-8"))
    assert "report_drift" in [r["name"] for r in descriptor["resources"]]
    report = frictionless.validate(REPO / "datapackage.json", resource_name="report_drift")
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])[:5]
    assert [c.name for c in t.columns] == ["claim_id", "source_id", "position", "kind", "field", "quantity_id",
                                           "before", "after", "compared_with", "first_source_id"]
    text = (REPO / "data" / "report_drift.csv").read_text(encoding="utf-8")
    assert text == csv_text(t, t.rows(context(dataset)))
    assert text.count("\n") == 1 + sum(len(drift.claim_drifts(c, dataset.sources)) for c in dataset.claims.values())
