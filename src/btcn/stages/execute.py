"""``btcn execute``: work a plan on a venue and report every order.

Without ``--live`` nothing is sent anywhere. A plan for the ``paper`` venue is filled by the paper
fill model (:mod:`btcn.exchange.paper`) against the paper account in the state store; with
``--dry-run`` the same fills are computed and reported but nothing is stored. Executing the same
plan twice never trades twice: the state store remembers each executed plan's digest.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from btcn.contracts import (
    ExecutionReport,
    Fill,
    Leg,
    OrderExecution,
    Plan,
    PlannedOrder,
    PlannedTransfer,
    dump_json,
    plan_digest,
)
from btcn.core.book import Book
from btcn.core.ids import client_order_id
from btcn.core.legs import SIDE_OF
from btcn.core.money import ZERO, dec
from btcn.core.plan_check import check_plan
from btcn.core.reconcile import Holdings, differences, plan_start
from btcn.core.treasury import DUST_USDT, after_orders_allowed, applied_amount, available_estimate
from btcn.errors import InvalidInputError, UsageError
from btcn.exchange.duplicates import already_executed_report
from btcn.exchange.paper import (
    PaperFill,
    apply_fill,
    apply_transfer,
    clip_spot_fill,
    simulate_order,
)
from btcn.exchange.request import ExecuteRequest
from btcn.runtime.settings import Settings
from btcn.runtime.state import StateStore
from btcn.stages.common import fee_rates, plan_price_tolerance

PAPER = "paper"

__all__ = ["ExecuteRequest", "initial_paper_book", "plan_digest", "run", "simulate_plan"]


def initial_paper_book(settings: Settings) -> Book:
    p = settings.paper
    if settings.account.mode == "unified":  # one balance: the futures USDT joins the spot's
        return Book(spot_usdt=dec(p.spot_usdt) + dec(p.futures_usdt), spot_btc=dec(p.spot_btc),
                    futures_usdt=dec(0))  # fmt: skip
    return Book(
        spot_usdt=dec(p.spot_usdt), spot_btc=dec(p.spot_btc), futures_usdt=dec(p.futures_usdt)
    )


def _order_report(
    order: PlannedOrder, digest: str, fills: list[PaperFill], status: str, detail: str = ""
) -> OrderExecution:
    cid_p = client_order_id(digest, order.leg, "p", order.purpose)
    cid_m = client_order_id(digest, order.leg, "m", order.purpose)
    filled_venue = sum((f.qty_venue for f in fills), ZERO)
    filled_btc = sum((f.qty_btc for f in fills), ZERO)
    fee = sum((f.fee_usdt for f in fills), ZERO)
    avg = (
        sum((f.qty_btc * f.price_usdt for f in fills), ZERO) / filled_btc
        if filled_btc > 0
        else None
    )
    kinds = {"maker" if f.maker else "taker" for f in fills}
    liquidity = "none" if not kinds else "mixed" if len(kinds) == 2 else kinds.pop()
    return OrderExecution(
        leg=order.leg,
        action=order.action,
        side=order.side,
        client_order_id=cid_p,
        market_client_order_id=cid_m,
        requested_qty_venue=order.qty_venue,
        requested_qty_btc=order.qty_btc,
        filled_qty_venue=filled_venue,
        filled_qty_btc=filled_btc,
        avg_price_usdt=avg,
        fee_usdt=fee,
        liquidity=liquidity,
        market_fallback=any(not f.maker for f in fills),
        status=status,
        fills=[
            Fill(
                client_order_id=cid_p if f.maker else cid_m,
                qty_venue=f.qty_venue,
                qty_btc=f.qty_btc,
                price_usdt=f.price_usdt,
                fee_usdt=f.fee_usdt,
                liquidity="maker" if f.maker else "taker",
            )
            for f in fills
        ],
        detail=detail,
        purpose=order.purpose,
    )


def _step_and_unit(plan: Plan, leg: Leg) -> tuple[Decimal, Decimal]:
    if leg is Leg.BTC_SPOT:
        return plan.spot_spec.step_btc, Decimal(1)
    return plan.perp_spec.step_contracts, plan.perp_spec.multiplier_btc


def paper_transfers(
    plan: Plan, book: Book, when: str, settings: Settings, *, all_filled: bool = True
) -> tuple[Book, list[tuple[PlannedTransfer, Decimal]]]:
    """Apply the plan's transfers of one phase to the paper book, as every executor does: after
    the orders only what :func:`btcn.core.treasury.after_orders_allowed` allows, each moving
    :func:`btcn.core.treasury.applied_amount` (capped by the source wallet's available -- futures:
    btcn's estimate, unrealised profit excluded -- to the cent, none under the dust level)."""
    mark = next(w.price_usdt for w in plan.weights if w.leg is Leg.BTC_PERP_SHORT)
    mult = plan.perp_spec.multiplier_btc
    done = []
    for t in plan.transfers:
        if t.when != when:
            continue
        if when == "after_orders" and not after_orders_allowed(t.from_, all_filled):
            done.append((t, ZERO))
            continue
        if t.from_ == "spot":
            available = book.spot_usdt
        else:
            available = available_estimate(book, mark, mult, dec(settings.risk.leverage))
        amount = applied_amount(t.amount_usdt, available, DUST_USDT)
        book, moved = apply_transfer(book, t.from_, amount)
        done.append((t, moved))
    return book, done


def simulate_plan(
    plan: Plan, digest: str, settings: Settings, book: Book | None, now_ms: int, dry_run: bool
) -> tuple[list[OrderExecution], Book | None]:
    """Fill every order with the paper model; with a book, apply the plan's transfers before and
    after the orders, clip spot and update the book."""
    fees = fee_rates(settings)
    ex = settings.execution
    prices = {w.leg: w.price_usdt for w in plan.weights}
    reports = []
    if book is not None:
        book, _ = paper_transfers(plan, book, "before_orders", settings)
    for order in plan.orders:
        step, unit = _step_and_unit(plan, order.leg)
        fills = simulate_order(
            order,
            prices[order.leg],
            step,
            unit,
            fees,
            dec(ex.paper_maker_fill_fraction),
            dec(ex.slippage),
        )
        detail = ""
        if book is not None:
            kept = []
            buy = SIDE_OF[order.action].value == "BUY"
            for f in fills:
                g = f
                if order.leg is Leg.BTC_SPOT:
                    g = clip_spot_fill(f, buy, book, step, fees.rate(order.leg, f.maker))
                    if g is not f:
                        detail = "spot fill cut to the available balance (spot is never leveraged)"
                if g is not None:
                    book, _ = apply_fill(book, order.leg, order.action, g,
                                         plan.perp_spec.multiplier_btc,
                                         fees.rate(order.leg, g.maker),
                                         unified=settings.account.mode == "unified")  # fmt: skip
                    kept.append(g)
            fills = kept
        filled = sum((f.qty_venue for f in fills), ZERO)
        if dry_run:
            status = "simulated"
        elif filled == order.qty_venue:
            status = "filled"
        elif filled > 0:
            status = "partially_filled"
        else:
            status = "rejected"
        reports.append(_order_report(order, digest, fills, status, detail))
    if book is not None:
        all_filled = all(r.filled_qty_venue == r.requested_qty_venue for r in reports)
        book, _ = paper_transfers(plan, book, "after_orders", settings, all_filled=all_filled)
    return reports, book


def paper_mismatch(plan: Plan, book: Book, settings: Settings) -> str | None:
    """What differs between the paper account and the book the plan was made from, by the live
    reconcile rule and tolerance (:mod:`btcn.core.reconcile`); None when they match."""
    held = Holdings(book.spot_btc, book.long_contracts, book.short_contracts)
    problems = differences(plan_start(plan), held, dec(settings.gate.reconcile_tolerance_btc))
    return "; ".join(problems) if problems else None


def _refuse_paper_mismatch(plan: Plan, book: Book, req: ExecuteRequest) -> str:
    """Exit 3 when the paper account is not the plan's starting book (unless --force); the note
    to add to the report otherwise."""
    what = paper_mismatch(plan, book, req.settings)
    if what is None:
        return ""
    if not req.force:
        raise InvalidInputError(
            f"the paper account does not match the plan's snapshot: {what}; nothing was traded",
            hint="plan from the paper account: btcn fetch snapshot --venue paper --candles "
            "CANDLES | btcn plan --snapshot - --candles CANDLES | btcn execute (or add --force)",
        )
    return f"; --force: the paper account differed from the plan's snapshot ({what})"


def _report(plan: Plan, digest: str, req: ExecuteRequest, status: str, orders: list[OrderExecution],
            recorded: bool, note: str) -> ExecutionReport:  # fmt: skip
    return ExecutionReport(
        as_of_ms=req.now_ms,
        venue=PAPER if not req.live else plan.venue,
        plan_digest=digest,
        plan_as_of_ms=plan.as_of_ms,
        dry_run=req.dry_run,
        live=req.live,
        status=status,
        rebalance_recorded=recorded,
        orders=orders,
        note=note,
    )


def run(req: ExecuteRequest) -> ExecutionReport:
    check_plan(req.plan, plan_price_tolerance(req.settings))  # before anything is sent or stored
    plan = req.plan
    digest = plan_digest(plan)
    if req.live:
        from btcn.exchange.live import execute_live  # the gateway; imported only for --live

        return execute_live(req, digest)
    if plan.venue != PAPER and not req.dry_run:
        raise UsageError(
            f"this plan is for venue {plan.venue!r}: real orders need --live",
            hint="add --dry-run to simulate it without sending anything",
        )
    state_path = req.state_path or Path(req.settings.state.path)

    if req.dry_run:
        book = None
        note = "dry run: nothing was sent and nothing was stored"
        if plan.venue == PAPER and state_path.exists():
            with StateStore(state_path, read_only=True) as store:
                if store.executed_report(digest, PAPER) is not None:
                    note += "; this plan was already executed on the paper account"
                book = store.paper_book()
        if plan.venue == PAPER and (differs := paper_mismatch(
                plan, book or initial_paper_book(req.settings), req.settings)):  # fmt: skip
            note += f"; the paper account differs from the plan's snapshot ({differs})"
        if not plan.orders and not plan.transfers:
            return _report(
                plan, digest, req, "nothing_to_do", [], False, note + "; the plan has no orders"
            )
        orders, _ = simulate_plan(plan, digest, req.settings, book, req.now_ms, dry_run=True)
        return _report(plan, digest, req, "completed", orders, False, note)

    with StateStore(state_path) as store:
        previous = store.executed_report(digest, PAPER)
        if previous is not None:
            return already_executed_report(
                plan, digest, previous, req.now_ms, venue=PAPER, live=False
            )
        if not plan.orders and not plan.transfers:
            return _report(plan, digest, req, "nothing_to_do", [], False, "the plan has no orders")
        with store.transaction() as db:
            book = store.paper_book(db) or initial_paper_book(req.settings)
            forced = _refuse_paper_mismatch(plan, book, req)  # before anything changes
            orders, book = simulate_plan(
                plan, digest, req.settings, book, req.now_ms, dry_run=False
            )
            assert book is not None
            complete = all(o.status == "filled" for o in orders)
            traded = any(o.filled_qty_venue > 0 for o in orders) or bool(plan.transfers)
            status = "completed" if complete else "partial"
            note = "paper account updated" + forced
            rebalanced = complete and bool(plan.orders)  # a transfer-only plan is no rebalance
            report = _report(plan, digest, req, status, orders, rebalanced, note)
            store.save_paper_book(book, req.now_ms, db)
            if rebalanced:
                store.record_rebalance(digest, PAPER, plan.as_of_ms, req.now_ms, db)
            if traded or complete:
                store.record_execution(digest, PAPER, req.now_ms, status, dump_json(report), db)
        return report
