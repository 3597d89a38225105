"""``reported-claims site``: the static site, built from the records, checked file by file and
in a real browser (Debian's headless Chromium; skipped with the reason where it is missing)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from conftest import REPO, copy_repo
from reported_claims.repo.load import load

CHROMIUM = Path("/usr/bin/chromium")
MICRO = "clm-china-share-russian-microelectronics-2023"
BROWSER_CLAIMS = (MICRO, "clm-china-share-russian-machine-tool-imports-2023-q4",
                  "clm-russia-semiconductor-imports-from-china-2021-2022",
                  "clm-wsj-chinese-state-defence-firms-sent-navigation-jet-parts")


def site_cli(*args: str, cwd: Path = REPO, env: dict | None = None) -> subprocess.CompletedProcess:
    """The command as a user runs it (``python -m reported_claims site``)."""
    return subprocess.run(
        [sys.executable, "-m", "reported_claims", "site", *args], cwd=cwd, capture_output=True, text=True, timeout=300, env={**os.environ, **(env or {})})


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site") / "site"
    r = site_cli("--out", str(out), "--repo", str(REPO))
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("wrote ") and str(out) in r.stdout
    return out


@pytest.fixture(scope="module")
def dataset():
    ds, _ = load(REPO)
    return ds


def files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


class Links(HTMLParser):
    """Every href and src of a page, and every id it defines."""

    def __init__(self):
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("href", "src") and value is not None:
                self.links.append(value)
            if name == "id" and value:
                self.ids.add(value)


def parse(html: str) -> Links:
    p = Links()
    p.feed(html)
    return p


def test_pages_for_every_record(built: Path, dataset):
    names = set(files(built))
    for kind, records in (("claims", dataset.claims), ("sources", dataset.sources), ("entities", dataset.entities)):
        assert {f"{kind}/{rid}.html" for rid in records} == {n for n in names if n.startswith(f"{kind}/")}
    assert {"index.html", "tables.html", "site.css", "site.js", "package/datapackage.json"} <= names


def test_every_relative_link_resolves(built: Path):
    checked = 0
    for path in sorted(built.rglob("*.html")):
        page = parse(path.read_text(encoding="utf-8"))
        for link in page.links:
            parts = urlsplit(link)
            if parts.scheme in ("http", "https"):
                continue
            assert not parts.scheme and not parts.netloc, f"{path.name}: {link} is not relative"
            target = (path.parent / unquote(parts.path)).resolve() if parts.path else path
            assert target.is_file(), f"{path.relative_to(built)}: {link} points at nothing"
            assert built.resolve() in target.parents, f"{path.relative_to(built)}: {link} leaves the site"
            if parts.fragment:
                assert parts.fragment in parse(target.read_text(encoding="utf-8")).ids, f"{link}: no such id"
            checked += 1
    assert checked > 1000


def test_byte_identical_for_the_same_records(built: Path, tmp_path: Path):
    again = tmp_path / "again"
    r = site_cli("--out", str(again), "--repo", str(REPO), env={"PYTHONHASHSEED": "12345"})
    assert r.returncode == 0, r.stderr
    first, second = files(built), files(again)
    assert first.keys() == second.keys()
    assert [n for n in first if first[n] != second[n]] == []
    # and rebuilding over a site replaces it whole, leaving no stale page behind
    (again / "claims" / "clm-stale.html").write_text("old", encoding="utf-8")
    r = site_cli("--out", str(again), "--repo", str(REPO))
    assert r.returncode == 0, r.stderr
    assert files(again) == first
    assert [p.name for p in tmp_path.iterdir()] == ["again"]


def test_downloads_carry_their_hashes(built: Path):
    page = (built / "tables.html").read_text(encoding="utf-8")
    descriptor = json.loads((REPO / "datapackage.json").read_text(encoding="utf-8"))
    for res in descriptor["resources"]:
        copied = built / "package" / res["path"]
        digest = hashlib.sha256(copied.read_bytes()).hexdigest()
        assert res["hash"] == f"sha256:{digest}"
        assert f'<a href="package/{res["path"]}" download>' in page and digest in page
        if "fields" in res.get("schema", {}):
            assert f'id="table-{res["name"]}"' in page
            for field in res["schema"]["fields"]:
                assert f"<code>{field['name']}</code>" in page
    assert hashlib.sha256((built / "package" / "datapackage.json").read_bytes()).hexdigest() in page


def test_text_is_escaped(tmp_path: Path):
    repo = copy_repo(tmp_path / "repo")
    for name in ("datapackage.json",):
        shutil.copyfile(REPO / name, repo / name)
    shutil.copytree(REPO / "data", repo / "data")
    record = repo / "records" / "claims" / f"{MICRO}.yaml"
    text = record.read_text(encoding="utf-8")
    record.write_text(text.replace("statement: About 90%", "statement: <b>About</b> & 90%"), encoding="utf-8")
    r = site_cli("--out", str(tmp_path / "out"), "--repo", str(repo))
    assert r.returncode == 0, r.stderr
    page = (tmp_path / "out" / "claims" / f"{MICRO}.html").read_text(encoding="utf-8")
    assert "<h1>&lt;b&gt;About&lt;/b&gt; &amp; 90% of Russia" in page and "<b>About" not in page
    index = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    assert "\\u003cb\\u003eabout" in index  # the embedded JSON cannot close its script element


def test_refuses_a_folder_that_is_not_a_site(tmp_path: Path):
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    r = site_cli("--out", str(tmp_path), "--repo", str(REPO))
    assert r.returncode == 1
    assert r.stderr.strip() == f"reported-claims: {tmp_path} exists and is not a site written by reported-claims: " \
                               "choose an empty or new folder for --out"
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_needs_a_built_package(tmp_path: Path):
    repo = copy_repo(tmp_path / "repo")
    r = site_cli("--out", str(tmp_path / "out"), "--repo", str(repo))
    assert r.returncode == 1 and "run `reported-claims build` first" in r.stderr and "Traceback" not in r.stderr


def test_from_the_installed_data(built: Path, tmp_path: Path):
    # Outside a repository, the installed package's data: here the checkout's built package,
    # the same records, so the same site.
    out = tmp_path / "out"
    r = site_cli("--out", str(out), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert files(out) == files(built)


# --- in a browser -------------------------------------------------------------------------


def chromium(*args: str) -> subprocess.CompletedProcess:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium package (apt-get install chromium) "
                    "to run the browser tests")
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run(
            [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={profile}", *args], capture_output=True, text=True, timeout=120)


def dom(page: Path, query: str = "") -> str:
    r = chromium("--dump-dom", page.as_uri() + query)
    assert r.returncode == 0, r.stderr[-2000:]
    return r.stdout


class Svg(HTMLParser):
    """The lineage drawing of a rendered page: its nodes, edges, title and description."""

    def __init__(self):
        super().__init__()
        self.nodes: list[str] = []
        self.edges: list[tuple[str, str, str]] = []
        self.links: list[str] = []
        self.svg_children: list[str] = []
        self._depth = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "svg":
            self._depth = 1
            return
        if self._depth:
            if self._depth == 1:
                self.svg_children.append(tag)
            cls = (a.get("class") or "").split()
            if tag == "g" and "node" in cls:
                self.nodes.append(a["data-source"])
            if tag == "g" and "edge" in cls:
                self.edges.append((a["data-from"], a["data-to"], a["data-relation"]))
            if tag == "a":
                self.links.append(a["href"])
            self._depth += 1

    def handle_endtag(self, tag):
        if self._depth:
            self._depth -= 1


def expected_lineage(claim, sources) -> tuple[set[str], int]:
    """The nodes and the number of edges of a claim's lineage, walked from the records here."""
    from reported_claims.model.graph import Lineage

    nodes, edges, todo = set(), set(), []
    for r in claim.reports:
        nodes.add(r.source)
        edges.update((p, r.source) for p in r.derived_from)
        todo.extend(r.derived_from or [r.source])
    while todo:
        sid = todo.pop()
        nodes.add(sid)
        for d in sources[sid].derived_from:
            edges.add((d.source, sid))
            todo.append(d.source)
    vias = {c.via for c in claim.claimants if c.via}
    origins = {o for r in claim.reports for o in Lineage(sources).report_origins(r)}
    fed = {b for _, b in edges}
    edges.update((v, o) for o in nodes - fed for v in vias if v != o and v in sources[o].attributes_to)
    assert origins <= nodes
    return nodes | vias, len(edges)


