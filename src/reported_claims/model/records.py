"""The record models: the one hand-written definition of what a record is.

The JSON Schemas under ``schema/`` and the Table Schemas of the data package are generated
from these classes; the attribute docstrings become the schemas' descriptions.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import inspect
import pickle
import sys
from dataclasses import dataclass
from contextlib import contextmanager
from typing import Annotated, Any, Iterable, Iterator, Literal, Optional

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from reported_claims.model.types import (
    ClaimId,
    EntityId,
    Line,
    PartialDate,
    PastDate,
    PLACEHOLDER_TERM,
    Period,
    SourceId,
    Term,
    Text,
    Url,
)


class _NoItems(list):
    """The empty list a list field holds when a record does not give it: one for every record,
    which refuses to be changed (a record is frozen). An empty list of its own for each field a
    record leaves out was half the lists of a repository, at 56 bytes each (287,000 of 603,000 in
    the records of 30,000 claims). Equal to ``[]``, a ``list`` to ``isinstance``, pydantic and
    orjson, and pickled and copied as itself."""

    __slots__ = ()

    def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError("a record's lists cannot be changed: make a new record (model_copy(update=...))")

    append = extend = insert = remove = pop = clear = sort = reverse = _refuse
    __setitem__ = __delitem__ = __iadd__ = __imul__ = _refuse

    def __reduce__(self) -> Any:
        return _no_items, ()

    def __copy__(self) -> "_NoItems":
        return self

    def __deepcopy__(self, memo: Any) -> "_NoItems":
        return self


NO_ITEMS = _NoItems()


def _no_items() -> list:
    return NO_ITEMS


def many() -> Any:
    """The default of a list field: the one empty list records share (``_NoItems``), written in
    the schemas as ``"default": []``."""
    return Field(default_factory=_no_items, json_schema_extra={"default": []})


# --- vocabulary terms ---------------------------------------------------------------------


@dataclass(frozen=True)
class InVocabulary:
    """Marks a ``Term`` field with the vocabulary its terms come from (``model.graph`` reads it)."""

    vocabulary: str


TopicTerm = Annotated[Term, InVocabulary("topics")]
ItemTerm = Annotated[Term, InVocabulary("items")]
RoleTerm = Annotated[Term, InVocabulary("roles")]
StatusTerm = Annotated[Term, InVocabulary("statuses")]
SourceKindTerm = Annotated[Term, InVocabulary("source-kinds")]
EntityKindTerm = Annotated[Term, InVocabulary("entity-kinds")]
AttributionKindTerm = Annotated[Term, InVocabulary("attribution-kinds")]
ModalityTerm = Annotated[Term, InVocabulary("modalities")]

def _flag(value: object) -> bool:
    """``true`` or ``false`` only: YAML 1.1's ``yes``, ``on`` or ``1`` are not read as booleans."""
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return value == "true"
    if value == PLACEHOLDER_TERM:
        raise PydanticCustomError("placeholder", "placeholder not filled in: write true or false")
    raise PydanticCustomError("invalid-type", "{value} is not a boolean: write true or false", {"value": repr(value)})


Flag = Annotated[bool, BeforeValidator(_flag)]
"""A boolean written ``true`` or ``false``."""

# --- shared base --------------------------------------------------------------------------


def attribute_docstrings(cls: type) -> dict[str, str]:
    """The docstrings written under the attributes of ``cls`` (its own body, not its bases')."""
    return _attribute_docstrings(cls.__module__).get(cls.__qualname__, {})


