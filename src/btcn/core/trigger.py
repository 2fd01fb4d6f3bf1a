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

from typing import Any, NamedTuple

import numpy as np

from btcn.core.valuation import FloatBook, beyond, nav, net_delta_btc, weights_at

F = Any  # float or NumPy array


def in_cooldown(now_ms: F, last_rebalance_ms: int | None, cooldown_ms: int) -> F:
    """Whether ``now_ms`` falls in the cooldown after the last executed rebalance."""
    if last_rebalance_ms is None:
        return np.zeros(now_ms.shape, dtype=bool) if isinstance(now_ms, np.ndarray) else False
    return now_ms < last_rebalance_ms + cooldown_ms


class Fired(NamedTuple):  # a tuple: built on every bar the backtester looks at
    nav: F  # the float NAV the weights were computed from
    drift: F  # some leg beyond thr
    delta: F  # book mode: the net delta beyond max_delta_drift


def fired(fb: FloatBook, p_spot: F, p_perp: F, p_ref: F, thr: F,
          targets: tuple[float, float, float], *, book_mode: bool,
          max_delta_drift: float) -> Fired:  # fmt: skip
    """The drift and delta triggers of ``fb`` at the given prices (weights meaningless and both
    triggers false when NAV <= 0; the caller's guardrail refuses such a book)."""
    value = nav(fb, p_spot, p_perp)
    if isinstance(value, np.ndarray):
        with np.errstate(divide="ignore", invalid="ignore"):  # bars with NAV <= 0 never fire
            return _fired(
                fb, p_spot, p_perp, p_ref, thr, targets, book_mode, max_delta_drift, value
            )
    if not value > 0:  # one bar: floats would divide by zero
        return Fired(value, False, False)
    return _fired(fb, p_spot, p_perp, p_ref, thr, targets, book_mode, max_delta_drift, value)


def _fired(fb: FloatBook, p_spot: F, p_perp: F, p_ref: F, thr: F,
           targets: tuple[float, float, float], book_mode: bool, max_delta_drift: float,
           value: F) -> Fired:  # fmt: skip
    _, ws, wl, wsh = weights_at(fb, p_spot, p_perp, value)
    drift = beyond(ws, targets[0], thr) | beyond(wsh, targets[2], thr)
    if fb.long_btc != 0 or targets[1] != 0:  # else w_long is 0 against a 0 target: never fires
        drift = drift | beyond(wl, targets[1], thr)
    net = net_delta_btc(fb)
    if book_mode and net != 0:
        delta = abs(net * p_ref / value) > max_delta_drift
    else:
        delta = np.zeros(value.shape, dtype=bool) if isinstance(value, np.ndarray) else False
    return Fired(value, drift, delta)
