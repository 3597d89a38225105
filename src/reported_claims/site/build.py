"""The static site: an index of claims, a page per claim, source and entity, the tables and
their columns, and the data package to download, from Jinja2 templates.

Every link is relative and nothing is fetched from elsewhere, so the site works from
``file://`` as well as from a web server. The output depends only on the records: the same
records give byte-identical files. The site is written into a staging folder beside ``out``
and swapped in whole; ``out`` must be empty, absent, or a site written before.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections import defaultdict
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Optional

from reported_claims.errors import ReportedClaimsError, require
from reported_claims.model.records import Claim
from reported_claims.package import DATA, DESCRIPTOR
from reported_claims.package.drift import Drift, render, report_drifts
from reported_claims.site.data import Records
from reported_claims.site.layout import layout
from reported_claims.site.lineage import claim_graph
from reported_claims.site.marks import segments
from reported_claims.util.fs import fsync_dir, remove

MARKER = ".reported-claims-site"
"""A file in every generated site, so that a rebuild only ever replaces a site."""
STATIC = ("site.css", "site.js")
PACKAGE_DIR = "package"
"""Where the data package is copied for download, keeping its own layout."""


class SiteError(ReportedClaimsError):
    """The site could not be written; ``out`` is as it was."""


@dataclass(frozen=True)
class Built:
    out: Path
    pages: int
    files: int


def page_path(kind: str, rid: str) -> str:
    """The path of a record's page, relative to the site's root."""
    return f"{kind}/{rid}.html"


def short(text: Optional[str], limit: int) -> str:
    """``text`` cut to ``limit`` characters at a word, with an ellipsis when cut."""
    text = (text or "").strip("[]")
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0]
    return cut.rstrip(",;:") + "…"


def _environment():
    jinja2 = require("jinja2", "site", "the site")
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("reported_claims.site", "templates"),
        autoescape=jinja2.select_autoescape(["html", "svg", "j2"], default=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["short"] = short
    env.policies["json.dumps_kwargs"] = {"sort_keys": True, "ensure_ascii": False}
    return env


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class Site:
    """What the templates are given: the records and everything derived from them once."""

    def __init__(self, records: Records):
        self.r = records
        self.drifts: dict[tuple[str, str], list[Drift]] = {}
        self.reports_of: dict[str, list[tuple[Claim, int]]] = defaultdict(list)
        self.via_of: dict[str, list[Claim]] = defaultdict(list)
        self.claimant_of: dict[str, list[Claim]] = defaultdict(list)
        self.about: dict[str, list[tuple[Claim, str]]] = defaultdict(list)
        for claim in records.claims.values():
            for i, report in enumerate(claim.reports):
                self.drifts[claim.id, report.source] = report_drifts(claim, report, records.sources)
                self.reports_of[report.source].append((claim, i))
            for c in claim.claimants:
                self.claimant_of[c.entity].append(claim)
                if c.via:
                    self.via_of[c.via].append(claim)
            for e in claim.entities:
                self.about[e.entity].append((claim, e.role))
        self.derived_by: dict[str, list[tuple[str, str]]] = defaultdict(list)
        self.published_by: dict[str, list[str]] = defaultdict(list)
        for s in records.sources.values():
            for d in s.derived_from:
                self.derived_by[d.source].append((s.id, d.relation))
            if s.publisher:
                self.published_by[s.publisher].append(s.id)

    def claim_drifts(self, claim: Claim) -> list[Drift]:
        return [d for r in claim.reports for d in self.drifts[claim.id, r.source]]

    def quote(self, claim: Claim, report) -> list:
        return segments(report, self.drifts[claim.id, report.source])

    def drawing(self, claim: Claim) -> tuple:
        graph = claim_graph(claim, self.r.sources)
        return graph, layout(graph)

    def index(self) -> list[dict]:
        """One entry per claim for the index page's filters and search."""
        out = []
        for c in self.r.claims.values():
            entities = sorted({e.entity for e in c.entities} | {x.entity for x in c.claimants})
            out.append({"id": c.id, "topic": c.topic, "items": list(c.items), "entities": entities,
                        "status": c.status,
                        "text": " ".join([c.id, c.statement, *(r.quote for r in c.reports)]).casefold()})
        return out

    def choices(self) -> dict[str, list[tuple[str, str]]]:
        """The values the index can be filtered by, with their labels, sorted by label."""
        topics = {c.topic for c in self.r.claims.values()}
        items = {i for c in self.r.claims.values() for i in c.items}
        statuses = {c.status for c in self.r.claims.values()}
        entities = {e.entity for c in self.r.claims.values() for e in [*c.entities, *c.claimants]}
        label = lambda vocab, values: sorted(((v, self.r.label(vocab, v)) for v in values),  # noqa: E731
                                             key=lambda p: (p[1].casefold(), p[0]))
        return {"topic": label("topics", topics), "item": label("items", items),
                "entity": sorted(((e, self.r.name(e)) for e in entities), key=lambda p: (p[1].casefold(), p[0])),
                "status": label("statuses", statuses)}


