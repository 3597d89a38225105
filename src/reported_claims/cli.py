"""The command line: thin commands over the library. Each turns a result into output and an exit code."""

from __future__ import annotations

import functools
import os
import sys
from pathlib import Path

import click

from . import __version__


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
    from .validate import validate as run

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
    from .errors import CODES

    width = max(map(len, CODES))
    for code, text in CODES.items():
        click.echo(f"{code:<{width}}  {text}")


@main.command()
@repo_option
@no_traceback
def build(repo):
    """Validate, then regenerate the schemas and build the data package.

    \b
    Example:
        reported-claims build
    """
    from . import schemas
    from .validate import validate as run

    result = run(repo, generated=False)
    print_problems(result.problems)
    if result.errors:
        click.echo(f"{len(result.errors)} error(s): nothing was written", err=True)
        sys.exit(1)
    for rel in schemas.write(repo):
        click.echo(f"wrote {rel}")


if __name__ == "__main__":  # pragma: no cover
    main()
