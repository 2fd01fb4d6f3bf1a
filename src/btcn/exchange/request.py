"""What ``btcn execute`` is asked to do: shared by the stage and the live executor.

It lives in the exchange layer (the lowest one that may hold :class:`Settings`) so that
:mod:`btcn.exchange.live` does not import :mod:`btcn.stages.execute`, which imports it back.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from btcn.contracts import Plan
from btcn.runtime.settings import Settings


@dataclass(frozen=True)
class ExecuteRequest:
    plan: Plan
    settings: Settings
    now_ms: int
    dry_run: bool = False
    live: bool = False
    state_path: Path | None = None
    force: bool = False  # paper: execute even when the paper account differs from the plan
