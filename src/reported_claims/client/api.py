"""The installed data: every claim, source and entity as validated models, loaded on first use.

The wheel bundles the built data package under ``reported_claims/_data/``; a checkout (an
editable install) reads the package built at the repository root instead. Only the bundled
JSON is read, never the YAML records, and each table is read and validated once.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
from importlib import resources
from pathlib import Path
from typing import Generic, TypeVar, Union, overload

from reported_claims.errors import require
from reported_claims.model.records import Claim, Entity, Record, Source
from reported_claims.package import DESCRIPTOR, types

R = TypeVar("R", bound=Record)

_BUNDLED = "_data"


class Collection(Sequence, Generic[R]):
    """Records sorted by id: a sequence by position, a mapping by id.

    ``collection["clm-x"]`` raises ``KeyError`` naming the id; ``collection.get("clm-x")``
    returns None instead. Integers and slices index by position, as in a list.
    """

    def __init__(self, records, kind: str = "record"):
        self._records: tuple[R, ...] = tuple(sorted(records, key=lambda r: r.id))
        self._by_id: dict[str, R] = {r.id: r for r in self._records}
        self._kind = kind

    def __len__(self) -> int:
        return len(self._records)

    def __iter__(self) -> Iterator[R]:
        return iter(self._records)

    @overload
    def __getitem__(self, key: Union[str, int]) -> R: ...
    @overload
    def __getitem__(self, key: slice) -> "Collection[R]": ...

    def __getitem__(self, key):
        if isinstance(key, str):
            try:
                return self._by_id[key]
            except KeyError:
                raise KeyError(f"no {self._kind} with id {key!r}") from None
        if isinstance(key, slice):
            return Collection(self._records[key], self._kind)
        return self._records[key]

    def __contains__(self, item: object) -> bool:
        if isinstance(item, str):
            return item in self._by_id
        return item in self._records

    def __repr__(self) -> str:
        return f"<Collection of {len(self)} {self._kind} record(s)>"

    def get(self, id: str, default=None):
        """The record with this id, or ``default`` (None) when there is none."""
        return self._by_id.get(id, default)

    def ids(self) -> list[str]:
        """Every id, sorted."""
        return list(self._by_id)

    def filter(self, predicate: Callable[[R], bool] | None = None, **equals) -> "Collection[R]":
        """The records for which ``predicate`` holds and each ``field=value`` is equal.

        Example: ``load().filter(topic="semiconductors", status="reported")``.
        """
        def keep(record: R) -> bool:
            if predicate is not None and not predicate(record):
                return False
            return all(getattr(record, name) == value for name, value in equals.items())

        return Collection(filter(keep, self._records), self._kind)

    def by_status(self, status: str) -> "Collection[R]":
        """The records with this status, e.g. ``"withdrawn"`` (claims only)."""
        return self.filter(status=status)


def data_path() -> Path:
    """The folder holding ``datapackage.json`` and ``data/`` (CSV and JSON), for DuckDB,
    frictionless or any other reader.

    That is the copy bundled in the installed package; from a checkout without one (an
    editable install), the package built at the repository root.
    """
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


def _load(table: str, kind: str) -> Collection:
    from reported_claims.package.read import read_kind

    return Collection(read_kind(data_path(), table), kind)


@functools.cache
def load() -> Collection[Claim]:
    """Every claim, withdrawn ones included (their ``status`` is ``"withdrawn"``), by id."""
    return _load("claims", "claim")


@functools.cache
def load_sources() -> Collection[Source]:
    """Every source, by id."""
    return _load("sources", "source")


@functools.cache
def load_entities() -> Collection[Entity]:
    """Every entity, by id."""
    return _load("entities", "entity")


def _table(table: str) -> tuple[list[dict], list[dict]]:
    """The Table Schema fields of a CSV table and its rows, typed."""
    from reported_claims.package.read import open_package

    package = open_package(data_path())
    if table not in package.tables:
        raise ValueError(f"no table {table!r} in the data package; the tables are: {', '.join(sorted(package.tables))}")
    return package.schema(table)["fields"], package.table(table)


def to_pandas(table: str = "claims"):
    """One table of the data package as a pandas DataFrame (needs the ``pandas`` extra).

    Typed from its Table Schema with pandas' nullable dtypes: ``Int64``, ``Float64``,
    ``boolean`` and ``string``, and dates as ``datetime64[s]`` (a missing value is ``<NA>``,
    or ``NaT`` for a date).
    """
    pd = require("pandas", "pandas", "to_pandas")
    fields, rows = _table(table)
    return pd.DataFrame({f["name"]: types.pandas_series(f, [row[f["name"]] for row in rows]) for f in fields},
                        columns=[f["name"] for f in fields])


def to_polars(table: str = "claims"):
    """One table of the data package as a polars DataFrame (needs the ``polars`` extra).

    Typed from its Table Schema: ``pl.Int64``, ``pl.Float64``, ``pl.Boolean``, ``pl.Date`` and
    ``pl.String``; a missing value is null.
    """
    pl = require("polars", "polars", "to_polars")
    fields, rows = _table(table)
    return pl.DataFrame([[row[f["name"]] for f in fields] for row in rows], orient="row",
                        schema={f["name"]: types.polars_type(f) for f in fields})
