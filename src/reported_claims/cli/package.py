"""Commands on the data package: build, diff, release, export."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from contextlib import ExitStack, nullcontext
from pathlib import Path
from typing import Optional

import click

from reported_claims.cli.options import nothing_to_do, print_problems, progress, repo_option, speed_options
from reported_claims.package import DATA, DESCRIPTOR


def _generated() -> tuple[str, ...]:
    """What a build writes, and the pull-request workflow wants committed as the build leaves it."""
    from reported_claims.package.schemas import SCHEMA_DIR

    return DESCRIPTOR, DATA, SCHEMA_DIR


def _hashes(root: Path, known: Optional[dict[str, str]] = None, manifest: Optional[dict] = None) -> dict[str, str]:
    """SHA-256 of every generated file, by its path relative to ``root``; ``known`` gives those
    of the package (datapackage.json and data/) as a build just wrote it. A file whose stat is
    still the one the last build's ``manifest`` keeps for it is taken at the hash kept with it."""
    from reported_claims.repo.cache import trusted

    stats, kept = (manifest.get("stats"), manifest.get("package")) if isinstance(manifest, dict) else (None, None)
    if not isinstance(stats, dict) or not isinstance(kept, dict):
        stats, kept = {}, {}
    out = {}
    for name in _generated():
        if known is not None and name in (DESCRIPTOR, DATA):
            continue
        top = root / name
        for path in [top] if top.is_file() else sorted(p for p in top.rglob("*") if p.is_file()):
            rel = path.relative_to(root).as_posix()
            st = path.lstat()
            stat = stats.get(rel)
            if (rel in kept and isinstance(stat, list)
                    and trusted((st.st_size, st.st_mtime_ns, st.st_ino), tuple(stat), manifest.get("stats_ns"))):
                out[rel] = kept[rel]
            else:
                with open(path, "rb") as fh:  # a piece at a time: claims.json of 100,000 claims is 354 MB
                    out[rel] = hashlib.file_digest(fh, "sha256").hexdigest()
    return {**out, **(known or {})}


def _package(hashes: dict[str, str]) -> dict[str, str]:
    """Of the hashes of the generated files, those of the package: datapackage.json and data/."""
    return {rel: h for rel, h in hashes.items() if rel == DESCRIPTOR or rel.startswith(f"{DATA}/")}


