"""Deterministic client order ids (Gate ``text``: ``t-`` + at most 28 of ``[0-9A-Za-z_.-]``).

The id is a function of the plan digest, the leg and the phase (PostOnly or market remainder), so a
re-run of the same plan after a crash reuses the same ids and can be reconciled order by order.
"""

from __future__ import annotations

import re

from btcn.contracts.enums import Leg

PREFIX = "t-btcn-"
_LEG_CODE = {Leg.BTC_SPOT: "sp", Leg.BTC_PERP_LONG: "pl", Leg.BTC_PERP_SHORT: "ps"}
_VALID = re.compile(r"^t-[0-9A-Za-z_.-]{1,28}$")


def client_order_id(plan_digest: str, leg: Leg, phase: str) -> str:
    """``t-btcn-<12 hex of the plan digest>-<leg>-<phase>``; phase is ``p`` (PostOnly) or ``m``."""
    if phase not in ("p", "m"):
        raise ValueError(f"phase must be 'p' or 'm', got {phase!r}")
    if len(plan_digest) < 12:
        raise ValueError("plan digest too short")
    cid = f"{PREFIX}{plan_digest[:12]}-{_LEG_CODE[leg]}-{phase}"
    assert _VALID.match(cid), cid
    return cid


def is_valid_client_order_id(text: str) -> bool:
    return bool(_VALID.match(text))
