"""Commands on the records: validate, codes, new, fmt, check-quotes."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from reported_claims.cli.options import nothing_to_do, print_problems, progress, repo_option, shown, speed_options


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@repo_option
@click.option("--strict", is_flag=True, help="Treat warnings (near-duplicates...) as errors.")
@click.option("--changed-since", "since", metavar="REF",
              help="Validate the record files changed since the git revision REF (and the records "
                   "referring to removed ones), with the rest as context.")
@speed_options
def validate(paths, repo, strict, since, quiet, no_cache, jobs):
    """Validate records: every problem at once, as file:line:col: where: what [code].

    With no PATH, validates every record under records/ and checks that the generated
    files under schema/ are current. With PATHs (files or folders), validates those,
    resolving references against the repository's records; folders are searched for
    *.yaml files, skipping hidden folders and tests/. With --changed-since REF, validates
    the files a pull request changed against REF. What each file gave is kept in .cache/,
    so that the next run reads only the files that changed.

    \b
    Example:
        reported-claims validate
        reported-claims validate records/claims/clm-china-share-russian-microelectronics-2023.yaml
        reported-claims validate --changed-since origin/main
    """
    from reported_claims.check.validate import changed_since
    from reported_claims.check.validate import validate as run
    from reported_claims.package import DESCRIPTOR, SCHEMA_DIR

    vanished: list[str] = []
    if since is not None:
        if paths:
            raise click.UsageError("give PATHs or --changed-since REF, not both")
        paths, vanished = changed_since(repo, since)
        if not paths and not vanished:
            click.echo(f"no record file changed since {since}")
            return

    def generated(root: Path) -> list:
        from reported_claims.package import dictionary, schemas  # only for the whole repository

        # The dictionary is checked where it is kept and its example rows can be read: a clone has
        # docs/ and data/, a bare copy of the records may have neither.
        kept = (root / dictionary.DICTIONARY).parent.is_dir() and (root / DESCRIPTOR).is_file()
        return schemas.stale(root) + (dictionary.stale(root) if kept else [])

    has_schemas = (repo / SCHEMA_DIR).is_dir()
    shown_progress = progress("validate", quiet)
    result = run(repo, list(paths) if paths or since is not None else None, strict=strict,
                 generated=generated if has_schemas else None, vanished=vanished, cache=not no_cache,
                 jobs=jobs, progress=shown_progress, lean=True)
    shown_progress.done()
    print_problems(result.problems)
    targets = [f for f in result.files if f.target]
    if not targets and not result.problems and not vanished:
        nothing_to_do(f"no record to validate in {', '.join(map(str, paths)) or 'records/'}")
    if result.errors:
        files = len({p.path for p in result.errors})
        click.echo(
            f"{len(result.errors)} error(s), {len(result.warnings)} warning(s) in {files} file(s)",
            err=True,
        )
        sys.exit(1)
    ds = result.dataset
    summary = (
        f"{len(targets)} file(s) valid ({len(ds.claims)} claims, {len(ds.sources)} sources, "
        f"{len(ds.entities)} entities, {len(ds.vocabularies)} vocabularies)"
    )
    if result.warnings:
        summary += f", {len(result.warnings)} warning(s)"
    click.echo(summary)


@click.command()
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


@click.command()
@click.argument("kind", type=click.Choice(["claim", "source", "entity"]))
@click.option("--slug", metavar="WORDS", help="A few words for the id, e.g. 'yellen warns banks'.")
@repo_option
def new(kind, slug, repo):
    """Create a record with a fresh id and placeholders, and print its path.

    The record goes into the repository's records/ folder whichever of its folders you are
    in. The id is the slug plus a random suffix, so ids made on different branches never
    collide. `validate` flags every placeholder (code `placeholder`) until you fill it in.

    \b
    Example:
        reported-claims new claim --slug "yellen warns chinese banks"
        reported-claims new source --slug "ap china surges sales"
    """
    from reported_claims.repo.scaffold import new as create

    click.echo(shown(create(repo, kind, slug)))


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--check", is_flag=True, help="Change nothing; list the files that are not canonical and exit 1.")
@repo_option
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
    if not outcomes:
        nothing_to_do(f"no record to format in {', '.join(map(str, paths)) or 'records/'}")
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


@click.command("check-quotes")
@click.option("--archive", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder of archived texts <source-id>.txt  [default: REPO/archive]")
@repo_option
def check_quotes(archive, repo):
    """Check that every quote stands in the archived text of its source.

    Compares after folding white space and typographic quotes and dashes; ` ... ` or `…`
    marks an elision. When a quote is not found, shows the closest passage with the words
    that differ marked: [-the source's-]{+the quote's+}. Checks each archive file against
    its source's text_sha256.

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
    if not report.quotes:
        nothing_to_do(f"{summary}: no claim quotes a source whose text is archived")
    warnings = len(report.problems)
    click.echo(summary + (f", {warnings} warning(s)" if warnings else ": all found"))


@click.command()
@click.argument("sources", nargs=-1, metavar="[SOURCE]...")
@click.option("--all", "show_all", is_flag=True, help="List every sentence, not only the ones unaccounted for.")
@repo_option
def coverage(sources, show_all, repo):
    """The ledger of each archived text: every sentence quoted by a report or listed as not recorded.

    For each source whose text is under archive/, prints how many sentences reports quote,
    how many its `not_recorded` lists (by reason), and each sentence that is neither, at its
    line of the archived text. Exits 1 when a sentence is unaccounted for (`validate` fails
    on it too). With --all, lists every sentence and what accounts for it.

    \b
    Example:
        reported-claims coverage
        reported-claims coverage src-icaro-china-support-raises-concerns --all
    """
    from collections import Counter

    from reported_claims.check.coverage import coverage as ledger
    from reported_claims.repo.load import load

    dataset, _ = load(repo)
    unknown = [s for s in sources if s not in dataset.sources]
    if unknown:
        raise click.ClickException(f"no source {', '.join(unknown)} under records/sources/")
    articles = ledger(dataset, only=sources or None)
    if not articles:
        nothing_to_do("no source with an archived text under archive/")
    for article in articles:
        quoted = sum(1 for x in article.lines if x.quoted_by)
        reasons = Counter(x.reason for x in article.lines if not x.quoted_by and x.reason)
        listed = ", ".join(f"{n} {r}" for r, n in sorted(reasons.items()))
        click.echo(f"{article.source} ({article.path}): {len(article.lines)} sentence(s), {quoted} quoted, "
                   f"{sum(reasons.values())} not recorded ({listed or 'none'}), "
                   f"{len(article.unaccounted)} unaccounted")
        if show_all:
            for x in article.lines:
                what = ", ".join(x.quoted_by) if x.quoted_by else (f"not recorded: {x.reason}" if x.reason else "UNACCOUNTED")
                click.echo(f"  {x.sentence.line}:{x.sentence.col}: [{what}] {x.sentence.text}")
        print_problems(article.problems)
    if any(a.problems for a in articles):
        sys.exit(1)
