"""Cutting a release: check the version against the changes, stamp it, write the assets.

``release()`` compares the package built from the records with the previous release (by
default the package committed at the latest ``v*`` tag), refuses a version that is not
greater or that understates the bump the changes require, then writes ``_version.py``,
rebuilds the package so that ``datapackage.json`` carries the version, prepends the
CHANGELOG entry, stamps CITATION.cff and writes ``dist/``. ``write_dist()`` alone is what
the tag workflow runs; it refuses a ``data/`` that the records no longer build to.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import subprocess
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from reported_claims.errors import ReportedClaimsError
from reported_claims.util.fs import atomic_file, atomic_write
from reported_claims.model.kinds import KINDS, kind
from reported_claims.package import DATA, DESCRIPTOR
from reported_claims.package.diff import (
    BUMPS,
    Diff,
    Package,
    PackageError,
    bump_of,
    diff,
    next_version,
    parse_version,
    read_package,
    vanished as diff_vanished,
    vanished_message,
)

VERSION_FILE = "src/reported_claims/_version.py"
CHANGELOG = "CHANGELOG.md"
CHANGELOG_HEAD = (
    "# Changelog\n\n"
    "Changes to the data, newest first. Versions follow the Frictionless data-package-version\n"
    "rules (see RELEASING.md). Entries are written by `reported-claims release`.\n"
)
CITATION = "CITATION.cff"
DIST = "dist"
BESIDE = (CITATION, "LICENSE", "LICENSE-DATA", "README.md")
"""What every release archive holds beside the package: the licences, the README, the citation."""
# Every entry of the archive gets this time, so that the same data gives the same bytes.
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_VERSION_LINE = re.compile(r'^__version__ = "[^"]*"$', re.MULTILINE)
_CITATION_VERSION = re.compile(r"^version: .*$", re.MULTILINE)


class ReleaseError(ReportedClaimsError):
    """A release refused: the message says why and what to do."""


@dataclass
class Released:
    version: str
    previous: str | None
    """Where the previous package came from (a tag, a path), or None for a first release."""
    diff: Diff | None
    written: list[str]


# --- the previous release -----------------------------------------------------------------


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, check=False)


def latest_tag(repo: Path) -> str | None:
    """The ``vX.Y.Z`` tag with the highest version, or None."""
    out = _git(repo, "tag", "--list", "v*")
    tags = []
    for tag in out.stdout.decode().split():
        try:
            tags.append((parse_version(tag[1:]), tag))
        except ValueError:
            continue
    return max(tags)[1] if tags else None


def package_at_tag(repo: Path, tag: str, workdir: Path) -> Package:
    """The data package committed at ``tag`` (``datapackage.json`` and ``data/``)."""
    archive = workdir / "previous.zip"
    out = _git(repo, "archive", "--format=zip", f"--prefix=reported-claims-{tag}/", "-o", str(archive),
               tag, "--", DESCRIPTOR, DATA)
    if out.returncode != 0:
        raise ReleaseError(
            f"tag {tag} holds no built data package (datapackage.json and data/): "
            f"{out.stderr.decode().strip()}; pass the previous release with --previous PATH_OR_ZIP"
        )
    return read_package(archive)


def previous_package(repo: Path, previous: Path | None, workdir: Path) -> tuple[Package | None, str | None]:
    if previous is not None:
        return read_package(previous), str(previous)
    tag = latest_tag(repo)
    if tag is None:
        return None, None
    return package_at_tag(repo, tag, workdir), tag


# --- checks -------------------------------------------------------------------------------


def check_version(version: str, previous: Package | None, changes: Diff | None) -> None:
    """Refuse a version that is not greater than the previous or understates the changes."""
    try:
        parse_version(version)
    except ValueError as exc:
        raise ReleaseError(str(exc)) from None
    if previous is None or changes is None:
        return
    if changes.missing:
        raise ReleaseError(
            "ids of the previous release are missing: " + ", ".join(changes.missing)
            + ". Ids are never deleted: restore the records and withdraw them instead"
        )
    old = previous.version
    if not old:
        raise ReleaseError("the previous package has no version in its datapackage.json")
    given = bump_of(old, version)
    if given == "none":
        raise ReleaseError(f"version {version} is not greater than the previous release {old}")
    if BUMPS.index(given) < BUMPS.index(changes.bump):
        raise ReleaseError(
            f"version {version} is a {given} release, but the changes since {old} need a "
            f"{changes.bump} release: use {next_version(old, changes.bump)} "
            f"(see `reported-claims diff` for what changed)"
        )


RELEASE_BRANCH = "main"
"""The branch releases are cut from, unless ``release(branch=...)`` names another."""


def clean_checkout(repo: Path, branch: str = RELEASE_BRANCH) -> None:
    """Refuse unless ``repo`` is a git checkout of ``branch`` with nothing uncommitted.

    A release stamps what is committed: an edited or untracked record would be published
    under a version whose tag does not hold it.
    """
    if _git(repo, "rev-parse", "--is-inside-work-tree").returncode:
        raise ReleaseError(f"{repo} is not a git checkout: releases are cut from a clean checkout of {branch}")
    head = _git(repo, "symbolic-ref", "--quiet", "--short", "HEAD")
    current = head.stdout.decode("utf-8", "replace").strip() if not head.returncode else None
    if current != branch:
        raise ReleaseError(f"releases are cut from {branch}, and HEAD is "
                           + (f"on {current}" if current else "detached")
                           + f": check out {branch} (or name the branch with --branch)")
    status = _git(repo, "status", "--porcelain=v1", "-z", "--untracked-files=all")
    if status.returncode:
        raise ReleaseError(f"git status failed: {status.stderr.decode('utf-8', 'replace').strip()}")
    dirty = [entry[3:] for entry in status.stdout.decode("utf-8", "replace").split("\0") if entry[3:]]
    if dirty:
        shown = ", ".join(dirty[:10]) + (f" and {len(dirty) - 10} more" if len(dirty) > 10 else "")
        raise ReleaseError(f"uncommitted changes: {shown}. Commit them (or stash them) first: "
                           "a release publishes what is committed")


def vanished(repo: Path, previous: Package, label: str) -> None:
    """Refuse when a record file of an id the previous release published is gone."""
    present = {p.stem for k in KINDS if k.prefix for p in (Path(repo) / k.folder).glob("*.yaml")}
    gone = diff_vanished((rid for table in previous.records.values() for rid in table), present)
    if gone:
        raise ReleaseError(vanished_message(gone, f"the previous release ({label})"))


# --- writing ------------------------------------------------------------------------------


def read_version(repo: Path) -> str:
    """The data version written in the checkout's ``_version.py``."""
    text = (repo / VERSION_FILE).read_text(encoding="utf-8")
    m = re.search(r'^__version__ = "([^"]*)"$', text, re.MULTILINE)
    if not m:
        raise ReleaseError(f"{VERSION_FILE} has no line __version__ = \"X.Y.Z\"")
    return m.group(1)


