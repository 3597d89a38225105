"""Near-duplicate claims: warned by validate, errors with --strict, none among the seed claims."""

from __future__ import annotations

import random
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import run_cli
from reported_claims.check import similar
from reported_claims.repo import reader
from reported_claims.repo.fmt import layout


def claims(repo: Path) -> dict[str, dict]:
    return {p.stem: reader.read(p).data for p in sorted((repo / "records" / "claims").glob("*.yaml"))}


def add_claim(repo: Path, data: dict) -> Path:
    path = repo / "records" / "claims" / f"{data['id']}.yaml"
    path.write_text(layout(data, "claim"), encoding="utf-8")
    return path


def near_copy(repo: Path, **changes) -> tuple[str, Path]:
    """A copy of the real claim with the longest statement, one word changed."""
    original = max(claims(repo).values(), key=lambda c: len(c["statement"]))
    words = original["statement"].split()
    words[2] = "allegedly"
    copy = dict(original, id="clm-near-copy", statement=" ".join(words), links=[], **changes)
    return original["id"], add_claim(repo, copy)


def test_seed_claims_raise_no_near_duplicate(repo_copy):
    done = run_cli("validate", "--strict", "--repo", str(repo_copy))
    out = done.stdout.decode()
    assert "near-duplicate" not in out
    assert done.returncode == 0, out


def test_near_copy_of_a_real_claim_is_warned_naming_the_other(repo_copy):
    original, path = near_copy(repo_copy)
    done = run_cli("validate", str(path), "--repo", str(repo_copy))
    out = done.stdout.decode()
    assert done.returncode == 0, out
    assert re.search(
        rf"^records/claims/clm-near-copy\.yaml:3:1: statement: closely matches {original} .*\[near-duplicate, warning\]$",
        out, re.M,
    ), out
    assert "1 warning(s)" in out

    strict = run_cli("validate", "--strict", str(path), "--repo", str(repo_copy))
    assert strict.returncode == 1
    assert f"closely matches {original}" in strict.stdout.decode()
    assert "[near-duplicate]" in strict.stdout.decode()

    # validating everything warns on both claims, each naming the other
    both = run_cli("validate", "--repo", str(repo_copy)).stdout.decode()
    assert f"{original}.yaml:3:1: statement: closely matches clm-near-copy" in both
    assert "clm-near-copy.yaml:3:1: statement: closely matches " + original in both


def test_withdrawn_claims_and_other_entities_are_not_compared(repo_copy):
    _, path = near_copy(repo_copy, status="withdrawn",
                        withdrawal={"date": "2024-05-01", "reason": "A duplicate of another claim."})
    done = run_cli("validate", str(path), "--repo", str(repo_copy))
    assert done.returncode == 0, done.stdout.decode()
    assert b"near-duplicate" not in done.stdout

    _, path = near_copy(repo_copy, entities=[{"entity": "ent-india", "role": "subject"}])
    done = run_cli("validate", str(path), "--repo", str(repo_copy))
    assert b"near-duplicate" not in done.stdout


def test_finds_planted_copies_among_many_claims():
    """The blocking that keeps this fast must not hide real copies (speed: scripts/bench)."""
    rng = random.Random(0)
    vocab = [f"word{i}" for i in range(20_000)]
    weights = [1 / (i + 1) for i in range(20_000)]  # Zipf: a few words in most statements
    common = "china russia the of to and in its war against ukraine has that".split()
    items = []
    for i in range(3_000):
        words = rng.sample(common, 5) + rng.choices(vocab, weights, k=rng.randint(6, 18))
        rng.shuffle(words)
        items.append(SimpleNamespace(id=f"clm-{i}", status="reported", statement=" ".join(words),
                                     entities=[SimpleNamespace(entity="ent-china")], links=[]))
    planted = []
    for i in range(0, 500, 10):
        words = items[i].statement.split()
        words[1] = "changed"
        planted.append(SimpleNamespace(id=f"clm-copy-{i}", status="reported", statement=" ".join(words),
                                       entities=items[i].entities, links=[]))
    found = similar.pairs(items + planted)
    assert {(a, b) for a, b, _, _ in found} >= {(f"clm-{i}", f"clm-copy-{i}") for i in range(0, 500, 10)}


def test_a_statement_copied_word_for_word_is_flagged_whatever_its_entities(repo_copy):
    original = max(claims(repo_copy).values(), key=lambda c: len(c["statement"]))
    copy = dict(original, id="clm-word-for-word", links=[],
                entities=[{"entity": "ent-iran", "role": "subject"}])
    path = add_claim(repo_copy, copy)
    done = run_cli("validate", "--strict", str(path), "--repo", str(repo_copy))
    assert done.returncode == 1
    assert f"closely matches {original['id']}" in done.stdout.decode()


def test_linked_claims_are_not_near_duplicates(repo_copy):
    original = max(claims(repo_copy).values(), key=lambda c: len(c["statement"]))
    copy = dict(original, id="clm-word-for-word", links=[{"type": "contradicts", "claim": original["id"]}])
    path = add_claim(repo_copy, copy)
    done = run_cli("validate", "--strict", str(path), "--repo", str(repo_copy))
    assert "near-duplicate" not in done.stdout.decode(), done.stdout.decode()


@settings(max_examples=300, deadline=None)
@given(st.lists(st.frozensets(st.sampled_from("abcdefghijkl"), min_size=1, max_size=10), min_size=2, max_size=30))
def test_the_blocks_keep_exactly_the_pairs_that_share_enough_words(statements):
    """Whatever the words and their counts, the pairs found are every pair whose Jaccard index
    reaches ``WORDS_MIN`` and no other, as comparing every pair finds them (boundaries included:
    few letters make many pairs of exactly 0.7)."""
    from reported_claims.check.similar import _candidate_pairs, _jaccard
    from reported_claims.repo.cache import WORDS_MIN

    words = {f"clm-{i:02d}": ws for i, ws in enumerate(statements)}
    ids = sorted(words)
    every = {(a, b) for i, a in enumerate(ids) for b in ids[i + 1:] if _jaccard(words[a], words[b]) >= WORDS_MIN}
    assert _candidate_pairs(words) == every
