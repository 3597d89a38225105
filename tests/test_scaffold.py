"""`reported-claims new`: fresh ids, the schema line, and placeholders that validate flags."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import run_cli

PROBLEM = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+):(?P<col>\d+): (?P<loc>\S+): (?P<msg>.*) \[(?P<code>[^\]]+)\]$")


def new(repo: Path, *args: str) -> Path:
    done = run_cli("new", *args, "--repo", str(repo))
    assert done.returncode == 0, done.stderr
    path = repo / done.stdout.decode().strip()
    assert path.is_file()
    return path


def problems(output: bytes) -> list[dict]:
    return [m.groupdict() for m in map(PROBLEM.match, output.decode().splitlines()) if m]


def test_new_claim_has_a_fresh_id_schema_line_and_flagged_placeholders(repo_copy):
    path = new(repo_copy, "claim", "--slug", "Yellen warns China's banks")
    assert re.fullmatch(r"clm-yellen-warns-china-s-banks-[a-z2-9]{6}\.yaml", path.name)
    assert path.parent == repo_copy / "records" / "claims"
    lines = path.read_text().splitlines()
    assert lines[0] == "# yaml-language-server: $schema=../../schema/claim.schema.json"
    assert lines[1] == f"id: {path.stem}"

    done = run_cli("validate", str(path), "--repo", str(repo_copy))
    assert done.returncode == 1
    found = problems(done.stdout)
    rel = path.relative_to(repo_copy).as_posix()
    assert {p["file"] for p in found} == {rel}
    assert {p["code"] for p in found} == {"placeholder"}
    assert {p["loc"] for p in found} == {
        "statement", "act", "topic", "claimants[0].entity", "claimants[0].attribution",
        "entities[0].entity", "entities[0].role", "reports[0].source", "reports[0].quote",
        "reports[0].claimant", "reports[0].attribution", "reports[0].attribution_mode",
        "reports[0].attributed_to", "reports[0].fit",
    }
    assert len(found) == 14  # each once, though both the reader and the model see a choice left open
    by_loc = {p["loc"]: p for p in found}
    assert "records/vocabularies/topics.yaml" in by_loc["topic"]["msg"]
    assert "military-supply" in by_loc["topic"]["msg"]  # lists the terms to choose from
    assert "reported-claims new source" in by_loc["reports[0].source"]["msg"]
    # each problem points at its own line
    assert by_loc["reports[0].quote"]["line"] == str(lines.index(next(
        l for l in lines if l.strip().startswith("quote:"))) + 1)


def test_filled_in_scaffold_validates(repo_copy):
    path = new(repo_copy, "claim", "--slug", "filled")
    text = path.read_text()
    for old, value in [
        ("statement: TODO the claim in one neutral sentence, saying no more than the quotes",
         "statement: Chinese companies and firms that support Russia's war could face sanctions from the U.S."),
        ("act: todo", "act: warns"),
        ("topic: todo", "topic: sanctions-warning"),
        ("entity: ent-todo\n    attribution: todo", "entity: ent-janet-yellen\n    attribution: named-person"),
        ("entity: ent-todo\n    role: todo", "entity: ent-china\n    role: subject"),
        ("source: src-todo", "source: src-us-reportedly-warns-missile-drone-parts"),
        ("claimant: ent-todo\n    attribution: todo\n    attribution_mode: todo",
         "claimant: ent-janet-yellen\n    attribution: named-person\n    attribution_mode: explicit"),
        ("fit: todo", "fit: exact"),
    ]:
        assert old in text
        text = text.replace(old, value)
    text = re.sub(r"quote: TODO.*", "quote: Chinese companies and firms that support Russia’s war could face "
                  "sanctions from the U.S., with Treasury Secretary Janet Yellen warning in a press conference",
                  text)
    text = re.sub(r"attributed_to: TODO.*", "attributed_to: Treasury Secretary Janet Yellen", text)
    path.write_text(text)
    done = run_cli("validate", str(path), "--repo", str(repo_copy))
    assert done.returncode == 0, done.stdout.decode()
    assert b"1 file(s) valid" in done.stdout


def test_ids_never_repeat_and_work_without_a_slug(repo_copy):
    first = new(repo_copy, "claim", "--slug", "same words")
    second = new(repo_copy, "claim", "--slug", "same words")
    assert first != second
    assert first.stem[:-6] == second.stem[:-6] == "clm-same-words-"
    bare = new(repo_copy, "claim")
    assert re.fullmatch(r"clm-[a-z2-9]{6}", bare.stem)
    long = new(repo_copy, "claim", "--slug", "a " * 200)
    assert len(long.stem) <= 80


def test_new_source_and_entity_are_flagged_until_filled_in(repo_copy):
    source = new(repo_copy, "source", "--slug", "some article")
    entity = new(repo_copy, "entity", "--slug", "some bank")
    assert source.read_text().startswith("# yaml-language-server: $schema=../../schema/source.schema.json\n")
    assert entity.read_text().startswith("# yaml-language-server: $schema=../../schema/entity.schema.json\n")
    done = run_cli("validate", str(source), str(entity), "--repo", str(repo_copy))
    assert done.returncode == 1
    found = {(p["file"].split("/")[1], p["loc"]) for p in problems(done.stdout) if p["code"] == "placeholder"}
    assert found == {("sources", "kind"), ("sources", "title"), ("sources", "publisher"), ("sources", "seen"),
                     ("entities", "name"), ("entities", "kind")}
    assert {p["code"] for p in problems(done.stdout)} == {"placeholder"}
