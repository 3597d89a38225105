"""The record reader: strict YAML with the position of every value.

Records need plain mappings, lists and strings, nothing more. The reference reader
(``parse_events``) builds them from libyaml's event stream itself, so that:

- every scalar stays a string (or None for an empty value): ``NO``, ``010``, ``1e3`` and
  ``2024-04-12`` mean what the model says, never what YAML 1.1 guesses;
- anchors, aliases, merge keys, tags and extra documents are refused, which also defeats
  alias bombs and object construction;
- duplicate keys are reported instead of silently overwritten;
- nesting is bounded and built without recursion;
- each value's line and column is kept, so that a model error points at its line.

``parse`` gets the same answer faster: libyaml composes the node tree in compiled code
(``yaml.compose`` with the base loader, so no implicit typing), and a short walk turns it into
plain data and positions. Whatever that walk cannot vouch for (anything that might be an
anchor, alias or tag, a merge or duplicate key, a key that is not a string, deep nesting,
a document that is not one mapping, any YAML error) is handed to the reference reader, so
that every problem is reported by one reader with one wording.
"""

from __future__ import annotations

import operator
import os
import re
import stat
import unicodedata
from dataclasses import dataclass, field, replace
from typing import AbstractSet, Any, NamedTuple, Optional

import yaml

from reported_claims.model.types import shorten
from reported_claims.problems import Problem

try:
    _Loader = yaml.CSafeLoader

    class _CComposer(yaml.CBaseLoader):
        """libyaml's composer with a resolver that does nothing: every scalar is text to the models,
        and the composed path only reads files with no tag (``_composable``), so the tag a node
        gets is never looked at. PyYAML's resolver is Python, called once a node: most of the
        composing time otherwise. Its three hooks are builtins here, which take the same
        arguments and cost a call in C: a node's "tag" is then a ``slice`` nobody reads."""

        resolve = staticmethod(slice)  # (kind, value, implicit)
        descend_resolver = staticmethod(operator.is_)  # (parent, index)
        ascend_resolver = staticmethod(tuple)  # ()

    _Composer: Optional[type] = _CComposer
except AttributeError:  # PyYAML built without libyaml: the same events, slower, and no fast path
    _Loader = yaml.SafeLoader  # type: ignore[misc]
    _Composer = None

MAX_BYTES = 256 * 1024
"""Largest record file accepted; checked before the file is read."""
MAX_DEPTH = 16
"""Deepest nesting accepted; the deepest record kind needs 5."""

NULLS = {"", "~", "null", "Null", "NULL"}

Path_ = tuple  # a path inside a record: keys and list indexes


class Mark(NamedTuple):
    line: int
    col: int


@dataclass(slots=True)
class Document:
    """What the reader made of one file: the data, where each value stands, and problems."""

    path: str
    data: Any = None
    marks: dict[tuple, Mark] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    text: str = ""
    refused: AbstractSet[tuple] = field(default_factory=set)
    """Where an alias or a tag stood: already reported, so the model's errors there are not."""
    kept = True  # not a field: whether ``data`` is in hand (a ``LazyDocument`` may read it again)

    def mark(self, loc: tuple) -> Mark:
        """Position of the deepest part of ``loc`` that exists in the file."""
        loc = tuple(loc)
        while loc and loc not in self.marks:
            loc = loc[:-1]
        return self.marks.get(loc, Mark(1, 1))

    def problem(self, code: str, loc: tuple, message: str, severity: str = "error") -> Problem:
        m = self.mark(loc)
        return Problem(self.path, m.line, m.col, code, format_loc(loc), message, severity)


