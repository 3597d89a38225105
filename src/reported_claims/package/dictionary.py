"""The data dictionary, ``docs/data-dictionary.md``: every table and column in words.

Generated from the table definitions (``tables.tables()``: titles, descriptions, Table Schema
types and constraints, keys) and, when the package is built, from its CSV files: the terms of
each vocabulary a column refers to, and one example row of each table. The same definitions
and data give the same bytes. ``stale()`` says when the committed copy no longer matches;
``reported-claims export dictionary --out docs/data-dictionary.md`` rewrites it.
"""

from __future__ import annotations

import csv
import itertools
import json
from pathlib import Path
from typing import Optional

from reported_claims.model.kinds import VOCABULARIES
from reported_claims.package import DATA, DESCRIPTOR
from reported_claims.package.tables import Column, Table, tables, vocab_table
from reported_claims.problems import Problem
from reported_claims.util.fs import atomic_write

DICTIONARY = "docs/data-dictionary.md"
"""Where the repository keeps its data dictionary."""
EXAMPLE_WIDTH = 80
"""The most characters of an example cell shown; the rest is cut with an ellipsis."""
REGENERATE = "reported-claims export dictionary --out docs/data-dictionary.md"
HEAD = f"""# Data dictionary

Every table of the data package (`datapackage.json`, `data/*.csv`), its columns, their
[Table Schema](https://datapackage.org/standard/table-schema/) types and constraints, and one
example row from the built package. The JSON files (`data/claims.json`, `data/sources.json`,
`data/entities.json`, `data/vocabularies.json`) hold the same records as the models define
them; their JSON Schemas are under `schema/`.

Generated from `src/reported_claims/package/tables.py` and `data/` by `{REGENERATE}`. DO NOT EDIT.
"""


def _cell(text: str) -> str:
    """Text as one Markdown table cell: one line, pipes escaped."""
    return " ".join(str(text).split()).replace("|", "\\|")


def _code(text: str) -> str:
    return f"`{_cell(text)}`" if text != "" else ""


def _example(text: str) -> str:
    if len(text) > EXAMPLE_WIDTH:
        text = text[:EXAMPLE_WIDTH - 1].rstrip() + "…"
    return _code(text)


def _constraints(column: Column) -> str:
    out = []
    # required and unique first: what a reader checks before a pattern
    for key, value in sorted(column.constraints.items(), key=lambda kv: kv[1] is not True):
        if value is True:
            out.append(key)
        elif key == "enum":
            out.append("one of " + ", ".join(_code(v) for v in value))
        else:
            out.append(f"{key} {_code(value)}")
    return "; ".join(out)


def _rows(package_dir: Optional[Path], name: str, limit: Optional[int] = None) -> list[dict[str, str]]:
    """The rows of ``data/<name>.csv`` as text (the first ``limit``), or none when the package is not built."""
    if package_dir is None:
        return []
    path = Path(package_dir) / DATA / f"{name}.csv"
    try:
        with open(path, encoding="utf-8", newline="") as f:
            return list(itertools.islice(csv.DictReader(f), limit))
    except FileNotFoundError:
        return []


def _vocabulary_refs(table: Table) -> dict[str, str]:
    """Column -> the vocabulary table its foreign key refers to."""
    vocabularies = {vocab_table(v) for v in VOCABULARIES}
    return {fk.fields[0]: fk.resource for fk in table.foreign_keys
            if len(fk.fields) == 1 and fk.resource in vocabularies}


def _titles(package_dir: Optional[Path]) -> dict[str, tuple[str, str]]:
    """Table -> the title and description the built package gives it (a vocabulary's own)."""
    if package_dir is None:
        return {}
    try:
        resources = json.loads((Path(package_dir) / DESCRIPTOR).read_text(encoding="utf-8"))["resources"]
        return {r["name"]: (r["title"], r["description"]) for r in resources}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def _table_section(table: Table, package_dir: Optional[Path], title: str, description: str,
                   anchors: dict[str, str]) -> str:
    rows = _rows(package_dir, table.name, limit=1)  # the example: a large table is not read through
    example = rows[0] if rows else {}
    lines = [f"## {title} (`{table.name}`)", "", _cell(description), "",
             f"File `data/{table.name}.csv`; primary key {', '.join(_code(k) for k in table.primary_key)}."]
    for fk in table.foreign_keys:
        target = f"[`{fk.resource}`](#{anchors[fk.resource]})" if fk.resource in anchors else _code(fk.resource)
        lines.append(f"- {_code(', '.join(fk.fields))} refers to {target}")
    lines += ["", "| column | type | constraints | description | example |", "| --- | --- | --- | --- | --- |"]
    for column in table.columns:
        lines.append(f"| `{column.name}` | {column.type} | {_constraints(column)} | {_cell(column.description)} "
                     f"| {_example(example.get(column.name, ''))} |")
    for name, vocabulary in _vocabulary_refs(table).items():
        terms = _rows(package_dir, vocabulary)
        if terms:
            lines += ["", f"Terms of `{name}` (from `{vocabulary}`): "
                      + ", ".join(f"{_code(t['id'])} ({_cell(t['label'])})" for t in terms) + "."]
    return "\n".join(lines) + "\n"


def _anchor(name: str, title: str) -> str:
    """GitHub's anchor of a section heading ``Title (`name`)``."""
    text = f"{title} ({name})".lower()
    return "".join(c if c.isalnum() or c in "-_" else "-" if c == " " else "" for c in text)


def dictionary_text(package_dir: Optional[Path] = None) -> str:
    """The data dictionary in Markdown; with ``package_dir`` (a built package folder), its
    vocabulary terms and example rows."""
    built = _titles(package_dir)
    described = {t.name: built.get(t.name, (t.title, t.description)) for t in tables()}
    anchors = {name: _anchor(name, title) for name, (title, _) in described.items()}
    listing = "\n".join(f"- [`{t.name}`](#{anchors[t.name]}): {_cell(described[t.name][0])}" for t in tables())
    sections = "\n".join(_table_section(t, package_dir, *described[t.name], anchors) for t in tables())
    return f"{HEAD}\n{listing}\n\n{sections}"


def generated(root: Path) -> dict[str, str]:
    """Relative path -> content of the repository's data dictionary (its examples from ``data/``)."""
    return {DICTIONARY: dictionary_text(Path(root))}


def stale(root: Path) -> list[Problem]:
    """A ``stale-generated`` problem when the committed dictionary is missing or out of date."""
    problems = []
    for rel, content in generated(root).items():
        try:
            current = (Path(root) / rel).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            current = None
        if current != content:
            what = "is missing" if current is None else "is stale"
            problems.append(Problem(rel, 1, 1, "stale-generated", "",
                                    f"{what}: the tables or the data changed; run `{REGENERATE}` and commit it"))
    return problems


def write_dictionary(package_dir: Path, out: Path) -> list[Path]:
    """Write the data dictionary of the package in ``package_dir`` to ``out``."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(out, dictionary_text(Path(package_dir)))
    return [out]