def _tables(package: Path) -> tuple[list[dict], list[dict]]:
    """The tabular resources with their schemas, and every file to download with its hash."""
    descriptor = json.loads((package / DESCRIPTOR).read_text(encoding="utf-8"))
    tables, downloads = [], []
    for res in descriptor.get("resources", []):
        path = res["path"]
        digest = res.get("hash", "").removeprefix("sha256:") or _sha256(package / path)
        downloads.append({"name": res["name"], "path": f"{PACKAGE_DIR}/{path}", "bytes": res.get("bytes"),
                          "sha256": digest, "format": res.get("format")})
        if "schema" in res and "fields" in res["schema"]:
            tables.append(res)
    downloads.insert(0, {"name": "datapackage", "path": f"{PACKAGE_DIR}/{DESCRIPTOR}",
                         "bytes": (package / DESCRIPTOR).stat().st_size, "sha256": _sha256(package / DESCRIPTOR),
                         "format": "json"})
    return tables, downloads


def pages(records: Records) -> dict[str, str]:
    """Every page of the site: relative path -> HTML (the static files and package aside)."""
    if records.package is None:
        raise SiteError(f"no {DESCRIPTOR} beside {records.origin}: run `reported-claims build` first, "
                        "so that the site can list the tables and offer the package for download")
    env = _environment()
    site = Site(records)
    tables, downloads = _tables(records.package)
    version = json.loads((records.package / DESCRIPTOR).read_text(encoding="utf-8")).get("version", "")
    common = {"site": site, "r": records, "render": render, "page_path": page_path, "version": version}
    out: dict[str, str] = {}

    def put(path: str, template: str, **context) -> None:
        depth = path.count("/")
        out[path] = env.get_template(template).render(root="../" * depth, **common, **context)

    put("index.html", "index.html.j2", claims=list(records.claims.values()), choices=site.choices(),
        index=site.index())
    for claim in records.claims.values():
        graph, drawing = site.drawing(claim)
        put(page_path("claims", claim.id), "claim.html.j2", claim=claim, graph=graph, drawing=drawing)
    for source in records.sources.values():
        put(page_path("sources", source.id), "source.html.j2", source=source)
    for entity in records.entities.values():
        put(page_path("entities", entity.id), "entity.html.j2", entity=entity)
    put("tables.html", "tables.html.j2", tables=tables, downloads=downloads)
    return out


def _copy_package(package: Path, dest: Path) -> int:
    descriptor = json.loads((package / DESCRIPTOR).read_text(encoding="utf-8"))
    (dest / DATA).mkdir(parents=True)
    shutil.copyfile(package / DESCRIPTOR, dest / DESCRIPTOR)
    paths = sorted({r["path"] for r in descriptor.get("resources", [])})
    for p in paths:
        (dest / p).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(package / p, dest / p)
    return len(paths) + 1


def _check_out(out: Path) -> None:
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / MARKER).is_file())):
        raise SiteError(f"{out} exists and is not a site written by reported-claims: "
                        "choose an empty or new folder for --out")


def build(records: Records, out: Path) -> Built:
    """Write the site into ``out``, replacing a site written there before."""
    out = Path(out)
    _check_out(out)
    html = pages(records)
    staging = out.with_name(f".{out.name}.tmp-site")
    old = out.with_name(f".{out.name}.old-site")
    remove(staging)
    remove(old)
    try:
        staging.mkdir(parents=True)
        for path, text in sorted(html.items()):
            target = staging / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8", newline="\n")
        static = resources.files("reported_claims.site") / "static"
        for name in STATIC:
            (staging / name).write_bytes(static.joinpath(name).read_bytes())
        copied = _copy_package(records.package, staging / PACKAGE_DIR)
        (staging / MARKER).write_text("A site written by `reported-claims site`; rebuilt in place.\n",
                                      encoding="utf-8")
        if out.exists():
            os.replace(out, old)
        os.replace(staging, out)
        fsync_dir(out.parent)
    finally:
        remove(staging)
        if out.exists():
            remove(old)
    return Built(out, len(html), len(html) + len(STATIC) + copied + 1)

