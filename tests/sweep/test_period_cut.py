"""Windows bound the checks: inputs are cut to --start/--end (and to each walk-forward window)
before the alignment, gap and coverage checks; a window short of bars is flagged, not scored."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from btcn.data.candles import Candles, find_gaps, gap_warnings, load_candles
from btcn.errors import InvalidInputError
from btcn.runtime.settings import Settings
from btcn.stages import backtest
from btcn.stages import sweep as stage
from btcn.sweep.backends import SerialBackend
from btcn.sweep.space import parse_grid
from btcn.sweep.windows import coverage, coverage_problem
from tests.sweep.conftest import BAR_MS, T0, write_candles

DAY = 86_400_000
BARS_PER_DAY = DAY // BAR_MS
GRID = '[grid]\n"strategy.threshold_floor" = [0.001, 0.004]'


def _iso_day(day: int) -> str:
    return str(np.datetime64(T0 + day * DAY, "ms").astype("datetime64[D]"))


def _same(a: dict, b: dict) -> bool:
    """Summaries equal field for field, NaN equal to NaN (a KPI that cannot be computed)."""
    nan = lambda v: isinstance(v, float) and math.isnan(v)  # noqa: E731
    return a.keys() == b.keys() and all(a[k] == b[k] or (nan(a[k]) and nan(b[k])) for k in a)


def _bt(spot: Path, perp: Path | None, start: int | None, end: int | None) -> backtest.RunResult:
    req = backtest.BacktestRequest(
        candles=[spot], perp=[perp] if perp else None, settings=Settings(),
        start=_iso_day(start) if start is not None else None,
        end=_iso_day(end - 1) if end is not None else None,  # an end date includes its day
    )  # fmt: skip
    return backtest.run(req)


def test_perp_missing_after_the_period_no_longer_refuses_and_changes_nothing(
    tmp_path: Path,
) -> None:
    n = 20 * BARS_PER_DAY
    spot = write_candles(tmp_path / "spot.csv", n, seed=5)
    perp = write_candles(tmp_path / "perp.csv", n, seed=5, skip=slice(15 * BARS_PER_DAY, n))
    with pytest.raises(InvalidInputError, match="has no perp bar"):  # the whole span: refused
        _bt(spot, perp, None, None)
    with pytest.raises(InvalidInputError, match="has no perp bar"):  # period reaching the hole
        _bt(spot, perp, 3, 17)
    cut = _bt(spot, perp, 3, 10)
    # The same run on files that end where the period ends: equal figures.
    spot_short = write_candles(tmp_path / "spot_short.csv", 10 * BARS_PER_DAY, seed=5)
    perp_short = write_candles(tmp_path / "perp_short.csv", 10 * BARS_PER_DAY, seed=5)
    ref = _bt(spot_short, perp_short, 3, 10)
    assert _same(cut.summary, ref.summary) and cut.summary["bars"] == 7 * BARS_PER_DAY


def test_the_atr_warm_up_is_kept_so_the_figures_equal_the_uncut_files(tmp_path: Path) -> None:
    n = 40 * BARS_PER_DAY
    spot = write_candles(tmp_path / "spot.csv", n, seed=9)
    cut = _bt(spot, None, 20, 25)
    req = backtest.BacktestRequest(candles=[spot], settings=Settings(), start=_iso_day(20),
                                   end=_iso_day(24))  # fmt: skip
    from btcn.backtest.market import build_market  # the old way: the whole file, then restrict
    from btcn.data.signals import EMPTY_SIGNALS

    s = Settings().strategy
    whole = build_market(load_candles([spot], gaps="warn"), None, None, EMPTY_SIGNALS,
                         atr_window_ms=s.atr_window_ms, atr_periods=s.atr_periods,
                         threshold_floor=s.threshold_floor, atr_multiplier=s.atr_multiplier)  # fmt: skip
    ref = backtest.run(req, market=whole)
    assert _same(cut.summary, ref.summary)
    assert np.array_equal(cut.equity["thr"], ref.equity["thr"])


def test_gap_warnings_speak_of_the_period_run_only(tmp_path: Path) -> None:
    n = 20 * BARS_PER_DAY
    spot = write_candles(
        tmp_path / "spot.csv", n, skip=slice(18 * BARS_PER_DAY, 18 * BARS_PER_DAY + 5)
    )
    inside = _bt(spot, None, None, None)
    assert any("gap of 5 bar(s)" in w for w in inside.meta["warnings"])
    outside = _bt(spot, None, 2, 8)
    assert not any("gap" in w for w in outside.meta["warnings"])


@given(
    st.lists(st.integers(1, 199), max_size=6, unique=True),
    st.integers(0, 220),
    st.integers(0, 220),
)
def test_a_window_holds_exactly_the_gaps_inside_it(holes: list[int], a: int, b: int) -> None:
    ts = np.asarray([i * BAR_MS for i in range(200) if i not in holes], dtype=np.int64)
    ones = np.ones(ts.shape[0])
    gaps = find_gaps(ts, BAR_MS)
    full = Candles(ts, ones, ones, ones, ones, ones, BAR_MS, "d", (), gaps,
                   ("spot: a file note", *gap_warnings("spot", gaps)), "spot")  # fmt: skip
    lo, hi = min(a, b) * BAR_MS, max(a, b) * BAR_MS
    cut = full.window(lo, hi)
    assert np.array_equal(cut.open_ms, ts[(ts >= lo) & (ts < hi)])
    expected = [g for g in full.gaps if g.after_open_ms >= lo and g.before_open_ms < hi]
    assert list(cut.gaps) == expected
    assert cut.warnings == ("spot: a file note", *gap_warnings("spot", expected))


def test_coverage_and_the_reason() -> None:
    ts = np.arange(0, 100, dtype=np.int64) * BAR_MS
    assert coverage(ts, BAR_MS, 0, 100 * BAR_MS) == 1.0
    assert coverage(ts, BAR_MS, 50 * BAR_MS, 150 * BAR_MS) == 0.5
    assert coverage(ts, BAR_MS, 200 * BAR_MS, 300 * BAR_MS) == 0.0
    assert coverage_problem(0.95, 1.0, 0.9) is None
    why = coverage_problem(1.0, 0.25, 0.9)
    assert why is not None and "test period holds 25.0% of its bars" in why and "90%" in why


def _walk_forward(tmp_path: Path, settings: Settings) -> stage.SweepResult:
    n = 14 * BARS_PER_DAY
    spot = write_candles(tmp_path / "spot.csv", n)
    # the perp lacks most of days 9-10: the test window [8d, 10d) of window 2 holds 1 day of 2
    perp = write_candles(tmp_path / "perp.csv", n, skip=slice(9 * BARS_PER_DAY, 10 * BARS_PER_DAY))
    req = stage.SweepRequest(grid=parse_grid(GRID), settings=settings, out_dir=tmp_path / "o",
                             candles=[spot], perp=[perp], walk_forward="4d:2d", metric="roi",
                             overwrite=True)  # fmt: skip
    return stage.run(req, backend=SerialBackend())


def test_a_walk_forward_window_short_of_bars_is_flagged_and_not_scored(tmp_path: Path) -> None:
    res = _walk_forward(tmp_path, Settings())
    doc = json.loads((tmp_path / "o" / "walk_forward.json").read_text())
    assert doc["schema_version"] == 2
    status = [w["status"] for w in doc["windows"]]
    # train/test of window k: [2k, 2k+4) / [2k+4, 2k+6) days; day 9 is missing
    assert status == ["ok", "ok", "low_coverage", "low_coverage", "low_coverage"]
    assert doc["windows"][2]["test_coverage"] == 0.5 and doc["windows"][3]["train_coverage"] == 0.75
    assert "test period holds 50.0% of its bars" in doc["windows"][2]["reason"]
    assert any("walk-forward window 2: test period" in w for w in res.warnings)
    # the scores hold the complete windows only
    ok = [r for r in res.wf_table if r["status"] == "ok"]
    growth = math.prod(1 + r["oos_roi"] for r in ok)
    assert doc["oos_chained"]["roi"] == pytest.approx(growth - 1, rel=1e-9, abs=1e-12)
    assert doc["oos_mean"]["roi"] == pytest.approx(np.mean([r["oos_roi"] for r in ok]))
    assert set(np.unique(res.oos_curve.window).tolist()) == {0, 1}
    assert doc["stability"]["windows_with_choice"] == 2
    # a lower bar scores them again: the share is a setting
    res2 = _walk_forward(tmp_path, Settings(sweep={"min_window_coverage": 0.5}))
    assert [r["status"] for r in res2.wf_table] == ["ok"] * 5
