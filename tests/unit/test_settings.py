from __future__ import annotations

from pathlib import Path

import pytest

from btcn.core import durations
from btcn.core.durations import Duration, format_duration_ms, parse_duration_ms
from btcn.errors import ConfigError, ExitCode
from btcn.runtime.settings import Settings, load_settings


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "btcn.toml"
    p.write_text(text)
    return p


def test_defaults_match_the_documented_values() -> None:
    s = load_settings()
    assert s.strategy.targets == {"BTC_SPOT": 0.5, "BTC_PERP_LONG": 0.0, "BTC_PERP_SHORT": 0.5}
    assert s.strategy.threshold_floor == 0.005
    assert s.strategy.atr_multiplier == 0.2
    assert s.strategy.cooldown_ms == 3_600_000
    assert s.strategy.atr_window_ms == 86_400_000
    assert s.strategy.apply_signal_logic is True
    assert (s.fees.spot_maker, s.fees.spot_taker, s.fees.perp_maker, s.fees.perp_taker) == (
        0.001, 0.001, 0.0002, 0.0005,
    )  # fmt: skip
    assert s.risk.leverage == 3 and s.backtest.initial_nav_usdt == 100_000


def test_example_config_equals_the_defaults(examples: Path) -> None:
    assert load_settings(examples / "btcn.toml") == load_settings()


def test_file_values_are_read(tmp_path: Path) -> None:
    s = load_settings(write(tmp_path, '[strategy]\ncooldown = "30m"\nthreshold_floor = 0.01\n'))
    assert s.strategy.cooldown_ms == 1_800_000
    assert s.strategy.threshold_floor == 0.01


def test_default_file_in_cwd_is_used(tmp_path: Path) -> None:
    write(tmp_path, "[fees]\nspot_taker = 0.002\n")
    assert load_settings().fees.spot_taker == 0.002


def test_btcn_config_env_names_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    other = tmp_path / "other.toml"
    other.write_text("[fees]\nperp_taker = 0.0007\n")
    monkeypatch.setenv("BTCN_CONFIG", str(other))
    assert load_settings().fees.perp_taker == 0.0007


def test_environment_overrides_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, '[strategy]\ncooldown = "30m"\natr_periods = 7\n')
    monkeypatch.setenv("BTCN_STRATEGY__COOLDOWN", "5m")
    s = load_settings(path)
    assert s.strategy.cooldown_ms == 300_000
    assert s.strategy.atr_periods == 7  # untouched keys of the same section survive


