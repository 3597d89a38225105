"""The installed data: every claim, source and entity as validated models, loaded on first use.

The wheel bundles the built data package under ``reported_claims/_data/``; a checkout (an
editable install) reads the package built at the repository root instead. Only the bundled
JSON is read, never the YAML records, and each table is read and validated once.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator, Sequence
from importlib import resources
from pathlib import Path
from typing import Generic, TypeVar, Union, overload

from reported_claims.model.records import Claim, Entity, Record, Source

R = TypeVar("R", bound=Record)

_BUNDLED = "_data"
_DESCRIPTOR = "datapackage.json"


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
    if bundled.joinpath(_DESCRIPTOR).is_file():
        return Path(str(bundled))
    checkout = Path(__file__).resolve().parents[3]  # src/reported_claims/client/api.py
    if (checkout / _DESCRIPTOR).is_file() and (checkout / "pyproject.toml").is_file():
        return checkout
    raise FileNotFoundError(
        "the data package is missing: this installation has no bundled data and the "
        f"checkout at {checkout} has no {_DESCRIPTOR}; run `reported-claims build` there"
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


def _descriptor() -> dict:
    return json.loads((data_path() / _DESCRIPTOR).read_text(encoding="utf-8"))


def _resource(table: str) -> tuple[Path, dict]:
    """The CSV file of a tabular resource and its Table Schema."""
    resources_ = [r for r in _descriptor().get("resources", []) if str(r.get("path", "")).endswith(".csv")]
    for resource in resources_:
        if resource.get("name") == table:
            return data_path() / resource["path"], resource.get("schema", {})
    names = ", ".join(sorted(r.get("name", "?") for r in resources_))
    raise ValueError(f"no table {table!r} in the data package; the tables are: {names}")


def _require(module: str, extra: str):
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise ImportError(
            f"{module} is needed for this; install it with: pip install 'reported-claims[{extra}]'"
        ) from None


_PANDAS_TYPES = {"integer": "Int64", "number": "Float64", "boolean": "boolean"}


def to_pandas(table: str = "claims"):
    """One table of the data package as a pandas DataFrame (needs the ``pandas`` extra).

    Typed from its Table Schema: integers, numbers and booleans nullable, the rest text.
    """
    pd = _require("pandas", "pandas")
    path, schema = _resource(table)
    fields = schema.get("fields", [])
    dtypes = {f["name"]: _PANDAS_TYPES.get(f.get("type"), "string") for f in fields}
    true = schema.get("trueValues", ["true"])
    false = schema.get("falseValues", ["false"])
    missing = schema.get("missingValues", [""])
    return pd.read_csv(
        path, dtype=dtypes, keep_default_na=False, na_values=missing,
        true_values=true, false_values=false,
    )


def to_polars(table: str = "claims"):
    """One table of the data package as a polars DataFrame (needs the ``polars`` extra)."""
    pl = _require("polars", "polars")
    path, schema = _resource(table)
    true = schema.get("trueValues", ["true"])
    frame = pl.read_csv(path, infer_schema=False, null_values=schema.get("missingValues", [""]))
    casts = []
    for f in schema.get("fields", []):
        column = pl.col(f["name"])
        if f.get("type") == "integer":
            casts.append(column.cast(pl.Int64))
        elif f.get("type") == "number":
            casts.append(column.cast(pl.Float64))
        elif f.get("type") == "boolean":
            casts.append(pl.when(column.is_null()).then(None).otherwise(column.is_in(true)).alias(f["name"]))
    return frame.with_columns(casts) if casts else frame