class LazyDocument(Document):
    """A document kept without its text and positions, which are read again from its file when
    first asked for (to place a problem found across records, or to format the file).

    A repository's documents are kept this way once read: of 100,000 records, only the few that
    need a position pay for one.
    """

    # Slots, as a Document has: one of these is kept for every file of the repository.
    __slots__ = ("_data", "kept", "_file", "_full")

    def __init__(self, file: str | os.PathLike, shown: str, data: Any, problems: list[Problem],
                 refused: AbstractSet[tuple], kept: bool = True):
        self.path, self._data, self.problems, self.refused = shown, data, problems, refused
        self.kept = kept
        self._file = file
        self._full: Optional[Document] = None

    def _reread(self) -> Document:
        if self._full is None:
            self._full = read(self._file, self.path)
        return self._full

    @property  # type: ignore[override]
    def data(self) -> Any:
        return self._data if self.kept else self._reread().data

    @property  # type: ignore[override]
    def marks(self) -> dict[tuple, Mark]:
        return self._reread().marks

    @property  # type: ignore[override]
    def text(self) -> str:
        return self._reread().text


def format_loc(loc: tuple) -> str:
    """``('reports', 0, 'quote')`` -> ``reports[0].quote``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _event_loc(stack: list) -> tuple:
    """Where the next value goes: the pending key of a mapping, the next index of a list."""
    if not stack:
        return ()
    container, loc, key = stack[-1][0], stack[-1][1], stack[-1][2]
    if isinstance(container, list):
        return loc + (len(container),)
    if key is None or key is _BAD_KEY:
        return loc
    return loc + (key,)


def _position(data: bytes, index: int) -> Mark:
    line = data.count(b"\n", 0, index) + 1
    start = data.rfind(b"\n", 0, index) + 1
    col = len(data[start:index].decode("utf-8", "replace")) + 1
    return Mark(line, col)


def read_bytes(path: str | os.PathLike, shown: str) -> tuple[Optional[bytes], list[Problem]]:
    """The file's bytes, refusing before reading anything too large or not a regular file."""
    data, problems, _ = read_bytes_stat(path, shown)
    return data, problems


def read_bytes_stat(path: str | os.PathLike, shown: str) -> tuple[Optional[bytes], list[Problem], Optional[tuple[int, int, int]]]:
    """``read_bytes``, and the (size, modification time in ns, inode) the file had before it was read."""
    data, problems, st = _read(path, shown)
    return data, problems, (st.st_size, st.st_mtime_ns, st.st_ino) if data is not None and st is not None else None


def _read(path: str | os.PathLike, shown: str) -> tuple[Optional[bytes], list[Problem], Optional[os.stat_result]]:
    st = None
    try:
        st = os.lstat(path)
        if stat.S_ISLNK(st.st_mode):
            # A link can point out of the repository: its target would be read and published.
            return None, [Problem(shown, 1, 1, "symlink", "",
                                  "a record file must be a file of the repository, not a symbolic link; "
                                  "copy the record here instead")], st
        if not stat.S_ISREG(st.st_mode):
            return None, [Problem(shown, 1, 1, "unreadable", "", "not a regular file")], st
        if st.st_size > MAX_BYTES:
            return None, [
                Problem(
                    shown, 1, 1, "file-too-large", "",
                    f"file is {st.st_size} bytes; a record may have at most {MAX_BYTES}",
                )
            ], st
        # O_NOFOLLOW: a link swapped in after the check above is refused, not followed.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0))
        try:
            data = _read_fd(fd, st.st_size)
        finally:
            os.close(fd)
    except OSError as exc:
        return None, [Problem(shown, 1, 1, "unreadable", "", exc.strerror or str(exc))], st
    if len(data) > MAX_BYTES:  # grew while we looked
        return None, [Problem(shown, 1, 1, "file-too-large", "", f"more than {MAX_BYTES} bytes")], st
    return data, [], st


