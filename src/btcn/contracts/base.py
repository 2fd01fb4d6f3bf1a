"""Base class of every artefact passed between stages."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, SerializerFunctionWrapHandler, field_serializer


def decimal_text(value: Decimal) -> str:
    """Plain decimal notation without trailing zeros: ``1095.99565``, ``100``, never ``1E+2``."""
    if not value.is_finite():
        return str(value)
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "0") else text


class Model(BaseModel):
    """Frozen, strict about unknown fields; Decimal values are written to JSON as plain strings."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_enum_values=False)

    @field_serializer("*", mode="wrap", when_used="json")
    def _decimals_as_text(self, value: Any, handler: SerializerFunctionWrapHandler) -> Any:
        if isinstance(value, Decimal):
            return decimal_text(value)
        return handler(value)


class Artifact(Model):
    """An artefact carries ``kind``, ``schema_version`` and the time it describes (``as_of_ms``)."""

    kind: str
    schema_version: int
    as_of_ms: int