@pytest.mark.parametrize(
    ("toml", "needle"),
    [
        ('[strategy]\ncooldwn = "5m"\n', "unknown key 'strategy.cooldwn'"),
        ("[strategi]\nx = 1\n", "unknown key 'strategi'"),
        ('[strategy]\ncooldown = "5 minutes"\n', "invalid value for 'strategy.cooldown'"),
        ("[strategy]\nthreshold_floor = 2\n", "invalid value for 'strategy.threshold_floor'"),
        ("[strategy]\ntargets = { BTC_SPOT = 0.5, ETH = 0.1 }\n", "unknown leg(s) ETH"),
        ("[strategy]\ntargets = { BTC_SPOT = 0.8, BTC_PERP_LONG = 0.5 }\n", "exceed 1.0"),
        ("[fees]\nspot_taker = -0.1\n", "invalid value for 'fees.spot_taker'"),
        ("[risk]\nleverage = 0\n", "invalid value for 'risk.leverage'"),
        ("[backtest]\nleverage = 0\n", "invalid value for 'risk.leverage'"),  # its old name
        ("[strategy\n", "invalid TOML"),
    ],
)
def test_bad_config_names_the_key(tmp_path: Path, toml: str, needle: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(write(tmp_path, toml))
    assert needle in err.value.message
    assert err.value.exit_code == ExitCode.CONFIG


def test_bad_environment_value_names_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BTCN_STRATEGY__ATR_PERIODS", "zero")
    with pytest.raises(ConfigError, match=r"BTCN_\* environment.*strategy\.atr_periods"):
        load_settings()


def test_unknown_environment_key_in_a_section(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BTCN_STRATEGY__COOLDWN", "5m")
    with pytest.raises(ConfigError, match=r"unknown key 'strategy\.cooldwn'"):
        load_settings()


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_settings(tmp_path / "nope.toml")


def test_partial_targets_fill_missing_legs_with_zero(tmp_path: Path) -> None:
    s = load_settings(
        write(tmp_path, "[strategy]\ntargets = { BTC_SPOT = 0.4, BTC_PERP_SHORT = 0.4 }\n")
    )
    assert s.strategy.targets == {"BTC_SPOT": 0.4, "BTC_PERP_LONG": 0.0, "BTC_PERP_SHORT": 0.4}


@pytest.mark.parametrize(
    ("text", "ms"),
    [("500ms", 500), ("5s", 5000), ("60m", 3_600_000), ("24h", 86_400_000), ("1d", 86_400_000),
     ("1.5h", 5_400_000)],
)  # fmt: skip
def test_durations(text: str, ms: int) -> None:
    assert parse_duration_ms(text) == ms


@pytest.mark.parametrize("bad", ["", "5", "5 min", "-5m", "1.0001ms", "h"])
def test_bad_durations(bad: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration_ms(bad)


def test_a_duration_setting_is_parsed_once_and_written_back_as_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = load_settings(write(tmp_path, '[strategy]\ncooldown = "3600s"\natr_window = "1d"\n'))
    assert isinstance(s.strategy.cooldown, Duration) and s.strategy.cooldown.ms == 3_600_000
    dumped = s.strategy.model_dump(mode="json")
    assert dumped["cooldown"] == "3600s" and dumped["atr_window"] == "1d"  # part of the digest

    calls: list[str] = []
    monkeypatch.setattr(durations, "parse_duration_ms", lambda t: calls.append(t) or 0)
    assert (s.strategy.cooldown_ms, s.strategy.atr_window_ms, s.gate.timeout_s) == (
        3_600_000, 86_400_000, 10.0)  # fmt: skip
    assert calls == []  # read from the Duration, never parsed again


def test_duration_setting_refuses_what_the_parser_refuses(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"strategy.cooldown'.*expected a duration"):
        load_settings(write(tmp_path, "[strategy]\ncooldown = 60\n"))
    with pytest.raises(ConfigError, match=r"gate.timeout'.*longer than zero"):
        load_settings(write(tmp_path, '[gate]\ntimeout = "0s"\n'))


def test_candle_intervals_use_the_one_duration_parser() -> None:
    from btcn.stages.fetch import BINANCE_INTERVALS, GATE_INTERVALS, interval_ms

    for text in (*BINANCE_INTERVALS, *GATE_INTERVALS):
        assert interval_ms(text) == Duration(text).ms
    assert interval_ms("10s") == 10_000 and interval_ms("1d") == 86_400_000


def test_duration_format_round_trips() -> None:
    for ms in (1, 999, 1000, 60_000, 3_600_000, 86_400_000, 90_000):
        assert parse_duration_ms(format_duration_ms(ms)) == ms
    with pytest.raises(ValueError, match="duration"):
        parse_duration_ms(5)  # type: ignore[arg-type]


def test_leverage_lives_in_risk_and_its_old_name_is_read_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    assert load_settings(write(tmp_path, "[risk]\nleverage = 5\n")).risk.leverage == 5
    assert not caplog.records
    s = load_settings(write(tmp_path, "[backtest]\nleverage = 4\n"))
    assert s.risk.leverage == 4 and not hasattr(s.backtest, "leverage")
    (line,) = [r.getMessage() for r in caplog.records]
    assert (
        line
        == "[backtest] leverage is now [risk] leverage (read as leverage = 4): move it to [risk]"
    )


def test_leverage_under_both_names_must_agree(tmp_path: Path) -> None:
    same = load_settings(write(tmp_path, "[risk]\nleverage = 2\n[backtest]\nleverage = 2.0\n"))
    assert same.risk.leverage == 2
    with pytest.raises(ConfigError, match=r"leverage is set twice: \[risk\] leverage = 2 and"):
        load_settings(write(tmp_path, "[risk]\nleverage = 2\n[backtest]\nleverage = 3\n"))


def test_old_leverage_environment_variable_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BTCN_BACKTEST__LEVERAGE", "7")
    assert load_settings().risk.leverage == 7


def test_retired_post_only_window_of_the_backtest_is_ignored(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    s = load_settings(write(tmp_path, '[backtest]\npost_only_window = "10m"\n'))
    assert s == Settings()
    assert [r.getMessage() for r in caplog.records] == [
        "[backtest] post_only_window is no longer used and is ignored: remove it"
    ]


# --- BTCN_* names that set nothing ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "nearest"),
    [
        ("BTCN_STRATEGY_COOLDOWN", "BTCN_STRATEGY__COOLDOWN"),  # one underscore
        ("BTCN_NOSUCH__KEY", None),  # a section that does not exist
        ("btcn_strategy__cooldwn", "BTCN_STRATEGY__COOLDOWN"),  # names are case-insensitive
        ("BTCN_FEES__SPOT_TAKR", "BTCN_FEES__SPOT_TAKER"),
    ],
)
def test_a_btcn_variable_that_names_no_setting_is_a_config_error(
    monkeypatch: pytest.MonkeyPatch, name: str, nearest: str | None
) -> None:
    monkeypatch.setenv(name, "30m")
    with pytest.raises(ConfigError) as info:
        load_settings()
    err = info.value
    assert err.exit_code == ExitCode.CONFIG and f"environment variable {name}:" in err.message
    assert "the nearest setting is BTCN_" in err.message
    if nearest:
        assert f"the nearest setting is {nearest} " in err.message


def test_variables_that_are_not_settings_but_are_used_stay_allowed(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Every BTCN_* name the repository uses (code, scripts, docs, CI) is a setting or one of
    the known non-setting variables; each of the latter can be set without an error."""
    import re

    from btcn.runtime.settings import NON_SETTING_ENV, Settings

    root = Path(__file__).resolve().parents[2]
    used: set[str] = set()
    # where btcn is configured and run (tests set deliberate mistakes, and the variables they
    # need are exported by .ci/run as well)
    for folder in ("src", "examples", "docs", "scripts", ".ci", ".github"):
        for f in (root / folder).rglob("*"):
            if (
                f.is_file()
                and f.suffix in ("", ".py", ".sh", ".md", ".toml", ".yml", ".yaml")
                and (
                    f.resolve() != Path(__file__).resolve()  # this file's deliberate mistakes
                )
            ):
                used |= set(re.findall(r"\bBTCN_[A-Z0-9_]*[A-Z0-9]", f.read_text(errors="ignore")))
    sections = {f"BTCN_{s.upper()}" for s in Settings.model_fields}
    not_settings = {n for n in used if n.split("__")[0] not in sections}
    assert not_settings <= NON_SETTING_ENV, "add new non-setting names to NON_SETTING_ENV"
    for n in NON_SETTING_ENV - {"BTCN_CONFIG", "BTCN_SECRETS_FILE"}:
        monkeypatch.setenv(n, "1")
    load_settings()


def test_the_configured_secret_names_are_allowed(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("BTCN_TELEGRAM_TOKEN", "t")  # a secret read from the environment
    with pytest.raises(ConfigError, match="BTCN_TELEGRAM_TOKEN"):
        load_settings()
    load_settings(write(tmp_path, '[telegram]\ntoken_secret = "BTCN_TELEGRAM_TOKEN"\n'))
    monkeypatch.setenv("BTCN_INFLUX__TOKEN_SECRET", "btcn_influx_pw")
    monkeypatch.setenv("BTCN_INFLUX_PW", "p")
    load_settings(write(tmp_path, '[telegram]\ntoken_secret = "BTCN_TELEGRAM_TOKEN"\n'))
