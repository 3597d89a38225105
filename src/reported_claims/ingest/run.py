"""Ingest one file against a repository: read it, index the records, propose, and write."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from reported_claims.ingest.cache import cached_context
from reported_claims.ingest.extract import Article, IngestError, read
from reported_claims.ingest.propose import Proposal, context, propose
from reported_claims.repo.load import RECORDS, load
from reported_claims.repo.scaffold import new_id, slugify


def ingest_file(path: Path, root: Path, *, sid: Optional[str] = None, url: Optional[str] = None,
                publisher: Optional[str] = None, embed: bool = False) -> tuple[Proposal, Article]:
    """The proposal for the article in ``path`` against the records of ``root`` (``embed``:
    with sentence embeddings, which need the ``embed`` extra)."""
    root = Path(root)
    if not (root / RECORDS).is_dir():
        raise IngestError(f"{root}: no records/ folder here; run in a repository or pass --repo DIR")
    embedder = None
    if embed:
        from reported_claims.ingest.embed import Embedder  # imported here: it loads PyTorch

        embedder = Embedder()
    article = read(Path(path))
    dataset, ctx = cached_context(root, lambda: _build(root))
    if publisher and publisher not in dataset.entities:
        raise IngestError(f"--publisher {publisher}: no entity with that id under records/entities/")
    if sid is None:
        sid = new_id("source", slugify(article.title or Path(path).stem), set(dataset.sources))
    elif not sid.startswith("src-"):
        raise IngestError(f"--id {sid}: a source id starts with src-")
    elif sid in dataset.sources:
        raise IngestError(f"--id {sid}: that source exists already")
    return propose(ctx, article, sid, publisher, url, embedder), article


def _build(root: Path):
    dataset, _ = load(root)
    return dataset, context(dataset, root)


def write_file(root: Path, proposal: Proposal, article: Article) -> list[Path]:
    """Write the proposal into ``root`` (see ``ingest.write``)."""
    from reported_claims.ingest.write import write  # imported here: only --write lays out records

    return write(Path(root), proposal, article.text)
