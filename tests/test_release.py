"""`reported-claims release`: refuses wrong versions, writes the version, CHANGELOG and dist/;
the sdist and wheel leave the archived articles out.

Each test gets a git repository holding a copy of the real records and their built package,
tagged v1.0.0; it changes the records as a curator would and runs the CLI in it.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import re
import shutil
import sqlite3
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
from conftest import REPO, copy_repo, run_cli

from reported_claims.client.fetch import download
from reported_claims.package.release import BESIDE, rebuild

EPOCH = "1714521600"  # 2024-05-01
ENV = {"SOURCE_DATE_EPOCH": EPOCH}


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
        cwd=repo, check=True, capture_output=True, text=True,
    ).stdout


def set_version(repo: Path, version: str) -> None:
    path = repo / "src" / "reported_claims" / "_version.py"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f'"""The data version."""\n\n__version__ = "{version}"\n')


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """The real records with their package built as version 1.0.0 (once per module)."""
    template = copy_repo(tmp_path_factory.mktemp("built") / "repo")
    for name in BESIDE:
        shutil.copy(REPO / name, template / name)
    set_version(template, "1.0.0")
    rebuild(template, "1.0.0")
    return template


@pytest.fixture
def repo(tmp_path, built) -> Path:
    """A repository whose v1.0.0 tag holds a built package of version 1.0.0."""
    repo = tmp_path / "repo"
    shutil.copytree(built, repo)
    assert descriptor_version(repo) == "1.0.0"
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "1.0.0")
    git(repo, "tag", "v1.0.0")
    return repo


def commit_all(repo: Path) -> None:
    """What a curator does before a release: commit every change."""
    git(repo, "add", "-A")
    if git(repo, "status", "--porcelain"):
        git(repo, "commit", "-qm", "changes")


def release(repo: Path, *args: str, commit: bool = True):
    if commit and "--dist-only" not in args:
        commit_all(repo)
    result = run_cli("release", "--repo", str(repo), *args, env=ENV)
    return result.returncode, result.stdout.decode(), result.stderr.decode()


def version_file(repo: Path) -> str:
    return (repo / "src/reported_claims/_version.py").read_text()


def descriptor_version(repo: Path) -> str:
    return json.loads((repo / "datapackage.json").read_text())["version"]


CLAIMS = Path("records") / "claims"
UNREFERENCED = "clm-china-gradually-ramping-up-clandestine-support"
"""A claim no other record refers to, so that removing it leaves the others valid."""


def add_claim(repo: Path) -> None:
    text = (repo / CLAIMS / f"{UNREFERENCED}.yaml").read_text()
    text = text.replace(f"id: {UNREFERENCED}", "id: clm-zz-new-claim", 1)
    text = re.sub(r"(?m)^statement: .*$", "statement: A wholly different claim about zebra supply chains.", text)
    (repo / CLAIMS / "clm-zz-new-claim.yaml").write_text(text)


def withdraw_claim(repo: Path) -> str:
    path = repo / CLAIMS / f"{UNREFERENCED}.yaml"
    text = re.sub(r"(?m)^status: .*\n", "", path.read_text())
    path.write_text(text + "status: withdrawn\nwithdrawal:\n  date: 2024-04-30\n"
                    "  reason: A duplicate of another claim.\n")
    keep_ledgers_whole(repo)
    return UNREFERENCED


def keep_ledgers_whole(repo: Path) -> None:
    """What a curator does after withdrawing a claim: list the sentences only its reports quoted
    as not recorded in their sources, so that the ledger of each archived text stays whole."""
    from reported_claims.check.coverage import coverage
    from reported_claims.repo.load import load

    for article in coverage(load(repo)[0]):
        if article.unaccounted:
            source = repo / "records" / "sources" / f"{article.source}.yaml"
            entries = "".join(f"  - quote: {json.dumps(x.sentence.text, ensure_ascii=False)}\n"
                              "    reason: duplicate\n" for x in article.unaccounted)
            source_text = source.read_text(encoding="utf-8")
            assert "\nnot_recorded:\n" in source_text
            source.write_text(source_text.replace("\nnot_recorded:\n", "\nnot_recorded:\n" + entries, 1),
                              encoding="utf-8")


def test_rebuild_passes_the_version_to_the_build(built, tmp_path):
    from reported_claims.errors import ReportedClaimsError
    from reported_claims.package import build, release

    repo = shutil.copytree(built, tmp_path / "repo")
    imported = build.__version__
    rebuild(repo, "7.0.0")
    assert descriptor_version(repo) == "7.0.0"
    assert build.__version__ == imported  # passed as an argument, not swapped into the module
    assert issubclass(release.ReleaseError, ReportedClaimsError)


def test_minor_release_writes_version_changelog_and_dist(repo):
    add_claim(repo)
    code, out, err = release(repo, "--version", "1.1.0")
    assert code == 0, err
    assert "released 1.1.0 (minor changes since v1.0.0)" in out
    assert '__version__ = "1.1.0"' in version_file(repo)
    assert descriptor_version(repo) == "1.1.0"
    changelog = (repo / "CHANGELOG.md").read_text()
    assert changelog.startswith("# Changelog\n")
    assert "## 1.1.0 - 2024-05-01\n" in changelog
    assert "### Added\n\n- claim `clm-zz-new-claim`" in changelog
    zip_path = repo / "dist" / "reported-claims-1.1.0.zip"
    sums = (repo / "dist" / "SHA256SUMS").read_text()
    assert f"{hashlib.sha256(zip_path.read_bytes()).hexdigest()}  reported-claims-1.1.0.zip\n" in sums
    names = zipfile.ZipFile(zip_path).namelist()
    assert names[0] == "reported-claims-1.1.0/datapackage.json"
    assert names == sorted(names[:1]) + sorted(names[1:])
    assert all(n.startswith("reported-claims-1.1.0/") for n in names)
    with zipfile.ZipFile(zip_path) as archive:
        for name in BESIDE:
            assert archive.read(f"reported-claims-1.1.0/{name}") == (repo / name).read_bytes(), name
    citation = (repo / "CITATION.cff").read_text()
    assert re.search(r"(?m)^version: 1\.1\.0$", citation) and citation.count("version:") == 2  # cff-version too
    assert "wrote CITATION.cff" in out


def test_withdrawal_is_a_patch_release(repo):
    cid = withdraw_claim(repo)
    code, out, err = release(repo, "--version", "1.0.1")
    assert code == 0, err
    changelog = (repo / "CHANGELOG.md").read_text()
    assert f"### Withdrawn\n\n- claim `{cid}`: A duplicate of another claim." in changelog


def test_understated_bump_is_refused_and_nothing_written(repo):
    add_claim(repo)
    before = version_file(repo)
    code, _, err = release(repo, "--version", "1.0.1")
    assert code == 1
    assert "is a patch release, but the changes since 1.0.0 need a minor release: use 1.1.0" in err
    assert version_file(repo) == before
    assert descriptor_version(repo) == "1.0.0"
    assert not (repo / "CHANGELOG.md").exists()
    assert not (repo / "dist").exists()


@pytest.mark.parametrize("version", ["1.0.0", "0.9.0", "1.1"])
def test_version_not_greater_or_malformed_is_refused(repo, version):
    add_claim(repo)
    code, _, err = release(repo, "--version", version)
    assert code == 1
    assert "release refused" in err


def test_vanished_id_is_refused(repo):
    (repo / CLAIMS / f"{UNREFERENCED}.yaml").unlink()
    keep_ledgers_whole(repo)
    code, _, err = release(repo, "--version", "2.0.0")
    assert code == 1
    assert "have no record any more: " + UNREFERENCED in err and "withdraw" in err


def _published(repo: Path) -> dict[str, bytes]:
    return {str(p.relative_to(repo)): p.read_bytes()
            for p in [repo / "datapackage.json", repo / "src/reported_claims/_version.py", *(repo / "data").iterdir()]}


@pytest.mark.parametrize("change", ["untracked", "modified"])
def test_uncommitted_records_are_refused(repo, change):
    if change == "untracked":
        add_claim(repo)
    else:
        withdraw_claim(repo)
    before = _published(repo)
    code, _, err = release(repo, "--version", "1.1.0", commit=False)
    assert code == 1, err
    assert "uncommitted changes: " in err and "records/claims/" in err and "Traceback" not in err
    assert _published(repo) == before
    assert not (repo / "dist").exists()


def test_another_branch_is_refused(repo):
    add_claim(repo)
    git(repo, "checkout", "-q", "-b", "topic")
    commit_all(repo)
    code, _, err = release(repo, "--version", "1.1.0")
    assert code == 1
    assert "releases are cut from main, and HEAD is on topic" in err
    assert release(repo, "--version", "1.1.0", "--branch", "topic")[0] == 0


def test_latest_tag_is_the_previous_release(repo):
    add_claim(repo)
    assert release(repo, "--version", "1.1.0")[0] == 0
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "1.1.0")
    git(repo, "tag", "v1.1.0")
    withdraw_claim(repo)
    code, out, err = release(repo, "--version", "1.1.1")
    assert code == 0, err
    assert "patch changes since v1.1.0" in out
    changelog = (repo / "CHANGELOG.md").read_text()
    assert changelog.index("## 1.1.1 - ") < changelog.index("## 1.1.0 - ")


def test_previous_can_be_a_release_zip(repo, tmp_path):
    assert run_cli("release", "--repo", str(repo), "--dist-only", env=ENV).returncode == 0
    previous = tmp_path / "previous.zip"
    (repo / "dist" / "reported-claims-1.0.0.zip").rename(previous)
    git(repo, "tag", "-d", "v1.0.0")
    add_claim(repo)
    code, _, err = release(repo, "--version", "1.0.1", "--previous", str(previous))
    assert code == 1 and "need a minor release" in err
    code, out, err = release(repo, "--version", "1.1.0", "--previous", str(previous))
    assert code == 0, err


def test_first_release_without_tags(repo):
    git(repo, "tag", "-d", "v1.0.0")
    set_version(repo, "0.1.0")
    code, out, err = release(repo, "--version", "1.0.0")
    assert code == 0, err
    assert "first release" in out
    assert "First release: " in (repo / "CHANGELOG.md").read_text()


def test_dist_only_is_byte_identical_and_downloadable(repo, tmp_path):
    code, out, err = release(repo, "--dist-only")
    assert code == 0, err
    first = (repo / "dist" / "reported-claims-1.0.0.zip").read_bytes()
    (repo / "dist" / "reported-claims-1.0.0.zip").unlink()
    assert release(repo, "--dist-only")[0] == 0
    assert (repo / "dist" / "reported-claims-1.0.0.zip").read_bytes() == first
    # laid out as a GitHub release: {base}/v1.0.0/<assets>; download() verifies and extracts it
    (tmp_path / "releases").mkdir()
    (repo / "dist").rename(tmp_path / "releases" / "v1.0.0")
    got = download("1.0.0", base_url=(tmp_path / "releases").as_uri(), cache_dir=tmp_path / "cache")
    assert json.loads((got / "datapackage.json").read_text())["version"] == "1.0.0"
    assert (got / "data" / "claims.json").read_bytes() == (repo / "data" / "claims.json").read_bytes()


def test_dist_only_refuses_a_stale_package(repo):
    set_version(repo, "1.2.0")
    code, _, err = release(repo, "--dist-only")
    assert code == 1
    assert "datapackage.json carries version 1.0.0" in err


def test_release_without_its_licences_is_refused(repo):
    (repo / "LICENSE-DATA").unlink()
    code, _, err = release(repo, "--dist-only")
    assert code == 1
    assert "LICENSE-DATA missing" in err and "Traceback" not in err
    assert not (repo / "dist" / "reported-claims-1.0.0.zip").exists()


def test_release_without_a_citation_version_writes_nothing(repo):
    (repo / "CITATION.cff").write_text("cff-version: 1.2.0\ntitle: reported-claims\n")
    add_claim(repo)
    before = version_file(repo)
    code, _, err = release(repo, "--version", "1.1.0")
    assert code == 1 and "CITATION.cff has no line `version: X.Y.Z`" in err
    assert version_file(repo) == before and descriptor_version(repo) == "1.0.0"


def test_dist_only_refuses_data_stale_against_the_records(repo):
    add_claim(repo)  # a record the committed data/ does not hold
    code, _, err = release(repo, "--dist-only")
    assert code == 1
    assert "stale against records/" in err and "data/claims.csv" in err and "datapackage.json" in err
    assert not (repo / "dist").exists()
    git(repo, "checkout", "--", ".")
    (repo / CLAIMS / "clm-zz-new-claim.yaml").unlink()
    path = repo / "data" / "entities.csv"  # a hand edit of the built data
    path.write_text(path.read_text(encoding="utf-8").replace("Antony Blinken", "A. Blinken"), encoding="utf-8")
    code, _, err = release(repo, "--dist-only")
    assert code == 1 and "(data/entities.csv differ" in err
    git(repo, "checkout", "--", ".")
    assert release(repo, "--dist-only")[0] == 0


def test_dist_holds_every_format_byte_identical_and_summed(repo):
    import openpyxl

    assert release(repo, "--dist-only")[0] == 0
    dist = repo / "dist"
    assets = ["reported-claims-1.0.0-jsonl.zip", "reported-claims-1.0.0-parquet.zip",
              "reported-claims-1.0.0-sqlite.zip", "reported-claims-1.0.0.xlsx", "reported-claims-1.0.0.zip"]
    if importlib.util.find_spec("pyarrow") is None:
        assets.remove("reported-claims-1.0.0-parquet.zip")
    sums = (dist / "SHA256SUMS").read_text()
    assert sums == "".join(f"{hashlib.sha256((dist / a).read_bytes()).hexdigest()}  {a}\n" for a in assets)
    first = {a: (dist / a).read_bytes() for a in assets}
    for a in assets:
        (dist / a).unlink()
    assert release(repo, "--dist-only")[0] == 0
    assert {a: (dist / a).read_bytes() for a in assets} == first
    with zipfile.ZipFile(dist / "reported-claims-1.0.0-sqlite.zip") as archive:
        assert archive.namelist() == ["reported-claims-1.0.0-sqlite/metadata.json",
                                      "reported-claims-1.0.0-sqlite/reported-claims.db"]
        archive.extractall(repo / "unzipped")
    sqlite_dir = repo / "unzipped" / "reported-claims-1.0.0-sqlite"
    # Datasette keys a database by its file's stem: the same key in every release
    assert list(json.loads((sqlite_dir / "metadata.json").read_text())["databases"]) == ["reported-claims"]
    with sqlite3.connect(sqlite_dir / "reported-claims.db") as db:
        assert db.execute("SELECT count(*) FROM claims").fetchone()[0] > 0
    with zipfile.ZipFile(dist / "reported-claims-1.0.0-jsonl.zip") as archive:
        claims, reports = ([json.loads(line) for line in
                            archive.read(f"reported-claims-1.0.0-jsonl/{name}.jsonl").decode("utf-8").splitlines()]
                           for name in ("claims", "claim_reports"))
    assert any("Russia’s" in r["quote"] for r in reports)
    assert {type(c["report_count"]) for c in claims} == {int}
    book = openpyxl.load_workbook(dist / "reported-claims-1.0.0.xlsx", read_only=True)
    assert "claims" in book.sheetnames and "quantities" in book.sheetnames
    if "reported-claims-1.0.0-parquet.zip" in assets:
        names = zipfile.ZipFile(dist / "reported-claims-1.0.0-parquet.zip").namelist()
        assert names[0] == "reported-claims-1.0.0-parquet/datapackage.json"
        assert names[1:] == sorted(names[1:]) and "reported-claims-1.0.0-parquet/claims.parquet" in names


def test_sdist_holds_contributing_and_neither_distribution_holds_the_archive(tmp_path):
    """archive/ holds whole third-party articles the project cannot license."""
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "hatch_build.py", "datapackage.json", "CONTRIBUTING.md", "RELEASING.md", *BESIDE):
        shutil.copy(REPO / name, src / name)
    for name in ("src", "records", "data", "schema", "archive", "tests"):
        shutil.copytree(REPO / name, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    assert any((src / "archive").iterdir())
    done = subprocess.run([sys.executable, "-m", "build", "--sdist", "--wheel", "--outdir", str(tmp_path / "dist"),
                           str(src)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    sdist = next((tmp_path / "dist").glob("reported_claims-*.tar.gz"))
    with tarfile.open(sdist) as tar:
        names = [n.split("/", 1)[1] for n in tar.getnames() if "/" in n]
    assert "CONTRIBUTING.md" in names and "tests/test_docs.py" in names
    assert not [n for n in names if n == "archive" or n.startswith("archive/")]
    wheel = next((tmp_path / "dist").glob("reported_claims-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    assert "reported_claims/_data/datapackage.json" in names
    archived = {p.name for p in (REPO / "archive").rglob("*") if p.is_file()}
    assert not [n for n in names if "archive/" in n or n.rsplit("/", 1)[-1] in archived]