@functools.cache
def _attribute_docstrings(module: str) -> dict[str, dict[str, str]]:
    """Each class of ``module`` (by qualified name) -> each attribute -> the docstring under it.

    What pydantic's ``use_attribute_docstrings`` finds (an annotated attribute followed by a
    string), read with one parse of the module instead of a search of the source for each class,
    which was a tenth of the time a command took to start.
    """
    try:
        tree = ast.parse(inspect.getsource(sys.modules[module]))
    except (OSError, TypeError, KeyError):  # no source to read (a frozen build): no descriptions
        return {}
    out: dict[str, dict[str, str]] = {}

    def visit(body: list, prefix: str) -> None:
        for node in body:
            if isinstance(node, ast.ClassDef):
                name = prefix + node.name
                docs = out.setdefault(name, {})
                for before, after in zip(node.body, node.body[1:]):
                    if (isinstance(before, ast.AnnAssign) and isinstance(before.target, ast.Name)
                            and isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant)
                            and isinstance(after.value.value, str)):
                        docs[before.target.id] = inspect.cleandoc(after.value.value)
                visit(node.body, name + ".")

    visit(tree.body, "")
    return out


_FIELDS_SETS: dict[frozenset, set] = {}
_object_setattr = object.__setattr__  # a frozen model's own attributes are set past its __setattr__


def _shared(names: Iterable[str]) -> set:
    """The one set of these field names that records giving them share (pydantic's serializer
    takes a set, not a frozen set; no frozen record adds to it, and pydantic gives a copy a set of its own)."""
    key = frozenset(names)
    shared = _FIELDS_SETS.get(key)
    if shared is None:
        shared = _FIELDS_SETS[key] = set(key)
    return shared


_KEYS = [True]
"""Whether a record made now shares its model's keys (``model_post_init``); see ``own_keys``."""


@contextmanager
def own_keys() -> Iterator[None]:
    """Records made within the block keep the dictionary pydantic gives each rather than take one
    that shares their model's keys: for records outlined as soon as they are checked (a lean load,
    ``repo.load``), which sharing would cost a twentieth of a validation for no memory kept."""
    before = _KEYS[0]
    _KEYS[0] = False
    try:
        yield
    finally:
        _KEYS[0] = before


_LAYOUTS: dict[type, tuple[tuple[str, ...], bytes]] = {}
_GIVEN: dict[tuple[type, int], set] = {}
_MASKS: dict[tuple[type, int], tuple[set, int]] = {}


def _layout(cls: type) -> tuple[tuple[str, ...], bytes]:
    """A model's field names in order, and a digest of them that a pickle carries."""
    made = _LAYOUTS.get(cls)
    if made is None:
        names = tuple(cls.__pydantic_fields__)  # type: ignore[attr-defined]
        made = _LAYOUTS[cls] = (names, hashlib.blake2b("\0".join(names).encode(), digest_size=16).digest())
    return made


class LayoutChanged(pickle.UnpicklingError):
    """A pickled record whose model had other fields, in another order, than this code's."""


def _rebuilt(cls: type, layout: bytes, values: tuple, mask: int) -> "Record":
    """A record from its pickle (``Record.__reduce_ex__``), its keys the model's own strings."""
    names, own = _layout(cls)
    if layout != own:
        raise LayoutChanged(f"a {cls.__name__} pickled when the model had other fields; read it with that version")
    given = _GIVEN.get((cls, mask))
    if given is None:
        given = _GIVEN[cls, mask] = _shared(n for i, n in enumerate(names) if mask >> i & 1)
    record = cls.__new__(cls)
    # The dictionary a new record of the model starts with shares the model's keys (CPython's
    # split dictionaries): filled in field order, it holds only the values, half the memory of a
    # dictionary of its own.
    record.__dict__.update(zip(names, values))
    _object_setattr(record, "__pydantic_fields_set__", given)
    _object_setattr(record, "__pydantic_extra__", None)
    _object_setattr(record, "__pydantic_private__", None)
    return record


