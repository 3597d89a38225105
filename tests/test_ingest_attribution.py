"""Who a sentence says said it, as ingest reads it."""

import pytest

from reported_claims.ingest.attribution import attributions

CASES = [
    ("According to two senior officials, who spoke on condition of anonymity, exports rose.", "two senior officials"),
    ("Exports rose sharply, the officials said.", "the officials"),
    ("Two senior officials, who discussed the findings on Friday, said that exports rose.", "Two senior officials"),
    ("Exports rose, officials told the Associated Press.", "officials"),
    ("The ministry denied that any weapons were sold.", "The ministry"),
    ("Analysts believe the tools were used in missiles.", "Analysts"),
    ("Recently declassified intelligence indicates that exports rose.", "Recently declassified intelligence"),
    ("Senior officials have repeatedly warned that sanctions may follow.", "Senior officials"),
    ("Bloomberg reported that the talks had stalled.", "Bloomberg"),
    ("However, critics question whether the measures go far enough.", "critics"),
    ("Exports rose, said a spokesperson for the ministry.", "a spokesperson for the ministry"),
]


@pytest.mark.parametrize("sentence,words", CASES, ids=[c[1] for c in CASES])
def test_attribution(sentence, words):
    found = attributions(sentence)
    assert found and found[0].words == words


@pytest.mark.parametrize("sentence", [
    "Chinese companies are also believed to be providing nitrocellulose.",
    "The minister is expected to travel to Beijing this month.",
    "Exports rose by a third in the last quarter.",
    "Regardless, it has found alternative suppliers.",
])
def test_no_attribution(sentence):
    assert attributions(sentence) == []


def test_audience_of_told():
    found = attributions("Exports rose, the anonymous officials told the AP, adding more.")
    assert (found[0].words, found[0].audience) == ("the anonymous officials", "the AP")
