"""The models: documented, and the generated JSON Schemas accept the records as other tools read them."""

from __future__ import annotations

import json

import pytest
import yaml

from conftest import REPO
from reported_claims.models import MODELS, Record, period_bounds


def all_models():
    seen, todo = [], list(MODELS.values())
    while todo:
        model = todo.pop()
        if model in seen:
            continue
        seen.append(model)
        for info in model.model_fields.values():
            stack = [info.annotation]
            while stack:
                a = stack.pop()
                if isinstance(a, type) and issubclass(a, Record):
                    todo.append(a)
                stack.extend(getattr(a, "__args__", ()))
    return seen


@pytest.mark.parametrize("model", all_models(), ids=lambda m: m.__name__)
def test_every_field_has_a_description(model):
    assert model.__doc__ and model.__doc__.strip()
    schema = model.model_json_schema()
    for name, prop in schema["properties"].items():
        described = prop.get("description") or any(
            "description" in alt for alt in prop.get("anyOf", []) + prop.get("allOf", [])
        )
        assert described, f"{model.__name__}.{name} has no description"


@pytest.mark.parametrize("text,first,last", [
    ("2023", "2023-01-01", "2023-12-31"),
    ("2023-Q4", "2023-10-01", "2023-12-31"),
    ("2024-02", "2024-02-01", "2024-02-29"),
    ("2021/2022", "2021-01-01", "2022-12-31"),
    ("2024-04-01/2024-04-12", "2024-04-01", "2024-04-12"),
])
def test_period_bounds(text, first, last):
    a, b = period_bounds(text)
    assert (a.isoformat(), b.isoformat()) == (first, last)


@pytest.mark.parametrize("kind", sorted(MODELS))
def test_committed_json_schema_is_current(kind):
    from reported_claims.schemas import json_schema

    committed = json.loads((REPO / "schema" / f"{kind}.schema.json").read_text())
    assert committed == json_schema(kind)
    assert "DO NOT EDIT" in committed["$comment"]
