"""The backtest fill model (pessimistic, documented).

An order decided at the close of bar ``t`` works on bar ``t+1``:

* **PostOnly phase.** It rests at the plan's limit price. It fills completely at the limit price,
  paying the maker fee, only if bar ``t+1`` trades *through* the limit: ``low < limit`` for a buy,
  ``high > limit`` for a sell. Touching the limit is not enough (queue position is unknown).
* **Market phase.** Otherwise the whole order is sent as Market and fills at the open of the next
  bar ``t+2``, moved against us by ``slippage`` (buy ``open * (1 + slippage)``, sell
  ``open * (1 - slippage)``), paying the taker fee. If bar ``t+2`` does not exist or does not
  follow ``t+1`` directly (a data gap), the order is cancelled unfilled.
* Spot is never leveraged: at fill time a spot buy is cut to what the spot USDT pays for (fee
  included) and a spot sell to the BTC held, both rounded down to the venue step.

``post_only_window`` must not exceed one bar: the model cannot see inside a bar, so the PostOnly
phase always lasts exactly the next bar.
"""

from __future__ import annotations

from decimal import Decimal

from btcn.core.money import ONE


def post_only_fills(buy: bool, limit: float, bar_low: float, bar_high: float) -> bool:
    """Whether a resting PostOnly order at ``limit`` is filled by the bar (traded through)."""
    return bar_low < limit if buy else bar_high > limit


def taker_price(buy: bool, bar_open: Decimal, slippage: Decimal) -> Decimal:
    return bar_open * (ONE + slippage) if buy else bar_open * (ONE - slippage)
