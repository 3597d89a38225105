"""The records to show: a repository's, or the data bundled with the installed package."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Optional

from reported_claims.errors import ReportedClaimsError
from reported_claims.model.graph import Lineage
from reported_claims.model.records import Claim, Entity, Source, Vocabulary
from reported_claims.package import DESCRIPTOR


@dataclass(frozen=True)
class Records:
    """Every claim, source, entity and vocabulary by id, and where they were read."""

    claims: Mapping[str, Claim]
    sources: Mapping[str, Source]
    entities: Mapping[str, Entity]
    vocabularies: Mapping[str, Vocabulary]
    package: Optional[Path]
    """The folder holding the built ``datapackage.json`` and ``data/``, if there is one."""
    origin: str
    """Where the records come from, in words: a repository folder or the installed package."""

    def origins(self, claim: Claim) -> list[str]:
        """The origins of the reports that carry the claim (fit exact or narrower)."""
        return Lineage(self.sources).claim_origins(claim, [r for r in claim.reports if r.counted])

    def label(self, vocabulary: str, term: str) -> str:
        """A term's label, or the term itself where the vocabulary is not at hand."""
        vocab = self.vocabularies.get(vocabulary)
        return next((t.label for t in vocab.terms if t.id == term), term) if vocab else term

    def name(self, entity_id: Optional[str]) -> Optional[str]:
        entity = self.entities.get(entity_id) if entity_id else None
        return entity.name if entity else entity_id


def _by_id(records) -> dict:
    return {r.id: r for r in sorted(records, key=lambda r: r.id)}


def from_repository(root: Path) -> Records:
    """The records of a repository, refusing one whose records do not all validate."""
    from reported_claims.repo.load import load

    if not (root / "records").is_dir():
        raise ReportedClaimsError(f"no records/ folder in {root.resolve()}: pass --repo DIR, the repository folder")
    dataset, _ = load(root)
    if dataset.invalid:
        raise ReportedClaimsError(
            f"{len(dataset.invalid)} record(s) in {root} do not validate: run `reported-claims validate` there first"
        )
    package = root if (root / DESCRIPTOR).is_file() else None
    return Records(_by_id(dataset.claims.values()), _by_id(dataset.sources.values()),
                   _by_id(dataset.entities.values()), _by_id(dataset.vocabularies.values()), package,
                   f"the records in {root}")


def from_package() -> Records:
    """The data bundled with the installed package (or built in its checkout)."""
    import reported_claims
    from reported_claims.package.read import read_kind

    try:
        path = reported_claims.data_path()
    except FileNotFoundError as exc:
        raise ReportedClaimsError(str(exc)) from None
    return Records(_by_id(reported_claims.load()), _by_id(reported_claims.load_sources()),
                   _by_id(reported_claims.load_entities()), _by_id(read_kind(path, "vocabularies")), path,
                   f"the data of reported-claims {reported_claims.__version__}")


def open_records(repo: Optional[Path], cwd: Optional[Path] = None) -> Records:
    """The records of ``repo``; without it, of the current folder if it is a repository, else
    the installed package's data."""
    if repo is not None:
        return from_repository(repo)
    here = cwd or Path.cwd()
    if (here / "records").is_dir():
        return from_repository(here)
    return from_package()
