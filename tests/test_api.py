"""The Python API: load(), Collection, data_path(), to_pandas(), the lazy top-level names."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO
from packages import edit_records, make_package

import reported_claims
from reported_claims.client import api
from reported_claims.model.records import Claim


@pytest.fixture(scope="module")
def package(tmp_path_factory) -> Path:
    pkg = make_package(tmp_path_factory.mktemp("api") / "pkg", reported_claims.__version__)

    def withdraw(rows):
        claim = rows[-1]
        claim["status"] = "withdrawn"
        claim["withdrawal"] = {"date": "2024-04-30", "reason": "A duplicate.", "replaced_by": None}

    edit_records(pkg, "claims", withdraw)
    return pkg


@pytest.fixture
def loaded(package, monkeypatch):
    """The API reading the test package, with empty caches before and after."""
    monkeypatch.setattr(api, "data_path", lambda: package)
    for f in (api.load, api.load_sources, api.load_entities):
        f.cache_clear()
    yield package
    for f in (api.load, api.load_sources, api.load_entities):
        f.cache_clear()


def test_load_returns_every_claim_validated_and_sorted(loaded):
    rows = json.loads((loaded / "data" / "claims.json").read_text())
    claims = reported_claims.load()
    assert len(claims) == len(rows) == len(list(claims))
    assert all(isinstance(c, Claim) for c in claims)
    assert claims.ids() == sorted(r["id"] for r in rows)
    assert [c.id for c in claims] == claims.ids()
    assert reported_claims.load() is claims  # loaded once


def test_get_and_getitem(loaded):
    claims = reported_claims.load()
    first = claims[0]
    assert claims[first.id] is first
    assert claims.get(first.id) is first
    assert first.id in claims
    assert claims.get("clm-no-such-claim") is None
    with pytest.raises(KeyError, match="clm-no-such-claim"):
        claims["clm-no-such-claim"]
    assert len(claims[:2]) == 2 and claims[-1] is list(claims)[-1]


def test_withdrawn_claims_are_included_and_filterable(loaded):
    claims = reported_claims.load()
    withdrawn = claims.by_status("withdrawn")
    assert len(withdrawn) == 1
    assert withdrawn[0].withdrawal.reason == "A duplicate."
    assert len(claims.filter(lambda c: c.status != "withdrawn")) == len(claims) - 1


def test_sources_and_entities(loaded):
    sources, entities = reported_claims.load_sources(), reported_claims.load_entities()
    assert len(sources) == len(json.loads((loaded / "data" / "sources.json").read_text()))
    assert len(entities) == len(json.loads((loaded / "data" / "entities.json").read_text()))
    with pytest.raises(KeyError, match="no source with id 'src-nope'"):
        sources["src-nope"]
    for claim in reported_claims.load():
        for report in claim.reports:
            assert report.source in sources


def test_to_pandas_reads_the_csv(loaded):
    frame = reported_claims.to_pandas("claims")
    assert sorted(frame["id"]) == reported_claims.load().ids()
    with pytest.raises(ValueError, match="no table 'nope'"):
        reported_claims.to_pandas("nope")


def test_missing_extra_names_the_extra(loaded, monkeypatch):
    monkeypatch.setitem(sys.modules, "polars", None)
    with pytest.raises(ImportError, match=r"pip install 'reported-claims\[polars\]'"):
        reported_claims.to_polars()


def test_data_path_in_a_checkout_is_the_repository_root():
    if not (REPO / "datapackage.json").is_file():
        with pytest.raises(FileNotFoundError, match="reported-claims build"):
            api.data_path()
    else:
        assert api.data_path() == REPO


def test_version_matches_the_package():
    assert json.loads((REPO / "datapackage.json").read_text())["version"] == reported_claims.__version__


def test_import_loads_nothing():
    code = (
        "import sys, reported_claims\n"
        "assert 'reported_claims.client.api' not in sys.modules\n"
        "assert 'pydantic' not in sys.modules\n"
        "assert callable(reported_claims.load)\n"
        "assert callable(reported_claims.download)\n"
        "from reported_claims.client import fetch\nassert fetch.DEFAULT_BASE_URL\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        reported_claims.nope