def _read_fd(fd: int, size: int) -> bytes:
    """Up to ``MAX_BYTES + 1`` bytes of ``fd``, asking first for one byte more than the ``size`` it was
    seen with: a buffer of the file's size, not of the limit, is made (a buffer of the limit for
    every file cost five times the reading), and a file that grew since is still read to the limit."""
    chunks, got, ask = [], 0, size + 1
    while got <= MAX_BYTES:
        chunk = os.read(fd, min(ask, MAX_BYTES + 1 - got))
        if not chunk:
            break
        chunks.append(chunk)
        got += len(chunk)
        ask = 1 << 16
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def decode(data: bytes, shown: str) -> tuple[Optional[str], list[Problem]]:
    if data.startswith(b"\xef\xbb\xbf"):
        return None, [Problem(shown, 1, 1, "bom", "", "file starts with a UTF-8 byte-order mark; remove it")]
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None, [Problem(shown, 1, 1, "not-utf8", "", "file is UTF-16; save it as UTF-8")]
    nul = data.find(b"\x00")
    if nul >= 0:
        m = _position(data, nul)
        return None, [Problem(shown, m.line, m.col, "nul-byte", "", "NUL byte: this is not a text file")]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        m = _position(data, exc.start)
        return None, [
            Problem(
                shown, m.line, m.col, "not-utf8", "",
                f"byte 0x{data[exc.start]:02x} is not valid UTF-8; save the file as UTF-8",
            )
        ]
    # An ASCII file is looked through in C (a table lookup a byte); the pattern only finds where.
    unprintable = _UNPRINTABLE.search(text) if not data.isascii() or data.translate(None, _PRINTABLE_ASCII) else None
    if unprintable:
        # libyaml would refuse it too, but at the start of the file: say where it is.
        at = unprintable.start()
        char = unprintable.group()
        code = "control-character" if unicodedata.category(char) == "Cc" else "invisible-character"
        return None, [Problem(shown, text.count("\n", 0, at) + 1, at - (text.rfind("\n", 0, at) + 1) + 1, code, "",
                              f"U+{ord(char):04X} is not allowed in a YAML file; remove it")]
    return text, []


# What YAML does not allow in a stream (its printable set is tab, LF, CR, U+0020-U+007E, U+0085,
# U+00A0-U+D7FF, U+E000-U+FFFD and U+10000-U+10FFFF); U+0085 is reported by parse() as a hidden break.
_UNPRINTABLE = re.compile("[\x01-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufffe\uffff]")
# Its ASCII part, as the bytes it allows: tab, LF, CR and U+0020-U+007E.
_PRINTABLE_ASCII = bytes([0x09, 0x0A, 0x0D, *range(0x20, 0x7F)])


# libyaml breaks lines at these, while cat, editors and diff views show one line: a key after
# one would be hidden in plain sight.
_HIDDEN_BREAKS = re.compile("[\u2028\u2029\u0085]")


def _precheck(text: str, shown: str) -> Optional[Document]:
    """The refusals that come before YAML (hidden line breaks, no record at all), if any."""
    breaks = list(_HIDDEN_BREAKS.finditer(text)) if not text.isascii() else []
    if breaks:
        doc = Document(shown, text=text)
        for m in breaks[:20]:
            line = text.count("\n", 0, m.start()) + 1
            col = m.start() - (text.rfind("\n", 0, m.start()) + 1) + 1
            doc.problems.append(Problem(
                shown, line, col, "line-separator", "",
                f"U+{ord(m.group()):04X} is a line break to YAML but not to editors; remove it "
                "(write a real new line where one is meant)",
            ))
        return doc
    if not any(line.strip() and not line.lstrip().startswith("#") for line in text.splitlines()):
        return Document(shown, text=text, problems=[Problem(shown, 1, 1, "empty-file", "", "file holds no record")])
    return None


def parse(text: str, shown: str) -> Document:
    """Build the record from YAML text; never raises for any input.

    The composed fast path when it can vouch for the file, else the reference reader: the
    same data, positions and problems either way (a test runs both on every fixture).
    """
    return _precheck(text, shown) or compose(text, shown) or _parse_events(text, shown)


def parse_events(text: str, shown: str) -> Document:
    """The reference reader: the record built from libyaml's events, one at a time."""
    return _precheck(text, shown) or _parse_events(text, shown)


