"""Figures and hedges as articles print them: value, unit, hedge and the whole a share is of."""

import pytest

from reported_claims.ingest.figures import figures

M, B = 1e6, 1e9
# phrase, value, unit, hedge, scope
CASES = [
    ("nearly 70%", 70, "percent", "nearly", None),
    ("Nearly 70% of Russia's machine tool imports came from China", 70, "percent", "nearly", "Russia's machine tool imports"),
    ("roughly 90 per cent", 90, "percent", "about", None),
    ("Roughly 90% of Russia’s microelectronics came from China", 90, "percent", "about", "Russia’s microelectronics"),
    ("about 90%", 90, "percent", "about", None),
    ("approximately 90%", 90, "percent", "about", None),
    ("around 40 percent", 40, "percent", "about", None),
    ("some 15%", 15, "percent", "about", None),
    ("an estimated 12 percent", 12, "percent", "about", None),
    ("a staggering 90%", 90, "percent", "exact", None),
    ("a staggering 90% of Russia’s microelectronics imports, which", 90, "percent", "exact", "Russia’s microelectronics imports"),
    ("90 per cent of computer chips imported by Russia last year", 90, "percent", "exact", "computer chips imported by Russia"),
    ("over 70%", 70, "percent", "over", None),
    ("more than 60 percent", 60, "percent", "over", None),
    ("in excess of 25%", 25, "percent", "over", None),
    ("upwards of 30 per cent", 30, "percent", "over", None),
    ("at least 20%", 20, "percent", "at-least", None),
    ("no less than 45 percent", 45, "percent", "at-least", None),
    ("less than 10%", 10, "percent", "under", None),
    ("under 5 percent", 5, "percent", "under", None),
    ("fewer than 300 soldiers", 300, "count", "under", None),
    ("up to 80%", 80, "percent", "up-to", None),
    ("as much as 35 percent", 35, "percent", "up-to", None),
    ("almost 50 pct", 50, "percent", "nearly", None),
    ("close to 75%", 75, "percent", "nearly", None),
    ("between 60 and 70 percent", 65, "percent", "about", None),
    ("between 60% and 70%", 65, "percent", "about", None),
    ("60-70%", 65, "percent", "about", None),
    ("12.5%", 12.5, "percent", "exact", None),
    ("$900 million", 900 * M, "USD", "exact", None),
    ("nearly $900 million", 900 * M, "USD", "nearly", None),
    ("approximately $900 million", 900 * M, "USD", "about", None),
    ("USD 900 million", 900 * M, "USD", "exact", None),
    ("USD200 million", 200 * M, "USD", "exact", None),
    ("more than USD500 million", 500 * M, "USD", "over", None),
    ("over $500 million", 500 * M, "USD", "over", None),
    ("$200m", 200 * M, "USD", "exact", None),
    ("$1.5bn", 1.5 * B, "USD", "exact", None),
    ("$2.8 billion", 2.8 * B, "USD", "exact", None),
    ("US$3 billion", 3 * B, "USD", "exact", None),
    ("1.5 billion dollars", 1.5 * B, "USD", "exact", None),
    ("2 million dollars", 2 * M, "USD", "exact", None),
    ("€40 million", 40 * M, "EUR", "exact", None),
    ("£12m", 12 * M, "GBP", "exact", None),
    ("EUR 5 billion", 5 * B, "EUR", "exact", None),
    ("10 billion euros", 10 * B, "EUR", "exact", None),
    ("300 million yuan", 300 * M, "CNY", "exact", None),
    ("RMB 20 billion", 20 * B, "CNY", "exact", None),
    ("5 billion rubles", 5 * B, "RUB", "exact", None),
    ("$48", 48, "USD", "exact", None),
    ("$1,200", 1200, "USD", "exact", None),
    ("three times", 3, "times", "exact", None),
    ("three times the artillery ammunition", 3, "times", "exact", None),
    ("nearly three times", 3, "times", "nearly", None),
    ("10 times", 10, "times", "exact", None),
    ("twice", 2, "times", "exact", None),
    ("a threefold", 3, "times", "exact", None),
    ("3 million Palestinians", 3 * M, "count", "exact", None),
    ("about 1,500 drones", 1500, "count", "about", None),
    ("more than 200 companies", 200, "count", "over", None),
    ("some 20 million people", 20 * M, "count", "about", None),
    ("at least 6 militants", 6, "count", "at-least", None),
    ("one million shells", 1 * M, "count", "exact", None),
]


@pytest.mark.parametrize("phrase,value,unit,hedge,scope", CASES, ids=[c[0] for c in CASES])
def test_figure(phrase, value, unit, hedge, scope):
    found = figures(phrase)
    assert len(found) == 1, found
    f = found[0]
    assert f.value == pytest.approx(value)
    assert (f.unit, f.hedge, f.scope) == (unit, hedge, scope)


@pytest.mark.parametrize("phrase", [
    "in 2023", "on Nov. 8, 2023", "Two senior officials said", "since February 2022", "Time:2024-05-09",
    "the 2 April call", "5 m away",
])
def test_not_a_figure(phrase):
    assert figures(phrase) == []


def test_range_keeps_its_ends():
    f = figures("between 60 and 70 percent")[0]
    assert (f.low, f.high) == (60, 70)


@pytest.mark.parametrize("text", [
    "nearly 70% of Russia's $900 million worth of machine tool imports in the last quarter",
    "Nearly 70% of Russia’s approximately $900 million in machine tool imports in the last quarter",
    "nearly 70 per cent of Russia's USD 900 million worth of machine tool imports emanated from China",
])
def test_scope_skips_an_amount_inside_it(text):
    share, amount = figures(text)
    assert (share.unit, share.hedge) == ("percent", "nearly") and amount.value == 900e6
    assert share.scope.replace("’", "'") == "Russia's machine tool imports"


def test_several_figures_in_order():
    found = figures("imports jumped from $200 million in 2021 to over $500 million in 2022")
    assert [(f.value, f.hedge) for f in found] == [(200 * M, "exact"), (500 * M, "over")]
    assert found[1].text == "over $500 million"
