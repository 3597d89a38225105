"""The models: documented, and the generated JSON Schemas accept the records as other tools read them."""

from __future__ import annotations

import json
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
import yaml

from conftest import REPO
from reported_claims.model.kinds import MODELS
from reported_claims.model.records import Record
from reported_claims.model.types import period_bounds


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
    from reported_claims.package.schemas import json_schema

    committed = json.loads((REPO / "schema" / f"{kind}.schema.json").read_text())
    assert committed == json_schema(kind)
    assert "DO NOT EDIT" in committed["$comment"]


class _EditorLoader(yaml.SafeLoader):
    """Reads YAML as editors and check-jsonschema do: types resolved, dates kept as text."""


_EditorLoader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@pytest.mark.parametrize("folder,kind", [("claims", "claim"), ("sources", "source"), ("entities", "entity"), ("vocabularies", "vocabulary")])
def test_records_pass_their_json_schema_as_other_tools_read_them(folder, kind):
    """The editor schema agrees with the validator on every real record (canonical layout)."""
    import jsonschema

    schema = json.loads((REPO / "schema" / f"{kind}.schema.json").read_text())
    validator = jsonschema.Draft202012Validator(schema)
    paths = sorted((REPO / "records" / folder).glob("*.yaml"))
    assert paths
    for path in paths:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_EditorLoader)
        errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(data)]
        assert not errors, f"{path.name}: {errors[:3]}"


def test_json_schema_rejects_what_the_validator_rejects():
    import jsonschema

    schema = json.loads((REPO / "schema" / "entity.schema.json").read_text())
    validator = jsonschema.Draft202012Validator(schema)
    assert not list(validator.iter_errors({"id": "ent-x", "name": "X", "kind": "company"}))
    bad = {"id": "ENT-X", "name": "X", "kind": "company", "nickname": "x"}
    messages = " ".join(e.message for e in validator.iter_errors(bad))
    assert "ENT-X" in messages and "nickname" in messages


@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=40)
       | st.sampled_from(["=1", "+a", "-a", "@a", " a", "a ", "\ta", "a\t", "a\nb", "a\rb", "a\x7fb", "TODO x", "a\x1c", "~"]))
@settings(max_examples=2000, deadline=None)
def test_the_quick_check_of_ascii_text_takes_only_what_every_rule_takes(value):
    """Plain ASCII text is taken at once by one pattern: each text it takes passes every rule,
    and each it leaves is judged rule by rule, so that the two always agree."""
    from pydantic_core import PydanticCustomError

    from reported_claims.model.types import _PLAIN_ASCII, _check_each, _check_text

    try:
        expected = _check_each(value)
    except PydanticCustomError as exc:
        expected = exc.type
    try:
        got = _check_text(value)
    except PydanticCustomError as exc:
        got = exc.type
    assert got == expected
    if _PLAIN_ASCII.fullmatch(value) and not value.startswith("TODO"):
        assert expected == value  # taken at once only where every rule takes it


def test_records_giving_the_same_fields_share_one_set_of_their_names_and_stay_apart_when_copied():
    """Records that give the same fields keep one frozen set of their names between them; what
    pydantic reports of each is still its own, through copies with updates and pickling."""
    import pickle

    from reported_claims.model.kinds import MODELS

    entity = MODELS["entity"]
    a = entity.model_validate({"id": "ent-a", "name": "A", "kind": "company"})
    b = entity.model_validate({"id": "ent-b", "name": "B", "kind": "company"})
    c = entity.model_validate({"id": "ent-c", "name": "C", "kind": "company", "aliases": ["Cee"]})
    assert a.model_fields_set == {"id", "name", "kind"}
    assert a.__pydantic_fields_set__ is b.__pydantic_fields_set__
    assert c.model_fields_set == {"id", "name", "kind", "aliases"}
    assert c.__pydantic_fields_set__ is not a.__pydantic_fields_set__
    assert a.model_dump(exclude_unset=True) == {"id": "ent-a", "name": "A", "kind": "company"}

    changed = a.model_copy(update={"aliases": ["Ay"]})
    assert changed.aliases == ["Ay"] and "aliases" in changed.model_fields_set
    assert a.model_fields_set == b.model_fields_set == {"id", "name", "kind"}
    assert a.aliases == [] and b.aliases == []
    assert a.model_copy() == a and a.model_copy(deep=True) == a

    back = pickle.loads(pickle.dumps([a, b]))
    assert back == [a, b]
    assert back[0].__pydantic_fields_set__ is back[1].__pydantic_fields_set__ is a.__pydantic_fields_set__
    own = pickle.loads(pickle.dumps(changed))
    assert own == changed and own.model_fields_set == changed.model_fields_set


