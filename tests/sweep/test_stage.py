"""The sweep stage: same numbers as `btcn backtest`, any back-end, failures, resume, walk-forward."""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from btcn.contracts.tables import SUMMARY_COLUMNS
from btcn.errors import ConfigError, InvalidInputError, UsageError
from btcn.runtime.settings import Settings
from btcn.stages import backtest
from btcn.stages import sweep as stage
from btcn.sweep import store
from btcn.sweep.backends import DaskBackend, LocalBackend, SerialBackend, make_backend
from btcn.sweep.space import parse_grid
from tests.sweep.conftest import DATA, SMALL_GRID, write_candles

EXAMPLE = {"candles": [DATA / "spot_5m"], "perp": [DATA / "perp_5m"], "funding": [DATA / "funding"]}


def request(out: Path, grid: str = SMALL_GRID, *, candles: Any = None, settings: Settings | None = None,
            **kw: Any) -> stage.SweepRequest:  # fmt: skip
    inputs = {"candles": candles} if candles is not None else EXAMPLE
    return stage.SweepRequest(grid=parse_grid(grid), settings=settings or Settings(), out_dir=out,
                              **inputs, **kw)  # fmt: skip


def table(out: Path, name: str = store.SWEEP_PARQUET):
    return pq.read_table(out / name).replace_schema_metadata(None)


