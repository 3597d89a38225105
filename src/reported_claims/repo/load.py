"""Reading a repository of records into models, with every problem located in its file.

Two layers, in order: structure (the reader and the pydantic model of each record), then
meaning (rules across records, in ``rules.py``). Nothing here raises for a bad record.
"""

from __future__ import annotations

import gc
import os
import pickle
import stat
from contextlib import nullcontext
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Callable, Iterable, Optional, Union

import orjson
from pydantic import ValidationError

from reported_claims.errors import ReportedClaimsError
from reported_claims.repo import reader
from reported_claims.model.checks import record_problems
from reported_claims.model.graph import Uses, lineage_edges, references
from reported_claims.model.outline import outline
from reported_claims.repo.cache import (Cache, Entry, Facts, Stat, blocking_words, digest, facts_of, folded_name, pickled,
                                        statement_words)
from reported_claims.repo.spill import Spill
from reported_claims.problems import CODES, Problem, relpath
from reported_claims.util.collector import paused
from reported_claims.util.pool import forking, pulled, share_out, workers
from reported_claims.model.kinds import FOLDERS, ID_PREFIX, MODELS, of_id
from reported_claims.model.kinds import kind as kind_named
from reported_claims.model.types import PATTERN_WORDS, PLACEHOLDER_TERM
from reported_claims.model.records import Claim, Entity, Record, Source, Vocabulary, field_model, own_keys

RECORDS = "records"


@dataclass(slots=True)  # one for every file of the repository
class Loaded:
    """One record file, read and (if it could be) validated."""

    file: Union[str, "os.PathLike[str]"]
    """Its path (given as a path or a string, kept as a string: a ``Path`` for each of 150,000
    files would weigh 60 MB); ``path`` makes it a ``Path``."""
    shown: str
    kind: Optional[str]
    doc: reader.Document
    record: Optional[Record] = None
    target: bool = True
    """Whether problems in this file are reported (False for context records)."""
    spilled: int = -1
    """Where ``record`` is an outline put aside whole (``load``'s ``spill``): its entry's number there."""

    def __post_init__(self) -> None:
        self.file = os.fspath(self.file)

    @property
    def path(self) -> Path:
        return Path(self.file)


@dataclass
class Dataset:
    """Every record of a repository, by kind and id."""

    root: Path
    claims: dict[str, Claim] = field(default_factory=dict)
    sources: dict[str, Source] = field(default_factory=dict)
    entities: dict[str, Entity] = field(default_factory=dict)
    vocabularies: dict[str, Vocabulary] = field(default_factory=dict)
    files: dict[str, Loaded] = field(default_factory=dict)
    """Record id -> the file it came from (the first, if an id is duplicated)."""
    invalid: set[tuple[str, str]] = field(default_factory=set)
    """(kind, id) of records whose file exists but does not validate: references to them are
    not reported as unknown, so that one broken record gives its own errors and no cascade."""
    _terms: dict = field(default_factory=dict, repr=False, compare=False)
    known: Optional[Callable[[str], set]] = field(default=None, repr=False, compare=False)
    """For a dataset of only some records (``load`` of paths with a cache): every id of a kind."""
    used: Optional[Uses] = field(default=None, repr=False, compare=False)
    """What every valid record read refers to and uses, where the load gathered it as it read them."""
    spill: Optional[Spill] = field(default=None, repr=False, compare=False)
    """Where the records kept as outlines were put aside whole (``load``'s ``spill``)."""

    def wholes(self, records: list) -> list[Record]:
        """``records`` (of this dataset) as models: those kept as outlines read back from the
        spill, in one pass (else from their files)."""
        at = [i for i, r in enumerate(records) if not isinstance(r, Record)]
        if not at:
            return records
        out = list(records)
        items = [self.files[records[i].id] for i in at]
        if self.spill is not None and all(item.spilled >= 0 for item in items):
            for i, record in zip(at, self.spill.records(item.spilled for item in items)):
                out[i] = record
        else:
            for i, item in zip(at, items):
                out[i] = whole(item)
        return out

    def ids(self, kind: str):
        """Every id of a kind in the repository, to suggest one for an id that is not there."""
        return self.known(kind) if self.known is not None else self.table(kind).keys()

    def exists(self, kind: str, rid: str) -> bool:
        return rid in self.table(kind) or (kind, rid) in self.invalid

    def table(self, kind: str) -> dict:
        return self._tables()[kind]

    def _tables(self) -> dict[str, dict]:
        return {"claim": self.claims, "source": self.sources, "entity": self.entities,
                "vocabulary": self.vocabularies}

    def terms(self, vocabulary: str) -> dict:
        """Term id -> term of a vocabulary (empty when it is missing); made once per vocabulary record."""
        return self._made_terms(vocabulary)[0]

    def live(self, vocabulary: str) -> frozenset:
        """The ids of a vocabulary's terms that are not deprecated (none when it is missing)."""
        return self._made_terms(vocabulary)[1]

    def _made_terms(self, vocabulary: str) -> tuple[dict, frozenset]:
        """A vocabulary's ``terms``, and the ids of those not deprecated; made once per vocabulary record."""
        vocab = self.vocabularies.get(vocabulary)
        if vocab is None:
            return {}, frozenset()
        made = self._terms.get(vocabulary)
        if made is None or made[0] is not vocab:
            terms = {t.id: t for t in vocab.terms}
            made = self._terms[vocabulary] = (vocab, terms, frozenset(k for k, t in terms.items() if not t.deprecated))
        return made[1], made[2]

    @property
    def count(self) -> int:
        return len(self.claims) + len(self.sources) + len(self.entities) + len(self.vocabularies)


