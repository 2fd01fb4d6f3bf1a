"""The one translation between Gate/Binance wire models and btcn's contracts and domain types.

Everything that becomes an order or a ledger entry is ``Decimal`` built from the wire text.
Perp sizes in the contracts are non-negative contract counts per hedge-mode side; on the wire a
futures order's ``size`` is signed (+ buy, − sell) and closing orders carry ``reduce_only``
(exchange-api.md §5.4).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, NamedTuple

from btcn.contracts import (
    Action,
    Balances,
    PerpPosition,
    PerpPositions,
    PerpSpec,
    Prices,
    Side,
    Snapshot,
    SpotSpec,
    UnifiedAccountInfo,
)
from btcn.contracts.enums import Wallet
from btcn.core.legs import SIDE_OF
from btcn.errors import ExchangeError
from btcn.exchange import gate_wire as w
from btcn.exchange.gate_unified import unified_balances

ZERO = Decimal(0)
Market = Wallet  # Gate's spot or futures account


def to_dec(text: str | None, what: str = "number") -> Decimal:
    if text is None:
        raise ExchangeError(f"gate: missing {what} in the response")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ExchangeError(f"gate: {what} {text!r} is not a number") from None
    if not value.is_finite():
        raise ExchangeError(f"gate: {what} {text!r} is not finite")
    return value


def opt_dec(text: str | None) -> Decimal | None:
    if text is None or text == "":
        return None
    return to_dec(text)


def fmt_dec(value: Decimal) -> str:
    """Plain decimal text without exponent or trailing zeros (``Decimal('1E-5')`` → ``0.00001``)."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def seconds_to_ms(text: str | None) -> int | None:
    return None if text is None else int(to_dec(text, "time") * 1000)


# --- market rules -------------------------------------------------------------------------------
def spot_spec(pair: w.CurrencyPair) -> SpotSpec:
    return SpotSpec(
        pair=pair.id,
        step_btc=Decimal(1).scaleb(-pair.amount_precision),
        min_qty_btc=opt_dec(pair.min_base_amount) or ZERO,
        tick_usdt=Decimal(1).scaleb(-pair.precision),
        min_notional_usdt=opt_dec(pair.min_quote_amount) or ZERO,
    )


def perp_spec(contract: w.Contract) -> PerpSpec:
    # enable_decimal contracts may trade fractions, but the step is not documented: whole
    # contracts are always valid, so btcn sizes in whole contracts.
    return PerpSpec(
        contract=contract.name,
        multiplier_btc=to_dec(contract.quanto_multiplier, "quanto_multiplier"),
        min_size_contracts=max(to_dec(contract.order_size_min, "order_size_min"), Decimal(1)),
        step_contracts=Decimal(1),
        tick_usdt=to_dec(contract.order_price_round, "order_price_round"),
        min_notional_usdt=ZERO,
        **(
            {"maintenance_rate": to_dec(contract.maintenance_rate, "maintenance_rate")}
            if contract.maintenance_rate is not None
            else {}
        ),
    )


# --- account ------------------------------------------------------------------------------------
def spot_totals(accounts: list[w.SpotAccount]) -> dict[str, Decimal]:
    """``currency -> available + locked`` (locked = reserved by open orders, still owned)."""
    return {
        a.currency.upper(): to_dec(a.available, "available") + to_dec(a.locked, "locked")
        for a in accounts
    }


def spot_available(accounts: list[w.SpotAccount]) -> dict[str, Decimal]:
    return {a.currency.upper(): to_dec(a.available, "available") for a in accounts}


def is_dual_mode(account: w.FuturesAccount) -> bool:
    if account.position_mode is not None:
        return account.position_mode in ("dual", "dual_plus")
    return account.in_dual_mode


@dataclass(frozen=True)
class SideState:
    contracts: Decimal  # >= 0
    entry_price_usdt: Decimal | None
    leverage: Decimal | None  # None = cross / unknown


def position_sides(positions: list[w.Position], contract: str) -> dict[str, SideState]:
    """``{"long": ..., "short": ...}`` from dual-mode entries (or one single-mode entry)."""
    out = {"long": SideState(ZERO, None, None), "short": SideState(ZERO, None, None)}
    for p in positions:
        if p.contract != contract:
            continue
        size = to_dec(p.size, "position size")
        if p.mode == "dual_long":
            side = "long"
        elif p.mode == "dual_short":
            side = "short"  # Gate reports this side's size as <= 0; either sign is accepted
        elif size > 0:
            side = "long"
        elif size < 0:
            side = "short"
        else:
            continue
        lev = opt_dec(p.leverage)
        if lev is None or lev == 0:
            lev = opt_dec(p.cross_leverage_limit)
        entry = opt_dec(p.entry_price)
        out[side] = SideState(
            abs(size),
            entry if entry is not None and entry > 0 and size != 0 else None,
            lev if lev is not None and lev > 0 else None,
        )
    return out


