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


def _proposal(repo: Path, article: Path) -> dict:
    """The proposal made from the records themselves, with no index read back."""
    from reported_claims.ingest.extract import read
    from reported_claims.ingest.propose import context, propose
    from reported_claims.repo.load import load

    dataset, _ = load(repo)
    return propose(context(dataset, repo), read(article), "src-cache-copy").as_json()


def test_a_warm_index_proposes_what_the_records_do(tmp_path):
    """Every archived article and the saved page: read back from .cache/, the proposal is the one
    made from the records directly."""
    repo = copy_repo(tmp_path / "repo")
    articles = sorted((REPO / "archive").glob("*.txt")) + [REPO / "tests" / "fixtures" / "ingest" / "article.html"]
    cold = {a.name: _proposal(repo, a) for a in articles}
    for article in articles:
        done = subprocess.run([sys.executable, "-m", "reported_claims", "ingest", str(article), "--json", "--id",
                               "src-cache-copy", "--repo", str(repo)], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout) == cold[article.name], article.name
    assert len(cached(repo)) == 1, "one index, read back for every article after the first"


def test_an_edit_that_keeps_size_and_mtime_is_seen(tmp_path):
    """The stat kept with each file's hash has its change time: restoring the modification time
    after an edit of the same size does not hide it."""
    import os

    repo = copy_repo(tmp_path / "repo")
    claim = repo / "records" / "claims" / "clm-china-share-russian-microelectronics-2023.yaml"
    first = ingest(repo)
    before = claim.stat()
    body = claim.read_text(encoding="utf-8")
    edited = body.replace("value: 90", "value: 10")  # the claim's figure: the report now differs from it
    assert len(edited.encode()) == len(body.encode()) and edited != body
    claim.write_text(edited, encoding="utf-8")
    os.utime(claim, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert claim.stat().st_size == before.st_size and claim.stat().st_mtime_ns == before.st_mtime_ns
    after = ingest(repo)
    assert after != first
    assert after == _proposal(repo, ICARO)


def _forge_manifest(repo: Path, change) -> Path:
    """Rewrite .cache/ingest-files.pickle through ``change`` (Manifest -> Manifest), sealed with
    this machine's key as ingest seals it."""
    import pickle

    from reported_claims.ingest import cache
    from reported_claims.repo.cache import seal, unseal

    path = repo / ".cache" / cache.MANIFEST
    manifest = cache.Manifest(*pickle.loads(unseal(path.read_bytes())))
    path.write_bytes(seal(pickle.dumps(tuple(change(manifest)))))
    return path


def test_a_file_as_recent_as_the_record_of_stats_is_hashed_again(tmp_path):
    """git's racy case: on a clock coarser than the writes, a file changed again in the tick the
    record of stats was written keeps the recorded stat. Such a file is hashed again; an older
    one keeps its recorded hash (which is why the recent one must not)."""
    import hashlib
    import os

    from reported_claims.ingest import cache

    repo = copy_repo(tmp_path / "repo")
    text = repo / "archive" / "src-intl-identities-surging-equipment-sales.txt"
    rel = "archive/" + text.name
    old = cache.key(repo)
    body = text.read_bytes()
    text.write_bytes(body.replace(b"China", b"Chine", 1))
    (repo / ".cache" / cache.MANIFEST).unlink()
    new = cache.key(repo)
    assert new != old
    st = text.stat()
    now = (rel, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)
    old_digest = hashlib.sha256(body).hexdigest()

    def stale(m):
        """The record as the coarse clock leaves it: today's stat, yesterday's hash and key."""
        return m._replace(digests=[old_digest if s == now else d for s, d in zip(m.stats, m.digests)], key=old)

    tick = max(st.st_mtime_ns, st.st_ctime_ns)
    path = _forge_manifest(repo, stale)
    os.utime(path, ns=(tick, tick))
    assert cache.key(repo) == new, "a file as recent as the record is hashed again"
    path = _forge_manifest(repo, stale)
    later = tick + (cache.RACY + 1) * 10**9
    os.utime(path, ns=(later, later))
    for other in [*(repo / "records").rglob("*"), *(repo / "archive").rglob("*")]:
        if other.is_file():
            assert max(other.stat().st_mtime_ns, other.stat().st_ctime_ns) < later - cache.RACY * 10**9
    assert cache.key(repo) == old, "an older file keeps its recorded hash, however wrong"


def test_a_record_of_stats_made_elsewhere_is_never_unpickled(tmp_path):
    import pickle

    from reported_claims.ingest import cache

    repo = copy_repo(tmp_path / "repo")
    first = ingest(repo)
    marker = tmp_path / "pwned"
    (repo / ".cache" / cache.MANIFEST).write_bytes(pickle.dumps(_Payload(marker)))
    assert ingest(repo) == first
    assert not marker.exists()
