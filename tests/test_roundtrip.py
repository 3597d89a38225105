"""YAML -> model -> CSV/JSON -> model loses nothing."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from build_helpers import build_copy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reported_claims.package import read as package
from reported_claims.package.build import write_package
from reported_claims.model.records import Claim, ClaimDerived, Entity, Source, SourceDerived, Vocabulary
from reported_claims.repo.load import load
from reported_claims.package.tables import VOCABULARIES, Context, claim_derived, source_derived


def by_kind(dataset) -> dict[str, list]:
    return {kind: [getattr(dataset, kind)[k] for k in sorted(getattr(dataset, kind))]
            for kind in ("claims", "sources", "entities", "vocabularies")}


def records(read: dict[str, list]) -> dict[str, list]:
    """The records of a package as their files hold them: claims and sources without ``derived``."""
    return {kind: [r.record() if hasattr(r, "record") else r for r in rows] for kind, rows in read.items()}


def derived(read: dict[str, list]) -> dict[str, list]:
    return {kind: [(r.id, r.derived) for r in read[kind]] for kind in ("claims", "sources")}


def assert_round_trip(ctx: Context, folder: Path, expected: dict[str, list]) -> None:
    """JSON and CSV give back the records, and carry the same derived facts, the build's own."""
    from_json, from_csv = package.read_json(folder), package.read_csv(folder)
    assert records(from_json) == expected
    assert records(from_csv) == expected
    assert derived(from_json) == derived(from_csv)
    assert derived(from_json) == {
        "claims": [(c.id, ClaimDerived(**claim_derived(ctx, c, ctx.drifts[c.id]))) for c in ctx.claims],
        "sources": [(s.id, SourceDerived(**source_derived(ctx, s))) for s in ctx.sources]}


def test_real_records_round_trip(tmp_path):
    root = build_copy(tmp_path / "repo")
    dataset, _ = load(root)
    expected = by_kind(dataset)
    assert_round_trip(Context.of(*expected.values()), root, expected)
    assert records(by_kind(package.read(root))) == expected


# --- generated records ---------------------------------------------------------------------

slug = st.from_regex(r"\A[a-z0-9]{1,6}(-[a-z0-9]{1,6}){0,2}\Z")
# Text that is hard for CSV: separators, quotes, new lines, "; " (the convenience joiner), non-ASCII.
words = st.lists(st.sampled_from(["a", "b", " ", ",", ";", "; ", '"', "'", "\n", "é", "中", "…"]),
                min_size=1, max_size=8).map("".join)
line = st.builds(lambda w: f"x{w}y", words)
text = st.builds(lambda w: f"T{w}z", words)
amount = st.one_of(st.integers(0, 10**12).map(float), st.floats(0, 1e15, allow_nan=False, allow_infinity=False),
                   st.sampled_from([0.1, 1e-7, 2.5e20, 0.0]))
hedge = st.sampled_from(["exact", "about", "nearly", "over", "at-least", "under", "up-to"])
unit = st.sampled_from(["count", "USD", "times"])
partial = st.sampled_from(["2024", "2024-04", "2024-04-12", "1999-12-31"])
period = st.sampled_from(["2023", "2023-Q4", "2021/2022", "2024-04-01/2024-04-30", "2024-02"])


def maybe(strategy):
    return st.one_of(st.none(), strategy)


@st.composite
def claims(draw):
    qids = draw(st.lists(slug, max_size=3, unique=True))
    quantities = []
    for q in qids:
        u = draw(unit)
        quantities.append(dict(id=q, measure=draw(line), value=draw(amount), unit=u, hedge=draw(hedge),
                               compared_to=draw(line) if u == "times" else draw(maybe(line)),
                               period=draw(maybe(period))))
    claimants = [dict(entity=f"ent-{draw(slug)}", attribution=draw(slug), description=draw(maybe(line)),
                      via=draw(maybe(slug.map("src-{}".format)))) for _ in range(draw(st.integers(1, 3)))]
    sources = draw(st.lists(slug, min_size=1, max_size=4, unique=True))
    reports = [dict(source=f"src-{s}", quote=(quote := draw(text)), claimant=draw(st.sampled_from(claimants))["entity"],
                    attribution=draw(slug), fit=draw(st.sampled_from(["exact", "narrower", "broader", "partial"])),
                    act=draw(maybe(st.sampled_from(["asserts", "estimates", "warns"]))),
                    **draw(st.sampled_from([{"attribution_mode": "none"},
                                            {"attribution_mode": "explicit", "attributed_to": "T"},
                                            {"attribution_mode": "implied", "attributed_to": "xay",
                                             "attribution_context": "Txayz"}])),
                    **draw(st.sampled_from([{}, {"modality": "likely", "modality_text": quote}])),
                    note=draw(maybe(text)),
                    terms=draw(st.lists(line, max_size=3)),
                    derived_from=draw(st.lists(slug.map("src-{}".format), max_size=2)),
                    figures=[dict(quantity=draw(st.sampled_from(qids)), text=draw(line), value=draw(amount),
                                  unit=draw(unit), hedge=draw(hedge), share_of=draw(maybe(line)),
                                  period=draw(maybe(period)), compared_to=draw(maybe(line)))
                             for _ in range(draw(st.integers(0, 2) if qids else st.just(0)))])
               for s in sources]
    withdrawn = draw(st.booleans())
    return Claim.model_validate(dict(
        id=f"clm-{draw(slug)}", statement=draw(line), act=draw(st.sampled_from(["asserts", "questions"])),
        made=draw(maybe(partial)), topic=draw(slug), items=draw(st.lists(slug, max_size=3)),
        claimants=claimants,
        entities=[dict(entity=f"ent-{draw(slug)}", role=draw(slug)) for _ in range(draw(st.integers(0, 2)))],
        period=draw(maybe(period)), quantities=quantities,
        status="withdrawn" if withdrawn else draw(st.sampled_from(["reported", "denied"])),
        withdrawal=dict(date="2024-01-02", reason=draw(text), replaced_by=draw(maybe(slug.map("clm-{}".format))))
        if withdrawn else None,
        links=[dict(type=draw(st.sampled_from(["supports", "related", "part-of"])), claim=f"clm-{draw(slug)}", note=draw(maybe(text)))
               for _ in range(draw(st.integers(0, 2)))],
        reports=reports, notes=draw(maybe(text)),
    ))