def _side_entry(positions: list[w.Position], contract: str, side: str) -> w.Position | None:
    for p in positions:
        if p.contract != contract:
            continue
        size = to_dec(p.size, "position size")
        mode = {"dual_long": "long", "dual_short": "short"}.get(p.mode)
        if mode is None and size != 0:
            mode = "long" if size > 0 else "short"
        if mode == side:
            return p
    return None


def _perp_position(state: SideState, raw: w.Position | None) -> PerpPosition:
    """What Gate reports for one side; Gate's own liq_price, leverage (0 = cross) and margins."""

    def nonneg(text: str | None) -> Decimal | None:
        value = opt_dec(text)
        return value if value is not None and value >= 0 else None

    held = state.contracts > 0 and raw is not None
    return PerpPosition(
        size_contracts=state.contracts,
        entry_price_usdt=state.entry_price_usdt,
        liq_price_usdt=(nonneg(raw.liq_price) or None) if held and raw else None,  # 0: none
        leverage=nonneg(raw.leverage) if raw else None,
        margin_usdt=opt_dec(raw.margin) if held and raw else None,
        maintenance_margin_usdt=nonneg(raw.maintenance_margin) if held and raw else None,
    )


def perp_positions(positions: list[w.Position], contract: str) -> PerpPositions:
    sides = position_sides(positions, contract)
    return PerpPositions(
        BTC_PERP_LONG=_perp_position(sides["long"], _side_entry(positions, contract, "long")),
        BTC_PERP_SHORT=_perp_position(sides["short"], _side_entry(positions, contract, "short")),
    )


def prices(spot: w.SpotTicker, perp: w.FuturesTicker) -> Prices:
    def positive(text: str | None) -> Decimal | None:
        value = opt_dec(text)
        return value if value is not None and value > 0 else None

    return Prices(
        spot_last_usdt=to_dec(spot.last, "spot last"),
        perp_mark_usdt=to_dec(perp.mark_price, "mark price"),
        perp_last_usdt=positive(perp.last),
        spot_bid_usdt=positive(spot.highest_bid),
        spot_ask_usdt=positive(spot.lowest_ask),
        perp_bid_usdt=positive(perp.highest_bid),
        perp_ask_usdt=positive(perp.lowest_ask),
    )


def gate_snapshot(
    *,
    as_of_ms: int,
    pair: w.CurrencyPair,
    contract: w.Contract,
    spot_accounts: list[w.SpotAccount],
    futures_account: w.FuturesAccount,
    positions: list[w.Position],
    spot_ticker: w.SpotTicker,
    futures_ticker: w.FuturesTicker,
    p_ref_usdt: Decimal,
    p_ref_as_of_ms: int | None,
    unified: UnifiedAccountInfo | None = None,
) -> Snapshot:
    """A classic account (version 2) or, with ``unified``, a unified one (version 3): its spot
    balances come from ``GET /unified/accounts`` and it has no futures wallet (adding the futures
    account's ``total`` would count the same USDT twice, section 4.7)."""
    if unified is None:
        totals = spot_totals(spot_accounts)
        balances = Balances(
            spot_usdt=totals.get(pair.quote.upper(), ZERO),
            spot_btc=totals.get(pair.base.upper(), ZERO),
            futures_usdt=to_dec(futures_account.total, "futures total"),
            futures_available_usdt=max(
                to_dec(futures_account.available, "futures available"), ZERO
            ),
            futures_unrealised_pnl_usdt=opt_dec(futures_account.unrealised_pnl),
        )
    else:
        balances = unified_balances(unified, opt_dec(futures_account.unrealised_pnl))
    return Snapshot(
        as_of_ms=as_of_ms,
        schema_version=2 if unified is None else 3,
        venue="gate",
        p_ref_usdt=p_ref_usdt,
        p_ref_as_of_ms=p_ref_as_of_ms,
        prices=prices(spot_ticker, futures_ticker),
        balances=balances,
        positions=perp_positions(positions, contract.name),
        spot_spec=spot_spec(pair),
        perp_spec=perp_spec(contract),
        unified=unified,
    )