class Record(BaseModel):
    """Base of every model: unknown fields are errors and the docstrings are descriptions."""

    # The validators are built when a model is first used (``defer_build``): a command that reads
    # claims does not pay for building the published models, and a nested model's own validator is
    # built only if it is used alone.
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        defer_build=True,
        str_strip_whitespace=False,
        validate_default=False,
    )

    # The names of the fields a record gives are kept with each record as a set, which takes as
    # much memory as the rest of a small record; most records of a model give the same fields. A
    # frozen model never adds to it, so records giving the same fields share one set.
    def model_post_init(self, context: Any, /) -> None:
        if not _KEYS[0]:  # outlined as soon as it is checked: nothing of it is kept to share
            return
        _object_setattr(self, "__pydantic_fields_set__", _shared(self.__pydantic_fields_set__))
        # pydantic gives the record a dictionary of its own: it takes instead the one a new record
        # of the model starts with, which shares its keys with the model's other records (as
        # ``_rebuilt`` does), in half the memory. 0.84 of the peak of a validate of 100,000 claims.
        cls = type(self)
        shared = cls.__new__(cls).__dict__
        shared.update(self.__dict__.items())  # item by item: a whole dictionary would be copied as it is
        _object_setattr(self, "__dict__", shared)

    def __setstate__(self, state: dict[Any, Any]) -> None:
        super().__setstate__(state)
        _object_setattr(self, "__pydantic_fields_set__", _shared(self.__pydantic_fields_set__))

    # Pickled as its values in field order, which of them were given, and a digest of the
    # fields' names: pydantic's own state repeats every name in every record, and the records it
    # rebuilds keep those copies as their keys. The cache and the pool's workers pickle every record.
    def __reduce_ex__(self, protocol: Any) -> Any:
        cls = type(self)
        names, layout = _layout(cls)
        state = self.__dict__
        if len(state) != len(names) or self.__pydantic_extra__ or self.__pydantic_private__:
            return super().__reduce_ex__(protocol)
        given = self.__pydantic_fields_set__
        known = _MASKS.get((cls, id(given)))
        if known is not None and known[0] is given:
            mask = known[1]
        else:
            mask = sum(1 << i for i, name in enumerate(names) if name in given)
            if _FIELDS_SETS.get(frozenset(given)) is given:  # a shared set lives as long as the process
                _MASKS[cls, id(given)] = (given, mask)
        return _rebuilt, (cls, layout, tuple(map(state.__getitem__, names)), mask)

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        # The attribute docstrings become the fields' descriptions before the (deferred) schema is built.
        docs = attribute_docstrings(cls)
        for name, info in cls.__pydantic_fields__.items():
            if info.description is None and name in docs:
                info.description = docs[name]
        super().__pydantic_init_subclass__(**kwargs)
        # The keys a model's records share are laid down by the first record to set its fields
        # one at a time: one that sets them all, in field order, as the model is defined. (Measured
        # on CPython 3.11: where records pydantic had made came first, the keys were not shared
        # and every record got a dictionary of its own all the same.)
        first = cls.__new__(cls)
        for name in cls.__pydantic_fields__:
            _object_setattr(first, name, None)


# --- vocabularies -------------------------------------------------------------------------


class VocabularyTerm(Record):
    """One term of a controlled vocabulary."""

    id: Term
    """Stable id of the term, used in records. Never reuse or rename it; deprecate it instead."""
    label: Line
    """Human-readable name of the term."""
    description: Text
    """What the term covers, precisely enough to choose between neighbouring terms."""
    deprecated: Optional[Line] = None
    """Set when the term must no longer be used in new records: why, and what to use instead."""


class Vocabulary(Record):
    """A controlled vocabulary: the terms a field of the records may take."""

    id: Literal["topics", "items", "roles", "statuses", "source-kinds", "entity-kinds", "attribution-kinds",
                "modalities"]
    """Which vocabulary this is; also the file name."""
    title: Line
    """Human-readable title of the vocabulary."""
    description: Text
    """Which record field uses the vocabulary, and how to choose a term."""
    terms: list[VocabularyTerm] = Field(min_length=1)
    """The terms, in the order they are presented."""


# --- entities -----------------------------------------------------------------------------


