"""Collateral between the spot and futures wallets (used by the backtester after each rebalance).

After a rebalance the futures wallet is brought to the initial margin of the perp book,
``(long + short notional at mark) / leverage``, by a free internal transfer from or to the spot
wallet. A transfer never overdraws the spot USDT balance and never withdraws more than the futures
wallet balance (unrealised profit cannot be withdrawn). Transfers move NAV between wallets; they
never change it.
"""

from __future__ import annotations

from decimal import Decimal

from btcn.core.money import ZERO


def collateral_transfer(
    spot_usdt: Decimal,
    futures_usdt: Decimal,
    unrealized_pnl_usdt: Decimal,
    perp_notional_usdt: Decimal,
    leverage: Decimal,
) -> Decimal:
    """USDT to move from spot to futures (negative: futures to spot)."""
    target_equity = perp_notional_usdt / leverage
    need = target_equity - (futures_usdt + unrealized_pnl_usdt)
    if need > 0:
        return min(need, max(spot_usdt, ZERO))
    return -min(-need, max(futures_usdt, ZERO))
