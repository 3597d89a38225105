"""reported-claims ingest: reading an article, the --json proposal, --write, and how good it is."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import FIXTURES, REPO, copy_repo, run_cli
from reported_claims.ingest.evaluate import leave_one_out, lineage_hits, totals
from reported_claims.ingest.extract import read

HTML = FIXTURES / "ingest" / "article.html"
ICARO = REPO / "archive" / "src-icaro-china-support-raises-concerns.txt"
REPRINTED = REPO / "archive" / "src-intl-identities-surging-equipment-sales.txt"


def ingest(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    """The command as a user runs it (``python -m reported_claims ingest``)."""
    return subprocess.run([sys.executable, "-m", "reported_claims", "ingest", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120)


def test_html_keeps_the_article_and_drops_the_page():
    article = read(HTML)
    body = ICARO.read_text(encoding="utf-8").splitlines()[2:]
    for paragraph in body:
        assert paragraph in article.text
    for chrome in ("Subscribe to our newsletter", "cycle lanes", "Stock markets", "Copyright", "Privacy policy",
                   "Home"):
        assert chrome not in article.text
    assert article.title == "China's Support to Russia's War Efforts in Ukraine Raises Concerns"
    assert (article.date, article.authors, article.site) == ("2024-04-13", ["Jane Example"], "ICARO Media Group")


def test_markdown_is_read_as_paragraphs(tmp_path):
    md = tmp_path / "a.md"
    md.write_text("# A **bold** title\n\nFirst line of a paragraph\ncontinued [here](http://x).\n\n- an item\n",
                  encoding="utf-8")
    assert read(md).text == "A bold title\nFirst line of a paragraph continued here.\nan item\n"


@pytest.mark.parametrize("content,message", [
    (b"", "empty"),
    (b"  \n\n", "empty"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "binary"),
    ("caf\u00e9 au lait".encode("latin-1"), "not UTF-8"),
    (b"x" * (5 * 1024 * 1024 + 1), "more than an article"),
])
def test_unreadable_input_is_one_line_and_exit_1(tmp_path, content, message):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(content)
    done = ingest(str(bad), "--json")
    assert done.returncode == 1
    assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.stderr


def test_json_has_the_documented_shape():
    done = ingest(str(HTML), "--json", "--id", "src-icaro-html-copy")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert set(out) == {"source", "lineage", "reports", "candidates", "ledger"}
    assert out["source"]["id"] == "src-icaro-html-copy" and out["source"]["published"] == "2024-04-13"
    # the page is the archived ICARO text: nearly every sentence is shared
    assert out["lineage"][0] == {"source": "src-icaro-china-support-raises-concerns", "relation": "reprint",
                                 "overlap": out["lineage"][0]["overlap"]}
    assert out["lineage"][0]["overlap"] >= 0.9
    claims = [r["claim"] for r in out["reports"]]
    assert len(claims) == len(set(claims)), "one proposal per claim"
    for r in out["reports"]:
        assert {"claim", "quote", "score", "attributed_to", "claimant", "attribution_mode", "figures",
                "differences", "alternatives"} <= set(r)
        assert r["attribution_mode"] in ("explicit", "implied", "none")
    micro = next(r for r in out["reports"] if r["claim"] == "clm-china-share-russian-microelectronics-2023")
    assert micro["attribution_mode"] == "explicit" and micro["claimant"] == "ent-us-senior-officials"
    assert micro["figures"][0]["text"] == "approximately 90%" and micro["figures"][0]["hedge"] == "about"
    assert all(set(c) == {"quote", "line"} for c in out["candidates"])
    assert all(e["reason"] in ("navigation", "background", "duplicate") for e in out["ledger"])


def test_summary_without_json_or_write(tmp_path):
    done = ingest(str(ICARO), "--id", "src-icaro-copy")
    assert done.returncode == 0, done.stderr
    assert "reprint of src-icaro-china-support-raises-concerns" in done.stdout
    assert "report of clm-china-share-russian-microelectronics-2023" in done.stdout


def test_json_and_write_together_are_refused():
    done = ingest(str(ICARO), "--json", "--write")
    assert done.returncode == 2 and "choose one of --json and --write" in done.stderr


def test_write_is_the_pull_request(tmp_path):
    """A new reprint of the AP story: the source, its text and reports are written; validate passes
    except for the placeholders of the candidate claims, and fmt --check finds nothing to change."""
    repo = copy_repo(tmp_path / "repo")
    lines = REPRINTED.read_text(encoding="utf-8").splitlines()
    body = [line for line in lines[5:13] if line.strip()]
    article = tmp_path / "reprint.txt"
    article.write_text("China boosts Russia's war machine, US says\nBy The Associated Press\n"
                       + "\n".join(body) + "\nOfficials said on Monday that 40 drones were delivered.\n",
                       encoding="utf-8")
    done = ingest(str(article), "--id", "src-new-reprint", "--publisher", "ent-associated-press", "--write",
                  "--repo", str(repo))
    assert done.returncode == 0, done.stderr
    source = (repo / "records" / "sources" / "src-new-reprint.yaml").read_text(encoding="utf-8")
    assert "relation: reprint" in source and "src-ap-china-surges-sales-to-russia" in source
    assert (repo / "archive" / "src-new-reprint.txt").read_text(encoding="utf-8") == article.read_text(encoding="utf-8")
    written = [line.split(" ", 1)[1] for line in done.stdout.splitlines()]
    assert sum("records/claims/" in w for w in written) >= 8
    validate = run_cli("validate", cwd=repo)
    problems = [line for line in validate.stdout.decode().splitlines() if line.endswith("]")]
    assert validate.returncode == 1 and problems
    assert all(line.endswith("[placeholder]") for line in problems), problems
    assert any("clm-officials-said-on-monday" in line for line in problems)
    fmt = run_cli("fmt", "--check", *[w for w in written if w.endswith(".yaml")], cwd=repo).stdout.decode()
    assert "not in the canonical layout" not in fmt, fmt  # files with placeholders are only left alone
    quotes = run_cli("check-quotes", cwd=repo)
    assert quotes.returncode == 0, quotes.stdout.decode()


def test_write_without_a_publisher_leaves_placeholders_only(tmp_path):
    repo = copy_repo(tmp_path / "repo")
    done = ingest(str(HTML), "--id", "src-icaro-page", "--write", "--repo", str(repo))
    assert done.returncode == 0, done.stderr
    validate = run_cli("validate", cwd=repo).stdout.decode()
    problems = [line for line in validate.splitlines() if line.endswith("]")]
    assert problems and all(line.endswith("[placeholder]") for line in problems), problems
    assert any("src-icaro-page.yaml" in line and "publisher" in line for line in problems)


def test_write_refuses_an_existing_source(tmp_path):
    repo = copy_repo(tmp_path / "repo")
    done = ingest(str(ICARO), "--id", "src-icaro-china-support-raises-concerns", "--write", "--repo", str(repo))
    assert done.returncode == 1 and "exists already" in done.stderr


# The goals: recall 85%, precision 80%, top-3 95%, attribution 85%, candidates 70%, and 95% on
# the reprint and close rewrites (see scripts/evaluate-ingest for the figures).
RECALL, PRECISION, TOP3, ATTRIBUTION, CANDIDATES = 0.85, 0.80, 0.95, 0.85, 0.70
CLOSE_RECALL = 0.95
RESULTS = None


def results():
    global RESULTS
    if RESULTS is None:
        RESULTS = leave_one_out(REPO)
    return RESULTS


def test_leave_one_out_meets_the_goals():
    all_ = totals(results())
    assert all_.found / all_.curated >= RECALL
    assert all_.correct / all_.proposed >= PRECISION
    assert all_.top / all_.curated >= TOP3
    assert all_.attribution / all_.found >= ATTRIBUTION
    assert all_.covered / all_.only >= CANDIDATES
    hit, want = lineage_hits(all_)
    assert hit == want
    # the median, so that one article timed while the machine is busy does not decide
    assert sorted(r.seconds for r in results())[len(results()) // 2] < 2


def test_leave_one_out_reprint_and_close_rewrite():
    for r in results():
        if r.source in ("src-intl-identities-surging-equipment-sales", "src-icaro-china-support-raises-concerns"):
            assert r.found / r.curated >= CLOSE_RECALL, r
