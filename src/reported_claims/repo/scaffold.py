"""New records: a file with a fresh id and placeholders that ``validate`` flags until filled in.

Ids are a slug plus a random suffix, never a counter: two contributors who each run
``reported-claims new`` on their own branch cannot be given the same id, and the file is
created exclusively so that two runs in one tree cannot either.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from pathlib import Path
from typing import Optional

from reported_claims.problems import Problem
from reported_claims.model.graph import vocabulary_of
from reported_claims.model.types import ID_MAX, PLACEHOLDER, PLACEHOLDER_TERM
from reported_claims.model.kinds import ID_PREFIX, MODELS
from reported_claims.model.kinds import kind as kind_of
from reported_claims.repo.load import RECORDS, Dataset, Loaded, may_hold_placeholder

SUFFIX_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"  # no l, o, 0, 1: easy to read and type
SUFFIX_LENGTH = 6  # 32**6, about a billion: collisions between branches are not a concern
SLUG_WORDS_MAX = 8

# Values of the scaffold's reference and vocabulary fields. They match the formats, so that the
# only complaint is the placeholder one, from rules.placeholder_problem.
PLACEHOLDER_IDS = {prefix + "todo" for prefix in ID_PREFIX.values()}


def is_placeholder(value: str) -> bool:
    """Whether a reference or term is one of the scaffold's placeholders."""
    return value == PLACEHOLDER_TERM or value in PLACEHOLDER_IDS


KIND_OF_PREFIX = {prefix: kind for kind, prefix in ID_PREFIX.items()}


def placeholders(dataset: Dataset, item: Loaded) -> list[Problem]:
    """A ``placeholder`` problem for each reference or term the scaffold left in a file.

    Read from the raw data, so that they show even while the record fails validation for
    its text placeholders: a fresh scaffold lists everything there is to fill in at once.
    """
    if not item.doc.kept or not may_hold_placeholder(item.doc.data):
        return []  # a file's data is let go only when it holds no placeholder
    out = []
    todo: list[tuple[tuple, object]] = [((), item.doc.data)]
    while todo:
        loc, value = todo.pop()
        if isinstance(value, dict):
            todo.extend((loc + (k,), v) for k, v in value.items())
        elif isinstance(value, list):
            todo.extend((loc + (i,), v) for i, v in enumerate(value))
        elif isinstance(value, str) and loc and is_placeholder(value):
            out.append(item.doc.problem("placeholder", loc, _fill_in(dataset, item.kind, loc, value)))
    return sorted(out)


def _fill_in(dataset: Dataset, kind: Optional[str], loc: tuple, value: str) -> str:
    if value in PLACEHOLDER_IDS:
        target = KIND_OF_PREFIX[value[: value.index("-") + 1]]
        article = "an" if target == "entity" else "a"
        return (f"placeholder not filled in: replace {value} with the id of {article} {target} "
                f"under {kind_of(target).folder}/ (or create one with `reported-claims new {target}`)")
    field = next((p for p in reversed(loc) if isinstance(p, str)), "")
    vocab = vocabulary_of(MODELS[kind], loc) if kind in MODELS else None
    if vocab is None:
        return "placeholder not filled in: replace todo with a value"
    terms = ", ".join(sorted(t for t, v in dataset.terms(vocab).items() if not v.deprecated))
    return f"placeholder not filled in: choose a term of records/vocabularies/{vocab}.yaml: {terms}"


def slugify(words: str) -> str:
    """``"Yellen warns China's banks"`` -> ``yellen-warns-china-s-banks``: ASCII, lower case."""
    ascii_ = unicodedata.normalize("NFKD", words).encode("ascii", "ignore").decode()
    parts = re.findall(r"[a-z0-9]+", ascii_.lower())
    return "-".join(parts[:SLUG_WORDS_MAX])


def new_id(kind: str, slug: str, taken: set[str]) -> str:
    prefix = ID_PREFIX[kind]
    room = ID_MAX - len(prefix) - SUFFIX_LENGTH - 1
    slug = slug[:room].strip("-")
    while True:
        suffix = "".join(secrets.choice(SUFFIX_ALPHABET) for _ in range(SUFFIX_LENGTH))
        rid = f"{prefix}{slug}-{suffix}" if slug else f"{prefix}{suffix}"
        if rid not in taken:
            return rid


def _existing_ids(root: Path) -> set[str]:
    base = root / RECORDS
    return {p.stem.lower() for p in base.glob("*/*.y*ml")} if base.is_dir() else set()


def _claim(rid: str) -> str:
    return f"""\
id: {rid}
statement: {PLACEHOLDER} the claim in one neutral sentence, saying no more than the quotes
act: todo
topic: todo
claimants:
  - entity: ent-todo
    attribution: todo
entities:
  - entity: ent-todo
    role: todo
reports:
  - source: src-todo
    quote: {PLACEHOLDER} the passage copied exactly from the source; write ' ... ' where you leave words out
    claimant: ent-todo
    attribution: todo
    attribution_mode: todo
    attributed_to: {PLACEHOLDER} the words of the quote that say who claims it (remove for mode none)
    fit: todo
# Optional: items, made (2024-04-12), period (2024-04), quantities, links, notes; per report
# attribution_context (mode implied), act, modality and modality_text, derived_from, figures,
# terms, note. See CONTRIBUTING.md.
"""


def _source(rid: str) -> str:
    return f"""\
id: {rid}
kind: todo
title: {PLACEHOLDER} the title as published, or a descriptive title in [brackets]
publisher: ent-todo
seen: todo
# Optional: url, published (2024-04-12), retrieved, authors, language (en), derived_from,
# attributes_to, text_sha256 (of archive/{rid}.txt) and not_recorded (its ledger), notes.
# See CONTRIBUTING.md.
"""


def _entity(rid: str) -> str:
    return f"""\
id: {rid}
name: {PLACEHOLDER} the name most commonly used in English
kind: todo
# Optional: aliases, country (CN), part_of, ids (wikidata...), description. See CONTRIBUTING.md.
"""


TEMPLATES = {"claim": _claim, "source": _source, "entity": _entity}


def schema_line(kind: str) -> str:
    """The first line of every record: tells YAML editors which JSON Schema applies."""
    return f"# yaml-language-server: $schema=../../schema/{kind}.schema.json\n"


def new(root: Path, kind: str, slug: Optional[str] = None) -> Path:
    """Create a record of ``kind`` with a fresh id under ``root/records``; return its path."""
    folder = Path(root) / kind_of(kind).folder
    folder.mkdir(parents=True, exist_ok=True)
    taken = _existing_ids(Path(root))
    while True:
        rid = new_id(kind, slugify(slug or ""), taken)
        path = folder / f"{rid}.yaml"
        try:
            with open(path, "x", encoding="utf-8", newline="\n") as fh:
                fh.write(schema_line(kind) + TEMPLATES[kind](rid))
            return path
        except FileExistsError:  # created meanwhile by someone else: draw again
            taken.add(rid)
