"""Shared test helpers: data builders, a virtual clock, plans built by hand, settings pointing at the fakes."""

from __future__ import annotations

import threading
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np

from btcn.contracts import (
    Action,
    CooldownInfo,
    Leg,
    LegWeight,
    PerpSpec,
    Plan,
    PlannedOrder,
    PlannedTransfer,
    Side,
    Signal,
    SignalInfo,
    Snapshot,
    SpotSpec,
    ThresholdInfo,
)
from btcn.core.legs import SIDE_OF
from btcn.runtime.settings import Settings

KEY = "test-key-4b1f9c"
SECRET = "test-secret-e83d27a5c1"
START_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z


class VirtualClock:
    """Shared by the executor and the fake venue: sleeping advances time instantly."""

    def __init__(self, start_ms: int = START_MS) -> None:
        self._t = start_ms
        self._lock = threading.Lock()
        self.sleeps: list[float] = []

    def now_ms(self) -> int:
        with self._lock:
            return self._t

    def now_s(self) -> float:
        return self.now_ms() / 1000

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self._t += max(0, round(seconds * 1000))

    def advance(self, ms: int) -> None:
        with self._lock:
            self._t += ms


def order(leg: Leg, action: Action, qty: str, limit: str, mult: str = "0.0001") -> PlannedOrder:
    q = Decimal(qty)
    qty_btc = q if leg is Leg.BTC_SPOT else q * Decimal(mult)
    return PlannedOrder(
        leg=leg, action=action, side=SIDE_OF[action], qty_venue=q,
        venue_unit="BTC" if leg is Leg.BTC_SPOT else "contracts", qty_btc=qty_btc,
        limit_price_usdt=Decimal(limit), notional_usdt=qty_btc * Decimal(limit), reason="test",
    )  # fmt: skip


def make_plan(
    orders: list[PlannedOrder],
    *,
    as_of_ms: int = START_MS,
    spot_btc: str = "0",
    long_contracts: str = "0",
    short_contracts: str = "0",
    price: str = "100000",
    venue: str = "gate",
    mult: str = "0.0001",
    transfers: list[PlannedTransfer] | None = None,
) -> Plan:
    """A plan whose starting book (``weights``) is the given one."""
    p = Decimal(price)
    m = Decimal(mult)
    qty = {
        Leg.BTC_SPOT: Decimal(spot_btc),
        Leg.BTC_PERP_LONG: Decimal(long_contracts) * m,
        Leg.BTC_PERP_SHORT: Decimal(short_contracts) * m,
    }
    weights = [
        LegWeight(leg=leg, qty_btc=qty[leg], price_usdt=p, notional_usdt=qty[leg] * p,
                  weight=0.0, target=0.0, drift=0.0)
        for leg in (Leg.BTC_SPOT, Leg.BTC_PERP_LONG, Leg.BTC_PERP_SHORT)
    ]  # fmt: skip
    net = qty[Leg.BTC_SPOT] + qty[Leg.BTC_PERP_LONG] - qty[Leg.BTC_PERP_SHORT]
    after = net + sum((o.qty_btc if o.side is Side.BUY else -o.qty_btc for o in orders), Decimal(0))
    return Plan(
        as_of_ms=as_of_ms, venue=venue, inputs_digest="test", status="rebalance",
        safe_mode=False, nav_usdt=Decimal(100000), p_ref_usdt=p,
        net_delta_btc=net, net_delta_pct_nav=float(net) * float(p) / 1000.0,
        threshold=ThresholdInfo(thr=0.005, floor=0.005, atr_multiplier=0.2,
                                atr_window_ms=86_400_000, atr_periods=14, atr_candles_used=0,
                                atr_24h_usdt=None, atr_term=None, source="floor", note="test"),
        cooldown=CooldownInfo(cooldown_ms=3_600_000, last_rebalance_ms=None,
                              next_allowed_ms=None, active=False),
        signal=SignalInfo(value=Signal.NONE, timestamp_ms=None, age_ms=None, stale=False,
                          apply_signal_logic=True),
        guardrails=[], weights=weights, spot_spec=SpotSpec(),
        perp_spec=PerpSpec(multiplier_btc=m), orders=orders, blocked=[], dropped=[],
        rebalance="book", trigger="drift" if orders else None, max_delta_drift=0.002,
        net_delta_after_btc=after, net_delta_after_pct_nav=float(after) * float(p) / 1000.0,
        transfers=transfers or [], liquidation=[],
    )  # fmt: skip