def _check_country(value: str) -> str:
    import pycountry  # imported here: only validation needs the country list

    if pycountry.countries.get(alpha_2=value) is None:
        raise PydanticCustomError(
            "unknown-country", "{value} is not an ISO 3166-1 alpha-2 country code", {"value": repr(value)}
        )
    return value


Country = Annotated[
    str,
    Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2 country code, e.g. `CN`."),
    AfterValidator(_check_country),
]


class ExternalIds(Record):
    """Identifiers of the entity in other databases."""

    wikidata: Optional[Annotated[str, Field(pattern=r"^Q[1-9][0-9]{0,11}$")]] = None
    """Wikidata item id, e.g. `Q148`."""
    lei: Optional[Annotated[str, Field(pattern=r"^[A-Z0-9]{18}[0-9]{2}$")]] = None
    """Legal Entity Identifier (ISO 17442), 20 characters."""
    opensanctions: Optional[Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{1,99}$")]] = None
    """OpenSanctions entity id."""
    website: Optional[Url] = None
    """The entity's official website."""


class Entity(Record):
    """A government, agency, company, research institute, person, organisation or country."""

    id: EntityId
    """Stable id; also the file name. Never reused or deleted."""
    name: Line
    """The name most commonly used in English."""
    aliases: list[Line] = many()
    """Other names and spellings used by sources, including names in other scripts."""
    kind: EntityKindTerm
    """What sort of entity this is: a term of the `entity-kinds` vocabulary."""
    country: Optional[Country] = None
    """The country the entity belongs to or is based in (ISO 3166-1 alpha-2)."""
    part_of: Optional[EntityId] = None
    """The entity this one belongs to: a ministry's government, an official's office."""
    ids: Optional[ExternalIds] = None
    """Identifiers in other databases."""
    description: Optional[Text] = None
    """A short neutral description that tells this entity apart from others of the same name."""


# --- sources ------------------------------------------------------------------------------

Relation = Literal["reprint", "rewrite", "summary", "translation", "excerpt"]


class Derivation(Record):
    """A source this one republishes or rewrites."""

    source: SourceId
    """The source it derives from."""
    relation: Relation
    """How: `reprint` (the same text), `rewrite` (reworded), `summary`, `translation`, `excerpt`."""
    note: Optional[Text] = None
    """How the derivation is known, e.g. the text matches sentence for sentence."""


LedgerReason = Literal["navigation", "background", "opinion", "duplicate", "out-of-scope", "attribution"]


class NotRecorded(Record):
    """A sentence of an archived text that no report quotes, and why."""

    quote: Text
    """The sentence, copied exactly from the archived text (a heading or byline line counts as one)."""
    reason: LedgerReason
    """Why it is not recorded: `navigation` (title, section head, byline, credit, footer),
    `background` (context that is not a claim of the collection), `opinion` (the writer's own view),
    `duplicate` (repeats another sentence of the text), `out-of-scope` (a claim outside the
    collection), `attribution` (only says who said or reported something)."""
    note: Optional[Line] = None
    """Anything more about the choice."""


class Source(Record):
    """An article, official statement, testimony, call readout, report or dataset."""

    id: SourceId
    """Stable id; also the file name. Never reused or deleted."""
    kind: SourceKindTerm
    """What sort of source: a term of the `source-kinds` vocabulary."""
    title: Line
    """The title as published, or a descriptive title in [brackets] when it has none."""
    publisher: Optional[EntityId] = None
    """Who published it: an entity id. Omit when the publisher is unknown."""
    url: Optional[Url] = None
    """Where it was published (http or https)."""
    published: Optional[PartialDate] = None
    """When it was published, as precise as known (`YYYY-MM-DD`, `YYYY-MM`, `YYYY`); omit when unknown."""
    retrieved: Optional[PartialDate] = None
    """When its text was retrieved for the archive, as precise as known."""
    seen: Flag
    """Whether its text was read and archived under `archive/<id>.txt` (`true`), or it is only known
    from what other sources say of it (`false`)."""
    authors: list[Line] = many()
    """Named authors, as credited."""
    language: Annotated[str, Field(pattern=r"^[a-z]{2,3}(-[A-Z]{2})?$")] = "en"
    """Language of the text (BCP 47, e.g. `en`, `zh`, `en-GB`)."""
    derived_from: list[Derivation] = many()
    """Sources this one republishes or rewrites: a reprint of a wire story names the wire story."""
    attributes_to: list[SourceId] = many()
    """Primary sources that this source attributes its claims to (a briefing, a report, a readout)."""
    text_sha256: Optional[Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]] = None
    """SHA-256 of the archived text under `archive/<id>.txt`, against which quotes are checked."""
    not_recorded: list[NotRecorded] = many()
    """The ledger of the archived text: each sentence that no report quotes, with the reason it is
    not recorded, so that every sentence of the text is accounted for."""
    notes: Optional[Text] = None
    """Anything a reader needs to weigh the source: how it was identified, what is uncertain."""

    @model_validator(mode="after")
    def _seen(self) -> "Source":
        if not self.seen and (self.text_sha256 or self.not_recorded or self.retrieved):
            raise PydanticCustomError(
                "seen-mismatch",
                "`text_sha256`, `retrieved` and `not_recorded` are for a source whose text was seen and "
                "archived: set `seen: true` or remove them",
            )
        return self


