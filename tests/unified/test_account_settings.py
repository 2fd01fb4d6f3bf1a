"""``[account]`` and the unified ``[risk]`` / ``[backtest]`` keys."""

from __future__ import annotations

from pathlib import Path

import pytest

from btcn.core.unified import DOCUMENTED_EXAMPLE_BTC_TIERS
from btcn.errors import ConfigError
from btcn.runtime.settings import load_settings


def test_default_is_classic_with_the_documented_example_tiers() -> None:
    s = load_settings()
    assert s.account.mode == "classic"
    assert [(float(t.lower), float(t.discount)) for t in DOCUMENTED_EXAMPLE_BTC_TIERS] == (
        s.account.btc_discount_tiers
    )


def test_unified_mode_and_tiers_from_file(tmp_path: Path) -> None:
    f = tmp_path / "btcn.toml"
    f.write_text('[account]\nmode = "unified"\nbtc_discount_tiers = [[5, 0.9], [0, 0.97]]\n')
    s = load_settings(f)
    assert s.account.mode == "unified"
    assert s.account.btc_discount_tiers == [(0.0, 0.97), (5.0, 0.9)]  # sorted


@pytest.mark.parametrize(
    ("toml", "needle"),
    [
        ('[account]\nmode = "portfolio"\n', "account.mode"),
        ("[account]\nbtc_discount_tiers = [[1, 0.9]]\n", "must start at 0"),
        ("[account]\nbtc_discount_tiers = [[0, 1.2]]\n", "account.btc_discount_tiers"),
        ("[risk]\nmin_initial_margin_ratio = 0.5\n", "risk.min_initial_margin_ratio"),
        ("[backtest]\nnegative_usdt_interest_apr = -1\n", "negative_usdt_interest_apr"),
    ],
)
def test_bad_unified_keys_name_the_key(tmp_path: Path, toml: str, needle: str) -> None:
    f = tmp_path / "btcn.toml"
    f.write_text(toml)
    with pytest.raises(ConfigError, match=needle.replace(".", r"\.")):
        load_settings(f)


def test_environment_selects_unified(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BTCN_ACCOUNT__MODE", "unified")
    assert load_settings().account.mode == "unified"


def test_classic_digest_ignores_the_unified_keys() -> None:
    from btcn.runtime.settings import Settings
    from btcn.stages.common import decision_settings_json

    base = decision_settings_json(Settings())
    assert "usdt_reserve" not in base and "account" not in base
    tuned = Settings(risk={"usdt_reserve": 0.2, "min_initial_margin_ratio": 3})
    assert decision_settings_json(tuned) == base
    unified = Settings(account={"mode": "unified"})
    assert decision_settings_json(unified) != base
    assert '"mode":"unified"' in decision_settings_json(unified)
