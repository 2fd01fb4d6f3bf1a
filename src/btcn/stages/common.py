"""Translations between contracts, settings and the core's plain data."""

from __future__ import annotations

import json
from decimal import Decimal

from btcn.contracts import Snapshot
from btcn.core.book import Book, Quotes
from btcn.core.money import dec
from btcn.core.planner import PlannerParams
from btcn.core.treasury import TreasuryParams
from btcn.core.unified import DiscountTier, MarginGuard, MarginRules
from btcn.exchange.paper import FeeRates
from btcn.runtime.settings import Settings


def book_from_snapshot(snap: Snapshot) -> Book:
    pos = snap.positions
    return Book(
        spot_usdt=snap.balances.spot_usdt,
        spot_btc=snap.balances.spot_btc,
        futures_usdt=snap.balances.futures_usdt,
        long_contracts=pos.BTC_PERP_LONG.size_contracts,
        long_entry_usdt=pos.BTC_PERP_LONG.entry_price_usdt or Decimal(0),
        short_contracts=pos.BTC_PERP_SHORT.size_contracts,
        short_entry_usdt=pos.BTC_PERP_SHORT.entry_price_usdt or Decimal(0),
        futures_available_usdt=snap.balances.futures_available_usdt,
    )


def quotes_from_snapshot(snap: Snapshot) -> Quotes:
    p = snap.prices
    return Quotes(
        p_ref=snap.p_ref_usdt,
        spot=p.spot_last_usdt,
        perp_mark=p.perp_mark_usdt,
        spot_bid=p.spot_bid_usdt,
        spot_ask=p.spot_ask_usdt,
        perp_bid=p.perp_bid_usdt,
        perp_ask=p.perp_ask_usdt,
    )


def targets_tuple(settings: Settings) -> tuple[float, float, float]:
    t = settings.strategy.targets
    return (t["BTC_SPOT"], t["BTC_PERP_LONG"], t["BTC_PERP_SHORT"])


def treasury_params(settings: Settings, maintenance_rate: Decimal) -> TreasuryParams:
    """The treasury's numbers: ``[risk]``, the book's leverage and Gate's liquidation rate
    (maintenance rate of the contract + the taker fee of the liquidation order)."""
    r = settings.risk
    return TreasuryParams(
        leverage=dec(r.leverage),
        margin_buffer=dec(r.margin_buffer),
        transfer_band=dec(r.transfer_band),
        min_liquidation_distance=dec(r.min_liquidation_distance),
        k=maintenance_rate + dec(settings.fees.perp_taker),
    )


def margin_rules(settings: Settings, maintenance_rate: Decimal,
                 tiers: tuple[DiscountTier, ...] | None = None) -> MarginRules:  # fmt: skip
    """The unified account's margin rule: the contract's maintenance rate, the book's leverage,
    the venue's BTC discount tiers (else ``[account] btc_discount_tiers``)."""
    own = tuple(DiscountTier(dec(lo), dec(d)) for lo, d in settings.account.btc_discount_tiers)
    return MarginRules(maintenance_rate=maintenance_rate, leverage=dec(settings.risk.leverage),
                       btc_tiers=tiers or own)  # fmt: skip


