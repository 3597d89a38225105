"""The installed data: every claim, source and entity as validated models, loaded on first use.

Three packages can be read, each opened and validated once per process:

* the bundled one (no argument): the wheel bundles the built data package under
  ``reported_claims/_data/``; a checkout (an editable install) reads the package built at the
  repository root instead;
* a published release, ``version="X.Y.Z"``: downloaded, verified and cached by
  :func:`reported_claims.download` on first use;
* a local package, ``path=...``: a folder holding ``datapackage.json`` and ``data/``, or a
  release zip.

Only the package's JSON is read, never the YAML records. :func:`dataset` gives a
:class:`Dataset` that resolves the references between records:

    >>> import reported_claims
    >>> data = reported_claims.dataset()
    >>> [c.id for c in data.claims.filter(topic="dual-use-trade", items="semiconductors")][:1]
    ['clm-china-fills-gap-electronic-components-semiconductors']
"""

from __future__ import annotations

import functools
import os
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional, TypeVar, Union, overload

from reported_claims.errors import require
from reported_claims.model.graph import Lineage, steps
from reported_claims.model.records import Claim, Entity, Record, Report, Source, Vocabulary
from reported_claims.package import DESCRIPTOR, types

if TYPE_CHECKING:
    import pandas  # type: ignore[import-untyped, unused-ignore]  # typed by pandas-stubs, if installed
    import polars

    from reported_claims.package.read import Package

R = TypeVar("R", bound=Record)
D = TypeVar("D")

PathLike = Union[str, "os.PathLike[str]"]
"""A path given as a string or a ``pathlib.Path``."""

_BUNDLED = "_data"


class Collection(Sequence[R]):
    """Records sorted by id: a sequence by position, a mapping by id.

    ``collection["clm-x"]`` raises ``KeyError`` naming the id; ``collection.get("clm-x")``
    returns None instead. Integers and slices index by position, as in a list.

    ``terms`` maps each field whose values are vocabulary terms to its vocabulary's id and
    terms, so that :meth:`filter` refuses a term that does not exist instead of finding nothing.
    """

    def __init__(self, records: Iterable[R], kind: str = "record", *, model: Optional[type[R]] = None,
                 terms: Optional[Mapping[str, tuple[str, Sequence[str]]]] = None):
        self._records: tuple[R, ...] = tuple(sorted(records, key=lambda r: str(getattr(r, "id"))))
        self._by_id: dict[str, R] = {str(getattr(r, "id")): r for r in self._records}
        self._kind = kind
        self._model: Optional[type[R]] = model or (type(self._records[0]) if self._records else None)
        self._terms: Mapping[str, tuple[str, Sequence[str]]] = terms or {}

    def _like(self, records: Iterable[R]) -> Collection[R]:
        """Other records of the same kind, model and vocabularies."""
        return Collection(records, self._kind, model=self._model, terms=self._terms)

    def __len__(self) -> int:
        return len(self._records)

    def __iter__(self) -> Iterator[R]:
        return iter(self._records)

    @overload
    def __getitem__(self, key: Union[str, int]) -> R: ...
    @overload
    def __getitem__(self, key: slice) -> Collection[R]: ...

    def __getitem__(self, key: Union[str, int, slice]) -> Union[R, Collection[R]]:
        if isinstance(key, str):
            try:
                return self._by_id[key]
            except KeyError:
                raise KeyError(f"no {self._kind} with id {key!r}") from None
        if isinstance(key, slice):
            return self._like(self._records[key])
        return self._records[key]

    def __contains__(self, item: object) -> bool:
        if isinstance(item, str):
            return item in self._by_id
        return item in self._records

    def __repr__(self) -> str:
        return f"<Collection of {len(self)} {self._kind} record(s)>"

    @overload
    def get(self, id: str) -> Optional[R]: ...
    @overload
    def get(self, id: str, default: D) -> Union[R, D]: ...

    def get(self, id: str, default: Any = None) -> Any:
        """The record with this id, or ``default`` (None) when there is none."""
        return self._by_id.get(id, default)

    def ids(self) -> list[str]:
        """Every id, sorted."""
        return list(self._by_id)

    def filter(self, predicate: Optional[Callable[[R], bool]] = None, **equals: Any) -> Collection[R]:
        """The records for which ``predicate`` holds and each ``field=value`` matches.

        A field holding a list matches when the list contains the value (``items="drones"``).
        A field of vocabulary terms (``topic``, ``status``, ``items``, ``kind``...) only takes
        a term of its vocabulary: another value raises ``ValueError`` naming the terms, and a
        field the records do not have raises ``TypeError`` naming the fields, rather than
        finding nothing.

        Example: ``load().filter(topic="dual-use-trade", items="semiconductors")``.
        """
        for name, value in equals.items():
            self._check(name, value)

        def keep(record: R) -> bool:
            if predicate is not None and not predicate(record):
                return False
            return all(_matches(getattr(record, name), value) for name, value in equals.items())

        return self._like(filter(keep, self._records))

    def _check(self, name: str, value: object) -> None:
        if self._model is not None and name not in self._model.model_fields:
            raise TypeError(f"{self._kind} records have no field {name!r}; "
                            f"the fields are: {', '.join(self._model.model_fields)}")
        if name in self._terms:
            vocabulary, terms = self._terms[name]
            if value not in terms:
                raise ValueError(f"{value!r} is not a term of the {vocabulary} vocabulary, which "
                                 f"{name} takes; the terms are: {', '.join(terms)}")

    def by_status(self, status: str) -> Collection[R]:
        """The records with this status, e.g. ``"withdrawn"`` (claims only).

        A status that is not a term of the ``statuses`` vocabulary raises ``ValueError``.
        """
        return self.filter(status=status)


