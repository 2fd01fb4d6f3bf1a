"""When a rebalance is due: the trigger and the cooldown, written once for the planner and the
backtester's scalar and whole-stretch checks.

* **Drift**: some leg's ``|w - target| > thr`` (:func:`btcn.core.valuation.beyond`);
* **delta** (``rebalance = "book"`` only): ``|net delta| * P_ref / NAV > max_delta_drift``, the net
  delta ``spot BTC + long BTC - short BTC`` in floats from the :class:`FloatBook`;
* **cooldown**: no rebalance while ``now < last rebalance + cooldown_ms`` (``now`` is the decision
  bar's close in the backtester).

Every function takes Python floats or NumPy arrays of prices, thresholds and times (elementwise
arithmetic only), so ``btcn plan`` and the backtester's one-bar and whole-stretch checks run the very
same arithmetic and agree bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from btcn.core.valuation import FloatBook, beyond, nav, net_delta_btc, weights

F = Any  # float or NumPy array


def in_cooldown(now_ms: F, last_rebalance_ms: int | None, cooldown_ms: int) -> F:
    """Whether ``now_ms`` falls in the cooldown after the last executed rebalance."""
    if last_rebalance_ms is None:
        return np.zeros(np.shape(now_ms), dtype=bool) if np.ndim(now_ms) else False
    return now_ms < last_rebalance_ms + cooldown_ms


@dataclass(frozen=True, slots=True)
class Fired:
    nav: F  # the float NAV the weights were computed from
    drift: F  # some leg beyond thr
    delta: F  # book mode: the net delta beyond max_delta_drift


def fired(fb: FloatBook, p_spot: F, p_perp: F, p_ref: F, thr: F,
          targets: tuple[float, float, float], *, book_mode: bool,
          max_delta_drift: float) -> Fired:  # fmt: skip
    """The drift and delta triggers of ``fb`` at the given prices (weights meaningless and both
    triggers false when NAV <= 0; the caller's guardrail refuses such a book)."""
    if not np.ndim(p_spot) and not np.ndim(p_perp):
        value = nav(fb, p_spot, p_perp)
        if not value > 0:  # floats would divide by zero
            return Fired(value, False, False)
    net = net_delta_btc(fb)
    with np.errstate(divide="ignore", invalid="ignore"):  # bars with NAV <= 0 never fire
        value, ws, wl, wsh = weights(fb, p_spot, p_perp)
        drift = beyond(ws, targets[0], thr) | beyond(wsh, targets[2], thr)
        if fb.long_btc != 0 or targets[1] != 0:  # else w_long is 0 against a 0 target: never fires
            drift = drift | beyond(wl, targets[1], thr)
        if book_mode and net != 0:
            delta = abs(net * p_ref / value) > max_delta_drift
    if not (book_mode and net != 0):
        delta = np.zeros(np.shape(value), dtype=bool) if np.ndim(value) else False
    return Fired(value, drift, delta)