def nan_as_none(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows with NaN (a KPI that cannot be computed, e.g. the fee drag of a run without funding)
    as None, so that equal results compare equal."""
    return [{k: None if isinstance(v, float) and math.isnan(v) else v for k, v in r.items()}
            for r in rows]  # fmt: skip


def same_table(a, b) -> bool:
    return a.schema == b.schema and nan_as_none(a.to_pylist()) == nan_as_none(b.to_pylist())


def counting(evaluate=stage.evaluate_point):
    calls: list[tuple[Any, ...]] = []

    def wrapped(market, s, start_ms, end_ms):
        calls.append((s.strategy.threshold_floor, s.strategy.cooldown, start_ms, end_ms))
        return evaluate(market, s, start_ms, end_ms)

    return wrapped, calls


# --- the numbers ------------------------------------------------------------------------------


def test_each_point_equals_btcn_backtest_with_those_settings(tmp_path: Path) -> None:
    res = stage.run(request(tmp_path), backend=SerialBackend())
    assert res.failed == 0 and len(res.rows) == 6 and res.executed == 6
    for row in res.rows:
        s = Settings(strategy={"threshold_floor": row["strategy.threshold_floor"],
                               "cooldown": row["strategy.cooldown"]})  # fmt: skip
        want = backtest.run(backtest.BacktestRequest(settings=s, **EXAMPLE)).summary
        assert {k: row[k] for k in SUMMARY_COLUMNS} == want  # every KPI, exactly
    t = pq.read_table(tmp_path / "sweep.parquet")
    meta = {k.decode(): v.decode() for k, v in t.schema.metadata.items()}
    assert meta["kind"] == "sweep" and meta["schema_version"] == "1" and meta["metric"] == "sharpe"
    assert len(meta["input_digest"]) == 64 and int(meta["created_at_ms"]) > 0
    assert t.column_names[:10] == ["row_id", "point_id", "point", "phase", "window", "period_start",
                                   "period_end", "params", "strategy.threshold_floor",
                                   "strategy.cooldown"]  # fmt: skip
    assert t.column("point").to_pylist() == list(range(6))  # plan order, not completion order
    assert set(t.column("status").to_pylist()) == {"ok"}
    # the best row is first in the ranking and reported
    best = max((r for r in res.rows), key=lambda r: r["sharpe"])
    assert res.best["point_id"] == best["point_id"] and res.best["sharpe"] == best["sharpe"]


def test_start_end_restrict_every_point(tmp_path: Path) -> None:
    res = stage.run(
        request(tmp_path, start="2025-01-10", end="2025-01-19"), backend=SerialBackend()
    )
    assert {r["bars"] for r in res.rows} == {10 * 288}
    assert {r["start"] for r in res.rows} == {"2025-01-10T00:00:00Z"}


def test_local_processes_give_identical_results(tmp_path: Path) -> None:
    stage.run(request(tmp_path / "a"), backend=SerialBackend())
    res = stage.run(request(tmp_path / "b", workers=2))
    assert res.backend == "local" and res.workers == 2
    assert table(tmp_path / "a").equals(table(tmp_path / "b"))


@pytest.mark.slow
def test_dask_cluster_gives_identical_results(tmp_path: Path, dask_cluster: str) -> None:
    stage.run(request(tmp_path / "a"), backend=SerialBackend())
    res = stage.run(request(tmp_path / "b", scheduler=dask_cluster))
    assert res.backend == "dask" and res.workers == 2 and res.failed == 0
    assert table(tmp_path / "a").equals(table(tmp_path / "b"))


def test_walk_forward_is_identical_on_every_back_end(tmp_path: Path, dask_cluster: str) -> None:
    grid = '[grid]\n"strategy.threshold_floor" = [0.002, 0.006]\n"strategy.cooldown" = ["5m", "2h"]'
    kw = {"walk_forward": "10d:7d"}
    stage.run(request(tmp_path / "a", grid, **kw), backend=SerialBackend())
    stage.run(request(tmp_path / "b", grid, scheduler=dask_cluster, **kw))
    stage.run(request(tmp_path / "c", grid, workers=2, **kw))
    for name in (store.SWEEP_PARQUET, store.WALK_FORWARD_PARQUET, store.OOS_EQUITY_PARQUET):
        assert table(tmp_path / "a", name).equals(table(tmp_path / "b", name)), name
        assert table(tmp_path / "a", name).equals(table(tmp_path / "c", name)), name


# --- failures ---------------------------------------------------------------------------------


def test_a_failing_point_is_reported_and_the_others_finish(tmp_path: Path) -> None:
    def flaky(market, s, start_ms, end_ms):
        if s.strategy.cooldown == "30m" and s.strategy.threshold_floor == 0.004:
            raise ZeroDivisionError("boom")
        if s.strategy.cooldown == "2h" and s.strategy.threshold_floor == 0.002:
            raise InvalidInputError("the selected period holds fewer than two bars")
        return stage.evaluate_point(market, s, start_ms, end_ms)

    res = stage.run(request(tmp_path), backend=SerialBackend(), evaluate=flaky)
    assert res.failed == 2 and any("failed" in w for w in res.warnings)
    errors = {r["point"]: r["error"] for r in res.rows if r["status"] == "failed"}
    assert errors == {
        4: "ZeroDivisionError: boom",
        2: "the selected period holds fewer than two bars",
    }
    t = pq.read_table(tmp_path / "sweep.parquet").to_pylist()
    assert [r["status"] for r in t] == ["ok", "ok", "failed", "ok", "failed", "ok"]
    assert t[4]["sharpe"] is None and t[0]["sharpe"] is not None
    # a rerun retries only the failed ones (here they succeed)
    wrapped, calls = counting()
    res2 = stage.run(request(tmp_path), backend=SerialBackend(), evaluate=wrapped)
    assert res2.failed == 0 and res2.reused == 4 and len(calls) == 2


def test_invalid_combination_is_a_failed_row_that_is_never_run(tmp_path: Path) -> None:
    grid = '[grid]\n"strategy.targets.BTC_SPOT" = [0.5, 0.8]\n"strategy.targets.BTC_PERP_LONG" = [0.0, 0.4]'
    wrapped, calls = counting()
    res = stage.run(request(tmp_path, grid), backend=SerialBackend(), evaluate=wrapped)
    assert len(calls) == 3 and res.failed == 1
    bad = next(r for r in res.rows if r["status"] == "failed")
    assert (
        bad["error"].startswith("invalid combination") and bad["strategy.targets.BTC_SPOT"] == 0.8
    )


def test_values_impossible_on_these_candles_fail_before_work(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"backtest\.post_only_window is no longer used"):
        stage.run(request(tmp_path, '[grid]\n"backtest.post_only_window" = ["5s", "10m"]'),
                  backend=SerialBackend())  # fmt: skip
    with pytest.raises(ConfigError, match=r"strategy\.atr_window = '7m' is not a multiple"):
        stage.run(request(tmp_path, '[grid]\n"strategy.atr_window" = ["24h", "7m"]'),
                  backend=SerialBackend())  # fmt: skip
    assert not (tmp_path / "sweep.parquet").exists()


@pytest.mark.parametrize(("kw", "needle"), [
    ({"metric": "nav"}, "--metric 'nav' is not a KPI"),
    ({"workers": 2, "scheduler": "tcp://127.0.0.1:1"}, "exclude each other"),
    ({"workers": 0}, "at least 1"),
    ({"start": "2025-01-10", "end": "2025-01-05"}, "--end must be after --start"),
    ({"heatmap": ("strategy.cooldown", "fees.spot_taker")}, "--heatmap 'fees.spot_taker'"),
    ({"walk_forward": "30d:10d"}, "needs 40d of data"),
])  # fmt: skip
def test_usage_errors(tmp_path: Path, kw: dict[str, Any], needle: str) -> None:
    with pytest.raises(UsageError) as err:
        stage.run(request(tmp_path, **kw), backend=SerialBackend())
    assert needle in err.value.message


def test_metric_from_settings_is_checked(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"sweep\.metric 'x'"):
        stage.run(
            request(tmp_path, settings=Settings(sweep={"metric": "x"})), backend=SerialBackend()
        )


def test_out_must_be_a_folder(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    with pytest.raises(UsageError, match="is a file"):
        stage.run(request(tmp_path / "f"), backend=SerialBackend())


# --- resume -----------------------------------------------------------------------------------


class Interrupt(KeyboardInterrupt):
    pass


def test_an_interrupted_sweep_resumes_from_what_was_saved(tmp_path: Path) -> None:
    fresh = tmp_path / "fresh"
    stage.run(request(fresh), backend=SerialBackend())
    out = tmp_path / "out"
    n = {"calls": 0}

    def dies_after_4(market, s, start_ms, end_ms):
        n["calls"] += 1
        if n["calls"] > 4:
            raise Interrupt
        return stage.evaluate_point(market, s, start_ms, end_ms)

    settings = Settings(sweep={"batch": 1})
    with pytest.raises(Interrupt):
        stage.run(request(out, settings=settings), backend=SerialBackend(), evaluate=dies_after_4)
    saved = pq.read_table(out / "sweep.parquet")
    assert saved.num_rows == 4 and set(saved.column("status").to_pylist()) == {"ok"}
    wrapped, calls = counting()
    res = stage.run(request(out, settings=settings), backend=SerialBackend(), evaluate=wrapped)
    assert res.reused == 4 and res.executed == 2 and len(calls) == 2
    assert table(out).equals(table(fresh))


@pytest.mark.slow
@settings(max_examples=25)
@given(st.sets(st.integers(0, 5)), st.sampled_from(["ok", "failed"]))
def test_resume_never_reruns_a_done_point_nor_loses_one(small_csv: Path, tmp_path_factory, done: set[int],
                                                        other: str) -> None:  # fmt: skip
    base = tmp_path_factory.mktemp("resume")
    ref = base / "ref"
    stage.run(request(ref, candles=[small_csv]), backend=SerialBackend())
    full = store.read_rows(ref / "sweep.parquet")
    # a previous run saved the rows in `done`, and the others as `other` (failed rows are retried)
    kept = [r if r["point"] in done else {**r, **dict.fromkeys(SUMMARY_COLUMNS), "status": "failed", "error": "x"}
            for r in full if r["point"] in done or other == "failed"]  # fmt: skip
    out = base / "out"
    pq.write_table(pq.read_table(ref / "sweep.parquet").from_pylist(kept, schema=pq.read_schema(ref / "sweep.parquet")),
                   out.mkdir() or out / "sweep.parquet")  # fmt: skip
    wrapped, calls = counting()
    res = stage.run(request(out, candles=[small_csv]), backend=SerialBackend(), evaluate=wrapped)
    assert res.reused == len(done) and len(calls) == 6 - len(done)
    ran = {(c[0], c[1]) for c in calls}
    assert not ran & {
        (r["strategy.threshold_floor"], r["strategy.cooldown"]) for r in full if r["point"] in done
    }
    assert same_table(table(out), table(ref))


def test_rows_of_another_sweep_are_not_silently_dropped(tmp_path: Path, small_csv: Path) -> None:
    stage.run(request(tmp_path, candles=[small_csv]), backend=SerialBackend())
    other = '[grid]\n"strategy.threshold_floor" = [0.002]\n"strategy.cooldown" = ["5m", "30m"]'
    with pytest.raises(UsageError, match="holds 4 result"):
        stage.run(request(tmp_path, other, candles=[small_csv]), backend=SerialBackend())
    # a grid that only adds values reuses everything it can
    bigger = SMALL_GRID.replace('"2h"]', '"2h", "8h"]')
    res = stage.run(request(tmp_path, bigger, candles=[small_csv]), backend=SerialBackend())
    assert res.reused == 6 and res.executed == 2
    res = stage.run(
        request(tmp_path, other, candles=[small_csv], overwrite=True), backend=SerialBackend()
    )
    assert pq.read_table(tmp_path / "sweep.parquet").num_rows == 2 and res.reused == 2


def test_other_data_means_other_points(tmp_path: Path, small_csv: Path) -> None:
    a = stage.run(request(tmp_path / "a", candles=[small_csv]), backend=SerialBackend())
    other = write_candles(tmp_path / "o.csv", 4 * 288, seed=9)
    b = stage.run(request(tmp_path / "b", candles=[other]), backend=SerialBackend())
    assert not {r["point_id"] for r in a.rows} & {r["point_id"] for r in b.rows}


def test_not_a_sweep_file(tmp_path: Path) -> None:
    (tmp_path / "sweep.parquet").write_text("nope")
    with pytest.raises(InvalidInputError, match="unreadable sweep file"):
        store.read_rows(tmp_path / "sweep.parquet")
    import pyarrow as pa

    pq.write_table(pa.table({"a": [1]}), tmp_path / "sweep.parquet")
    with pytest.raises(InvalidInputError, match="not a btcn sweep file"):
        store.read_rows(tmp_path / "sweep.parquet")


# --- walk-forward -----------------------------------------------------------------------------

WF_GRID = (
    '[grid]\n"strategy.threshold_floor" = [0.001, 0.003, 0.006]\n"strategy.cooldown" = ["5m", "1h"]'
)


def test_walk_forward_chooses_on_train_rows_only_and_scores_on_the_next_window(
    tmp_path: Path,
) -> None:
    data = write_candles(tmp_path / "c.csv", 12 * 288)
    wrapped, calls = counting()
    res = stage.run(request(tmp_path / "o", WF_GRID, candles=[data], walk_forward="4d:2d",
                            metric="roi"), backend=SerialBackend(), evaluate=wrapped)  # fmt: skip
    wf = res.walk_forward
    assert len(wf["windows"]) == 4 and len(calls) == 6 * 4 + 4
    train = [r for r in res.rows if r["phase"] == "train"]
    tests = [r for r in res.rows if r["phase"] == "test"]
    for w, row in enumerate(res.wf_table):
        mine = [r for r in train if r["window"] == w]
        best = max(mine, key=lambda r: (r["roi"], -r["point"]))
        assert row["point_id"] == best["point_id"] and row["is_roi"] == best["roi"]
        t = next(r for r in tests if r["window"] == w)
        assert t["point_id"] == best["point_id"] and t["period_start"] == mine[0]["period_end"]
        assert row["oos_roi"] == t["roi"] and t["period_end"] - t["period_start"] == 2 * 86_400_000
    # chained OOS equity compounds the test windows
    eq = pq.read_table(tmp_path / "o" / "oos_equity.parquet")
    assert eq.num_rows == 4 * 2 * 288 and eq.column_names == [
        "ts",
        "window",
        "point_id",
        "nav_usdt",
    ]
    growth = math.prod(1 + r["oos_roi"] for r in res.wf_table)
    assert wf["oos_chained"]["roi"] == pytest.approx(growth - 1, rel=1e-9, abs=1e-12)
    assert eq.column("nav_usdt").to_pylist()[-1] == pytest.approx(100_000 * growth, rel=1e-12)
    doc = json.loads((tmp_path / "o" / "walk_forward.json").read_text())
    assert (
        doc["kind"] == "walk_forward" and doc["metric"] == "roi" and doc["walk_forward"] == "4d:2d"
    )
    st_ = doc["stability"]
    ids = [w["point_id"] for w in doc["windows"]]
    assert st_["changes"] == sum(a != b for a, b in itertools.pairwise(ids)) and st_[
        "distinct_points"
    ] == len(set(ids))
    assert st_["params"]["strategy.threshold_floor"]["values"] == [
        w["params"]["strategy.threshold_floor"] for w in doc["windows"]
    ]
    assert "distinct" in st_["params"]["strategy.cooldown"]
    assert any("do not fill a test window" in w for w in res.warnings) is False


def test_walk_forward_never_looks_ahead(tmp_path: Path) -> None:
    """Changing every price after the first train window changes nothing about its choice."""
    a = write_candles(tmp_path / "a.csv", 12 * 288)
    b = write_candles(tmp_path / "b.csv", 12 * 288, bump_from=4 * 288)  # differs from day 4 on
    ra = stage.run(
        request(tmp_path / "oa", WF_GRID, candles=[a], walk_forward="4d:2d"),
        backend=SerialBackend(),
    )
    rb = stage.run(
        request(tmp_path / "ob", WF_GRID, candles=[b], walk_forward="4d:2d"),
        backend=SerialBackend(),
    )
    kpis = [k for k in SUMMARY_COLUMNS]
    tr_a = [{k: r[k] for k in kpis} for r in ra.rows if r["phase"] == "train" and r["window"] == 0]
    tr_b = [{k: r[k] for k in kpis} for r in rb.rows if r["phase"] == "train" and r["window"] == 0]
    assert nan_as_none(tr_a) == nan_as_none(tr_b)
    assert ra.wf_table[0]["params"] == rb.wf_table[0]["params"]
    assert ra.wf_table[0]["oos_roi"] != rb.wf_table[0]["oos_roi"]  # the test window did change


def test_walk_forward_window_without_a_winner(tmp_path: Path) -> None:
    data = write_candles(tmp_path / "c.csv", 9 * 288)

    def fails_in_window_1(market, s, start_ms, end_ms):
        if start_ms == 1_735_689_600_000 + 2 * 86_400_000:
            raise ValueError("no")
        return stage.evaluate_point(market, s, start_ms, end_ms)

    res = stage.run(request(tmp_path / "o", WF_GRID, candles=[data], walk_forward="4d:2d"),
                    backend=SerialBackend(), evaluate=fails_in_window_1)  # fmt: skip
    assert [r["status"] for r in res.wf_table] == ["ok", "failed"]
    assert "no point has a finite metric" in res.wf_table[1]["error"]
    assert any("1 window(s) have no out-of-sample result" in w for w in res.warnings)
    assert any("the last 1d do not fill a test window" in w for w in res.warnings)
    assert res.walk_forward["stability"]["windows_with_choice"] == 1


def test_walk_forward_with_a_failed_test_window(tmp_path: Path) -> None:
    data = write_candles(tmp_path / "c.csv", 8 * 288)

    def fails_on_test(market, s, start_ms, end_ms):
        if start_ms == 1_735_689_600_000 + 6 * 86_400_000:
            raise ValueError("test broke")
        return stage.evaluate_point(market, s, start_ms, end_ms)

    res = stage.run(request(tmp_path / "o", WF_GRID, candles=[data], walk_forward="4d:2d"),
                    backend=SerialBackend(), evaluate=fails_on_test)  # fmt: skip
    assert [r["status"] for r in res.wf_table] == ["ok", "failed"]
    assert res.wf_table[1]["error"] == "ValueError: test broke"
    assert res.walk_forward["oos_chained"] is not None


def test_walk_forward_with_no_result_at_all(tmp_path: Path) -> None:
    data = write_candles(tmp_path / "c.csv", 6 * 288)

    def nothing(market, s, start_ms, end_ms):
        raise ValueError("no")

    res = stage.run(request(tmp_path / "o", WF_GRID, candles=[data], walk_forward="4d:2d"),
                    backend=SerialBackend(), evaluate=nothing)  # fmt: skip
    assert res.walk_forward["oos_chained"] is None and res.oos_curve is None
    assert pq.read_table(tmp_path / "o" / "oos_equity.parquet").num_rows == 0
    assert "walk-forward" in (tmp_path / "o" / "sweep.html").read_text()


# --- reports ----------------------------------------------------------------------------------


def test_sweep_html_is_self_contained(tmp_path: Path, small_csv: Path) -> None:
    data = write_candles(tmp_path / "c.csv", 8 * 288)
    stage.run(
        request(tmp_path / "o", WF_GRID, candles=[data], walk_forward="4d:2d"),
        backend=SerialBackend(),
    )
    page = (tmp_path / "o" / "sweep.html").read_text()
    head = page.split("<script>")[0]
    assert page.startswith("<!DOCTYPE html>") and "http" not in head
    assert page.count("Plotly.newPlot") == 2 and '"type":"heatmap"' in page
    for text in (
        "Ranking (mean over train windows)",
        "in-sample vs out-of-sample",
        "Parameter stability",
        "IS sharpe",
        "OOS sharpe",
        "Chained out-of-sample equity",
    ):
        assert text in page, text
    stage.run(request(tmp_path / "p", '[grid]\n"strategy.cooldown" = ["5m", "1h"]', candles=[small_csv]),
              backend=SerialBackend())  # fmt: skip
    page = (tmp_path / "p" / "sweep.html").read_text()
    assert page.count("Plotly.newPlot") == 1 and "Ranking</h2>" in page


def test_stdout_summary_is_json(tmp_path: Path, small_csv: Path) -> None:
    res = stage.run(request(tmp_path, candles=[small_csv]), backend=SerialBackend())
    doc = json.loads(json.dumps(stage.stdout_summary(res), allow_nan=False))
    assert doc["kind"] == "sweep_summary" and doc["points"] == 6 and doc["best"]["params"]


# --- back-ends --------------------------------------------------------------------------------


def test_make_backend() -> None:
    assert isinstance(make_backend(1, None), SerialBackend)
    assert isinstance(make_backend(3, None), LocalBackend) and make_backend(3, None).workers == 3
    assert isinstance(make_backend(3, "tcp://127.0.0.1:1"), DaskBackend)
    with pytest.raises(UsageError):
        LocalBackend(0)


def test_unreachable_scheduler_is_a_usage_error(small_csv: Path) -> None:
    b = DaskBackend("tcp://127.0.0.1:9", timeout_s=0.5)
    with pytest.raises(UsageError, match="cannot reach the Dask scheduler"):
        b.start(None)  # type: ignore[arg-type]


def test_missing_distributed_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(UsageError, match="needs the Dask client") as err:
        DaskBackend("tcp://127.0.0.1:9").start(None)  # type: ignore[arg-type]
    assert err.value.hint == "pip install 'btcn[dask]'"


def test_a_dask_worker_with_another_btcn_is_refused(
    dask_cluster: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import btcn

    real = btcn.__version__
    monkeypatch.setattr(btcn, "__version__", "0.0.0-other")
    with pytest.raises(
        UsageError, match=re.escape(f"workers run btcn {real}, this is 0.0.0-other")
    ):
        DaskBackend(dask_cluster).start(None)  # type: ignore[arg-type]


def test_worker_entry_points_in_process() -> None:
    import signal

    from btcn.sweep import runner

    with pytest.raises(RuntimeError, match="no market"):
        runner.run_batch_in_worker([], stage.evaluate_point)
    old = signal.getsignal(signal.SIGINT)
    try:
        runner.init_worker("market")  # type: ignore[arg-type]
        assert runner._WORKER["market"] == "market"
        assert runner.run_batch_in_worker([], stage.evaluate_point) == []
    finally:
        signal.signal(signal.SIGINT, old)
        runner._WORKER.clear()


def test_atr_cache_is_per_market(small_csv: Path) -> None:
    from btcn.sweep import runner

    m = backtest.load_market(backtest.BacktestRequest(candles=[small_csv], settings=Settings()))
    s = Settings(strategy={"atr_window": "2h", "atr_periods": 3})
    a = runner.market_for(m, s)
    b = runner.market_for(m, s)
    assert a.atr is b.atr  # cached
    m2 = dataclasses.replace(m, spot_high=m.spot_high * 2)
    assert not np.array_equal(runner.market_for(m2, s).atr, a.atr, equal_nan=True)
    for i in range(runner.ATR_CACHE_SIZE + 2):  # bounded
        runner.market_for(m, Settings(strategy={"atr_window": f"{i + 1}h"}))
    assert len(runner._atr_cache[id(m)][1]) <= runner.ATR_CACHE_SIZE


def dies_on_a_point(market, s, start_ms, end_ms):  # module level: picklable for worker processes
    if s.strategy.cooldown == "30m" and s.strategy.threshold_floor == 0.004:
        import os

        os._exit(3)  # the worker process dies (as when the OS kills it for memory)
    return stage.evaluate_point(market, s, start_ms, end_ms)


def test_a_dying_worker_process_fails_its_batches_not_the_sweep(
    tmp_path: Path, small_csv: Path
) -> None:
    res = stage.run(request(tmp_path, candles=[small_csv], settings=Settings(sweep={"batch": 1})),
                    backend=LocalBackend(2), evaluate=dies_on_a_point)  # fmt: skip
    failed = [r for r in res.rows if r["status"] == "failed"]
    assert failed and all(r["error"].startswith("worker process failed") for r in failed)
    assert 4 in {r["point"] for r in failed}
    assert pq.read_table(tmp_path / "sweep.parquet").num_rows == 6
    # the rerun retries exactly the failed rows
    wrapped, calls = counting()
    res2 = stage.run(
        request(tmp_path, candles=[small_csv]), backend=SerialBackend(), evaluate=wrapped
    )
    assert res2.failed == 0 and len(calls) == len(failed) and res2.reused == 6 - len(failed)
