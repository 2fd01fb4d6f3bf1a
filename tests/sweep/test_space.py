from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from btcn.errors import ConfigError
from btcn.runtime.settings import Settings, load_settings
from btcn.sweep.space import build_points, combinations, parse_grid, read_grid

BASE = Settings()


def test_quoted_and_nested_keys_are_the_same_grid() -> None:
    a = parse_grid(
        '[grid]\n"strategy.cooldown" = ["5m", "1h"]\n"strategy.targets.BTC_SPOT" = [0.5]'
    )
    b = parse_grid(
        '[grid.strategy]\ncooldown = ["5m", "1h"]\n[grid.strategy.targets]\nBTC_SPOT = [0.5]'
    )
    assert (
        a.grid == b.grid == {"strategy.cooldown": ["5m", "1h"], "strategy.targets.BTC_SPOT": [0.5]}
    )


def test_points_carry_validated_settings_and_fixed_overrides() -> None:
    spec = parse_grid("""
[grid]
"strategy.threshold_floor" = [0.003, 0.01]
"strategy.targets.BTC_SPOT" = [0.4, 0.5]
[fixed]
"fees.spot_taker" = 0.0005
""")
    points = build_points(spec, BASE)
    assert [p.params for p in points] == [
        {"strategy.threshold_floor": 0.003, "strategy.targets.BTC_SPOT": 0.4},
        {"strategy.threshold_floor": 0.003, "strategy.targets.BTC_SPOT": 0.5},
        {"strategy.threshold_floor": 0.01, "strategy.targets.BTC_SPOT": 0.4},
        {"strategy.threshold_floor": 0.01, "strategy.targets.BTC_SPOT": 0.5},
    ]
    s = points[2].settings
    assert s is not None and s.strategy.threshold_floor == 0.01
    assert s.strategy.targets == {"BTC_SPOT": 0.4, "BTC_PERP_LONG": 0.0, "BTC_PERP_SHORT": 0.5}
    assert s.fees.spot_taker == 0.0005 and s.strategy.cooldown == BASE.strategy.cooldown


def test_grid_value_beats_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BTCN_STRATEGY__COOLDOWN", "5m")
    monkeypatch.setenv("BTCN_FEES__SPOT_TAKER", "0.002")
    base = load_settings(None)
    points = build_points(parse_grid('[grid]\n"strategy.cooldown" = ["30m", "4h"]'), base)
    assert [p.settings.strategy.cooldown for p in points] == ["30m", "4h"]
    assert all(p.settings.fees.spot_taker == 0.002 for p in points)  # env still sets the base


