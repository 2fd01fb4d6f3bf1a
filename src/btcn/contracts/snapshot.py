"""``snapshot``: the state of the account and the market at one instant."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from pydantic import Field, SerializerFunctionWrapHandler, model_serializer, model_validator

from btcn.contracts.base import Artifact, Model

NonNegative = Field(ge=0)


class Prices(Model):
    """Venue prices in USDT per BTC. Bid/ask are optional (unknown on some venues)."""

    spot_last_usdt: Decimal = Field(gt=0)
    perp_mark_usdt: Decimal = Field(gt=0)
    perp_last_usdt: Decimal | None = Field(default=None, gt=0)
    spot_bid_usdt: Decimal | None = Field(default=None, gt=0)
    spot_ask_usdt: Decimal | None = Field(default=None, gt=0)
    perp_bid_usdt: Decimal | None = Field(default=None, gt=0)
    perp_ask_usdt: Decimal | None = Field(default=None, gt=0)


class Balances(Model):
    """Wallet balances. ``futures_usdt`` is the futures wallet excluding unrealised PnL.

    ``futures_available_usdt`` is what Gate would let leave the futures wallet now (its
    ``available``: the wallet minus position and order margin, never unrealised profit); None when
    the venue did not say (paper, version 1 snapshots): the treasury then estimates it."""

    spot_usdt: Decimal = NonNegative
    spot_btc: Decimal = NonNegative
    futures_usdt: Decimal
    futures_available_usdt: Decimal | None = Field(default=None, ge=0)
    futures_unrealised_pnl_usdt: Decimal | None = None


class PerpPosition(Model):
    """One side of the hedge-mode perpetual position, size as a non-negative contract count."""

    size_contracts: Decimal = NonNegative
    entry_price_usdt: Decimal | None = Field(default=None, gt=0)
    # What Gate reports for the position (None when unknown: paper venue, version 1 snapshots).
    liq_price_usdt: Decimal | None = Field(default=None, ge=0)
    leverage: Decimal | None = Field(default=None, ge=0)  # 0 = cross margin
    margin_usdt: Decimal | None = None
    maintenance_margin_usdt: Decimal | None = Field(default=None, ge=0)


class PerpPositions(Model):
    BTC_PERP_LONG: PerpPosition = PerpPosition(size_contracts=Decimal(0))
    BTC_PERP_SHORT: PerpPosition = PerpPosition(size_contracts=Decimal(0))


class SpotSpec(Model):
    """Trading rules of the spot pair (Gate ``/spot/currency_pairs/BTC_USDT``)."""

    pair: str = "BTC_USDT"
    step_btc: Decimal = Field(default=Decimal("0.000001"), gt=0)
    min_qty_btc: Decimal = Field(default=Decimal("0.00001"), ge=0)
    tick_usdt: Decimal = Field(default=Decimal("0.1"), gt=0)
    min_notional_usdt: Decimal = Field(default=Decimal("3"), ge=0)


class PerpSpec(Model):
    """Contract spec of the USDT perpetual (Gate ``/futures/usdt/contracts/BTC_USDT``)."""

    contract: str = "BTC_USDT"
    multiplier_btc: Decimal = Field(default=Decimal("0.0001"), gt=0)
    min_size_contracts: Decimal = Field(default=Decimal(1), gt=0)
    step_contracts: Decimal = Field(default=Decimal(1), gt=0)
    tick_usdt: Decimal = Field(default=Decimal("0.1"), gt=0)
    min_notional_usdt: Decimal = Field(default=Decimal(0), ge=0)
    # maintenance margin rate of the first risk tier (Gate ``maintenance_rate``)
    maintenance_rate: Decimal = Field(default=Decimal("0.004"), ge=0, lt=1)


class CurrencyEquity(Model):
    """One currency of a unified account (``GET /unified/accounts`` ``balances``)."""

    equity: Decimal  # balance - borrowed (+ futures uPnL for USDT)
    available: Decimal | None = None
    freeze: Decimal | None = None
    borrowed: Decimal = Field(default=Decimal(0), ge=0)
    negative_liab: Decimal = Field(default=Decimal(0), ge=0)  # a negative balance, as a liability


class DiscountBand(Model):
    """One collateral discount band: holdings from ``lower`` (coins) up to the next band's."""

    lower: Decimal = Field(ge=0)
    discount: Decimal = Field(ge=0, le=1)


class UnifiedAccountInfo(Model):
    """A Gate unified account as read (snapshot version 3). The account-level figures are Gate's
    own (effective in multi-currency mode); btcn recomputes them with ``core.unified`` and
    compares. ``borrowed_usd`` above 0, or any currency's ``borrowed`` or ``negative_liab``, is a
    loan: a unified plan then goes to safe mode."""

    mode: Literal["classic", "single_currency", "multi_currency", "portfolio"]
    total_margin_balance_usdt: Decimal | None = None
    total_initial_margin_usdt: Decimal | None = None
    total_maintenance_margin_usdt: Decimal | None = None
    total_initial_margin_rate: Decimal | None = None
    total_maintenance_margin_rate: Decimal | None = None
    total_available_margin_usdt: Decimal | None = None
    total_equity_usdt: Decimal | None = None
    borrowed_usd: Decimal = Field(default=Decimal(0), ge=0)
    spot_order_loss_usdt: Decimal = Field(default=Decimal(0), ge=0)
    balances: dict[str, CurrencyEquity] = Field(default_factory=dict)
    btc_discount_tiers: list[DiscountBand] = Field(min_length=1)
    usdt_discount_tiers: list[DiscountBand] = Field(
        default_factory=lambda: [DiscountBand(lower=Decimal(0), discount=Decimal(1))], min_length=1
    )

    @property
    def has_loan(self) -> bool:
        return self.borrowed_usd > 0 or any(
            b.borrowed > 0 or b.negative_liab > 0 for b in self.balances.values()
        )


class Snapshot(Artifact):
    kind: Literal["snapshot"] = "snapshot"
    # 2: futures available/uPnL, position liq data (1 still read). 3: a unified account
    # (``unified`` present). A classic account is still written as version 2, byte for byte;
    # a unified one as version 3, which an older btcn refuses rather than misreads.
    schema_version: Literal[2, 3] = 2
    venue: str = Field(min_length=1)
    p_ref_usdt: Decimal = Field(gt=0, description="Reference price P_ref: Binance spot close")
    p_ref_as_of_ms: int | None = Field(
        default=None, description="Close time of the candle P_ref was read from"
    )
    prices: Prices
    balances: Balances
    positions: PerpPositions = PerpPositions()
    spot_spec: SpotSpec = SpotSpec()
    perp_spec: PerpSpec = PerpSpec()
    unified: UnifiedAccountInfo | None = None

    @model_serializer(mode="wrap")
    def _classic_bytes(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # a classic snapshot is written exactly as version 2 was: no "unified" key at all
        data: dict[str, Any] = handler(self)
        if self.unified is None:
            data.pop("unified", None)
        return data

    @model_validator(mode="after")
    def _version_matches_account(self) -> Snapshot:
        if (self.unified is not None) != (self.schema_version == 3):
            raise ValueError("a snapshot carries 'unified' exactly when its schema_version is 3")
        return self
