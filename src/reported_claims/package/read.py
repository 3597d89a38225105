"""Reading a built data package back into the models, from its JSON or from its CSV tables.

Both readers return ``{"claims": [...], "sources": [...], "entities": [...], "vocabularies": [...]}``
with model objects sorted by id; :func:`read` wraps the JSON reader in a ``records.Dataset``.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections import defaultdict
from pathlib import Path
from typing import Any, Optional

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
    Withdrawal,
)
from reported_claims.repo.load import Dataset
from reported_claims.package.tables import ATTRIBUTES_TO, VOCABULARIES, Table, tables, vocab_table

KINDS = {"claims": Claim, "sources": Source, "entities": Entity, "vocabularies": Vocabulary}
PACKAGE = "datapackage.json"


def _descriptor(package_dir: Path) -> dict:
    return json.loads((Path(package_dir) / PACKAGE).read_text(encoding="utf-8"))


def _paths(package_dir: Path) -> dict[str, Path]:
    return {r["name"]: Path(package_dir) / r["path"] for r in _descriptor(package_dir)["resources"]}


def read_kind(package_dir: Path, kind: str) -> list:
    """The records of one kind (``claims``, ``sources``...) from ``data/<kind>.json``, validated."""
    data = json.loads((Path(package_dir) / "data" / f"{kind}.json").read_text(encoding="utf-8"))
    return [KINDS[kind].model_validate(item) for item in data]


def read_json(package_dir: Path) -> dict[str, list]:
    """The records of a package, from its JSON resources (``data/<kind>.json``)."""
    return {kind: read_kind(package_dir, kind) for kind in KINDS}


def read(package_dir: Path) -> Dataset:
    """A package's records as a ``records.Dataset`` (indexed by id), from its JSON resources."""
    records = read_json(package_dir)
    return Dataset(Path(package_dir), **{kind: {r.id: r for r in items} for kind, items in records.items()})


# --- CSV ----------------------------------------------------------------------------------


def _parse(value: str, type_: str) -> Any:
    if value == "":
        return None
    if type_ == "integer":
        return int(value)
    if type_ == "number":
        return float(value)
    if type_ == "boolean":
        return value == "true"
    if type_ == "date":
        return dt.date.fromisoformat(value)
    return value


def read_table(path: Path, table: Table) -> list[dict]:
    """The rows of one CSV table, typed by its Table Schema; a missing value is None."""
    types = {c.name: c.type for c in table.columns}
    with open(path, encoding="utf-8", newline="") as f:
        return [{k: _parse(v, types[k]) for k, v in row.items()} for row in csv.DictReader(f)]


def _group(rows: list[dict], *key: str) -> dict[tuple, list[dict]]:
    out: dict[tuple, list[dict]] = defaultdict(list)
    for row in rows:
        out[tuple(row[k] for k in key)].append(row)
    for items in out.values():
        items.sort(key=lambda r: r["position"])
    return out


def _some(row: dict, *names: str) -> dict:
    """The named columns of a row, without the missing ones (so that model defaults apply)."""
    return {n: row[n] for n in names if row[n] is not None}


def read_csv(package_dir: Path) -> dict[str, list]:
    """The records of a package reassembled from its CSV tables."""
    paths = _paths(package_dir)
    rows = {t.name: read_table(paths[t.name], t) for t in tables()}
    return {
        "claims": _claims(rows),
        "sources": _sources(rows),
        "entities": _entities(rows),
        "vocabularies": _vocabularies(rows, _descriptor(package_dir)),
    }


