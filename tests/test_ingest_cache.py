"""The index ingest keeps in .cache/: reused when nothing changed, rebuilt when records, texts or
the cache file itself changed, and never the cause of another proposal."""

import json
import subprocess
import sys
from pathlib import Path

from conftest import REPO, copy_repo

ICARO = REPO / "archive" / "src-icaro-china-support-raises-concerns.txt"


def ingest(repo: Path) -> dict:
    done = subprocess.run([sys.executable, "-m", "reported_claims", "ingest", str(ICARO), "--json", "--id",
                           "src-cache-copy", "--repo", str(repo)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def cached(repo: Path) -> list[Path]:
    return sorted((repo / ".cache").glob("ingest-index-*"))


def test_the_index_is_kept_and_read_back(tmp_path):
    repo = copy_repo(tmp_path / "repo")
    first = ingest(repo)
    [index] = cached(repo)
    stamp = index.stat().st_mtime_ns
    assert ingest(repo) == first
    assert cached(repo) == [index] and index.stat().st_mtime_ns == stamp, "read, not written again"


def test_a_changed_record_or_text_makes_a_new_index(tmp_path):
    repo = copy_repo(tmp_path / "repo")
    ingest(repo)
    [before] = cached(repo)
    claim = repo / "records" / "claims" / "clm-china-share-russian-microelectronics-2023.yaml"
    claim.unlink()
    out = ingest(repo)
    [after] = cached(repo)
    assert after != before, "the stale index is replaced"
    assert "clm-china-share-russian-microelectronics-2023" not in [r["claim"] for r in out["reports"]]
    text = repo / "archive" / "src-intl-identities-surging-equipment-sales.txt"
    text.write_text(text.read_text(encoding="utf-8") + "One more line.\n", encoding="utf-8")
    ingest(repo)
    assert cached(repo) != [after]


def test_a_corrupt_index_is_ignored_and_rebuilt(tmp_path):
    repo = copy_repo(tmp_path / "repo")
    first = ingest(repo)
    [index] = cached(repo)
    data = bytearray(index.read_bytes())
    data[len(data) // 2] ^= 0xFF
    index.write_bytes(bytes(data))
    assert ingest(repo) == first
    assert index.read_bytes() != bytes(data), "rebuilt"
    index.write_bytes(b"short")
    assert ingest(repo) == first


def test_the_cache_folder_is_ignored_by_git():
    done = subprocess.run(["git", "check-ignore", "-q", ".cache/ingest-index-0.pickle"], cwd=REPO)
    assert done.returncode == 0


def test_an_edit_that_keeps_the_size_is_seen(tmp_path):
    repo = copy_repo(tmp_path / "repo")
    ingest(repo)
    [before] = cached(repo)
    text = repo / "archive" / "src-intl-identities-surging-equipment-sales.txt"
    body = text.read_text(encoding="utf-8")
    text.write_text(body.replace("China", "Chine", 1), encoding="utf-8")
    ingest(repo)
    assert cached(repo) != [before]


class _Payload:
    """What a hostile cache would hold: unpickling it runs code (here, it writes a file)."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.write_text, (self.marker, "ran"))


def test_an_index_made_elsewhere_is_never_unpickled(tmp_path):
    import hashlib
    import hmac
    import pickle

    repo = copy_repo(tmp_path / "repo")
    first = ingest(repo)
    [index] = cached(repo)
    marker = tmp_path / "pwned"
    payload = pickle.dumps(_Payload(marker))
    # As a pull request could commit it: checked by a hash anyone can compute, or signed with
    # another machine's key.
    for forged in (hashlib.sha256(payload).digest() + payload,
                   hmac.new(b"k" * 32, payload, hashlib.sha256).digest() + payload):
        index.write_bytes(forged)
        assert ingest(repo) == first
        assert not marker.exists(), "a cache that this machine did not seal was unpickled"
