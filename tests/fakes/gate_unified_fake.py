"""The fake Gate's unified account (exchange-api.md section 4.7), mixed into :class:`FakeGate`.

``unified_mode`` is ``classic`` (default: the split wallets of the classic fake), or one of
``single_currency``, ``multi_currency``, ``portfolio``. In any unified mode:

* one USDT balance: futures PnL, fees and funding settle into ``spot["USDT"]`` (``fut_total`` stays
  0) and may take it below zero: a negative balance is a liability (``negative_liab``);
* ``GET /unified/accounts`` reports per-currency equity and the account-level margin figures,
  computed here independently of btcn: BTC valued band by band over ``btc_tiers`` (coin limits),
  liabilities in full, initial margin ``max(long, short) notional / leverage`` plus resting
  orders', maintenance ``max(long, short) notional × maintenance_rate``;
* spot orders must carry ``account: "unified"`` (and in classic mode must not); no order borrows;
* a futures order that would take the initial margin above the margin balance is refused
  (``INSUFFICIENT_AVAILABLE``), as is any ``POST /wallet/transfers`` (``INVALID_PARAM_VALUE``: the
  transfer model has no unified side);
* ``borrowed`` lets a test show a loan on the account.

``GET /unified/unified_mode`` answers the mode; ``GET /unified/currency_discount_tiers`` (public)
answers the documented example tiers, nested in a list as in the API docs (``tiers_shape="flat"``:
as the SDK reads it). Faults apply to these paths like to any other.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

D = Decimal
ZERO = D(0)


def _s(value: Decimal) -> str:
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


class UnifiedFake:
    """Mixin: attributes are set by :meth:`_init_unified` from ``FakeGate.__init__``."""

    spot: dict[str, list[Decimal]]
    pos: dict[str, list[Decimal]]
    mark: Decimal
    multiplier: Decimal
    leverage: Decimal
    maintenance_rate: Decimal
    fut_total: Decimal

    def _init_unified(self) -> None:
        self.unified_mode = "classic"
        self.unified_settings = {"usdt_futures": True, "spot_hedge": False, "use_funding": False,
                                 "options": False}  # fmt: skip
        self.btc_tiers: list[tuple[Decimal, Decimal | None, Decimal]] = [
            (D(0), D(1000), D("0.98")), (D(1000), D(10000), D("0.95")),
            (D(10000), D(50000), D("0.9")), (D(50000), None, D("0.85")),
        ]  # fmt: skip
        self.tiers_shape = "nested"
        self.borrowed = {"USDT": ZERO, "BTC": ZERO}

    @property
    def is_unified(self) -> bool:
        return self.unified_mode != "classic"

    @property
    def spot_account(self) -> str:
        return "unified" if self.is_unified else "spot"

    def _settle_unified(self) -> None:
        """Unified: what the futures side booked lands in the one USDT balance."""
        if self.is_unified and self.fut_total != 0:
            self.spot["USDT"][0] += self.fut_total
            self.fut_total = ZERO

    # --- margin (the fake's own arithmetic) ------------------------------------------------------
    def _btc_collateral(self, coins: Decimal) -> Decimal:
        if coins <= 0:
            return coins
        total = ZERO
        for lo, hi, disc in self.btc_tiers:
            if coins > lo:
                total += ((coins if hi is None else min(coins, hi)) - lo) * disc
        return total

    def _u_upnl(self) -> Decimal:
        (ls, le), (ss, se) = self.pos["long"], self.pos["short"]
        return ((self.mark - le) * ls + (se - self.mark) * ss) * self.multiplier

    def _u_equity(self, cur: str) -> Decimal:
        bal = self.spot[cur][0] + self.spot[cur][1] - self.borrowed[cur]
        return bal + (self._u_upnl() if cur == "USDT" else ZERO)

    def _u_margin_balance(self) -> Decimal:
        return self._btc_collateral(self._u_equity("BTC")) * self.mark + self._u_equity("USDT")

    def _u_big_notional(self) -> Decimal:
        return max(self.pos["long"][0], self.pos["short"][0]) * self.multiplier * self.mark

    def _u_initial(self, extra_notional: Decimal = ZERO) -> Decimal:
        orders = sum(
            (o.left * self.multiplier * (o.price or self.mark)
             for o in self.orders.values()  # type: ignore[attr-defined]
             if o.market == "futures" and o.is_open and not o.reduce_only),
            ZERO,
        )  # fmt: skip
        return (self._u_big_notional() + orders + extra_notional) / self.leverage

    def unified_margin_check(self, notional: Decimal) -> bool:
        """Would an order of this notional keep the initial margin within the margin balance?"""
        return self._u_initial(notional) <= self._u_margin_balance()

    def unified_futures_view(self) -> tuple[Decimal, Decimal]:
        """``GET /futures/usdt/accounts`` on a unified account: ``total`` is the USDT balance
        again (adding it to the unified balances would count it twice) and ``available`` follows
        Gate's announcement: ``min(tam, (tam * lev + max(USDT available + uPnL, 0)) / (1 + lev))``
        with ``tam`` the total available margin."""
        tam = self._u_margin_balance() - self._u_initial()
        own = max(self.spot["USDT"][0] + self._u_upnl(), ZERO)
        avail = min(tam, (tam * self.leverage + own) / (1 + self.leverage))
        return self.spot["USDT"][0] + self.spot["USDT"][1], max(avail, ZERO)

    # --- endpoints -----------------------------------------------------------------------------
    def _unified_mode_get(self, **_: Any) -> Any:
        from tests.fakes.gate_fake import Reply

        return Reply(200, {"mode": self.unified_mode, "settings": dict(self.unified_settings)})

    def _unified_accounts(self, **_: Any) -> Any:
        from tests.fakes.gate_fake import ApiError, Reply

        if not self.is_unified:
            raise ApiError(400, "UNIFIED_ACCOUNT_NOT_ENABLED", "not a unified account")
        multi = self.unified_mode in ("multi_currency", "portfolio")
        balances = {}
        for cur in ("USDT", "BTC"):
            avail, locked = self.spot[cur]
            balances[cur] = {
                "available": _s(max(avail, ZERO)), "freeze": _s(locked),
                "borrowed": _s(self.borrowed[cur]), "equity": _s(self._u_equity(cur)),
                "negative_liab": _s(max(-avail, ZERO)), "enabled_collateral": True,
                "margin_balance": "0", "im": "0", "mm": "0", "imr": "0", "mmr": "0",
            }  # fmt: skip
        mb = self._u_margin_balance()
        im = self._u_initial()
        mm = self._u_big_notional() * self.maintenance_rate
        total_equity = self._u_equity("USDT") + self._u_equity("BTC") * self.mark
        borrowed_usd = self.borrowed["USDT"] + self.borrowed["BTC"] * self.mark

        def fig(x: Decimal) -> str:
            return _s(x) if multi else "0"

        return Reply(200, {
            "user_id": 1001, "refresh_time": 0, "locked": False, "mode": self.unified_mode,
            "balances": balances,
            "total": _s(total_equity), "borrowed": _s(borrowed_usd),
            "total_margin_balance": fig(mb), "total_initial_margin": fig(im),
            "total_maintenance_margin": fig(mm),
            "total_initial_margin_rate": fig(mb / im) if im > 0 else "0",
            "total_maintenance_margin_rate": fig(mb / mm) if mm > 0 else "0",
            "total_available_margin": fig(mb - im),
            "unified_account_total_equity": _s(total_equity),
            "unified_account_total": _s(total_equity), "unified_account_total_liab": "0",
            "spot_order_loss": "0", "leverage": "3", "spot_hedge": False, "use_funding": False,
        })  # fmt: skip

    def _discount_tiers(self, **_: Any) -> Any:
        from tests.fakes.gate_fake import Reply

        def row(cur: str, tiers: list[tuple[Decimal, Decimal | None, Decimal]]) -> dict[str, Any]:
            return {"currency": cur, "discount_tiers": [
                {"tier": str(i + 1), "discount": _s(d), "lower_limit": _s(lo),
                 "upper_limit": "+" if hi is None else _s(hi), "leverage": "10"}
                for i, (lo, hi, d) in enumerate(tiers)
            ]}  # fmt: skip

        rows = [row("USDT", [(ZERO, None, D(1))]), row("BTC", self.btc_tiers)]
        return Reply(200, [rows] if self.tiers_shape == "nested" else rows)

    def unified_routes(self) -> tuple[dict[Any, Any], dict[Any, Any]]:
        public = {("GET", r"/unified/currency_discount_tiers"): self._discount_tiers}
        private = {
            ("GET", r"/unified/unified_mode"): self._unified_mode_get,
            ("GET", r"/unified/accounts"): self._unified_accounts,
        }
        return public, private

    def check_spot_account(self, account: str | None) -> None:
        from tests.fakes.gate_fake import ApiError

        want = "unified" if self.is_unified else "spot"
        if (account or want) != want:
            raise ApiError(400, "INVALID_PARAM_VALUE", f"account {account} on a {want} account")

    def refuse_transfer_if_unified(self) -> None:
        from tests.fakes.gate_fake import ApiError

        if self.is_unified:
            raise ApiError(400, "INVALID_PARAM_VALUE",
                           "unified account: spot and futures share one balance")  # fmt: skip
