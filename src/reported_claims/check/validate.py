"""Validation as one call: read, check structure, check meaning, check generated files."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Optional

from reported_claims.check import rules
from reported_claims.check.coverage import coverage
from reported_claims.check.quotes import ARCHIVE, archived, check_dataset
from reported_claims.errors import ReportedClaimsError
from reported_claims.model.graph import references
from reported_claims.problems import Problem
from reported_claims.repo import reader
from reported_claims.repo.load import RECORDS, Dataset, Loaded, Progress, load
from reported_claims.repo.spill import Spill
from reported_claims.util.collector import paused


@dataclass
class Result:
    """What validation found: the dataset of valid records and every problem, sorted."""

    dataset: Dataset
    files: list[Loaded]
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def settle(self) -> None:
        """Let go of what only the checks read, once the problems are reported: each file's
        document (its positions and problems) and what the records refer to and use. What a build
        goes on with is the records and each one's file name (and place in the spill): at 100,000
        claims that frees about a third of what a lean validation holds, for the rows to fill."""
        self.files = []
        self.dataset.used = None
        for item in self.dataset.files.values():
            item.doc = SETTLED


SETTLED = reader.Document("", problems=[])
"""The document of every file once a validation is settled (``Result.settle``): none is read again."""


def validate(
    root: Path, paths: Optional[Iterable[Path]] = None, *, strict: bool = False,
    generated: Optional[Callable[[Path], list[Problem]]] = None, vanished: Iterable[str] = (),
    cache: bool = False, jobs: Optional[int] = None, progress: Optional[Progress] = None,
    lean: bool = False, spill: Optional[Spill] = None,
) -> Result:
    """Validate the records under ``root`` (or only ``paths``, with the rest as context).

    ``vanished`` are the ids of records whose files were removed (``changed_since`` finds
    them): the records that refer to one are validated too, so that a removal is judged by
    what it breaks. ``cache``, ``jobs`` and ``progress`` are those of ``repo.load.load``; they
    change how fast, never what is found.

    Whenever the archived texts exist, every quote must stand in its source's text
    (``check.quotes``) and every sentence of each text must be accounted for
    (``check.coverage``): a pull request cannot pass validation with a quote its article does
    not print. ``strict`` turns warnings into errors. ``generated``, for the whole repository,
    is a check of the committed generated files (the package layer's ``schemas.stale``).

    ``lean``: the problems are all that is wanted. The claims and sources of ``Result.dataset``
    may then be their outlines (``model.outline``), about a tenth of their memory; the problems
    found are the same. With ``spill`` too, the records kept as outlines are put aside whole there
    (``repo.spill``), and ``Result.dataset.wholes`` reads them back: what a build of a large
    repository does, a few at a time.
    """
    root = Path(root)
    gone = set(vanished)
    dataset, files = load(root, paths, cache=cache, jobs=jobs, progress=progress, referring_to=gone,
                          outlines=archived(root / ARCHIVE) if lean else None, spill=spill if lean else None)
    if gone and paths is not None:
        for f in files:
            if not f.target and f.record is not None and any(rid in gone for _, _, rid in references(f.record)):
                f.target = True
    problems = [p for f in files if f.target for p in f.doc.problems]
    with paused():  # what the rules make holds no cycles: collecting would only walk the records again
        problems += rules.check(dataset, files)
    targets = {f.record.id for f in files if f.target and f.record is not None}
    ledgers = None if paths is None else [sid for sid in dataset.sources if sid in targets]
    problems += [p for article in coverage(dataset, only=ledgers) for p in article.problems]
    if (root / ARCHIVE).is_dir():
        shown = {f.shown for f in files if f.target}
        problems += [p for p in check_dataset(dataset).problems if paths is None or p.path in shown]
    if generated is not None and paths is None:
        problems += generated(root)
    if strict:
        problems = [Problem(p.path, p.line, p.col, p.code, p.location, p.message) for p in problems]
    return Result(dataset, files, sorted(set(problems)))


class NotAGitRepository(ReportedClaimsError):
    """``--changed-since`` needs git and a revision it knows."""


def changed_since(root: Path, ref: str) -> tuple[list[Path], list[str]]:
    """The record files changed since ``ref`` (committed, staged, in the work tree or new), and the
    ids of those removed: what a pull request touches.

    Raises ``NotAGitRepository`` when ``root`` is not in a git work tree or ``ref`` is unknown.
    """
    root = Path(root)

    def git(*args: str) -> str:
        try:
            done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.SubprocessError) as exc:
            raise NotAGitRepository(f"cannot run git: {exc}") from None
        if done.returncode:
            raise NotAGitRepository(f"git {' '.join(args[:2])}: {done.stderr.strip() or 'failed'}; "
                                    "--changed-since needs a git work tree and a revision it knows, "
                                    "such as origin/main")
        return done.stdout

    base = git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").strip()
    names = git("diff", "--name-only", "--no-renames", "-z", base, "--", RECORDS).split("\0")
    names += git("ls-files", "--others", "--exclude-standard", "-z", "--", RECORDS).split("\0")
    top = Path(git("rev-parse", "--show-toplevel").strip())
    prefix = git("rev-parse", "--show-prefix").strip()
    present, removed = [], []
    for name in sorted({n for n in names if n}):
        rel = name.removeprefix(prefix)
        path = top / name
        if path.exists() or path.is_symlink():
            present.append(root / rel)
        elif rel.startswith(RECORDS + "/") and rel.endswith(".yaml"):
            removed.append(Path(rel).stem)
    return present, removed