def record_files(root: Path) -> list[Path]:
    """Every entry under ``records/`` that is not one of its kind folders, in a stable order.

    Nothing under ``records/`` is skipped: ``*.yaml`` files in the kind folders are records,
    and everything else (a file directly under ``records/``, an unknown or misspelled folder,
    a nested folder, a ``.yml`` or ``.YAML`` file, a link, a device) is returned too, so that
    ``load_file`` refuses it with a code instead of it being silently left out. Links are never
    followed.
    """
    return [Path(p) for p in record_entries(root)]


def record_entries(root: Path, skip: Iterable[str] = ()) -> list[str]:
    """``record_files`` as strings (a Path for each of 150,000 files costs more than listing them),
    leaving out the kind folders named in ``skip``."""
    base = os.path.join(root, RECORDS)
    found: list[str] = []
    try:
        top = sorted(os.scandir(base), key=lambda e: e.name)
    except OSError:
        return found
    for entry in top:
        if entry.name in FOLDERS and entry.is_dir(follow_symlinks=False):
            if entry.name in skip:
                continue
            try:
                # Names sort as the paths would (one folder).
                found.extend(sorted(e.path for e in os.scandir(entry.path)))
            except OSError:
                found.append(entry.path)
        else:
            found.append(entry.path)
    return found


def refusal(path: Path, root: Path, shown: str) -> Optional[Problem]:
    """Why a path under ``records/`` is not a record file, if it is not; None for a record file."""
    base = Path(root) / RECORDS
    try:
        st = os.lstat(path)
    except OSError as exc:
        return Problem(shown, 1, 1, "unreadable", "", exc.strerror or str(exc))
    parent = Path(path).parent
    folders = ", ".join(f"records/{f}/" for f in sorted(FOLDERS))
    if parent == base:
        if stat.S_ISDIR(st.st_mode):
            import difflib  # on use: only a misspelling needs it
            close = difflib.get_close_matches(Path(path).name, list(FOLDERS), n=1)
            hint = f"; did you mean records/{close[0]}/?" if close else f"; the folders are {folders}"
            return Problem(shown, 1, 1, "unknown-folder", "", f"records/ holds no folder {Path(path).name!r}{hint}")
        return Problem(shown, 1, 1, "misplaced-file", "",
                       f"a file directly under records/ is not read; move it into one of {folders}")
    if parent.parent != base or parent.name not in FOLDERS:
        return None  # not under records/: a file named on the command line
    if stat.S_ISLNK(st.st_mode):
        return None  # the reader refuses it, with its own message
    if stat.S_ISDIR(st.st_mode):
        return Problem(shown, 1, 1, "nested-folder", "",
                       f"records/{parent.name}/ holds record files only, no folders; move its files up")
    if Path(path).suffix != ".yaml":
        return Problem(shown, 1, 1, "unknown-extension", "",
                       f"a record file ends in .yaml; rename it to {Path(path).stem}.yaml")
    return None


class NotARepository(ReportedClaimsError):
    """No repository of records where one was looked for."""


