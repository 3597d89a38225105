"""The command line: thin commands over the library. Each turns a result into output and an exit code."""

from __future__ import annotations

import functools
import os
import sys
from pathlib import Path

import click

from reported_claims import __version__


def repo_option(f):
    """``--repo DIR``: the repository to work on, the current folder by default."""
    return click.option(
        "--repo",
        type=click.Path(file_okay=False, path_type=Path),
        default=Path("."),
        show_default=True,
        help="Repository folder (the one holding records/).",
    )(f)


def no_traceback(f):
    """No input may give a traceback: an unexpected error becomes one line and exit 2."""

    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        try:
            return f(*args, **kwargs)
        except (click.ClickException, click.exceptions.Exit, click.Abort, SystemExit, KeyboardInterrupt):
            raise
        except Exception as exc:  # noqa: BLE001 - the last line of defence
            if os.environ.get("REPORTED_CLAIMS_DEBUG"):
                raise
            click.echo(
                f"reported-claims: internal error: {type(exc).__name__}: {exc}\n"
                "This is a bug; please report it with the command you ran "
                "(set REPORTED_CLAIMS_DEBUG=1 for the traceback).",
                err=True,
            )
            sys.exit(2)

    return wrapper


def require_records(repo: Path) -> None:
    """Stop with a clear message when ``repo`` is not a repository of records."""
    if not (repo / "records").is_dir():
        click.echo(
            f"reported-claims: no records/ folder in {repo.resolve()}; run this in the repository "
            "or pass --repo DIR",
            err=True,
        )
        sys.exit(1)


def print_problems(problems) -> None:
    github = os.environ.get("GITHUB_ACTIONS") == "true"
    for p in problems:
        click.echo(p.format())
        if github:
            click.echo(p.github())


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="reported-claims")
def main():
    """Claims reported in the news as clean, sourced, versioned data.

    \b
    Example:
        reported-claims validate
    """


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@repo_option
@click.option("--strict", is_flag=True, help="Treat warnings (near-duplicates...) as errors.")
@no_traceback
def validate(paths, repo, strict):
    """Validate records: every problem at once, as file:line:col: where: what [code].

    With no PATH, validates every record under records/ and checks that the generated
    files under schema/ are current. With PATHs (files or folders), validates those,
    resolving references against the repository's records.

    \b
    Example:
        reported-claims validate
        reported-claims validate records/claims/clm-china-share-russian-microelectronics-2023.yaml
    """
    from reported_claims.check.validate import validate as run

    if not paths:
        require_records(repo)
    result = run(repo, list(paths) if paths else None, strict=strict)
    print_problems(result.problems)
    targets = [f for f in result.files if f.target]
    ds = result.dataset
    if result.errors:
        files = len({p.path for p in result.errors})
        click.echo(
            f"{len(result.errors)} error(s), {len(result.warnings)} warning(s) in {files} file(s)",
            err=True,
        )
        sys.exit(1)
    summary = (
        f"{len(targets)} file(s) valid ({len(ds.claims)} claims, {len(ds.sources)} sources, "
        f"{len(ds.entities)} entities, {len(ds.vocabularies)} vocabularies)"
    )
    if result.warnings:
        summary += f", {len(result.warnings)} warning(s)"
    click.echo(summary)


@main.command()
def codes():
    """List every problem code with what it means.

    \b
    Example:
        reported-claims codes
    """
    from reported_claims.problems import CODES

    width = max(map(len, CODES))
    for code, text in CODES.items():
        click.echo(f"{code:<{width}}  {text}")