# --- claims -------------------------------------------------------------------------------

Hedge = Literal["exact", "about", "nearly", "over", "at-least", "under", "up-to"]
LinkType = Literal["denies", "contradicts", "supports", "updates", "same-as", "responds-to", "related", "part-of"]
Act = Literal["asserts", "estimates", "denies", "warns", "urges", "asks", "suggests", "questions", "promises"]
ACT_STRENGTH: dict[str, int] = {
    "questions": 0, "suggests": 1, "asks": 2, "urges": 2, "promises": 2, "warns": 2,
    "estimates": 3, "asserts": 4, "denies": 4,
}
"""How strongly each act commits the speaker to the statement: a claim never states more
strongly than its strongest report (a question reported as a question stays a question)."""
Fit = Literal["exact", "narrower", "broader", "partial"]
COUNTED_FITS = ("exact", "narrower")
"""The fits of the reports that carry a claim: broader and partial ones are listed, not counted."""
AttributionMode = Literal["explicit", "implied", "none"]
Unit = Annotated[
    str,
    Field(
        pattern=r"^(percent|count|times|[A-Z]{3})$",
        description="`percent`, `count`, `times` (a multiple) or an ISO 4217 currency code such as `USD`.",
    ),
]
Amount = Annotated[float, Field(ge=0, allow_inf_nan=False)]


class Claimant(Record):
    """Who made the claim and how the sources attribute it."""

    entity: EntityId
    """The claimant: a person, office, government or organisation."""
    attribution: AttributionKindTerm
    """How the claim is attributed: a term of the `attribution-kinds` vocabulary."""
    description: Optional[Line] = None
    """The claimant as the sources describe them, e.g. `two senior Biden administration officials`."""
    via: Optional[SourceId] = None
    """The primary source in which the claimant made the claim (a briefing, a testimony...)."""


class EntityRole(Record):
    """An entity the claim is about, and its role in it."""

    entity: EntityId
    """The entity."""
    role: RoleTerm
    """Its role in the claim: a term of the `roles` vocabulary."""