# What only an anchor, alias or tag starts with, where a token can start (the start of the
# text, or after a space, a line break, "[", "{" or ","). A quote holding " &" or " !" also
# matches: that file is read by the reference reader, which costs time only. Written to look
# for the character first and then at the one before it: the engine finds the character in C,
# where looking at each position for where a token can start took eight times as long.
_SUSPECT = re.compile(r"[&*!](?<![^\s\[{,][&*!])")
# Block nesting without indentation ("- - - x") and flow brackets are what let a small file
# nest deeply; a file with many of them goes to the reference reader, which bounds depth as it
# reads, rather than to the composer, which recurses.
# Looked for at the start and after each line feed (what ``^`` of re.M matches), as the pattern
# anchored on a line feed, which the engine finds in C, rather than tried at every character.
# The runs of blanks are possessive (``*+``, ``++``): what follows a run is never a blank, so
# giving some of it back could not make a match, and trying to, at every indented line, took
# three times as long.
_COMPACT_FIRST = re.compile(r"[ \t]*+(?:[-?:][ \t]++){3,}")
_COMPACT = re.compile(r"\n[ \t]*+(?:[-?:][ \t]++){3,}")
_DEEP_INDENT = re.compile(r"^[ \t]{%d,}" % (4 * MAX_DEPTH + 1), re.M)
_DEEP_SPACES = " " * (4 * MAX_DEPTH + 1)
_MAX_BRACKETS = MAX_DEPTH


def _composable(text: str) -> bool:
    """Whether ``text`` is safe and plain enough for the composed path to read."""
    # The characters first, in C: most files hold none of them, and the pattern is slow to scan with.
    suspect = ("&" in text or "*" in text or "!" in text) and _SUSPECT.search(text)
    # A line indented deeper than the bound holds a tab or that many spaces in a row: looked for in C first.
    deep = ("\t" in text or _DEEP_SPACES in text) and _DEEP_INDENT.search(text)
    if _Composer is None or suspect or deep or _COMPACT_FIRST.match(text) or _COMPACT.search(text):
        return False
    return text.count("[") + text.count("{") <= _MAX_BRACKETS


class ComposedDocument(Document):
    """A document of the composed path: its positions are those of the reference reader, found
    from its text when first asked for. A file with no problem never needs one, and most of the
    composed path's time would otherwise go to keeping a position for every value."""

    def __init__(self, path: str, data: Any, text: str):
        self.path, self.data, self.text = path, data, text
        self.problems, self.refused = [], set()
        self._marks: Optional[dict[tuple, Mark]] = None

    @property  # type: ignore[override]
    def marks(self) -> dict[tuple, Mark]:
        if self._marks is None:
            self._marks = _parse_events(self.text, self.path).marks
        return self._marks


def compose(text: str, shown: str) -> Optional[Document]:
    """The record read from libyaml's composed nodes; None where only the reference reader may answer.

    Answers only files that give no problem at all: one document, a mapping at the top, every
    key a plain string and unique, no merge key, no anchor, alias or tag, nesting within
    ``MAX_DEPTH``. The caller checks ``_precheck`` first. ``_composable`` has already turned away
    any text where an anchor could stand, so that no node can be met twice (an alias needs one).
    """
    if not _composable(text):
        return None
    try:
        root = yaml.compose(text, Loader=_Composer)
    except (yaml.YAMLError, RecursionError):
        return None
    if not isinstance(root, yaml.MappingNode):
        return None
    data: dict = {}
    # (node, the container it fills, its depth), without recursion
    todo: list[tuple[Any, Any, int]] = [(root, data, 1)]
    scalar, mapping = yaml.ScalarNode, yaml.MappingNode
    while todo:
        node, out, depth = todo.pop()
        if depth > MAX_DEPTH:
            return None
        if type(node) is mapping:
            for key, value in node.value:
                if type(key) is not scalar:
                    return None
                name = key.value
                if name in out or (not key.style and (name == "<<" or name in NULLS)):
                    return None  # a duplicate, a merge key or a null key
                if type(value) is scalar:
                    out[name] = None if not value.style and value.value in NULLS else value.value
                else:
                    out[name] = child = {} if type(value) is mapping else []
                    todo.append((value, child, depth + 1))
        else:
            for value in node.value:
                if type(value) is scalar:
                    out.append(None if not value.style and value.value in NULLS else value.value)
                else:
                    child = {} if type(value) is mapping else []
                    out.append(child)
                    todo.append((value, child, depth + 1))
    return ComposedDocument(shown, data, text)


