"""Base class of every artefact passed between stages."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Model(BaseModel):
    """Frozen, strict about unknown fields; Decimal values are written to JSON as strings."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_enum_values=False)


class Artifact(Model):
    """An artefact carries ``kind``, ``schema_version`` and the time it describes (``as_of_ms``)."""

    kind: str
    schema_version: int
    as_of_ms: int
