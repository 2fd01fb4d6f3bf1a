"""Looking orders up, cancelling what rests, reading fills: every uncertain order is
resolved before anything else is sent."""

from __future__ import annotations

import logging

from btcn.core.money import ZERO
from btcn.exchange import gate_wire as w
from btcn.exchange import translate as tr
from btcn.exchange.errors import (
    ORDER_DONE_LABELS,
    RejectedError,
    ServerError,
    TransportError,
    UncertainOrderError,
    is_not_found,
)
from btcn.exchange.journal import (
    AbsentPayload,
    AckPayload,
    Attempt,
    FinalPayload,
    chronological,
    fill_json,
    market_of,
)
from btcn.exchange.live.state import EXPTIME_MARGIN_MS, HISTORY_MARGIN_S, RESUME_HINT, Component

log = logging.getLogger("btcn.exchange.live")


class Resolver(Component):
    """Looks attempts up on the venue, cancels what rests, books fills (journaled)."""

    # --- looking orders up -----------------------------------------------------------------------
    def _get_by_id(self, a: Attempt) -> tr.VenueOrder | None:
        assert a.order_id is not None
        try:
            if market_of(a.leg) == "spot":
                return tr.spot_order(self.gate.get_spot_order(a.order_id, self.st.pair))
            return tr.futures_order(self.gate.get_futures_order(a.order_id))
        except RejectedError as exc:
            if is_not_found(exc):
                return None
            raise

    def _find(self, a: Attempt) -> tr.VenueOrder | None:
        """The venue's view of an attempt, by id when known, else by ``text``; None if absent."""
        if a.order_id is not None:
            found = self._get_by_id(a)
            if found is not None:
                return found
        since_s = int((self.st.first_ms or self.st.plan.as_of_ms) / 1000) - HISTORY_MARGIN_S
        if market_of(a.leg) == "spot":
            try:
                return tr.spot_order(self.gate.get_spot_order(a.cid, self.st.pair))
            except RejectedError as exc:
                if not is_not_found(exc):
                    raise
            # Gate resolves a spot text only while the order is open: search the history.
            for o in self.spot_history(since_s):
                if o.text == a.cid:
                    return tr.spot_order(o)
            trades = [
                t for t in self.gate.spot_trades(self.st.pair, from_s=since_s) if t.text == a.cid
            ]
        else:
            try:
                return tr.futures_order(self.gate.get_futures_order(a.cid))
            except RejectedError as exc:
                if not is_not_found(exc):
                    raise
            for fo in self.futures_history(since_s):
                if fo.text == a.cid:
                    return tr.futures_order(fo)
            trades_f = [t for t in self.gate.futures_trades(self.st.contract) if t.text == a.cid]
            trades = trades_f  # type: ignore[assignment]
        if trades:
            a.order_id = trades[0].order_id
            return self._get_by_id(a)
        return None

    def spot_history(self, since_s: int) -> list[w.SpotOrder]:
        out: list[w.SpotOrder] = []
        out += self.gate.list_spot_orders(self.st.pair, "open")
        page = 1
        while True:
            rows = self.gate.list_spot_orders(self.st.pair, "finished", page=page, from_s=since_s)
            out += rows
            if len(rows) < 100 or page >= 20:
                return out
            page += 1

    def futures_history(self, since_s: int) -> list[w.FuturesOrder]:
        out: list[w.FuturesOrder] = list(self.gate.list_futures_orders(self.st.contract, "open"))
        offset = 0
        while True:
            rows = self.gate.list_futures_orders(self.st.contract, "finished", offset=offset)
            out += rows
            oldest = min((tr.seconds_to_ms(r.create_time) or 0 for r in rows), default=0)
            if len(rows) < 100 or oldest < since_s * 1000 or offset >= 2000:
                return out
            offset += 100

    def _fills(self, a: Attempt, order: tr.VenueOrder) -> list[tr.TradeFill]:
        """Fills of a finished order from the trade history; qty must add up to the order's."""
        if order.filled_venue == 0:
            return []
        fills: list[tr.TradeFill] = []
        for _ in range(4):
            if order.market == "spot":
                rows = self.gate.spot_trades(self.st.pair, order_id=order.order_id)
                base = self.st.pair_rules.base if self.st.pair_rules else "BTC"
                quote = self.st.pair_rules.quote if self.st.pair_rules else "USDT"
                fills = [tr.spot_fill(t, base, quote) for t in rows]
            else:
                fills = [tr.futures_fill(t) for t in
                         self.gate.futures_trades(self.st.contract, order_id=order.order_id)]  # fmt: skip
            if sum((f.qty_venue for f in fills), ZERO) == order.filled_venue:
                return sorted(fills, key=chronological)
            self.clock.sleep(0.5)  # the trade feed can lag the order state by a moment
        got = sum((f.qty_venue for f in fills), ZERO)
        missing = order.filled_venue - got
        log.warning("%s: trades show %s of %s filled; booking the rest at the order's average "
                    "price", a.cid, got, order.filled_venue)  # fmt: skip
        if missing > 0 and order.avg_price_usdt is not None:
            fills.append(tr.TradeFill(
                order.market, "unlisted", order.order_id, a.cid, missing, order.avg_price_usdt,
                ZERO, "USDT", ZERO, False, None,
            ))  # fmt: skip
        return fills

    def _cancel(self, a: Attempt, order: tr.VenueOrder) -> tr.VenueOrder:
        """Cancel until the venue shows the order finished; never return while it may fill."""
        for _ in range(3):
            try:
                if order.market == "spot":
                    done = tr.spot_order(self.gate.cancel_spot_order(order.order_id, self.st.pair))
                else:
                    done = tr.futures_order(self.gate.cancel_futures_order(order.order_id))
                if not done.is_open:
                    return done
            except RejectedError as exc:
                if exc.label not in ORDER_DONE_LABELS:
                    raise
                # Already finished: a fill won the race against the cancel.
            except (TransportError, ServerError) as exc:
                log.warning("%s: cancel failed (%s); checking the order", a.cid, exc.message)
            a.order_id = order.order_id
            current = self._get_by_id(a)
            if current is None:  # a never-filled cancelled futures order vanishes
                return tr.VenueOrder(order.market, order.order_id, a.cid, False, order.qty_venue,
                                     ZERO, None, "cancelled", order.side)  # fmt: skip
            if not current.is_open:
                return current
            order = current
        raise UncertainOrderError(
            f"{a.cid}: order {order.order_id} is still open after 3 cancels", hint=RESUME_HINT
        )

    def _find_or_wait(self, a: Attempt) -> tr.VenueOrder | None:
        """Look an attempt up; "not found" counts only once its request deadline has passed."""
        order = self._find(a)
        if order is None:
            wait_ms = a.exptime_ms + EXPTIME_MARGIN_MS - self.gate.venue_now_ms()
            if wait_ms > 0:
                log.info("%s: not found yet; waiting %.1f s for its request deadline", a.cid,
                         wait_ms / 1000)  # fmt: skip
                self.clock.sleep(wait_ms / 1000)
                order = self._find(a)
        if order is None:
            a.state = "absent"
            self.cx.journal(
                [(a.cid, "absent", AbsentPayload(reason="not on the venue after its deadline"))]
            )
            log.info("%s: never reached Gate", a.cid)
        return order

    def settle(self, a: Attempt) -> None:
        """Bring an attempt to a final state (or prove it never existed)."""
        order = self._find_or_wait(a)
        if order is None:
            return
        if order.is_open:
            order = self._cancel(a, order)
        self.final(a, order)

    def resolve_after_send(self, a: Attempt) -> None:
        """After an ambiguous create: a resting PostOnly keeps resting for its window."""
        order = self._find_or_wait(a)
        if order is None:
            return
        if order.is_open and a.phase == "p":
            a.state = "acked"
            a.order_id = order.order_id
            self.cx.journal([(a.cid, "ack", AckPayload(
                order_id=order.order_id, open=True, filled=str(order.filled_venue)))])  # fmt: skip
            return
        if order.is_open:
            order = self._cancel(a, order)
        self.final(a, order)

    def final(self, a: Attempt, order: tr.VenueOrder) -> None:
        fills = self._fills(a, order)
        a.state = "final"
        a.order_id = order.order_id
        a.filled = order.filled_venue
        a.avg_price = order.avg_price_usdt
        a.finish_as = order.finish_as
        a.fills = [fill_json(f) for f in fills]
        self.cx.journal([(a.cid, "final", FinalPayload(
            order_id=order.order_id, filled=str(order.filled_venue),
            avg_price=str(order.avg_price_usdt) if order.avg_price_usdt is not None else None,
            finish_as=order.finish_as, fills=a.fills,
        ))])  # fmt: skip
        log.info("%s: filled %s of %s (%s)", a.cid, order.filled_venue, order.qty_venue,
                 order.finish_as)  # fmt: skip
