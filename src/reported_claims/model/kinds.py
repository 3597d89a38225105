"""The record kinds, in one registry: every module that needs a kind's folder, id prefix,
model or published names asks here.

A kind is a sort of record: claims, sources, entities and vocabularies. Each lives in its
folder under ``records/`` (``records/<plural>/<id>.yaml``), is validated by its model, and is
published as ``data/<plural>.json`` (the resource ``<plural>_json``, its items of the kind's published model) beside its tables.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass
from typing import Optional

from reported_claims.model.records import Claim, Entity, PublishedClaim, PublishedSource, Record, Source, Vocabulary

RECORDS = "records"
"""The folder of a repository that holds the record files, one sub-folder per kind."""


@dataclass(frozen=True)
class Kind:
    name: str
    """The kind's name: ``claim``, ``source``, ``entity``, ``vocabulary``."""
    plural: str
    """Its folder under ``records/``, its JSON file ``data/<plural>.json`` and its main table."""
    prefix: Optional[str]
    """The prefix of its ids (``clm-``), or None when ids have none (vocabularies)."""
    model: type[Record]
    """The pydantic model that validates one record."""
    published_model: Optional[type[Record]] = None
    """The model of a record as ``data/<plural>.json`` publishes it, when it adds derived facts
    to ``model`` (see ``published``)."""

    @property
    def published(self) -> type[Record]:
        """The model of one item of its JSON resource."""
        return self.published_model or self.model

    @property
    def folder(self) -> str:
        """The folder of its files, relative to the repository."""
        return f"{RECORDS}/{self.plural}"

    @property
    def json_resource(self) -> str:
        """The name of its JSON resource in ``datapackage.json``: ``claims_json``, like the tables' names."""
        return f"{self.plural}_json"

    @property
    def json_path(self) -> str:
        return f"data/{self.plural}.json"


KINDS: tuple[Kind, ...] = (
    Kind("claim", "claims", "clm-", Claim, PublishedClaim),
    Kind("source", "sources", "src-", Source, PublishedSource),
    Kind("entity", "entities", "ent-", Entity),
    Kind("vocabulary", "vocabularies", None, Vocabulary),
)
"""Every kind, in the order the package lists them."""

BY_NAME = {k.name: k for k in KINDS}
BY_PLURAL = {k.plural: k for k in KINDS}

MODELS: dict[str, type[Record]] = {k.name: k.model for k in KINDS}
"""Kind name -> model."""
ID_PREFIX: dict[str, str] = {k.name: k.prefix for k in KINDS if k.prefix}
"""Kind name -> id prefix, for the kinds whose ids have one."""
FOLDERS: dict[str, str] = {k.plural: k.name for k in KINDS}
"""Folder under ``records/`` -> kind name."""

VOCABULARIES: tuple[str, ...] = typing.get_args(Vocabulary.model_fields["id"].annotation)
"""The vocabularies, each ``records/vocabularies/<id>.yaml``, in the order the model lists them."""


def kind(name: str) -> Kind:
    """The kind called ``name`` (``claim``) or with that plural (``claims``)."""
    found = BY_NAME.get(name) or BY_PLURAL.get(name)
    if found is None:
        raise KeyError(f"no record kind {name!r}; the kinds are {', '.join(BY_NAME)}")
    return found


def of_id(rid: str) -> Optional[Kind]:
    """The kind whose prefix the id has, if any."""
    for k in KINDS:
        if k.prefix and rid.startswith(k.prefix):
            return k
    return None
