"""``btcn fetch`` stages against the fake Binance and Gate: pagination, resume, atomic writes."""

from __future__ import annotations

import math
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pydantic import SecretStr

from btcn.data.candles import load_candles
from btcn.data.funding import load_funding
from btcn.errors import ExchangeError, InvalidInputError, UsageError
from btcn.exchange.credentials import Credentials
from btcn.exchange.retry import RetryPolicy
from btcn.stages import fetch as stage
from tests.fakes import FakeBinance, FakeGate, FakeServer
from tests.fakes.binance_fake import FUNDING_MS, funding_rate_at, kline, price_at
from tests.helpers import KEY, SECRET, VirtualClock, gate_settings

D = Decimal
NOW_MS = 1_736_000_000_000  # 2025-01-04T14:13:20Z
START_MS = 1_735_689_600_000  # 2025-01-01T00:00:00Z
STEP = 300_000


@pytest.fixture
def binance() -> FakeBinance:
    return FakeBinance(now=lambda: NOW_MS / 1000)


@pytest.fixture
def srv(binance: FakeBinance, vclock: VirtualClock) -> Iterator[FakeServer]:
    gate = FakeGate(KEY, SECRET, clock=lambda: NOW_MS / 1000)
    with FakeServer(gate, binance) as server:
        yield server


def deps(clock: VirtualClock) -> stage.FetchDeps:
    return stage.FetchDeps(
        clock=clock,
        retry=RetryPolicy(max_attempts=3, clock=clock),
        credentials=Credentials(SecretStr(KEY), SecretStr(SECRET)),
    )


def candle_req(srv: FakeServer, out: Path, **kw: object) -> stage.CandleFetchRequest:
    base = dict(
        source="binance-spot",
        interval="5m",
        start_ms=START_MS,
        out=out,
        settings=gate_settings(srv.gate_url, srv.binance_url),
        now_ms=NOW_MS,
        page_limit=100,
        checkpoint_pages=3,
    )
    base.update(kw)
    return stage.CandleFetchRequest(**base)  # type: ignore[arg-type]


def expected_bars(start: int, end: int, venue: str = "spot") -> list[list[object]]:
    return [kline(t, STEP, venue) for t in range(start, end, STEP)]


def test_fetch_writes_exactly_the_closed_bars(
    srv: FakeServer, vclock: VirtualClock, tmp_path: Path
) -> None:
    out = tmp_path / "spot.parquet"
    progress: list[tuple[int, int]] = []
    result = stage.fetch_candles(
        candle_req(srv, out), deps(vclock), lambda d, t: progress.append((d, t))
    )
    last_closed_open = NOW_MS // STEP * STEP - STEP
    n = (last_closed_open - START_MS) // STEP + 1
    assert (result.rows_added, result.rows_total, result.rows_before) == (n, n, 0)
    assert result.pages == math.ceil(n / 100)  # stops at the last closed bar, no empty page
    assert progress[0] == (0, n) and progress[-1] == (n, n)
    table = pq.read_table(out)
    assert table.schema.field("open_time").type == pa.timestamp("ms", tz="UTC")
    assert table.column_names == ["open_time", "open", "high", "low", "close", "volume"]
    assert table.schema.metadata[b"source"] == b"binance-spot"
    bars = load_candles(out)
    assert len(bars) == n and bars.gaps == () and bars.bar_ms == STEP
    assert int(bars.open_ms[-1]) == last_closed_open  # the forming bar is not stored
    exp = expected_bars(START_MS, last_closed_open + STEP)
    assert bars.close[17] == float(exp[17][4]) and bars.volume[3] == float(exp[3][5])
    assert list(tmp_path.iterdir()) == [out]  # no temporary file left behind


def test_rerun_fetches_only_new_bars(srv: FakeServer, binance: FakeBinance, vclock: VirtualClock,
                                     tmp_path: Path) -> None:  # fmt: skip
    out = tmp_path / "spot.parquet"
    stage.fetch_candles(candle_req(srv, out, now_ms=NOW_MS - 3_600_000), deps(vclock))
    first_last = int(load_candles(out).open_ms[-1])
    binance.requests.clear()
    again = stage.fetch_candles(candle_req(srv, out), deps(vclock))
    assert again.rows_before > 0 and again.rows_added == 12
    assert int(binance.requests[0][1]["startTime"]) == first_last + STEP
    nothing = stage.fetch_candles(candle_req(srv, out), deps(vclock))
    assert nothing.rows_added == 0 and nothing.pages == 0
    # an earlier --start fetches the head only
    binance.requests.clear()
    head = stage.fetch_candles(candle_req(srv, out, start_ms=START_MS - 86_400_000), deps(vclock))
    assert head.rows_added == 288
    assert int(binance.requests[-1][1]["endTime"]) == START_MS - 1
    fresh = tmp_path / "fresh.parquet"
    stage.fetch_candles(candle_req(srv, fresh, start_ms=START_MS - 86_400_000), deps(vclock))
    assert pq.read_table(out).equals(pq.read_table(fresh))


