"""The gateway sits below the stages: no module of ``btcn.exchange`` imports ``btcn.stages`` or
``btcn.cli`` (the import circle of issue 11), at module level or inside a function."""

from __future__ import annotations

import ast
from pathlib import Path

import btcn.exchange

ROOT = Path(btcn.exchange.__file__).parent


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
    return names


def test_exchange_never_imports_stages_or_cli() -> None:
    bad = {
        f"{p.relative_to(ROOT)}: {m}"
        for p in ROOT.rglob("*.py")
        for m in _imports(p)
        if m.startswith(("btcn.stages", "btcn.cli"))
    }
    assert bad == set()


def test_live_executor_files_stay_readable() -> None:
    sizes = {p.name: len(p.read_text().splitlines()) for p in (ROOT / "live").glob("*.py")}
    assert sizes and max(sizes.values()) <= 420, sizes


def test_execute_request_is_re_exported_by_the_stage() -> None:
    from btcn.exchange.request import ExecuteRequest
    from btcn.stages import execute

    assert execute.ExecuteRequest is ExecuteRequest


def test_live_executor_is_composed_not_mixed() -> None:
    """Issue 16: the executor holds its components; each component inherits only the small
    ``Component`` base and receives the components it calls; shared data lives in one typed
    state whose account fields cannot be read before the reconcile step set them."""
    import pytest

    from btcn.exchange.live import compensate, phases, precheck, reconcile, resolve, treasury
    from btcn.exchange.live.executor import LiveExecutor
    from btcn.exchange.live.state import Component, LiveState
    from tests.exchange.live_support import hedged_plan

    assert LiveExecutor.__bases__ == (object,)
    parts = [resolve.Resolver, reconcile.Reconciler, precheck.PreChecker, phases.Phases,
             compensate.Compensator, treasury.Treasury]  # fmt: skip
    assert all(p.__bases__ == (Component,) for p in parts)
    state = LiveState.for_plan(hedged_plan(), "0" * 64)
    with pytest.raises(RuntimeError, match="reconcile"):
        _ = state.balances
