"""What the commands share: the repository option, and how problems and paths are printed."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Iterable

import click

from reported_claims.problems import Problem


def _root(ctx, param, value):
    from reported_claims.repo.load import find_root  # on use: loading the models takes a while

    return find_root(value)


def speed_options(f):
    """``--quiet``, ``--no-cache`` and ``--jobs``: how a long read of the records shows, what it
    may reuse and how many processes do it."""
    f = click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
                     help="Processes that read the records.  [default: one per core for a large "
                          "repository, else one]")(f)
    f = click.option("--no-cache", "no_cache", is_flag=True,
                     help="Read every record again instead of reusing .cache/ (the results are the same).")(f)
    return click.option("--quiet", "-q", is_flag=True, help="No progress line on a terminal.")(f)


def progress(label: str, quiet: bool):
    """The progress line of a long run on stderr: on a terminal only, and not with ``--quiet``."""
    from reported_claims.util.progress import Progress

    return Progress(label, enabled=False if quiet else None)


def repo_option(f):
    """``--repo DIR``: the repository; by default the nearest folder holding records/ from here up."""
    return click.option(
        "--repo",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        callback=_root,
        help="The repository (the folder holding records/).  [default: the nearest one from the "
             "current folder up]",
    )(f)


# The words check-quotes marks as differing: the source's [-...-] and the quote's {+...+}.
_REMOVED = re.compile(r"\[-.*?-\]")
_ADDED = re.compile(r"\{\+.*?\+\}")


def _coloured(text: str) -> str:
    """Differences in red and green; click drops the colours when output is not a terminal."""
    text = _REMOVED.sub(lambda m: click.style(m.group(), fg="red"), text)
    return _ADDED.sub(lambda m: click.style(m.group(), fg="green"), text)


def print_problems(problems: Iterable[Problem]) -> None:
    """Each problem as ``file:line:col: where: what [code]``; on GitHub Actions also as an annotation."""
    github = os.environ.get("GITHUB_ACTIONS") == "true"
    for p in problems:
        line = p.format()
        click.echo(_coloured(line) if p.code == "quote-not-found" else line)
        if github:
            click.echo(p.github())


def shown(path: Path) -> str:
    """A path to print for the user to open: relative to the current folder when under it."""
    here = Path.cwd()
    absolute = Path(os.path.abspath(path))
    if absolute.is_relative_to(here):
        return absolute.relative_to(here).as_posix()
    return absolute.as_posix()


def nothing_to_do(message: str) -> None:
    """Stop with exit 1: a command with nothing to work on says so rather than succeed."""
    click.echo(f"reported-claims: {message}", err=True)
    raise click.exceptions.Exit(1)