@main.command()
@repo_option
@click.option("--wait", type=click.FloatRange(min=0), default=60, show_default=True, help="Seconds to wait for another build to finish.")
@no_traceback
def build(repo, wait):
    """Validate, then regenerate the schemas and build the data package.

    Writes datapackage.json and data/ (CSV and JSON) after the Frictionless validator
    has passed them; on any failure the previous package is left as it was.

    \b
    Example:
        reported-claims build
        SOURCE_DATE_EPOCH=1712900000 reported-claims build --repo path/to/repo
    """
    from reported_claims.package.build import FAULT_ENV, BuildError, fault_hook
    from reported_claims.package.build import build as run_build
    from reported_claims.check.validate import validate as run

    require_records(repo)
    result = run(repo, generated=False)
    print_problems(result.problems)
    if result.errors:
        click.echo(f"{len(result.errors)} error(s): nothing was written", err=True)
        sys.exit(1)
    try:
        built = run_build(repo, result.dataset, fault=fault_hook(os.environ.get(FAULT_ENV)), wait=wait,
                          notify=lambda message: click.echo(message, err=True))
    except BuildError as exc:
        click.echo(f"build failed: {exc}\nThe previous datapackage.json and data/ are unchanged.", err=True)
        sys.exit(1)
    for rel in built.schemas_written:
        click.echo(f"wrote {rel}")
    click.echo(f"built datapackage.json: {built.resources} resources in data/")


