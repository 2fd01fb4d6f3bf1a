"""``btcn execute --live``: work a plan on Gate, crash-safe and without ever sending an order twice.

Sequence of one run (a re-run of the same plan resumes at whatever step the last one reached):

1. Refuse duplicates: a plan already executed on this venue is reported ``already_executed``.
2. Read the venue rules; the plan's contract multiplier, steps and ticks must match them.
3. **Resolve** every order the journal knows but whose outcome is unknown (intent written, answer
   never seen): look it up by Gate id or client order id (``text``), cancel it if it still rests,
   and book its fills. Not finding it is conclusive only after its ``x-gate-exptime`` deadline.
4. **Reconcile**: dual (hedge) mode on; spot BTC and both perp sides equal the plan's starting
   book plus every fill the journal holds; no open order with btcn's prefix from another plan;
   no order of this plan on the venue that the journal does not know (a lost state store).
5. **Pre-check** every leg still to send (balance, margin, position for closes, minimum size and
   notional, step and tick): if one leg would be rejected, nothing is sent.
6. PostOnly phase: every leg at the plan's limit (``poc``) in one batch per market; wait
   ``[execution] post_only_window``; cancel; the final order state gives the filled quantity.
7. Market phase: the unfilled remainder as IOC — futures ``price "0"`` + ``ioc``; spot a marketable
   limit IOC (best ask/bid moved by ``[gate] spot_ioc_slippage``) so the amount stays in BTC.
8. Report; record the executed plan, and the rebalance time only when every leg completed.

The journal (state store) receives each intent in a committed transaction **before** its request
is sent, and each outcome after. Client order ids are deterministic (plan digest, leg, phase; a
market order whose request provably never reached Gate is re-sent under ``...-m2``, ``...-m3``),
so a run killed at any instant — even between send and acknowledgement — is finished by a re-run
Components (:mod:`.executor` composes them; they share one typed :class:`.state.LiveState`):
:mod:`.resolve` (look-ups, cancels, fills), :mod:`.reconcile` (venue rules, account vs journal),
:mod:`.precheck` (pre-trade checks), :mod:`.phases` (realise, PostOnly and market phases),
:mod:`.compensate` (legging: compensating orders; sizing in :mod:`.legging`), :mod:`.treasury`
(wallet transfers); :mod:`.executor` (the run and its report).
"""

from __future__ import annotations

from btcn.exchange.journal import attempt_cid
from btcn.exchange.live.executor import (
    LiveDeps,
    LiveExecutor,
    execute_live,
    gate_client_from_settings,
)
from btcn.exchange.live.state import VENUE

__all__ = [
    "VENUE",
    "LiveDeps",
    "LiveExecutor",
    "attempt_cid",
    "execute_live",
    "gate_client_from_settings",
]
