"""How ingest reads a sentence against the claims: stems, clauses, and a sentence that refers back."""

import pytest

from conftest import REPO
from reported_claims.ingest.extract import Article
from reported_claims.ingest.index import Index, stems
from reported_claims.ingest.propose import clauses, context, propose
from reported_claims.repo.load import load


@pytest.mark.parametrize("a,b", [
    ("production", "produce"),
    ("reductions", "reduced"),
    ("Russian", "Russia"),
    ("drones", "drone"),
    ("supplied", "supplies"),
])
def test_forms_of_a_word_meet(a, b):
    assert stems(a) == stems(b)


def test_connectives_are_not_content():
    assert stems("Additionally, Moreover, However, exports rose") == stems("exports rose")


@pytest.mark.parametrize("sentence,expected", [
    ("They mentioned cruise missile engines, as well as machine tools needed for ballistic missiles.",
     ["They mentioned cruise missile engines", "machine tools needed for ballistic missiles."]),
    ("Joint production of drones on Russian soil and provision of satellite imagery further help.",
     ["Joint production of drones on Russian soil", "provision of satellite imagery further help."]),
    ("Exports rose sharply in March; imports of machine tools fell by a third.",
     ["Exports rose sharply in March", "imports of machine tools fell by a third."]),
    ("Tanks and aircraft were built.", []),
    ("Exports rose, and so did imports.", []),
])
def test_clauses(sentence, expected):
    assert clauses(sentence) == expected


def test_context_words_count_as_found_but_not_as_the_sentences_own():
    index = Index()
    index.add("claim", "microelectronics from China used to make missiles and tanks")
    index.freeze()
    (_, alone_a, alone_b), = index.search("This has enabled Russia to make missiles and tanks.")
    (_, read_a, read_b), = index.search("This has enabled Russia to make missiles and tanks.",
                                        "Most microelectronics came from China.")
    assert read_a > alone_a and read_b == alone_b
    assert index.search("Exports rose.", "missiles and tanks") == []


@pytest.fixture(scope="module")
def records():
    dataset, _ = load(REPO)
    return context(dataset, REPO)


def test_a_sentence_that_refers_back_is_quoted_with_the_one_before(records):
    """Its claim is said by the two sentences together ("This let Moscow…" needs what "this" is):
    the quote is both, and the attribution of the first is explicit in it."""
    text = ("A new report\nAccording to officials, nine in ten of Russia's microelectronics came from China last "
            "year. This let Russia make missiles, tanks and aircraft.\n")
    proposal = propose(records, Article(text), "src-test-article")
    mine = next(r for r in proposal.reports if r["claim"] == "clm-russia-used-chinese-microelectronics-for-weapons")
    assert mine["quote"].startswith("According to officials") and mine["quote"].endswith("tanks and aircraft.")
    assert mine["attribution_mode"] == "explicit" and mine["attributed_to"] == "officials"
    share = next(r for r in proposal.reports if r["claim"] == "clm-china-share-russian-microelectronics-2023")
    assert not share["quote"].endswith("aircraft."), "the first sentence's own claim stays with it"