@main.command()
@click.argument("old", type=click.Path(exists=True, path_type=Path))
@click.argument("new", type=click.Path(exists=True, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the diff as JSON.")
@no_traceback
def diff(old, new, as_json):
    """Compare two built data packages and say which version bump the changes need.

    OLD and NEW are folders holding datapackage.json, or release zip archives. The last
    line of the report is the bump alone: major, minor, patch or none. Exits 3 when an id
    of OLD is missing from NEW (ids are never deleted: withdraw the record instead).

    \b
    Example:
        reported-claims diff reported-claims-1.0.0.zip .
    """
    import json

    from reported_claims.package import diff as differ

    try:
        result = differ.diff(differ.read_package(old), differ.read_package(new))
    except differ.PackageError as exc:
        raise click.ClickException(str(exc)) from None
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


@main.command()
@click.option("--version", "version", help="The new data version, X.Y.Z.")
@click.option(
    "--previous",
    type=click.Path(exists=True, path_type=Path),
    help="The previous release: a package folder or zip. Default: the package at the latest v* tag.",
)
@click.option("--dist-only", is_flag=True, help="Only write dist/ for the current version (the tag workflow).")
@repo_option
@no_traceback
def release(version, previous, dist_only, repo):
    """Cut a release: check the version against the changes, stamp it, write dist/.

    Refuses a version that is not greater than the previous release, or a smaller bump than
    the changes need (see `reported-claims diff`). Writes src/reported_claims/_version.py,
    datapackage.json, the CHANGELOG.md entry, and dist/reported-claims-X.Y.Z.zip, the same
    tables as reported-claims-X.Y.Z.db (SQLite) and, with pyarrow installed,
    reported-claims-X.Y.Z-parquet.zip, with dist/SHA256SUMS.

    \b
    Example:
        reported-claims release --version 1.1.0
        reported-claims release --dist-only
    """
    from reported_claims.package import release as rel
    from reported_claims.package.diff import PackageError

    try:
        if dist_only:
            for path in rel.write_dist(repo, version):
                click.echo(f"wrote {path}")
            return
        if not version:
            raise click.UsageError("give --version X.Y.Z (or --dist-only)")
        done = rel.release(repo, version, previous)
    except (rel.ReleaseError, PackageError) as exc:
        click.echo(f"release refused: {exc}", err=True)
        sys.exit(1)
    since = f"{done.diff.bump} changes since {done.previous}" if done.diff else "first release"
    click.echo(f"released {done.version} ({since})")
    for path in done.written:
        click.echo(f"wrote {path}")


@main.command()
@click.argument("fmt", metavar="FORMAT", type=click.Choice(["parquet", "sqlite"]))
@click.option("--out", type=click.Path(path_type=Path),
              help="Where to write: a folder for parquet [default: reported-claims-parquet], "
                   "a file for sqlite [default: reported-claims.db].")
@click.option("--package", type=click.Path(file_okay=False, path_type=Path),
              help="A built package folder (datapackage.json and data/). Default: the repository's.")
@repo_option
@no_traceback
def export(fmt, out, package, repo):
    """Write the data package's tables as Parquet files or an SQLite database.

    parquet (needs the `parquet` extra: pyarrow) writes OUT/<table>.parquet for every CSV
    table and OUT/datapackage.json describing them. sqlite writes one database with typed
    columns, primary and foreign keys, and Datasette's metadata.json beside it.

    \b
    Example:
        reported-claims export sqlite && datasette reported-claims.db --metadata metadata.json
        reported-claims export parquet --out parquet
    """
    from reported_claims.package.export import ExportError
    from reported_claims.package.export import export as run

    try:
        written = run(fmt, package if package is not None else repo, out)
    except ExportError as exc:
        click.echo(f"export failed: {exc}", err=True)
        sys.exit(1)
    for path in written:
        click.echo(f"wrote {path}")


@main.command()
@click.argument("kind", type=click.Choice(["claim", "source", "entity"]))
@click.option("--slug", metavar="WORDS", help="A few words for the id, e.g. 'yellen warns banks'.")
@repo_option
@no_traceback
def new(kind, slug, repo):
    """Create a record with a fresh id and placeholders, and print its path.

    The id is the slug plus a random suffix, so ids made on different branches never
    collide. `validate` flags every placeholder (code `placeholder`) until you fill it in.

    \b
    Example:
        reported-claims new claim --slug "yellen warns chinese banks"
        reported-claims new source --slug "ap china surges sales"
    """
    from reported_claims.repo.scaffold import new as create

    path = create(repo, kind, slug)
    click.echo(path.as_posix())


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--check", is_flag=True, help="Change nothing; list the files that are not canonical and exit 1.")
@repo_option
@no_traceback
def fmt(paths, check, repo):
    """Rewrite records in the one canonical layout (key order, quoting, no blank lines).

    Never changes a value. A file that does not read or validate structurally is reported
    and left untouched. With no PATH, formats every record under records/.

    \b
    Example:
        reported-claims fmt
        reported-claims fmt --check records/claims/clm-china-denies-lethal-support-to-russia.yaml
    """
    from reported_claims.repo.fmt import fmt as run

    outcomes = run(repo, list(paths) or None, check=check)
    print_problems([p for o in outcomes for p in o.problems])
    bad = [o for o in outcomes if o.problems]
    written = sum(o.written for o in outcomes)
    if check:
        click.echo(f"{len(bad)} of {len(outcomes)} file(s) not canonical", err=bool(bad))
    else:
        click.echo(f"reformatted {written} of {len(outcomes)} file(s)"
                   + (f"; {len(bad)} left untouched because of problems" if bad else ""))
    if bad:
        sys.exit(1)


@main.command("check-quotes")
@click.option("--archive", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder of archived texts <source-id>.txt  [default: REPO/archive]")
@repo_option
@no_traceback
def check_quotes(archive, repo):
    """Check that every quote stands in the archived text of its source.

    Compares after folding white space and typographic quotes and dashes; ` ... ` or `…`
    marks an elision. Shows the closest passage when a quote is not found, and checks each
    archive file against its source's text_sha256.

    \b
    Example:
        reported-claims check-quotes
        reported-claims check-quotes --archive path/to/archive
    """
    from reported_claims.check.quotes import check_quotes as run

    report = run(repo, archive)
    print_problems(report.problems)
    summary = f"{report.quotes} quote(s) checked against {report.sources} archived text(s)"
    if report.errors:
        click.echo(f"{summary}: {len(report.errors)} error(s)", err=True)
        sys.exit(1)
    warnings = len(report.problems)
    click.echo(summary + (f", {warnings} warning(s)" if warnings else ": all found"))

