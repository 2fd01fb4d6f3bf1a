"""Pre-trade checks: if one leg would be rejected, nothing is sent."""

from __future__ import annotations

import logging
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from btcn.contracts import Leg, Side
from btcn.core.money import ZERO, dec
from btcn.exchange import translate as tr
from btcn.exchange.errors import PreTradeCheckFailed
from btcn.exchange.live.state import Component, to_send

log = logging.getLogger("btcn.exchange.live")


class PreChecker(Component):
    """Prices for market orders, and the checks before anything is sent."""

    # --- pre-trade checks -------------------------------------------------------------------------
    def spot_ioc_price(self, side: Side) -> Decimal:
        book = self.gate.spot_order_book(self.st.pair, limit=5)
        tick = self.st.plan.spot_spec.tick_usdt
        slip = dec(self.cx.gs.spot_ioc_slippage)
        if side is Side.BUY:
            if not book.asks:
                raise PreTradeCheckFailed(f"{self.st.pair} has no asks: cannot buy at market")
            raw = Decimal(book.asks[0][0]) * (1 + slip)
            return (raw / tick).to_integral_value(rounding=ROUND_CEILING) * tick
        if not book.bids:
            raise PreTradeCheckFailed(f"{self.st.pair} has no bids: cannot sell at market")
        raw = Decimal(book.bids[0][0]) * (1 - slip)
        return (raw / tick).to_integral_value(rounding=ROUND_FLOOR) * tick

    def pre_check(self, shift: tuple[Decimal, Decimal] = (ZERO, ZERO)) -> None:
        """``shift``: what the plan's pending transfers add to spot USDT and futures available."""
        problems: list[str] = []
        avail = tr.spot_available(self.st.balances.spot)
        avail["USDT"] = avail.get("USDT", ZERO) + shift[0]
        margin_needed = ZERO
        taker = dec(self.cx.settings.fees.perp_taker)
        for run in self.st.legs.values():
            qty = to_send(run)
            if qty <= 0:
                continue
            o = run.order
            leg = o.leg
            # a remainder below the minimum is handled, not refused
            first = not run.markets if run.market_only else run.post is None
            if leg is Leg.BTC_SPOT:
                assert self.st.pair_rules is not None
                spec = tr.spot_spec(self.st.pair_rules)
                price = o.limit_price_usdt
                if o.side is Side.BUY:
                    price = max(price, self.spot_ioc_price(o.side))
                if first and (
                    qty < spec.min_qty_btc or qty * o.limit_price_usdt < spec.min_notional_usdt
                ):
                    problems.append(
                        f"{leg}: {qty} BTC is below the minimum ({spec.min_qty_btc} BTC, "
                        f"{spec.min_notional_usdt} USDT)"
                    )
                if o.side is Side.BUY and avail.get("USDT", ZERO) < qty * price:
                    problems.append(
                        f"{leg}: buying {qty} BTC needs up to {qty * price:.2f} USDT, "
                        f"{avail.get('USDT', ZERO)} available"
                    )
                if o.side is Side.SELL and avail.get("BTC", ZERO) < qty:
                    problems.append(
                        f"{leg}: selling {qty} BTC, {avail.get('BTC', ZERO)} BTC available"
                    )
                continue
            assert self.st.contract_rules is not None
            size_min = tr.to_dec(self.st.contract_rules.order_size_min)
            size_max = tr.to_dec(self.st.contract_rules.order_size_max)
            if (first and qty < size_min) or qty > size_max:
                problems.append(f"{leg}: {qty} contracts outside [{size_min}, {size_max}]")
            side_key = "long" if leg is Leg.BTC_PERP_LONG else "short"
            if o.action.value.startswith("CLOSE"):
                held = self.st.balances.sides[side_key].contracts
                if qty > held:
                    problems.append(f"{leg}: closing {qty} contracts, {held} held")
            else:
                lev = self.st.balances.sides[side_key].leverage or Decimal(1)  # unknown: assume 1x
                mark = next((lw.price_usdt for lw in self.st.plan.weights if lw.leg is leg), ZERO)
                price = max(o.limit_price_usdt, mark)
                margin_needed += qty * self.st.mult * price * (1 / lev + taker)
        fut_avail = tr.to_dec(self.st.balances.futures.available, "futures available") + shift[1]
        if margin_needed > fut_avail:
            problems.append(
                f"perp orders need about {margin_needed:.2f} USDT of margin, {fut_avail} available"
            )
        if problems:
            raise PreTradeCheckFailed(
                "pre-trade check failed, no order was sent: " + "; ".join(problems),
                hint="fund the account or plan again from a fresh snapshot",
            )
