"""A fake Gate APIv4 venue: spot BTC_USDT + USDT perpetual BTC_USDT in dual (hedge) mode.

Deliberately independent of ``btcn.exchange`` (plain dicts, its own signature check) so it cannot
share a bug with the client; the official SDK reads it in ``tests/exchange/test_sdk_parity.py``.

Matching model (documented so tests can compute expected results):

* The book is static: ``spot_bids/asks`` and ``fut_bids/asks`` are ``(price, size)`` levels that
  are never depleted. A taker order (IOC / market) fills level by level up to each level's size,
  within its limit price; the rest is cancelled (``finish_as=ioc``).
* A PostOnly (``poc``) order that would cross is rejected (spot ``POC_FILL_IMMEDIATELY`` or, with
  ``spot_poc_mode="finish_as_poc"``, accepted and finished as ``poc``; futures
  ``ORDER_POC_IMMEDIATE``). Otherwise it rests and ``maker_fill_fraction`` of it fills at once as
  maker at its own price. ``fill_on_cancel`` fills that fraction of what is left when a cancel
  arrives (a cancel that races a fill); 1 means the cancel finds the order already filled.
* Spot fees are charged in the received asset (buy: BTC, sell: USDT); futures fees in USDT on
  notional. Futures positions are dual mode: a buy opens long or (``reduce_only``) reduces short.

* Wallet transfers (``POST /wallet/transfers``, spot ↔ futures, USDT) move money between
  ``spot["USDT"]`` and ``fut_total`` and book one ``dnw`` ledger entry (``change`` + in, − out of
  the futures wallet). More than the source's ``available`` is refused (4xx
  ``BALANCE_NOT_ENOUGH``): spot available, or futures ``available`` = wallet − position margin −
  order margin, so unrealised profit is never transferable. ``transfer_answer="204"`` answers
  like older API versions (no body). Every applied transfer is in ``transfers``.

Faults (:class:`Fault`) match a method and a path regex and fire ``times`` times:
``status`` (an error answer), ``rate_limit`` (429 + reset header), ``timeout`` (answer after
``delay_s``), ``reset`` (close the connection without an answer); ``when="after"`` applies the
request first (the order exists, the answer is lost), ``when="before"`` does not.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from typing import Any
from urllib.parse import parse_qsl, unquote_plus

from tests.fakes.gate_unified_fake import UnifiedFake

D = Decimal
ZERO = D(0)
TEXT_RE = re.compile(r"^t-[0-9A-Za-z_.-]{1,28}$")


def q(value: Decimal, places: int) -> Decimal:
    return value.quantize(D(1).scaleb(-places), rounding=ROUND_DOWN)


def s(value: Decimal) -> str:
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


class ApiError(Exception):
    def __init__(self, status: int, label: str, message: str = "", detail_key: str = "message"):
        super().__init__(label)
        self.status = status
        self.label = label
        self.message = message or label
        self.detail_key = detail_key


@dataclass
class Fault:
    method: str
    path: str  # regex matched against the path after /api/v4
    kind: str  # status | rate_limit | timeout | reset | skew (the venue clock jumps delay_s)
    when: str = "before"  # before | after
    status: int = 500
    label: str = "INTERNAL"
    delay_s: float = 1.0
    reset_in_s: int = 2
    times: int = 1
    skip: int = 0  # let this many matching requests through first
    fired: int = 0


@dataclass
class Reply:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    reset: bool = False


@dataclass
class Order:
    market: str  # spot | futures
    id: int
    text: str
    side: str  # buy | sell
    amount: Decimal  # spot BTC / futures contracts (unsigned)
    price: Decimal  # 0 = market
    tif: str
    reduce_only: bool
    create_s: float
    status: str = "open"  # spot: open/closed/cancelled; futures: open/finished
    filled: Decimal = ZERO
    filled_total: Decimal = ZERO  # quote value of fills
    fee: Decimal = ZERO
    fee_currency: str = ""
    finish_as: str = "open"
    finish_s: float | None = None
    update_s: float = 0.0
    locked: bool = False  # spot: funds reserved for the unfilled part

    @property
    def left(self) -> Decimal:
        return self.amount - self.filled

    @property
    def is_open(self) -> bool:
        return self.status == "open"


class FakeGate(UnifiedFake):
    """State and wire behaviour of the fake venue. Thread-safe (one lock). The unified account
    (``unified_mode``) is in :mod:`tests.fakes.gate_unified_fake`."""

    def __init__(
        self,
        key: str = "fake-key",
        secret: str = "fake-secret",
        *,
        spot_usdt: str = "50000",
        spot_btc: str = "0",
        futures_usdt: str = "50000",
        long_contracts: int = 0,
        short_contracts: int = 0,
        entry_price: str = "100000",
        mid: str = "100000",
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.lock = threading.RLock()
        self.key = key
        self.secret = secret
        self.clock = clock or time.time
        self.skew_s = 0.0  # venue clock = local clock + skew
        self.dual_mode = True
        self.leverage = D(10)
        # Pair and contract rules.
        self.amount_precision = 6
        self.price_precision = 1
        self.min_base = D("0.00001")
        self.min_quote = D("3")
        self.multiplier = D("0.0001")
        self.order_size_min = D(1)
        self.order_size_max = D(1000000)
        self.price_round = D("0.1")
        self.size_as_int = False  # True: futures sizes as JSON integers (older API versions)
        # Fees.
        self.spot_maker_fee = D("0.001")
        self.spot_taker_fee = D("0.001")
        self.fut_maker_fee = D("0.0002")
        self.fut_taker_fee = D("0.0005")
        # Balances and positions.
        self.spot = {"USDT": [D(spot_usdt), ZERO], "BTC": [D(spot_btc), ZERO]}  # available, locked
        self.fut_total = D(futures_usdt)
        self.pos = {
            "long": [D(long_contracts), D(entry_price) if long_contracts else ZERO],
            "short": [D(short_contracts), D(entry_price) if short_contracts else ZERO],
        }
        self.realised = ZERO
        self.set_mid(D(mid))
        # Behaviour knobs.
        self.maker_fill_fraction = {"spot": D("0.5"), "futures": D("0.5")}
        self.fill_on_cancel = {"spot": ZERO, "futures": ZERO}
        self.spot_poc_mode = "reject"  # or finish_as_poc
        self.text_ttl_s = 60.0  # futures: unfilled cancelled orders forget their text
        self.create_latency_s = 0.0  # delay before answering any order create
        self.trade_status = "tradable"
        self.history_visible = True  # False: finished orders missing from list endpoints (lag)
        self.trades_visible = True  # False: my_trades answers nothing yet (trade feed lag)
        # Records.
        self.orders: dict[int, Order] = {}
        self.next_id = 900_000_000_001  # > 2^32: ids must not be squeezed into small ints
        self.creations: list[tuple[str, str, int]] = []  # (market, text, id) of accepted creates
        self.spot_trades: list[dict[str, Any]] = []
        self.fut_trades: list[dict[str, Any]] = []
        self.account_book: list[dict[str, Any]] = []
        self.transfers: list[dict[str, Any]] = []  # applied wallet transfers
        self.transfer_answer = "tx_id"  # or "204": no body (older API versions)
        self.next_tx_id = 81_000_000_001
        self.transfer_latency_s = 0.0  # delay before answering a transfer (widens the window)
        self.exptimes: list[tuple[str, int, float]] = []  # (path, x-gate-exptime ms, venue now s)
        self.maintenance_rate = D("0.004")
        self.faults: list[Fault] = []
        self.requests: list[tuple[str, str, str]] = []  # (method, path, query) — never headers
        self.auth_failures: list[str] = []
        self.candle_seed = 7
        self.funding_history: list[tuple[int, str]] = [
            (1735689600 + 8 * 3600 * i, "0.0001" if i % 3 else "-0.00005") for i in range(300)
        ]
        self._init_unified()

    # --- configuration helpers -----------------------------------------------------------------
    def set_mid(self, mid: Decimal, spread: Decimal = D("0.1"), depth_btc: Decimal = D(10)) -> None:
        """A symmetric two-level book around ``mid`` on both markets; mark = mid."""
        with self.lock:
            half = spread / 2
            self.mark = mid
            self.spot_bids = [(mid - half, depth_btc), (mid - half - 5, depth_btc)]
            self.spot_asks = [(mid + half, depth_btc), (mid + half + 5, depth_btc)]
            contracts = (depth_btc / self.multiplier).to_integral_value()
            self.fut_bids = [(mid - half, contracts), (mid - half - 5, contracts)]
            self.fut_asks = [(mid + half, contracts), (mid + half + 5, contracts)]

    def add_fault(self, **kwargs: Any) -> Fault:
        fault = Fault(**kwargs)
        with self.lock:
            self.faults.append(fault)
        return fault

    def now(self) -> float:
        return self.clock() + self.skew_s

    # --- views for assertions ------------------------------------------------------------------
    def duplicate_texts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for _, text, _ in self.creations:
            counts[text] = counts.get(text, 0) + 1
        return {t: n for t, n in counts.items() if n > 1}

    def orders_with_prefix(self, prefix: str) -> list[Order]:
        return [o for o in self.orders.values() if o.text.startswith(prefix)]

    def filled_by_text(self) -> dict[str, Decimal]:
        out: dict[str, Decimal] = {}
        for o in self.orders.values():
            if o.filled > 0:
                out[o.text] = out.get(o.text, ZERO) + o.filled
        return out

    # --- HTTP entry point ----------------------------------------------------------------------
    def handle(
        self, method: str, path: str, raw_query: str, headers: dict[str, str], body: bytes
    ) -> Reply:
        sub = path[len("/api/v4") :] if path.startswith("/api/v4") else path
        with self.lock:
            self.requests.append((method, sub, raw_query))
            fault = self._match_fault(method, sub)
        if fault is not None and fault.kind == "skew":
            with self.lock:  # the venue clock jumps; this request is judged by the new clock
                self.skew_s += fault.delay_s
            fault = None
        if fault is not None and fault.when == "before":
            return self._fault_reply(fault, None)
        try:
            with self.lock:
                reply = self._dispatch(method, path, sub, raw_query, headers, body)
        except ApiError as err:
            reply = Reply(err.status, {"label": err.label, err.detail_key: err.message})
        except (ValueError, KeyError, ArithmeticError) as err:
            reply = Reply(400, {"label": "INVALID_PARAM_VALUE", "message": str(err)[:200]})
        if method == "POST" and ("orders" in sub) and "cancel" not in sub:
            reply.delay_s = max(reply.delay_s, self.create_latency_s)
        if method == "POST" and sub == "/wallet/transfers":
            reply.delay_s = max(reply.delay_s, self.transfer_latency_s)
        if fault is not None:
            return self._fault_reply(fault, reply)
        return reply

    def _match_fault(self, method: str, sub: str) -> Fault | None:
        for f in self.faults:
            if f.fired < f.times and f.method == method and re.fullmatch(f.path, sub):
                if f.skip > 0:
                    f.skip -= 1
                    continue
                f.fired += 1
                return f
        return None

    def _fault_reply(self, f: Fault, done: Reply | None) -> Reply:
        if f.kind == "status":
            return Reply(f.status, {"label": f.label, "message": "injected fault"})
        if f.kind == "rate_limit":
            reset = int(self.now()) + f.reset_in_s
            return Reply(
                429,
                {"label": "TOO_MANY_REQUESTS", "message": "Request Rate limit Exceeded"},
                {"X-Gate-RateLimit-Reset-Timestamp": str(reset),
                 "X-Gate-RateLimit-Requests-Remain": "0", "X-Gate-RateLimit-Limit": "10"},
            )  # fmt: skip
        if f.kind == "timeout":
            reply = done or Reply(504, {"label": "TIMEOUT", "message": "injected"})
            reply.delay_s = f.delay_s
            return reply
        if f.kind == "reset":
            return Reply(0, None, reset=True)
        raise AssertionError(f"unknown fault kind {f.kind}")

    # --- signature -----------------------------------------------------------------------------
    def _check_auth(self, method: str, path: str, raw_query: str, headers: dict[str, str],
                    body: bytes) -> None:  # fmt: skip
        key, ts, sign = headers.get("key"), headers.get("timestamp"), headers.get("sign")
        if not key or not ts or not sign:
            self.auth_failures.append("MISSING_REQUIRED_HEADER")
            raise ApiError(401, "MISSING_REQUIRED_HEADER", "KEY, Timestamp and SIGN are required")
        if key != self.key:
            self.auth_failures.append("INVALID_KEY")
            raise ApiError(401, "INVALID_KEY", "Invalid key provided")
        try:
            ts_value = float(ts)
        except ValueError:
            raise ApiError(401, "INVALID_SIGNATURE", "bad Timestamp") from None
        if abs(ts_value - self.now()) > 60:
            self.auth_failures.append("REQUEST_EXPIRED")
            raise ApiError(
                401, "REQUEST_EXPIRED", "gap between request Timestamp and server time exceeds 60"
            )
        payload = "\n".join(
            (method, path, unquote_plus(raw_query), hashlib.sha512(body).hexdigest(), ts)
        )
        expected = hmac.new(self.secret.encode(), payload.encode(), hashlib.sha512).hexdigest()
        if not hmac.compare_digest(expected, sign):
            self.auth_failures.append("INVALID_SIGNATURE")
            raise ApiError(401, "INVALID_SIGNATURE", "Signature mismatch")

    # --- routing -------------------------------------------------------------------------------
    def _dispatch(self, method: str, path: str, sub: str, raw_query: str,
                  headers: dict[str, str], body: bytes) -> Reply:  # fmt: skip
        params = dict(parse_qsl(raw_query, keep_blank_values=True))
        public = {
            ("GET", r"/spot/time"): self._time,
            ("GET", r"/spot/currency_pairs/(?P<pair>[A-Z_]+)"): self._pair,
            ("GET", r"/spot/tickers"): self._spot_tickers,
            ("GET", r"/spot/order_book"): self._spot_book,
            ("GET", r"/spot/candlesticks"): self._spot_candles,
            ("GET", r"/futures/usdt/contracts/(?P<contract>[A-Z_]+)"): self._contract,
            ("GET", r"/futures/usdt/tickers"): self._fut_tickers,
            ("GET", r"/futures/usdt/order_book"): self._fut_book,
            ("GET", r"/futures/usdt/candlesticks"): self._fut_candles,
            ("GET", r"/futures/usdt/funding_rate"): self._funding,
        }
        private = {
            ("GET", r"/spot/accounts"): self._spot_accounts,
            ("GET", r"/futures/usdt/accounts"): self._fut_account,
            (
                "GET",
                r"/futures/usdt/dual_comp/positions/(?P<contract>[A-Z_]+)",
            ): self._dual_positions,
            ("GET", r"/futures/usdt/positions"): self._positions,
            ("POST", r"/spot/orders"): self._spot_create,
            ("POST", r"/spot/batch_orders"): self._spot_batch,
            ("GET", r"/spot/orders"): self._spot_list,
            ("GET", r"/spot/orders/(?P<oid>[^/]+)"): self._spot_get,
            ("DELETE", r"/spot/orders/(?P<oid>[^/]+)"): self._spot_cancel,
            ("POST", r"/spot/cancel_batch_orders"): self._spot_cancel_batch,
            ("GET", r"/spot/my_trades"): self._spot_trades,
            ("POST", r"/futures/usdt/orders"): self._fut_create,
            ("POST", r"/futures/usdt/batch_orders"): self._fut_batch,
            ("GET", r"/futures/usdt/orders"): self._fut_list,
            ("GET", r"/futures/usdt/orders/(?P<oid>[^/]+)"): self._fut_get,
            ("DELETE", r"/futures/usdt/orders/(?P<oid>[^/]+)"): self._fut_cancel,
            ("POST", r"/futures/usdt/batch_cancel_orders"): self._fut_cancel_batch,
            ("GET", r"/futures/usdt/my_trades"): self._fut_trades,
            ("GET", r"/futures/usdt/account_book"): self._account_book,
            ("POST", r"/wallet/transfers"): self._transfer,
        }
        u_public, u_private = self.unified_routes()
        public.update(u_public)
        private.update(u_private)
        for table, needs_auth in ((public, False), (private, True)):
            for (m, pattern), fn in table.items():
                match = re.fullmatch(pattern, sub)
                if m == method and match:
                    exptime = headers.get("x-gate-exptime")
                    if exptime is not None:
                        self.exptimes.append((sub, int(exptime), self.now()))
                    if needs_auth:
                        self._check_auth(method, path, raw_query, headers, body)
                    if exptime is not None and self.now() * 1000 > float(exptime):
                        raise ApiError(400, "REQUEST_EXPIRED", "x-gate-exptime has passed")
                    payload = json.loads(body) if body else None
                    return fn(params=params, body=payload, **match.groupdict())
        raise ApiError(404, "NOT_FOUND", f"no route {method} {sub}")

    # --- public --------------------------------------------------------------------------------
    def _time(self, **_: Any) -> Reply:
        return Reply(200, {"server_time": int(self.now() * 1000)})

    def _pair(self, pair: str, **_: Any) -> Reply:
        if pair != "BTC_USDT":
            raise ApiError(400, "INVALID_CURRENCY_PAIR", pair)
        return Reply(200, {
            "id": "BTC_USDT", "base": "BTC", "quote": "USDT", "fee": "0.2",
            "min_base_amount": s(self.min_base), "min_quote_amount": s(self.min_quote),
            "max_base_amount": None, "max_quote_amount": "5000000",
            "amount_precision": self.amount_precision, "precision": self.price_precision,
            "trade_status": self.trade_status, "sell_start": 1516378650, "buy_start": 1516378650,
        })  # fmt: skip

    def _spot_tickers(self, params: dict[str, str], **_: Any) -> Reply:
        return Reply(200, [{
            "currency_pair": "BTC_USDT", "last": s(self.mark),
            "lowest_ask": s(self.spot_asks[0][0]), "lowest_size": s(self.spot_asks[0][1]),
            "highest_bid": s(self.spot_bids[0][0]), "highest_size": s(self.spot_bids[0][1]),
            "change_percentage": "0.5", "base_volume": "1000", "quote_volume": "100000000",
            "high_24h": s(self.mark + 500), "low_24h": s(self.mark - 500),
        }])  # fmt: skip

    def _spot_book(self, params: dict[str, str], **_: Any) -> Reply:
        return Reply(200, {
            "current": int(self.now() * 1000), "update": int(self.now() * 1000),
            "asks": [[s(p), s(z)] for p, z in self.spot_asks],
            "bids": [[s(p), s(z)] for p, z in self.spot_bids],
        })  # fmt: skip

    def _contract(self, contract: str, **_: Any) -> Reply:
        if contract != "BTC_USDT":
            raise ApiError(400, "CONTRACT_NOT_FOUND", contract)
        return Reply(200, {
            "name": "BTC_USDT", "type": "direct", "quanto_multiplier": s(self.multiplier),
            "order_size_min": s(self.order_size_min), "order_size_max": s(self.order_size_max),
            "order_price_round": s(self.price_round), "mark_price_round": "0.01",
            "enable_decimal": False, "mark_price": s(self.mark), "index_price": s(self.mark),
            "last_price": s(self.mark), "funding_rate": "0.0001", "funding_interval": 28800,
            "funding_next_apply": 1735718400.0, "maker_fee_rate": "-0.00025",
            "taker_fee_rate": "0.00075", "leverage_min": "1", "leverage_max": "125",
            "order_price_deviate": "0.5", "in_delisting": False, "status": "trading",
            "maintenance_rate": s(self.maintenance_rate),
        })  # fmt: skip

    def _fut_tickers(self, **_: Any) -> Reply:
        return Reply(200, [{
            "contract": "BTC_USDT", "last": s(self.mark), "mark_price": s(self.mark),
            "index_price": s(self.mark), "funding_rate": "0.0001",
            "lowest_ask": s(self.fut_asks[0][0]), "highest_bid": s(self.fut_bids[0][0]),
            "lowest_size": s(self.fut_asks[0][1]), "highest_size": s(self.fut_bids[0][1]),
            "change_percentage": "0.1", "total_size": "1000000", "volume_24h": "5000000",
        }])  # fmt: skip

    def _fut_book(self, **_: Any) -> Reply:
        return Reply(200, {
            "current": self.now(), "update": self.now(),
            "asks": [{"p": s(p), "s": int(z)} for p, z in self.fut_asks],
            "bids": [{"p": s(p), "s": int(z)} for p, z in self.fut_bids],
        })  # fmt: skip

    def _price_at(self, t: int) -> float:
        return 95000 + 3000 * math.sin(t / 86400 / 7 * 2 * math.pi) + 400 * math.sin(t / 9000)

    def _candle_range(self, params: dict[str, str], limit_max: int) -> list[int]:
        interval = _INTERVALS_S[params.get("interval", "5m")]
        to_s = int(params.get("to", int(self.now())))
        from_s = int(params.get("from", to_s - 100 * interval))
        start = -(-from_s // interval) * interval
        ts = list(range(start, to_s + 1, interval))
        if len(ts) > limit_max:
            raise ApiError(400, "INVALID_PARAM_VALUE", f"too many points, at most {limit_max}")
        return [t for t in ts if t <= self.now()]

    def _spot_candles(self, params: dict[str, str], **_: Any) -> Reply:
        interval = _INTERVALS_S[params.get("interval", "5m")]
        rows = []
        for t in self._candle_range(params, 1000):
            o, c = self._price_at(t), self._price_at(t + interval)
            closed = t + interval <= self.now()
            rows.append([str(t), f"{100 * c:.2f}", f"{c:.1f}", f"{max(o, c) + 20:.1f}",
                         f"{min(o, c) - 20:.1f}", f"{o:.1f}", "100", "true" if closed else "false"])  # fmt: skip
        return Reply(200, rows)

    def _fut_candles(self, params: dict[str, str], **_: Any) -> Reply:
        interval = _INTERVALS_S[params.get("interval", "5m")]
        mark = params.get("contract", "").startswith(("mark_", "index_"))
        rows = []
        for t in self._candle_range(params, 2000):
            o, c = self._price_at(t) + 10, self._price_at(t + interval) + 10
            row: dict[str, Any] = {"t": t, "o": f"{o:.1f}", "h": f"{max(o, c) + 15:.1f}",
                                   "l": f"{min(o, c) - 15:.1f}", "c": f"{c:.1f}"}  # fmt: skip
            if not mark:
                row.update(v=12000, sum="120000000")
            rows.append(row)
        return Reply(200, rows)

    def _funding(self, params: dict[str, str], **_: Any) -> Reply:
        lo = int(params.get("from", 0))
        hi = int(params.get("to", 2**62))
        limit = int(params.get("limit", 100))
        rows = [{"t": t, "r": r} for t, r in self.funding_history if lo <= t <= hi]
        rows.sort(key=lambda r: -r["t"])  # newest first, like Gate
        return Reply(200, rows[:limit])

    # --- accounts ------------------------------------------------------------------------------
    def _spot_accounts(self, params: dict[str, str], **_: Any) -> Reply:
        cur = params.get("currency")
        rows = [
            {"currency": c, "available": s(v[0]), "locked": s(v[1]), "update_id": 1}
            for c, v in self.spot.items() if cur is None or c == cur
        ]  # fmt: skip
        return Reply(200, rows)

    def _margin_used(self) -> Decimal:
        used = ZERO
        for side in ("long", "short"):
            size, entry = self.pos[side]
            used += size * self.multiplier * entry / self.leverage
        return used

    def _order_margin(self) -> Decimal:
        total = ZERO
        for o in self.orders.values():
            if o.market == "futures" and o.is_open and not o.reduce_only:
                total += o.left * self.multiplier * o.price / self.leverage
        return total

    def _upnl(self) -> Decimal:
        (ls, le), (ss, se) = self.pos["long"], self.pos["short"]
        return (self.mark - le) * ls * self.multiplier + (se - self.mark) * ss * self.multiplier

    def fut_available(self) -> Decimal:
        return self.fut_total - self._margin_used() - self._order_margin()

    def _fut_account(self, **_: Any) -> Reply:
        total, avail = self.unified_futures_view() if self.is_unified else (
            self.fut_total, max(self.fut_available(), ZERO))  # fmt: skip
        return Reply(200, {
            "total": s(total), "unrealised_pnl": s(self._upnl()),
            "position_margin": s(self._margin_used()), "order_margin": s(self._order_margin()),
            "available": s(avail), "point": "0", "currency": "USDT",
            "in_dual_mode": self.dual_mode, "position_mode": "dual" if self.dual_mode else "single",
            "enable_credit": False, "bonus": "0",
            "history": {"dnw": s(self.fut_total), "pnl": s(self.realised), "fee": "0",
                        "refr": "0", "fund": "0", "point_dnw": "0", "point_fee": "0",
                        "point_refr": "0", "bonus_dnw": "0", "bonus_offset": "0"},
        })  # fmt: skip

    def _position_json(self, side: str) -> dict[str, Any]:
        size, entry = self.pos[side]
        signed = size if side == "long" else -size
        return {
            "user": 1001,
            "contract": "BTC_USDT",
            "size": s(signed),
            "leverage": s(self.leverage),
            "risk_limit": "1000000",
            "leverage_max": "125",
            "maintenance_rate": "0.004",
            "value": s(size * self.multiplier * self.mark),
            "margin": s(size * self.multiplier * entry / self.leverage),
            "maintenance_margin": s(size * self.multiplier * self.mark * self.maintenance_rate),
            "entry_price": s(entry),
            "liq_price": s(self._liq_price(side)),
            "mark_price": s(self.mark),
            "unrealised_pnl": "0",
            "realised_pnl": "0",
            "history_pnl": "0",
            "last_close_pnl": "0",
            "realised_point": "0",
            "history_point": "0",
            "adl_ranking": 5,
            "pending_orders": 0,
            "mode": f"dual_{side}",
            "cross_leverage_limit": "0",
            "update_time": int(self.now()),
        }

    def _liq_price(self, side: str) -> Decimal:
        """Gate's isolated-margin rule (exchange-api.md §4.6) with the position's margin."""
        size, entry = self.pos[side]
        if size == 0:
            return ZERO
        margin = size * self.multiplier * entry / self.leverage
        rate = self.maintenance_rate + self.fut_taker_fee
        if side == "short":
            return q((entry + margin / (self.multiplier * size)) / (1 + rate), 2)
        return max(q((entry - margin / (self.multiplier * size)) / (1 - rate), 2), ZERO)

    # --- wallet --------------------------------------------------------------------------------
    def _transfer(self, body: Any, **_: Any) -> Reply:
        self.refuse_transfer_if_unified()
        if not isinstance(body, dict):
            raise ApiError(400, "INVALID_REQUEST_BODY", "expected an object")
        for key in ("currency", "from", "to", "amount"):
            if key not in body:
                raise ApiError(400, "MISSING_REQUIRED_PARAM", key)
        if body["currency"] != "USDT":
            raise ApiError(400, "INVALID_CURRENCY", str(body["currency"]))
        src, dst = body["from"], body["to"]
        if {src, dst} != {"spot", "futures"}:
            raise ApiError(400, "INVALID_PARAM_VALUE", f"from {src} to {dst}")
        if body.get("settle", "usdt") != "usdt":
            raise ApiError(400, "INVALID_PARAM_VALUE", "settle")
        amount = D(str(body["amount"]))
        if amount <= 0 or amount != q(amount, 8):
            raise ApiError(400, "INVALID_PARAM_VALUE", f"amount {body['amount']}")
        available = self.spot["USDT"][0] if src == "spot" else self.fut_available()
        if amount > available:
            raise ApiError(400, "BALANCE_NOT_ENOUGH", "Not enough balance")
        if src == "spot":
            self.spot["USDT"][0] -= amount
            self.fut_total += amount
            change = amount
        else:
            self.fut_total -= amount
            self.spot["USDT"][0] += amount
            change = -amount
        tx_id = self.next_tx_id
        self.next_tx_id += 3
        self._book("dnw", change, "")
        self.transfers.append({"tx_id": tx_id, "from": src, "to": dst, "amount": amount,
                               "time": self.now()})  # fmt: skip
        if self.transfer_answer == "204":
            return Reply(204, None)
        return Reply(200, {"tx_id": tx_id})

    def _dual_positions(self, contract: str, **_: Any) -> Reply:
        if not self.dual_mode:
            raise ApiError(400, "POSITION_DUAL_MODE", "not in dual mode")
        return Reply(200, [self._position_json("long"), self._position_json("short")])

    def _positions(self, params: dict[str, str], **_: Any) -> Reply:
        holding = params.get("holding", "").lower() == "true"
        rows = [self._position_json(side) for side in ("long", "short")
                if not holding or self.pos[side][0] != 0]  # fmt: skip
        return Reply(200, rows)

    # --- order helpers -------------------------------------------------------------------------
    def _new_order(self, market: str, text: str, side: str, amount: Decimal, price: Decimal,
                   tif: str, reduce_only: bool) -> Order:  # fmt: skip
        if text and not TEXT_RE.match(text):
            raise ApiError(
                400, "INVALID_PARAM_VALUE", f"Invalid parameter `text` with value: {text}"
            )
        oid = self.next_id
        self.next_id += 7
        now = self.now()
        order = Order(market, oid, text, side, amount, price, tif, reduce_only, now, update_s=now)
        return order

    def _accept(self, order: Order) -> None:
        self.orders[order.id] = order
        self.creations.append((order.market, order.text, order.id))

    def _finish(self, order: Order, finish_as: str) -> None:
        order.finish_as = finish_as
        order.finish_s = self.now()
        order.update_s = order.finish_s
        if order.market == "spot":
            order.status = "closed" if order.left == 0 else "cancelled"
            if order.locked:
                self._spot_unlock(order)
                order.locked = False
        else:
            order.status = "finished"

    # --- spot ----------------------------------------------------------------------------------
    def _spot_lock_need(self, order: Order, qty: Decimal) -> tuple[str, Decimal]:
        if order.side == "buy":
            return "USDT", qty * order.price
        return "BTC", qty

    def _spot_unlock(self, order: Order) -> None:
        cur, amount = self._spot_lock_need(order, order.left)
        self.spot[cur][0] += amount
        self.spot[cur][1] -= amount

    def _spot_fill(self, order: Order, qty: Decimal, price: Decimal, maker: bool) -> None:
        qty = q(qty, self.amount_precision)
        if qty <= 0:
            return
        rate = self.spot_maker_fee if maker else self.spot_taker_fee
        deal = qty * price
        resting = order.locked
        if order.side == "buy":
            fee = qty * rate
            if resting:  # paid from the locked USDT (locked at the order price)
                self.spot["USDT"][1] -= qty * order.price
            else:
                self.spot["USDT"][0] -= deal
            self.spot["BTC"][0] += qty - fee
            fee_cur = "BTC"
        else:
            fee = deal * rate
            if resting:
                self.spot["BTC"][1] -= qty
            else:
                self.spot["BTC"][0] -= qty
            self.spot["USDT"][0] += deal - fee
            fee_cur = "USDT"
        order.filled += qty
        order.filled_total += deal
        order.fee += fee
        order.fee_currency = fee_cur
        order.update_s = self.now()
        now = self.now()
        self.spot_trades.append({
            "id": str(len(self.spot_trades) + 5_000_001), "create_time": str(int(now)),
            "create_time_ms": f"{now * 1000:.3f}", "currency_pair": "BTC_USDT",
            "side": order.side, "role": "maker" if maker else "taker", "amount": s(qty),
            "price": s(price), "order_id": str(order.id), "fee": s(fee), "fee_currency": fee_cur,
            "point_fee": "0", "gt_fee": "0", "text": order.text, "deal": s(deal),
        })  # fmt: skip

    def _spot_json(self, o: Order, **extra: Any) -> dict[str, Any]:
        avg = o.filled_total / o.filled if o.filled else ZERO
        row = {
            "id": str(o.id), "text": o.text, "amend_text": "-",
            "create_time": str(int(o.create_s)), "update_time": str(int(o.update_s)),
            "create_time_ms": int(o.create_s * 1000), "update_time_ms": int(o.update_s * 1000),
            "status": o.status, "currency_pair": "BTC_USDT", "type": "limit" if o.price else "market",
            "account": self.spot_account, "side": o.side, "amount": s(o.amount),
            "price": s(o.price),
            "time_in_force": o.tif, "iceberg": "0", "left": s(o.left),
            "filled_amount": s(o.filled), "fill_price": s(o.filled_total),
            "filled_total": s(o.filled_total), "avg_deal_price": s(avg), "fee": s(o.fee),
            "fee_currency": o.fee_currency or ("BTC" if o.side == "buy" else "USDT"),
            "point_fee": "0", "gt_fee": "0", "gt_discount": False, "rebated_fee": "0",
            "rebated_fee_currency": "USDT", "finish_as": o.finish_as,
        }  # fmt: skip
        row.update(extra)
        return row

    def _spot_place(self, b: dict[str, Any]) -> Order:
        if b.get("currency_pair") != "BTC_USDT":
            raise ApiError(400, "INVALID_CURRENCY_PAIR", str(b.get("currency_pair")))
        self.check_spot_account(b.get("account"))
        side = b["side"]
        if side not in ("buy", "sell"):
            raise ApiError(400, "INVALID_PARAM_VALUE", "side")
        typ = b.get("type", "limit")
        tif = b.get("time_in_force", "gtc")
        amount = D(str(b["amount"]))
        if amount != q(amount, self.amount_precision):
            raise ApiError(400, "INVALID_PRECISION", f"amount {b['amount']}")
        if typ == "market":
            if tif not in ("ioc", "fok"):
                raise ApiError(400, "INVALID_PARAM_VALUE", "market orders take ioc or fok")
            price = ZERO
        else:
            price = D(str(b["price"]))
            if price != q(price, self.price_precision) or price <= 0:
                raise ApiError(400, "INVALID_PRECISION", f"price {b['price']}")
            if amount < self.min_base or amount * price < self.min_quote:
                raise ApiError(400, "AMOUNT_TOO_LITTLE", "order amount too small")
        order = self._new_order("spot", b.get("text", ""), side, amount, price, tif, False)
        best_ask, best_bid = self.spot_asks[0][0], self.spot_bids[0][0]
        crosses = (side == "buy" and price >= best_ask) or (side == "sell" and price <= best_bid)
        if tif == "poc" and crosses:
            if self.spot_poc_mode == "reject":
                raise ApiError(400, "POC_FILL_IMMEDIATELY", "order would match and take liquidity")
            self._accept(order)
            self._finish(order, "poc")
            order.status = "cancelled"
            return order
        # Balance check for the whole order.
        if typ == "market":
            need_cur, need = ("USDT", amount) if side == "buy" else ("BTC", amount)
        else:
            need_cur, need = self._spot_lock_need(order, amount)
        if self.spot[need_cur][0] < need:
            raise ApiError(400, "BALANCE_NOT_ENOUGH", "Not enough balance")
        self._accept(order)
        if tif in ("ioc", "fok") or typ == "market":
            levels = self.spot_asks if side == "buy" else self.spot_bids
            for lvl_price, lvl_size in levels:
                if typ == "limit" and ((side == "buy" and lvl_price > price) or
                                       (side == "sell" and lvl_price < price)):  # fmt: skip
                    break
                take = min(lvl_size, order.left)
                self._spot_fill(order, take, lvl_price, maker=False)
                if order.left <= 0:
                    break
            self._finish(order, "filled" if order.left == 0 else "ioc")
            return order
        # Resting (poc / gtc): lock, then the scripted maker fill.
        cur, lock = self._spot_lock_need(order, amount)
        self.spot[cur][0] -= lock
        self.spot[cur][1] += lock
        order.locked = True
        self._spot_fill(order, amount * self.maker_fill_fraction["spot"], price, maker=True)
        if order.left <= 0:
            self._finish(order, "filled")
        return order

    def _spot_create(self, body: Any, **_: Any) -> Reply:
        order = self._spot_place(body)
        return Reply(201, self._spot_json(order))

    def _spot_batch(self, body: Any, **_: Any) -> Reply:
        if not isinstance(body, list) or len(body) > 10:
            raise ApiError(400, "TOO_MANY_ORDERS", "at most 10 orders per pair")
        out = []
        for b in body:
            if not b.get("text"):
                raise ApiError(400, "MISSING_REQUIRED_PARAM", "text is required in batch orders")
            try:
                order = self._spot_place(b)
                out.append(self._spot_json(order, order_id=str(order.id), succeeded=True,
                                           label="", message=""))  # fmt: skip
            except ApiError as err:
                out.append({"order_id": "", "text": b.get("text", ""), "succeeded": False,
                            "label": err.label, "message": err.message})  # fmt: skip
        return Reply(200, out)

    def _find_spot(self, oid: str) -> Order:
        if oid.isdigit() and int(oid) in self.orders and self.orders[int(oid)].market == "spot":
            return self.orders[int(oid)]
        for o in self.orders.values():  # by text: only while the order is open
            if o.market == "spot" and o.text == oid and o.is_open:
                return o
        raise ApiError(404, "ORDER_NOT_FOUND", "Order not found")

    def _spot_get(self, oid: str, params: dict[str, str], **_: Any) -> Reply:
        return Reply(200, self._spot_json(self._find_spot(oid)))

    def _spot_list(self, params: dict[str, str], **_: Any) -> Reply:
        status = params["status"]
        page, limit = int(params.get("page", 1)), int(params.get("limit", 100))
        lo, hi = float(params.get("from", 0)), float(params.get("to", 2**62))
        rows = [o for o in self.orders.values() if o.market == "spot"
                and (o.is_open if status == "open" else not o.is_open and self.history_visible)
                and (status == "open" or lo <= (o.finish_s or 0) <= hi)]  # fmt: skip
        rows.sort(key=lambda o: -o.id)
        chunk = rows[(page - 1) * limit : page * limit]
        return Reply(200, [self._spot_json(o) for o in chunk])

    def _spot_cancel(self, oid: str, **_: Any) -> Reply:
        order = self._find_spot(oid)
        if not order.is_open:
            raise ApiError(400, "ORDER_CLOSED" if order.left == 0 else "ORDER_CANCELLED",
                           "order already finished")  # fmt: skip
        race = self.fill_on_cancel["spot"]
        if race > 0:
            self._spot_fill(order, order.left * race, order.price, maker=True)
            if order.left <= 0:
                self._finish(order, "filled")
                raise ApiError(400, "ORDER_CLOSED", "order already finished")
        self._finish(order, "cancelled")
        return Reply(200, self._spot_json(order))

    def _spot_cancel_batch(self, body: Any, **_: Any) -> Reply:
        out = []
        for item in body:
            try:
                self._spot_cancel(str(item["id"]))
                out.append({"currency_pair": "BTC_USDT", "id": str(item["id"]), "succeeded": True,
                            "label": "", "message": "", "account": self.spot_account})  # fmt: skip
            except ApiError as err:
                out.append({"currency_pair": "BTC_USDT", "id": str(item["id"]), "succeeded": False,
                            "label": err.label, "message": err.message, "account": self.spot_account})  # fmt: skip
        return Reply(200, out)

    def _spot_trades(self, params: dict[str, str], **_: Any) -> Reply:
        page, limit = int(params.get("page", 1)), int(params.get("limit", 100))
        lo, hi = float(params.get("from", 0)), float(params.get("to", 2**62))
        rows = [t for t in self.spot_trades if self.trades_visible
                and ("order_id" not in params or t["order_id"] == params["order_id"])
                and lo <= float(t["create_time"]) <= hi]  # fmt: skip
        rows = rows[::-1]  # newest first
        return Reply(200, rows[(page - 1) * limit : page * limit])

    # --- futures -------------------------------------------------------------------------------
    def _size_out(self, value: Decimal) -> Any:
        return int(value) if self.size_as_int else s(value)

    def _fut_json(self, o: Order, **extra: Any) -> dict[str, Any]:
        sign = 1 if o.side == "buy" else -1
        avg = o.filled_total / o.filled if o.filled else ZERO
        row = {
            "id": o.id, "user": 1001, "create_time": o.create_s,
            "update_time": o.update_s, "finish_time": o.finish_s,
            "finish_as": None if o.is_open else o.finish_as, "status": o.status,
            "contract": "BTC_USDT", "size": self._size_out(o.amount * sign), "iceberg": "0",
            "price": s(o.price), "close": False, "is_close": False,
            "reduce_only": o.reduce_only, "is_reduce_only": o.reduce_only, "is_liq": False,
            "tif": o.tif, "left": self._size_out(o.left * sign), "fill_price": s(avg),
            "text": o.text, "tkfr": s(self.fut_taker_fee), "mkfr": s(self.fut_maker_fee),
            "refu": 0, "stp_act": "-", "stp_id": 0, "amend_text": "-",
        }  # fmt: skip
        row.update(extra)
        return row

    def _fut_fill(self, order: Order, qty: Decimal, price: Decimal, maker: bool) -> None:
        qty = qty.to_integral_value(rounding=ROUND_DOWN)
        if qty <= 0:
            return
        mult = self.multiplier
        notional = qty * mult * price
        fee = notional * (self.fut_maker_fee if maker else self.fut_taker_fee)
        side_key = self._pos_side(order)
        size, entry = self.pos[side_key]
        if order.reduce_only:
            pnl = (
                (price - entry) * qty * mult if side_key == "long" else (entry - price) * qty * mult
            )
            size -= qty
            self.pos[side_key] = [size, entry if size > 0 else ZERO]
            self.realised += pnl
            self.fut_total += pnl
            if pnl:
                self._book("pnl", pnl, order.text)
        else:
            new = size + qty
            self.pos[side_key] = [new, (size * entry + qty * price) / new]
        self.fut_total -= fee
        self._book("fee", -fee, order.text)
        self._settle_unified()
        order.filled += qty
        order.filled_total += qty * price
        order.update_s = self.now()
        sign = 1 if order.side == "buy" else -1
        self.fut_trades.append({
            "id": len(self.fut_trades) + 7_000_001, "create_time": self.now(),
            "contract": "BTC_USDT", "order_id": str(order.id), "size": self._size_out(qty * sign),
            "close_size": self._size_out(qty * sign if order.reduce_only else ZERO),
            "price": s(price), "role": "maker" if maker else "taker", "text": order.text,
            "fee": s(fee), "point_fee": "0", "trade_value": s(notional),
        })  # fmt: skip

    def apply_funding(self, rate: Decimal) -> None:
        """Book one funding payment: longs pay shorts when the rate is positive."""
        with self.lock:
            net = (self.pos["short"][0] - self.pos["long"][0]) * self.multiplier * self.mark
            change = net * rate
            self.fut_total += change
            self._book("fund", change, "funding")
            self._settle_unified()

    def _book(self, typ: str, change: Decimal, text: str) -> None:
        self.account_book.append({
            "time": self.now(), "change": s(change), "balance": s(self.fut_total), "type": typ,
            "text": text, "contract": "BTC_USDT", "trade_id": "", "id": str(len(self.account_book) + 1),
        })  # fmt: skip

    @staticmethod
    def _pos_side(order: Order) -> str:
        if order.reduce_only:
            return "short" if order.side == "buy" else "long"
        return "long" if order.side == "buy" else "short"

    def _fut_place(self, b: dict[str, Any]) -> Order:
        if b.get("contract") != "BTC_USDT":
            raise ApiError(400, "CONTRACT_NOT_FOUND", str(b.get("contract")), "detail")
        size = D(str(b["size"]))
        if size != size.to_integral_value():
            raise ApiError(400, "INVALID_PARAM_VALUE", "size must be an integer", "detail")
        if size == 0:
            raise ApiError(400, "INVALID_PARAM_VALUE", "size 0 needs close/auto_size", "detail")
        price = D(str(b.get("price", "0")))
        tif = b.get("tif", "gtc")
        if price == 0 and tif != "ioc":
            raise ApiError(400, "INVALID_PARAM_VALUE", "market orders need tif ioc", "detail")
        if (
            price != 0
            and (price / self.price_round) != (price / self.price_round).to_integral_value()
        ):
            raise ApiError(400, "INVALID_PARAM_VALUE", f"price {price} not on tick", "detail")
        if abs(size) < self.order_size_min:
            raise ApiError(400, "SIZE_TOO_SMALL", "size too small", "detail")
        reduce_only = bool(b.get("reduce_only", False))
        side = "buy" if size > 0 else "sell"
        order = self._new_order(
            "futures", b.get("text", ""), side, abs(size), price, tif, reduce_only
        )
        if not self.dual_mode:
            raise ApiError(400, "POSITION_DUAL_MODE", "btcn fake runs dual mode only", "detail")
        pos_side = self._pos_side(order)
        if reduce_only and abs(size) > self.pos[pos_side][0]:
            raise ApiError(400, "REDUCE_EXCEEDED", "reduce size exceeds position", "detail")
        best_ask, best_bid = self.fut_asks[0][0], self.fut_bids[0][0]
        crosses = price == 0 or (side == "buy" and price >= best_ask) or (
            side == "sell" and price <= best_bid)  # fmt: skip
        if tif == "poc" and crosses:
            raise ApiError(400, "ORDER_POC_IMMEDIATE", "post-only order would execute", "detail")
        if not reduce_only:
            ref = price if price > 0 else self.mark
            need = abs(size) * self.multiplier * ref * (1 / self.leverage + self.fut_taker_fee)
            if not self.is_unified and need > self.fut_available():
                raise ApiError(400, "INSUFFICIENT_AVAILABLE", "margin not enough", "detail")
            if self.is_unified and not self.unified_margin_check(abs(size) * self.multiplier * ref):
                raise ApiError(400, "INSUFFICIENT_AVAILABLE", "unified margin not enough", "detail")
        self._accept(order)
        if tif in ("ioc", "fok"):
            levels = self.fut_asks if side == "buy" else self.fut_bids
            for lvl_price, lvl_size in levels:
                if price > 0 and ((side == "buy" and lvl_price > price) or
                                  (side == "sell" and lvl_price < price)):  # fmt: skip
                    break
                self._fut_fill(order, min(lvl_size, order.left), lvl_price, maker=False)
                if order.left <= 0:
                    break
            self._finish(order, "filled" if order.left == 0 else "ioc")
            return order
        self._fut_fill(order, order.amount * self.maker_fill_fraction["futures"], price, maker=True)
        if order.left <= 0:
            self._finish(order, "filled")
        return order

    def _fut_create(self, body: Any, **_: Any) -> Reply:
        order = self._fut_place(body)
        return Reply(201, self._fut_json(order))

    def _fut_batch(self, body: Any, **_: Any) -> Reply:
        if not isinstance(body, list) or len(body) > 10:
            raise ApiError(400, "INVALID_PARAM_VALUE", "at most 10 orders", "detail")
        out = []
        for b in body:
            try:
                out.append(self._fut_json(self._fut_place(b), succeeded=True))
            except ApiError as err:
                out.append({"succeeded": False, "label": err.label, "detail": err.message,
                            "text": b.get("text", "")})  # fmt: skip
        return Reply(200, out)

    def _find_fut(self, oid: str) -> Order:
        if oid.isdigit() and int(oid) in self.orders and self.orders[int(oid)].market == "futures":
            return self.orders[int(oid)]
        for o in self.orders.values():
            if o.market != "futures" or o.text != oid:
                continue
            forgotten = (not o.is_open and o.filled == 0 and o.finish_s is not None
                         and self.now() - o.finish_s > self.text_ttl_s)  # fmt: skip
            if not forgotten:
                return o
        raise ApiError(404, "ORDER_NOT_FOUND", "order not found", "detail")

    def _fut_get(self, oid: str, **_: Any) -> Reply:
        return Reply(200, self._fut_json(self._find_fut(oid)))

    def _fut_list(self, params: dict[str, str], **_: Any) -> Reply:
        status = params["status"]
        limit, offset = int(params.get("limit", 100)), int(params.get("offset", 0))
        rows = [o for o in self.orders.values() if o.market == "futures"
                and (o.is_open if status == "open" else not o.is_open and self.history_visible)]  # fmt: skip
        rows.sort(key=lambda o: -o.id)
        return Reply(200, [self._fut_json(o) for o in rows[offset : offset + limit]])

    def _fut_cancel(self, oid: str, **_: Any) -> Reply:
        order = self._find_fut(oid)
        if not order.is_open:
            raise ApiError(400, "ORDER_FINISHED", "order finished", "detail")
        race = self.fill_on_cancel["futures"]
        if race > 0:
            self._fut_fill(order, order.left * race, order.price, maker=True)
            if order.left <= 0:
                self._finish(order, "filled")
                raise ApiError(400, "ORDER_FINISHED", "order finished", "detail")
        self._finish(order, "cancelled")
        return Reply(200, self._fut_json(order))

    def _fut_cancel_batch(self, body: Any, **_: Any) -> Reply:
        out = []
        for oid in body:
            try:
                self._fut_cancel(str(oid))
                out.append({"id": str(oid), "user_id": 1001, "succeeded": True, "message": ""})
            except ApiError as err:
                out.append({"id": str(oid), "user_id": 1001, "succeeded": False,
                            "message": err.label})  # fmt: skip
        return Reply(200, out)

    def _fut_trades(self, params: dict[str, str], **_: Any) -> Reply:
        limit, offset = int(params.get("limit", 100)), int(params.get("offset", 0))
        rows = [t for t in self.fut_trades if self.trades_visible
                and ("order" not in params or t["order_id"] == params["order"])][::-1]  # fmt: skip
        return Reply(200, rows[offset : offset + limit])

    def _account_book(self, params: dict[str, str], **_: Any) -> Reply:
        limit, offset = int(params.get("limit", 100)), int(params.get("offset", 0))
        lo, hi = float(params.get("from", 0)), float(params.get("to", 2**62))
        typ = params.get("type")
        rows = [r for r in self.account_book
                if (typ is None or r["type"] == typ) and lo <= r["time"] <= hi][::-1]  # fmt: skip
        return Reply(200, rows[offset : offset + limit])


_INTERVALS_S = {
    "10s": 10, "1m": 60, "5m": 300, "15m": 900, "30m": 1800, "1h": 3600, "4h": 14400,
    "8h": 28800, "1d": 86400,
}  # fmt: skip