@pytest.mark.parametrize(("text", "needle"), [
    ("[grid\n", "invalid TOML"),
    ('[sweep]\nx = 1', "unknown table(s) sweep"),
    ('grid = 3', "'grid' must be a table"),
    ('[grid]\n"strategy.cooldown" = "5m"', "[grid] strategy.cooldown: expected a non-empty list"),
    ('[grid]\n"strategy.cooldown" = []', "expected a non-empty list"),
    ('[grid]\n"strategy.cooldown" = ["5m", "5m"]', "value '5m' is listed twice"),
    ('[fixed]\n"fees.spot_taker" = 0.001', "no parameter to sweep"),
    ('[grid]\n"strategy.cooldown" = ["5m"]\n[fixed]\n"strategy.cooldown" = "1h"',
     "strategy.cooldown is in both [grid] and [fixed]"),
    ('[random]\nsamples = 2\n[random.params]\n"strategy.cooldown" = ["5m"]',
     "expected a table such as"),
    ('[random.params]\n"strategy.atr_multiplier" = { uniform = [0.1, 0.2] }', "needs samples = N"),
    ('[random]\nsamples = 2\nbogus = 1\n[random.params]\n"a.b" = { uniform = [0, 1] }',
     "unknown key(s) bogus"),
    ('[random]\nsamples = -1\n[random.params]\n"a.b" = { uniform = [0, 1] }', "samples must be"),
    ('[random]\nsamples = 1\nseed = "x"\n[random.params]\n"a.b" = { uniform = [0, 1] }',
     "seed must be"),
    ('[random]\nsamples = 0\n[grid]\n"a.b" = [1]', "samples must be at least 1"),
    ('[random]\nsamples = 1\nparams = 3', "[random.params] must be a table"),
    ('[random]\nsamples = 1\n[random.params]\n"a.b" = { uniform = [0, 1], choice = [1] }',
     "exactly one of"),
    ('[random]\nsamples = 1\n[random.params]\n"a.b" = { uniform = 3 }', "uniform takes a list"),
    ('[random]\nsamples = 1\n[random.params]\n"a.b" = { uniform = [1, 0] }', "needs low < high"),
    ('[random]\nsamples = 1\n[random.params]\n"a.b" = { uniform = [0, "x"] }', "[low, high] numbers"),
    ('[random]\nsamples = 1\n[random.params]\n"a.b" = { loguniform = [0, 1] }', "needs low > 0"),
    ('[random]\nsamples = 1\n[random.params]\n"a.b" = { randint = [0, 1.5] }', "randint takes"),
    ('[random]\nsamples = 1\n[random.params]\n"a.b" = { uniform = [0, 1], digits = 99 }',
     "digits must be"),
])  # fmt: skip
def test_grid_file_errors_name_the_problem(text: str, needle: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_grid(text, "g.toml")
    assert needle in err.value.message and err.value.message.startswith("g.toml")


@pytest.mark.parametrize(("text", "needle"), [
    ('[grid]\n"strategy.cooldwn" = ["5m"]', "unknown settings key 'strategy.cooldwn'"),
    ('[grid]\n"strategy.cooldown.x" = ["5m"]', "unknown settings key 'strategy.cooldown.x'"),
    ('[grid]\n"watchdog.max_rss_mb" = [100]', "only [strategy], [fees], [guardrails], [risk], [backtest] and"),
    ('[grid]\n"strategy.cooldown" = ["5m", "soon"]', "[grid] strategy.cooldown = 'soon': invalid duration"),
    ('[grid]\n"strategy.threshold_floor" = [0.1, 2]', "strategy.threshold_floor = 2: Input should be less"),
    ('[grid]\n"strategy.targets.BTC_SPOT" = [1.5]', "strategy.targets.BTC_SPOT = 1.5"),
    ('[grid]\n"strategy.cooldown" = ["5m"]\n[fixed]\n"fees.spot_taker" = -1',
     "[fixed] fees.spot_taker = -1"),
    ('[random]\nsamples = 1\n[random.params]\n"fees.spot_taker" = { uniform = [0, 0.5] }',
     "[random.params] fees.spot_taker uniform value 0.5"),
])  # fmt: skip
def test_invalid_keys_and_values_fail_before_any_work(text: str, needle: str) -> None:
    with pytest.raises(ConfigError) as err:
        build_points(parse_grid(text, "g.toml"), BASE)
    assert needle in err.value.message


def test_an_invalid_combination_is_a_failed_point_not_an_error() -> None:
    spec = parse_grid('[grid]\n"strategy.targets.BTC_SPOT" = [0.5, 0.8]\n'
                      '"strategy.targets.BTC_PERP_LONG" = [0.0, 0.4]')  # fmt: skip
    points = build_points(spec, BASE)
    bad = [p for p in points if p.settings is None]
    assert [p.params for p in bad] == [
        {"strategy.targets.BTC_SPOT": 0.8, "strategy.targets.BTC_PERP_LONG": 0.4}
    ]
    assert "exceed 1.0 of NAV" in bad[0].error


def test_read_grid_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="grid file not found"):
        read_grid(tmp_path / "nope.toml")
    (tmp_path / "bin.toml").write_bytes(b"\xff\xfe")
    with pytest.raises(ConfigError, match="cannot read grid file"):
        read_grid(tmp_path / "bin.toml")
    (tmp_path / "g.toml").write_text('[grid]\n"strategy.cooldown" = ["5m"]\n')
    assert read_grid(tmp_path / "g.toml").source == str(tmp_path / "g.toml")


