"""The audit's rule table: which change to propose for a drifted KPI, from the run's evidence.

Rules are tried top to bottom; the first whose KPI family matches and whose condition holds
makes the proposal, and its ``evidence`` names the figures it rests on. The table (also in the
manual, "Audit proposals"):

====================  ============================  ==========================================
rule                  KPIs                          condition -> proposal
====================  ============================  ==========================================
signal_gating         sharpe*, net_apr, capture,    ≥ 10 % of the orders were blocked by the
                      hedged_fraction, funding_apr  signal -> a signal change
                                                    (``strategy.signal_max_age`` halved, or
                                                    review the signal), never a cooldown change
market_funding_low    funding_apr, net_apr          the market's funding APR fell below the
                                                    target's share of it -> no setting; review
                                                    the target (the market paid less)
under_hedged          funding_apr, net_apr,         hedged fraction < 90 % of the short target
                      capture, hedged_fraction      -> raise ``targets.BTC_PERP_SHORT``
taker_fills           fee_drag, fees/NAV/day,       ≥ 50 % of the fills were taker -> a longer
                      sharpe*                       ``execution.post_only_window``
fee_drag_band         fee_drag, fees/NAV/day,       otherwise -> raise
                      sharpe*, net_apr              ``strategy.threshold_floor`` (fewer
                                                    rebalances)
basis_price_loss      sharpe*, capture, net_apr     price + basis PnL lost more than the fees
                                                    -> tighten ``strategy.max_delta_drift``
max_drawdown          max_drawdown                  -> tighten ``guardrails.max_net_delta``
sharpe_cooldown       sharpe*                       fees ≥ 30 % of funding -> lengthen
                                                    ``strategy.cooldown``
review                anything else                 -> no automatic suggestion
====================  ============================  ==========================================

``sharpe*`` is ``sharpe_30d``, ``sharpe`` (the whole run) and ``sortino``. Each rule is a pure
function of a :class:`Facts` (the run's figures) and the current settings.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

SHARPE = frozenset({"sharpe_30d", "sharpe", "sortino"})


@dataclass(frozen=True, slots=True)
class Facts:
    """The run's figures the rules read (NaN when unknown)."""

    days: float = math.nan
    orders: int = 0  # fills
    blocked_orders: int = 0  # order proposals the signal blocked (one per decision it recurs in)
    taker_share: float = math.nan
    rebalances: int = 0
    funding_usdt: float = math.nan
    fees_usdt: float = math.nan
    price_pnl_usdt: float = math.nan
    basis_pnl_usdt: float = math.nan
    funding_rate_apr: float = math.nan
    hedged_fraction: float = math.nan
    short_target: float = math.nan

    @property
    def blocked_share(self) -> float:
        total = self.orders + self.blocked_orders
        return self.blocked_orders / total if total else math.nan

    @property
    def fee_drag(self) -> float:
        ok = math.isfinite(self.funding_usdt) and self.funding_usdt > 0
        return self.fees_usdt / self.funding_usdt if ok else math.nan


@dataclass(frozen=True, slots=True)
class Change:
    setting: str
    current: str
    suggested: str
    action: str  # what to do, without the KPI's own description
    evidence: str  # the figures the rule rests on


def _ge(x: float, limit: float) -> bool:
    return math.isfinite(x) and x >= limit


def _num(x: Any, default: float) -> float:
    return float(x) if isinstance(x, int | float) and math.isfinite(float(x)) else default


def _pct(x: float) -> str:
    return f"{x * 100:.1f} %" if math.isfinite(x) else "n/a"


def _round_up(x: float, step: float) -> float:
    return math.ceil(x / step - 1e-9) * step


def _round_down(x: float, step: float) -> float:
    return math.floor(x / step + 1e-9) * step


