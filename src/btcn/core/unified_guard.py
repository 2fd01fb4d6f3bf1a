"""The unified account's plan rules (manual: "Running on a unified account").

* **margin guard** (replaces the classic treasury's wallet guard): a plan whose orders leave IMR
  below ``min_imr`` or the account liquidation price closer than ``min_distance`` is emptied, unless
  it leaves the account safer than it found it (a risk-reducing plan may always trade);
* **no loans**: a snapshot showing a loan (``borrowed`` or a negative balance) puts the plan in safe
  mode; the plan itself never borrows (spot buys are capped by the USDT balance less the reserve,
  :func:`spendable_usdt`) and never transfers (there is no treasury on a unified account).
"""

from __future__ import annotations

from decimal import Decimal

from btcn.core.book import Book
from btcn.core.guardrails import GuardrailCheck
from btcn.core.money import ZERO
from btcn.core.unified import AccountMargin, MarginGuard, UnifiedBook, account_margin


def unified_book(book: Book, mult: Decimal) -> UnifiedBook:
    """The planner's book on a unified account: one USDT balance (there is no futures wallet;
    a backtest ledger keeps ``futures_usdt`` at 0)."""
    return UnifiedBook(
        usdt_balance=book.spot_usdt + book.futures_usdt,
        btc_balance=book.spot_btc,
        long_btc=book.long_contracts * mult,
        long_entry_usdt=book.long_entry_usdt,
        short_btc=book.short_contracts * mult,
        short_entry_usdt=book.short_entry_usdt,
    )


def spendable_usdt(book: Book, nav: Decimal, guard: MarginGuard) -> Decimal:
    """What a spot buy may spend: the USDT balance less the reserve, never below 0."""
    return max(book.spot_usdt + book.futures_usdt - nav * guard.usdt_reserve, ZERO)


def _fails(m: AccountMargin, guard: MarginGuard) -> bool:
    imr_low = m.imr is not None and m.imr < guard.min_imr
    near = m.distance is not None and m.distance < guard.min_distance
    return imr_low or near


def loan_check(guard: MarginGuard) -> GuardrailCheck:
    ok = not guard.has_loan
    return GuardrailCheck(
        "unified_loan", ok, "loan" if guard.has_loan else "none", "none",
        "none" if ok else "empty_plan",
        "no loan on the unified account" if ok else
        "the unified account shows a loan (borrowed or a negative balance): repay it first",
    )  # fmt: skip


def margin_check(
    before: Book, after: Book, price: Decimal, mult: Decimal, guard: MarginGuard
) -> GuardrailCheck:
    """IMR and the account liquidation distance after the plan, against their limits."""
    m_after = account_margin(unified_book(after, mult), price, guard.rules)
    imr = "n/a" if m_after.imr is None else f"{m_after.imr:.4f}"
    dist = "n/a" if m_after.distance is None else f"{m_after.distance:.4f}"
    value = f"IMR {imr}, liquidation distance {dist}"
    limit = f"IMR >= {guard.min_imr}, distance >= {guard.min_distance}"
    if not _fails(m_after, guard):
        return GuardrailCheck("unified_margin", True, value, limit, "none",
                              "margin after the plan within limits")  # fmt: skip
    m_before = account_margin(unified_book(before, mult), price, guard.rules)
    safer = _fails(m_before, guard) and _score(m_after) >= _score(m_before)
    return GuardrailCheck(
        "unified_margin", safer, value, limit, "none" if safer else "empty_plan",
        "below the margin limits, but safer than before the plan" if safer else
        "the plan would take IMR or the account liquidation distance below its limit",
    )  # fmt: skip


def _score(m: AccountMargin) -> tuple[float, float]:
    imr = float("inf") if m.imr is None else float(m.imr)
    dist = float("inf") if m.distance is None else m.distance
    return (min(dist, 1e9), min(imr, 1e9))
