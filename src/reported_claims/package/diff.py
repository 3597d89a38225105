"""What changed between two built data packages, and which version bump that requires.

The rules are those of Frictionless' data-package-version pattern:

* **major**: a breaking change of the schema: a resource or a field removed (a rename is a
  removal and an addition), a field's type changed, a constraint tightened or added;
* **minor**: new records (claims, sources, entities, vocabulary terms), new resources or
  fields, constraints relaxed;
* **patch**: corrections: a record's fields changed, a record withdrawn (the claim stays,
  marked ``withdrawn``: a correction of the data, not a change of its shape), package
  metadata reworded.

Ids are never deleted: an id of OLD missing from NEW is an error, reported apart from the bump.
Records are compared as the plain JSON the package holds, never through today's models, so
that packages built by older versions of the models compare as well.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable

from reported_claims.model.kinds import KINDS, Kind, kind
# PackageError is what read_package raises, so callers of this module catch it from here.
from reported_claims.package.read import PackageError, open_package  # noqa: F401

BUMPS = ("none", "patch", "minor", "major")
VOCABULARIES: Kind = kind("vocabulary")
"""The vocabularies, compared term by term; every other kind is compared record by record."""
TABLES: tuple[Kind, ...] = tuple(k for k in KINDS if k is not VOCABULARIES)
# Descriptor keys that change with every release and say nothing about the data.
VOLATILE = {"version", "created", "resources", "hash", "bytes"}
# Constraints where a larger value is stricter, and where a smaller one is.
REFUSED = "refused"
"""The verdict of a diff in which ids of OLD are missing from NEW."""
STRICTER_WHEN_LARGER = {"minimum", "exclusiveMinimum", "minLength"}
STRICTER_WHEN_SMALLER = {"maximum", "exclusiveMaximum", "maxLength"}


@dataclass
class Package:
    """The parts of a built data package that a diff compares."""

    origin: str
    descriptor: dict
    records: dict[str, dict[str, dict]]
    """Kind (claims, sources, entities) -> id -> record as plain JSON."""
    vocabularies: dict[str, dict[str, dict]]
    """Vocabulary id -> term id -> term."""

    @property
    def version(self) -> str | None:
        return self.descriptor.get("version")


def read_package(path: Path | str) -> Package:
    """Read a package folder (holding ``datapackage.json``) or a release ``.zip``.

    A kind whose JSON file is absent has no records, so that packages of older builds compare.
    """
    package = open_package(path)
    records = {k.plural: {row["id"]: row for row in package.records(k, missing_ok=True)} for k in TABLES}
    vocabularies = {v["id"]: _terms(package.origin, v) for v in package.records(VOCABULARIES, missing_ok=True)}
    return Package(package.origin, package.descriptor, records, vocabularies)


def vanished(published: Iterable[str], present: set[str]) -> list[str]:
    """The ``published`` ids that ``present`` no longer has, sorted."""
    return sorted(set(published) - present)


def vanished_message(gone: list[str], where: str) -> str:
    """What to tell someone whose change removed ids that ``where`` published."""
    return (f"ids published in {where} have no record any more: " + ", ".join(gone)
            + ". Ids are never deleted or reused: restore each record and withdraw it instead "
            "(status: withdrawn with withdrawn_reason, and replaced_by if another record supersedes it)")


def _terms(origin: str, vocabulary: dict) -> dict[str, dict]:
    terms = vocabulary.get("terms", [])
    if not isinstance(terms, list) or not all(isinstance(t, dict) and isinstance(t.get("id"), str) for t in terms):
        raise PackageError(f"{origin}: {VOCABULARIES.json_path}: vocabulary {vocabulary['id']}: "
                           "terms must be a list of objects, each with an id")
    return {t["id"]: t for t in terms}


# --- comparing --------------------------------------------------------------------------


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """``{"a": [{"b": 1}]}`` -> ``{"a[0].b": 1}``: one entry per scalar, for field-level diffs."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key in sorted(value):
            out.update(flatten(value[key], f"{prefix}.{key}" if prefix else key))
        return out
    if isinstance(value, list) and value:
        out = {}
        for i, item in enumerate(value):
            out.update(flatten(item, f"{prefix}[{i}]"))
        return out
    return {prefix: value}


@dataclass
class FieldChange:
    path: str
    old: Any
    new: Any


@dataclass
class RecordChange:
    id: str
    changes: list[FieldChange]


@dataclass
class TableDiff:
    added: list[str] = field(default_factory=list)
    withdrawn: list[str] = field(default_factory=list)
    changed: list[RecordChange] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    """Ids in OLD that NEW lacks: an error, since ids are never deleted."""


@dataclass
class SchemaChange:
    resource: str
    field: str | None
    change: str
    """added, removed, type-changed, constraints-tightened, constraints-relaxed, resource-added,
    resource-removed."""
    detail: str
    bump: str


