"""The plan's wallet transfers on Gate (``POST /wallet/transfers``), crash-safe without a client id.

A spot ↔ futures transfer carries no id of ours, so it cannot be looked up the way an order is.
Instead each attempt is journaled (``intent``) **before** it is sent, with the balances read just
before it: spot USDT (available + locked) and the futures wallet ``total``, and the amount. The
outcome is journaled after (``done`` with Gate's ``tx_id``, ``refused`` on a 4xx, ``absent`` when
provably not sent, ``ambiguous`` on a timeout / reset / 5xx). An attempt whose outcome is unknown
(ambiguous, or a run killed between send and answer) is decided **before anything else**:

1. the futures ledger (``account_book?type=dnw``) since the intent: an entry with ``change`` equal
   to +amount (into futures) or −amount (out of it), not already claimed by another transfer of
   this plan, proves it happened (its ledger id is journaled, so it is never claimed twice);
2. otherwise the balances: both wallets moved by the amount → it happened (the ledger lags); both
   unchanged → it did not. Anything else → :class:`UncertainTransferError` (exit 6, nothing sent)
   while the intent is less than :data:`LEDGER_TRUST_S` old; after that the ledger alone decides
   (no entry: it never happened — the balances moved for another reason).

"Did not happen" is concluded only once the request's HTTP timeout plus a margin has passed since
the intent (a request still in flight could otherwise land later). Only then is the transfer sent
again (a new attempt number). Each amount is recomputed from the balances read just before it
by the one rule every executor applies, :func:`btcn.core.treasury.applied_amount` (the planned
amount capped by the source wallet's available, floored to the cent, none under the dust level);
after the orders, :func:`btcn.core.treasury.after_orders_allowed` decides whether it is sent.
"""

from __future__ import annotations

import logging
from decimal import Decimal

from btcn.contracts import Leg, TransferExecution
from btcn.core.money import ZERO
from btcn.core.treasury import DUST_USDT, after_orders_allowed, applied_amount
from btcn.errors import ExchangeError
from btcn.exchange import translate as tr
from btcn.exchange.errors import UncertainTransferError, write_outcome
from btcn.exchange.journal import (
    TransferRun,
    XferAbsentPayload,
    XferAmbiguousPayload,
    XferAttempt,
    XferDonePayload,
    XferIntentPayload,
    XferRefusedPayload,
    XferSkippedPayload,
)
from btcn.exchange.live.state import Component, to_send

log = logging.getLogger("btcn.exchange.live")

LEDGER_MARGIN_S = 120  # look this far before an intent in the ledger (clock differences)
SETTLE_MARGIN_S = 2.0  # beyond the HTTP timeout before "not found" means "never happened"
BALANCE_TOLERANCE = Decimal("0.01")
LEDGER_TRUST_S = 60  # after this long without a ledger entry, the ledger alone decides
TRANSFER_HINT = (
    "check the spot and futures wallets on Gate; re-run the same command to resume: btcn decides "
    "from the futures ledger and the balances whether the transfer happened and never repeats one"
)


