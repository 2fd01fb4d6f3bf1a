"""Gate's unified account (exchange-api.md section 4.7): wire models, reads, the mode check and
the translation of ``GET /unified/accounts`` into the snapshot's ``unified`` block.

btcn only reads the account mode (``GET /unified/unified_mode``); switching it is the user's act.
A mode btcn is not configured for is refused before anything is sent (exit 6):

* configured ``classic``: the account must be ``classic``;
* configured ``unified``: the account must be ``multi_currency`` (``single_currency`` does not
  count spot BTC as collateral; ``portfolio`` allows one-way positions only).
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pydantic import Field, TypeAdapter

from btcn.contracts import Balances, CurrencyEquity, DiscountBand, Plan, UnifiedAccountInfo
from btcn.contracts.enums import AccountMode
from btcn.core.money import ZERO
from btcn.errors import InvalidInputError
from btcn.exchange.errors import ExchangeError, RejectedError
from btcn.exchange.gate_wire import Num, OptNum, Wire
from btcn.exchange.http import parse_as

if TYPE_CHECKING:
    from btcn.exchange.gate import GateClient
    from btcn.runtime.settings import Settings

log = logging.getLogger("btcn.exchange")

UNIFIED_VENUE_MODE = "multi_currency"
_WHY = {
    "portfolio": "portfolio margin allows one-way positions only, btcn needs hedge mode",
    "single_currency": "single-currency margin does not count spot BTC as collateral",
}


class UnifiedMode(Wire):
    mode: str
    settings: dict[str, Any] | None = None


class UnifiedBalance(Wire):
    available: OptNum = None
    freeze: OptNum = None
    borrowed: OptNum = None
    equity: OptNum = None
    negative_liab: OptNum = None


class UnifiedAccount(Wire):
    mode: str | None = None
    total_margin_balance: OptNum = None
    total_initial_margin: OptNum = None
    total_maintenance_margin: OptNum = None
    total_initial_margin_rate: OptNum = None
    total_maintenance_margin_rate: OptNum = None
    total_available_margin: OptNum = None
    unified_account_total_equity: OptNum = None
    borrowed: OptNum = None
    spot_order_loss: OptNum = None
    balances: dict[str, UnifiedBalance] = Field(default_factory=dict)


class DiscountTierWire(Wire):
    tier: OptNum = None
    discount: Num
    lower_limit: Num
    upper_limit: str | None = None  # "+" = no limit
    leverage: OptNum = None


class CurrencyDiscountTiers(Wire):
    currency: str
    discount_tiers: list[DiscountTierWire]


_TIERS = TypeAdapter(list[CurrencyDiscountTiers])


def read_mode(client: GateClient) -> UnifiedMode:
    data = client.read("/unified/unified_mode", private=True)
    return parse_as(TypeAdapter(UnifiedMode), data, "gate: GET /unified/unified_mode")


def read_accounts(client: GateClient) -> UnifiedAccount:
    data = client.read("/unified/accounts", private=True)
    return parse_as(TypeAdapter(UnifiedAccount), data, "gate: GET /unified/accounts")


def parse_discount_tiers(data: Any) -> list[CurrencyDiscountTiers]:
    """The API docs' example answers a list nested in a list, the SDK a flat list: read both."""
    if isinstance(data, list) and data and all(isinstance(x, list) for x in data):
        data = [row for inner in data for row in inner]
    return parse_as(_TIERS, data, "gate: GET /unified/currency_discount_tiers")


def read_discount_tiers(client: GateClient) -> list[CurrencyDiscountTiers]:
    return parse_discount_tiers(client.read("/unified/currency_discount_tiers"))


def check_mode(venue_mode: str, configured: AccountMode) -> None:
    """Refuse (ExchangeError, exit 6) an account whose mode btcn is not configured for."""
    want = UNIFIED_VENUE_MODE if configured == "unified" else "classic"
    if venue_mode == want:
        return
    why = _WHY.get(venue_mode, "")
    raise ExchangeError(
        f"gate: the account is in {venue_mode!r} mode but btcn is configured for "
        f"[account] mode = {configured!r}" + (f" ({why})" if why else "") + "; nothing was sent",
        hint="switch the Gate account in Gate's web interface, or set [account] mode "
        "(btcn never switches the account itself)",
    )


