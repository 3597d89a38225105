"""Generated files: the JSON Schemas of the record kinds, from the models.

``reported-claims build`` writes them; ``reported-claims validate`` fails when a committed
copy differs from what the models generate now (``stale-generated``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterable, Iterator

import orjson

from reported_claims.model.kinds import MODELS
from reported_claims.package import SCHEMA_DIR
from reported_claims.package.tables import tables
from reported_claims.problems import Problem
from reported_claims.util.fs import atomic_write

TABLE_DIR = f"{SCHEMA_DIR}/tables"
GENERATED_NOTE = "Generated from src/reported_claims/models.py by `reported-claims build`. DO NOT EDIT."
SCHEMA_BASE = "https://raw.githubusercontent.com/reported-claims/reported-claims/main/schema/"


def dumps(value: object) -> str:
    """The one JSON layout of every generated file: sorted keys, two spaces, UTF-8, final newline.

    Written by orjson: Python's own encoder runs in Python once it indents, the most time of a
    large build's JSON. The layout is ``json.dumps(value, indent=2, sort_keys=True,
    ensure_ascii=False)``'s, but for a float under 0.0001, written in full (``0.00001``).
    """
    return orjson.dumps(value, option=_LAYOUT | orjson.OPT_APPEND_NEWLINE).decode()


_LAYOUT = orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS


def dump_item(item: object) -> bytes:
    """One item of a list as ``dumps_list`` writes it (indented one level; without its comma)."""
    return orjson.dumps(item, option=_LAYOUT).replace(b"\n", b"\n  ")


LIST_OPEN, LIST_SEP, LIST_CLOSE, LIST_EMPTY = b"[\n  ", b",\n  ", b"\n]\n", b"[]\n"
"""How ``dumps_list`` lays out a list: one item a line (the incremental build splices items into it)."""


def dumps_list(items: Iterable[object]) -> bytes:
    """``dumps`` of a list, as UTF-8, made one item at a time: a large list is never held as
    Python objects and as text at once."""
    return b"".join(list_pieces(dump_item(item) for item in items))


def list_pieces(dumped: Iterable[bytes]) -> Iterator[bytes]:
    """The bytes of ``dumps_list`` in pieces, from its items as ``dump_item`` gives them, as they
    come: a file written from them holds one item at a time in memory."""
    between = LIST_OPEN
    for piece in dumped:
        yield between
        yield piece
        between = LIST_SEP
    yield LIST_EMPTY if between is LIST_OPEN else LIST_CLOSE


def json_schema(kind: str) -> dict:
    schema = MODELS[kind].model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"{SCHEMA_BASE}{kind}.schema.json"
    schema["$comment"] = GENERATED_NOTE
    return schema


def json_schemas() -> dict[str, str]:
    """Relative path -> content of each record kind's JSON Schema."""
    return {f"{SCHEMA_DIR}/{kind}.schema.json": dumps(json_schema(kind)) for kind in sorted(MODELS)}


def table_schemas() -> dict[str, str]:
    """Relative path -> content of each table's Table Schema, under ``schema/tables/``."""
    return {f"{TABLE_DIR}/{t.name}.json": dumps(t.schema()) for t in tables()}


# Generators of committed files: each returns {relative path: content}, so that one check
# covers every generated file.
GENERATORS: list[Callable[[], dict[str, str]]] = [json_schemas, table_schemas]


def generated_files() -> dict[str, str]:
    """Relative path -> content of every generated file."""
    out: dict[str, str] = {}
    for generate in GENERATORS:
        out.update(generate())
    return out


def stale(root: Path) -> list[Problem]:
    """A problem for each generated file that is missing or differs from what is generated now."""
    problems = []
    for rel, content in sorted(generated_files().items()):
        path = Path(root) / rel
        try:
            current = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            current = None
        if current != content:
            what = "is missing" if current is None else "is stale"
            problems.append(Problem(
                rel, 1, 1, "stale-generated", "",
                f"{what}: the models changed; run `reported-claims build` and commit the result",
            ))
    return problems


def write(root: Path) -> list[str]:
    """Write every generated file that changed; return their paths."""
    written = []
    for rel, content in sorted(generated_files().items()):
        path = Path(root) / rel
        if path.exists() and path.read_text(encoding="utf-8") == content:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, content)
        written.append(rel)
    return written