class Treasury(Component):
    """The plan's wallet transfers: sent, decided when their outcome is unknown, reported."""

    # --- state -----------------------------------------------------------------------------------
    def _claimed_ledger_ids(self) -> set[str]:
        return {
            a.ledger_id
            for run in self.st.transfers.values()
            for a in run.attempts
            if a.state == "done" and a.ledger_id
        }

    def _balances_now(self) -> tuple[Decimal, Decimal, Decimal, Decimal]:
        """(spot USDT total, spot USDT available, futures total, futures available)."""
        spot = self.gate.spot_accounts()
        fut = self.gate.futures_account()
        quote = self.st.pair_rules.quote.upper() if self.st.pair_rules else "USDT"
        return (
            tr.spot_totals(spot).get(quote, ZERO),
            tr.spot_available(spot).get(quote, ZERO),
            tr.to_dec(fut.total, "futures total"),
            max(tr.to_dec(fut.available, "futures available"), ZERO),
        )

    # --- deciding an unknown outcome --------------------------------------------------------------
    def _happened(self, run: TransferRun, a: XferAttempt) -> tuple[bool | None, str | None]:
        """From the ledger and the balances: True/False, or None when they disagree."""
        into_futures = run.planned.to == "futures"
        change = a.amount if into_futures else -a.amount
        claimed = self._claimed_ledger_ids()
        since_s = a.ts_ms // 1000 - LEDGER_MARGIN_S
        for row in self.gate.transfer_ledger(since_s):
            rid = row.id or f"{row.time}/{row.change}"
            if row.type != "dnw" or rid in claimed:
                continue
            when_ms = tr.seconds_to_ms(row.time) or 0
            if tr.to_dec(row.change, "ledger change") == change and when_ms >= a.ts_ms - 5_000:
                return True, rid
        spot_now, _, fut_now, _ = self._balances_now()
        d_spot, d_fut = spot_now - a.spot_before, fut_now - a.fut_before
        moved = abs(d_fut - change) <= BALANCE_TOLERANCE and abs(d_spot + change) <= (
            BALANCE_TOLERANCE
        )
        still = abs(d_fut) <= BALANCE_TOLERANCE and abs(d_spot) <= BALANCE_TOLERANCE
        if moved:
            return True, None
        if still:
            return False, None
        return None, None

    def _resolve_transfer(self, run: TransferRun, a: XferAttempt) -> None:
        """Decide an attempt whose answer was never seen; journal the conclusion."""
        settle_ms = a.ts_ms + int((self.cx.gs.timeout_s + SETTLE_MARGIN_S) * 1000)
        happened, ledger_id = self._happened(run, a)
        if happened is False:
            wait_ms = settle_ms - self.gate.venue_now_ms()
            if wait_ms > 0:
                log.info("%s: not on the ledger yet; waiting %.1f s before deciding", run.key,
                         wait_ms / 1000)  # fmt: skip
                self.clock.sleep(wait_ms / 1000)
                happened, ledger_id = self._happened(run, a)
        if happened is None and self.gate.venue_now_ms() - a.ts_ms >= LEDGER_TRUST_S * 1000:
            # Every transfer books a dnw ledger entry; none after a minute: it never happened
            # (the balances moved for another reason: funding, a manual transfer, a fill).
            happened = False
        if happened is None:
            raise UncertainTransferError(
                f"transfer {run.planned.from_} -> {run.planned.to} of {a.amount} USDT: the "
                "futures ledger does not show it but the balances moved by another amount",
                hint=TRANSFER_HINT,
            )
        if happened:
            a.state, a.ledger_id = "done", ledger_id
            a.detail = "confirmed from the futures ledger" if ledger_id else (
                "confirmed from the balances (not on the ledger yet)"
            )  # fmt: skip
            self.cx.journal([(run.key, "done", XferDonePayload(
                n=a.n, ledger_id=ledger_id, detail=a.detail))])  # fmt: skip
            log.info("%s: transfer of %s USDT happened (%s)", run.key, a.amount, a.detail)
        else:
            a.state = "absent"
            self.cx.journal([(run.key, "absent", XferAbsentPayload(
                n=a.n, reason="not on the ledger, balances unchanged"))])  # fmt: skip
            log.info("%s: transfer of %s USDT never happened", run.key, a.amount)

    def resolve_transfers(self) -> None:
        """First thing of a run: every transfer attempt with an unknown outcome is decided."""
        for run in self.st.transfers.values():
            last = run.last
            if last is not None and last.state in ("intent", "ambiguous"):
                self._resolve_transfer(run, last)

    # --- sending -----------------------------------------------------------------------------------
    def transfers_due(self, when: str) -> list[TransferRun]:
        return [r for r in self.st.transfers.values() if r.planned.when == when and not r.finished]

    def do_transfers(self, when: str) -> None:
        for run in self.transfers_due(when):
            self._do_transfer(run)

    def after_orders(self, all_filled: bool) -> None:
        """The plan's after-orders transfers, as every executor sends them
        (:func:`btcn.core.treasury.after_orders_allowed`)."""
        for run in self.transfers_due("after_orders"):
            if not after_orders_allowed(run.planned.from_, all_filled):
                # Taking margin out of a book that did not trade as planned: left to the next plan.
                run.not_sent_reason = "the orders did not all fill: the margin stays in futures"
                continue
            self._do_transfer(run)

    def _do_transfer(self, run: TransferRun) -> None:
        t = run.planned
        if len(run.attempts) >= 3:  # three attempts that provably never reached Gate
            return
        last = run.last
        if last is not None and last.state == "absent":
            # Just before sending again: a late copy of the last attempt must not be doubled.
            happened, ledger_id = self._happened(run, last)
            if happened:
                last.state, last.ledger_id = "done", ledger_id
                last.detail = "found on the futures ledger before sending it again"
                self.cx.journal([(run.key, "done", XferDonePayload(
                    n=last.n, ledger_id=ledger_id, detail=last.detail))])  # fmt: skip
                return
        spot_total, spot_avail, fut_total, fut_avail = self._balances_now()
        source = spot_avail if t.from_ == "spot" else fut_avail
        amount = applied_amount(t.amount_usdt, source, DUST_USDT)
        if amount == 0:
            run.skipped = (
                f"{t.from_} wallet has {source} USDT available: below the {DUST_USDT} USDT minimum"
            )
            run.skipped_amount = ZERO
            self.cx.journal([(run.key, "skipped", XferSkippedPayload(
                reason=run.skipped, amount=str(run.skipped_amount)))])  # fmt: skip
            log.warning("%s skipped: %s", run.key, run.skipped)
            return
        a = XferAttempt(len(run.attempts) + 1, amount, self.gate.venue_now_ms(), spot_total,
                        fut_total)  # fmt: skip
        if amount < t.amount_usdt:
            a.detail = f"capped to the {t.from_} wallet's available {source} USDT"
        intent: XferIntentPayload = {
            "n": a.n, "from": t.from_, "to": t.to, "amount": str(amount), "ts_ms": a.ts_ms,
            "spot_before": str(spot_total), "fut_before": str(fut_total),
            "source_available": str(source), "reason": t.reason, "when": t.when,
        }  # fmt: skip
        self.cx.journal([(run.key, "intent", intent)])
        run.attempts.append(a)
        log.info("transferring %s USDT %s -> %s (%s)", amount, t.from_, t.to, t.reason)
        try:
            tx_id = self.gate.transfer("USDT", t.from_, t.to, amount)
        except ExchangeError as exc:
            self._transfer_failed(run, a, exc)
            return
        a.state, a.tx_id = "done", tx_id
        self.cx.journal([(run.key, "done", XferDonePayload(n=a.n, tx_id=tx_id, detail=a.detail))])

    def _transfer_failed(self, run: TransferRun, a: XferAttempt, exc: ExchangeError) -> None:
        outcome = write_outcome(exc)
        if outcome == "rejected":
            a.state = "refused"
            a.detail = f"refused by Gate ({getattr(exc, 'label', '') or exc.message})"
            self.cx.journal([(run.key, "refused", XferRefusedPayload(
                n=a.n, label=getattr(exc, "label", ""), detail=a.detail))])  # fmt: skip
            log.warning("%s refused: %s", run.key, exc.message)
            return
        if outcome in ("absent", "absent_stop"):
            # provably not done: a transfer is not sent past an auth, clock or rate-limit refusal
            a.state = "absent"
            self.cx.journal([(run.key, "absent", XferAbsentPayload(n=a.n, reason=exc.message))])
            raise exc
        a.state = "ambiguous"
        self.cx.journal([(run.key, "ambiguous", XferAmbiguousPayload(n=a.n, error=exc.message))])
        log.warning("outcome of %s unknown (%s): checking the ledger and the balances", run.key,
                    exc.message)  # fmt: skip
        self._resolve_transfer(run, a)
        if a.state == "absent":
            self._do_transfer(run)  # provably never happened: send it again

    def planned_shift(self, when: str) -> tuple[Decimal, Decimal]:
        """(spot USDT, futures available) change the pending transfers would make (after the
        realise orders, whose profit is estimated at the plan's price)."""
        spot = fut = ZERO
        spot_avail = tr.spot_available(self.st.balances.spot).get("USDT", ZERO)
        fut_avail = max(tr.to_dec(self.st.balances.futures.available, "futures available"), ZERO)
        for run in self.st.legs.values():
            side = self.st.balances.sides[
                "short" if run.order.leg is Leg.BTC_PERP_SHORT else "long"
            ]
            if not run.market_only or side.entry_price_usdt is None:
                continue
            # what the realise order will still close: all of it on a first run, and also on a
            # resume whose earlier attempt was provably never placed (a filled part is already
            # in the balances just read)
            qty = to_send(run)
            if qty > 0:
                o, entry = run.order, side.entry_price_usdt
                move = entry - o.limit_price_usdt if o.leg is Leg.BTC_PERP_SHORT else (
                    o.limit_price_usdt - entry
                )  # fmt: skip
                released = qty * self.st.mult * entry / (side.leverage or Decimal(1))
                gain = max(move * qty * self.st.mult, ZERO) + released
                fut_avail += gain
                fut += gain
        for run in self.transfers_due(when):
            t = run.planned
            avail = spot_avail if t.from_ == "spot" else fut_avail
            amount = applied_amount(t.amount_usdt, avail, DUST_USDT)
            sign = Decimal(1) if t.to == "spot" else Decimal(-1)
            spot += sign * amount
            fut -= sign * amount
        return spot, fut

    # --- report ------------------------------------------------------------------------------------
    def transfer_reports(self) -> list[TransferExecution]:
        out = []
        for run in self.st.transfers.values():
            t = run.planned
            last = run.last
            detail: list[str] = []
            if run.skipped:
                status, amount = "skipped", run.skipped_amount
                detail.append(run.skipped)
            elif last is None:
                status, amount = "not_sent", ZERO
            else:
                amount = last.amount
                status = {"done": "done", "refused": "refused"}.get(last.state, "not_sent")
                if last.detail:
                    detail.append(last.detail)
                lost = sum(1 for a in run.attempts if a.state == "absent")
                if lost:
                    detail.append(f"{lost} attempt(s) provably never reached Gate")
            if run.not_sent_reason and status == "not_sent":
                detail.append(run.not_sent_reason)
            out.append(TransferExecution(
                from_=t.from_, to=t.to, amount_usdt=amount, planned_amount_usdt=t.amount_usdt,
                tx_id=last.tx_id if last is not None and status == "done" else None,
                status=status, reason=t.reason, when=t.when, detail="; ".join(detail),  # type: ignore[arg-type]
            ))  # fmt: skip
        return out
