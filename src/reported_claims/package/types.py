"""The Table Schema types of the package's tables, and what each is in every reader and format.

One table, ``TYPES``: for each Table Schema type the build writes (string, integer, number,
boolean, date), how a CSV cell parses to Python and the column type in SQLite, Arrow (Parquet),
pandas and polars. The CSV reader (``read``), the SQLite and Parquet exports and
``to_pandas``/``to_polars`` all ask here, so that a date is a date and a boolean a boolean in
each of them.

pandas columns are the nullable dtypes (``Int64``, ``Float64``, ``boolean``, ``string``) and
dates are ``datetime64[s]``: pandas' own date-time type, so ``.dt``, comparisons with
``pd.Timestamp`` and resampling work, a missing date is ``NaT``, and no pyarrow is needed.
pandas, polars and pyarrow are optional extras, imported only when a frame or a Parquet file is
asked for.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Callable, Optional

from reported_claims.errors import require

TRUE_VALUES = ("true", "True", "TRUE", "1")
"""Table Schema's default ``trueValues`` of a boolean field."""
FALSE_VALUES = ("false", "False", "FALSE", "0")
"""Table Schema's default ``falseValues`` of a boolean field."""
MISSING_VALUES = ("",)
"""Table Schema's default ``missingValues``: an empty cell is no value."""


@dataclass(frozen=True)
class FieldType:
    """One Table Schema type in every reader and format."""

    name: str
    """The Table Schema type: ``string``, ``integer``, ``number``, ``boolean`` or ``date``."""
    parse: Optional[Callable[[str], Any]]
    """A CSV cell (not a missing value) to its Python value; None for booleans, whose words
    are the field's (see :func:`parser`)."""
    sqlite: str
    """The declared SQLite column type."""
    arrow: str
    """The ``pyarrow`` factory of its Arrow type (``pa.int64()``...)."""
    pandas: str
    """The pandas dtype."""
    polars: str
    """The ``polars`` data type's name (``pl.Int64``...)."""
    python: type = str
    """The Python type of a model field that a column of this type holds."""
    to_sqlite: Callable[[Any], Any] = lambda value: value
    """A Python value as SQLite stores it."""


TYPES: dict[str, FieldType] = {t.name: t for t in (
    FieldType("string", str, "TEXT", "string", "string", "String", str),
    FieldType("integer", int, "INTEGER", "int64", "Int64", "Int64", int),
    FieldType("number", float, "REAL", "float64", "Float64", "Float64", float),
    # SQLite has no boolean: 0 and 1, as sqlite3 stores Python's False and True.
    FieldType("boolean", None, "INTEGER", "bool_", "boolean", "Boolean", bool, int),
    # SQLite has no date: ISO 8601 text, which sorts and compares as dates do.
    FieldType("date", dt.date.fromisoformat, "TEXT", "date32", "datetime64[s]", "Date", dt.date, dt.date.isoformat),
)}
"""Table Schema type -> its parser and its type in SQLite, Arrow, pandas and polars."""


def of_python(annotation: type) -> FieldType:
    """The type of the column that holds a model field of Python type ``annotation``."""
    for t in TYPES.values():
        if t.python is annotation:
            return t
    raise ValueError(f"no Table Schema type holds Python {annotation!r}; the package's tables use "
                     f"{', '.join(TYPES)}")


def field_type(field: dict) -> FieldType:
    """The type of a Table Schema field (``string`` when it names none); ValueError for a type
    the package does not write."""
    name = field.get("type", "string")
    try:
        return TYPES[name]
    except KeyError:
        raise ValueError(f"field {field.get('name')!r} has type {name!r}; the package's tables use "
                         f"{', '.join(TYPES)}") from None


def parser(field: dict) -> Callable[[str], Any]:
    """A function from one CSV cell of ``field`` (not a missing value) to its Python value;
    it raises ValueError for a cell that is not of the field's type."""
    type_ = field_type(field)
    if type_.parse is not None:
        return type_.parse
    words = {**{w: True for w in field.get("trueValues", TRUE_VALUES)},
             **{w: False for w in field.get("falseValues", FALSE_VALUES)}}

    def boolean(text: str) -> bool:
        try:
            return words[text]
        except KeyError:
            raise ValueError(text) from None
    return boolean


def missing_values(schema: dict) -> frozenset[str]:
    """The cells of a table that mean no value."""
    return frozenset(schema.get("missingValues", MISSING_VALUES))


def arrow_type(field: dict):
    """The Arrow type of a field (needs the ``parquet`` extra)."""
    pa = require("pyarrow", "parquet", "Parquet")
    return getattr(pa, field_type(field).arrow)()


def pandas_series(field: dict, values: list):
    """A column of typed Python values (None for missing) as a pandas Series of the field's dtype."""
    pd = require("pandas", "pandas", "to_pandas")
    return pd.Series(values, dtype=field_type(field).pandas, name=field["name"])


def polars_type(field: dict):
    """The polars data type of a field (needs the ``polars`` extra)."""
    pl = require("polars", "polars", "to_polars")
    return getattr(pl, field_type(field).polars)
