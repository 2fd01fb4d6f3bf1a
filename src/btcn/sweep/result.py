"""What a sweep produced: the rows, the counts and the walk-forward result (written by the stage,
rendered by :mod:`btcn.sweep.html` and the CLI)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class SweepResult:
    rows: list[dict[str, Any]]
    points: int
    executed: int
    reused: int
    failed: int
    metric: str
    maximize: bool
    keys: list[str]
    backend: str
    workers: int
    best: dict[str, Any] | None
    walk_forward: dict[str, Any] | None
    warnings: list[str] = field(default_factory=list)
    wf_table: list[dict[str, Any]] = field(default_factory=list)
    oos_curve: Any = None  # btcn.sweep.walkforward.Chained
