"""Writing a proposal into the repository, so that ``git diff`` is the pull request.

The source record and its archived text are new files; each proposed report is appended to its
claim's file, in the canonical layout of ``repo.fmt`` (nothing else of the claim changes); each
candidate becomes a claim scaffold whose report quotes the sentence, with the placeholders a
curator must fill in. Sentences neither quoted nor candidates go into ``not_recorded``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from reported_claims.check.quotes import ARCHIVE
from reported_claims.ingest.extract import IngestError
from reported_claims.ingest.propose import Proposal
from reported_claims.model.types import PLACEHOLDER
from reported_claims.repo import reader
from reported_claims.repo.fmt import layout
from reported_claims.repo.load import RECORDS
from reported_claims.repo.scaffold import PLACEHOLDER_IDS, PLACEHOLDER_TERM, new_id, slugify
from reported_claims.util.fs import atomic_write

PLACEHOLDER_ENTITY = next(i for i in PLACEHOLDER_IDS if i.startswith("ent-"))
_ACTS = {"warned": "warns", "warns": "warns", "warning": "warns", "denied": "denies", "denies": "denies",
         "urged": "urges", "urges": "urges", "urging": "urges", "estimated": "estimates", "estimates": "estimates"}


def _report(item: dict, sid: str, claimants: set[str]) -> dict:
    """The report record of a proposed report, as the claim file holds it."""
    claimant = item["claimant"] or PLACEHOLDER_ENTITY
    out: dict = {"source": sid, "quote": item["quote"], "claimant": claimant,
                 "attribution": item["attribution"] or PLACEHOLDER_TERM,
                 "attribution_mode": item["attribution_mode"]}
    if item["attribution_mode"] != "none":
        out["attributed_to"] = item["attributed_to"]
    if item["attribution_mode"] == "implied":
        out["attribution_context"] = item["attribution_context"]
    out["fit"] = "exact"
    figures = [
        {"quantity": f["quantity"], "text": f["text"], "value": _number(f["value"]), "unit": f["unit"],
         "hedge": f["hedge"]}
        for f in item["figures"] if f["quantity"]
    ]
    if figures:
        out["figures"] = figures
    return out


def _number(value: float) -> str:
    """A number as the reader gives it: text, without a needless ``.0``."""
    return str(int(value)) if float(value).is_integer() else repr(value)


def _read(path: Path) -> dict:
    doc = reader.read(path, str(path))
    if doc.problems or not isinstance(doc.data, dict):
        raise IngestError(f"{path}: cannot add a report to a record that does not read; run `reported-claims "
                          "validate` and fix it first")
    return doc.data


def write(root: Path, proposal: Proposal, text: str) -> list[Path]:
    """Write the proposal's records and the archived text under ``root``; return the files written."""
    root = Path(root)
    sid = proposal.source["id"]
    source_path = root / RECORDS / "sources" / f"{sid}.yaml"
    archive_path = root / ARCHIVE / f"{sid}.txt"
    for path in (source_path, archive_path):
        if path.exists():
            raise IngestError(f"{path} exists already: ingest writes a new source; choose another --id")
    data = text.encode("utf-8")
    planned: list[tuple[Path, str]] = []
    pending: list[dict] = []
    claims_dir = root / RECORDS / "claims"
    for item in proposal.reports:
        path = claims_dir / f"{item['claim']}.yaml"
        claim = _read(path)
        claimants = {c["entity"] for c in claim.get("claimants", [])}
        report = _report(item, sid, claimants)
        if report["claimant"] not in claimants:
            # the writer's own voice: the publisher (or its placeholder) joins the claimants
            claim["claimants"] = [*claim["claimants"], {"entity": report["claimant"],
                                                        "attribution": report["attribution"]}]
        claim["reports"] = [*claim.get("reports", []), report]
        planned.append((path, layout(claim, "claim")))
    taken = {p.stem for p in claims_dir.glob("*.yaml")}
    for item in proposal.candidates:
        cid = new_id("claim", slugify(item["quote"]), taken)
        taken.add(cid)
        act = next((_ACTS[w] for w in item["quote"].lower().split() if w in _ACTS), "asserts")
        claim = {
            "id": cid,
            "statement": f"{PLACEHOLDER} the claim in one neutral sentence, attributing nothing and judging nothing",
            "act": act,
            "topic": PLACEHOLDER_TERM,
            "claimants": [{"entity": PLACEHOLDER_ENTITY, "attribution": PLACEHOLDER_TERM}],
            "reports": [{"source": sid, "quote": item["quote"], "claimant": PLACEHOLDER_ENTITY,
                         "attribution": PLACEHOLDER_TERM, "attribution_mode": "none", "fit": "exact"}],
        }
        path = claims_dir / f"{cid}.yaml"
        planned.append((path, layout(claim, "claim")))
        # the scaffold does not validate until it is filled in, so its quote does not yet account
        # for the sentence: the ledger holds it meanwhile, flagged as a placeholder too
        pending.append({"quote": item["quote"], "reason": "background",
                        "note": f"{PLACEHOLDER} remove this entry once {cid} is filled in"})
    record = dict(proposal.source)
    record["seen"] = "true"  # the reader gives every scalar as text; the layout writes it from that
    record["text_sha256"] = hashlib.sha256(data).hexdigest()
    ledger = [{"quote": e["quote"], "reason": e["reason"]} for e in proposal.ledger] + pending
    if ledger:
        record["not_recorded"] = ledger
    if "publisher" not in record:
        record["publisher"] = PLACEHOLDER_ENTITY
    ordered = {k: record[k] for k in ("id", "kind", "title", "publisher") if k in record}
    ordered.update((k, v) for k, v in record.items() if k not in ordered)
    planned.insert(0, (source_path, layout(ordered, "source")))
    # every file is laid out before the first is written: a failure leaves the records as they were
    archive_path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(archive_path, data)
    for path, content in planned:
        atomic_write(path, content)
    return [source_path, archive_path, *(p for p, _ in planned[1:])]
