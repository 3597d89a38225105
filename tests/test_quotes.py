"""`reported-claims check-quotes`: quotes against the archived texts of their sources."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from conftest import run_cli
from reported_claims.repo import reader
from reported_claims.check.quotes import find, fold


def check(repo: Path, *args: str, env: dict | None = None):
    done = run_cli("check-quotes", *args, "--repo", str(repo), env=env)
    return done.returncode, done.stdout.decode(), done.stderr.decode()


def archived_claim(repo: Path) -> tuple[Path, reader.Document]:
    """A real claim whose first report quotes a source with an archived text."""
    for path in sorted((repo / "records" / "claims").glob("*.yaml")):
        doc = reader.read(path)
        if (repo / "archive" / f"{doc.data['reports'][0]['source']}.txt").is_file():
            return path, doc
    raise AssertionError("no claim quotes an archived source")


def set_quote(path: Path, doc: reader.Document, quote: str) -> int:
    """Replace the first report's quote on its own line; return that line."""
    line = doc.mark(("reports", 0, "quote")).line
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    assert lines[line - 1].lstrip().startswith("quote:")
    indent = lines[line - 1][: len(lines[line - 1]) - len(lines[line - 1].lstrip())]
    lines[line - 1] = f'{indent}quote: "{quote}"\n'
    path.write_text("".join(lines), encoding="utf-8")
    return line


def test_real_quotes_are_all_found(repo_copy):
    code, out, err = check(repo_copy)
    assert code == 0, out + err
    assert re.search(r"^\d+ quote\(s\) checked against \d+ archived text\(s\)", out, re.M)
    assert "[quote-not-found]" not in out


def test_altered_quote_is_an_error_at_its_line_showing_the_closest_passage(repo_copy):
    path, doc = archived_claim(repo_copy)
    quote = doc.data["reports"][0]["quote"]
    first = quote.split(" ... ")[0]
    words = first.split()
    words[len(words) // 2] = "XYZZY"
    line = set_quote(path, doc, " ".join(words))
    code, out, _ = check(repo_copy)
    assert code == 1
    rel = path.relative_to(repo_copy).as_posix()
    hit = [l for l in out.splitlines() if l.startswith(f"{rel}:{line}:")]
    assert len(hit) == 1, out
    assert hit[0].endswith("[quote-not-found]")
    assert ": reports[0].quote: " in hit[0]
    assert "closest passage" in hit[0]
    # the closest passage is the original wording, folded
    passage = re.search(r"closest passage \((\d+)% alike\): (['\"])(.*)\2", hit[0])
    assert int(passage.group(1)) >= 80
    assert fold(first)[:40].split()[0] in passage.group(3)


def test_typography_whitespace_and_elisions(repo_copy):
    path, doc = archived_claim(repo_copy)
    quote = doc.data["reports"][0]["quote"]
    text = (repo_copy / "archive" / f"{doc.data['reports'][0]['source']}.txt").read_text()
    straight = quote.replace("’", "'").replace("“", '\\"').replace("”", '\\"').replace(" ", "  ")
    set_quote(path, doc, straight)
    assert check(repo_copy)[0] == 0

    parts = fold(quote).split(" ... ")[0].split()
    assert find(" ".join(parts[:3]) + " … " + " ".join(parts[-3:]), fold(text)) is None
    assert "before the part preceding it" in find(" ".join(parts[-3:]) + " ... " + " ".join(parts[:3]), fold(text))


def test_archive_hash_mismatch_is_an_error_and_missing_archive_a_warning(repo_copy):
    _, doc = archived_claim(repo_copy)
    sid = doc.data["reports"][0]["source"]
    archive = repo_copy / "archive" / f"{sid}.txt"
    archive.write_text(archive.read_text() + "\nAn added line.\n")
    code, out, _ = check(repo_copy)
    assert code == 1
    source = reader.read(repo_copy / "records" / "sources" / f"{sid}.yaml")
    line = source.mark(("text_sha256",)).line
    assert re.search(rf"^records/sources/{sid}\.yaml:{line}:1: text_sha256: .* \[archive-hash-mismatch\]$", out, re.M), out

    other = tmp_archive = repo_copy / "elsewhere"
    shutil.copytree(repo_copy / "archive", tmp_archive)
    (other / f"{sid}.txt").unlink()
    code, out, _ = check(repo_copy, "--archive", str(other))
    assert code == 0, out
    assert re.search(rf"^records/sources/{sid}\.yaml:\d+:1: id: .* does not exist.*\[archive-missing, warning\]$", out, re.M)


def test_github_annotations(repo_copy):
    path, doc = archived_claim(repo_copy)
    line = set_quote(path, doc, "Words that no source ever printed anywhere")
    code, out, _ = check(repo_copy, env={"GITHUB_ACTIONS": "true"})
    assert code == 1
    rel = path.relative_to(repo_copy).as_posix()
    assert f"::error file={rel},line={line},col=5,title=quote-not-found::reports[0].quote: " in out
