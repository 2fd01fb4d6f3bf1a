"""The backtest's unified account (manual: "Running on a unified account").

The engine keeps its loop; on a unified account it asks this module instead of the classic
futures-wallet rules, and every figure comes from :mod:`btcn.core.unified` (the float forms, held
equal to the Decimal rule by a property test):

* **liquidation**: the whole account is liquidated when MMR <= 100 % at the bar's worst price.
  ``MB - MM`` is concave in the price (the USDT valuation's slopes only fall), so over a bar's
  range its minimum is at the low or the high: both are checked. Every margin asset is lost to the
  liquidation: the perps are closed and the spot BTC sold at that price, taker fees charged; a
  negative remainder is absorbed (the venue's insurance fund);
* **interest**: a negative USDT balance pays ``negative_usdt_interest_apr`` for the time it is
  negative, accrued at each balance event (fills, funding, a liquidation: bars both the
  event-skipping path and the bar-by-bar loop process in full) for the time since the previous
  one, on the balance held over it;
* **columns**: ``margin_used_usdt`` is the initial margin, ``margin_ratio`` the IMR, ``mmr`` and
  ``margin_balance_usdt`` the account figures, ``liq_price_usdt``/``liq_distance`` the nearer
  account liquidation price and its distance, ``interest_usdt`` what was charged.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

import numpy as np

from btcn.backtest.ledger import Ledger
from btcn.backtest.market import Market
from btcn.backtest.records import LiquidationEvent, UnifiedSpec
from btcn.contracts.enums import Action, Leg
from btcn.core import unified as u
from btcn.core.money import dec
from btcn.core.valuation import FloatBook

if TYPE_CHECKING:
    from btcn.exchange.paper import FeeRates

YEAR_MS = 365 * 86_400_000
UNIFIED_COLUMNS = ("margin_balance_usdt", "mmr", "interest_usdt")


class UnifiedModel:
    """One run's unified account: the float rules and the interest accrual clock."""

    def __init__(self, spec: UnifiedSpec) -> None:
        self.rules = u.FloatRules.of(spec.rules)
        self.interest_apr = spec.interest_apr
        self.last_ms: int | None = None

    def shortfall(self, fb: FloatBook, price: Any) -> Any:
        """``MB - MM`` of the book at ``price`` (float or array); < 0 means liquidated."""
        args = (fb.spot_usdt, fb.spot_btc, fb.long_btc, fb.long_entry_usdt, fb.short_btc,
                fb.short_entry_usdt, price, self.rules)  # fmt: skip
        mb = u.margin_balance_f(*args)
        return mb - u.maintenance_margin_f(fb.long_btc, fb.short_btc, price, self.rules)

    def liquidation_mask(self, fb: FloatBook, low: Any, high: Any) -> Any:
        exposure = np.maximum(fb.long_btc, fb.short_btc)
        hit = (self.shortfall(fb, low) < 0) | (self.shortfall(fb, high) < 0)
        return hit & (exposure > 0)

    def worst_price(self, fb: FloatBook, low: float, high: float) -> float:
        return low if self.shortfall(fb, low) <= self.shortfall(fb, high) else high

    def interest_due(self, usdt: Decimal, now_ms: int) -> Decimal:
        """Interest for the time since the last accrual on the balance held over it."""
        last, self.last_ms = self.last_ms, now_ms
        if last is None or usdt >= 0 or now_ms <= last:
            return Decimal(0)
        return -usdt * dec(self.interest_apr) * Decimal(now_ms - last) / YEAR_MS

    def columns(self, fb: FloatBook, pp: Any, leverage: float) -> dict[str, Any]:
        """The unified account's equity columns over bars with books ``fb`` and marks ``pp``."""
        args = (fb.spot_usdt, fb.spot_btc, fb.long_btc, fb.long_entry_usdt, fb.short_btc,
                fb.short_entry_usdt, pp, self.rules)  # fmt: skip
        mb = np.asarray(u.margin_balance_f(*args), dtype=float)
        big = np.maximum(fb.long_btc, fb.short_btc)
        im = big * pp / leverage
        down, up = u.liquidation_prices_f(*args)
        near_up = np.asarray(up / pp - 1.0) <= np.asarray(1.0 - down / pp)
        liq = np.where(np.isnan(down) | (near_up & ~np.isnan(up)), up, down)
        with np.errstate(divide="ignore", invalid="ignore"):
            imr = np.where(big > 0, mb / np.where(big > 0, im, 1.0), np.nan)
        return {
            "margin_balance_usdt": mb,
            "mmr": np.asarray(u.mmr_f(*args), dtype=float),
            "margin_used_usdt": im,
            "margin_ratio": imr,
            "liq_price_usdt": liq,
            "liq_distance": np.asarray(u.distance_f(pp, down, up), dtype=float),
        }


def liquidate_account(
    m: Market, led: Ledger, model: UnifiedModel, fees: FeeRates, j: int, ts_ms: int
) -> tuple[Decimal, LiquidationEvent] | None:
    """The account liquidated at bar ``j``'s worst price (module docstring): ``(fees paid, the
    event)``, or None when the bar does not breach. The caller records both and drops its orders."""
    fb = led.float_book()
    lo, hi = float(m.perp_low[j]), float(m.perp_high[j])
    if not model.liquidation_mask(fb, lo, hi):
        return None
    price_f = model.worst_price(fb, lo, hi)
    mb = float(u.margin_balance_f(fb.spot_usdt, fb.spot_btc, fb.long_btc, fb.long_entry_usdt,
                                  fb.short_btc, fb.short_entry_usdt, price_f, model.rules))  # fmt: skip
    mm = float(u.maintenance_margin_f(fb.long_btc, fb.short_btc, price_f, model.rules))
    price = dec(price_f)
    fee_bar = Decimal(0)
    for leg, action, rate in (
        (Leg.BTC_PERP_LONG, Action.CLOSE_LONG, fees.perp_taker),
        (Leg.BTC_PERP_SHORT, Action.CLOSE_SHORT, fees.perp_taker),
        (Leg.BTC_SPOT, Action.SELL, fees.spot_taker),
    ):
        qty = led.tracker(leg).qty_btc
        if qty > 0:
            fee_bar += led.fill(j, ts_ms, leg, action, qty, price, rate, "liquidation").fee_usdt
    absorbed = Decimal(0)
    if led.spot_usdt < 0:  # the venue's insurance fund takes a negative balance
        absorbed = -led.spot_usdt
        led.spot_usdt = Decimal(0)
        led._changed()
    return fee_bar, LiquidationEvent(j, ts_ms, price_f, mb, mm, absorbed)
