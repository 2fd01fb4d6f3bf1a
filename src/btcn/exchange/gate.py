"""Gate APIv4 client: public market data, accounts, dual-mode positions, orders and fills.

Reads are idempotent and retried by the one policy (:mod:`btcn.exchange.retry`). Creates are not:
they raise on an ambiguous outcome and the caller looks the order up by its ``text``. Every
create carries ``x-gate-exptime`` — an absolute deadline after which Gate refuses the request — so
once that instant has passed, a look-up that finds nothing proves the order will never exist.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx

from btcn.errors import ConfigError
from btcn.exchange import gate_wire as w
from btcn.exchange.clock import Clock, SystemClock
from btcn.exchange.credentials import Credentials
from btcn.exchange.errors import ClockSkewError, DeadlineExpiredError
from btcn.exchange.http import Params, VenueHttp, parse_as
from btcn.exchange.retry import RetryPolicy
from btcn.exchange.signing import GateAuth

API_PREFIX = "/api/v4"
EXPTIME_HEADER = "x-gate-exptime"
# An order request's deadline: a fixed instant (unix ms), or a function called when each attempt
# of the request is actually sent (so a retry after a clock re-sync carries a fresh deadline).
Deadline = int | Callable[[], int] | None


class GateClient:
    def __init__(
        self,
        base_url: str,
        *,
        credentials: Credentials | None = None,
        settle: str = "usdt",
        timeout_s: float = 10.0,
        clock: Clock | None = None,
        retry: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.clock = clock or SystemClock()
        self.retry = retry or RetryPolicy(clock=self.clock)
        self.settle = settle
        self.offset_ms = 0  # venue clock minus local clock, from GET /spot/time
        self.http = VenueHttp(
            "gate",
            base_url,
            dialect="gate",
            timeout_s=timeout_s,
            retry=self.retry,
            transport=transport,
            venue_now_s=lambda: self.venue_now_ms() / 1000,
        )
        self._auth = (
            GateAuth(credentials, lambda: str(self.venue_now_ms() // 1000))
            if credentials is not None
            else None
        )

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> GateClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- time ----------------------------------------------------------------------------------
    def venue_now_ms(self) -> int:
        return self.clock.now_ms() + self.offset_ms

    def server_time_ms(self) -> int:
        data = self.http.call("GET", "/spot/time").data
        return parse_as(w.adapter(w.ServerTime), data, "gate: GET /spot/time").server_time

    def sync_clock(self) -> int:
        """Measure the venue clock offset; returns it in ms (positive: venue ahead)."""
        before = self.clock.now_ms()
        server = self.server_time_ms()
        after = self.clock.now_ms()
        self.offset_ms = server - (before + after) // 2
        return self.offset_ms

    # --- plumbing ------------------------------------------------------------------------------
    def _auth_or_fail(self) -> GateAuth:
        if self._auth is None:
            raise ConfigError("this Gate call needs API keys (GATE_API_KEY, GATE_API_SECRET)")
        return self._auth

    def _get(self, path: str, params: Params | None = None, *, private: bool = False) -> Any:
        return self.http.call(
            "GET",
            path,
            params=params,
            auth=self._auth_or_fail() if private else None,
            on_clock_skew=self.sync_clock if private else None,
        ).data

    def read(self, path: str, params: Params | None = None, *, private: bool = False) -> Any:
        """A GET for endpoints parsed outside this module (``exchange.gate_unified``)."""
        return self._get(path, params, private=private)

    def _write(
        self, method: str, path: str, *, params: Params | None = None, body: Any = None,
        idempotent: bool, exptime_ms: Deadline = None,
    ) -> Any:  # fmt: skip
        sent: list[int] = []  # the deadline each attempt carried
        header_fn: Callable[[], dict[str, str]] | None = None
        if exptime_ms is not None:
            deadline = exptime_ms

            def header_fn() -> dict[str, str]:
                value = deadline() if callable(deadline) else deadline
                sent.append(value)
                return {EXPTIME_HEADER: str(value)}

        def on_clock_skew() -> None:
            self.sync_clock()
            if sent and sent[-1] <= self.venue_now_ms():
                # Refused for its deadline, not for the Timestamp: a retry cannot be accepted.
                raise DeadlineExpiredError(f"gate: {method} {path}: deadline passed", status=0)

        try:
            return self.http.call(
                method,
                path,
                params=params,
                body=body,
                auth=self._auth_or_fail(),
                idempotent=idempotent,
                on_clock_skew=on_clock_skew,
                header_fn=header_fn,
            ).data
        except ClockSkewError as exc:
            if (
                sent
                and sent[-1] <= self.venue_now_ms()
                and not isinstance(exc, DeadlineExpiredError)
            ):
                raise DeadlineExpiredError(
                    f"{exc.message} (its {EXPTIME_HEADER} deadline had passed: not placed)",
                    status=exc.status, label=exc.label, detail=exc.detail,
                ) from None  # fmt: skip
            raise

    @property
    def _fut(self) -> str:
        return f"/futures/{self.settle}"

    # --- public spot ---------------------------------------------------------------------------
    def currency_pair(self, pair: str) -> w.CurrencyPair:
        path = f"/spot/currency_pairs/{pair}"
        return parse_as(w.adapter(w.CurrencyPair), self._get(path), f"gate: GET {path}")

    def spot_ticker(self, pair: str) -> w.SpotTicker:
        data = self._get("/spot/tickers", [("currency_pair", pair)])
        rows = parse_as(w.SPOT_TICKERS, data, "gate: GET /spot/tickers")
        return _one(rows, "currency_pair", pair, "/spot/tickers")

    def spot_order_book(self, pair: str, limit: int = 10) -> w.SpotOrderBook:
        data = self._get("/spot/order_book", [("currency_pair", pair), ("limit", limit)])
        return parse_as(w.adapter(w.SpotOrderBook), data, "gate: GET /spot/order_book")

    def spot_candles(self, pair: str, interval: str, from_s: int, to_s: int) -> list[list[str]]:
        params = [("currency_pair", pair), ("interval", interval), ("from", from_s), ("to", to_s)]
        data = self._get("/spot/candlesticks", params)
        return parse_as(w.SPOT_CANDLES, data, "gate: GET /spot/candlesticks")

    # --- public futures ------------------------------------------------------------------------
    def contract(self, contract: str) -> w.Contract:
        path = f"{self._fut}/contracts/{contract}"
        return parse_as(w.adapter(w.Contract), self._get(path), f"gate: GET {path}")

    def futures_ticker(self, contract: str) -> w.FuturesTicker:
        data = self._get(f"{self._fut}/tickers", [("contract", contract)])
        rows = parse_as(w.FUTURES_TICKERS, data, f"gate: GET {self._fut}/tickers")
        return _one(rows, "contract", contract, f"{self._fut}/tickers")

    def futures_order_book(self, contract: str, limit: int = 10) -> w.FuturesOrderBook:
        data = self._get(f"{self._fut}/order_book", [("contract", contract), ("limit", limit)])
        return parse_as(w.adapter(w.FuturesOrderBook), data, f"gate: GET {self._fut}/order_book")

    def futures_candles(
        self, contract: str, interval: str, from_s: int, to_s: int
    ) -> list[w.FuturesCandle]:
        """``contract`` may be ``mark_BTC_USDT`` / ``index_BTC_USDT`` for mark/index candles."""
        params = [("contract", contract), ("interval", interval), ("from", from_s), ("to", to_s)]
        data = self._get(f"{self._fut}/candlesticks", params)
        return parse_as(w.FUTURES_CANDLES, data, f"gate: GET {self._fut}/candlesticks")

    def funding_rate_history(
        self, contract: str, from_s: int | None = None, to_s: int | None = None, limit: int = 1000
    ) -> list[w.FundingRateRecord]:
        params: list[tuple[str, str | int]] = [("contract", contract), ("limit", limit)]
        if from_s is not None:
            params.append(("from", from_s))
        if to_s is not None:
            params.append(("to", to_s))
        data = self._get(f"{self._fut}/funding_rate", params)
        return parse_as(w.FUNDING_RATES, data, f"gate: GET {self._fut}/funding_rate")

    # --- accounts and positions ----------------------------------------------------------------
    def spot_accounts(self, currency: str | None = None) -> list[w.SpotAccount]:
        params = [("currency", currency)] if currency else None
        data = self._get("/spot/accounts", params, private=True)
        return parse_as(w.SPOT_ACCOUNTS, data, "gate: GET /spot/accounts")

    def futures_account(self) -> w.FuturesAccount:
        data = self._get(f"{self._fut}/accounts", private=True)
        return parse_as(w.adapter(w.FuturesAccount), data, f"gate: GET {self._fut}/accounts")

    def dual_positions(self, contract: str) -> list[w.Position]:
        """Both sides of a dual-mode position (``mode`` dual_long / dual_short)."""
        path = f"{self._fut}/dual_comp/positions/{contract}"
        return parse_as(w.POSITIONS, self._get(path, private=True), f"gate: GET {path}")

    def positions(self, holding: bool = True) -> list[w.Position]:
        params = [("holding", "true" if holding else "false")]
        data = self._get(f"{self._fut}/positions", params, private=True)
        return parse_as(w.POSITIONS, data, f"gate: GET {self._fut}/positions")

    # --- spot orders ---------------------------------------------------------------------------
    def create_spot_order(self, body: dict[str, Any], exptime_ms: Deadline) -> w.SpotOrder:
        data = self._write(
            "POST", "/spot/orders", body=body, idempotent=False, exptime_ms=exptime_ms
        )
        return parse_as(w.adapter(w.SpotOrder), data, "gate: POST /spot/orders")

    def create_spot_batch(
        self, bodies: list[dict[str, Any]], exptime_ms: Deadline
    ) -> list[w.SpotBatchResult]:
        data = self._write(
            "POST", "/spot/batch_orders", body=bodies, idempotent=False, exptime_ms=exptime_ms
        )
        return parse_as(w.SPOT_BATCH, data, "gate: POST /spot/batch_orders")

    def get_spot_order(self, order_id: str, pair: str) -> w.SpotOrder:
        """By Gate id, or by ``text`` while the order is open (Gate forgets texts once done)."""
        path = f"/spot/orders/{order_id}"
        data = self._get(path, [("currency_pair", pair)], private=True)
        return parse_as(w.adapter(w.SpotOrder), data, "gate: GET /spot/orders/{id}")

    def list_spot_orders(
        self, pair: str, status: str, *, page: int = 1, limit: int = 100,
        from_s: int | None = None, to_s: int | None = None,
    ) -> list[w.SpotOrder]:  # fmt: skip
        params: list[tuple[str, str | int]] = [
            ("currency_pair", pair), ("status", status), ("page", page), ("limit", limit),
        ]  # fmt: skip
        if status == "finished" and from_s is not None:
            params.append(("from", from_s))
        if status == "finished" and to_s is not None:
            params.append(("to", to_s))
        data = self._get("/spot/orders", params, private=True)
        return parse_as(w.SPOT_ORDERS, data, "gate: GET /spot/orders")

    def cancel_spot_order(self, order_id: str, pair: str) -> w.SpotOrder:
        data = self._write(
            "DELETE", f"/spot/orders/{order_id}", params=[("currency_pair", pair)], idempotent=True
        )
        return parse_as(w.adapter(w.SpotOrder), data, "gate: DELETE /spot/orders/{id}")

    def cancel_spot_batch(self, pair: str, ids: list[str]) -> list[w.CancelResult]:
        body = [{"currency_pair": pair, "id": i, "account": "spot"} for i in ids]
        data = self._write("POST", "/spot/cancel_batch_orders", body=body, idempotent=True)
        return parse_as(w.CANCEL_RESULTS, data, "gate: POST /spot/cancel_batch_orders")

    def spot_trades(
        self, pair: str, *, order_id: str | None = None, from_s: int | None = None,
        to_s: int | None = None, page: int = 1, limit: int = 1000,
    ) -> list[w.SpotTrade]:  # fmt: skip
        params: list[tuple[str, str | int]] = [("currency_pair", pair)]
        if order_id is not None:
            params.append(("order_id", order_id))
        params += [("limit", limit), ("page", page)]
        if from_s is not None:
            params.append(("from", from_s))
        if to_s is not None:
            params.append(("to", to_s))
        data = self._get("/spot/my_trades", params, private=True)
        return parse_as(w.SPOT_TRADES, data, "gate: GET /spot/my_trades")

    # --- futures orders ------------------------------------------------------------------------
    def create_futures_order(self, body: dict[str, Any], exptime_ms: Deadline) -> w.FuturesOrder:
        data = self._write(
            "POST", f"{self._fut}/orders", body=body, idempotent=False, exptime_ms=exptime_ms
        )
        return parse_as(w.adapter(w.FuturesOrder), data, f"gate: POST {self._fut}/orders")

    def create_futures_batch(
        self, bodies: list[dict[str, Any]], exptime_ms: Deadline
    ) -> list[w.FuturesBatchResult]:
        data = self._write(
            "POST", f"{self._fut}/batch_orders", body=bodies, idempotent=False,
            exptime_ms=exptime_ms,
        )  # fmt: skip
        return parse_as(w.FUTURES_BATCH, data, f"gate: POST {self._fut}/batch_orders")

    def get_futures_order(self, order_id: str) -> w.FuturesOrder:
        """By Gate id or by ``text`` (an unfilled cancelled order's text expires after 60 s)."""
        data = self._get(f"{self._fut}/orders/{order_id}", private=True)
        return parse_as(w.adapter(w.FuturesOrder), data, f"gate: GET {self._fut}/orders/{{id}}")

    def list_futures_orders(
        self, contract: str, status: str, *, limit: int = 100, offset: int = 0
    ) -> list[w.FuturesOrder]:
        params = [("contract", contract), ("status", status), ("limit", limit), ("offset", offset)]
        data = self._get(f"{self._fut}/orders", params, private=True)
        return parse_as(w.FUTURES_ORDERS, data, f"gate: GET {self._fut}/orders")

    def cancel_futures_order(self, order_id: str) -> w.FuturesOrder:
        data = self._write("DELETE", f"{self._fut}/orders/{order_id}", idempotent=True)
        return parse_as(w.adapter(w.FuturesOrder), data, f"gate: DELETE {self._fut}/orders/{{id}}")

    def cancel_futures_batch(self, ids: list[str]) -> list[w.CancelResult]:
        data = self._write("POST", f"{self._fut}/batch_cancel_orders", body=ids, idempotent=True)
        return parse_as(w.CANCEL_RESULTS, data, f"gate: POST {self._fut}/batch_cancel_orders")

    def futures_trades(
        self, contract: str, *, order_id: str | None = None, limit: int = 1000, offset: int = 0
    ) -> list[w.FuturesTrade]:
        params: list[tuple[str, str | int]] = [("contract", contract)]
        if order_id is not None:
            params.append(("order", order_id))
        params += [("limit", limit), ("offset", offset)]
        data = self._get(f"{self._fut}/my_trades", params, private=True)
        return parse_as(w.FUTURES_TRADES, data, f"gate: GET {self._fut}/my_trades")

    def account_book(
        self, contract: str | None = None, *, type_: str = "fund", from_s: int | None = None,
        to_s: int | None = None, limit: int = 100, offset: int = 0,
    ) -> list[w.AccountBookEntry]:  # fmt: skip
        """Futures ledger; ``type_="fund"`` lists funding payments (+ received, − paid)."""
        params: list[tuple[str, str | int]] = []
        if contract:
            params.append(("contract", contract))
        params += [("type", type_), ("limit", limit), ("offset", offset)]
        if from_s is not None:
            params.append(("from", from_s))
        if to_s is not None:
            params.append(("to", to_s))
        data = self._get(f"{self._fut}/account_book", params, private=True)
        return parse_as(w.ACCOUNT_BOOK, data, f"gate: GET {self._fut}/account_book")

    def transfer_ledger(self, from_s: int, *, max_pages: int = 10) -> list[w.AccountBookEntry]:
        """Every futures-wallet transfer (``type=dnw``: + in, − out) since ``from_s``."""
        out: list[w.AccountBookEntry] = []
        for page in range(max_pages):
            rows = self.account_book(type_="dnw", from_s=from_s, limit=100, offset=page * 100)
            out += rows
            if len(rows) < 100:
                break
        return out

    # --- wallet --------------------------------------------------------------------------------
    def transfer(
        self, currency: str, from_: str, to: str, amount: Decimal, settle: str | None = None
    ) -> str | None:
        """``POST /wallet/transfers`` between the spot and futures wallets; Gate's ``tx_id``
        (None when it answers 204 without a body). Never retried after it may have been sent:
        a transfer has no client id, so an ambiguous outcome is decided from the ledger and the
        balances by the caller. A 4xx means nothing moved (``RejectedError`` with Gate's label)."""
        if amount <= 0:
            raise ValueError("a transfer amount must be positive")
        body = {
            "currency": currency, "from": from_, "to": to, "amount": format(amount, "f"),
            "settle": settle or self.settle,
        }  # fmt: skip
        data = self._write("POST", "/wallet/transfers", body=body, idempotent=False)
        if data is None:
            return None
        res = parse_as(w.adapter(w.TransferResult), data, "gate: POST /wallet/transfers")
        return res.tx_id


def _one(rows: list[Any], key: str, value: str, path: str) -> Any:
    for row in rows:
        if getattr(row, key) == value:
            return row
    from btcn.errors import ExchangeError

    raise ExchangeError(f"gate: GET {path} has no entry for {value}")
