"""Shared fixtures. Every test runs with no BTCN_* environment and inside its own temp folder."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
REAL_DATA = ROOT.parent / "shared" / "data" / "real"

settings.register_profile(
    "btcn", deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "btcn"))


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key in list(os.environ):
        if key.startswith("BTCN_") and key != "BTCN_REQUIRE_SERVICES":
            monkeypatch.delenv(key, raising=False)
    for key in ("GATE_API_KEY", "GATE_API_SECRET"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def examples() -> Path:
    return EXAMPLES


def D(x: object) -> Decimal:
    return Decimal(str(x))
