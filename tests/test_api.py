"""The Python API: load() of the bundled package, a local one and a downloaded release;
Collection and its refusals; data_path(), to_pandas(), the lazy top-level names."""

from __future__ import annotations

import csv
import doctest
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO
from packages import edit_records, make_package
from test_download import Server

import reported_claims
from reported_claims.client import api
from reported_claims.errors import ReportedClaimsError
from reported_claims.model.records import Claim
from reported_claims.package.release import write_archive

RELEASED = "9.8.7"


@pytest.fixture(autouse=True)
def _fresh():
    """Every test opens its packages anew, and leaves no package open for the next."""
    api._opened.cache_clear()
    yield
    api._opened.cache_clear()


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
def released(tmp_path, monkeypatch):
    """Release RELEASED (one claim fewer than the checkout) served on 127.0.0.1, and an empty cache."""
    pkg = make_package(tmp_path / "pkg", RELEASED)
    table = pkg / "data" / "claims.csv"
    with table.open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    with table.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\n").writerows([rows[0], *rows[2:]])
    edit_records(pkg, "claims", lambda rows: rows[1:])  # restamps the descriptor too
    server = Server(tmp_path / "served")
    assets = server.release_dir(RELEASED)
    write_archive(pkg, RELEASED, assets / f"reported-claims-{RELEASED}.zip")
    digest = hashlib.sha256((assets / f"reported-claims-{RELEASED}.zip").read_bytes()).hexdigest()
    (assets / "SHA256SUMS").write_text(f"{digest}  reported-claims-{RELEASED}.zip\n")
    monkeypatch.setenv("REPORTED_CLAIMS_BASE_URL", server.base_url)
    monkeypatch.setenv("REPORTED_CLAIMS_CACHE", str(tmp_path / "cache"))
    try:
        yield server, pkg
    finally:
        server.stop()


def test_load_returns_every_claim_validated_and_sorted(package):
    rows = json.loads((package / "data" / "claims.json").read_text())
    claims = reported_claims.load(path=package)
    assert len(claims) == len(rows) == len(list(claims))
    assert all(isinstance(c, Claim) for c in claims)
    assert claims.ids() == sorted(r["id"] for r in rows)
    assert [c.id for c in claims] == claims.ids()
    assert reported_claims.load(path=package) is claims  # loaded once
    assert reported_claims.load(path=str(package / "data" / "..")) is claims  # the same folder


def test_load_without_argument_reads_the_checkout_package():
    claims = reported_claims.load()
    assert api.data_path() == REPO
    assert claims.ids() == sorted(r["id"] for r in json.loads((REPO / "data" / "claims.json").read_text()))
    assert reported_claims.load() is claims is reported_claims.dataset().claims
    assert reported_claims.load(path=REPO) is claims


def test_load_a_version_downloads_it_once(released):
    server, pkg = released
    claims = reported_claims.load(RELEASED)
    assert claims.ids() == sorted(r["id"] for r in json.loads((pkg / "data" / "claims.json").read_text()))
    assert len(claims) == len(reported_claims.load()) - 1
    assert reported_claims.dataset(RELEASED).version == RELEASED
    assert (reported_claims.data_path(RELEASED) / "datapackage.json").is_file()
    downloads = [r for r in server.requests if r.endswith(".zip")]
    assert downloads == [f"/releases/v{RELEASED}/reported-claims-{RELEASED}.zip"]
    server.stop()
    api._opened.cache_clear()  # a new process: the cached copy is read without the network
    assert reported_claims.load_sources(RELEASED).ids() == reported_claims.load_sources().ids()
    assert len(reported_claims.to_pandas("claims", RELEASED)) == len(claims)


def test_a_version_not_published_says_so(released):
    with pytest.raises(reported_claims.DownloadError, match="HTTP 404"):
        reported_claims.load("9.9.9")


@pytest.mark.parametrize(("args", "kwargs", "message"), [
    (("v1.2.3",), {}, "leave out the leading 'v'"),
    (("1.2.3",), {"path": "."}, "give a version or a path, not both"),
])
def test_bad_arguments_are_refused(args, kwargs, message):
    with pytest.raises(ValueError, match=message):
        reported_claims.load(*args, **kwargs)


def test_a_path_that_is_no_package_names_it(tmp_path):
    with pytest.raises(ReportedClaimsError, match="no such file or folder"):
        reported_claims.load(path=tmp_path / "nope")
    with pytest.raises(ReportedClaimsError, match="no datapackage.json"):
        reported_claims.load_entities(path=tmp_path)


def test_a_release_zip_is_a_path(released, tmp_path):
    server, pkg = released
    archive = server.release_dir(RELEASED) / f"reported-claims-{RELEASED}.zip"
    assert reported_claims.load(path=archive).ids() == reported_claims.load(path=pkg).ids()


def test_get_and_getitem(package):
    claims = reported_claims.load(path=package)
    first = claims[0]
    assert claims[first.id] is first
    assert claims.get(first.id) is first
    assert first.id in claims
    assert claims.get("clm-no-such-claim") is None
    assert claims.get("clm-no-such-claim", first) is first
    with pytest.raises(KeyError, match="clm-no-such-claim"):
        claims["clm-no-such-claim"]
    assert len(claims[:2]) == 2 and claims[-1] is list(claims)[-1]