def planner_params(
    settings: Settings, slippage: float, maintenance_rate: Decimal | None = None,
    snapshot: Snapshot | None = None,
) -> PlannerParams:  # fmt: skip
    """Planner parameters; ``maintenance_rate`` (the contract's, or the backtest's setting) turns
    the treasury on."""
    st, fees, gr = settings.strategy, settings.fees, settings.guardrails
    # a unified account has no wallets to move money between: no treasury, no transfers
    classic = settings.account.mode == "classic"
    treasury = (
        None
        if maintenance_rate is None or not classic
        else treasury_params(settings, maintenance_rate)
    )
    return PlannerParams(
        targets=targets_tuple(settings),
        threshold_floor=st.threshold_floor,
        atr_multiplier=st.atr_multiplier,
        atr_window_ms=st.atr_window_ms,
        atr_periods=st.atr_periods,
        cooldown_ms=st.cooldown_ms,
        apply_signal_logic=st.apply_signal_logic,
        signal_max_age_ms=st.signal_max_age_ms,
        spot_maker_fee=dec(fees.spot_maker),
        spot_taker_fee=dec(fees.spot_taker),
        slippage=dec(slippage),
        max_data_age_ms=gr.max_data_age_ms,
        max_price_deviation=gr.max_price_deviation,
        max_order_notional_usdt=dec(gr.max_order_notional_usdt),
        max_net_delta=gr.max_net_delta,
        rebalance=st.rebalance,
        max_delta_drift=st.max_delta_drift,
        perp_maker_fee=dec(fees.perp_maker),
        perp_taker_fee=dec(fees.perp_taker),
        realise_locked_profit=settings.risk.realise_locked_profit,
        treasury=treasury,
        margin_guard=None if classic else margin_guard(settings, maintenance_rate, snapshot),
    )


def margin_guard(settings: Settings, maintenance_rate: Decimal | None,
                 snapshot: Snapshot | None) -> MarginGuard:  # fmt: skip
    """The unified account's limits; a unified snapshot gives the venue's discount tiers and
    whether the account shows a loan."""
    info = snapshot.unified if snapshot is not None else None
    tiers = None
    if info is not None:
        tiers = tuple(DiscountTier(b.lower, b.discount) for b in info.btc_discount_tiers)
    rate = maintenance_rate if maintenance_rate is not None else dec(
        settings.backtest.maintenance_margin_rate)  # fmt: skip
    r = settings.risk
    return MarginGuard(
        rules=margin_rules(settings, rate, tiers),
        min_imr=dec(r.min_initial_margin_ratio),
        min_distance=r.min_account_liquidation_distance,
        usdt_reserve=dec(r.usdt_reserve),
        has_loan=info is not None and info.has_loan,
    )


def fee_rates(settings: Settings) -> FeeRates:
    f = settings.fees
    return FeeRates(dec(f.spot_maker), dec(f.spot_taker), dec(f.perp_maker), dec(f.perp_taker))


def decision_settings_json(settings: Settings) -> str:
    """The settings that influence a decision, as canonical JSON (part of the inputs digest)."""
    part: dict[str, object] = {
        "strategy": settings.strategy.model_dump(mode="json"),
        "fees": settings.fees.model_dump(mode="json"),
        "guardrails": settings.guardrails.model_dump(mode="json"),
        "execution": settings.execution.model_dump(mode="json"),
        # [risk] leverage keeps the place it had as [backtest] leverage: same digest, same plan;
        # the unified [risk] keys are left out on a classic account (same digest as before)
        "risk": settings.risk.model_dump(
            mode="json", exclude={"leverage", *classic_only_excludes(settings)}
        ),
        "leverage": settings.risk.leverage,
    }
    if settings.account.mode != "classic":
        part["account"] = settings.account.model_dump(mode="json")
    return json.dumps(part, sort_keys=True, separators=(",", ":"))


UNIFIED_RISK_KEYS = frozenset(
    {"usdt_reserve", "min_initial_margin_ratio", "min_account_liquidation_distance"}
)


def classic_only_excludes(settings: Settings) -> set[str]:
    """The ``[risk]`` keys a classic account ignores: left out of its digest, so a classic
    plan's inputs digest is what it was before the unified account existed."""
    return set(UNIFIED_RISK_KEYS) if settings.account.mode == "classic" else set()


def plan_price_tolerance(settings: Settings) -> float:
    """How far an order's limit may lie from the plan's P_ref (see :mod:`btcn.core.plan_check`):
    the price guardrail's deviation plus the worst slippage execution may add to it."""
    return settings.guardrails.max_price_deviation + max(
        settings.execution.slippage, settings.gate.spot_ioc_slippage
    )