def write_version(repo: Path, version: str) -> None:
    """Stamp ``version`` into the checkout's ``_version.py``."""
    path = repo / VERSION_FILE
    text = path.read_text(encoding="utf-8")
    atomic_write(path, _VERSION_LINE.sub(f'__version__ = "{version}"', text))


def write_citation_version(repo: Path, version: str) -> None:
    """Stamp ``version`` into the checkout's CITATION.cff."""
    path = repo / CITATION
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ReleaseError(f"cannot read {CITATION} ({exc}): a release carries its citation") from None
    if not _CITATION_VERSION.search(text):
        raise ReleaseError(f"{CITATION} has no line `version: X.Y.Z`")
    atomic_write(path, _CITATION_VERSION.sub(f"version: {version}", text, count=1))


def rebuild(repo: Path, version: str) -> None:
    """Validate the records of ``repo`` and rebuild its data package, carrying ``version``."""
    from reported_claims.package import build as builder
    from reported_claims.check.validate import validate

    result = validate(repo)
    if result.errors:
        raise ReleaseError(
            f"{len(result.errors)} record error(s): run `reported-claims validate` and fix them first"
        )
    # Passed, not imported: this process may just have written a new _version.py.
    try:
        builder.build(repo, result.dataset, version=version)
    except builder.BuildError as exc:
        raise ReleaseError(f"the build failed: {exc}") from None