def find_root(start: Optional[Path] = None) -> Path:
    """The repository: ``start`` when given, else the nearest folder holding ``records/``,
    from the current folder up (as git finds its work tree).

    Raises ``NotARepository`` saying where it looked and what to do.
    """
    if start is not None:
        if not (Path(start) / RECORDS).is_dir():
            raise NotARepository(f"no {RECORDS}/ folder in {Path(start).resolve()}: "
                                 f"pass --repo the folder that holds {RECORDS}/")
        return Path(start)
    here = Path.cwd()
    for folder in (here, *here.parents):
        if (folder / RECORDS).is_dir():
            return folder
    raise NotARepository(f"no {RECORDS}/ folder in {here} or any folder above it: run this inside "
                         "a repository of records, or pass --repo DIR")


# Folders never searched for records when a folder is named: hidden ones (.git, .venv,
# .github, editors' settings) and the tests, whose fixtures are records broken on purpose.
SKIPPED_FOLDERS = {"tests"}


def expand(paths: Iterable[Path]) -> list[Path]:
    """Files named, and the ``*.yaml`` files under folders named (hidden and test folders skipped)."""
    out: list[Path] = []
    for p in paths:
        if not p.is_dir():
            out.append(p)
            continue
        found = []
        for folder, dirs, files in os.walk(p):
            dirs[:] = [d for d in dirs if not d.startswith(".") and d not in SKIPPED_FOLDERS]
            here = Path(folder)
            if here.name == RECORDS or here.parent.name == RECORDS:
                continue  # what is under records/ is found by record_files, refusals included
            found += [here / f for f in files if not f.startswith(".") and f.lower().endswith((".yaml", ".yml"))]
        records = Path(p) / RECORDS if (Path(p) / RECORDS).is_dir() else None
        if Path(p).name == RECORDS:
            records = Path(p)
        if records is not None:
            found += record_files(records.parent)
        elif Path(p).parent.name == RECORDS:
            found += [e for e in record_files(Path(p).parent.parent) if Path(e).parent == Path(p)]
        out.extend(sorted(set(found)))
    return out


def kind_of(path: Union[str, "os.PathLike[str]"], data: object) -> Optional[str]:
    """The record kind: from the folder (``claims/`` ...), else from the id's prefix."""
    folder = os.path.basename(os.path.dirname(path))  # as ``path.parent.name``, without making two paths
    if folder in FOLDERS:
        return FOLDERS[folder]
    rid = data.get("id") if isinstance(data, dict) else None
    if isinstance(rid, str):
        for kind, prefix in ID_PREFIX.items():
            if rid.startswith(prefix):
                return kind
        if "terms" in data:
            return "vocabulary"
    return None


# pydantic error type -> our stable code; custom errors already carry our code as their type.
_PYDANTIC_CODES = {
    "missing": "missing-field",
    "extra_forbidden": "unknown-field",
    "string_pattern_mismatch": "invalid-format",
    "string_too_long": "invalid-length",
    "string_too_short": "invalid-length",
    "too_short": "invalid-length",
    "too_long": "invalid-length",
    "literal_error": "invalid-choice",
    "greater_than_equal": "out-of-range",
    "greater_than": "out-of-range",
    "less_than_equal": "out-of-range",
    "less_than": "out-of-range",
    "finite_number": "not-finite",
    "date_parsing": "invalid-date",
    "date_from_datetime_parsing": "invalid-date",
    "date_from_datetime_inexact": "invalid-date",
    "date_type": "invalid-date",
}

# Object-level errors are raised by a model validator without a field: point at this field.
_FIELD_OF_CODE = {
    "withdrawal-mismatch": "status",
    "duplicate-quantity": "quantities",
    "unknown-quantity": "reports",
    "share-over-100": "value",
    "missing-share-of": "unit",
    "missing-compared-to": "unit",
    "seen-mismatch": "seen",
    "attribution-not-in-quote": "attributed_to",
    "missing-attribution-context": "attribution_mode",
    "attribution-mismatch": "attribution_mode",
    "modality-mismatch": "modality",
    "modality-not-in-quote": "modality_text",
}


def _code(error: dict) -> str:
    etype = error["type"]
    if etype == "literal_error" and error.get("input") == PLACEHOLDER_TERM:
        return "placeholder"  # a choice `reported-claims new` left to fill in
    if etype in _PYDANTIC_CODES:
        return _PYDANTIC_CODES[etype]
    if "-" in etype or etype in CODES:  # one of ours (`placeholder` has no hyphen)
        return etype
    if etype.endswith(("_type", "_parsing")):
        return "invalid-type"
    return "invalid-value"


