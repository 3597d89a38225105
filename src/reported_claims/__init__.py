"""reported-claims: claims reported in the news as clean, sourced, versioned data.

    >>> import reported_claims
    >>> claims = reported_claims.load()          # every claim, validated, by id
    >>> claims.get("clm-no-such-claim") is None
    True
    >>> data = reported_claims.dataset()         # the same package, references resolved
    >>> [c.id for c in data.claims_about("ent-hikvision")][:1]
    ['clm-china-support-sent-through-chinese-companies']

``load("1.2.0")`` and ``dataset("1.2.0")`` read a published release (downloaded once),
``load(path=...)`` a local package. Nothing is read at import: the data is loaded on first use
(see ``reported_claims.client.api``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reported_claims._version import __version__

if TYPE_CHECKING:  # the names a type checker sees; at run time they are imported on first use
    from reported_claims.client.api import Collection as Collection
    from reported_claims.client.api import Dataset as Dataset
    from reported_claims.client.api import data_path as data_path
    from reported_claims.client.api import dataset as dataset
    from reported_claims.client.api import load as load
    from reported_claims.client.api import load_entities as load_entities
    from reported_claims.client.api import load_sources as load_sources
    from reported_claims.client.api import to_pandas as to_pandas
    from reported_claims.client.api import to_polars as to_polars
    from reported_claims.client.fetch import DownloadError as DownloadError
    from reported_claims.client.fetch import download as download

_API = ("Collection", "Dataset", "data_path", "dataset", "load", "load_entities", "load_sources", "to_pandas",
        "to_polars")

__all__ = ["__version__", "download", "DownloadError", *_API]


def __getattr__(name: str) -> Any:
    if name in _API:
        from reported_claims.client import api

        return getattr(api, name)
    if name in ("download", "DownloadError"):
        from reported_claims.client import fetch

        return getattr(fetch, name)
    raise AttributeError(f"module 'reported_claims' has no attribute {name!r}")