def _uncommitted(root: Path) -> Optional[list[str]]:
    """The generated files that differ from the last commit, or None outside a git work tree."""
    try:
        prefix = subprocess.run(["git", "rev-parse", "--show-prefix"], cwd=root, capture_output=True,
                                text=True, timeout=30)
        status = subprocess.run(["git", "status", "--porcelain=v1", "-z", "--no-renames",
                                 "--untracked-files=all", "--", *_generated()],
                                cwd=root, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    if prefix.returncode or status.returncode:
        return None
    # Each entry is "XY PATH", the path relative to the top of the work tree.
    return sorted(entry[3:].removeprefix(prefix.stdout.strip()) for entry in status.stdout.split("\0") if entry)


@click.command()
@repo_option
@click.option("--wait", type=click.FloatRange(min=0), default=60, show_default=True,
              help="Seconds to wait for another build of the repository to finish.")
@click.option("--check", "full_check", is_flag=True,
              help="Also run the Frictionless validator and the JSON Schemas over the built package "
                   "before publishing it (CI does); the files written are the same.")
@speed_options
def build(repo, wait, full_check, quiet, no_cache, jobs):
    """Validate, then regenerate the schemas and build the data package.

    Writes datapackage.json and data/ (CSV and JSON) once their primary and foreign keys
    hold (with --check, once the Frictionless validator has passed them); on any failure the
    previous package is left as it was. Then lists the
    generated files that changed: commit them with your records (CI rebuilds and compares).

    \b
    Example:
        reported-claims build
        reported-claims build --check
        SOURCE_DATE_EPOCH=1712900000 reported-claims build --repo path/to/repo
    """
    from reported_claims import __version__
    from reported_claims.check.validate import validate as run
    from reported_claims.package import incremental
    from reported_claims.package.build import FAULT_ENV, fault_hook
    from reported_claims.package.build import build as run_build
    from reported_claims.package.build import lock as build_lock
    from reported_claims.repo.cache import Cache, LastBuild
    from reported_claims.repo.spill import Spill

    shown_progress = progress("build", quiet)
    notify = lambda message: click.echo(message, err=True)  # noqa: E731
    # A build that may build on the last one reads the package that one wrote: it holds the build
    # lock from before it reads it to after it keeps what it wrote. Any other takes it to write.
    store = None if no_cache else Cache(repo)
    manifest = LastBuild(store).manifest() if store is not None else None
    builds_on = manifest is not None
    with build_lock(repo, wait, notify) if builds_on else nullcontext(), ExitStack() as stack:
        before = _hashes(repo, manifest=manifest)
        # After a few edits, only what they touch is read again (package.incremental); else everything.
        chosen = incremental.plan(repo, store, __version__, _package(before), jobs) if store is not None and builds_on else None
        prepared = incremental.prepare(repo, chosen, jobs) if chosen is not None else None
        # A full build validates as `validate` does, keeping outlines, with each record put aside
        # whole in a spill file (``repo.spill``): the package is then made a window of records at a time.
        spill = stack.enter_context(Spill()) if prepared is None else None
        result = prepared.result if prepared is not None else run(repo, cache=not no_cache, jobs=jobs,
                                                                     progress=shown_progress, lean=True, spill=spill)
        shown_progress.done()
        print_problems(result.problems)
        if result.errors:
            click.echo(f"{len(result.errors)} error(s): nothing was written", err=True)
            sys.exit(1)
        if not result.dataset.count:
            nothing_to_do("no record to build under records/: nothing was written")
        if prepared is None:
            result.settle()  # the problems are out: a full build needs the records, not their documents
        shown_progress.step("writing the package")
        # The fault hook is a debugging aid for the build's own tests: the one place its variable is read.
        parts = prepared.parts if prepared is not None else None if no_cache else incremental.Parts()
        built = run_build(repo, result.dataset, fault=fault_hook(os.environ.get(FAULT_ENV)), wait=wait,
                          notify=notify, full_check=full_check, parts=parts,
                          ctx=prepared.ctx if prepared is not None else None, locked=builds_on, jobs=jobs)
        after = _hashes(repo, built.hashes)
        if parts is not None:
            incremental.remember(repo, prepared.dataset if prepared is not None else result.dataset, parts,
                                 __version__, package=_package(after),
                                 kept=prepared.kept if prepared is not None else None)
    shown_progress.done()
    for rel in built.schemas_written:
        click.echo(f"wrote {rel}")
    again = "" if prepared is None or prepared.ctx is None else (
        f" (made again: {len(prepared.parts.made)} record(s), the changed ones and those referring to them; "
        "the others' lines copied from the last build's files)")
    click.echo(f"built datapackage.json: {built.resources} resources in data/{again}")
    changed = _uncommitted(repo)
    if changed is None:  # not under git: what this build changed
        changed = sorted(p for p in before.keys() | after.keys() if before.get(p) != after.get(p))
    if changed:
        click.echo(f"changed: {', '.join(changed)} — commit these with your records")


@click.command()
@click.argument("old", type=click.Path(exists=True, path_type=Path))
@click.argument("new", type=click.Path(exists=True, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the diff as JSON.")
def diff(old, new, as_json):
    """Compare two built data packages and say which version bump the changes need.

    OLD and NEW are folders holding datapackage.json, or release zip archives. The last
    line of the report is the bump alone: major, minor, patch or none; or `refused`, with
    exit status 3, when an id of OLD is missing from NEW (ids are never deleted: withdraw the
    record instead).

    \b
    Example:
        reported-claims diff reported-claims-1.0.0.zip .
    """
    import json

    from reported_claims.package import diff as differ

    result = differ.diff(differ.read_package(old), differ.read_package(new))
    if as_json:
        click.echo(json.dumps(result.as_json(), indent=2, sort_keys=True, ensure_ascii=False))
    else:
        click.echo(differ.format_report(result))
    if result.missing:
        click.echo(
            "error: ids in OLD are missing from NEW: " + ", ".join(result.missing)
            + " (ids are never deleted: restore the records and withdraw them)",
            err=True,
        )
        sys.exit(3)


@click.command()
@click.option("--version", "version", help="The new data version, X.Y.Z.")
@click.option(
    "--previous",
    type=click.Path(exists=True, path_type=Path),
    help="The previous release: a package folder or zip. Default: the package at the latest v* tag.",
)
@click.option("--dist-only", is_flag=True, help="Only write dist/ for the current version (the tag workflow).")
@click.option("--branch", default="main", show_default=True, metavar="NAME",
              help="The branch releases are cut from: release refuses any other, and uncommitted files.")
@repo_option
def release(version, previous, dist_only, branch, repo):
    """Cut a release: check the version against the changes, stamp it, write dist/.

    Refuses a version that is not greater than the previous release, or a smaller bump than
    the changes need (see `reported-claims diff`), and refuses to run anywhere but a clean
    checkout of the release branch. Writes src/reported_claims/_version.py,
    datapackage.json, the CHANGELOG.md entry, and dist/reported-claims-X.Y.Z.zip, the same
    tables as reported-claims-X.Y.Z.db (SQLite) and, with pyarrow installed,
    reported-claims-X.Y.Z-parquet.zip, with dist/SHA256SUMS.

    \b
    Example:
        reported-claims release --version 1.1.0
        reported-claims release --dist-only
    """
    from reported_claims.package import release as rel

    if dist_only:
        for path in rel.write_dist(repo, version):
            click.echo(f"wrote {path}")
        return
    if not version:
        raise click.UsageError("give --version X.Y.Z (or --dist-only)")
    done = rel.release(repo, version, previous, branch)
    since = f"{done.diff.bump} changes since {done.previous}" if done.diff else "first release"
    click.echo(f"released {done.version} ({since})")
    for path in done.written:
        click.echo(f"wrote {path}")


def _package_folder(ctx, param, value: Optional[Path]) -> Path:
    """The package to export: the repository's when there is one, else the installed one."""
    from reported_claims.client.api import package_folder

    return package_folder(value)


@click.command()
@click.argument("fmt", metavar="FORMAT", type=click.Choice(["parquet", "sqlite", "jsonl", "xlsx", "dictionary"]))
@click.option("--out", type=click.Path(path_type=Path),
              help="Where to write: a folder for parquet [default: reported-claims-parquet] and jsonl "
                   "[default: reported-claims-jsonl], a file for sqlite [default: reported-claims.db] and "
                   "xlsx [default: reported-claims.xlsx] and dictionary [default: data-dictionary.md].")
@click.option("--metadata", "metadata_path", type=click.Path(dir_okay=False, path_type=Path),
              help="sqlite only: write Datasette's metadata here.  [default: metadata.json beside the database]")
@click.option("--no-metadata", is_flag=True, help="sqlite only: write no Datasette metadata.")
@click.option("--package", type=click.Path(file_okay=False, path_type=Path),
              help="A built package folder (datapackage.json and data/). Default: the repository's.")
@click.option("--repo", type=click.Path(file_okay=False, path_type=Path), default=None, callback=_package_folder,
              help="The repository whose package to export.  [default: the nearest one from the current "
                   "folder up, else the package installed with reported-claims]")
def export(fmt, out, metadata_path, no_metadata, package, repo):
    """Write the data package's tables as Parquet, SQLite, JSON Lines or Excel, or its data dictionary.

    parquet (needs the `parquet` extra: pyarrow) writes OUT/<table>.parquet for every CSV
    table and OUT/datapackage.json describing them. sqlite (needs the `export` extra) writes
    one database with typed columns, primary and foreign keys, full-text search on claim
    statements and report quotes and the view report_list, and Datasette's metadata.json
    (labels, canned queries) beside it; Datasette names the database after the file, and the
    metadata's key is that name. jsonl writes OUT/<table>.jsonl, one JSON object a row.
    xlsx (needs the `export` extra) writes one Excel workbook, a sheet per table.
    dictionary writes the data dictionary in Markdown: every table and column, its type,
    constraints and vocabulary terms, and an example row (the repository keeps it as
    docs/data-dictionary.md).

    \b
    Example:
        reported-claims export sqlite && datasette reported-claims.db --metadata metadata.json
        reported-claims export parquet --out parquet
        reported-claims export jsonl --out jsonl
        reported-claims export xlsx --out reported-claims.xlsx
        reported-claims export dictionary --out docs/data-dictionary.md
    """
    from reported_claims.package.export import export as run

    options = {}
    if metadata_path is not None or no_metadata:
        if fmt != "sqlite":
            raise click.UsageError("--metadata and --no-metadata are for the sqlite format")
        if metadata_path is not None and no_metadata:
            raise click.UsageError("give --metadata PATH or --no-metadata, not both")
        options["metadata"] = metadata_path if metadata_path is not None else False
    for path in run(fmt, package if package is not None else repo, out, **options):
        click.echo(f"wrote {path}")
