"""The composed reader and the reference (event) reader give one answer for every file.

``reader.parse`` reads through libyaml's composed nodes and hands whatever it cannot vouch for
to ``reader.parse_events``, the reference: on every fixture, every hostile file and every
record, both give the same data, positions and problems, and validate to the same records.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import FIXTURES, REPO
from reported_claims.repo import reader
from reported_claims.repo.load import kind_of, validate_record

FILES = sorted(p for p in FIXTURES.rglob("*") if p.is_file() and p.suffix in (".yaml", ".yml"))
RECORDS = sorted((REPO / "records").glob("*/*.yaml"))


def texts(paths):
    for path in paths:
        data, problems = reader.read_bytes(path, path.name)
        text = reader.decode(data, path.name)[0] if data is not None else None
        if text is not None:
            yield path, text


def same(text: str, shown: str, path: Path) -> reader.Document:
    ref, fast = reader.parse_events(text, shown), reader.parse(text, shown)
    assert fast.data == ref.data
    assert fast.marks == ref.marks
    assert fast.problems == ref.problems
    assert fast.refused == ref.refused
    kind = kind_of(path, ref.data) if ref.data is not None else None
    if kind is not None:
        assert validate_record(fast, kind) == validate_record(ref, kind)
    return fast


@pytest.mark.parametrize("path", FILES + RECORDS, ids=lambda p: p.relative_to(REPO).as_posix())
def test_both_readers_agree(path):
    for _, text in texts([path]):
        same(text, path.relative_to(REPO).as_posix(), path)


def test_the_composed_path_answers_the_valid_files_itself():
    """Else the test above would compare the reference reader with itself."""
    valid = list(texts(sorted((FIXTURES / "valid").rglob("*.yaml")) + RECORDS))
    composed = [p for p, text in valid if reader.compose(text, p.name) is not None]
    assert len(composed) >= 0.9 * len(valid)
    assert all(reader.compose(text, p.name).data == reader.parse_events(text, p.name).data
               for p, text in valid if p in composed)


@pytest.mark.parametrize("text", [
    "a: &x 1\nb: 2\n", "a: 1\nb: *x\n", "a: !!str 1\n", "a: !custom 1\n", "<<: {a: 1}\n",
    "a: 1\na: 2\n", "? [a]\n: 1\n", "~: 1\n", "a: 1\n---\nb: 2\n", "- a\n", "just text\n",
    "a: [[[[[[[[[[[[[[[[[[x]]]]]]]]]]]]]]]]]]\n", "a:\n" + "- " * 40 + "x\n",
])
def test_the_composed_path_defers_what_only_the_reference_reports(text):
    assert reader.compose(text, "x.yaml") is None
    assert reader.parse(text, "x.yaml").problems == reader.parse_events(text, "x.yaml").problems != []


@pytest.mark.parametrize("levels", [reader.MAX_DEPTH - 1, reader.MAX_DEPTH, reader.MAX_DEPTH + 1])
def test_depth_bound_is_the_same(levels):
    text = "".join("  " * i + f"k{i}:\n" for i in range(levels)) + "  " * levels + "v: x\n"
    doc = same(text, "x.yaml", Path("x.yaml"))
    assert bool(doc.problems) == (levels >= reader.MAX_DEPTH)


def test_deep_nesting_does_not_reach_the_composer():
    """The composer recurses in C: a small file nesting thousands of levels must not reach it."""
    for text in ("a:\n" + "- " * 20000 + "x\n", "a: " + "[" * 20000 + "\n",
                 "".join(" " * i + f"k{i}:\n" for i in range(3000))):
        assert reader.compose(text, "x.yaml") is None
        assert [p.code for p in reader.parse(text, "x.yaml").problems] in (["too-deep"], ["yaml-syntax"])


def test_the_patterns_that_send_a_file_to_the_reference_reader_match_where_their_plain_forms_do():
    """``reader._SUSPECT`` looks for the character before the place it stands, and the runs of
    blanks of ``reader._COMPACT`` are possessive, for speed: on any text of the characters they
    turn on, they match where the plain patterns do."""
    import re

    from hypothesis import given, settings
    from hypothesis import strategies as st

    suspect = re.compile(r"(?:^|[\s\[{,])[&*!]")
    compact_first = re.compile(r"[ \t]*(?:[-?:][ \t]+){3,}")
    compact = re.compile(r"\n[ \t]*(?:[-?:][ \t]+){3,}")

    @settings(max_examples=3000, deadline=None)
    @given(st.text(alphabet=" \t\n\r\x85\u2028-?:&*![{,a", max_size=24))
    def check(text: str) -> None:
        assert bool(reader._SUSPECT.search(text)) == bool(suspect.search(text))
        assert bool(reader._COMPACT_FIRST.match(text)) == bool(compact_first.match(text))
        assert bool(reader._COMPACT.search(text)) == bool(compact.search(text))

    check()