def _signal(c: Any, cur: dict[str, Any], f: Facts) -> Change:
    from btcn.core.durations import format_duration_ms

    age = int(_num(cur.get("strategy.signal_max_age_ms"), 86_400_000))
    new = max(age // 2, 300_000)
    return Change(
        "strategy.signal_max_age", format_duration_ms(age), format_duration_ms(new),
        f"the signal held the book off target: shorten how long a signal stays in force from "
        f"{format_duration_ms(age)} to {format_duration_ms(new)}, or review the signal source; "
        "a longer cooldown would not help (the orders were blocked, not too frequent)",
        f"{f.blocked_orders} order proposals blocked by the signal against {f.orders} fills "
        f"({_pct(f.blocked_share)} of all)",
    )  # fmt: skip


def _market(c: Any, cur: dict[str, Any], f: Facts) -> Change:
    return Change(
        "(target)", "", "",
        "the market paid less funding than the target assumes; no setting would earn what the "
        "market did not pay: review the target against the market's rate",
        f"market funding APR {_pct(f.funding_rate_apr)}",
    )  # fmt: skip


def _hedge(c: Any, cur: dict[str, Any], f: Facts) -> Change:
    t = f.short_target
    new = round(min(_round_up(t * 1.1, 0.01), 0.67), 4)  # 0.67: the classic account's ceiling
    return Change(
        "strategy.targets.BTC_PERP_SHORT", f"{t:g}", f"{new:g}",
        f"the book hedged only {_pct(f.hedged_fraction)} of NAV on average: raise the short "
        f"target from {t:g} to {new:g} (and the spot target with it)",
        f"hedged fraction {_pct(f.hedged_fraction)} vs short target {_pct(t)}",
    )  # fmt: skip


def _taker(c: Any, cur: dict[str, Any], f: Facts) -> Change:
    return Change(
        "execution.post_only_window", "", "longer",
        "most fills paid the taker fee: give the PostOnly orders of paper and live execution "
        "longer to fill before going Market (a backtest's PostOnly phase is always one bar)",
        f"taker share {_pct(f.taker_share)} of {f.orders} fills; fee drag {_pct(f.fee_drag)}",
    )  # fmt: skip


def _floor(c: Any, cur: dict[str, Any], f: Facts) -> Change:
    floor = _num(cur.get("strategy.threshold_floor"), 0.005)
    ratio = c.actual / c.target if c.better == "lower" and c.target > 0 else 1.5
    factor = min(2.0, max(1.1, ratio))
    new = round(_round_up(floor * factor, 0.0005), 6)
    per_day = f.rebalances / f.days if f.days > 0 else math.nan
    return Change(
        "strategy.threshold_floor", f"{floor:g}", f"{new:g}",
        f"raise the threshold floor from {floor:g} to {new:g} so fewer rebalances trade (fees "
        "scale with rebalance count)",
        f"{f.rebalances} rebalances ({per_day:.2f} a day), fees {f.fees_usdt:,.2f} USDT = "
        f"{_pct(f.fee_drag)} of funding",
    )  # fmt: skip


def _delta(c: Any, cur: dict[str, Any], f: Facts) -> Change:
    mdd = _num(cur.get("strategy.max_delta_drift"), 0.002)
    new = round(max(0.0005, _round_down(mdd / 2, 0.0005)), 6)
    return Change(
        "strategy.max_delta_drift", f"{mdd:g}", f"{new:g}",
        f"price and basis cost more than the fees: keep the book closer to neutral "
        f"(max_delta_drift {mdd:g} -> {new:g})",
        f"price PnL {f.price_pnl_usdt:+,.2f}, basis PnL {f.basis_pnl_usdt:+,.2f}, fees "
        f"{f.fees_usdt:,.2f} USDT",
    )  # fmt: skip


def _drawdown(c: Any, cur: dict[str, Any], f: Facts) -> Change:
    mnd = _num(cur.get("guardrails.max_net_delta"), 0.2)
    new = max(0.01, round(_round_down(mnd * c.target / c.actual, 0.01), 6))
    action = (f"tighten the net-delta guardrail from {mnd:g} to {new:g} of NAV so the book "
              "cannot drift as far from neutral")  # fmt: skip
    if c.status == "breach":
        action = (f"beyond the hard limit: stop live trading and review; then tighten "
                  f"max_net_delta from {mnd:g} to {new:g}")  # fmt: skip
    return Change("guardrails.max_net_delta", f"{mnd:g}", f"{new:g}", action,
                  f"price PnL {f.price_pnl_usdt:+,.2f} USDT")  # fmt: skip


def _cooldown(c: Any, cur: dict[str, Any], f: Facts) -> Change:
    from btcn.core.durations import format_duration_ms

    cd_ms = int(_num(cur.get("strategy.cooldown_ms"), 3_600_000))
    cur_s, new_s = format_duration_ms(cd_ms), format_duration_ms(cd_ms * 2)
    return Change(
        "strategy.cooldown", cur_s, new_s,
        f"lengthen the cooldown from {cur_s} to {new_s}: fewer, larger rebalances cut the fee "
        "drag that lowers risk-adjusted return",
        f"fees {f.fees_usdt:,.2f} USDT = {_pct(f.fee_drag)} of funding; {f.rebalances} "
        "rebalances",
    )  # fmt: skip


def _review(c: Any, cur: dict[str, Any], f: Facts) -> Change:
    return Change("(review)", "", "", "no automatic suggestion for this KPI; review the "
                  "strategy settings or the target", "no rule of the table applies")  # fmt: skip


APR = frozenset({"funding_apr_on_nav", "net_apr_on_nav"})
CARRY = frozenset({"funding_apr_on_nav", "net_apr_on_nav", "carry_capture", "hedged_fraction"})
FEES = frozenset({"fee_drag", "fees_per_nav_per_day"})


def _market_low(c: Any, f: Facts) -> bool:
    # the target assumed a market rate of at least target / hedged fraction
    if not (math.isfinite(f.funding_rate_apr) and math.isfinite(f.hedged_fraction)):
        return False
    return f.funding_rate_apr * max(f.hedged_fraction, 1e-9) < c.target


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    kpis: frozenset[str] | None  # None: every KPI
    when: Callable[[Any, Facts], bool]
    make: Callable[[Any, dict[str, Any], Facts], Change]


def _gated(c: Any, f: Facts) -> bool:
    return _ge(f.blocked_share, 0.10)


def _under(c: Any, f: Facts) -> bool:
    ok = math.isfinite(f.short_target) and f.short_target > 0
    return ok and _ge(0.9 * f.short_target - f.hedged_fraction, 1e-12)


def _takers(c: Any, f: Facts) -> bool:
    return _ge(f.taker_share, 0.5)


def _fees(c: Any, f: Facts) -> bool:
    return c.name in FEES or _ge(f.fee_drag, 0.3)


def _lossy(c: Any, f: Facts) -> bool:
    lost = -(f.price_pnl_usdt + f.basis_pnl_usdt)
    return math.isfinite(lost) and lost > _num(f.fees_usdt, 0.0)


def _always(c: Any, f: Facts) -> bool:
    return True


RULES: tuple[Rule, ...] = (
    Rule("signal_gating", SHARPE | CARRY, _gated, _signal),
    Rule("market_funding_low", APR, _market_low, _market),
    Rule("under_hedged", CARRY, _under, _hedge),
    Rule("taker_fills", FEES | SHARPE, _takers, _taker),
    Rule("fee_drag_band", FEES | {"net_apr_on_nav"} | SHARPE, _fees, _floor),
    Rule("basis_price_loss", SHARPE | {"carry_capture", "net_apr_on_nav"}, _lossy, _delta),
    Rule("max_drawdown", frozenset({"max_drawdown"}), _always, _drawdown),
    Rule("sharpe_cooldown", SHARPE, _always, _cooldown),
    Rule("review", None, _always, _review),
)


def choose(c: Any, current: dict[str, Any], facts: Facts) -> tuple[str, Change]:
    """The first rule of :data:`RULES` that applies to the drifted KPI ``c``, and its change."""
    for rule in RULES:
        if (rule.kpis is None or c.name in rule.kpis) and rule.when(c, facts):
            return rule.name, rule.make(c, current, facts)
    raise AssertionError("the review rule matches everything")  # pragma: no cover
