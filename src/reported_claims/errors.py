"""The one root of the errors an operation raises, and its family.

Problems found in records are not exceptions: validation returns them (``problems.Problem``).
An exception means an operation could not be done (a build, an export, a download...); each
is a ``ReportedClaimsError``, and the command line turns every one into its message and an
exit code in one place (``cli``), never a traceback.
"""

from __future__ import annotations

import functools
import re
from typing import Optional


class ReportedClaimsError(Exception):
    """An operation of reported-claims could not be done; the message says why and what to do."""

    exit_code = 1


class MissingExtra(ReportedClaimsError, ImportError):
    """An optional dependency is not installed; the message names the extra that brings it."""

    def __init__(self, module: str, extra: str, what: str = "this"):
        self.module, self.extra = module, extra
        super().__init__(f"{what} needs {module}, which is not installed: install `reported-claims[{extra}]` "
                         f"(pip install 'reported-claims[{extra}]')")


def require(module: str, extra: str, what: str = "this"):
    """Import an optional dependency, or raise ``MissingExtra`` naming the extra to install."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingExtra(module, extra, what) from None


@functools.cache
def extras() -> dict[str, str]:
    """Optional module -> the extra that installs it, read from the installed package's metadata.

    The extras are declared once, in pyproject.toml; each of their distributions is imported
    under its own name (frictionless, rapidfuzz, pyarrow...).
    """
    from importlib import metadata

    try:
        requires = metadata.requires("reported-claims") or []
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return {}
    out = {}
    for requirement in requires:
        m = re.match(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*).*;.*\bextra\s*==\s*['\"]([^'\"]+)['\"]", requirement)
        if m:
            out.setdefault(m.group(1).lower().replace("-", "_"), m.group(2))
    return out


def missing_extra(exc: ImportError, what: str = "this") -> Optional[MissingExtra]:
    """The ``MissingExtra`` an import error means, when the module missing is an optional one."""
    name = (getattr(exc, "name", None) or "").split(".")[0].lower()
    extra = extras().get(name)
    return MissingExtra(name, extra, what) if extra else None