class Quantity(Record):
    """A figure the claim states, in normalised form."""

    id: Term
    """Id of the quantity within the claim, referred to by the reports' figures."""
    measure: Line
    """What is measured, in words, e.g. `share of Russia's microelectronics imports from China`."""
    value: Amount
    """The number, finite and not negative: `90` for 90 %, `900000000` for $900 million."""
    unit: Unit
    compared_to: Optional[Line] = None
    """For a multiple or ratio (`times`): what it compares against, e.g. `the US and Europe combined`."""
    share_of: Optional[Line] = None
    """For a percentage: the whole it is a share of."""
    hedge: Hedge = "exact"
    """How the figure is qualified: `about`, `nearly`, `over`, `at-least`, `under`, `up-to` or `exact`."""
    period: Optional[Period] = None

    @model_validator(mode="after")
    def _percent(self) -> "Quantity":
        if self.unit == "times" and self.compared_to is None:
            raise PydanticCustomError(
                "missing-compared-to", "a multiple (`unit: times`) needs `compared_to`: what it compares against"
            )
        if self.unit == "percent":
            if self.value > 100:
                raise PydanticCustomError(
                    "share-over-100", "a share of {value} percent is above 100", {"value": self.value}
                )
            if self.share_of is None:
                raise PydanticCustomError(
                    "missing-share-of", "a percentage needs `share_of`: the whole it is a share of"
                )
        return self


class Figure(Record):
    """A figure as one source gave it."""

    quantity: Term
    """The id of the claim's quantity this figure reports."""
    text: Line
    """The figure exactly as printed, e.g. `over 70%` or `nearly $900 million`."""
    value: Amount
    """The number the source gave."""
    unit: Unit
    hedge: Hedge = "exact"
    """The qualifier the source used."""
    share_of: Optional[Line] = None
    """The whole this source gives the share of, in its words, where it differs from the claim's."""
    period: Optional[Period] = None
    """The period this source gives the figure for, where it differs from the claim's."""
    compared_to: Optional[Line] = None
    """What this source compares a multiple against, where it differs from the claim's."""


class Report(Record):
    """One source carrying the claim, in its own words."""

    source: SourceId
    """The source that carries the claim."""
    quote: Text
    """The passage that carries the claim, copied exactly from the source; `...` marks an elision."""
    claimant: EntityId
    """Which of the claim's claimants this report attributes the claim to (for the writer's own
    voice, the publishing news organisation)."""
    attribution: AttributionKindTerm
    """The attribution as this report gives it: a term of the `attribution-kinds` vocabulary (the
    same briefing can be `anonymous-officials` in one report and `intelligence` in another)."""
    attribution_mode: AttributionMode
    """How the report attributes the claim: `explicit` (in the quoted words), `implied` (only the
    context does, see `attribution_context`), or `none` (the writer's own voice)."""
    attributed_to: Optional[Line] = None
    """Whom the source attributes the claim to, in its own words: part of `quote` when the mode is
    `explicit`, of `attribution_context` when `implied`; none when the mode is `none`."""
    attribution_context: Optional[Text] = None
    """For an `implied` attribution: the sentence of the source that carries it, copied exactly."""
    fit: Fit
    """How the quote relates to the claim's statement: `exact`, `narrower` (it says the claim of a
    narrower scope), `broader` (something more general) or `partial` (only part of it). Only exact
    and narrower reports count as carrying the claim."""
    act: Optional[Act] = None
    """The speech act as this report gives it, when it differs from the claim's (a question
    reported as an assertion, an estimate as a fact)."""
    modality: Optional[ModalityTerm] = None
    """The report's hedging of the whole claim, normalised: a term of the `modalities` vocabulary."""
    modality_text: Optional[Line] = None
    """The modality words as written in the quote, e.g. `are also believed`."""
    derived_from: list[SourceId] = many()
    """The sources this passage was taken from, for a source that derives only in part from
    others (an article mixing a wire story with reporting of its own). The claim's origins then
    follow these instead of the source's own `derived_from`."""
    figures: list[Figure] = many()
    """The figures as this source gave them, when they differ in wording or value from others."""
    terms: list[Line] = many()
    """The source's own words for the items or parties, where they differ, e.g. `computer chips`."""
    note: Optional[Text] = None
    """How this report differs from the claim or from other reports."""

    @property
    def counted(self) -> bool:
        """Whether this report carries the claim (fit exact or narrower) and counts in its origins."""
        return self.fit in COUNTED_FITS

    @model_validator(mode="after")
    def _attribution(self) -> "Report":
        mode, words = self.attribution_mode, self.attributed_to
        if mode == "explicit" and not (words and words in self.quote):
            raise PydanticCustomError(
                "attribution-not-in-quote",
                "an explicit attribution stands in the quote: `attributed_to` must be words of `quote`"
                "{got}; or set `attribution_mode: implied` with the `attribution_context` that carries it",
                {"got": f" ({words!r} is not)" if words else " and is missing"},
            )
        if mode == "implied":
            if not self.attribution_context:
                raise PydanticCustomError(
                    "missing-attribution-context",
                    "an implied attribution needs `attribution_context`: the sentence that carries it",
                )
            if not (words and words in self.attribution_context):
                raise PydanticCustomError(
                    "attribution-not-in-quote",
                    "`attributed_to` must be words of `attribution_context` for an implied attribution",
                )
        if mode != "implied" and self.attribution_context:
            raise PydanticCustomError(
                "attribution-mismatch", "`attribution_context` is only for `attribution_mode: implied`"
            )
        if mode == "none" and words:
            raise PydanticCustomError(
                "attribution-mismatch",
                "`attribution_mode: none` (the writer's own voice) has no `attributed_to`; remove it or "
                "set the mode to explicit or implied",
            )
        if (self.modality is None) != (self.modality_text is None):
            raise PydanticCustomError(
                "modality-mismatch", "`modality` and `modality_text` (the words as written) go together"
            )
        if self.modality_text and self.modality_text not in self.quote:
            raise PydanticCustomError(
                "modality-not-in-quote", "`modality_text` must be words of `quote`: {words!r} is not",
                {"words": self.modality_text},
            )
        return self


