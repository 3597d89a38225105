"""``reported-claims ingest``: propose a new article's source, lineage and reports."""

from __future__ import annotations

import json
from pathlib import Path

import click

from reported_claims.errors import require


@click.command("ingest")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--id", "sid", metavar="src-…", help="The new source's id (default: made from its title).")
@click.option("--url", help="Where the article was published.")
@click.option("--publisher", metavar="ent-…", help="The entity that published it.")
@click.option("--json", "as_json", is_flag=True, help="Print the proposal as JSON (see docs/ingest.md).")
@click.option("--write", "do_write", is_flag=True,
              help="Write the source, its archived text, the reports and candidate claims into the records.")
@click.option("--repo", type=click.Path(path_type=Path, file_okay=False), default=Path("."), show_default=True,
              help="The repository to compare with (and write into).")
@click.option("--embed", is_flag=True,
              help="Weigh sentence embeddings into the claims' scores (needs the embed extra, with PyTorch).")
def ingest(file, sid, url, publisher, as_json, do_write, repo, embed):
    """Propose the records of an article: text, Markdown or a saved HTML page.

    Compares FILE with every archived text (lineage: reprint, rewrite, summary) and every claim
    (one report per claim it carries, with its quote, attribution and figures), lists the
    sentences that may be new claims and a ledger reason for every other sentence. Nothing is
    fetched. Without --json or --write, prints a summary.

    \b
    Example:
        reported-claims ingest saved-article.html --publisher ent-associated-press --json
        reported-claims ingest article.txt --id src-example-article --write && git diff
    """
    if as_json and do_write:
        raise click.UsageError("choose one of --json and --write")
    # imported here: the core install lacks the ingest extra, and the other commands must not need it
    require("rapidfuzz", "ingest", "reported-claims ingest")
    from reported_claims.ingest.run import ingest_file, write_file

    proposal, article = ingest_file(file, repo, sid=sid, url=url, publisher=publisher, embed=embed)
    if do_write:
        for path in write_file(repo, proposal, article):
            click.echo(f"wrote {path}")
        return
    if as_json:
        click.echo(json.dumps(proposal.as_json(), indent=2, ensure_ascii=False))
        return
    click.echo(f"source {proposal.source['id']}: {proposal.source['title']}")
    for m in proposal.lineage:
        click.echo(f"  {m.relation} of {m.source} ({m.overlap:.0%} of its sentences)")
    for r in proposal.reports:
        click.echo(f"  report of {r['claim']} ({r['score']:.2f}, {r['attribution_mode']}) at line {r['line']}")
    for c in proposal.candidates:
        click.echo(f"  candidate at line {c['line']}: {c['quote']}")
    click.echo(f"{len(proposal.reports)} report(s), {len(proposal.candidates)} candidate(s), "
               f"{len(proposal.ledger)} sentence(s) for the ledger")
