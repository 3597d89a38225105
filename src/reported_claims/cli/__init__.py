"""The command line: thin commands over the library, and the one place errors become messages.

Commands (``records``: validate, codes, new, fmt, check-quotes; ``package``: build, diff,
release, export) turn a result into output and an exit code. Whatever they raise is mapped
here, in ``Main.invoke``: an operation error (``ReportedClaimsError``) to its message and
exit code, a missing optional dependency to the extra that installs it, an error of the
operating system to its message, and anything else to one line saying it is a bug.
"""

from __future__ import annotations

import importlib
import os

import click

from reported_claims import __version__
from reported_claims.errors import MissingExtra, ReportedClaimsError, missing_extra

FAILED = {"build": "build failed", "release": "release refused", "export": "export failed", "diff": "diff failed"}
"""How the message of an operation error starts, by command; else ``reported-claims``."""
AFTER = {"build": "The previous datapackage.json and data/ are unchanged."}
"""What stays true after an operation error, by command."""


class Failure(click.ClickException):
    """An error of a command, shown as its message alone, with its exit code."""

    def __init__(self, message: str, exit_code: int = 1):
        super().__init__(message)
        self.exit_code = exit_code

    def show(self, file=None) -> None:
        click.echo(self.message, err=True)


def failure(exc: Exception, command: str) -> Failure:
    """The message and exit code of what ``reported-claims COMMAND`` raised."""
    from reported_claims.repo.load import NotARepository  # on use: loading the models takes a while

    if isinstance(exc, ImportError) and not isinstance(exc, MissingExtra):
        exc = missing_extra(exc, f"`reported-claims {command}`") or exc
    if isinstance(exc, (MissingExtra, NotARepository)):  # nothing was tried: no "failed"
        return Failure(f"reported-claims: {exc}", exc.exit_code)
    if isinstance(exc, ReportedClaimsError):
        message = f"{FAILED.get(command, 'reported-claims')}: {exc}"
        return Failure("\n".join(filter(None, [message, AFTER.get(command)])), exc.exit_code)
    if isinstance(exc, OSError):
        return Failure(f"reported-claims {command}: {exc}")
    return Failure(
        f"reported-claims: internal error: {type(exc).__name__}: {exc}\n"
        "This is a bug; please report it with the command you ran "
        "(set REPORTED_CLAIMS_DEBUG=1 for the traceback).",
        2,
    )


COMMANDS = {
    "validate": "records:validate", "codes": "records:codes", "new": "records:new", "fmt": "records:fmt",
    "check-quotes": "records:check_quotes", "coverage": "records:coverage",
    "build": "package:build", "diff": "package:diff", "release": "package:release", "export": "package:export",
    "ingest": "ingest:ingest", "show": "show:show", "site": "site:site",
}
"""Each command and where it is defined (``reported_claims.cli.MODULE:NAME``): a command's module is
imported when it is run, so that ``validate`` does not pay for importing ``build`` and ``site``."""


class Main(click.Group):
    """The group whose ``invoke`` maps every error of its commands, so that they catch none, and
    whose commands are imported when they are looked up."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str):
        if cmd_name not in COMMANDS:
            return None
        module, name = COMMANDS[cmd_name].split(":")
        return getattr(importlib.import_module(f"reported_claims.cli.{module}"), name)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as exc:  # noqa: BLE001 - the one place errors become messages
            if os.environ.get("REPORTED_CLAIMS_DEBUG"):
                raise
            raise failure(exc, ctx.invoked_subcommand or "") from None


@click.group(cls=Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="reported-claims")
def main():
    """Claims reported in the news as clean, sourced, versioned data.

    Run it anywhere inside a repository of records: it finds the folder holding records/,
    as git finds its work tree (or pass --repo DIR).

    \b
    Example:
        reported-claims validate
    """