def release_date(repo: Path) -> dt.date:
    """SOURCE_DATE_EPOCH if set, else the date of the last commit; never the clock."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if not epoch:
        out = _git(repo, "log", "-1", "--format=%ct")
        epoch = out.stdout.decode().strip()
    if not epoch.isdigit():
        raise ReleaseError("no date for the release: set SOURCE_DATE_EPOCH or run inside a git checkout")
    return dt.datetime.fromtimestamp(int(epoch), dt.timezone.utc).date()


def _label(package: Package, table: str, rid: str) -> str:
    record = package.records[table].get(rid, {})
    text = record.get("statement") or record.get("title") or record.get("name")
    return f"{_kind(table)} `{rid}`" + (f": {text}" if text else "")


def changelog_entry(version: str, date: dt.date, previous: str | None, changes: Diff | None,
                    new: Package) -> str:
    """The CHANGELOG section of one release, from its diff."""
    head = f"## {version} - {date.isoformat()}\n"
    if changes is None:
        counts = ", ".join(f"{len(records)} {t}" for t, records in new.records.items())
        return f"{head}\nFirst release: {counts}.\n"
    sections: dict[str, list[str]] = {"Added": [], "Withdrawn": [], "Corrected": [], "Schema": [],
                                      "Metadata": []}
    for table, t in changes.tables.items():
        sections["Added"] += [f"- {_label(new, table, rid)}" for rid in t.added]
        for rid in t.withdrawn:
            reason = (new.records[table][rid].get("withdrawal") or {}).get("reason")
            sections["Withdrawn"].append(f"- {_kind(table)} `{rid}`" + (f": {reason}" if reason else ""))
        for rc in t.changed:
            fields = ", ".join(sorted({re.sub(r"\[\d+\].*", "", c.path) for c in rc.changes}))
            sections["Corrected"].append(f"- {_kind(table)} `{rc.id}`: {fields}")
    v = changes.vocabularies
    sections["Added"] += [f"- vocabulary term `{i}`" for i in v.added]
    sections["Corrected"] += [f"- vocabulary term `{rc.id}`" for rc in v.changed]
    for s in changes.schema:
        where = f"{s.resource}.{s.field}" if s.field else s.resource
        sections["Schema"].append(f"- `{where}`: {s.detail} ({s.bump})")
    sections["Metadata"] += [f"- `{c.path}` changed" for c in changes.metadata]
    body = [f"\n{changes.bump.capitalize()} release since {changes.old_version} ({previous}).\n"]
    for title, lines in sections.items():
        if lines:
            body.append(f"\n### {title}\n\n" + "\n".join(lines) + "\n")
    if changes.bump == "none":
        body.append("\nNo changes to the data.\n")
    return head + "".join(body)


def _kind(table: str) -> str:
    """The record kind of a table of records: ``claim`` for ``claims``."""
    return kind(table).name


def prepend_changelog(repo: Path, version: str, entry: str) -> None:
    """Put ``entry`` first under the heading, replacing an earlier entry of the same version."""
    path = repo / CHANGELOG
    text = path.read_text(encoding="utf-8") if path.exists() else CHANGELOG_HEAD
    sections = re.split(r"(?m)^(?=## )", text)
    head, entries = sections[0], sections[1:]
    entries = [e for e in entries if not e.startswith(f"## {version} ")]
    atomic_write(path, head.rstrip("\n") + "\n\n" + entry.rstrip("\n") + "\n" + "".join(
        "\n" + e.rstrip("\n") + "\n" for e in entries))


def package_files(package_dir: Path) -> list[str]:
    """The files of a built package, relative and sorted: datapackage.json and data/."""
    files = [DESCRIPTOR]
    data = package_dir / DATA
    if data.is_dir():
        files += sorted(p.relative_to(package_dir).as_posix() for p in data.rglob("*") if p.is_file())
    return files


def write_archive(package_dir: Path, version: str, out: Path) -> None:
    """The release archive: one top folder holding the package and, beside it, those of the
    licences, the README and the citation (``BESIDE``) that ``package_dir`` holds (``write_dist``
    demands all of them); sorted entries, fixed times and modes."""
    descriptor, *data = package_files(package_dir)
    beside = [name for name in BESIDE if (package_dir / name).is_file()]
    write_zip(package_dir, [descriptor, *beside, *data], f"reported-claims-{version}", out)


def write_zip(package_dir: Path, files: list[str], top: str, out: Path) -> None:
    """A zip of ``files`` (relative to ``package_dir``, in that order) under ``top/``, with fixed
    times and modes, so that the same files give the same bytes."""
    with atomic_file(out, "wb") as f, zipfile.ZipFile(f, "w") as archive:
        for rel in files:
            info = zipfile.ZipInfo(f"{top}/{rel}", date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o100644 << 16
            archive.writestr(info, (package_dir / rel).read_bytes(), compresslevel=9)


def stale_data(repo: Path, version: str) -> list[str]:
    """The files of the committed package (``datapackage.json`` and ``data/``) that differ from
    what the records build to now, built in a temporary folder; empty when they agree."""
    from reported_claims.package.build import context, write_package
    from reported_claims.repo.load import load

    dataset, _ = load(repo)
    with tempfile.TemporaryDirectory(prefix="reported-claims-fresh-") as tmp:
        fresh = Path(tmp)
        write_package(context(dataset), fresh, repo, version)
        ours, theirs = set(package_files(repo)), set(package_files(fresh))
        return sorted(rel for rel in ours | theirs
                      if rel not in ours or rel not in theirs or not _same(repo / rel, fresh / rel))


def _same(committed: Path, fresh: Path) -> bool:
    """The same bytes; for the descriptor, the same but for ``created`` (which SOURCE_DATE_EPOCH
    may set to another time for the same data)."""
    if committed.name != DESCRIPTOR:
        return committed.read_bytes() == fresh.read_bytes()
    try:
        ours, theirs = (json.loads(p.read_text(encoding="utf-8")) for p in (committed, fresh))
    except (OSError, ValueError):
        return False
    return isinstance(ours, dict) and {**ours, "created": None} == {**theirs, "created": None}


def write_dist(repo: Path, version: str | None = None, check_fresh: bool = True) -> list[str]:
    """``dist/reported-claims-X.Y.Z.zip``, the other formats and ``dist/SHA256SUMS``.

    With ``check_fresh``, refuses when ``data/`` is stale against ``records/`` (see
    ``stale_data``): a release must be the data its records say."""
    version = version or read_version(repo)
    try:
        built = read_package(repo).version
    except PackageError as exc:
        raise ReleaseError(f"{exc}: run `reported-claims build` first") from None
    if built != version:
        raise ReleaseError(
            f"datapackage.json carries version {built}, but {VERSION_FILE} says {version}: "
            f"rebuild with `reported-claims build` (or cut the release with `reported-claims release`)"
        )
    missing = [name for name in BESIDE if not (repo / name).is_file()]
    if missing:
        raise ReleaseError(f"{', '.join(missing)} missing from {repo}: a release archive carries "
                           f"{', '.join(BESIDE)} beside the package")
    if check_fresh:
        stale = stale_data(repo, version)
        if stale:
            raise ReleaseError(f"the built package is stale against records/ ({', '.join(stale)} differ from a fresh "
                               "build): run `reported-claims build`, commit the result, then release")
    dist = repo / DIST
    dist.mkdir(exist_ok=True)
    name = f"reported-claims-{version}.zip"
    write_archive(repo, version, dist / name)
    assets = [name, *write_other_formats(repo, version, dist)]
    sums = "".join(f"{_sha256(dist / a)}  {a}\n" for a in sorted(assets))
    atomic_write(dist / "SHA256SUMS", sums)
    return [f"{DIST}/{a}" for a in assets] + [f"{DIST}/SHA256SUMS"]


SQLITE_NAME = "reported-claims.db"
"""The database's name inside the SQLite archive: Datasette keys a database by its file's stem,
so every release's database is ``reported-claims`` to Datasette and to its metadata."""