def _claims(rows: dict[str, list[dict]]) -> list[Claim]:
    reports = _group(rows["claim_reports"], "claim_id")
    figures = _group(rows["claim_report_figures"], "claim_id", "source_id")
    terms = _group(rows["claim_report_terms"], "claim_id", "source_id")
    lineage = _group(rows["claim_report_lineage"], "claim_id", "source_id")
    claimants = _group(rows["claim_claimants"], "claim_id")
    entities = _group(rows["claim_entities"], "claim_id")
    items = _group(rows["claim_items"], "claim_id")
    quantities = _group(rows["quantities"], "claim_id")
    links = _group(rows["claim_links"], "claim_id")
    out = []
    for row in rows["claims"]:
        cid = (row["id"],)
        withdrawal: Optional[Withdrawal] = None
        if row["withdrawal_date"] is not None or row["withdrawal_reason"] is not None:
            withdrawal = Withdrawal(date=row["withdrawal_date"], reason=row["withdrawal_reason"],
                                    replaced_by=row["withdrawal_replaced_by"])
        out.append(Claim(
            **_some(row, "id", "statement", "topic", "period", "status", "notes"),
            items=[r["item"] for r in items[cid]],
            claimants=[Claimant(entity=r["entity_id"], **_some(r, "attribution", "description", "via"))
                       for r in claimants[cid]],
            entities=[EntityRole(entity=r["entity_id"], role=r["role"]) for r in entities[cid]],
            quantities=[Quantity(**_some(r, "id", "measure", "value", "unit", "share_of", "hedge", "period"))
                        for r in quantities[cid]],
            withdrawal=withdrawal,
            links=[ClaimLink(claim=r["target_id"], **_some(r, "type", "note")) for r in links[cid]],
            reports=[Report(
                source=r["source_id"], **_some(r, "quote", "attributed_to", "note"),
                derived_from=[d["target_id"] for d in lineage[(row["id"], r["source_id"])]],
                figures=[Figure(quantity=f["quantity_id"], **_some(f, "text", "value", "unit", "hedge"))
                         for f in figures[(row["id"], r["source_id"])]],
                terms=[t["term"] for t in terms[(row["id"], r["source_id"])]],
            ) for r in reports[cid]],
        ))
    return out


def _sources(rows: dict[str, list[dict]]) -> list[Source]:
    lineage = _group(rows["source_lineage"], "source_id")
    authors = _group(rows["source_authors"], "source_id")
    out = []
    for row in rows["sources"]:
        sid = (row["id"],)
        edges = lineage[sid]
        out.append(Source(
            **_some(row, "id", "kind", "title", "publisher", "url", "published", "language", "text_sha256", "notes"),
            authors=[r["author"] for r in authors[sid]],
            derived_from=[Derivation(source=r["target_id"], **_some(r, "relation", "note"))
                          for r in edges if r["relation"] != ATTRIBUTES_TO],
            attributes_to=[r["target_id"] for r in edges if r["relation"] == ATTRIBUTES_TO],
        ))
    return out


def _entities(rows: dict[str, list[dict]]) -> list[Entity]:
    aliases = _group(rows["entity_aliases"], "entity_id")
    out = []
    for row in rows["entities"]:
        ids = _some(row, "wikidata", "lei", "opensanctions", "website")
        out.append(Entity(
            **_some(row, "id", "name", "kind", "country", "part_of", "description"),
            aliases=[r["alias"] for r in aliases[(row["id"],)]],
            ids=ExternalIds(**ids) if ids else None,
        ))
    return out


def _vocabularies(rows: dict[str, list[dict]], descriptor: dict) -> list[Vocabulary]:
    """Vocabularies from their term tables; the title and description are the resource's."""
    resources = {r["name"]: r for r in descriptor["resources"]}
    out = []
    for vocabulary in VOCABULARIES:
        name = vocab_table(vocabulary)
        terms = sorted(rows[name], key=lambda r: r["position"])
        if not terms:
            continue
        out.append(Vocabulary(
            id=vocabulary, title=resources[name]["title"], description=resources[name]["description"],
            terms=[VocabularyTerm(**_some(t, "id", "label", "description", "deprecated")) for t in terms],
        ))
    return sorted(out, key=lambda v: v.id)
