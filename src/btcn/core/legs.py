"""How a change of a leg's size maps to an order action and side, and to BTC delta."""

from __future__ import annotations

from btcn.contracts.enums import Action, Leg, Side

_ACTIONS: dict[tuple[Leg, bool], Action] = {
    (Leg.BTC_SPOT, True): Action.BUY,
    (Leg.BTC_SPOT, False): Action.SELL,
    (Leg.BTC_PERP_LONG, True): Action.OPEN_LONG,
    (Leg.BTC_PERP_LONG, False): Action.CLOSE_LONG,
    (Leg.BTC_PERP_SHORT, True): Action.OPEN_SHORT,
    (Leg.BTC_PERP_SHORT, False): Action.CLOSE_SHORT,
}

SIDE_OF: dict[Action, Side] = {
    Action.BUY: Side.BUY,
    Action.SELL: Side.SELL,
    Action.OPEN_LONG: Side.BUY,
    Action.CLOSE_LONG: Side.SELL,
    Action.OPEN_SHORT: Side.SELL,
    Action.CLOSE_SHORT: Side.BUY,
}

BUYS: frozenset[Action] = frozenset(a for a, side in SIDE_OF.items() if side is Side.BUY)

LEG_OF: dict[Action, Leg] = {action: leg for (leg, _), action in _ACTIONS.items()}


def action_for(leg: Leg, increase: bool) -> Action:
    """Spot: up = BUY, down = SELL. Perp long: OPEN_LONG / CLOSE_LONG. Perp short: OPEN_SHORT /
    CLOSE_SHORT (the short leg's size is a positive quantity; "up" means a bigger short)."""
    return _ACTIONS[(leg, increase)]


def delta_sign(action: Action) -> int:
    """+1 when the action adds BTC delta (every BUY-side action), -1 otherwise."""
    return 1 if SIDE_OF[action] is Side.BUY else -1


def is_increase(action: Action) -> bool:
    return action in (Action.BUY, Action.OPEN_LONG, Action.OPEN_SHORT)