def _matches(field: object, value: object) -> bool:
    if isinstance(field, list) and not isinstance(value, list):
        return value in field
    return field == value


# --- which package ---------------------------------------------------------------------------


def _bundled() -> Path:
    bundled = resources.files("reported_claims") / _BUNDLED
    if bundled.joinpath(DESCRIPTOR).is_file():
        return Path(str(bundled))
    checkout = Path(__file__).resolve().parents[3]  # src/reported_claims/client/api.py
    if (checkout / DESCRIPTOR).is_file() and (checkout / "pyproject.toml").is_file():
        return checkout
    raise FileNotFoundError(
        "the data package is missing: this installation has no bundled data and the "
        f"checkout at {checkout} has no {DESCRIPTOR}; run `reported-claims build` there"
    )


def data_path(version: Optional[str] = None, *, path: Optional[PathLike] = None) -> Path:
    """The folder holding ``datapackage.json`` and ``data/`` (CSV and JSON), for DuckDB,
    frictionless or any other reader.

    With no argument, the copy bundled in the installed package; from a checkout without one
    (an editable install), the package built at the repository root. ``version="X.Y.Z"``
    gives the cached copy of that release, downloaded on first use; ``path`` a local package
    folder (or release zip), as given.

    Example: ``duckdb.read_csv(str(reported_claims.data_path() / "data" / "claims.csv"))``.
    """
    if version is not None and path is not None:
        raise ValueError("give a version or a path, not both")
    if path is not None:
        return Path(path).expanduser().resolve()
    if version is not None:
        from reported_claims.client.fetch import download

        return download(version)
    return _bundled()


def package_folder(repo: Optional[PathLike] = None) -> Path:
    """The data package a command reads: the repository's when there is one, else the bundled one.

    The repository is ``repo`` when given, else the nearest folder holding ``records/`` from
    the current folder up; its package is at its root (built or not yet built, so that a command
    can say to build it). Outside any repository, the package bundled in the installation.

    Example: ``reported_claims.client.api.package_folder()`` in a checkout is its root; in
    ``/tmp`` it is ``.../site-packages/reported_claims/_data``.
    """
    from reported_claims.repo.load import NotARepository, find_root

    if repo is not None:
        return Path(repo)
    try:
        return find_root()
    except NotARepository:
        return data_path()


# --- the dataset -----------------------------------------------------------------------------

_WORD = re.compile(r"\w+")