def test_interrupted_fetch_keeps_the_last_checkpoint(srv: FakeServer, binance: FakeBinance,
                                                     vclock: VirtualClock, tmp_path: Path) -> None:  # fmt: skip
    out = tmp_path / "spot.parquet"
    binance.add_fault(path="/api/v3/klines", status=500, times=0)
    calls = {"n": 0}
    real_handle = binance.handle

    def flaky(method: str, path: str, query: str):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] > 7:  # the venue goes away after 7 pages
            return 503, {"code": -1, "msg": "down"}, {}
        return real_handle(method, path, query)

    binance.handle = flaky  # type: ignore[method-assign]
    with pytest.raises(ExchangeError, match="HTTP 503"):
        stage.fetch_candles(candle_req(srv, out), deps(vclock))
    kept = load_candles(out)  # a valid, contiguous file: the checkpoint after page 6
    assert len(kept) == 600 and kept.gaps == ()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["spot.parquet"]
    binance.handle = real_handle  # type: ignore[method-assign]
    result = stage.fetch_candles(candle_req(srv, out), deps(vclock))
    assert result.rows_before == 600
    fresh = tmp_path / "fresh.parquet"
    stage.fetch_candles(candle_req(srv, fresh), deps(vclock))
    assert pq.read_table(out).equals(pq.read_table(fresh))