class ClaimLink(Record):
    """A typed link from this claim to another."""

    type: LinkType
    """`denies`, `contradicts`, `supports`, `updates`, `same-as`, `responds-to`, `related` (a
    neutral link between claims on one matter) or `part-of` (this claim is part of the other)."""
    claim: ClaimId
    """The other claim."""
    note: Optional[Text] = None
    """Why the link holds."""


class Withdrawal(Record):
    """Why and when a record was withdrawn. The record stays; its id is never reused."""

    date: PastDate
    """When it was withdrawn."""
    reason: Text
    """Why: a duplicate of another claim, a misreading of the source, a retraction..."""
    replaced_by: Optional[ClaimId] = None
    """The claim that replaces it, if any."""


class Claim(Record):
    """One claim reported in the news: who claimed what, and who reported it in which words."""

    id: ClaimId
    """Stable id; also the file name. Never reused or deleted: withdraw instead."""
    statement: Line
    """The claim in one neutral sentence, attributing nothing and judging nothing. It says no more
    than its reports: a claim its claimant only asked or suggested is written as what was asked."""
    act: Act
    """The speech act of the claim as its claimant made it: `asserts`, `estimates`, `denies`,
    `warns`, `urges`, `asks`, `suggests`, `questions` or `promises`."""
    topic: TopicTerm
    """The main topic: a term of the `topics` vocabulary."""
    items: list[ItemTerm] = many()
    """Goods and technologies the claim is about: terms of the `items` vocabulary."""
    claimants: list[Claimant] = Field(min_length=1)
    """Who made the claim, as the sources attribute it."""
    entities: list[EntityRole] = many()
    """The entities the claim is about, with their roles."""
    made: Optional[PartialDate] = None
    """When the claim was made (`YYYY-MM-DD`, `YYYY-MM` or `YYYY`), from its primary source or its
    reports; distinct from when each report was published."""
    period: Optional[Period] = None
    quantities: list[Quantity] = many()
    """The figures the claim states, normalised."""
    status: StatusTerm = "reported"
    """Where the claim stands: a term of the `statuses` vocabulary (`withdrawn` needs `withdrawal`)."""
    withdrawal: Optional[Withdrawal] = None
    """Set when the record is withdrawn."""
    links: list[ClaimLink] = many()
    """Typed links to other claims."""
    reports: list[Report] = many()
    """Each source that carries the claim, with its verbatim quote and its own figures and wording."""
    notes: Optional[Text] = None
    """Where the reports disagree (a hedge, a term, a date) and anything else a reader must know."""

    @field_validator("reports")
    @classmethod
    def _has_report(cls, reports: list[Report]) -> list[Report]:
        if not reports:
            raise PydanticCustomError(
                "claim-without-report", "a claim needs at least one report: a source and its quote"
            )
        return reports

    @model_validator(mode="after")
    def _consistency(self) -> "Claim":
        if (self.status == "withdrawn") != (self.withdrawal is not None):
            raise PydanticCustomError(
                "withdrawal-mismatch",
                "`status: withdrawn` and `withdrawal` (date and reason) go together",
            )
        ids = [q.id for q in self.quantities]
        if len(set(ids)) != len(ids):
            raise PydanticCustomError("duplicate-quantity", "two quantities share an id")
        for report in self.reports:
            for figure in report.figures:
                if figure.quantity not in ids:
                    raise PydanticCustomError(
                        "unknown-quantity",
                        "figure refers to quantity {q}, which the claim does not define",
                        {"q": repr(figure.quantity)},
                    )
        return self