def _words(text: str) -> list[str]:
    """The words of a text, lower case and without accents: ``_words("Zürich's")`` is
    ``["zurich", "s"]``. Search compares these."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return _WORD.findall(plain.casefold())


class Dataset:
    """One data package's records, with the references between them resolved.

    Get one with :func:`dataset` (bundled, ``version=`` or ``path=``), which opens each
    package once:

        >>> import reported_claims
        >>> data = reported_claims.dataset()
        >>> claim = data.claims["clm-china-denies-lethal-support-to-russia"]
        >>> data.entity(claim.claimants[0].entity).name
        'China'

    The collections are read on first use. Filters on vocabulary fields check their terms
    against the package's own ``data/vocabularies.json``.
    """

    def __init__(self, path: PathLike):
        from reported_claims.package.read import open_package

        self.path = Path(path)
        """The package folder (or release zip)."""
        self._package: Package = open_package(self.path)

    def __repr__(self) -> str:
        return f"<Dataset {self.version or 'unversioned'} at {self.path}>"

    @property
    def version(self) -> Optional[str]:
        """The data version in ``datapackage.json``, e.g. ``"1.2.0"``."""
        return self._package.version

    def _collection(self, plural: str, model: type[R]) -> Collection[R]:
        from reported_claims.model.kinds import kind

        found = kind(plural)
        terms = {step.field: (step.vocabulary, [t.id for t in self.vocabularies[step.vocabulary].terms])
                 for step in steps(model, True) if step.vocabulary}
        return Collection(self._models(found), found.name, model=model, terms=terms)

    def _models(self, found: Any) -> list:
        """The records of a kind: the JSON resource validated in one call into pydantic-core, with
        the collector paused while it builds them; anything it refuses is read again by the
        package reader, whose error says what is wrong."""
        import gc

        import pydantic

        resource = self._package.resources.get(found.json_resource)
        data = self._package.read_bytes(resource["path"] if resource else found.json_path)
        if data is not None:
            enabled = gc.isenabled()
            gc.disable()  # records are acyclic: collecting while they are built only costs time
            try:
                return _adapter(found.published).validate_json(data)
            except (pydantic.ValidationError, ValueError):
                pass
            finally:
                if enabled:
                    gc.enable()
        return self._package.models(found)

    @functools.cached_property
    def vocabularies(self) -> dict[str, Vocabulary]:
        """Every vocabulary, by id: ``data.vocabularies["topics"].terms``."""
        from reported_claims.model.kinds import kind

        return {v.id: v for v in self._models(kind("vocabularies"))}

    @functools.cached_property
    def claims(self) -> Collection[Claim]:
        """Every claim, withdrawn ones included (their ``status`` is ``"withdrawn"``), by id.

        Example: ``data.claims.filter(status="disputed")``.
        """
        return self._collection("claims", Claim)

    @functools.cached_property
    def sources(self) -> Collection[Source]:
        """Every source, by id. Example: ``data.sources.filter(kind="news-article")``."""
        return self._collection("sources", Source)

    @functools.cached_property
    def entities(self) -> Collection[Entity]:
        """Every entity, by id. Example: ``data.entities.filter(country="CN")``."""
        return self._collection("entities", Entity)

    def source(self, id: str) -> Source:
        """The source with this id; ``KeyError`` naming it if there is none.

        Example: ``data.source(claim.reports[0].source).url``.
        """
        return self.sources[id]

    def entity(self, id: str) -> Entity:
        """The entity with this id; ``KeyError`` naming it if there is none.

        Example: ``data.entity(claim.claimants[0].entity).name``.
        """
        return self.entities[id]

    def _claim(self, claim: Union[Claim, str]) -> Claim:
        return self.claims[claim] if isinstance(claim, str) else claim

    def claims_about(self, entity_id: str) -> Collection[Claim]:
        """The claims whose entities or claimants include this entity, by id.

        Example: ``data.claims_about("ent-hikvision").ids()``. An unknown entity raises
        ``KeyError``.
        """
        self.entity(entity_id)
        return self.claims.filter(lambda c: any(e.entity == entity_id for e in c.entities)
                                  or any(e.entity == entity_id for e in c.claimants))

    def reports_of(self, source_id: str) -> list[tuple[Claim, Report]]:
        """The reports this source carries, with their claims, in claim id order.

        Example: ``[(c.id, r.quote) for c, r in data.reports_of("src-icaro-china-support-raises-concerns")]``.
        An unknown source raises ``KeyError``.
        """
        self.source(source_id)
        return [(c, r) for c in self.claims for r in c.reports if r.source == source_id]

    def report_count(self, claim: Union[Claim, str]) -> int:
        """How many reports carry the claim: those of fit ``exact`` or ``narrower``, as the
        ``report_count`` column of the claims table counts them.

        Example: ``data.report_count("clm-china-denies-lethal-support-to-russia")``.
        """
        return sum(r.counted for r in self._claim(claim).reports)

    @functools.cached_property
    def _lineage(self) -> Lineage:
        return Lineage({s.id: s for s in self.sources})

    def origins(self, claim: Union[Claim, str]) -> list[Source]:
        """The origins of the reports that carry the claim, by id: ``derived_from`` followed to
        the sources that derive from none, so five reprints of one wire story give one origin.

        Example: ``[s.id for s in data.origins("clm-china-denies-lethal-support-to-russia")]``.
        """
        found = self._claim(claim)
        carrying = [r for r in found.reports if r.counted]
        return [self.source(s) for s in self._lineage.claim_origins(found, carrying)]

    @functools.cached_property
    def _index(self) -> list[tuple[Claim, list[str], list[str]]]:
        return [(c, _words(c.statement), _words(" ".join(r.quote for r in c.reports))) for c in self.claims]

    def search(self, text: str) -> list[Claim]:
        """The claims whose statement or quotes hold every word of ``text``, best first.

        Words match regardless of case and accents, and a word matches the words it begins
        (``"chip"`` finds ``"chips"``). The claims with the most words found in their statement
        come first, then those with the most matches in all; then by id.

        Example: ``[c.id for c in data.search("Hikvision")]``. Text without a word raises
        ``ValueError``.
        """
        wanted = _words(text)
        if not wanted:
            raise ValueError(f"nothing to search for in {text!r}: give one or more words")
        ranked = []
        for claim, statement, quotes in self._index:
            in_statement = sum(any(w.startswith(q) for w in statement) for q in wanted)
            if all(any(w.startswith(q) for w in [*statement, *quotes]) for q in wanted):
                hits = sum(w.startswith(q) for q in wanted for w in [*statement, *quotes])
                ranked.append((-in_statement, -hits, claim.id, claim))
        return [claim for *_, claim in sorted(ranked, key=lambda t: t[:3])]


@functools.cache
def _adapter(model: type) -> Any:
    import pydantic

    return pydantic.TypeAdapter(list[model])  # type: ignore[valid-type]


@functools.cache
def _opened(path: Path) -> Dataset:
    return Dataset(path)


def dataset(version: Optional[str] = None, *, path: Optional[PathLike] = None) -> Dataset:
    """The data package as a :class:`Dataset`: the bundled one, release ``version`` (downloaded
    on first use) or the package at ``path``; each is opened once.

    Example: ``reported_claims.dataset().claims_about("ent-hikvision")``, or
    ``reported_claims.dataset("1.2.0").claims`` for a published release.
    """
    return _opened(data_path(version, path=path))


def load(version: Optional[str] = None, *, path: Optional[PathLike] = None) -> Collection[Claim]:
    """Every claim, withdrawn ones included (their ``status`` is ``"withdrawn"``), by id.

    Of the bundled package, release ``version`` or the package at ``path`` (see :func:`dataset`).
    Example: ``reported_claims.load()["clm-china-denies-lethal-support-to-russia"].statement``.
    """
    return dataset(version, path=path).claims


def load_sources(version: Optional[str] = None, *, path: Optional[PathLike] = None) -> Collection[Source]:
    """Every source, by id (of the package :func:`load` reads with the same arguments)."""
    return dataset(version, path=path).sources


def load_entities(version: Optional[str] = None, *, path: Optional[PathLike] = None) -> Collection[Entity]:
    """Every entity, by id (of the package :func:`load` reads with the same arguments)."""
    return dataset(version, path=path).entities


def _table(table: str, version: Optional[str], path: Optional[PathLike]) -> tuple[list[dict[str, Any]],
                                                                                  list[dict[str, Any]]]:
    """The Table Schema fields of a CSV table and its rows, typed."""
    package = dataset(version, path=path)._package
    if table not in package.tables:
        raise ValueError(f"no table {table!r} in the data package; the tables are: {', '.join(sorted(package.tables))}")
    return package.schema(table)["fields"], package.table(table)


def to_pandas(table: str = "claims", version: Optional[str] = None, *,
              path: Optional[PathLike] = None) -> pandas.DataFrame:
    """One table of the data package as a pandas DataFrame (needs the ``pandas`` extra).

    Typed from its Table Schema with pandas' nullable dtypes: ``Int64``, ``Float64``,
    ``boolean`` and ``string``, and dates as ``datetime64[s]`` (a missing value is ``<NA>``,
    or ``NaT`` for a date). ``version`` and ``path`` choose the package as for :func:`load`.
    """
    pd = require("pandas", "pandas", "to_pandas")
    fields, rows = _table(table, version, path)
    frame: pandas.DataFrame = pd.DataFrame(
        {f["name"]: types.pandas_series(f, [row[f["name"]] for row in rows]) for f in fields},
        columns=[f["name"] for f in fields])
    return frame


def to_polars(table: str = "claims", version: Optional[str] = None, *,
              path: Optional[PathLike] = None) -> polars.DataFrame:
    """One table of the data package as a polars DataFrame (needs the ``polars`` extra).

    Typed from its Table Schema: ``pl.Int64``, ``pl.Float64``, ``pl.Boolean``, ``pl.Date`` and
    ``pl.String``; a missing value is null. ``version`` and ``path`` choose the package as for
    :func:`load`.
    """
    pl = require("polars", "polars", "to_polars")
    fields, rows = _table(table, version, path)
    frame: polars.DataFrame = pl.DataFrame([[row[f["name"]] for f in fields] for row in rows], orient="row",
                                           schema={f["name"]: types.polars_type(f) for f in fields})
    return frame