def test_transient_errors_are_retried(srv: FakeServer, binance: FakeBinance, vclock: VirtualClock,
                                      tmp_path: Path) -> None:  # fmt: skip
    binance.add_fault(path="/api/v3/klines", status=502, times=1)
    binance.add_fault(path="/api/v3/klines", status=429, times=1, retry_after_s=4)
    out = tmp_path / "spot.parquet"
    stage.fetch_candles(candle_req(srv, out, start_ms=NOW_MS - 86_400_000), deps(vclock))
    first = -(-(NOW_MS - 86_400_000) // STEP) * STEP
    assert len(load_candles(out)) == (NOW_MS // STEP * STEP - first) // STEP
    assert 4.0 in vclock.sleeps


def test_gaps_are_reported_not_filled(srv: FakeServer, binance: FakeBinance, vclock: VirtualClock,
                                      tmp_path: Path) -> None:  # fmt: skip
    binance.gaps = [(START_MS + 10 * STEP, START_MS + 13 * STEP)]
    out = tmp_path / "spot.parquet"
    result = stage.fetch_candles(candle_req(srv, out, end_ms=START_MS + 50 * STEP), deps(vclock))
    assert result.rows_total == 47
    assert result.warnings == ("gap of 3 missing row(s) between 2025-01-01T00:45:00Z and "
                               "2025-01-01T01:05:00Z",)  # fmt: skip
    assert len(load_candles(out, gaps="warn").gaps) == 1


def test_end_is_exclusive_and_validated(
    srv: FakeServer, vclock: VirtualClock, tmp_path: Path
) -> None:
    out = tmp_path / "x.parquet"
    r = stage.fetch_candles(candle_req(srv, out, end_ms=START_MS + 2 * STEP + 1), deps(vclock))
    assert r.rows_total == 3
    with pytest.raises(UsageError, match="holds no closed bar"):
        stage.fetch_candles(candle_req(srv, out, start_ms=NOW_MS), deps(vclock))
    with pytest.raises(UsageError, match="does not serve interval '10s'"):
        stage.fetch_candles(candle_req(srv, out, interval="10s"), deps(vclock))
    with pytest.raises(UsageError, match="unknown source"):
        stage.fetch_candles(candle_req(srv, out, source="kraken"), deps(vclock))
    with pytest.raises(UsageError, match="unknown interval"):
        stage.interval_ms("5x")


def test_a_file_holds_one_series(srv: FakeServer, vclock: VirtualClock, tmp_path: Path) -> None:
    out = tmp_path / "spot.parquet"
    stage.fetch_candles(candle_req(srv, out, end_ms=START_MS + 10 * STEP), deps(vclock))
    with pytest.raises(InvalidInputError, match="holds source 'binance-spot', not 'binance-perp'"):
        stage.fetch_candles(candle_req(srv, out, source="binance-perp"), deps(vclock))
    with pytest.raises(InvalidInputError, match="holds interval '5m', not '1h'"):
        stage.fetch_candles(candle_req(srv, out, interval="1h"), deps(vclock))
    junk = tmp_path / "junk.parquet"
    junk.write_bytes(b"not parquet")
    with pytest.raises(InvalidInputError, match="not a readable Parquet file"):
        stage.fetch_candles(candle_req(srv, junk), deps(vclock))
    pq.write_table(pa.table({"open_time": [1]}), tmp_path / "cols.parquet")
    with pytest.raises(InvalidInputError, match="missing column"):
        stage.fetch_candles(candle_req(srv, tmp_path / "cols.parquet"), deps(vclock))


def test_stale_temporary_files_are_removed(
    srv: FakeServer, vclock: VirtualClock, tmp_path: Path
) -> None:
    out = tmp_path / "spot.parquet"
    stale = tmp_path / ".spot.parquet.abc123.tmp"
    stale.write_bytes(b"half a file from a killed run")
    stage.fetch_candles(candle_req(srv, out, end_ms=START_MS + 10 * STEP), deps(vclock))
    assert not stale.exists()


@pytest.mark.parametrize("source,venue", [("binance-perp", "futures"), ("binance-mark", "futures")])
def test_binance_futures_sources(srv: FakeServer, vclock: VirtualClock, tmp_path: Path, source: str,
                                 venue: str) -> None:  # fmt: skip
    out = tmp_path / "perp.parquet"
    stage.fetch_candles(
        candle_req(srv, out, source=source, end_ms=START_MS + 20 * STEP), deps(vclock)
    )
    bars = load_candles(out)
    assert len(bars) == 20 and bars.close[0] == float(kline(START_MS, STEP, venue)[4])


@pytest.mark.parametrize("source", ["gate-spot", "gate-perp", "gate-mark", "gate-index"])
def test_gate_sources(srv: FakeServer, vclock: VirtualClock, tmp_path: Path, source: str) -> None:
    out = tmp_path / f"{source}.parquet"
    req = candle_req(srv, out, source=source, interval="1h", start_ms=NOW_MS - 30 * 3_600_000,
                     page_limit=7)  # fmt: skip
    result = stage.fetch_candles(req, deps(vclock))
    bars = load_candles(out)
    assert len(bars) == result.rows_total == 29 and bars.bar_ms == 3_600_000
    assert int(bars.open_ms[-1]) + 3_600_000 <= NOW_MS
    if source == "gate-perp":
        assert bars.volume[0] == pytest.approx(1.2)  # 12000 contracts x 0.0001 BTC
    if source in ("gate-mark", "gate-index"):
        assert bars.volume[0] == 0.0


def test_funding_from_binance(srv: FakeServer, binance: FakeBinance, vclock: VirtualClock,
                              tmp_path: Path) -> None:  # fmt: skip
    out = tmp_path / "funding.parquet"
    settings = gate_settings(srv.gate_url, srv.binance_url)
    req = stage.FundingFetchRequest(source="binance", start_ms=START_MS - 60 * FUNDING_MS, out=out,
                                    settings=settings, now_ms=NOW_MS, page_limit=25,
                                    checkpoint_pages=2)  # fmt: skip
    progress: list[tuple[int, int]] = []
    result = stage.fetch_funding(req, deps(vclock), lambda d, t: progress.append((d, t)))
    funding = load_funding(out)
    assert len(funding) == result.rows_total == 71  # 60 before 2025 + 11 up to NOW
    assert int(funding.time_ms[0]) % 3_600_000 == 0  # Binance jitter snapped to the slot
    assert funding.rate[5] == float(funding_rate_at(int(funding.time_ms[5])))
    assert funding.mark_price[0] == pytest.approx(price_at(int(funding.time_ms[0]), "futures"))
    assert progress[-1][0] == progress[-1][1]
    binance.requests.clear()
    later = stage.FundingFetchRequest(source="binance", start_ms=START_MS, out=out, settings=settings,
                                      now_ms=NOW_MS + 2 * FUNDING_MS)  # fmt: skip
    binance.now = lambda: (NOW_MS + 2 * FUNDING_MS) / 1000
    again = stage.fetch_funding(later, deps(vclock))
    assert again.rows_added == 2 and len(binance.requests) == 1
    with pytest.raises(UsageError, match="choose binance or gate"):
        stage.fetch_funding(stage.FundingFetchRequest(source="x", start_ms=0, out=out,
                                                      settings=settings, now_ms=NOW_MS))  # fmt: skip
    with pytest.raises(UsageError, match="nothing to fetch"):
        stage.fetch_funding(stage.FundingFetchRequest(source="gate", start_ms=NOW_MS, out=out,
                                                      settings=settings, now_ms=NOW_MS))  # fmt: skip


def test_funding_from_gate(srv: FakeServer, vclock: VirtualClock, tmp_path: Path) -> None:
    out = tmp_path / "gate-funding.parquet"
    settings = gate_settings(srv.gate_url, srv.binance_url)
    req = stage.FundingFetchRequest(source="gate", start_ms=START_MS, out=out, settings=settings,
                                    now_ms=START_MS + 30 * 86_400_000, page_limit=100)  # fmt: skip
    result = stage.fetch_funding(req, deps(vclock))
    funding = load_funding(out)
    assert len(funding) == result.rows_total == 90
    assert math.isnan(funding.mark_price[0])
    assert funding.rate[0] == -0.00005 and funding.rate[1] == 0.0001


def test_series_merge_keeps_the_newest_and_counts_changes() -> None:
    s = stage.Series()
    s.merge({1: (1.0,), 2: (2.0,)})
    s.merge({2: (2.5,), 3: (3.0,)})
    assert s.rows == {1: (1.0,), 2: (2.5,), 3: (3.0,)} and s.replaced == 1
    r = stage._result("candles", "x", Path("f"), s, 0, 1, 1)
    assert r.warnings[0].startswith("1 row(s) already in the file came back with different values")
    assert r.as_dict()["first"] == "1970-01-01T00:00:00.001Z"


# --- snapshots ---------------------------------------------------------------------------------------
def test_gate_snapshot_reads_the_live_account(srv: FakeServer, vclock: VirtualClock) -> None:
    srv.gate.spot["BTC"] = [D("0.4"), D("0.1")]
    srv.gate.pos["short"] = [D(5000), D(101000)]
    srv.gate.pos["long"] = [D(7), D(99000)]
    settings = gate_settings(srv.gate_url, srv.binance_url)
    snap = stage.gate_snapshot(settings, NOW_MS, deps(vclock))
    assert snap.venue == "gate" and snap.as_of_ms == NOW_MS
    assert snap.balances.spot_btc == D("0.5") and snap.balances.futures_usdt == D(50000)
    assert snap.positions.BTC_PERP_SHORT.size_contracts == 5000
    assert snap.positions.BTC_PERP_LONG.entry_price_usdt == D(99000)
    assert snap.prices.spot_bid_usdt == D("99999.95") and snap.prices.perp_mark_usdt == D(100000)
    last_closed = NOW_MS // 60_000 * 60_000 - 60_000
    assert snap.p_ref_as_of_ms == last_closed + 60_000
    assert snap.p_ref_usdt == D(kline(last_closed, 60_000, "spot")[4])
    assert snap.perp_spec.multiplier_btc == D("0.0001")


def test_gate_snapshot_in_single_mode_still_reads(srv: FakeServer, vclock: VirtualClock,
                                                  caplog: pytest.LogCaptureFixture) -> None:  # fmt: skip
    srv.gate.dual_mode = False
    snap = stage.gate_snapshot(gate_settings(srv.gate_url, srv.binance_url), NOW_MS, deps(vclock))
    assert snap.positions.BTC_PERP_LONG.size_contracts == 0
    assert "single-position mode" in caplog.text


def test_paper_snapshot_offline_from_candle_files(tmp_path: Path) -> None:
    examples = Path(__file__).resolve().parents[2] / "examples" / "data"
    from btcn.runtime.settings import Settings

    snap = stage.paper_snapshot(Settings(), 0, state_path=tmp_path / "none.db",
                                candles=[str(examples / "spot_5m")], perp=[str(examples / "perp_5m")])  # fmt: skip
    spot = load_candles(examples / "spot_5m")
    perp = load_candles(examples / "perp_5m")
    assert snap.as_of_ms == spot.last_close_ms == snap.p_ref_as_of_ms
    assert (
        float(snap.p_ref_usdt) == spot.close[-1]
        and float(snap.prices.perp_mark_usdt) == perp.close[-1]
    )
    assert snap.balances.spot_usdt == D(50000) and snap.venue == "paper"
    with pytest.raises(UsageError, match="--perp needs --candles"):
        stage.paper_snapshot(Settings(), 0, perp=["x"])


def test_paper_snapshot_online_uses_the_state_book(srv: FakeServer, vclock: VirtualClock,
                                                   tmp_path: Path) -> None:  # fmt: skip
    from btcn.core.book import Book
    from btcn.runtime.state import StateStore

    state = tmp_path / "state.db"
    with StateStore(state) as store:
        store.save_paper_book(Book(D(1), D("0.5"), D(2), D(0), D(0), D(30), D(101000)), NOW_MS)
    settings = gate_settings(srv.gate_url, srv.binance_url)
    snap = stage.paper_snapshot(settings, NOW_MS, state_path=state, deps=deps(vclock))
    assert snap.balances.spot_btc == D("0.5") and snap.positions.BTC_PERP_SHORT.size_contracts == 30
    assert snap.positions.BTC_PERP_LONG.entry_price_usdt is None
    assert snap.prices.perp_bid_usdt == D("99999.95") and snap.as_of_ms == NOW_MS


def test_many_gaps_are_summarised(srv: FakeServer, binance: FakeBinance, vclock: VirtualClock,
                                  tmp_path: Path) -> None:  # fmt: skip
    binance.gaps = [(START_MS + k * 10 * STEP, START_MS + (k * 10 + 1) * STEP) for k in range(1, 8)]
    result = stage.fetch_candles(candle_req(srv, tmp_path / "g.parquet", end_ms=START_MS + 100 * STEP),
                                 deps(vclock))  # fmt: skip
    assert len(result.warnings) == 6 and result.warnings[-1] == "... and 2 more gap(s)"


def test_listing_start_gives_an_empty_page_and_stops(srv: FakeServer, binance: FakeBinance,
                                                     vclock: VirtualClock, tmp_path: Path) -> None:  # fmt: skip
    binance.listed_from_ms = START_MS + 500 * STEP
    result = stage.fetch_candles(candle_req(srv, tmp_path / "l.parquet", end_ms=START_MS + 520 * STEP,
                                            start_ms=START_MS - 100 * STEP), deps(vclock))  # fmt: skip
    assert result.rows_total == 20 and result.first_ms == START_MS + 500 * STEP


def test_funding_head_range_and_no_closed_candle_for_p_ref(srv: FakeServer, binance: FakeBinance,
                                                           vclock: VirtualClock, tmp_path: Path) -> None:  # fmt: skip
    out = tmp_path / "f.parquet"
    settings = gate_settings(srv.gate_url, srv.binance_url)
    stage.fetch_funding(stage.FundingFetchRequest(source="binance", start_ms=START_MS, out=out,
                                                  settings=settings, now_ms=NOW_MS), deps(vclock))  # fmt: skip
    head = stage.fetch_funding(stage.FundingFetchRequest(
        source="binance", start_ms=START_MS - 3 * FUNDING_MS, out=out, settings=settings,
        now_ms=NOW_MS), deps(vclock))  # fmt: skip
    assert head.rows_added == 3
    binance.listed_from_ms = NOW_MS * 2
    with pytest.raises(ExchangeError, match="no closed spot candle"):
        stage.p_ref_from_binance(settings, deps(vclock), NOW_MS, "1m")


def test_paper_snapshot_warns_on_mismatched_or_missing_perp_candles(tmp_path: Path,
                                                                    caplog: pytest.LogCaptureFixture) -> None:  # fmt: skip
    from btcn.runtime.settings import Settings

    spot = tmp_path / "spot.parquet"
    perp = tmp_path / "perp.parquet"
    srv_free = Settings()
    table = {"open_time": pa.array([START_MS + i * STEP for i in range(5)], pa.int64()).cast(
        pa.timestamp("ms", tz="UTC"))}  # fmt: skip
    for name in ("open", "high", "low", "close", "volume"):
        table[name] = pa.array([100.0] * 5)
    pq.write_table(pa.table(table), spot)
    pq.write_table(pa.table({k: v[:4] for k, v in table.items()}), perp)
    snap = stage.paper_snapshot(srv_free, 0, candles=[str(spot)], perp=[str(perp)])
    assert "perp candles end at" in caplog.text and snap.prices.perp_mark_usdt == D(100)
    stage.paper_snapshot(srv_free, 0, candles=[str(spot)])
    assert "perp mark is taken as the spot close" in caplog.text
