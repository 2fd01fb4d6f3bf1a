"""The planner's guardrails: checks that empty a plan or restrict it to risk-reducing orders.

Before sizing (:func:`pre_guardrails`): NAV must be positive, the market data fresh and the venue
prices close to ``P_ref``; a failing check empties the plan (safe mode). After sizing: the net
delta (:func:`net_delta_check`; beyond ``max_net_delta`` only orders that reduce it may trade, and
a book plan is judged as a whole by the net delta it leaves) and the largest order's notional
(:func:`notional_check`; beyond the limit the plan is emptied).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from btcn.contracts.plan import GuardrailEffect
from btcn.core.book import Quotes
from btcn.core.intents import Dropped, OrderIntent, PlannerParams
from btcn.core.legs import delta_sign
from btcn.core.money import ZERO

Effect = GuardrailEffect


@dataclass(frozen=True, slots=True)
class GuardrailCheck:
    name: str
    ok: bool
    value: str
    limit: str
    effect: Effect
    detail: str


def pre_guardrails(
    nav_f: float, quotes: Quotes, now_ms: int, data_as_of_ms: int | None, params: PlannerParams
) -> list[GuardrailCheck]:
    """NAV, data age and price deviation: any failing one empties the plan."""
    checks = [
        GuardrailCheck(
            "nav_positive",
            nav_f > 0,
            f"{nav_f:.2f}",
            "> 0",
            "none" if nav_f > 0 else "empty_plan",
            "NAV must be positive to compute weights",
        )
    ]
    if data_as_of_ms is None:
        checks.append(
            GuardrailCheck(
                "data_age",
                False,
                "unknown",
                f"{params.max_data_age_ms} ms",
                "empty_plan",
                "the age of the market data is unknown",
            )
        )
    else:
        age = now_ms - data_as_of_ms
        ok = 0 <= age <= params.max_data_age_ms
        detail = (
            "market data is fresh"
            if ok
            else ("market data is newer than the snapshot" if age < 0 else "market data is stale")
        )
        checks.append(
            GuardrailCheck(
                "data_age",
                ok,
                f"{age} ms",
                f"{params.max_data_age_ms} ms",
                "none" if ok else "empty_plan",
                detail,
            )
        )
    p_ref = float(quotes.p_ref)
    dev = max(abs(float(quotes.spot) / p_ref - 1.0), abs(float(quotes.perp_mark) / p_ref - 1.0))
    ok = dev <= params.max_price_deviation
    checks.append(
        GuardrailCheck(
            "price_deviation",
            ok,
            f"{dev:.6f}",
            f"{params.max_price_deviation:.6f}",
            "none" if ok else "empty_plan",
            "venue prices agree with P_ref" if ok else "a venue price deviates from P_ref",
        )
    )
    return checks


def net_delta_check(
    intents: list[OrderIntent], net_btc: Decimal, net_frac: float,
    net_after: Callable[[Sequence[OrderIntent]], tuple[Decimal, float]], params: PlannerParams,
    *, book_mode: bool,
) -> tuple[GuardrailCheck, list[OrderIntent], list[Dropped]]:  # fmt: skip
    """The net-delta guardrail: the check, the orders kept and those refused.

    ``net_frac`` is ``|net delta| * P_ref / NAV`` before the plan; ``net_after(orders)`` gives the
    net delta after them (BTC and fraction of NAV). Beyond ``max_net_delta`` only orders that
    reduce ``|net delta|`` may trade, unless a book plan as a whole leaves it smaller than before
    or within the limit."""
    ok = abs(net_frac) <= params.max_net_delta
    detail = "net delta within limit"
    if not ok and book_mode and intents:
        after_btc, after_frac = net_after(intents)
        if abs(after_btc) < abs(net_btc) or abs(after_frac) <= params.max_net_delta:
            ok, detail = True, "net delta beyond limit; the book plan reduces it"
    check = GuardrailCheck(
        "net_delta",
        ok,
        f"{net_frac:.6f}",
        f"{params.max_net_delta:.6f}",
        "none" if ok else "risk_reducing_only",
        detail if ok else "net delta beyond limit: risk-reducing orders only",
    )
    if ok:
        return check, intents, []
    direction = 1 if net_btc > 0 else -1
    keep = [o for o in intents if delta_sign(o.action) == -direction]
    refused = [
        Dropped(o.leg, o.action, o.side, o.qty_btc,
                "guardrail net_delta: only risk-reducing orders allowed")
        for o in intents if delta_sign(o.action) != -direction
    ]  # fmt: skip
    return check, keep, refused


def notional_check(intents: Sequence[OrderIntent], params: PlannerParams) -> GuardrailCheck:
    """The largest order's notional against ``max_order_notional_usdt`` (beyond: empty plan)."""
    biggest = max((o.notional_usdt for o in intents), default=ZERO)
    ok = biggest <= params.max_order_notional_usdt
    return GuardrailCheck(
        "order_notional",
        ok,
        f"{biggest}",
        f"{params.max_order_notional_usdt}",
        "none" if ok else "empty_plan",
        "order sizes within limit" if ok else "an order exceeds the notional limit",
    )