@pytest.mark.parametrize("claim_id", BROWSER_CLAIMS)
def test_claim_page_draws_its_lineage(built: Path, dataset, claim_id: str):
    page = built / "claims" / f"{claim_id}.html"
    svg = Svg()
    svg.feed(dom(page))
    nodes, edge_count = expected_lineage(dataset.claims[claim_id], dataset.sources)
    assert sorted(svg.nodes) == sorted(nodes)
    assert len(svg.edges) == edge_count
    assert svg.svg_children[:2] == ["title", "desc"]
    for href in svg.links:
        assert (page.parent / href).resolve().is_file(), href
    if claim_id == MICRO:
        assert len(svg.nodes) == 8 and len(svg.edges) == 7
        assert ("src-wsj-china-russia-military-production-2024-04",
                "src-china-russia-joined-forces-military-production", "rewrite") in svg.edges


def test_claim_page_marks_the_differences(built: Path):
    html = dom(built / "claims" / f"{MICRO}.html")
    assert '<mark title="hedge dropped (china-share): about 90% → a staggering 90%">a staggering 90%</mark>' in html
    assert "computer chips imported by Russia</mark>" in html


def test_index_filters_in_the_browser(built: Path, dataset):
    page = built / "index.html"
    plain = page.read_text(encoding="utf-8")
    assert '<form class="filters" id="filters" role="search" hidden>' in plain  # without script: all listed
    html = dom(page)
    assert 'id="filters" role="search">' in html
    assert f">{len(dataset.claims)} of {len(dataset.claims)} claims<" in html
    html = dom(page, "?q=staggering")
    shown = [c for c in dataset.claims.values()
             if any("staggering" in r.quote.casefold() for r in c.reports) or "staggering" in c.statement.casefold()]
    assert f">{len(shown)} of {len(dataset.claims)} claims<" in html
    assert f'<li id="{MICRO}">' in html
    html = dom(page, "?topic=dual-use-trade&status=reported")
    n = sum(c.topic == "dual-use-trade" and c.status == "reported" for c in dataset.claims.values())
    assert 0 < n < len(dataset.claims) and f">{n} of {len(dataset.claims)} claims<" in html


def test_screenshot_of_the_claim_page(built: Path, tmp_path_factory, request):
    folder = tmp_path_factory.getbasetemp() / "site-artifacts"
    folder.mkdir(exist_ok=True)
    shot = folder / "claim-page.png"
    r = chromium(f"--screenshot={shot}", "--window-size=1280,1600", (built / "claims" / f"{MICRO}.html").as_uri())
    assert r.returncode == 0, r.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", data[16:24]) == (1280, 1600)
    assert len(data) > 50_000  # a page of text and a drawing, not a blank one
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"site screenshot: {shot}")
