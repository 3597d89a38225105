"""Every file under records/ is read or refused with a code; nothing is skipped or followed out."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from conftest import run_cli

ENTITY = "id: {id}\nname: Somebody Quite Unlike Others\nkind: company\n"


def out_of(result) -> str:
    return result.stdout.decode() + result.stderr.decode()


@pytest.mark.parametrize("where,code", [
    ("records/entities/ent-upper.YAML", "unknown-extension"),
    ("records/entities/ent-short.yml", "unknown-extension"),
    ("records/entity/ent-misspelled.yaml", "unknown-folder"),
    ("records/ent-loose.yaml", "misplaced-file"),
    ("records/entities/more/ent-nested.yaml", "nested-folder"),
])
def test_a_file_out_of_place_is_refused_with_its_code(repo_copy: Path, where: str, code: str):
    path = repo_copy / where
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(ENTITY.format(id=Path(where).stem), encoding="utf-8")
    for command in (["validate"], ["validate", "records"], ["build"]):
        result = run_cli(*command, cwd=repo_copy)
        assert result.returncode == 1, (command, out_of(result))
        assert f"[{code}]" in result.stdout.decode(), (command, out_of(result))
    assert not (repo_copy / "datapackage.json").exists()


def test_a_misspelled_folder_gets_a_did_you_mean(repo_copy: Path):
    (repo_copy / "records" / "claim").mkdir()
    result = run_cli("validate", cwd=repo_copy)
    assert "records/claim:1:1: (file): records/ holds no folder 'claim'; did you mean records/claims/?" in (
        result.stdout.decode())


def test_a_record_linked_from_outside_is_refused_and_never_read(repo_copy: Path, tmp_path: Path):
    secret = tmp_path / "outside.yaml"
    secret.write_text("id: ent-secret\nname: The Secret Value 12345\nkind: company\n", encoding="utf-8")
    link = repo_copy / "records" / "entities" / "ent-secret.yaml"
    os.symlink(secret, link)
    for command in (["validate"], ["validate", str(link)], ["build"]):
        result = run_cli(*command, cwd=repo_copy)
        assert result.returncode == 1, (command, out_of(result))
        assert "[symlink]" in result.stdout.decode()
        assert "Secret Value" not in out_of(result)
    assert not (repo_copy / "datapackage.json").exists()