@dataclass
class Diff:
    old_version: str | None
    new_version: str | None
    tables: dict[str, TableDiff]
    vocabularies: TableDiff
    schema: list[SchemaChange]
    metadata: list[FieldChange]
    bump: str

    @property
    def missing(self) -> list[str]:
        """Ids (and vocabulary terms) of OLD that NEW no longer has: no bump can publish that."""
        return sorted(i for t in [*self.tables.values(), self.vocabularies] for i in t.missing)

    @property
    def verdict(self) -> str:
        """The bump the changes need, or ``refused`` when ids are missing."""
        return REFUSED if self.missing else self.bump

    def as_json(self) -> dict:
        out = asdict(self)
        out["missing"] = self.missing
        out["bump"] = self.verdict
        return out


def _is_withdrawn(record: dict) -> bool:
    return record.get("status") == "withdrawn"


def _diff_table(old: dict[str, dict], new: dict[str, dict]) -> TableDiff:
    result = TableDiff()
    for rid in sorted(old.keys() | new.keys()):
        if rid not in new:
            result.missing.append(rid)
        elif rid not in old:
            result.added.append(rid)
        elif old[rid] != new[rid]:
            if _is_withdrawn(new[rid]) and not _is_withdrawn(old[rid]):
                result.withdrawn.append(rid)
            else:
                a, b = flatten(old[rid]), flatten(new[rid])
                changes = [FieldChange(p, a.get(p), b.get(p)) for p in sorted(a.keys() | b.keys())
                           if a.get(p) != b.get(p) and not (_blank(a.get(p)) and _blank(b.get(p)))]
                if changes:  # else only a field the schema added, empty: reported as a schema change
                    result.changed.append(RecordChange(rid, changes))
    return result


def _blank(value: Any) -> bool:
    """Absent, null and empty mean the same: no value."""
    return value is None or value == [] or value == {}


def _diff_vocabularies(old: dict, new: dict) -> TableDiff:
    flat = lambda vocabs: {f"{v}:{t}": term for v, terms in vocabs.items() for t, term in terms.items()}  # noqa: E731
    result = _diff_table(flat(old), flat(new))
    return result


def _resources(descriptor: dict) -> dict[str, dict]:
    return {r["name"]: r for r in descriptor.get("resources", [])}  # read_package checked each has one


def _constraint_change(key: str, old: Any, new: Any) -> str:
    """``tightened`` or ``relaxed`` for one constraint going from ``old`` to ``new`` (None: absent)."""
    if old is None:
        return "relaxed" if key == "required" and new is False else "tightened"
    if new is None:
        return "relaxed"
    if key in ("required", "unique"):
        return "tightened" if new and not old else "relaxed"
    if key in STRICTER_WHEN_LARGER:
        return "tightened" if new > old else "relaxed"
    if key in STRICTER_WHEN_SMALLER:
        return "tightened" if new < old else "relaxed"
    if key == "enum":
        return "tightened" if set(map(str, old)) - set(map(str, new)) else "relaxed"
    return "tightened"  # a pattern or anything else changed: it may reject what passed before


def _diff_schema(old: dict, new: dict) -> list[SchemaChange]:
    changes = []
    old_res, new_res = _resources(old), _resources(new)
    for name in sorted(old_res.keys() | new_res.keys()):
        if name not in new_res:
            changes.append(SchemaChange(name, None, "resource-removed", "resource removed", "major"))
            continue
        if name not in old_res:
            changes.append(SchemaChange(name, None, "resource-added", "resource added", "minor"))
            continue
        old_fields = {f["name"]: f for f in old_res[name].get("schema", {}).get("fields", [])}
        new_fields = {f["name"]: f for f in new_res[name].get("schema", {}).get("fields", [])}
        for fname in sorted(old_fields.keys() | new_fields.keys()):
            a, b = old_fields.get(fname), new_fields.get(fname)
            if b is None:
                changes.append(SchemaChange(name, fname, "removed", "field removed", "major"))
            elif a is None:
                changes.append(SchemaChange(name, fname, "added", f"field added ({b.get('type', 'any')})", "minor"))
            else:
                if a.get("type", "any") != b.get("type", "any") or a.get("format") != b.get("format"):
                    changes.append(SchemaChange(
                        name, fname, "type-changed",
                        f"type {_type(a)} -> {_type(b)}", "major"))
                ca, cb = a.get("constraints", {}), b.get("constraints", {})
                for key in sorted(ca.keys() | cb.keys()):
                    if ca.get(key) != cb.get(key):
                        how = _constraint_change(key, ca.get(key), cb.get(key))
                        changes.append(SchemaChange(
                            name, fname, f"constraints-{how}",
                            f"{key}: {_show(ca.get(key))} -> {_show(cb.get(key))}",
                            "major" if how == "tightened" else "minor"))
        pk_a = old_res[name].get("schema", {}).get("primaryKey")
        pk_b = new_res[name].get("schema", {}).get("primaryKey")
        if pk_a != pk_b:
            changes.append(SchemaChange(name, None, "primary-key-changed",
                                        f"primaryKey {_show(pk_a)} -> {_show(pk_b)}", "major"))
    return changes