# --- as published ---------------------------------------------------------------------------


Count = Annotated[int, Field(ge=0)]


class ClaimDerived(Record):
    """What the build derives for a claim from its reports and the lineage of their sources:
    the same facts as the derived columns of the `claims` table."""

    report_count: Count
    """Number of reports that carry the claim: those whose quote states it (fit `exact` or `narrower`)."""
    source_count: Count
    """Number of distinct sources among the counted reports."""
    listed_report_count: Count
    """Number of reports listed but not counted (fit `broader` or `partial`)."""
    origin_count: Count
    """Number of distinct origins of the counted reports: `derived_from` followed to the sources that
    derive from none, so five reprints of one wire story count once."""
    origins: list[SourceId]
    """The origins of the counted reports, sorted."""
    primary_sources: list[SourceId]
    """The primary sources the claimants made the claim in (their `via`), sorted."""
    drift_count: Count
    """Number of differences between the claim's reports and the texts they derive from."""
    first_reported: Optional[PartialDate] = None
    """Earliest publication date among the sources of the counted reports; null when none is dated."""


class PublishedClaim(Claim):
    """A claim as the data package publishes it (`data/claims.json`): the record and what is derived from it."""

    derived: ClaimDerived
    """Counts and origins the build derives from the reports; not written in record files."""

    def record(self) -> Claim:
        """The claim as its record file holds it, without ``derived``."""
        return Claim.model_construct(**{name: getattr(self, name) for name in Claim.model_fields})


class SourceDerived(Record):
    """What the build derives for a source from the lineage: the derived columns of the `sources` table."""

    origin_count: Annotated[int, Field(ge=1)]
    """Number of root origins: sources reached by following `derived_from` to sources that derive
    from none (itself when it derives from none)."""
    origins: list[SourceId]
    """The root origins, sorted."""


class PublishedSource(Source):
    """A source as the data package publishes it (`data/sources.json`): the record and what is derived from it."""

    derived: SourceDerived
    """Origins the build derives from the lineage; not written in record files."""

    def record(self) -> Source:
        """The source as its record file holds it, without ``derived``."""
        return Source.model_construct(**{name: getattr(self, name) for name in Source.model_fields})


def field_model(model: Optional[type], name: str) -> Optional[type[Record]]:
    """The record model held by field ``name`` of ``model`` (through lists and Optional), if any."""
    info = getattr(model, "model_fields", {}).get(name)
    todo = [info.annotation] if info else []
    while todo:
        a = todo.pop()
        if isinstance(a, type) and issubclass(a, Record):
            return a
        todo.extend(getattr(a, "__args__", ()))
    return None