def _zip_folder(folder: Path, top: str, out: Path, first: tuple[str, ...] = ()) -> None:
    names = sorted(p.name for p in folder.iterdir())
    write_zip(folder, [*first, *(n for n in names if n not in first)], top, out)


def write_other_formats(repo: Path, version: str, dist: Path) -> list[str]:
    """The other formats of the package, in ``dist``; the names written:

    ``reported-claims-X.Y.Z-sqlite.zip`` (``reported-claims.db`` and Datasette's
    ``metadata.json``), ``reported-claims-X.Y.Z-jsonl.zip`` (one ``<table>.jsonl`` a table),
    ``reported-claims-X.Y.Z.xlsx`` and, when pyarrow is installed,
    ``reported-claims-X.Y.Z-parquet.zip``."""
    from reported_claims.package import export

    names = {fmt: f"reported-claims-{version}-{fmt}.zip" for fmt in ("sqlite", "jsonl", "parquet")}
    xlsx = f"reported-claims-{version}.xlsx"
    written = []
    try:
        with tempfile.TemporaryDirectory(prefix="reported-claims-formats-") as tmp:
            for fmt in ("sqlite", "jsonl", "parquet"):
                folder = Path(tmp) / fmt
                folder.mkdir()
                try:
                    if fmt == "sqlite":
                        export.write_sqlite(repo, folder / SQLITE_NAME)
                    elif fmt == "jsonl":
                        export.write_jsonl(repo, folder)
                    else:
                        export.write_parquet(repo, folder)
                except export.MissingExtra as exc:
                    if fmt == "parquet":  # optional: a release without pyarrow has no Parquet copy
                        continue
                    raise ReleaseError(f"cannot write the {fmt} download: {exc}") from None
                first = (export.PACKAGE,) if fmt == "parquet" else ()
                _zip_folder(folder, f"reported-claims-{version}-{fmt}", dist / names[fmt], first)
                written.append(names[fmt])
        export.write_xlsx(repo, dist / xlsx)
    except export.MissingExtra as exc:
        raise ReleaseError(f"cannot write the Excel download: {exc}") from None
    except export.ExportError as exc:
        raise ReleaseError(f"cannot write the other formats: {exc}") from None
    return [*written, xlsx]