def account_check(client: GateClient, configured: AccountMode) -> UnifiedAccountInfo | None:
    """Read the account's mode and refuse one btcn is not configured for (nothing is sent
    before this). A unified account's figures and discount tiers are returned for the snapshot.

    Configured ``classic``, a refused read (4xx, e.g. a key without the ``unified`` read
    permission) is taken as a classic account with a warning: classic keys keep working."""
    try:
        mode = read_mode(client).mode
    except RejectedError as err:
        if configured == "unified":
            raise
        log.warning("cannot read the Gate account mode (%s); assuming a classic account", err)
        return None
    check_mode(mode, configured)
    if configured == "classic":
        return None
    return unified_info(read_accounts(client), mode, read_discount_tiers(client))


def spot_account(settings: Settings) -> str:
    """The ``account`` of a spot order: ``unified`` on a unified account (section 4.7)."""
    return "unified" if settings.account.mode == "unified" else "spot"


def check_live_account(client: GateClient, configured: AccountMode, plan: Plan) -> None:
    """``execute --live``: the account's mode must be the configured one, and a unified
    account takes no transfers (a plan with transfers was made for a classic account)."""
    account_check(client, configured)
    if configured == "unified" and plan.transfers:
        raise InvalidInputError(
            f"the plan has {len(plan.transfers)} wallet transfer(s) but the account is unified "
            "(one margin pool, no transfers); nothing was sent",
            hint="plan again from a snapshot of the unified account with [account] mode = "
            '"unified"',
        )


def _dec(text: str | None, default: Decimal | None = None) -> Decimal | None:
    return default if text in (None, "") else Decimal(text)


def _bands(rows: list[CurrencyDiscountTiers], currency: str) -> list[DiscountBand]:
    for row in rows:
        if row.currency.upper() == currency:
            tiers = sorted(row.discount_tiers, key=lambda t: Decimal(t.lower_limit))
            return [DiscountBand(lower=Decimal(t.lower_limit), discount=Decimal(t.discount))
                    for t in tiers]  # fmt: skip
    return []


def unified_info(
    account: UnifiedAccount, mode: str, tiers: list[CurrencyDiscountTiers]
) -> UnifiedAccountInfo:
    """The snapshot's ``unified`` block. A currency without tiers counts at 0 (BTC) or 1
    (USDT): unknown collateral is never assumed."""
    balances = {
        cur.upper(): CurrencyEquity(
            equity=_dec(b.equity, ZERO) or ZERO,
            available=_dec(b.available),
            freeze=_dec(b.freeze),
            borrowed=max(_dec(b.borrowed, ZERO) or ZERO, ZERO),
            negative_liab=max(_dec(b.negative_liab, ZERO) or ZERO, ZERO),
        )
        for cur, b in account.balances.items()
    }
    btc = _bands(tiers, "BTC") or [DiscountBand(lower=ZERO, discount=ZERO)]
    usdt = _bands(tiers, "USDT") or [DiscountBand(lower=ZERO, discount=Decimal(1))]
    return UnifiedAccountInfo(
        mode=mode,  # type: ignore[arg-type]
        total_margin_balance_usdt=_dec(account.total_margin_balance),
        total_initial_margin_usdt=_dec(account.total_initial_margin),
        total_maintenance_margin_usdt=_dec(account.total_maintenance_margin),
        total_initial_margin_rate=_dec(account.total_initial_margin_rate),
        total_maintenance_margin_rate=_dec(account.total_maintenance_margin_rate),
        total_available_margin_usdt=_dec(account.total_available_margin),
        total_equity_usdt=_dec(account.unified_account_total_equity),
        borrowed_usd=max(_dec(account.borrowed, ZERO) or ZERO, ZERO),
        spot_order_loss_usdt=max(_dec(account.spot_order_loss, ZERO) or ZERO, ZERO),
        balances=balances,
        btc_discount_tiers=btc,
        usdt_discount_tiers=usdt,
    )


def unified_balances(info: UnifiedAccountInfo, upnl: Decimal | None) -> Balances:
    """The book's balances of a unified account: all USDT and BTC on the spot side, no futures
    wallet. A negative USDT balance shows as 0 here; ``unified`` keeps it as ``negative_liab``
    (a loan: the plan goes to safe mode)."""
    usdt = info.balances.get("USDT")
    btc = info.balances.get("BTC")
    cash = ZERO if usdt is None else (usdt.available or ZERO) + (usdt.freeze or ZERO)
    coins = ZERO if btc is None else (btc.available or ZERO) + (btc.freeze or ZERO)
    return Balances(
        spot_usdt=max(cash - (usdt.negative_liab if usdt else ZERO), ZERO),
        spot_btc=max(coins, ZERO),
        futures_usdt=ZERO,
        futures_available_usdt=ZERO,
        futures_unrealised_pnl_usdt=upnl,
    )
