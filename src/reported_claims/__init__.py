"""reported-claims: claims reported in the news as clean, sourced, versioned data."""

from ._version import __version__

__all__ = ["__version__"]