def _parse_events(text: str, shown: str) -> Document:
    doc = Document(shown, text=text)

    def add(code: str, event: Any, message: str, loc: tuple = ()) -> None:
        mk = event.start_mark
        doc.problems.append(Problem(shown, mk.line + 1, mk.column + 1, code, format_loc(loc), message))

    counts: dict[str, int] = {}

    def once(code: str, event: Any, message: str, loc: tuple) -> None:
        """Anchors and aliases are reported once a file: an alias bomb is one problem."""
        counts[code] = counts.get(code, 0) + 1
        if counts[code] == 1:
            add(code, event, message, loc)

    # Each open container: [value, loc, pending key (mappings), key mark, seen keys]
    stack: list[list[Any]] = []
    documents = 0
    root: Any = None

    def place(value: Any, event: Any) -> Optional[tuple]:
        """Attach a finished value to its parent; return its loc, or None if it is a key."""
        nonlocal root
        if not stack:
            root = value
            doc.marks[()] = Mark(event.start_mark.line + 1, event.start_mark.column + 1)
            return ()
        top = stack[-1]
        container, loc = top[0], top[1]
        if isinstance(container, list):
            here = loc + (len(container),)
            container.append(value)
            doc.marks[here] = Mark(event.start_mark.line + 1, event.start_mark.column + 1)
            return here
        if top[2] is None:  # this value is a key
            if not isinstance(value, str) or isinstance(value, _Container):
                add("complex-key", event, "a mapping key must be a plain string", loc)
                top[2] = _BAD_KEY
                top[3] = event
                return None
            top[2] = value
            top[3] = event
            return None
        key, key_event = top[2], top[3]
        top[2] = None
        if key is _BAD_KEY:
            return loc + ("?",)
        here = loc + (key,)
        if key in container:
            add("duplicate-key", key_event, f"key {key!r} appears twice in this mapping; keep one", here)
        else:
            container[key] = value
            doc.marks[here] = Mark(key_event.start_mark.line + 1, key_event.start_mark.column + 1)
        return here

    try:
        for event in yaml.parse(text, Loader=_Loader):
            kind = type(event).__name__
            if kind == "DocumentStartEvent":
                documents += 1
                if documents > 1:
                    add("multiple-documents", event, "a record file holds exactly one YAML document")
                    break
                continue
            if kind in ("StreamStartEvent", "StreamEndEvent", "DocumentEndEvent"):
                continue
            loc = _event_loc(stack)
            # A refused node stands for the value at ``loc``, whose own problems are then not
            # reported again; a refused key is a bad key (``complex-key``), and its mapping's
            # other problems are still reported.
            is_key = bool(stack) and isinstance(stack[-1][0], dict) and stack[-1][2] is None
            if kind == "AliasEvent":
                once("yaml-alias", event, f"alias *{event.anchor} is not allowed; write the value out", loc)
                if not is_key:
                    doc.refused.add(loc)
                place(None, event)
                continue
            if getattr(event, "anchor", None):
                once("yaml-anchor", event, f"anchor &{event.anchor} is not allowed; remove it", loc)
            tag = getattr(event, "tag", None)
            if tag and tag != "!" and not (kind == "ScalarEvent" and event.implicit[0]):
                add("yaml-tag", event, f"tag {tag} is not allowed; values are typed by the model", loc)
                if not is_key:
                    doc.refused.add(loc)
            if kind == "ScalarEvent":
                plain = event.style in (None, "")
                value: Any = None if plain and event.value in NULLS else event.value
                if plain and event.value == "<<" and stack and isinstance(stack[-1][0], dict) and stack[-1][2] is None:
                    add("merge-key", event, "merge keys (<<) are not allowed; write each key out", loc)
                    stack[-1][2], stack[-1][3] = _BAD_KEY, event
                    continue
                place(value, event)
            elif kind in ("MappingStartEvent", "SequenceStartEvent"):
                if len(stack) >= MAX_DEPTH:
                    add("too-deep", event, f"nesting deeper than {MAX_DEPTH} levels", loc)
                    doc.data = None
                    return doc
                container: Any = _Dict() if kind == "MappingStartEvent" else _List()
                here = place(container, event)
                stack.append([container, here if here is not None else loc + ("?",), None, None])
            elif kind in ("MappingEndEvent", "SequenceEndEvent"):
                stack.pop()
    except yaml.MarkedYAMLError as exc:
        mk = exc.problem_mark or exc.context_mark
        what = str(exc.problem or exc.context or "invalid YAML")
        if "nesting depth" in what:
            # libyaml (PyYAML >= 6.0.2) bounds flow nesting itself, while scanning ahead of the
            # events that our own bound counts: either way the record nests too deep.
            doc.problems.append(Problem(
                shown, (mk.line + 1) if mk else 1, (mk.column + 1) if mk else 1, "too-deep", "",
                f"nesting deeper than {MAX_DEPTH} levels",
            ))
            return doc
        if exc.context and exc.context_mark:
            cm = exc.context_mark
            what = f"{what} ({exc.context} at line {cm.line + 1}, column {cm.column + 1})"
        if "\t" in text and "tab" in what.lower() or "found character '\\t'" in what:
            what += " (use spaces, not tabs, to indent)"
        elif "mapping values are not allowed" in what:
            what += f" ({_quoting_hint(text, mk.line if mk else None)})"
        doc.problems.append(
            Problem(shown, (mk.line + 1) if mk else 1, (mk.column + 1) if mk else 1, "yaml-syntax", "", what)
        )
        return doc
    except yaml.YAMLError as exc:  # reader errors: control characters and the like
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "mark", None)
        line = getattr(mark, "line", 0) + 1
        col = getattr(mark, "column", 0) + 1
        doc.problems.append(Problem(shown, line, col, "yaml-syntax", "", str(exc).splitlines()[0]))
        return doc
    except RecursionError:  # not expected: libyaml and this loop are iterative
        doc.problems.append(Problem(shown, 1, 1, "too-deep", "", "nesting too deep"))
        return doc

    for i, p in enumerate(doc.problems):
        n = counts.get(p.code, 0)
        if n > 1:
            doc.problems[i] = replace(p, message=f"{p.message} ({n - 1} more in this file)")
            counts[p.code] = 0
    # What remains (duplicate keys, anchors, tags...) is reported but not fatal: the record is
    # still validated, so that a contributor sees every problem at once.
    if not isinstance(root, dict):
        what = "a list" if isinstance(root, list) else "a single value"
        doc.problems.append(
            Problem(shown, 1, 1, "not-a-mapping", "", f"file holds {what}; a record is a mapping of key: value lines")
        )
    else:
        doc.data = _plain(root)
    return doc


