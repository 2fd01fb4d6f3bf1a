"""Deterministic client order ids (Gate ``text``: ``t-`` + at most 28 of ``[0-9A-Za-z_.-]``).

The id is a function of the plan digest, the leg and the phase (PostOnly or market remainder), so a
re-run of the same plan after a crash reuses the same ids and can be reconciled order by order.
"""

from __future__ import annotations

import re
from typing import Literal

from btcn.contracts.enums import Leg

Phase = Literal["p", "m"]  # PostOnly, market remainder
PREFIX = "t-btcn-"
_LEG_CODE = {Leg.BTC_SPOT: "sp", Leg.BTC_PERP_LONG: "pl", Leg.BTC_PERP_SHORT: "ps"}
# A realise order (plan purpose "realise": the CLOSE_SHORT half of a realise pair) has its own code,
# so its ids never collide with the same leg's rebalance order.
_REALISE_CODE = {Leg.BTC_PERP_LONG: "lr", Leg.BTC_PERP_SHORT: "pr"}
# A compensating order (live legging: reduces a perp leg that filled more than the other leg could
# match) has its own code too.
_COMPENSATE_CODE = {Leg.BTC_PERP_LONG: "lc", Leg.BTC_PERP_SHORT: "pc"}
_CODES = {"realise": _REALISE_CODE, "compensate": _COMPENSATE_CODE}
_VALID = re.compile(r"^t-[0-9A-Za-z_.-]{1,28}$")


def client_order_id(plan_digest: str, leg: Leg, phase: str, purpose: str = "rebalance") -> str:
    """``t-btcn-<12 hex of the plan digest>-<leg>-<phase>``; phase is ``p`` (PostOnly) or ``m``.

    ``purpose="realise"`` uses the leg code ``pr`` (short) / ``lr`` (long) instead, and
    ``purpose="compensate"`` ``pc`` / ``lc``."""
    if phase not in ("p", "m"):
        raise ValueError(f"phase must be 'p' or 'm', got {phase!r}")
    if len(plan_digest) < 12:
        raise ValueError("plan digest too short")
    if purpose not in ("rebalance", "realise", "compensate"):
        raise ValueError(f"purpose must be rebalance, realise or compensate, got {purpose!r}")
    code = _LEG_CODE[leg] if purpose == "rebalance" else _CODES[purpose][leg]
    cid = f"{PREFIX}{plan_digest[:12]}-{code}-{phase}"
    assert _VALID.match(cid), cid
    return cid


def is_valid_client_order_id(text: str) -> bool:
    return bool(_VALID.match(text))
