"""Data contracts passed between stages: frozen, versioned pydantic models (JSON) and Arrow schemas.

Every artefact carries ``kind``, ``schema_version`` and ``as_of_ms``. Readers reject an unknown
kind or version with one clear line; writers emit Decimal values as strings.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import ValidationError

from btcn.contracts.base import Artifact, Model
from btcn.contracts.enums import LEGS, Action, Leg, Liquidity, Side, Signal
from btcn.contracts.execution import (
    ExecutionReport,
    Fill,
    OrderExecution,
    TransferExecution,
    upgrade_execution_report,
)
from btcn.contracts.limits import check_model_values, load_json
from btcn.contracts.liquidation import LiquidationInfo
from btcn.contracts.plan import (
    BlockedOrder,
    CooldownInfo,
    DroppedOrder,
    GuardrailResult,
    Plan,
    PlannedOrder,
    PlannedTransfer,
    PlanV1,
    SignalInfo,
    ThresholdInfo,
    upgrade_plan_v1,
)
from btcn.contracts.snapshot import (
    Balances,
    CurrencyEquity,
    DiscountBand,
    PerpPosition,
    PerpPositions,
    PerpSpec,
    Prices,
    Snapshot,
    SpotSpec,
    UnifiedAccountInfo,
)
from btcn.contracts.weights import LegWeight, Weights
from btcn.errors import InvalidInputError

__all__ = [
    "ARTIFACTS",
    "LEGS",
    "Action",
    "Artifact",
    "Balances",
    "BlockedOrder",
    "CooldownInfo",
    "CurrencyEquity",
    "DiscountBand",
    "DroppedOrder",
    "ExecutionReport",
    "Fill",
    "GuardrailResult",
    "Leg",
    "LegWeight",
    "LiquidationInfo",
    "Liquidity",
    "Model",
    "OrderExecution",
    "PerpPosition",
    "PerpPositions",
    "PerpSpec",
    "Plan",
    "PlanV1",
    "PlannedOrder",
    "PlannedTransfer",
    "Prices",
    "Side",
    "Signal",
    "SignalInfo",
    "Snapshot",
    "SpotSpec",
    "ThresholdInfo",
    "TransferExecution",
    "UnifiedAccountInfo",
    "Weights",
    "dump_json",
    "format_validation_error",
    "json_digest",
    "parse_artifact",
    "plan_digest",
]

ARTIFACTS: dict[str, type[Artifact]] = {
    "snapshot": Snapshot,
    "weights": Weights,
    "plan": Plan,
    "execution_report": ExecutionReport,
}

A = TypeVar("A", bound=Artifact)


def _bump(version: int) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """An upgrade that only adds optional fields: the old document is valid at the new version."""

    def up(raw: dict[str, Any]) -> dict[str, Any]:
        return {**raw, "schema_version": version}

    return up


# Older versions a reader still accepts: (kind, version) -> function giving the newest version's
# fields. Writers always emit the newest version.
UPGRADES: dict[tuple[str, int], Callable[[dict[str, Any]], dict[str, Any]]] = {
    ("plan", 1): upgrade_plan_v1,
    ("snapshot", 1): _bump(2),
    ("snapshot", 3): dict,  # read as is: the model holds versions 2 and 3 (a unified account)
    ("weights", 1): _bump(2),
    ("execution_report", 1): upgrade_execution_report,
    ("execution_report", 2): upgrade_execution_report,
    ("audit", 1): _bump(2),  # version 2 only adds optional fields (labels, windows, rules)
}


def dump_json(model: Model) -> str:
    """The canonical JSON text of an artefact: indented, key order fixed by the model, newline."""
    return model.model_dump_json(indent=2) + "\n"


def json_digest(text: str | bytes) -> str:
    """SHA-256 hex digest of a canonical JSON text."""
    data = text.encode() if isinstance(text, str) else text
    return hashlib.sha256(data).hexdigest()


def plan_digest(plan: Plan) -> str:
    """SHA-256 of the plan's canonical JSON: the identity of a plan for ids and de-duplication.

    A plan read from a version 1 document keeps that document's digest, so a plan executed by an
    older btcn is recognised as already executed."""
    legacy = plan._v1_json
    return json_digest(legacy if legacy is not None else dump_json(plan))


def format_validation_error(err: ValidationError, prefix: str = "") -> str:
    """One readable line from a pydantic ValidationError (first problem, plus a count)."""
    problems = err.errors(include_url=False, include_context=False, include_input=False)
    first = problems[0]
    loc = ".".join(str(p) for p in first["loc"]) or "(top level)"
    msg = first["msg"]
    if first["type"] == "extra_forbidden":
        msg = "unknown field"
    more = f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
    return f"{prefix}{loc}: {msg}{more}"


def parse_artifact(data: str | bytes, expected: type[A], source: str = "input") -> A:
    """Parse and validate one artefact of the expected kind; raise InvalidInputError otherwise."""
    want_kind = expected.model_fields["kind"].default
    want_version = expected.model_fields["schema_version"].default
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidInputError(f"{source}: not UTF-8 text") from exc
    if not data.strip():
        raise InvalidInputError(
            f"{source}: empty input, expected a {want_kind} JSON document",
            hint="did the previous stage of the pipeline fail?",
        )
    try:
        raw = load_json(data, source)
    except json.JSONDecodeError as exc:
        raise InvalidInputError(
            f"{source}: malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from exc
    if not isinstance(raw, dict):
        raise InvalidInputError(f"{source}: expected a JSON object of kind {want_kind!r}")
    kind = raw.get("kind")
    if kind != want_kind:
        raise InvalidInputError(
            f"{source}: expected kind {want_kind!r}, got {kind!r}",
            hint=f"pass the output of the stage that writes a {want_kind}",
        )
    version = raw.get("schema_version")
    upgrade = UPGRADES.get((want_kind, version)) if isinstance(version, int) else None
    if version != want_version and upgrade is None:
        readable = sorted([want_version] + [v for k, v in UPGRADES if k == want_kind])
        raise InvalidInputError(
            f"{source}: {want_kind} schema_version {version!r} is not supported "
            f"(this btcn reads version {', '.join(str(v) for v in readable)})"
        )
    try:
        if upgrade is None:
            return check_model_values(expected.model_validate(raw), source)
        parsed = check_model_values(expected.model_validate(upgrade(raw)), source)
    except ValidationError as exc:
        raise InvalidInputError(format_validation_error(exc, prefix=f"{source}: ")) from exc
    if isinstance(parsed, Plan) and version == 1:
        # the identity of an upgraded plan is its version 1 document (see Plan._v1_json)
        parsed._v1_json = dump_json(PlanV1.model_validate(raw))
    return parsed