def _type(f: dict) -> str:
    return f.get("type", "any") + (f"/{f['format']}" if f.get("format") else "")


def _show(value: Any) -> str:
    if value is None:
        return "(none)"
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= 120 else text[:117] + "..."


def _diff_metadata(old: dict, new: dict) -> list[FieldChange]:
    strip = lambda d: {k: v for k, v in d.items() if k not in VOLATILE}  # noqa: E731
    a, b = flatten(strip(old)), flatten(strip(new))
    return [FieldChange(p, a.get(p), b.get(p)) for p in sorted(a.keys() | b.keys()) if a.get(p) != b.get(p)]


def _data_hashes(descriptor: dict) -> dict[str, Any]:
    return {name: r.get("hash") for name, r in _resources(descriptor).items()}


def diff(old: Package, new: Package) -> Diff:
    """Every difference between two packages and the bump it requires."""
    tables = {k.plural: _diff_table(old.records[k.plural], new.records[k.plural]) for k in TABLES}
    vocabularies = _diff_vocabularies(old.vocabularies, new.vocabularies)
    schema = _diff_schema(old.descriptor, new.descriptor)
    metadata = _diff_metadata(old.descriptor, new.descriptor)
    levels = [c.bump for c in schema]
    for t in [*tables.values(), vocabularies]:
        if t.added:
            levels.append("minor")
        if t.withdrawn or t.changed:
            levels.append("patch")
    if metadata:
        levels.append("patch")
    # Data that changed outside the records compared here (a CSV written differently...).
    if _data_hashes(old.descriptor) != _data_hashes(new.descriptor):
        levels.append("patch")
    bump = max(levels, key=BUMPS.index, default="none")
    return Diff(old.version, new.version, tables, vocabularies, schema, metadata, bump)


# --- versions ---------------------------------------------------------------------------


def parse_version(text: str) -> tuple[int, int, int]:
    """``"1.2.3"`` -> ``(1, 2, 3)``; ValueError for anything else."""
    parts = text.split(".")
    if len(parts) != 3 or not all(p.isdigit() and (p == "0" or not p.startswith("0")) for p in parts):
        raise ValueError(f"{text!r} is not a version MAJOR.MINOR.PATCH, e.g. 1.2.0")
    return int(parts[0]), int(parts[1]), int(parts[2])


def bump_of(old: str, new: str) -> str:
    """The bump from ``old`` to ``new``: major, minor, patch, or none when not greater."""
    a, b = parse_version(old), parse_version(new)
    if b <= a:
        return "none"
    if b[0] != a[0]:
        return "major"
    return "minor" if b[1] != a[1] else "patch"


def next_version(old: str, bump: str) -> str:
    major, minor, patch = parse_version(old)
    return {"major": f"{major + 1}.0.0", "minor": f"{major}.{minor + 1}.0",
            "patch": f"{major}.{minor}.{patch + 1}", "none": old}[bump]


# --- the report -------------------------------------------------------------------------


def _short(value: Any, width: int = 100) -> str:
    if value is None:
        return "(none)"
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= width else text[: width - 3] + "..."


def _change(old: Any, new: Any, width: int = 100) -> str:
    """``old -> new``; two long texts are shown from just before where they first differ."""
    if isinstance(old, str) and isinstance(new, str) and max(len(old), len(new)) > width:
        start = next((i for i, (x, y) in enumerate(zip(old, new)) if x != y), min(len(old), len(new)))
        start = max(0, start - 20)
        if start:
            old, new = "..." + old[start:], "..." + new[start:]
    return f"{_short(old, width)} -> {_short(new, width)}"


def format_report(d: Diff) -> str:
    """The human-readable report; its last line is the bump alone, or ``refused``."""
    lines = [f"comparing {d.old_version or '(no version)'} -> {d.new_version or '(no version)'}"]
    for table, t in [*d.tables.items(), ("vocabulary terms", d.vocabularies)]:
        if t.missing:
            lines.append(f"ERROR {table} missing from NEW (ids are never deleted; withdraw instead): "
                         + ", ".join(t.missing))
        for rid in t.added:
            lines.append(f"{table}: added {rid}")
        for rid in t.withdrawn:
            lines.append(f"{table}: withdrawn {rid}")
        for rc in t.changed:
            lines.append(f"{table}: changed {rc.id}")
            for c in rc.changes:
                lines.append(f"    {c.path}: {_change(c.old, c.new)}")
    for s in d.schema:
        where = f"{s.resource}.{s.field}" if s.field else s.resource
        lines.append(f"schema: {where}: {s.detail} ({s.bump})")
    for c in d.metadata:
        lines.append(f"metadata: {c.path}: {_short(c.old)} -> {_short(c.new)}")
    if len(lines) == 1:
        lines.append("no changes")
    lines.append(d.verdict)
    return "\n".join(lines)