# --- orders -------------------------------------------------------------------------------------
def spot_order_body(
    *, text: str, pair: str, side: Side, amount_btc: Decimal, price: Decimal, tif: str,
    account: str = "spot",
) -> dict[str, Any]:  # fmt: skip
    """A limit order; ``tif`` is ``poc`` (PostOnly) or ``ioc`` (the marketable remainder);
    ``account`` is ``unified`` on a unified account (never with ``auto_borrow``)."""
    return {
        "text": text,
        "currency_pair": pair,
        "type": "limit",
        "account": account,
        "side": "buy" if side is Side.BUY else "sell",
        "amount": fmt_dec(amount_btc),
        "price": fmt_dec(price),
        "time_in_force": tif,
    }


def _size_json(signed: Decimal) -> int | str:
    # Whole contracts go as JSON integers (accepted by every API version); fractions as text.
    return int(signed) if signed == signed.to_integral_value() else fmt_dec(signed)


def futures_order_body(
    *, text: str, contract: str, action: Action, contracts: Decimal, price: Decimal | None,
    tif: str,
) -> dict[str, Any]:  # fmt: skip
    """Dual-mode order: sign of ``size`` = side; CLOSE_* are ``reduce_only`` (§5.4).

    ``price`` None means market: ``price "0"`` with ``tif "ioc"``.
    """
    if contracts <= 0:
        raise ValueError("contracts must be positive")
    if action not in (Action.OPEN_LONG, Action.CLOSE_LONG, Action.OPEN_SHORT, Action.CLOSE_SHORT):
        raise ValueError(f"{action} is not a perp action")
    buy = SIDE_OF[action] is Side.BUY
    signed = contracts if buy else -contracts
    return {
        "contract": contract,
        "size": _size_json(signed),
        "price": "0" if price is None else fmt_dec(price),
        "tif": "ioc" if price is None else tif,
        "text": text,
        "reduce_only": action in (Action.CLOSE_LONG, Action.CLOSE_SHORT),
    }


def futures_action(size: Decimal, reduce_only: bool) -> Action:
    """Inverse of :func:`futures_order_body` in dual mode."""
    if size > 0:
        return Action.CLOSE_SHORT if reduce_only else Action.OPEN_LONG
    if size < 0:
        return Action.CLOSE_LONG if reduce_only else Action.OPEN_SHORT
    raise ValueError("a zero size has no direction")


@dataclass(frozen=True)
class VenueOrder:
    """An order as the venue reports it, in venue units (BTC for spot, contracts for perps)."""

    market: Market
    order_id: str
    text: str
    is_open: bool
    qty_venue: Decimal
    filled_venue: Decimal
    avg_price_usdt: Decimal | None
    finish_as: str | None
    side: Side
    create_time_ms: int | None = None


def _side(text: str | None) -> Side:
    return Side.BUY if (text or "").lower() == "buy" else Side.SELL


def spot_order(o: w.SpotOrder | w.SpotBatchResult) -> VenueOrder:
    oid = o.id or getattr(o, "order_id", None)
    if oid is None:
        raise ExchangeError("gate: spot order without an id in the response")
    amount = to_dec(o.amount, "amount")
    left = to_dec(o.left, "left") if o.left is not None else amount
    filled = opt_dec(o.filled_amount)
    if filled is None:
        filled = amount - left
    avg = opt_dec(o.avg_deal_price)
    if (avg is None or avg == 0) and filled > 0:
        total = opt_dec(o.filled_total)
        avg = total / filled if total else None
    created = opt_dec(getattr(o, "create_time_ms", None))
    return VenueOrder(
        market="spot",
        order_id=oid,
        text=o.text,
        is_open=o.status == "open",
        qty_venue=amount,
        filled_venue=filled,
        avg_price_usdt=avg if filled > 0 else None,
        finish_as=o.finish_as,
        side=_side(o.side),
        create_time_ms=int(created) if created is not None else None,
    )


def futures_order(o: w.FuturesOrder | w.FuturesBatchResult) -> VenueOrder:
    if o.id is None or o.size is None:
        raise ExchangeError("gate: futures order without id or size in the response")
    size = to_dec(o.size, "size")
    left = to_dec(o.left, "left") if o.left is not None else size
    filled = abs(size) - abs(left)
    avg = opt_dec(o.fill_price)
    return VenueOrder(
        market="futures",
        order_id=o.id,
        text=o.text,
        is_open=o.status == "open",
        qty_venue=abs(size),
        filled_venue=filled,
        avg_price_usdt=avg if filled > 0 and avg else None,
        finish_as=o.finish_as,
        side=Side.BUY if size > 0 else Side.SELL,
        create_time_ms=seconds_to_ms(o.create_time),
    )


