"""Text a contributor controls never breaks a line of output or runs as a workflow command.

Keys, values, file names and YAML tags reach ``Problem.format()`` and ``Problem.github()``;
both must keep each problem on one line, show every control, separator and format
character as a visible escape, and encode GitHub's workflow-command specials.
"""

from __future__ import annotations

import re
import unicodedata

import pytest

from reported_claims.problems import Problem, relpath, visible

HIDDEN = {"Cc", "Cf", "Cs", "Zl", "Zp", "Co", "Cn"}
INJECTION = "x\n::error file=README.md,line=1::All green"

HOSTILE = [
    pytest.param(INJECTION, id="newline-workflow-command"),
    pytest.param("a\r::warning::b", id="carriage-return"),
    pytest.param("tag %0A::error::x", id="percent-encoded-newline"),
    pytest.param("\x1b]0;owned\x07", id="osc-title"),
    pytest.param("\x1b[2J\x1b[H", id="clear-screen"),
    pytest.param("a\u2028b\u2029c\x85d", id="unicode-line-separators"),
    pytest.param("abc\u202egnp.exe", id="bidi-override"),
    pytest.param("zero\u200bwidth\ufeff", id="format-characters"),
    pytest.param("\x00\x7f\x9b\ue000\U000e0001", id="nul-del-c1-private-tag"),
    pytest.param("bad\udcffbytes", id="lone-surrogate"),
    pytest.param("tab\there\vand\fform", id="tab-vertical-form-feed"),
]


def no_hidden(line: str) -> None:
    bad = [f"U+{ord(c):04X}" for c in line if unicodedata.category(c) in HIDDEN]
    assert not bad, f"raw hidden characters {bad} in {line!r}"


@pytest.mark.parametrize("text", HOSTILE)
@pytest.mark.parametrize("field", ["path", "location", "message", "code"])
def test_hostile_text_stays_on_one_visible_line(field, text):
    fields = {"path": "records/claims/clm-x.yaml", "line": 3, "col": 5, "code": "invalid-type",
              "location": "reports[0].quote", "message": "wrong"}
    fields[field] = text
    problem = Problem(**fields)

    for line in (problem.format(), problem.github()):
        assert line.splitlines() == [line]
        assert "\n" not in line and "\r" not in line
        no_hidden(line)
    assert problem.github().startswith("::error file=")
    assert problem.format().count("\n") == 0


def test_format_shows_escapes():
    p = Problem("records/claims/a\nb.yaml", 1, 1, "yaml-tag", "k\x1b[2J", "bad\u2028tag \u202e")
    assert p.format() == (
        "records/claims/a\\nb.yaml:1:1: k\\x1b[2J: bad\\u2028tag \\u202e [yaml-tag]"
    )


def test_format_of_a_warning_and_of_the_whole_file():
    p = Problem("records/claims/clm-a.yaml", 1, 1, "near-duplicate", "", "close to clm-b",
                severity="warning")
    assert p.format() == "records/claims/clm-a.yaml:1:1: (file): close to clm-b [near-duplicate, warning]"
    assert p.github() == (
        "::warning file=records/claims/clm-a.yaml,line=1,col=1,title=near-duplicate::"
        "(file): close to clm-b"
    )


def test_github_encodes_data_and_properties_as_actions_toolkit_does():
    p = Problem("records/claims/a,b:c%d.yaml", 2, 3, "invalid-type", "x", "100% sure, ok: yes")
    line = p.github()
    # Properties: % \r \n : , encoded; data: % \r \n encoded, ':' and ',' kept.
    assert line == (
        "::error file=records/claims/a%2Cb%3Ac%25d.yaml,line=2,col=3,title=invalid-type::"
        "x: 100%25 sure, ok: yes"
    )


def test_github_injection_is_one_annotation():
    line = Problem("records/claims/clm-x.yaml", 4, 1, "unknown-field", INJECTION, "not a field").github()
    assert line == (
        "::error file=records/claims/clm-x.yaml,line=4,col=1,title=unknown-field::"
        "x\\n::error file=README.md,line=1::All green: not a field"
    )
    # The only property list is the first; nothing after it is a new command.
    assert re.fullmatch(r"::error file=[^:,]*,line=4,col=1,title=[^:,]*::[^\n]*", line)


def test_hostile_file_name_cannot_add_properties():
    line = Problem("records/x.yaml,line=1,title=All green::", 9, 9, "yaml-syntax", "", "m").github()
    assert line.startswith("::error file=records/x.yaml%2Cline=1%2Ctitle=All green%3A%3A,line=9,col=9,")


def test_plain_text_is_unchanged():
    text = "reports[0].quote: «Le président» a dit 50 % — ça va"
    assert visible(text) == text


def test_relpath_keeps_names_that_start_with_two_dots(tmp_path):
    assert relpath(tmp_path / "records" / "..draft.yaml", tmp_path) == "records/..draft.yaml"
    assert relpath(tmp_path / "..draft.yaml", tmp_path) == "..draft.yaml"
    outside = tmp_path.parent / "elsewhere.yaml"
    assert relpath(outside, tmp_path) == str(outside).replace("\\", "/")