def test_withdrawn_claims_are_included_and_filterable(package):
    claims = reported_claims.load(path=package)
    withdrawn = claims.by_status("withdrawn")
    assert len(withdrawn) == 1
    assert withdrawn[0].withdrawal.reason == "A duplicate."
    assert len(claims.filter(lambda c: c.status != "withdrawn")) == len(claims) - 1


def test_filter_on_a_list_field_is_membership():
    claims = reported_claims.load()
    rows = json.loads((REPO / "data" / "claims.json").read_text())
    drones = claims.filter(items="drones")
    assert drones.ids() == sorted(r["id"] for r in rows if "drones" in r["items"])
    assert drones.ids()  # the real data has some
    both = claims.filter(topic="dual-use-trade", items="semiconductors")
    assert both.ids() == sorted(r["id"] for r in rows if r["topic"] == "dual-use-trade"
                                and "semiconductors" in r["items"])
    assert both.ids()  # the example of the docstring finds something


@pytest.mark.parametrize(("load", "field", "value", "vocabulary", "a_term"), [
    ("load", "topic", "no-such-topic", "topics", "diplomacy"),
    ("load", "status", "withdrawnn", "statuses", "withdrawn"),
    ("load", "items", "chips", "items", "semiconductors"),
    ("load_sources", "kind", "newspaper", "source-kinds", "news-article"),
    ("load_entities", "kind", "firm", "entity-kinds", "company"),
])
def test_a_value_outside_the_vocabulary_names_the_terms(load, field, value, vocabulary, a_term):
    terms = next(v for v in json.loads((REPO / "data" / "vocabularies.json").read_text()) if v["id"] == vocabulary)
    assert a_term in [t["id"] for t in terms["terms"]]
    with pytest.raises(ValueError, match=f"{value!r} is not a term of the {vocabulary} vocabulary") as info:
        getattr(reported_claims, load)().filter(**{field: value})
    assert all(t["id"] in str(info.value) for t in terms["terms"])


def test_by_status_refuses_a_misspelt_status():
    with pytest.raises(ValueError, match="'withdrawnn' is not a term of the statuses vocabulary.*withdrawn"):
        reported_claims.load().by_status("withdrawnn")
    with pytest.raises(TypeError, match="source records have no field 'status'"):
        reported_claims.load_sources().by_status("reported")


def test_an_unknown_field_names_the_fields():
    with pytest.raises(TypeError, match="claim records have no field 'colour'; the fields are: id, statement"):
        reported_claims.load().filter(colour="red")


def test_filters_keep_the_vocabularies():
    claims = reported_claims.load()
    with pytest.raises(ValueError, match="statuses vocabulary"):
        claims[:3].filter(topic="diplomacy").by_status("gone")


def test_sources_and_entities(package):
    sources, entities = reported_claims.load_sources(path=package), reported_claims.load_entities(path=package)
    assert len(sources) == len(json.loads((package / "data" / "sources.json").read_text()))
    assert len(entities) == len(json.loads((package / "data" / "entities.json").read_text()))
    with pytest.raises(KeyError, match="no source with id 'src-nope'"):
        sources["src-nope"]
    for claim in reported_claims.load(path=package):
        for report in claim.reports:
            assert report.source in sources


def test_to_pandas_reads_the_csv(package):
    frame = reported_claims.to_pandas("claims", path=package)
    assert sorted(frame["id"]) == reported_claims.load(path=package).ids()
    with pytest.raises(ValueError, match="no table 'nope'"):
        reported_claims.to_pandas("nope", path=package)


def test_missing_extra_names_the_extra(package, monkeypatch):
    monkeypatch.setitem(sys.modules, "polars", None)
    with pytest.raises(ImportError, match=r"pip install 'reported-claims\[polars\]'"):
        reported_claims.to_polars(path=package)


def test_data_path_in_a_checkout_is_the_repository_root(tmp_path):
    assert api.data_path() == REPO
    assert api.data_path(path=tmp_path) == tmp_path.resolve()


def test_package_folder_is_the_repository_else_the_bundled_one(tmp_path, monkeypatch):
    (tmp_path / "repo" / "records").mkdir(parents=True)
    (tmp_path / "repo" / "records" / "deep").mkdir()
    monkeypatch.chdir(tmp_path / "repo" / "records" / "deep")
    assert api.package_folder() == tmp_path / "repo"
    assert api.package_folder(tmp_path) == tmp_path
    monkeypatch.chdir(tmp_path)
    assert api.package_folder() == api.data_path()  # in a checkout, its root; see test_install


def test_docstring_examples_run():
    for module in (reported_claims, api):
        result = doctest.testmod(module)
        assert result.attempted and not result.failed, module.__name__


def test_version_matches_the_package():
    assert json.loads((REPO / "datapackage.json").read_text())["version"] == reported_claims.__version__


def test_import_loads_nothing():
    code = (
        "import sys, reported_claims\n"
        "assert 'reported_claims.client.api' not in sys.modules\n"
        "assert 'pydantic' not in sys.modules\n"
        "assert callable(reported_claims.load) and callable(reported_claims.dataset)\n"
        "assert callable(reported_claims.download)\n"
        "from reported_claims.client import fetch\nassert fetch.DEFAULT_BASE_URL\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        reported_claims.nope