def gate_settings(gate_url: str, binance_url: str = "http://127.0.0.1:9", **gate: Any) -> Settings:
    """Settings pointing at the fakes; short timeouts so fault tests stay fast."""
    g = {"base_url": gate_url, "timeout": "2s", **gate}
    return Settings(
        gate=g,
        binance={"base_url": binance_url, "futures_base_url": binance_url, "timeout": "2s"},
        execution={"post_only_window": "5s"},
    )


# --- data builders (foundation tests) -------------------------------------------------------

BAR_MS = 300_000
T0 = 1_735_689_600_000  # 2025-01-01 00:00 UTC


def write_binance_csv(path: Path, closes: list[float] | np.ndarray, *, t0: int = T0, bar_ms: int = BAR_MS,
                      header: bool = False, micro: bool = False, spread: float = 0.001) -> Path:  # fmt: skip
    """A Binance kline CSV whose bars open at the previous close and close at ``closes``."""
    lines = []
    if header:
        lines.append(
            "open_time,open,high,low,close,volume,close_time,quote_volume,count,"
            "taker_buy_volume,taker_buy_quote_volume,ignore"
        )
    prev = closes[0]
    for i, c in enumerate(closes):
        o = prev
        hi = max(o, c) * (1 + spread)
        lo = min(o, c) * (1 - spread)
        ts = t0 + i * bar_ms
        close_t = ts + bar_ms - 1
        if micro:
            ts, close_t = ts * 1000, ts * 1000 + bar_ms * 1000 - 1
        lines.append(f"{ts},{o:.2f},{hi:.2f},{lo:.2f},{c:.2f},1.5,{close_t},0,10,0,0,0")
        prev = c
    path.write_text("\n".join(lines) + "\n")
    return path


def snapshot(
    *,
    as_of_ms: int = T0 + 300_000,
    p: str = "100000",
    perp: str | None = None,
    spot_usdt: str = "33000",
    spot_btc: str = "0.5",
    futures_usdt: str = "17000",
    long_contracts: str = "0",
    long_entry: str | None = None,
    short_contracts: str = "5000",
    short_entry: str | None = "100000",
    venue: str = "paper",
) -> Snapshot:
    return Snapshot(
        as_of_ms=as_of_ms,
        venue=venue,
        p_ref_usdt=Decimal(p),
        prices={"spot_last_usdt": Decimal(p), "perp_mark_usdt": Decimal(perp or p)},
        balances={"spot_usdt": Decimal(spot_usdt), "spot_btc": Decimal(spot_btc),
                  "futures_usdt": Decimal(futures_usdt)},
        positions={
            "BTC_PERP_LONG": {"size_contracts": Decimal(long_contracts),
                              "entry_price_usdt": None if long_entry is None else Decimal(long_entry)},
            "BTC_PERP_SHORT": {"size_contracts": Decimal(short_contracts),
                               "entry_price_usdt": None if short_entry is None else Decimal(short_entry)},
        },
    )  # fmt: skip


def seed_paper_account(state: str | Path, snapshot: str | Path) -> None:
    """A paper account holding exactly the book of ``snapshot``: a paper plan made from that
    snapshot then passes execute's reconcile (as after `btcn fetch snapshot --venue paper`)."""
    from btcn.contracts import parse_artifact
    from btcn.runtime.state import StateStore
    from btcn.stages.common import book_from_snapshot

    snap = parse_artifact(Path(snapshot).read_text(), Snapshot)
    with StateStore(Path(state)) as st:
        st.save_paper_book(book_from_snapshot(snap), snap.as_of_ms)
