"""One canonical layout for every record, so that diffs show changes of content only.

The layout: the editor's schema line first; keys in the order the model declares its fields,
at every level; block style with two-space indents, list items indented under their key;
no blank lines and no other comments; one line per value, never wrapped; a value quoted only
when our reader would otherwise read it differently, or when other YAML tools would see a
boolean, number or null in a text field (``period: '2023'``), preferring double quotes, then
single quotes, then escapes.

Lists keep their order: the data package records each list's order (its ``position``
columns), authors are listed in credit order and aliases most common first, so an order is
never ours to change.

Formatting never changes a value: a file is formatted only when it reads and validates
structurally, and the new text must read back to exactly the same data, or nothing is written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Optional

import yaml

from reported_claims.errors import ReportedClaimsError
from reported_claims.repo import reader
from reported_claims.problems import Problem
from reported_claims.util.fs import atomic_write
from reported_claims.model.kinds import MODELS
from reported_claims.model.records import field_model
from reported_claims.repo.load import Loaded, expand, load_file, record_files
from reported_claims.repo.scaffold import schema_line

INDENT = 2
# Plain scalars that YAML 1.1 readers (PyYAML's safe_load, many editors) take for booleans.
_BOOL_11 = re.compile(r"^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$")
# Plain scalars that YAML 1.2 core-schema readers (editors, check-jsonschema) take for numbers
# or null: a text field holding one is quoted, so that those tools see a string as we do.
_TYPED_12 = re.compile(
    r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+|[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)|null|Null|NULL|~)$"
)
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r", "\x00": "\\0"}


class FormatError(ReportedClaimsError):
    """The layout would not read back to the same data: a bug, so nothing is written."""


@lru_cache(maxsize=4096)
def _reads_back(candidate: str, value: str) -> bool:
    """Whether ``candidate`` reads back as ``value`` both as a mapping value and as a list item."""
    for text, want in ((f"k: {candidate}\n", {"k": value}), (f"k:\n  - {candidate}\n", {"k": [value]})):
        doc = reader.parse(text, "")
        if doc.problems or doc.data != want:
            return False
    return True


def _escaped(value: str) -> str:
    out = []
    for ch in value:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ch == " " or ch.isprintable():
            out.append(ch)
        elif ord(ch) <= 0xFFFF:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    return '"' + "".join(out) + '"'


def looks_typed(value: str) -> bool:
    """Whether other YAML readers would take this plain scalar for a boolean, number or null."""
    if _BOOL_11.match(value) or _TYPED_12.match(value):
        return True
    tag = yaml.resolver.Resolver().resolve(yaml.ScalarNode, value, (True, False))
    return tag not in ("tag:yaml.org,2002:str", "tag:yaml.org,2002:timestamp")


def scalar(value: Optional[str], numeric: bool = False) -> str:
    """The one way a scalar is written: plain if it reads back, else quoted.

    A number in a numeric field stays plain; the same characters in a text field are quoted,
    so that every YAML reader sees text there (``period: '2023'``).
    """
    if value is None:
        return "null"
    candidates = []
    if value and (numeric or not looks_typed(value)):
        candidates.append(value)
    if '"' not in value and "\\" not in value:
        candidates.append(f'"{value}"')
    if "\n" not in value:
        candidates.append("'" + value.replace("'", "''") + "'")
    for candidate in candidates:
        if all(ch == " " or ch.isprintable() for ch in candidate) and _reads_back(candidate, value):
            return candidate
    candidate = _escaped(value)
    if not _reads_back(candidate, value):
        raise FormatError(f"no layout reads back as {value[:40]!r}")
    return candidate


def _numeric(model: Optional[type], key: str) -> bool:
    """Whether field ``key`` of ``model`` holds a number or a boolean (written plain, never quoted)."""
    info = getattr(model, "model_fields", {}).get(key)
    todo = [info.annotation] if info else []
    while todo:
        a = todo.pop()
        if a in (int, float, bool):
            return True
        todo.extend(getattr(a, "__args__", ()))
    return False


def _ordered(mapping: dict, model: Optional[type]) -> list[str]:
    declared = list(getattr(model, "model_fields", {}))
    known = [k for k in declared if k in mapping]
    return known + sorted(k for k in mapping if k not in declared)


def _mapping(mapping: dict, model: Optional[type], indent: int) -> list[str]:
    lines = []
    pad = " " * indent
    for key in _ordered(mapping, model):
        value = mapping[key]
        sub = field_model(model, key)
        if isinstance(value, dict) and value:
            lines.append(f"{pad}{scalar(key)}:")
            lines += _mapping(value, sub, indent + INDENT)
        elif isinstance(value, list) and value:
            lines.append(f"{pad}{scalar(key)}:")
            lines += _sequence(value, sub, indent + INDENT)
        else:
            lines.append(f"{pad}{scalar(key)}: {_leaf(value, _numeric(model, key))}")
    return lines


def _sequence(items: list, model: Optional[type], indent: int) -> list[str]:
    lines = []
    pad = " " * indent
    for item in items:
        if isinstance(item, (dict, list)) and item:
            inner = _mapping(item, model, indent + INDENT) if isinstance(item, dict) else \
                _sequence(item, model, indent + INDENT)
            lines.append(f"{pad}- {inner[0][indent + INDENT:]}")
            lines += inner[1:]
        else:
            lines.append(f"{pad}- {_leaf(item)}")
    return lines


def _leaf(value: Any, numeric: bool = False) -> str:
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, list):
        return "[]"
    return scalar(value, numeric)


def layout(data: dict, kind: str) -> str:
    """The canonical text of a record's data (as the reader gives it)."""
    text = schema_line(kind) + "\n".join(_mapping(data, MODELS[kind], 0)) + "\n"
    back = reader.parse(text, "")
    if back.problems or back.data != data:
        raise FormatError("the canonical layout does not read back to the same data")
    return text


@dataclass
class Outcome:
    """What fmt made of one file."""

    shown: str
    problems: list[Problem] = field(default_factory=list)
    canonical: bool = True
    written: bool = False


def format_file(loaded: Loaded, *, check: bool) -> Outcome:
    """Format one read file in place (unless ``check``); a file with problems is left alone."""
    errors = [p for p in loaded.doc.problems if p.severity == "error"]
    out = Outcome(loaded.shown)
    if errors or loaded.kind is None or loaded.record is None:
        out.problems = errors or [Problem(loaded.shown, 1, 1, "unknown-kind", "", "not a record")]
        out.problems.append(Problem(
            loaded.shown, 1, 1, "not-formatted", "",
            "left unformatted because of the problems above; fix them and run fmt again",
        ))
        out.canonical = False
        return out
    text = layout(loaded.doc.data, loaded.kind)
    if text == loaded.doc.text:
        return out
    out.canonical = False
    if check:
        out.problems.append(Problem(
            loaded.shown, 1, 1, "not-formatted", "",
            f"not in the canonical layout; run `reported-claims fmt {loaded.shown}`",
        ))
        return out
    atomic_write(loaded.path, text)
    out.written = True
    return out


def fmt(root: Path, paths: Optional[Iterable[Path]] = None, *, check: bool = False) -> list[Outcome]:
    """Format the records under ``root`` (or only ``paths``); with ``check``, change nothing."""
    root = Path(root)
    files = expand(paths) if paths else record_files(root)
    return [format_file(load_file(p, root), check=check) for p in files]
