"""Text a contributor controls never breaks a line of output or runs as a workflow command.

Keys, values, file names and YAML tags reach ``Problem.format()`` and ``Problem.github()``;
both must keep each problem on one line, show every control, separator and format
character as a visible escape, and encode GitHub's workflow-command specials.
"""

from __future__ import annotations

import json
import re
import tempfile
import unicodedata
from pathlib import Path

import pytest
from conftest import copy_repo, run_cli
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

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


# --------------------------------------------------------------------------- the CLI, end to end

BASE_CLAIM = "records/claims/clm-blinken-china-considering-lethal-support.yaml"
# A broken claim leaves the sentences it quoted unaccounted for: those are located in archive/.
LOCATED = re.compile(r"(records|archive)/[^\n]*:[0-9]+:[0-9]+: [^\n]*: [^\n]* \[[a-z0-9-]+(, warning)?\]")
ANNOTATION = re.compile(r"::(error|warning) file=(records|archive)/[^:,\n]*,line=[0-9]+,col=[0-9]+,"
                        r"title=[a-z0-9-]+::[^\n]*")
SUMMARY = re.compile(r"[0-9]+ error\(s\), [0-9]+ warning\(s\) in [0-9]+ file\(s\)"
                     r"|[0-9]+ file\(s\) valid \([^\n]*\)")

# Any code point: controls, separators, bidi, private use, unassigned; surrogates only where
# they can be written (escaped inside a YAML double-quoted string).
ANY_TEXT = st.text(st.characters(codec=None, exclude_categories=("Cs",)), min_size=1, max_size=12)
HOSTILE_TEXT = st.one_of(
    ANY_TEXT,
    st.sampled_from([INJECTION, "a\u2028b", "\x1b]0;x\x07", "\x1b[2J", "%0A::error::x", "\u202e"]),
)


def yaml_string(text: str, raw: bool) -> str:
    """``text`` as a YAML double-quoted scalar: written out raw, or with JSON escapes."""
    if raw:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return json.dumps(text)  # \uXXXX escapes, lone surrogates included


def write_name(folder: Path, name: str, content: str) -> Path | None:
    """Write ``folder/name.yaml`` if the file system accepts the name; None when it does not."""
    try:
        path = folder / f"{name}.yaml"
        path.write_text(content, encoding="utf-8", errors="surrogatepass")
    except (OSError, ValueError, UnicodeError):
        return None
    return path


def check_output(result) -> None:
    assert result.returncode in (0, 1), result.stderr.decode("utf-8", "replace")
    out = result.stdout.decode("utf-8")  # strict: undecodable output fails here
    err = result.stderr.decode("utf-8")
    for line in out.splitlines() + err.splitlines():
        no_hidden(line)
        assert (LOCATED.fullmatch(line) or ANNOTATION.fullmatch(line)
                or SUMMARY.fullmatch(line)), f"unexpected output line {line!r}"
    # splitlines() also breaks on \x1c-\x1e, \x85, \u2028...: none may hide inside a line.
    assert out.splitlines() == out.split("\n")[:-1] if out else True
    assert err.splitlines() == err.split("\n")[:-1] if err else True


@settings(max_examples=15, deadline=60_000,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(key=HOSTILE_TEXT, value=HOSTILE_TEXT, name=HOSTILE_TEXT, tag=HOSTILE_TEXT,
       raw=st.booleans())
@example(key=INJECTION, value="\x1b]0;owned\x07", name="clm-a\nb", tag="%0A::error::x", raw=True)
@example(key="\u2028::error::x", value="\ud800", name="clm-\u202eevil", tag="\x85", raw=False)
def test_validate_output_escapes_everything_a_record_controls(key, value, name, tag, raw):
    with tempfile.TemporaryDirectory() as tmp:
        repo = copy_repo(Path(tmp) / "repo")
        claims = repo / "records" / "claims"
        base = (repo / BASE_CLAIM).read_text(encoding="utf-8")
        # A known record with a hostile key (unknown-field) and a hostile statement.
        hostile = base.replace(
            "statement: China could be considering providing lethal support to Russia.",
            f"statement: {yaml_string(value, raw)}",
        ) + f"{yaml_string(key, raw)}: {yaml_string(value, raw)}\n"
        (repo / BASE_CLAIM).write_text(hostile, encoding="utf-8", errors="surrogatepass")
        # A new file with a hostile name, holding a hostile tag.
        tag_text = "".join(c for c in tag if not c.isspace()) or "x"
        write_name(claims, name.replace("/", "_").replace("\x00", "_"),
                   f"id: clm-hostile\nstatement: !{tag_text} 1\n")

        result = run_cli("validate", cwd=repo, env={"GITHUB_ACTIONS": "true"}, timeout=120)

    check_output(result)
    out = result.stdout.decode("utf-8")
    assert any(line.startswith(f"{BASE_CLAIM}:") for line in out.splitlines()), out
    assert any(line.startswith(f"::error file={BASE_CLAIM},") for line in out.splitlines()), out


def test_validate_shows_an_injected_key_and_tag_escaped(tmp_path):
    repo = copy_repo(tmp_path / "repo")
    with open(repo / BASE_CLAIM, "a", encoding="utf-8") as f:
        f.write(f"{json.dumps(INJECTION)}: 1\n")
    named = write_name(repo / "records" / "claims", "clm-a\nb\u202e",
                       "id: clm-hostile\nstatement: !%0A::error::x 1\n")
    assert named is not None

    result = run_cli("validate", cwd=repo, env={"GITHUB_ACTIONS": "true"})

    check_output(result)
    out = result.stdout.decode("utf-8").splitlines()
    shown = "x\\n::error file=README.md,line=1::All green"
    assert any(line.startswith(f"{BASE_CLAIM}:") and shown in line and "[unknown-field]" in line
               for line in out)
    assert any(line.startswith(f"::error file={BASE_CLAIM},") and shown in line for line in out)
    assert "records/claims/clm-a\\nb\\u202e.yaml:2:12: statement: tag !\\n::error::x" \
        " is not allowed; values are typed by the model [yaml-tag]" in out
    assert not any(line.startswith("::error file=README.md") for line in out)


def test_validate_does_not_read_a_record_linked_from_outside(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text('token: "TOPSECRET\n', encoding="utf-8")
    repo = copy_repo(tmp_path / "repo")
    link = repo / "records" / "claims" / "clm-link.yaml"
    try:
        link.symlink_to(secret)
    except OSError:
        pytest.skip("the file system has no symbolic links")

    result = run_cli("validate", cwd=repo)

    out = result.stdout.decode("utf-8")
    assert "TOPSECRET" not in out
    assert "records/claims/clm-link.yaml:1:1: (file):" in out  # refused as a whole, unread
    assert "[yaml-syntax]" not in out
