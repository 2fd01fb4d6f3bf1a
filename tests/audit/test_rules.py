"""The audit's rule table: each drift gets the change its evidence points to."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

from btcn.audit.compare import check, propose
from btcn.audit.rules import RULES, Facts
from btcn.audit.targets import DEFAULT_TARGETS, Target

CUR = {"strategy.threshold_floor": 0.005, "strategy.cooldown_ms": 3_600_000,
       "guardrails.max_net_delta": 0.2, "strategy.max_delta_drift": 0.002,
       "strategy.signal_max_age_ms": 86_400_000}  # fmt: skip
CALM = Facts(days=30, orders=100, blocked_orders=0, taker_share=0.1, rebalances=50,
             funding_usdt=800.0, fees_usdt=100.0, price_pnl_usdt=-3.0, basis_pnl_usdt=-2.0,
             funding_rate_apr=0.11, hedged_fraction=0.5, short_target=0.5)  # fmt: skip
SHARPE = check("sharpe_30d", 0.5, DEFAULT_TARGETS.kpis["sharpe_30d"], 0.05)


def _facts(**kw: float) -> Facts:
    return Facts(**{**{f: getattr(CALM, f) for f in Facts.__slots__}, **kw})


def test_signal_gating_proposes_a_signal_change_not_a_cooldown() -> None:
    gated = _facts(blocked_orders=40, fees_usdt=400.0)  # fee drag 50 % as well
    p = propose(SHARPE, CUR, {}, gated)
    assert p.rule == "signal_gating" and p.setting == "strategy.signal_max_age"
    assert (p.current, p.suggested) == ("1d", "12h")
    assert "40 order proposals blocked by the signal against 100 fills" in p.evidence
    assert "cooldown" not in p.setting
    # the same Sharpe drift without gating and with a high fee drag: the band, then the cooldown
    assert propose(SHARPE, CUR, {}, _facts(fees_usdt=400.0)).rule == "fee_drag_band"
    assert propose(SHARPE, CUR, {}, CALM).rule == "sharpe_cooldown"


def test_carry_rules() -> None:
    capture = check("carry_capture", 0.8, DEFAULT_TARGETS.kpis["carry_capture"], 0.05)
    under = propose(capture, CUR, {}, _facts(hedged_fraction=0.3))
    assert under.rule == "under_hedged" and under.setting == "strategy.targets.BTC_PERP_SHORT"
    assert float(under.suggested) > 0.5 and "hedged fraction 30.0 %" in under.evidence
    lossy = propose(capture, CUR, {}, _facts(price_pnl_usdt=-300.0))
    assert lossy.rule == "basis_price_loss" and lossy.suggested == "0.001"
    apr = check("funding_apr_on_nav", 0.03, Target(target=0.05, better="higher"), 0.05)
    assert propose(apr, CUR, {}, _facts(funding_rate_apr=0.04)).rule == "market_funding_low"
    drag = check("fee_drag", 0.6, DEFAULT_TARGETS.kpis["fee_drag"], 0.05)
    assert propose(drag, CUR, {}, _facts(taker_share=0.7)).rule == "taker_fills"
    assert propose(drag, CUR, {}, CALM).rule == "fee_drag_band"


def test_unknown_evidence_falls_through_to_review() -> None:
    roi = check("roi", -0.1, Target(target=0.1, better="higher"), 0.05)
    assert propose(roi, CUR, {}, Facts()).rule == "review"
    assert math.isnan(Facts().blocked_share) and math.isnan(Facts().fee_drag)


def test_the_manual_documents_every_rule() -> None:
    manual = (Path(__file__).resolve().parents[2] / "docs" / "manual.md").read_text()
    section = manual.split("#### Audit proposals", 1)[1].split("\n### ", 1)[0]
    documented = set(re.findall(r"^\| `([a-z_]+)` \|", section, flags=re.M))
    assert documented == {r.name for r in RULES}


@pytest.mark.parametrize("name", ["sharpe_30d", "sharpe", "sortino"])
def test_every_sharpe_is_labelled_with_its_window(name: str) -> None:
    c = check(name, 0.5, Target(target=1.0, better="higher"), 0.05)
    assert re.match(rf"{name} \[(Sharpe|Sortino) \((30 days|run)\)\] ", c.describe())