@st.composite
def sources(draw):
    return Source.model_validate(dict(
        id=f"src-{draw(slug)}", kind=draw(slug), title=draw(line), publisher=draw(maybe(slug.map("ent-{}".format))),
        url=draw(maybe(st.just("https://example.org/a?b=c,d"))), published=draw(maybe(partial)),
        authors=draw(st.lists(line, max_size=3)), language=draw(st.sampled_from(["en", "zh", "en-GB"])),
        derived_from=[dict(source=f"src-{draw(slug)}", relation=draw(st.sampled_from(["reprint", "summary"])),
                           note=draw(maybe(text))) for _ in range(draw(st.integers(0, 2)))],
        attributes_to=draw(st.lists(slug.map("src-{}".format), max_size=2)),
        notes=draw(maybe(text)), seen=(seen := draw(st.booleans())),
        **(dict(text_sha256=draw(maybe(st.just("0" * 64))), retrieved=draw(maybe(partial)),
                not_recorded=[dict(quote=draw(text), reason=draw(st.sampled_from(["navigation", "opinion"])),
                                   note=draw(maybe(line))) for _ in range(draw(st.integers(0, 2)))])
           if seen else {}),
    ))


@st.composite
def entities(draw):
    ids = draw(maybe(st.fixed_dictionaries({}, optional={"wikidata": st.just("Q148"),
                                                         "website": st.just("https://example.org")})
                     .filter(bool)))
    return Entity.model_validate(dict(
        id=f"ent-{draw(slug)}", name=draw(line), aliases=draw(st.lists(line, max_size=3)), kind=draw(slug),
        country=draw(maybe(st.sampled_from(["CN", "RU", "US"]))), part_of=draw(maybe(slug.map("ent-{}".format))),
        ids=ids, description=draw(maybe(text)),
    ))


@st.composite
def vocabularies(draw):
    ids = draw(st.lists(st.sampled_from(VOCABULARIES), max_size=3, unique=True))
    return [Vocabulary.model_validate(dict(
        id=v, title=draw(line), description=draw(text),
        terms=[dict(id=t, label=draw(line), description=draw(text), deprecated=draw(maybe(line)))
               for t in draw(st.lists(slug, min_size=1, max_size=3, unique=True))],
    )) for v in ids]


def unique(records):
    return list({r.id: r for r in records}.values())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(claims(), max_size=3), st.lists(sources(), max_size=3), st.lists(entities(), max_size=3),
       vocabularies())
def test_generated_records_round_trip(claim_list, source_list, entity_list, vocabulary_list):
    ctx = Context.of(unique(claim_list), unique(source_list), unique(entity_list), vocabulary_list)
    expected = {"claims": ctx.claims, "sources": ctx.sources, "entities": ctx.entities,
                "vocabularies": ctx.vocabularies}
    with tempfile.TemporaryDirectory() as folder:
        write_package(ctx, Path(folder))
        assert_round_trip(ctx, Path(folder), expected)


@pytest.mark.parametrize("value", [0.0, 90.0, 0.1, 1e-7, 123456789.125, 2.5e20, 1e300])
def test_amounts_keep_their_value_and_integers_lose_the_point(value):
    from reported_claims.package.build import cell

    written = cell(value, "x")
    assert float(written) == value
    assert (".0" not in written) if value.is_integer() else True


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-2**63, 2**63 - 1) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20)


@settings(max_examples=300, deadline=None)
@given(st.lists(_JSON, max_size=5))
def test_a_list_dumped_an_item_at_a_time_is_the_list_dumped_whole(items):
    """The JSON resources are written a record at a time: byte for byte what the whole list gives."""
    from reported_claims.package import schemas

    assert schemas.dumps_list(items).decode("utf-8") == schemas.dumps(items)
