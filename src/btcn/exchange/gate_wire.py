"""Wire models of the Gate APIv4 JSON that btcn reads, mirroring the exchange's field names.

Numbers stay text (``Num``): Gate sends prices, amounts and balances as decimal strings, and some
sizes and times as JSON numbers depending on the endpoint and API version; both arrive here as the
same string and only :mod:`btcn.exchange.translate` turns them into ``Decimal``. Unknown fields are
ignored (Gate adds fields over time); missing required fields are an error naming the field.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, TypeAdapter


def _num_text(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("expected a number, got a boolean")
    if isinstance(value, int | float):
        return repr(value) if isinstance(value, float) else str(value)
    return value


def _opt_num_text(value: Any) -> Any:
    if value == "":
        return None
    return _num_text(value)


Num = Annotated[str, BeforeValidator(_num_text)]
OptNum = Annotated[str | None, BeforeValidator(_opt_num_text)]


class Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class ServerTime(Wire):
    server_time: int  # milliseconds


class CurrencyPair(Wire):
    id: str
    base: str
    quote: str
    min_base_amount: OptNum = None
    min_quote_amount: OptNum = None
    max_base_amount: OptNum = None
    max_quote_amount: OptNum = None
    amount_precision: int
    precision: int
    trade_status: str = "tradable"


class SpotTicker(Wire):
    currency_pair: str
    last: Num
    lowest_ask: OptNum = None
    highest_bid: OptNum = None


class SpotOrderBook(Wire):
    current: int | None = None  # milliseconds
    update: int | None = None
    asks: list[tuple[Num, Num]]
    bids: list[tuple[Num, Num]]


class Contract(Wire):
    name: str
    type: str = "direct"
    quanto_multiplier: Num
    order_size_min: Num
    order_size_max: Num
    order_price_round: Num
    mark_price_round: OptNum = None
    enable_decimal: bool = False
    mark_price: OptNum = None
    index_price: OptNum = None
    last_price: OptNum = None
    funding_rate: OptNum = None
    funding_interval: int | None = None
    in_delisting: bool = False
    status: str | None = None
    maintenance_rate: OptNum = None  # first risk tier


class FuturesTicker(Wire):
    contract: str
    last: Num
    mark_price: Num
    index_price: OptNum = None
    funding_rate: OptNum = None
    lowest_ask: OptNum = None
    highest_bid: OptNum = None


class FuturesBookLevel(Wire):
    p: Num
    s: Num


class FuturesOrderBook(Wire):
    current: Num | None = None  # seconds with fraction
    asks: list[FuturesBookLevel]
    bids: list[FuturesBookLevel]


class FuturesCandle(Wire):
    t: Num  # bucket start, seconds
    o: Num
    h: Num
    l: Num  # noqa: E741 - Gate's field name
    c: Num
    v: OptNum = None  # contracts (absent for mark_/index_ candles)
    sum: OptNum = None  # quote volume


class FundingRateRecord(Wire):
    t: int  # settlement time, seconds
    r: Num


class SpotAccount(Wire):
    currency: str
    available: Num
    locked: Num


class FuturesAccount(Wire):
    total: Num
    available: Num
    unrealised_pnl: OptNum = None
    order_margin: OptNum = None
    currency: str = "USDT"
    in_dual_mode: bool = False
    position_mode: str | None = None


class Position(Wire):
    contract: str
    size: Num  # contracts; dual mode: short side may be reported negative
    mode: str = "single"  # single | dual_long | dual_short
    leverage: OptNum = None
    cross_leverage_limit: OptNum = None
    entry_price: OptNum = None
    mark_price: OptNum = None
    value: OptNum = None
    unrealised_pnl: OptNum = None
    margin: OptNum = None
    maintenance_margin: OptNum = None
    liq_price: OptNum = None


class SpotOrder(Wire):
    id: Num
    text: str = ""
    status: str  # open | closed | cancelled
    currency_pair: str
    type: str = "limit"
    side: str
    amount: Num
    price: OptNum = None
    time_in_force: str = "gtc"
    left: Num
    filled_amount: OptNum = None
    filled_total: OptNum = None
    avg_deal_price: OptNum = None
    fee: OptNum = None
    fee_currency: str | None = None
    finish_as: str | None = None
    create_time_ms: OptNum = None


class SpotBatchResult(Wire):
    """One element of ``POST /spot/batch_orders``: the order, or ``succeeded=false`` + label."""

    succeeded: bool
    label: str = ""
    message: str = ""
    id: OptNum = None
    order_id: OptNum = None
    text: str = ""
    status: str | None = None
    currency_pair: str | None = None
    side: str | None = None
    amount: OptNum = None
    price: OptNum = None
    left: OptNum = None
    filled_amount: OptNum = None
    filled_total: OptNum = None
    avg_deal_price: OptNum = None
    fee: OptNum = None
    fee_currency: str | None = None
    finish_as: str | None = None
    time_in_force: str = "gtc"
    type: str = "limit"


class FuturesOrder(Wire):
    id: Num
    text: str = ""
    status: str  # open | finished
    contract: str
    size: Num  # signed contracts
    left: Num  # unfilled contracts, same sign convention
    price: Num
    tif: str = "gtc"
    fill_price: OptNum = None
    finish_as: str | None = None
    reduce_only: bool = False
    is_reduce_only: bool = False
    create_time: OptNum = None
    finish_time: OptNum = None
    tkfr: OptNum = None
    mkfr: OptNum = None


class FuturesBatchResult(Wire):
    succeeded: bool
    label: str = ""
    detail: str = ""
    id: OptNum = None
    text: str = ""
    status: str | None = None
    contract: str | None = None
    size: OptNum = None
    left: OptNum = None
    price: OptNum = None
    tif: str = "gtc"
    fill_price: OptNum = None
    finish_as: str | None = None
    reduce_only: bool = False
    is_reduce_only: bool = False
    create_time: OptNum = None


class SpotTrade(Wire):
    id: Num
    create_time_ms: OptNum = None
    create_time: OptNum = None
    currency_pair: str
    side: str
    role: str
    amount: Num
    price: Num
    order_id: Num
    fee: Num = "0"
    fee_currency: str = ""
    text: str = ""


class FuturesTrade(Wire):
    id: Num
    create_time: Num
    contract: str
    order_id: Num
    size: Num
    price: Num
    role: str
    text: str = ""
    fee: Num = "0"


class AccountBookEntry(Wire):
    """``GET /futures/usdt/account_book``; ``type`` dnw = a transfer (change + in, − out)."""

    id: OptNum = None
    time: Num
    change: Num
    balance: Num
    type: str
    text: str = ""
    contract: str | None = None


class TransferResult(Wire):
    """``POST /wallet/transfers``: ``{"tx_id": <int>}`` (older API versions: 204, no body)."""

    tx_id: OptNum = None


class CancelResult(Wire):
    """``POST /futures/usdt/batch_cancel_orders`` and ``/spot/cancel_batch_orders`` elements."""

    id: OptNum = None
    succeeded: bool
    label: str = ""
    message: str = ""


SPOT_ACCOUNTS = TypeAdapter(list[SpotAccount])
SPOT_TICKERS = TypeAdapter(list[SpotTicker])
FUTURES_TICKERS = TypeAdapter(list[FuturesTicker])
POSITIONS = TypeAdapter(list[Position])
SPOT_ORDERS = TypeAdapter(list[SpotOrder])
SPOT_BATCH = TypeAdapter(list[SpotBatchResult])
FUTURES_ORDERS = TypeAdapter(list[FuturesOrder])
FUTURES_BATCH = TypeAdapter(list[FuturesBatchResult])
SPOT_TRADES = TypeAdapter(list[SpotTrade])
FUTURES_TRADES = TypeAdapter(list[FuturesTrade])
FUTURES_CANDLES = TypeAdapter(list[FuturesCandle])
SPOT_CANDLES = TypeAdapter(list[list[Num]])
FUNDING_RATES = TypeAdapter(list[FundingRateRecord])
ACCOUNT_BOOK = TypeAdapter(list[AccountBookEntry])
CANCEL_RESULTS = TypeAdapter(list[CancelResult])


def adapter(model: type[Wire]) -> TypeAdapter[Any]:
    return TypeAdapter(model)
