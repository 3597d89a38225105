"""Dataset on the real data: references resolved, report counts and origins as the tables give
them, search; each checked against the package's own JSON and CSV files."""

from __future__ import annotations

import csv
import json
import unicodedata

import pytest
from conftest import REPO

import reported_claims
from reported_claims.model.records import Claim, Report, Source

JOIN = "; "


@pytest.fixture(scope="module")
def data() -> reported_claims.Dataset:
    return reported_claims.dataset()


@pytest.fixture(scope="module")
def rows() -> dict[str, dict]:
    return {r["id"]: r for r in json.loads((REPO / "data" / "claims.json").read_text(encoding="utf-8"))}


@pytest.fixture(scope="module")
def table() -> dict[str, dict]:
    with (REPO / "data" / "claims.csv").open(newline="", encoding="utf-8") as f:
        return {r["id"]: r for r in csv.DictReader(f)}


def test_collections_and_lookups(data):
    assert data.version == reported_claims.__version__
    assert data.claims is reported_claims.load()
    assert data.sources.ids() == sorted(s["id"] for s in json.loads((REPO / "data" / "sources.json").read_text()))
    source = data.source("src-icaro-china-support-raises-concerns")
    assert isinstance(source, Source) and source.id == "src-icaro-china-support-raises-concerns"
    assert data.entity("ent-hikvision").name == "Hikvision"
    with pytest.raises(KeyError, match="no source with id 'src-nope'"):
        data.source("src-nope")
    with pytest.raises(KeyError, match="no entity with id 'ent-nope'"):
        data.entity("ent-nope")
    assert "topics" in data.vocabularies and data.vocabularies["topics"].terms


def test_claims_about_an_entity(data, rows):
    about = data.claims_about("ent-hikvision")
    expected = sorted(cid for cid, r in rows.items()
                      if "ent-hikvision" in [e["entity"] for e in r["entities"] + r["claimants"]])
    assert about.ids() == expected
    assert "clm-china-support-sent-through-chinese-companies" in about
    # a claimant counts as much as an entity the claim is about
    claimant = rows["clm-china-denies-lethal-support-to-russia"]["claimants"][0]["entity"]
    assert "clm-china-denies-lethal-support-to-russia" in data.claims_about(claimant)
    with pytest.raises(KeyError, match="ent-nope"):
        data.claims_about("ent-nope")


def test_reports_of_a_source(data, rows):
    source = "src-icaro-china-support-raises-concerns"
    pairs = data.reports_of(source)
    expected = [(cid, i) for cid in sorted(rows) for i, r in enumerate(rows[cid]["reports"]) if r["source"] == source]
    assert [(c.id, c.reports.index(r)) for c, r in pairs] == expected
    assert len(pairs) > 10
    assert all(isinstance(c, Claim) and isinstance(r, Report) and r.source == source for c, r in pairs)
    with pytest.raises(KeyError, match="src-nope"):
        data.reports_of("src-nope")


def test_report_counts_and_origins_are_the_tables(data, table):
    for claim in data.claims:
        row = table[claim.id]
        assert data.report_count(claim) == int(row["report_count"]), claim.id
        origins = data.origins(claim)
        assert all(isinstance(s, Source) for s in origins)
        assert JOIN.join(s.id for s in origins) == row["origins"], claim.id
    assert data.origins("clm-china-denies-lethal-support-to-russia") == \
        data.origins(data.claims["clm-china-denies-lethal-support-to-russia"])
    with pytest.raises(KeyError, match="clm-nope"):
        data.report_count("clm-nope")


def _plain(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).casefold()


def test_search_finds_every_claim_holding_the_word(data, rows):
    found = data.search("Hikvision")
    expected = {cid for cid, r in rows.items()
                if "hikvision" in _plain(r["statement"] + " ".join(q["quote"] for q in r["reports"]))}
    assert {c.id for c in found} == expected
    assert "clm-chinese-firms-optical-components-russian-armoured-vehicles" in expected
    # those naming it in their statement first
    in_statement = ["hikvision" in _plain(c.statement) for c in found]
    assert in_statement == sorted(in_statement, reverse=True)


def test_search_ignores_case_and_accents_and_needs_every_word(data):
    assert data.search("HÍKVÍSÍON") == data.search("hikvision")
    both = data.search("drone engines")
    assert both and all(c in data.search("drone") and c in data.search("engines") for c in both)
    assert len(both) < len(data.search("drone"))
    assert data.search("hikvision zzyzx") == []
    with pytest.raises(ValueError, match="give one or more words"):
        data.search(" ... ")


def test_a_word_finds_the_words_it_begins(data):
    assert {c.id for c in data.search("drones")} <= {c.id for c in data.search("drone")}
    assert len(data.search("drone")) > len(data.search("drones"))
