"""Validation as one call: read, check structure, check meaning, check generated files."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Optional

from reported_claims.check import rules
from reported_claims.check.coverage import coverage
from reported_claims.check.quotes import ARCHIVE, check_dataset
from reported_claims.problems import Problem
from reported_claims.repo.load import Dataset, Loaded, load


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


def validate(
    root: Path, paths: Optional[Iterable[Path]] = None, *, strict: bool = False,
    generated: Optional[Callable[[Path], list[Problem]]] = None,
) -> Result:
    """Validate the records under ``root`` (or only ``paths``, with the rest as context).

    Whenever the archived texts exist, every quote must stand in its source's text
    (``check.quotes``) and every sentence of each text must be accounted for
    (``check.coverage``): a pull request cannot pass validation with a quote its article does
    not print. ``strict`` turns warnings into errors. ``generated``, for the whole repository,
    is a check of the committed generated files (the package layer's ``schemas.stale``).
    """
    root = Path(root)
    dataset, files = load(root, paths)
    problems = [p for f in files if f.target for p in f.doc.problems]
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
