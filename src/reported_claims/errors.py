"""The one root of the errors an operation raises, and its family.

Problems found in records are not exceptions: validation returns them (``problems.Problem``).
An exception means an operation could not be done (a build, an export, a download...); each
is a ``ReportedClaimsError``, and the command line turns every one into its message and an
exit code in one place (``cli``), never a traceback.
"""

from __future__ import annotations


class ReportedClaimsError(Exception):
    """An operation of reported-claims could not be done; the message says why and what to do."""

    exit_code = 1


class MissingExtra(ReportedClaimsError, ImportError):
    """An optional dependency is not installed; the message names the extra that brings it."""

    def __init__(self, module: str, extra: str, what: str = "this"):
        self.module, self.extra = module, extra
        super().__init__(f"{what} needs {module}: pip install 'reported-claims[{extra}]'")


def require(module: str, extra: str, what: str = "this"):
    """Import an optional dependency, or raise ``MissingExtra`` naming the extra to install."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingExtra(module, extra, what) from None
