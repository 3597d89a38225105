"""The package reader: a folder or a release zip, within its bounds, and its records as models."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest
from packages import edit_records, make_package

from reported_claims.model.kinds import kind
from reported_claims.package import read
from reported_claims.package.release import write_archive


@pytest.fixture(scope="module")
def package(tmp_path_factory) -> Path:
    return make_package(tmp_path_factory.mktemp("read") / "pkg", "1.0.0")


def test_a_release_zip_reads_like_its_folder(package, tmp_path):
    write_archive(package, "1.0.0", tmp_path / "reported-claims-1.0.0.zip")
    folder, archive = read.open_package(package), read.open_package(tmp_path / "reported-claims-1.0.0.zip")
    assert archive.descriptor == folder.descriptor
    claims = kind("claims")
    assert archive.records(claims) == folder.records(claims)
    assert archive.models(claims) == folder.models(claims)
    assert all(archive.table(name) == folder.table(name) for name in folder.tables)


def test_an_archive_of_too_many_entries_is_refused(tmp_path):
    path = tmp_path / "many.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for i in range(read.MAX_MEMBERS + 1):
            archive.writestr(f"p/{i}", b"")
    with pytest.raises(read.PackageError, match=f"{read.MAX_MEMBERS + 1} entries, over the limit"):
        read.open_package(path)


def test_an_archive_past_the_byte_bound_is_refused(package, tmp_path, monkeypatch):
    path = tmp_path / "reported-claims-1.0.0.zip"
    write_archive(package, "1.0.0", path)
    descriptor = (package / "datapackage.json").stat().st_size
    monkeypatch.setattr(read, "MAX_ARCHIVE_BYTES", descriptor + 10)
    opened = read.open_package(path)  # the descriptor fits
    with pytest.raises(read.PackageError, match=r"data/claims\.json would take the archive over"):
        opened.records(kind("claims"))


def test_not_a_zip_is_refused(tmp_path):
    (tmp_path / "x.zip").write_bytes(b"not a zip")
    with pytest.raises(read.PackageError, match="not a package folder nor a zip archive"):
        read.open_package(tmp_path / "x.zip")


def test_a_record_the_model_refuses_is_a_package_error(package, tmp_path):
    broken = tmp_path / "pkg"
    shutil.copytree(package, broken)
    edit_records(broken, "claims", lambda rows: rows[0].update(reports="none"))
    first = read.open_package(broken).records(kind("claims"))[0]["id"]
    with pytest.raises(read.PackageError, match=f"data/claims.json: {first}: reports: "):
        read.read_kind(broken, "claims")
