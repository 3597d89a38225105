"""Small data packages for the diff, release and install tests.

``make_package`` copies the package built at the repository root when there is one; until the
build lands it generates one from the real records: the JSON of every record, a claims CSV and
a descriptor with inline Table Schemas, hashes and sizes. Tests then edit the copy.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
from pathlib import Path
from typing import Callable

from conftest import REPO

from reported_claims.repo.load import load


def dumps(value) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _generated(dest: Path) -> None:
    dataset, _ = load(REPO)
    data = dest / "data"
    data.mkdir(parents=True)
    for table, records in (("claims", dataset.claims), ("sources", dataset.sources),
                           ("entities", dataset.entities), ("vocabularies", dataset.vocabularies)):
        rows = [records[k].model_dump(mode="json") for k in sorted(records)]
        (data / f"{table}.json").write_text(dumps(rows), encoding="utf-8")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["id", "statement", "topic", "status"])
    for cid in sorted(dataset.claims):
        c = dataset.claims[cid]
        writer.writerow([c.id, c.statement, c.topic, c.status])
    (data / "claims.csv").write_text(out.getvalue(), encoding="utf-8")
    descriptor = {
        "$schema": "https://datapackage.org/profiles/2.0/datapackage.json",
        "name": "reported-claims",
        "title": "Reported claims",
        "licenses": [{"name": "CC-BY-4.0"}],
        "resources": [{
            "name": "claims", "path": "data/claims.csv", "format": "csv", "mediatype": "text/csv",
            "schema": {"fields": [
                {"name": "id", "type": "string", "constraints": {"required": True, "unique": True,
                                                                  "pattern": "clm-[a-z0-9-]+"}},
                {"name": "statement", "type": "string", "constraints": {"required": True}},
                {"name": "topic", "type": "string"},
                {"name": "status", "type": "string"},
            ], "primaryKey": ["id"]},
        }],
    }
    (dest / "datapackage.json").write_text(dumps(descriptor), encoding="utf-8")


def restamp(package: Path, version: str | None = None) -> None:
    """Recompute every resource's hash and size (and set the version) after an edit."""
    path = package / "datapackage.json"
    descriptor = json.loads(path.read_text(encoding="utf-8"))
    for resource in descriptor["resources"]:
        if isinstance(resource.get("path"), str) and (package / resource["path"]).is_file():
            content = (package / resource["path"]).read_bytes()
            resource["hash"] = "sha256:" + hashlib.sha256(content).hexdigest()
            resource["bytes"] = len(content)
    if version is not None:
        descriptor["version"] = version
    path.write_text(dumps(descriptor), encoding="utf-8")


def make_package(dest: Path, version: str = "1.0.0") -> Path:
    """A complete package in ``dest``: the real built one if present, else generated."""
    if (REPO / "datapackage.json").is_file() and (REPO / "data").is_dir():
        dest.mkdir(parents=True)
        shutil.copy2(REPO / "datapackage.json", dest / "datapackage.json")
        shutil.copytree(REPO / "data", dest / "data")
    else:
        _generated(dest)
    restamp(dest, version)
    return dest


def edit_records(package: Path, table: str, edit: Callable[[list[dict]], list[dict] | None]) -> None:
    """Apply ``edit`` to the records of ``data/<table>.json`` (in place or returning new ones)."""
    path = package / "data" / f"{table}.json"
    rows = json.loads(path.read_text(encoding="utf-8"))
    result = edit(rows)
    path.write_text(dumps(rows if result is None else result), encoding="utf-8")
    restamp(package)


def edit_descriptor(package: Path, edit: Callable[[dict], None]) -> None:
    path = package / "datapackage.json"
    descriptor = json.loads(path.read_text(encoding="utf-8"))
    edit(descriptor)
    path.write_text(dumps(descriptor), encoding="utf-8")


def resource(descriptor: dict, name: str) -> dict:
    return next(r for r in descriptor["resources"] if r["name"] == name)


def field(descriptor: dict, resource_name: str, field_name: str) -> dict:
    fields = resource(descriptor, resource_name)["schema"]["fields"]
    return next(f for f in fields if f["name"] == field_name)


def write_json(path: Path, value) -> None:
    path.write_text(dumps(value), encoding="utf-8")


def _replaced(make: Callable[[dict], object]) -> Callable[[Path], None]:
    """An edit of a package folder that replaces its descriptor by ``make(descriptor)``."""
    def apply(package: Path) -> None:
        write_json(package / "datapackage.json", make(json.loads((package / "datapackage.json").read_text())))
    return apply


def _changed(change: Callable[[dict], object]) -> Callable[[Path], None]:
    """An edit of a package folder that changes its descriptor in place."""
    return lambda package: edit_descriptor(package, change)


def _first_table(descriptor: dict) -> dict:
    return next(r for r in descriptor["resources"] if r.get("format") == "csv")


MALFORMED_DESCRIPTORS = [
    ("not-an-object", _replaced(lambda d: [d]), "datapackage.json is not a JSON object"),
    ("resources-not-a-list", _replaced(lambda d: {**d, "resources": 5}),
     "datapackage.json: resources must be a list of objects, not int"),
    ("resource-not-an-object", _changed(lambda d: d["resources"].insert(0, "claims")),
     "datapackage.json: resources[0] is not an object"),
    ("resource-without-name", _changed(lambda d: d["resources"][0].pop("name")),
     "datapackage.json: resources[0] has no name"),
    ("resource-without-path", _changed(lambda d: d["resources"][0].pop("path")),
     "datapackage.json: resources[0] (claims): path must be a relative path inside the package, not None"),
    ("path-outside-the-package", _changed(lambda d: d["resources"][0].update(path="../claims.csv")),
     "datapackage.json: resources[0] (claims): path must be a relative path inside the package, "
     "not '../claims.csv'"),
    ("fields-not-a-list", _changed(lambda d: _first_table(d)["schema"].update(fields={"id": "string"})),
     "datapackage.json: resources[0] (claims): schema: fields must be a list of objects"),
    ("field-without-name", _changed(lambda d: _first_table(d)["schema"]["fields"][0].pop("name")),
     "datapackage.json: resources[0] (claims): schema: fields[0] is not an object with a name"),
]
"""Descriptors a reader must refuse with a message: (id, edit of a package folder, message)."""

MALFORMED_RECORDS = [
    ("records-not-a-list", lambda p: write_json(p / "data" / "claims.json", {"clm-x": {}}),
     "data/claims.json is not a JSON list of claims"),
    ("record-not-an-object", lambda p: write_json(p / "data" / "claims.json", [1]),
     "data/claims.json: item 0 is not an object with an id"),
    ("record-without-id", lambda p: write_json(p / "data" / "claims.json", [{"statement": "A claim."}]),
     "data/claims.json: item 0 is not an object with an id"),
    ("terms-not-a-list", lambda p: write_json(p / "data" / "vocabularies.json", [{"id": "topics", "terms": 3}]),
     "data/vocabularies.json: vocabulary topics: terms must be a list of objects, each with an id"),
]
"""JSON records a reader must refuse with a message: (id, edit of a package folder, message)."""