def _quoting_hint(text: str, line: Optional[int]) -> str:
    """How to write the value of the line libyaml stopped at, which holds a second ": "."""
    hint = 'a value containing ": " must be quoted'
    lines = text.splitlines()
    if line is None or line >= len(lines) or ": " not in lines[line]:
        return f'{hint}: key: "…"'
    key, _, value = lines[line].strip().removeprefix("- ").partition(": ")
    value = shorten(value.strip(), 40)
    quoted = f'"{value}"' if '"' not in value and "\\" not in value else "'" + value.replace("'", "''") + "'"
    return f"{hint}: {key}: {quoted}"


class _Container:
    """Marker base: containers under construction are never valid keys."""


class _Dict(dict, _Container):
    pass


class _List(list, _Container):
    pass


_BAD_KEY = object()


def _plain(value: Any) -> Any:
    """Turn the construction classes into plain dicts and lists, iteratively."""
    out = dict(value) if isinstance(value, dict) else list(value)
    todo = [out]
    while todo:
        node = todo.pop()
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for k, v in list(items):
            if isinstance(v, dict):
                node[k] = dict(v)
                todo.append(node[k])
            elif isinstance(v, list):
                node[k] = list(v)
                todo.append(node[k])
    return out


def read(path: str | os.PathLike, shown: Optional[str] = None) -> Document:
    """Read one record file: size, bytes, text, YAML; problems instead of exceptions."""
    shown = shown or str(path)
    data, problems = read_bytes(path, shown)
    if data is None:
        return Document(shown, problems=problems)
    text, problems = decode(data, shown)
    if text is None:
        return Document(shown, problems=problems)
    return parse(text, shown)
