"""``reported-claims site --out DIR``: the static site, from the records or the installed data."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import click



@click.command("site")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder to write the site into: new, empty, or a site written there before.")
@click.option("--repo", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Repository folder (the one holding records/ and the built datapackage.json); without it, "
                   "the current folder if it is one, else the installed package's data.")
def site(out: Path, repo: Optional[Path]):
    """Write a static site: an index of claims with filters and search, a page per claim with
    its lineage drawn and its reports side by side, a page per source and entity, and the
    tables with their columns and the data package to download.

    It needs the site extra: pip install 'reported-claims[site]'. Open DIR/index.html in a
    browser, or publish DIR as it is.

    \b
    Example:
        reported-claims site --out _site
    """
    from reported_claims.site.build import build
    from reported_claims.site.data import open_records

    built = build(open_records(repo), out)
    click.echo(f"wrote {built.pages} pages ({built.files} files) to {built.out}; open {built.out / 'index.html'}")