def test_a_pickled_record_is_its_values_and_comes_back_with_the_models_own_names(monkeypatch):
    """Pickled records carry their values in field order, not every field's name again: each
    comes back equal, with the fields it gave, keyed by the model's own strings (shared by every
    record of the model, however many pickles they came from); a pickle made when the model had
    other fields is refused, never read into the wrong fields."""
    import pickle

    from reported_claims.model import records
    from reported_claims.repo import reader

    path = sorted((REPO / "records" / "claims").glob("*.yaml"))[0]
    claim = records.Claim.model_validate(reader.read(path).data)
    blob = pickle.dumps(claim, protocol=pickle.HIGHEST_PROTOCOL)
    assert claim.reports and b"attribution_mode" not in blob and b"__pydantic_fields_set__" not in blob
    one, two = pickle.loads(blob), pickle.loads(pickle.dumps(claim))
    assert one == two == claim
    assert one.model_dump(exclude_unset=True) == claim.model_dump(exclude_unset=True)
    assert one.reports[0].model_fields_set == claim.reports[0].model_fields_set
    assert all(a is b for a, b in zip(one.__dict__, two.__dict__))
    assert all(a is b for a, b in zip(one.reports[0].__dict__, two.reports[0].__dict__))

    names, _ = records._layout(records.Claim)
    monkeypatch.setitem(records._LAYOUTS, records.Claim, (names, b"another layout"))
    with pytest.raises(records.LayoutChanged, match="Claim pickled when the model had other fields"):
        pickle.loads(blob)


@pytest.mark.skipif(sys.implementation.name != "cpython", reason="how CPython keeps an object's attributes")
def test_records_keep_their_values_under_keys_their_model_shares():
    """A record validated or rebuilt from its pickle keeps its values in a dictionary that shares
    its keys with the model's other records (CPython's split dictionaries), at about half the
    memory of a dictionary of its own, which is what pydantic gives each record; it is still
    equal to, and dumps as, the record it was."""
    import pickle

    from reported_claims.model import records
    from reported_claims.repo import reader

    def shares(record) -> bool:
        own = dict(record.__dict__)  # the same keys and values in a dictionary of its own
        return sys.getsizeof(record.__dict__) < sys.getsizeof(own) and record.__dict__ == own

    path = sorted((REPO / "records" / "claims").glob("*.yaml"))[0]
    many = [records.Claim.model_validate(reader.read(path).data) for _ in range(50)]
    claim = many[-1]
    back = pickle.loads(pickle.dumps(claim))
    for record in (claim, claim.reports[0], back, back.reports[0]):
        assert shares(record), type(record).__name__
    assert back == claim and back.model_dump() == claim.model_dump()
    assert list(claim.__dict__) == list(records.Claim.model_fields)
    # Made to be outlined at once (a lean load), a record keeps pydantic's dictionary; rebuilt from
    # its pickle, and once the block is left, records share their model's keys again.
    with records.own_keys():
        lean = records.Claim.model_validate(reader.read(path).data)
    assert not shares(lean) and lean == claim
    assert shares(pickle.loads(pickle.dumps(lean)))
    assert shares(records.Claim.model_validate(reader.read(path).data))


def test_the_lists_a_record_leaves_out_are_one_empty_list_that_cannot_change():
    """Every record that leaves a list field out holds the same empty list: it is ``[]`` to
    comparisons, pydantic, orjson and JSON, it survives a pickle and a copy as itself, and
    changing it is refused (it would change every record), while a list a record gives is its own."""
    import copy
    import pickle

    import orjson

    from reported_claims.model import records

    first = records.Entity.model_validate({"id": "ent-a", "name": "A", "kind": "person"})
    second = records.Entity.model_validate({"id": "ent-b", "name": "B", "kind": "person"})
    given = records.Entity.model_validate({"id": "ent-c", "name": "C", "kind": "person", "aliases": ["Cee"]})
    assert first.aliases is second.aliases is records.NO_ITEMS
    assert first.aliases == [] and isinstance(first.aliases, list) and given.aliases == ["Cee"]
    assert type(given.aliases) is list and given.aliases is not records.NO_ITEMS
    assert first.model_dump()["aliases"] == [] and json.loads(first.model_dump_json())["aliases"] == []
    assert orjson.loads(orjson.dumps(first.model_dump(mode="python")))["aliases"] == []
    assert orjson.dumps(first.aliases) == b"[]"
    back = pickle.loads(pickle.dumps(first))
    assert back == first and back.aliases is records.NO_ITEMS
    assert copy.deepcopy(first).aliases is records.NO_ITEMS and copy.copy(first.aliases) is records.NO_ITEMS
    for change in (lambda x: x.append("x"), lambda x: x.extend(["x"]), lambda x: x.insert(0, "x"),
                   lambda x: x.__setitem__(slice(0, 0), ["x"]), lambda x: x.__iadd__(["x"]), lambda x: x.clear()):
        with pytest.raises(TypeError, match="cannot be changed"):
            change(first.aliases)
    assert records.NO_ITEMS == [] and second.aliases == []
    assert first.model_copy(update={"aliases": ["Ay"]}).aliases == ["Ay"] and first.aliases == []
