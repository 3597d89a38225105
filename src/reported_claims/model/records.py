"""The record models: the one hand-written definition of what a record is.

The JSON Schemas under ``schema/`` and the Table Schemas of the data package are generated
from these classes; the attribute docstrings become the schemas' descriptions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal, Optional

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from reported_claims.model.types import (
    ClaimId,
    EntityId,
    Line,
    PartialDate,
    PastDate,
    Period,
    SourceId,
    Term,
    Text,
    Url,
)

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

# --- shared base --------------------------------------------------------------------------


class Record(BaseModel):
    """Base of every model: unknown fields are errors and the docstrings are descriptions."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        use_attribute_docstrings=True,
        str_strip_whitespace=False,
        validate_default=False,
    )


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

    id: Literal["topics", "items", "roles", "statuses", "source-kinds", "entity-kinds", "attribution-kinds"]
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
    aliases: list[Line] = []
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
    authors: list[Line] = []
    """Named authors, as credited."""
    language: Annotated[str, Field(pattern=r"^[a-z]{2,3}(-[A-Z]{2})?$")] = "en"
    """Language of the text (BCP 47, e.g. `en`, `zh`, `en-GB`)."""
    derived_from: list[Derivation] = []
    """Sources this one republishes or rewrites: a reprint of a wire story names the wire story."""
    attributes_to: list[SourceId] = []
    """Primary sources that this source attributes its claims to (a briefing, a report, a readout)."""
    text_sha256: Optional[Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]] = None
    """SHA-256 of the archived text under `archive/<id>.txt`, against which quotes are checked."""
    notes: Optional[Text] = None
    """Anything a reader needs to weigh the source: how it was identified, what is uncertain."""


# --- claims -------------------------------------------------------------------------------

Hedge = Literal["exact", "about", "nearly", "over", "at-least", "under", "up-to"]
LinkType = Literal["denies", "contradicts", "supports", "updates", "same-as", "responds-to"]
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
    share_of: Optional[Line] = None
    """For a percentage: the whole it is a share of."""
    hedge: Hedge = "exact"
    """How the figure is qualified: `about`, `nearly`, `over`, `at-least`, `under`, `up-to` or `exact`."""
    period: Optional[Period] = None

    @model_validator(mode="after")
    def _percent(self) -> "Quantity":
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


class Report(Record):
    """One source carrying the claim, in its own words."""

    source: SourceId
    """The source that carries the claim."""
    quote: Text
    """The passage that carries the claim, copied exactly from the source; `...` marks an elision."""
    attributed_to: Optional[Line] = None
    """Whom the source attributes the claim to, in its own words."""
    derived_from: list[SourceId] = []
    """The sources this passage was taken from, for a source that derives only in part from
    others (an article mixing a wire story with reporting of its own). The claim's origins then
    follow these instead of the source's own `derived_from`."""
    figures: list[Figure] = []
    """The figures as this source gave them, when they differ in wording or value from others."""
    terms: list[Line] = []
    """The source's own words for the items or parties, where they differ, e.g. `computer chips`."""
    note: Optional[Text] = None
    """How this report differs from the claim or from other reports."""


class ClaimLink(Record):
    """A typed link from this claim to another."""

    type: LinkType
    """`denies`, `contradicts`, `supports`, `updates`, `same-as` or `responds-to`."""
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
    """The claim in one neutral sentence, attributing nothing and judging nothing."""
    topic: TopicTerm
    """The main topic: a term of the `topics` vocabulary."""
    items: list[ItemTerm] = []
    """Goods and technologies the claim is about: terms of the `items` vocabulary."""
    claimants: list[Claimant] = Field(min_length=1)
    """Who made the claim, as the sources attribute it."""
    entities: list[EntityRole] = []
    """The entities the claim is about, with their roles."""
    period: Optional[Period] = None
    quantities: list[Quantity] = []
    """The figures the claim states, normalised."""
    status: StatusTerm = "reported"
    """Where the claim stands: a term of the `statuses` vocabulary (`withdrawn` needs `withdrawal`)."""
    withdrawal: Optional[Withdrawal] = None
    """Set when the record is withdrawn."""
    links: list[ClaimLink] = []
    """Typed links to other claims."""
    reports: list[Report] = []
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
