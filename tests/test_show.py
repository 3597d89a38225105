"""``reported-claims show``: one claim in the terminal and as JSON, from records or the package."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import REPO
from reported_claims.model.graph import Lineage
from reported_claims.package import drift
from reported_claims.repo.load import load

MICRO = "clm-china-share-russian-microelectronics-2023"


def show(*args: str, cwd: Path = REPO, env: dict | None = None) -> subprocess.CompletedProcess:
    """The command as a user runs it (``python -m reported_claims show``)."""
    import os

    full = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "NO_COLOR", "TTY_COMPATIBLE")}
    full.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "reported_claims", "show", *args], cwd=cwd, env=full, capture_output=True, text=True, timeout=120)


def test_plain_text_marks_the_differences():
    r = show(MICRO)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert out.startswith(MICRO + "\nAbout 90% of Russia's microelectronics in 2023 came from China.\n")
    assert "origins: 3 (src-ap-china-surges-sales-to-russia, src-sentinel-assam-china-plays-backstop, " \
           "src-wsj-china-russia-military-production-2024-04)" in out
    assert "  src-us-officials-briefing-2024-04-12 (official-briefing, 2024-04-12)\n" \
           "  ├── quotes → src-ap-china-surges-sales-to-russia (wire-story, 2024-04-12)\n" in out
    assert "  │   ├── reprint → src-intl-identities-surging-equipment-sales (reprint, 2024-05-09) [reports]" in out
    chips = show("clm-russia-semiconductor-imports-from-china-2021-2022").stdout
    assert chips.count("quotes → src-ap-china-surges-sales-to-russia") == 2
    assert "  └── quotes → src-ap-china-surges-sales-to-russia (wire-story, 2024-04-12) (see above)\n" in chips
    assert "China was the source of «a staggering 90%» of «Russia’s microelectronics imports»" in out
    assert "So much so, that China supplied «90 per cent» of «computer chips imported by Russia» last year." in out
    assert "* hedge-dropped china-share.hedge: about 90% → a staggering 90% (compared with claim)" in out
    assert "\x1b[" not in out


def test_terminal_output_is_rich():
    r = show(MICRO, env={"FORCE_COLOR": "1", "COLUMNS": "200"})
    assert r.returncode == 0, r.stderr
    assert "\x1b[30;43ma staggering 90%\x1b[0m" in r.stdout
    assert "└── " in r.stdout and "«" not in r.stdout


def test_json_is_the_claim_with_its_lineage_and_drifts():
    r = show(MICRO, "--json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    ds, _ = load(REPO)
    claim = ds.claims[MICRO]
    counted = [x for x in claim.reports if x.counted]
    assert data["origin_count"] == len(Lineage(ds.sources).claim_origins(claim, counted)) == 3
    assert data["statement"] == claim.statement and data["shape"] == 1
    assert [x["source"]["id"] for x in data["reports"]] == [x.source for x in claim.reports]
    assert [(d["kind"], d["before"], d["after"]) for x in data["reports"] for d in x["drifts"]] == [
        (d.kind, d.before, d.after) for d in drift.claim_drifts(claim, ds.sources)]
    assert len(data["lineage"]["nodes"]) == 8 and len(data["lineage"]["edges"]) == 7
    sentinel = data["reports"][4]
    assert "".join(s["text"] for s in sentinel["segments"]) == claim.reports[4].quote
    assert [s["text"] for s in sentinel["segments"] if "hedge-dropped" in s["kinds"]] == ["90 per cent"]
    assert list(data) == sorted(data)  # a stable key order for diffs of the output


def test_unknown_id_names_close_ones():
    r = show("clm-china-share-russian-microelectronic")
    assert r.returncode == 1
    assert r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and MICRO in lines[0] and "Traceback" not in r.stderr
    assert lines[0].startswith("reported-claims: no claim 'clm-china-share-russian-microelectronic' in the records")


def test_outside_a_repository_it_reads_the_installed_data(tmp_path: Path):
    here = show(MICRO, "--json")
    away = show(MICRO, "--json", cwd=tmp_path)
    assert away.returncode == 0, away.stderr
    assert json.loads(away.stdout) == json.loads(here.stdout)
    missing = show("clm-nope", cwd=tmp_path)
    assert missing.returncode == 1 and "in the data of reported-claims" in missing.stderr


def test_repo_option(tmp_path: Path):
    r = show(MICRO, "--repo", str(tmp_path))
    assert r.returncode == 1
    assert r.stderr.strip() == f"reported-claims: no records/ folder in {tmp_path.resolve()}: pass --repo DIR, " \
                               "the repository folder"
    r = show(MICRO, "--repo", str(REPO), cwd=tmp_path)
    assert r.returncode == 0 and r.stdout.startswith(MICRO)
