"""reported-claims: claims reported in the news as clean, sourced, versioned data.

    >>> import reported_claims
    >>> claims = reported_claims.load()          # every claim, validated, by id
    >>> claims.get("clm-no-such-claim") is None
    True

Nothing is read at import: the data is loaded on first use (see ``reported_claims.api``).
"""

from reported_claims._version import __version__

_API = ("Collection", "data_path", "load", "load_entities", "load_sources", "to_pandas", "to_polars")

__all__ = ["__version__", "download", "DownloadError", *_API]


def __getattr__(name: str):
    if name in _API:
        from reported_claims.client import api

        return getattr(api, name)
    if name in ("download", "DownloadError"):
        from reported_claims.client import fetch

        return getattr(fetch, name)
    raise AttributeError(f"module 'reported_claims' has no attribute {name!r}")
