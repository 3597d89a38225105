"""Validation as one call: read, check structure, check meaning, check generated files."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Optional

from reported_claims.check import rules
from reported_claims.check.coverage import coverage
from reported_claims.package import schemas
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
    root: Path, paths: Optional[Iterable[Path]] = None, *, strict: bool = False, generated: bool = True
) -> Result:
    """Validate the records under ``root`` (or only ``paths``, with the rest as context).

    Every sentence of each archived text must be accounted for (``check.coverage``): for the
    whole repository, or for the sources among ``paths``. ``strict`` turns warnings into errors; ``generated`` also checks that the committed
    generated files under ``schema/`` are current (only when validating the whole repository).
    """
    dataset, files = load(Path(root), paths)
    problems = [p for f in files if f.target for p in f.doc.problems]
    problems += rules.check(dataset, files)
    targets = {f.record.id for f in files if f.target and f.record is not None}
    ledgers = None if paths is None else [sid for sid in dataset.sources if sid in targets]
    problems += [p for article in coverage(dataset, only=ledgers) for p in article.problems]
    if generated and paths is None and (Path(root) / schemas.SCHEMA_DIR).is_dir():
        problems += schemas.stale(Path(root))
    if strict:
        problems = [Problem(p.path, p.line, p.col, p.code, p.location, p.message) for p in problems]
    return Result(dataset, files, sorted(set(problems)))