@dataclass(frozen=True)
class TradeFill:
    """One execution. ``fee_usdt`` is the fee valued in USDT (a BTC fee at the fill price)."""

    market: Market
    trade_id: str
    order_id: str
    text: str
    qty_venue: Decimal  # unsigned
    price_usdt: Decimal
    fee: Decimal
    fee_currency: str
    fee_usdt: Decimal
    maker: bool
    time_ms: int | None


def _fee_usdt(fee: Decimal, currency: str, price: Decimal, base: str, quote: str) -> Decimal:
    if currency.upper() == quote.upper():
        return fee
    if currency.upper() == base.upper():
        return fee * price
    return ZERO  # paid in GT/points: not a USDT cost of this account


def spot_fill(t: w.SpotTrade, base: str = "BTC", quote: str = "USDT") -> TradeFill:
    price = to_dec(t.price, "price")
    fee = to_dec(t.fee, "fee")
    ms = opt_dec(t.create_time_ms)
    return TradeFill(
        market="spot",
        trade_id=t.id,
        order_id=t.order_id,
        text=t.text,
        qty_venue=abs(to_dec(t.amount, "amount")),
        price_usdt=price,
        fee=fee,
        fee_currency=t.fee_currency.upper(),
        fee_usdt=_fee_usdt(fee, t.fee_currency, price, base, quote),
        maker=t.role == "maker",
        time_ms=int(ms) if ms is not None else seconds_to_ms(t.create_time),
    )


def futures_fill(t: w.FuturesTrade) -> TradeFill:
    fee = to_dec(t.fee, "fee")
    return TradeFill(
        market="futures",
        trade_id=t.id,
        order_id=t.order_id,
        text=t.text,
        qty_venue=abs(to_dec(t.size, "size")),
        price_usdt=to_dec(t.price, "price"),
        fee=fee,
        fee_currency="USDT",
        fee_usdt=fee,
        maker=t.role == "maker",
        time_ms=seconds_to_ms(t.create_time),
    )


# --- market data --------------------------------------------------------------------------------
class CandleRow(NamedTuple):
    open_ms: int
    open: float
    high: float
    low: float
    close: float
    volume: float


class FundingRow(NamedTuple):
    time_ms: int
    rate: float
    mark_price: float | None


def gate_spot_candle(row: list[str]) -> tuple[CandleRow, bool]:
    """``[t, quote_vol, close, high, low, open, base_vol?, closed?]`` → (row, closed)."""
    if len(row) < 6:
        raise ExchangeError(f"gate: spot candle with {len(row)} fields, expected at least 6")
    base_vol = float(row[6]) if len(row) > 6 else 0.0
    closed = row[7].lower() != "false" if len(row) > 7 else True
    t_ms = int(Decimal(row[0])) * 1000
    return CandleRow(
        t_ms, float(row[5]), float(row[3]), float(row[4]), float(row[2]), base_vol
    ), closed


def gate_futures_candle(c: w.FuturesCandle, multiplier_btc: Decimal | None) -> CandleRow:
    volume = 0.0
    if c.v is not None and multiplier_btc is not None:
        volume = float(Decimal(c.v) * multiplier_btc)  # contracts -> BTC
    return CandleRow(
        int(Decimal(c.t)) * 1000, float(c.o), float(c.h), float(c.l), float(c.c), volume
    )


def binance_kline(row: list[Any]) -> CandleRow:
    if len(row) < 6:
        raise ExchangeError(f"binance: kline with {len(row)} fields, expected 12")
    t = int(row[0])
    if t >= 10**14:  # microseconds (X-MBX-TIME-UNIT or archive data)
        t //= 1000
    return CandleRow(t, float(row[1]), float(row[2]), float(row[3]), float(row[4]), float(row[5]))


def binance_funding(row: dict[str, Any]) -> FundingRow:
    mark = row.get("markPrice")
    return FundingRow(
        int(row["fundingTime"]),
        float(row["fundingRate"]),
        float(mark) if mark not in (None, "") else None,
    )


def gate_funding(r: w.FundingRateRecord) -> FundingRow:
    return FundingRow(r.t * 1000, float(r.r), None)