def plan(repo: Path, version: str, previous: Path | None = None) -> tuple[Package | None, str | None, Diff | None]:
    """Compare the built package with the previous release and check ``version``; write nothing."""
    with tempfile.TemporaryDirectory(prefix="reported-claims-release-") as tmp:
        prev, label = previous_package(repo, previous, Path(tmp))
    if prev is not None:
        vanished(repo, prev, label)  # before validation, which would only see what the deletion broke
    rebuild(repo, read_version(repo))
    current = read_package(repo)
    changes = diff(prev, current) if prev is not None else None
    check_version(version, prev, changes)
    return prev, label, changes


def release(repo: Path, version: str, previous: Path | None = None, branch: str = RELEASE_BRANCH) -> Released:
    """Check ``version`` against the changes since the previous release, then stamp and write it.

    Refuses unless ``repo`` is a clean checkout of ``branch``.
    """
    repo = Path(repo)
    clean_checkout(repo, branch)
    _, label, changes = plan(repo, version, previous)
    date = release_date(repo)
    write_citation_version(repo, version)  # first: it refuses a CITATION.cff without a version
    write_version(repo, version)
    rebuild(repo, version)
    new = read_package(repo)
    prepend_changelog(repo, version, changelog_entry(version, date, label, changes, new))
    # Just rebuilt from the records: no need to build them a second time to compare.
    written = [VERSION_FILE, CITATION, DESCRIPTOR, CHANGELOG, *write_dist(repo, version, check_fresh=False)]
    return Released(version, label, changes, written)


def _sha256(path: Path) -> str:
    """A file's SHA-256, read a piece at a time (an archive of the package is hundreds of MB at scale)."""
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()
