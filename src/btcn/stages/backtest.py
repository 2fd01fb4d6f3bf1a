"""``btcn backtest``: replay candles through the decision core with held positions."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from btcn import __version__
from btcn.backtest.engine import run_engine
from btcn.backtest.market import Market, MissingPerp, build_market, restrict
from btcn.backtest.outputs import RunResult, collect, write_run
from btcn.backtest.records import EngineParams
from btcn.backtest.unified import UnifiedSpec
from btcn.core.money import dec
from btcn.data.candles import load_candles
from btcn.data.funding import load_funding
from btcn.data.signals import EMPTY_SIGNALS, load_signals
from btcn.data.timeparse import parse_timestamp_ms
from btcn.errors import InvalidInputError, UsageError
from btcn.runtime import watchdog
from btcn.runtime.settings import Settings
from btcn.stages.common import (
    UNIFIED_RISK_KEYS,
    fee_rates,
    margin_rules,
    planner_params,
    targets_tuple,
)

DAY_MS = 86_400_000
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class BacktestRequest:
    candles: Sequence[str | Path]
    settings: Settings
    perp: Sequence[str | Path] | None = None
    funding: Sequence[str | Path] | None = None
    signals: str | Path | None = None
    start: str | None = None
    end: str | None = None


def parse_bound(text: str | None, *, end: bool) -> int | None:
    """``--start``/``--end``: a date (UTC; an end date includes that whole day) or an ISO time."""
    if text is None:
        return None
    try:
        ms = parse_timestamp_ms(text)
    except ValueError as exc:
        raise UsageError(
            f"--{'end' if end else 'start'}: {exc}", hint="use YYYY-MM-DD or an ISO-8601 time"
        ) from exc
    if end and _DATE_ONLY.match(text.strip()):
        ms += DAY_MS
    return ms


def warmup_ms(atr_window_ms: int, atr_periods: int) -> int:
    """How far before ``--start`` the candles are read: the ATR at the first traded bar needs
    ``atr_periods`` rolling candles plus the close before them (see core.threshold), so with this
    much history it is the very value the whole file would give."""
    return (atr_periods + 1) * atr_window_ms


def period(req: BacktestRequest) -> tuple[int | None, int | None]:
    """``--start``/``--end`` in milliseconds (``[start, end)``), checked."""
    start_ms = parse_bound(req.start, end=False)
    end_ms = parse_bound(req.end, end=True)
    if start_ms is not None and end_ms is not None and end_ms <= start_ms:
        raise UsageError("--end must be after --start")
    return start_ms, end_ms


def load_market(req: BacktestRequest, start_ms: int | None = None, end_ms: int | None = None,
                warmup: int | None = None,
                missing_perp: MissingPerp = "error") -> Market:  # fmt: skip
    """Read the inputs and cut them to ``[start_ms - warmup, end_ms)`` BEFORE the alignment, gap
    and coverage checks: data outside the period run can neither refuse nor warn."""
    st = req.settings.strategy
    if warmup is None:
        warmup = warmup_ms(st.atr_window_ms, st.atr_periods)
    lo = None if start_ms is None else start_ms - warmup
    spot = load_candles(req.candles, gaps="warn", what="candles").window(lo, end_ms)
    if len(spot) < 2:
        raise InvalidInputError(
            "the selected period holds fewer than two bars",
            hint="check --start/--end against the span of the candles",
        )
    perp = None
    if req.perp:  # perp bars outside the spot span are trimmed (with a warning) by the alignment
        perp = load_candles(req.perp, gaps="warn", what="perp").window(lo, end_ms)
    funding = load_funding(req.funding) if req.funding else None
    signals = load_signals(req.signals) if req.signals else EMPTY_SIGNALS
    return build_market(spot, perp, funding, signals, atr_window_ms=st.atr_window_ms,
                        atr_periods=st.atr_periods, threshold_floor=st.threshold_floor,
                        atr_multiplier=st.atr_multiplier, missing_perp=missing_perp)  # fmt: skip


def run_settings(s: Settings) -> dict[str, Any]:
    """The settings a run folder records. A classic run records what it did before the unified
    account existed (byte for byte); a unified one adds ``account`` and its interest rate."""
    classic = s.account.mode == "classic"
    left_out = {"backtest": {"negative_usdt_interest_apr"}, "risk": set(UNIFIED_RISK_KEYS)}
    out = {
        k: getattr(s, k).model_dump(mode="json", exclude=left_out.get(k) if classic else None)
        for k in ("strategy", "fees", "guardrails", "backtest", "risk")
    }
    if not classic:
        out["account"] = s.account.model_dump(mode="json")
    return out


def engine_params(settings: Settings) -> EngineParams:
    bt = settings.backtest
    return EngineParams(
        planner=planner_params(settings, bt.slippage, dec(bt.maintenance_margin_rate)),
        fees=fee_rates(settings),
        slippage=dec(bt.slippage),
        leverage=dec(settings.risk.leverage),
        maintenance_margin_rate=dec(bt.maintenance_margin_rate),
        initial_nav_usdt=dec(bt.initial_nav_usdt),
        unified=None if settings.account.mode == "classic" else UnifiedSpec(
            margin_rules(settings, dec(bt.maintenance_margin_rate)), bt.negative_usdt_interest_apr
        ),
    )  # fmt: skip


def run(req: BacktestRequest, progress_factory: Callable[[int], Callable[[int], None]] | None = None,
        market: Market | None = None) -> RunResult:  # fmt: skip
    """Load inputs (unless ``market`` is given), run the engine, collect the outputs."""
    start_ms, end_ms = period(req)
    market = market or load_market(req, start_ms, end_ms)
    first, stop = restrict(market, start_ms, end_ms)
    bar = progress_factory(stop - first) if progress_factory else None
    guard = watchdog.from_settings(req.settings, "btcn backtest")

    def progress(done: int) -> None:
        if bar is not None:
            bar(done)
        guard.checkpoint()  # between chunks of bars: never inside a write

    params = engine_params(req.settings)
    out = run_engine(market, params, first, stop, progress=progress)
    s = req.settings
    meta = {
        "btcn_version": __version__,
        "inputs": {
            "candles": [str(p) for p in req.candles],
            "perp": [str(p) for p in req.perp] if req.perp else None,
            "funding": [str(p) for p in req.funding] if req.funding else None,
            "signals": str(req.signals) if req.signals else None,
            "start": req.start,
            "end": req.end,
        },
        # every section that changes the result
        "settings": run_settings(s),
        "targets": list(targets_tuple(s)),
        "initial_nav_usdt": float(s.backtest.initial_nav_usdt),
        "has_perp": market.has_perp,
    }
    return collect(out, market, meta)


def run_and_write(req: BacktestRequest, out_dir: Path,
                  progress_factory: Callable[[int], Callable[[int], None]] | None = None,
                  *, force: bool = False) -> RunResult:  # fmt: skip
    from btcn.backtest.outputs import is_run_folder
    from btcn.runtime.folders import check_output_folder, refuse_foreign

    # Refuse an unusable --out before the (long) run, not after it.
    out = check_output_folder(Path(out_dir))
    refuse_foreign(out, is_run_folder, "a btcn run folder", force=force)
    result = run(req, progress_factory)
    write_run(out, result, force=force)
    return result