def test_too_many_points_is_refused() -> None:
    axis = ", ".join(str(i) for i in range(1000))
    spec = parse_grid(f'[grid]\n"a.x" = [{axis}]\n"a.y" = [{axis}]\n"a.z" = [1, 2]')
    with pytest.raises(ConfigError, match="limit"):
        combinations(spec)


axes = st.lists(st.lists(st.integers(0, 50), min_size=1, max_size=4, unique=True),
                min_size=1, max_size=3)  # fmt: skip


@given(axes)
def test_grid_expansion_is_the_full_product_without_duplicates(values: list[list[int]]) -> None:
    body = "\n".join(f'"s.k{i}" = {v}' for i, v in enumerate(values))
    combos = combinations(parse_grid("[grid]\n" + body))
    assert len(combos) == math.prod(len(v) for v in values)
    assert len({tuple(sorted(c.items())) for c in combos}) == len(combos)
    for i, v in enumerate(values):  # every value of every axis appears
        assert {c[f"s.k{i}"] for c in combos} == set(v)


@given(axes, st.integers(1, 6), st.integers(0, 2**31))
def test_random_draws_are_seeded_and_crossed_with_the_grid(values: list[list[int]], samples: int,
                                                           seed: int) -> None:  # fmt: skip
    body = "\n".join(f'"s.k{i}" = {v}' for i, v in enumerate(values))
    text = (f"[grid]\n{body}\n[random]\nsamples = {samples}\nseed = {seed}\n[random.params]\n"
            '"s.u" = { uniform = [0.1, 0.5] }\n"s.r" = { randint = [1, 3] }\n'
            '"s.l" = { loguniform = [0.0001, 0.01], digits = 6 }\n"s.c" = { choice = ["a", "b"] }')  # fmt: skip
    a, b = combinations(parse_grid(text)), combinations(parse_grid(text))
    assert a == b  # same file, same points
    keys = [tuple(sorted(c.items())) for c in a]
    assert len(set(keys)) == len(keys)
    assert len(a) <= math.prod(len(v) for v in values) * samples
    for c in a:
        assert 0.1 <= c["s.u"] <= 0.5 and c["s.r"] in (1, 2, 3) and c["s.c"] in ("a", "b")
        assert 0.0001 <= c["s.l"] <= 0.01 and round(c["s.l"], 6) == c["s.l"]


@given(axes, st.integers(1, 100), st.integers(0, 2**31))
def test_random_subsample_of_the_grid(values: list[list[int]], samples: int, seed: int) -> None:
    body = "\n".join(f'"s.k{i}" = {v}' for i, v in enumerate(values))
    full = combinations(parse_grid("[grid]\n" + body))
    sub = combinations(parse_grid(f"[grid]\n{body}\n[random]\nsamples = {samples}\nseed = {seed}"))
    assert len(sub) == min(samples, len(full))
    positions = [full.index(c) for c in sub]
    assert positions == sorted(positions)  # a subset, in grid order


def test_the_old_leverage_key_sweeps_the_risk_leverage(caplog: pytest.LogCaptureFixture) -> None:
    old = build_points(parse_grid('[grid]\n"backtest.leverage" = [2, 5]', "g.toml"), BASE)
    new = build_points(parse_grid('[grid]\n"risk.leverage" = [2, 5]', "g.toml"), BASE)
    assert [p.settings.risk.leverage for p in old] == [2, 5]  # type: ignore[union-attr]
    assert [p.settings for p in old] == [p.settings for p in new]
    assert [p.params for p in old] == [{"backtest.leverage": 2}, {"backtest.leverage": 5}]
    assert [r.getMessage() for r in caplog.records] == [
        "g.toml: [grid] backtest.leverage is now risk.leverage"
    ]
