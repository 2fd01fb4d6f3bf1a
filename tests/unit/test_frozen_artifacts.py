"""Plans in flight keep their identity: the same inputs give the same plan bytes, the same plan
digest and the same client order ids as the btcn that wrote the frozen files in ``frozen/``.

The files were written once by btcn 0.1.0 as of main 183c85d (before the settings, duration and
contract types were shared with the core), with ``python -m tests.unit.test_frozen_artifacts``.
A refactoring that changes one byte of a plan, a digest or an id fails here; a deliberate change
of the plan contract bumps its ``schema_version`` and adds a new frozen file instead of editing
these.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from btcn.contracts import Plan, Snapshot, dump_json, parse_artifact, plan_digest
from btcn.contracts.enums import Leg
from btcn.core.ids import client_order_id
from btcn.data.candles import load_candles
from btcn.data.signals import load_signals
from btcn.runtime.settings import load_settings
from btcn.stages import plan as plan_stage

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
FROZEN = Path(__file__).resolve().parent / "frozen"

# A configuration off the defaults: per-leg sizing (btcn 0.1's rule), durations written in other
# units than the defaults (their text is part of the inputs digest), a looser delta guardrail.
PER_LEG_TOML = """\
[strategy]
rebalance = "per_leg"
cooldown = "3600s"
atr_window = "1d"
signal_max_age = "1440m"
[guardrails]
max_net_delta = 0.2
max_data_age = "900s"
[execution]
post_only_window = "5000ms"
"""

CASES = ("defaults", "examples", "per_leg")


def build_plan(case: str, tmp: Path) -> Plan:
    config: Path | None
    if case == "defaults":
        config = None  # the built-in defaults (the tests run in an empty folder: no btcn.toml)
    elif case == "examples":
        config = EXAMPLES / "btcn.toml"
    else:
        config = tmp / "btcn.toml"
        config.write_text(PER_LEG_TOML)
    snap = parse_artifact((EXAMPLES / "snapshot.json").read_text(), Snapshot)
    req = plan_stage.PlanRequest(snap, load_candles(EXAMPLES / "data" / "spot_5m"),
                                 load_settings(config), load_signals(EXAMPLES / "signals.csv"))  # fmt: skip
    return plan_stage.run(req)


def identity(p: Plan) -> dict[str, Any]:
    """The plan digest and every client order id an executor would derive from the plan."""
    digest = plan_digest(p)
    ids = [
        client_order_id(digest, Leg(o.leg), phase, getattr(o, "purpose", "rebalance"))
        for o in p.orders
        for phase in ("p", "m")
    ]
    compensate = [
        client_order_id(digest, leg, "m", "compensate")
        for leg in (Leg.BTC_PERP_LONG, Leg.BTC_PERP_SHORT)
    ]
    return {"plan_digest": digest, "client_order_ids": ids, "compensate_ids": compensate}


def v1_document(p: Plan) -> str:
    """A version 1 plan (btcn 0.1) of the same decision: what a plan in flight from 0.1 looks like."""
    data = json.loads(dump_json(p))
    for key in ("rebalance", "trigger", "max_delta_drift", "net_delta_after_btc",
                "net_delta_after_pct_nav", "transfers", "liquidation"):  # fmt: skip
        del data[key]
    for o in data["orders"]:
        del o["purpose"]
    data["schema_version"] = 1
    return json.dumps(data, indent=2) + "\n"


@pytest.mark.parametrize("case", CASES)
def test_plan_bytes_digest_and_ids_are_the_frozen_ones(case: str, tmp_path: Path) -> None:
    p = build_plan(case, tmp_path)
    assert dump_json(p) == (FROZEN / f"plan-{case}.json").read_text()
    frozen = json.loads((FROZEN / "identities.json").read_text())
    assert identity(p) == frozen[case]


@pytest.mark.parametrize("hash_seed", ["0", "1", "4242"])
def test_the_plan_does_not_depend_on_the_process(hash_seed: str, tmp_path: Path) -> None:
    """``btcn plan`` in fresh processes with different string-hash seeds (the order in which a
    set or a dict of strings is walked) prints the frozen plan byte for byte: nothing in the
    decision leans on iteration order, the clock or earlier calls (this replaces a test that
    called the pure ``decide`` twice in one process, which could not fail)."""
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    env = {k: v for k, v in env.items() if not k.startswith("BTCN_")}
    out = subprocess.run(
        [sys.executable, "-m", "btcn", "plan", "--snapshot", str(EXAMPLES / "snapshot.json"),
         "--candles", str(EXAMPLES / "data" / "spot_5m"), "--signals",
         str(EXAMPLES / "signals.csv"), "--config", str(EXAMPLES / "btcn.toml"),
         "--state", str(tmp_path / "state.db")],
        capture_output=True, env=env, cwd=tmp_path, timeout=120, check=True,
    )  # fmt: skip
    assert out.stdout.decode() == (FROZEN / "plan-examples.json").read_text()


def test_a_version_1_plan_in_flight_keeps_its_digest_and_ids() -> None:
    text = (FROZEN / "plan-v1.json").read_text()
    p = parse_artifact(text, Plan)
    assert p.schema_version == 2 and p.rebalance == "per_leg"  # read as version 2
    frozen = json.loads((FROZEN / "identities.json").read_text())
    assert identity(p) == frozen["v1"]
    assert dump_json(p) == (FROZEN / "plan-v1-upgraded.json").read_text()


def test_the_plan_schema_is_the_frozen_one() -> None:
    """``btcn schema plan`` (what other tools validate plans with) is unchanged, byte for byte."""
    text = json.dumps(Plan.model_json_schema(), indent=2) + "\n"
    assert text == (FROZEN / "plan-schema.json").read_text()


def test_the_frozen_cases_differ() -> None:
    """The per-leg and v1 cases pin decisions of their own (a mix-up of the files would not go
    unnoticed); examples/btcn.toml lists every default, so its plan is the defaults' plan."""
    frozen = json.loads((FROZEN / "identities.json").read_text())
    assert frozen["defaults"] == frozen["examples"]
    assert len({frozen[c]["plan_digest"] for c in ("examples", "per_leg", "v1")}) == 3


def _write(tmp: Path) -> None:  # pragma: no cover - run once, by hand, to freeze
    FROZEN.mkdir(exist_ok=True)
    ids: dict[str, Any] = {}
    for case in CASES:
        p = build_plan(case, tmp)
        (FROZEN / f"plan-{case}.json").write_text(dump_json(p))
        ids[case] = identity(p)
    v1 = v1_document(build_plan("per_leg", tmp))
    (FROZEN / "plan-v1.json").write_text(v1)
    upgraded = parse_artifact(v1, Plan)
    (FROZEN / "plan-v1-upgraded.json").write_text(dump_json(upgraded))
    ids["v1"] = identity(upgraded)
    (FROZEN / "identities.json").write_text(json.dumps(ids, indent=2) + "\n")


if __name__ == "__main__":  # pragma: no cover
    import tempfile

    if sys.argv[1:] != ["--write"]:
        raise SystemExit("usage: python -m tests.unit.test_frozen_artifacts --write")
    with tempfile.TemporaryDirectory() as tmp:
        _write(Path(tmp))