def _message(error: dict, model: type[Record]) -> str:
    etype = error["type"]
    loc = error["loc"]
    if etype == "extra_forbidden":
        name = str(loc[-1])
        fields = _fields_at(model, loc[:-1])
        import difflib  # on use: only a misspelling needs it
        close = difflib.get_close_matches(name, fields, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else f"; allowed: {', '.join(fields)}"
        return f"unknown field {name!r}{hint}"
    if etype == "missing":
        return f"field {loc[-1]!r} is required"
    if etype == "string_pattern_mismatch":
        pattern = error.get("ctx", {}).get("pattern", "")
        words = PATTERN_WORDS.get(pattern)
        if words:
            return f"{error['input']!r} is not in the right form: write {words}"
        return f"{error['input']!r} does not match the format {pattern}"
    if etype == "literal_error":
        if error.get("input") == PLACEHOLDER_TERM:
            return f"placeholder not filled in: choose one of {error['ctx']['expected']}"
        return f"{error['input']!r} is not allowed: {error['ctx']['expected']}"
    return error["msg"][0].lower() + error["msg"][1:] if error["msg"] else etype


def _fields_at(model: type[Record], loc: tuple) -> list[str]:
    """The field names of the model found at ``loc`` (lists skipped)."""
    current: type = model
    for part in loc:
        if isinstance(part, int):
            continue
        current = field_model(current, part)
        if current is None:
            return []
    return list(current.model_fields)


def validate_record(doc: reader.Document, kind: str) -> tuple[Optional[Record], list[Problem]]:
    model = MODELS[kind]
    try:
        return model.model_validate(doc.data), []
    except ValidationError as exc:
        problems = []
        for error in exc.errors(include_url=False):
            loc = tuple(error["loc"])
            if any(loc[: len(r)] == r for r in doc.refused):
                continue
            code = _code(error)
            if code in _FIELD_OF_CODE:
                loc = loc + (_FIELD_OF_CODE[code],)
            # pydantic appends the function name to the loc of an Annotated validator
            loc = tuple(p for p in loc if not (isinstance(p, str) and p.startswith("function-")))
            problems.append(doc.problem(code, loc, _message(error, model)))
        return None, problems


def load_file(path: Path, root: Path) -> Loaded:
    """Read and validate one file under ``root``; its problems in ``Loaded.doc``, never raised."""
    shown = relpath(path, root)
    refused = refusal(path, root, shown)
    if refused is not None:
        return Loaded(path, shown, None, reader.Document(shown, problems=[refused]))
    data, problems = reader.read_bytes(path, shown)
    if data is None:
        return Loaded(path, shown, None, reader.Document(shown, problems=problems))
    return _from_bytes(path, shown, data)


def _from_bytes(path: Union[str, "os.PathLike[str]"], shown: str, data: bytes) -> Loaded:
    text, problems = reader.decode(data, shown)
    doc = reader.parse(text, shown) if text is not None else reader.Document(shown, problems=problems)
    kind = None
    if doc.data is not None:
        kind = kind_of(path, doc.data)
        if kind is None:
            doc.problems.append(
                Problem(shown, 1, 1, "unknown-kind", "",
                        "put the file under records/claims, records/sources, records/entities or "
                        "records/vocabularies, or give it an id starting clm-, src- or ent-")
            )
    loaded = Loaded(path, shown, kind, doc)
    if kind is not None:
        loaded.record, problems = validate_record(doc, kind)
        doc.problems.extend(problems)
    return loaded


POOL_FILES = 3000
"""From this many files to read, they are read by a pool of processes (one per core)."""
_CHUNK = 250


def may_hold_placeholder(data: object) -> bool:
    """Whether any key or text of a file's raw data may hold the scaffold's placeholder: the
    data as JSON written by orjson in C, which escapes only quotes, backslashes and control
    characters, so that a record without it needs no walk in Python."""
    try:
        return PLACEHOLDER_TERM.encode() in orjson.dumps(data)
    except TypeError:  # not plain JSON data (the reader gives nothing else): look at its repr
        return PLACEHOLDER_TERM in str(data)


_NOWHERE: frozenset = frozenset()  # the refused places of nearly every file: one set for all


def _entry(loaded: Loaded, file_digest: str) -> Entry:
    doc = loaded.doc
    # The raw data is kept only where the rules across records read it: a file that did not
    # validate (its id, its placeholders) or that may hold a placeholder. Every other record is
    # its model; the data would be carried from the pool and kept in memory for nothing (it
    # weighs as much again), and is read again from the file if ever asked for.
    data = doc.data if loaded.record is None or may_hold_placeholder(doc.data) else None
    return Entry(file_digest, loaded.kind, data, loaded.record, tuple(doc.problems),
                 frozenset(doc.refused) if doc.refused else _NOWHERE)


def _loaded(path: Path, shown: str, entry: Entry) -> Loaded:
    """A file's ``Loaded`` from its entry: its text and positions, and its raw data where the
    entry did not keep it, are read again only if needed."""
    kept = entry.record is None or entry.data is not None
    file = os.fspath(path)
    doc = reader.LazyDocument(file, shown, entry.data, list(entry.problems), entry.refused or _NOWHERE, kept)
    return Loaded(file, shown, entry.kind, doc, entry.record)


Work = tuple[str, str, Optional[bytes], Optional[str], Optional[Stat]]
"""A file to read and validate: its path, as shown, and its bytes, their digest and the stat it was
read with, where the main process read it (else None, and the one that validates it reads it)."""
Read = tuple[Optional[Entry], Optional[bytes], Optional[Stat], list[Problem], Optional[Facts]]
"""What reading a file gave: its entry, or the entry pickled as the cache keeps it, or both (the
entry then outlined); the stat it was read with; the problems of a file that could not be read;
and the facts the cache indexes, where they were asked for."""


def _read_many(work: list[Work], facts: bool = False, outlined: Optional[frozenset[str]] = None,
               sent: bool = False, spilled: bool = False) -> tuple[list[Read], Uses]:
    """Read (where its bytes are not in hand) and validate each file, check each valid record
    on its own (``model.checks``) and gather what the records refer to and use; with ``facts``,
    each entry's facts for the cache, from the same walk of its record.

    With ``outlined`` (see ``load``), each record is kept as its outline, and with ``facts`` its
    entry is pickled whole for the cache first. ``sent``: the entries go back from a worker of the
    pool and are to be cached, so each is sent as its pickle, which the cache keeps as it is
    (the main process unpickles it once, where it keeps the record whole). ``spilled``: each entry
    is pickled whole before it is outlined, to be put aside (``load``'s ``spill``)."""
    out: list[Read] = []
    used = Uses()
    # Records outlined as soon as they are checked do not share their model's keys (``own_keys``).
    with paused(), own_keys() if outlined is not None else nullcontext():
        for path, shown, data, d, st in work:
            if data is None:
                data, problems, st = reader.read_bytes_stat(path, shown)
                if data is None:
                    out.append((None, None, st, problems, None))
                    continue
                d = digest(data)
            loaded = _from_bytes(path, shown, data)
            refs = None
            if loaded.record is not None:  # what it breaks on its own, found while it is fresh in memory
                loaded.doc.problems += record_problems(loaded.record, loaded.doc)
                refs = used.add(loaded.record)
            full = _entry(loaded, d)  # type: ignore[arg-type]
            fact = facts_of(full, refs) if facts else None
            short = _outlined(full, outlined) if outlined is not None else full
            # Pickled whole for the cache (from a worker, or where it is outlined here), or to be
            # put aside where it is outlined (``spilled``).
            keep = (facts and (sent or outlined is not None)) or (spilled and short is not full)
            blob = pickled(full) if keep else None
            entry = None if sent and outlined is None else short
            out.append((entry, blob, st, [], fact))
    return out, used


def _outlined(entry: Entry, archived: frozenset[str]) -> Entry:
    """``entry`` with its record outlined (``model.outline``)."""
    if entry.record is None:
        return entry
    short = outline(entry.record, archived)  # type: ignore[arg-type]
    if short is entry.record:
        return entry
    # Made field by field: ``dataclasses.replace`` looks the fields up again for each of 150,000 records.
    return Entry(entry.digest, entry.kind, entry.data, short, entry.problems, entry.refused)


def _read_for_cache(work: list[Work], outlined: Optional[frozenset[str]] = None,
                    spilled: bool = False) -> tuple[list[Read], Uses]:
    """``_read_many`` in a worker of the pool when the entries are to be cached."""
    return _read_many(work, facts=True, outlined=outlined, sent=True, spilled=spilled)


Progress = Callable[[int, int], None]
"""Told (files done, files in all) as a load goes on."""


def _load_files(paths: list, root: Path, cache: Optional[Cache], jobs: Optional[int],
                progress: Optional[Progress], used: Optional[Uses] = None,
                outlined: Optional[frozenset[str]] = None, spill: Optional[Spill] = None) -> list[Loaded]:
    """Every path loaded, in order: from the cache where its bytes are unchanged, else read
    and validated, by a pool of processes when there are many. ``used`` gathers what the valid
    records refer to and use; ``outlined`` and ``spill`` are ``load``'s."""
    used = Uses() if used is None else used
    out: list[Optional[Loaded]] = [None] * len(paths)
    work: list[tuple[int, bool, Work]] = []
    total = len(paths)
    base = os.path.join(root, RECORDS)
    # A file is read by the main process only to look its bytes up in the cache; with nothing
    # cached, the process that validates a file reads it (in a pool, both cores at once).
    look_up = cache is not None and len(cache) > 0
    for i, path in enumerate(paths):
        name = str(path)
        folder = os.path.dirname(name)
        plain = os.path.dirname(folder) == base and os.path.basename(folder) in FOLDERS and name.endswith(".yaml")
        # A *.yaml of a kind folder is refused only if it is not a regular file, which the reader
        # finds: the path arithmetic of ``refusal`` is left for the files it may refuse.
        shown = name[len(str(root)) + 1:].replace(os.sep, "/") if plain else relpath(path, root)
        refused = None if plain else refusal(path, root, shown)
        if refused is not None:
            out[i] = Loaded(path, shown, None, reader.Document(shown, problems=[refused]))
            continue
        if not look_up:
            work.append((i, plain, (path, shown, None, None, None)))
            continue
        data, problems, st = reader.read_bytes_stat(path, shown)
        if data is None:
            out[i] = _unread(path, root, shown, plain, problems)
            continue
        d = digest(data)
        entry = cache.get(shown, d, st)  # type: ignore[union-attr]
        if entry is not None:
            if entry.record is not None:
                used.add(entry.record)
            short = entry if outlined is None else _outlined(entry, outlined)
            out[i] = item = _loaded(path, shown, short)
            if spill is not None and short is not entry:
                item.spilled = spill.add(pickled(entry))
        else:
            work.append((i, plain, (path, shown, data, d, st)))
    done = total - len(work)
    if progress:
        progress(done, total)
    n = workers(jobs, len(work), POOL_FILES)
    size = max(1, min(_CHUNK, -(-len(work) // (4 * n))))  # a few chunks a process, to even out the load
    chunks = [work[k:k + size] for k in range(0, len(work), size)]
    spilled = spill is not None
    read = partial(_read_many if cache is None else _read_for_cache, outlined=outlined, spilled=spilled)

    def here(chunk: list) -> tuple[list[Read], Uses]:
        return _read_many([w[2] for w in chunk], cache is not None, outlined, spilled=spilled)

    def there(chunk: list) -> tuple[list[Read], Uses]:  # in a worker: its entries go back pickled
        return read([w[2] for w in chunk])

    def take(chunk: list, got: tuple[list[Read], Uses]) -> None:
        nonlocal done
        done = _keep(root, chunk, got, out, cache, used, done, total, progress, spill)

    if n > 1 and len(chunks) > 1:
        # Forked workers share the chunks and each takes the next as soon as it is free, while the
        # main process validates chunks too (``pulled``). Where nothing forks (macOS, Windows), a
        # pool is sent each chunk (``share_out``).
        if pulled(there, chunks, n, lambda i, got: take(chunks[i], got), local=here):
            return out  # type: ignore[return-value]
        if forking() is None:
            from concurrent.futures import ProcessPoolExecutor

            with ProcessPoolExecutor(n - 1) as pool:
                share_out(n, chunks, lambda chunk: pool.submit(read, [w[2] for w in chunk]), here, take)
            return out  # type: ignore[return-value]
    for chunk in chunks:
        take(chunk, here(chunk))
    return out  # type: ignore[return-value]


def _unread(path: Path, root: Path, shown: str, plain: bool, problems: list[Problem]) -> Loaded:
    """The ``Loaded`` of a file that could not be read: why (a file of a kind folder that is not a
    regular file is told so by ``refusal``), else the reader's problems."""
    refused = refusal(path, root, shown) if plain else None
    return Loaded(path, shown, None, reader.Document(shown, problems=[refused] if refused else problems))


def _keep(root: Path, chunk: list, got: tuple[list, Uses], out: list, cache: Optional[Cache], used: Uses,
          done: int, total: int, progress: Optional[Progress], spill: Optional[Spill] = None) -> int:
    """Take in what a chunk gave: entries, or their pickles, or both (``_read_many``), their facts,
    and what their records use; a record outlined is put aside whole in ``spill``."""
    read, uses_ = got
    used.update(uses_)
    for (i, plain, (path, shown, _, _, _)), (entry, blob, st, problems, facts) in zip(chunk, read):
        if entry is None and blob is None:
            out[i] = _unread(path, root, shown, plain, problems)
            continue
        if entry is None:
            entry = pickle.loads(blob)
        out[i] = item = _loaded(path, shown, entry)
        if spill is not None and blob is not None and entry.record is not None and not isinstance(entry.record, Record):
            item.spilled = spill.add(blob)
        if cache is not None:
            cache.put(shown, entry, st, facts, blob)
    done += len(chunk)
    if progress:
        progress(done, total)
    return done


def load(root: Path, paths: Optional[Iterable[Path]] = None, *, cache: bool = False,
         jobs: Optional[int] = None, progress: Optional[Progress] = None,
         referring_to: Iterable[str] = (), outlines: Optional[Iterable[str]] = None,
         spill: Optional[Spill] = None) -> tuple[Dataset, list[Loaded]]:
    """Read the records under ``root/records`` plus any ``paths`` (files or folders).

    Returns the dataset of every record that validated, and every file read. The files named
    by ``paths`` (all records when None) are targets; the other records of the repository are
    read as context, so that references resolve, and their problems are not reported.

    ``cache`` keeps what each file gave in ``root/.cache`` (see ``repo.cache``) and reads
    again only the files whose bytes changed; ``jobs`` is the number of processes that read
    (default: one per core once there are ``POOL_FILES`` files to read, else one); neither
    changes the result. ``progress`` is told how many files are done.

    With ``paths`` and a cache that has met the whole repository, the context is only what the
    rules across records draw on for the targets (``_near``): the records they refer to (and
    the chains of lineage, parts and replacements from those), the records that refer to them
    or to an id of ``referring_to``, records of the same id or file name, the claims whose
    statements share enough words to be near-duplicates, and the vocabularies. Each of those
    files is read again unless its size, time and inode are those the cache read it with; the
    other files are not looked at. ``validate`` with no path reads everything.

    ``outlines``, for a load of the whole repository whose records are only checked: each claim
    and source is kept as its outline (``model.outline``: what the rules across records read of
    it, a tenth of its memory), except a claim reporting from, or a source that is, one of the
    sources whose ids it names (those whose text is archived). ``whole`` reads a record again.
    With ``spill`` too, each record kept as its outline is put aside whole there (``repo.spill``),
    for ``Dataset.wholes`` to read back.
    """
    # Absolute paths, so that a file named from a subfolder and the same file found under
    # records/ are one file to every rule.
    root = Path(os.path.abspath(root))
    store = Cache(root) if cache else None
    targets = record_entries(root) if paths is None else [os.path.abspath(p) for p in expand(paths)]
    # Past a few thousand targets, reading everything at once is the quicker way.
    near = paths is not None and store is not None and len(targets) < POOL_FILES and store.knows_all
    used = None if near else Uses()
    with paused():  # records are acyclic: collecting while building them only costs time
        if near:
            assert store is not None
            everything = _near(root, targets, store, jobs, set(referring_to))
        else:
            context: list[str] = []
            if paths is not None:
                seen = set(targets)
                context = [p for p in record_entries(root) if p not in seen]
            if store is not None:
                store.prefetch()
            outlined = None if outlines is None or paths is not None else frozenset(outlines)
            everything = _load_files(targets + context, root, store, jobs, progress, used, outlined,
                                     spill if outlined is not None else None)
            if spill is not None:
                spill.flush()
        if store is not None:
            store.save(complete=not near)
    if gc.isenabled():
        # What was just built would otherwise be walked by the collector's next few passes
        # (millions of objects, for nothing: they hold no cycles, and are still freed when
        # no longer used); frozen, the collector only looks at what comes after.
        gc.freeze()
    loaded, context_loaded = everything[:len(targets)], everything[len(targets):]
    for item in context_loaded:
        item.target = False
    dataset = Dataset(root, used=used, spill=spill)
    if near:
        assert store is not None
        gone = {Path(name).stem for name in store.missing}
        dataset.known = lambda kind: (set(store.ids(kind)) - gone) | set(dataset.table(kind))
    for item in loaded + context_loaded:
        if item.record is None:
            rid = item.doc.data.get("id") if isinstance(item.doc.data, dict) else None
            if item.kind and isinstance(rid, str):
                dataset.invalid.add((item.kind, rid))
            continue
        table = dataset.table(item.kind)
        rid = item.record.id
        if rid not in table:
            table[rid] = item.record
            dataset.files[rid] = item
    return dataset, loaded + context_loaded


def whole(item: Loaded) -> Optional[Record]:
    """The record of ``item`` as its model, read again from its file where the load kept its
    outline (``load``'s ``outlines``)."""
    record = item.record
    if record is None or isinstance(record, Record):
        return record
    data, _ = reader.read_bytes(item.path, item.shown)
    return _from_bytes(item.path, item.shown, data).record if data is not None else None


def _chain(record: Record) -> set[str]:
    """The ids a record leads to along the relations whose cycles are errors (lineage, parts,
    replacements): a cycle through a target passes only through records reached this way."""
    if isinstance(record, Source):
        return {target for _, target in lineage_edges(record)}
    if isinstance(record, Entity):
        return {record.part_of} if record.part_of else set()
    if isinstance(record, Claim):
        out = {x.claim for x in record.links if x.type == "part-of"}
        if record.withdrawal and record.withdrawal.replaced_by:
            out.add(record.withdrawal.replaced_by)
        return out
    return set()


def _near(root: Path, targets: list[str], store: Cache, jobs: Optional[int], referring_to: set[str]) -> list[Loaded]:
    """The targets, read, then the records the rules across records draw on for them (see ``load``)."""
    loaded = _load_files(targets, root, store, jobs, None)
    have: dict[str, Loaded] = {item.shown: item for item in loaded}
    context: list[Loaded] = []

    def add(shown: Iterable[str]) -> list[Loaded]:
        new = []
        for name in sorted(set(shown) - have.keys()):
            path = root / name
            try:
                st = os.lstat(path)
            except OSError:
                store.missing.add(name)  # gone since the cache met it
                continue
            entry = store.fresh(name, (st.st_size, st.st_mtime_ns, st.st_ino)) if stat.S_ISREG(st.st_mode) else None
            item = _loaded(path, name, entry) if entry is not None else _load_files([path], root, store, 1, None)[0]
            have[name] = item
            context.append(item)
            new.append(item)
        return new

    def by_id(ids: set[str]) -> set[str]:
        """The files of these ids: where the cache saw them, and where a new one would be."""
        out = store.shown_of_ids(ids)
        for rid in ids:
            kind = of_id(rid)
            if kind is not None and os.path.lexists(root / kind.folder / f"{rid}.yaml"):
                out.add(f"{kind.folder}/{rid}.yaml")
        return out

    vocabularies = root / kind_named("vocabulary").folder
    try:
        add(f"{kind_named('vocabulary').folder}/{e.name}" for e in os.scandir(vocabularies))
    except OSError:
        pass
    ids = {_raw_id(item) for item in loaded} - {None}
    add(by_id(ids))  # type: ignore[arg-type]
    add(store.shown_of_names(folded_name(item.shown) for item in loaded))
    add(store.referring(ids))  # type: ignore[arg-type]
    # The records referring to a removed id are validated as targets (``check.validate``): what
    # they refer to is read as for the targets.
    judged = loaded + [item for item in add(store.referring(referring_to)) if item.record is not None and any(
        rid in referring_to for _, _, rid in references(item.record))]
    statements = [statement_words(item.record.statement) for item in loaded
                  if isinstance(item.record, Claim) and item.record.status != "withdrawn"]
    if statements:
        count = store.word_counts(set().union(*statements))
        add(store.with_words(set().union(*(blocking_words(w, count) for w in statements))))
    reached = add(by_id({rid for item in judged if item.record is not None for _, _, rid in references(item.record)}))
    todo = [item for item in judged + reached if item.record is not None]
    while todo:
        todo = [item for item in add(by_id(set().union(*(_chain(i.record) for i in todo)))) if item.record is not None]
    return loaded + context


def _raw_id(item: Loaded) -> Optional[str]:
    if item.record is not None:
        return item.record.id
    rid = item.doc.data.get("id") if isinstance(item.doc.data, dict) else None
    return rid if isinstance(rid, str) else None
