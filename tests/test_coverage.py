"""The ledger of every sentence: each sentence of an archived text is quoted or listed."""

from __future__ import annotations

from pathlib import Path

from conftest import REPO, run_cli
from reported_claims.check.coverage import coverage
from reported_claims.check.sentences import sentences, split_line
from reported_claims.repo.load import load


def test_every_sentence_of_the_archived_articles_is_accounted_for():
    dataset, _ = load(REPO)
    articles = coverage(dataset)
    assert len(articles) == 5
    for article in articles:
        assert article.lines, article.source
        assert not article.unaccounted, [x.sentence.text for x in article.unaccounted]
        assert not article.problems
    # quotes account for most sentences; the ledger gives the rest a reason
    quoted = sum(1 for a in articles for x in a.lines if x.quoted_by)
    listed = {x.reason for a in articles for x in a.lines if not x.quoted_by}
    assert quoted > 60
    assert "navigation" in listed and None not in listed


def test_a_planted_sentence_fails_validate_with_its_file_and_line(repo_copy: Path):
    path = repo_copy / "archive" / "src-icaro-china-support-raises-concerns.txt"
    lines = path.read_text(encoding="utf-8").split("\n")
    lines.insert(3, "Beijing also quietly shipped ten tonnes of gold to Moscow in March.")
    path.write_text("\n".join(lines), encoding="utf-8")
    result = run_cli("validate", cwd=repo_copy)
    out = result.stdout.decode()
    assert result.returncode == 1
    assert ("archive/src-icaro-china-support-raises-concerns.txt:4:1: (file): 'Beijing also quietly shipped"
            in out)
    assert "[unaccounted-sentence]" in out
    assert "not_recorded" in out  # the hint says where to list it


def test_a_ledger_entry_that_is_not_in_the_text_is_reported(repo_copy: Path):
    path = repo_copy / "records" / "sources" / "src-icaro-china-support-raises-concerns.yaml"
    text = path.read_text(encoding="utf-8")
    assert "not_recorded:\n" in text
    text = text.replace("not_recorded:\n", "not_recorded:\n  - quote: A sentence the article never printed.\n"
                                           "    reason: background\n", 1)
    path.write_text(text, encoding="utf-8")
    result = run_cli("validate", cwd=repo_copy)
    assert result.returncode == 1
    assert "[ledger-not-found]" in result.stdout.decode()


def test_sentences_split_at_full_stops_but_not_after_abbreviations_or_initials():
    line = ("As J. Michael Cole of the U.S. institute said, Wuhan Tongsheng Technology Co. Ltd. sells "
            "optics. “It works,” he said! Was it 90%? Yes. 3 firms agreed.")
    assert [s for _, s in split_line(line)] == [
        "As J. Michael Cole of the U.S. institute said, Wuhan Tongsheng Technology Co. Ltd. sells optics.",
        "“It works,” he said!", "Was it 90%?", "Yes.", "3 firms agreed.",
    ]
    found = sentences("Title\n\nFirst one. Second one.\n")
    assert [(s.text, s.line, s.col) for s in found] == [("Title", 1, 1), ("First one.", 3, 1), ("Second one.", 3, 12)]
