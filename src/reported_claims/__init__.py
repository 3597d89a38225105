"""reported-claims: claims reported in the news as clean, sourced, versioned data.

    >>> import reported_claims
    >>> claims = reported_claims.load()          # every claim, validated, by id
    >>> claims.get("clm-no-such-claim") is None
    True

Nothing is read at import: the data is loaded on first use (see ``reported_claims.api``).
"""

from ._version import __version__

_API = ("Collection", "data_path", "load", "load_entities", "load_sources", "to_pandas", "to_polars")

__all__ = ["__version__", "download", *_API]


def __getattr__(name: str):
    if name in _API:
        from . import api

        return getattr(api, name)
    if name == "download":
        return _download_module()
    raise AttributeError(f"module 'reported_claims' has no attribute {name!r}")


def _download_module():
    """The ``download`` module, made callable as its ``download()`` function.

    ``reported_claims.download`` is both the submodule and the function users call; once the
    submodule is imported Python binds its name here, so the module itself forwards calls.
    """
    import importlib
    import types

    module = importlib.import_module(f"{__name__}.download")

    class _Callable(types.ModuleType):
        def __call__(self, *args, **kwargs):
            return self.download(*args, **kwargs)

    if not callable(module):
        module.__class__ = _Callable
    return module
