"""The limits every reader enforces, as pure checks (no I/O, no clock).

A file that a user can hand to btcn is checked against honest limits before anything uses it:

* JSON and TOML documents nest at most :data:`MAX_NESTING` levels (a btcn artefact needs 4);
  deeper documents are refused before the parser or the validator recurses into them;
* numbers are finite (``NaN``/``Infinity`` are not JSON and are refused even though Python's
  parser accepts them) and, where they become money, within :data:`MAX_DECIMAL_ABS`;
* timestamps lie between :data:`MIN_TS_MS` (2009-01-01, the first bitcoin block) and a ceiling
  the caller gives (``now + 1 day``) for rows of data files; artefact times (which tests and
  examples make up) only need to be a real date between 1970 and 2100.
"""

from __future__ import annotations

import json
import math
from decimal import Decimal
from typing import Any, TypeVar

from btcn.errors import InvalidInputError

MAX_NESTING = 64
MIN_TS_MS = 1_230_768_000_000  # 2009-01-01T00:00:00Z
MAX_ARTIFACT_TS_MS = 4_102_444_800_000  # 2100-01-01T00:00:00Z
DAY_MS = 86_400_000
MAX_DECIMAL_ABS = Decimal("1e18")  # above any price, size or balance; far below Decimal's limits
MIN_DECIMAL_ABS = Decimal("1e-18")  # below any step or tick a venue uses
MAX_INT_ABS = 2**63 - 1

M = TypeVar("M")


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not a JSON number")


def nesting_depth(text: str, limit: int = MAX_NESTING) -> int:
    """Deepest ``[``/``{`` nesting of a JSON text (strings skipped); stops counting past ``limit``."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    return deepest
        elif ch in "]}":
            depth -= 1
    return deepest


def _fast_depth_ok(text: str, limit: int) -> bool:
    # Only a text with more than ``limit`` opening brackets can nest that deep.
    return text.count("[") + text.count("{") <= limit


def load_json(text: str, source: str, *, limit: int = MAX_NESTING, allow_nan: bool = False) -> Any:
    """``json.loads`` with the nesting limit and without NaN/Infinity; one InvalidInputError line.

    Malformed JSON raises :class:`json.JSONDecodeError` for the caller to word (it knows the kind
    of document); every other failure is refused here.
    """
    if not _fast_depth_ok(text, limit) and nesting_depth(text, limit) > limit:
        raise InvalidInputError(f"{source}: JSON nested deeper than {limit} levels")
    try:
        return json.loads(text, parse_constant=None if allow_nan else _refuse_constant)
    except json.JSONDecodeError:
        raise
    except ValueError as exc:  # a refused constant, or an integer of more than 4300 digits
        raise InvalidInputError(f"{source}: invalid JSON number: {exc}") from None
    except RecursionError:  # pragma: no cover - the depth check runs first
        raise InvalidInputError(f"{source}: JSON nested deeper than {limit} levels") from None


def tree_depth(obj: Any, limit: int = MAX_NESTING) -> int:
    """Nesting depth of parsed lists/dicts (iterative, so it cannot overflow the stack)."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(obj, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        depth += 1
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        stack.extend((child, depth) for child in children)
    return deepest


def non_finite_path(obj: Any, path: str = "") -> str | None:
    """Dotted path of the first NaN/inf float in parsed data, or ``None``."""
    stack: list[tuple[Any, str]] = [(obj, path)]
    while stack:
        node, where = stack.pop()
        if isinstance(node, float) and not math.isfinite(node):
            return where or "(top level)"
        if isinstance(node, dict):
            stack.extend((v, f"{where}.{k}" if where else str(k)) for k, v in node.items())
        elif isinstance(node, list):
            stack.extend((v, f"{where}[{i}]") for i, v in enumerate(node))
    return None


def decimal_problem(value: Decimal) -> str | None:
    """Why a Decimal cannot be money, or ``None`` when it can."""
    if not value.is_finite():
        return "is not a finite number"
    if value and not MIN_DECIMAL_ABS <= abs(value) <= MAX_DECIMAL_ABS:
        return "is outside the range btcn accepts (1e-18 .. 1e18 in magnitude)"
    return None


def ts_problem(ms: int, max_ms: int) -> str | None:
    """Why an epoch-millisecond timestamp of a data row is implausible, or ``None``."""
    if not MIN_TS_MS <= ms <= max_ms:
        return "is not a time between 2009-01-01 and tomorrow"
    return None


def artifact_ts_problem(ms: int) -> str | None:
    """Artefact times may be synthetic (tests, examples) but must be a real date before 2100."""
    if not 0 <= ms <= MAX_ARTIFACT_TS_MS:
        return "is not a time between 1970 and 2100"
    return None


# Integer fields of artefacts that are points in time (durations and ages are not listed).
TIMESTAMP_FIELDS = frozenset(
    {"as_of_ms", "p_ref_as_of_ms", "created_at_ms", "timestamp_ms", "last_rebalance_ms",
     "next_allowed_ms", "executed_at_ms", "ts_ms", "plan_as_of_ms", "started_at_ms",
     "finished_at_ms"}
)  # fmt: skip


def check_model_values(model: M, source: str) -> M:
    """Refuse an artefact holding a number no venue or ledger can carry.

    Walks the validated pydantic model: every Decimal must be finite and within
    :data:`MAX_DECIMAL_ABS`, every float finite, every integer a 64-bit value, and every
    timestamp field (``as_of_ms``, ...) between 1970 and 2100.
    """
    stack: list[tuple[Any, str]] = [(model, "")]
    while stack:
        node, where = stack.pop()
        fields = getattr(type(node), "model_fields", None)
        if fields is not None:
            for name in fields:
                stack.append((getattr(node, name), f"{where}.{name}" if where else name))
            continue
        if isinstance(node, dict):
            stack.extend((v, f"{where}.{k}") for k, v in node.items())
            continue
        if isinstance(node, (list, tuple)):
            stack.extend((v, f"{where}[{i}]") for i, v in enumerate(node))
            continue
        problem = None
        if isinstance(node, Decimal):
            problem = decimal_problem(node)
        elif isinstance(node, float):
            problem = None if math.isfinite(node) else "is not a finite number"
        elif isinstance(node, int) and not isinstance(node, bool):
            if abs(node) > MAX_INT_ABS:
                problem = "is too large"
            elif where.rsplit(".", 1)[-1] in TIMESTAMP_FIELDS:
                problem = artifact_ts_problem(node)
        if problem:
            raise InvalidInputError(f"{source}: {where} {problem}")
    return model
