"""``btcn fetch``: market data to Parquet, and account snapshots.

Candles and funding
    Paginated downloads into one Parquet file per series, in exactly the layout the readers expect
    (:func:`btcn.data.candles.load_candles`: ``open_time`` timestamp[ms, UTC] + ``open, high, low,
    close, volume``; :func:`btcn.data.funding.load_funding`: ``funding_time``, ``funding_rate``,
    ``mark_price``). Only closed bars are stored. A re-run fetches only what the file lacks (before
    its first row when ``--start`` is earlier, after its last row up to now). Every
    ``checkpoint_pages`` pages the merged series is rewritten atomically (temporary file, fsync,
    rename), so an interrupted fetch leaves the last complete checkpoint and never a partial file;
    the next run resumes from it. Rows are de-duplicated by time (the newest download wins, with a
    warning when values differ) and the series is checked for gaps, which are reported, never
    filled.

Snapshots
    ``gate``: balances, dual-mode positions, prices and trading rules from Gate (keys from the
    environment) and ``P_ref`` from the last closed Binance spot candle. ``paper``: the paper book
    from the state store (or the opening balances), priced from the public APIs or, offline, from
    the last closes of candle files.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Literal

import httpx

from btcn.contracts import (
    Balances,
    PerpPosition,
    PerpPositions,
    PerpSpec,
    Prices,
    Snapshot,
    SpotSpec,
)
from btcn.core.book import Book
from btcn.core.durations import parse_duration_ms
from btcn.core.money import dec
from btcn.data.timeparse import iso_utc
from btcn.errors import InvalidInputError, UsageError
from btcn.exchange import translate as tr
from btcn.exchange.binance import BinanceClient
from btcn.exchange.clock import Clock, SystemClock
from btcn.exchange.credentials import Credentials, gate_credentials
from btcn.exchange.gate import GateClient
from btcn.exchange.gate_unified import account_check
from btcn.exchange.http import Dialect
from btcn.exchange.retry import RetryPolicy
from btcn.runtime.boundary import read_parquet
from btcn.runtime.files import atomic_path
from btcn.runtime.settings import Settings
from btcn.runtime.state import StateStore

log = logging.getLogger("btcn.fetch")

CandleSource = Literal[
    "binance-spot", "binance-perp", "binance-mark", "gate-spot", "gate-perp", "gate-mark",
    "gate-index",
]  # fmt: skip
CANDLE_SOURCES: tuple[str, ...] = CandleSource.__args__  # type: ignore[attr-defined]
FundingSource = Dialect  # the venue a funding history comes from
FUNDING_SOURCES: tuple[str, ...] = ("binance", "gate")

BINANCE_INTERVALS = ("1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d")
GATE_INTERVALS = ("10s", "1m", "5m", "15m", "30m", "1h", "4h", "8h", "1d")
HOUR_MS = 3_600_000
FUNDING_JITTER_MS = 60_000

Progress = Callable[[int, int], None]


def interval_ms(interval: str) -> int:
    """A candle interval (``5m``, ``1h``, ``1d``) in milliseconds: the one duration parser."""
    try:
        return parse_duration_ms(interval)
    except ValueError:
        raise UsageError(f"unknown interval {interval!r}") from None


@dataclass
class FetchDeps:
    """Injected by tests: a clock (sleeps), an httpx transport, keys, the retry policy."""

    clock: Clock | None = None
    transport: httpx.BaseTransport | None = None
    credentials: Credentials | None = None
    retry: RetryPolicy | None = None

    def the_clock(self) -> Clock:
        return self.clock or SystemClock()


def _policy(deps: FetchDeps, retries: int) -> RetryPolicy:
    return deps.retry or RetryPolicy(max_attempts=retries + 1, clock=deps.the_clock())


def binance_client(settings: Settings, deps: FetchDeps) -> BinanceClient:
    b = settings.binance
    return BinanceClient(
        b.base_url, b.futures_base_url, timeout_s=b.timeout_s, clock=deps.the_clock(),
        retry=_policy(deps, b.max_retries), transport=deps.transport,
    )  # fmt: skip


def gate_client(settings: Settings, deps: FetchDeps, credentials: Credentials | None) -> GateClient:
    g = settings.gate
    return GateClient(
        g.base_url, credentials=credentials, settle=g.settle, timeout_s=g.timeout_s,
        clock=deps.the_clock(), retry=_policy(deps, g.max_retries), transport=deps.transport,
    )  # fmt: skip


# --- Parquet ------------------------------------------------------------------------------------
@dataclass
class Series:
    """Rows keyed by time (ms); values are tuples of floats (NaN-free) or None for a missing mark."""

    rows: dict[int, tuple[float | None, ...]] = field(default_factory=dict)
    replaced: int = 0

    def merge(self, new: dict[int, tuple[float | None, ...]]) -> None:
        for t, values in new.items():
            old = self.rows.get(t)
            if old is not None and old != values:
                self.replaced += 1
            self.rows[t] = values

    @property
    def times(self) -> list[int]:
        return sorted(self.rows)


CANDLE_COLUMNS = ("open", "high", "low", "close", "volume")


def _meta(kind: str, source: str, symbol: str, interval: str) -> dict[bytes, bytes]:
    return {
        b"kind": kind.encode(), b"source": source.encode(), b"symbol": symbol.encode(),
        b"interval": interval.encode(), b"written_by": b"btcn fetch",
    }  # fmt: skip


def _write_series(path: Path, kind: str, series: Series, meta: dict[bytes, bytes]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    times = series.times
    ts_type = pa.timestamp("ms", tz="UTC")
    if kind == "candles":
        cols = {"open_time": pa.array(times, type=pa.int64()).cast(ts_type)}
        for i, name in enumerate(CANDLE_COLUMNS):
            cols[name] = pa.array([series.rows[t][i] for t in times], type=pa.float64())
    else:
        cols = {
            "funding_time": pa.array(times, type=pa.int64()).cast(ts_type),
            "funding_rate": pa.array([series.rows[t][0] for t in times], type=pa.float64()),
            "mark_price": pa.array([series.rows[t][1] for t in times], type=pa.float64()),
        }
    table = pa.table(cols).replace_schema_metadata(meta)
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)


def _read_series(path: Path, kind: str, meta: dict[bytes, bytes]) -> Series:
    """The rows a previous fetch wrote; refuses a file of another kind, source or interval."""
    import pyarrow as pa

    try:
        table = read_parquet(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InvalidInputError(
            f"{path}: exists but is not a readable Parquet file ({type(exc).__name__})",
            hint="move it away or choose another --out",
        ) from None
    have = table.schema.metadata or {}
    for key in (b"kind", b"source", b"symbol", b"interval"):
        if key in have and have[key] != meta[key]:
            raise InvalidInputError(
                f"{path}: holds {key.decode()} {have[key].decode()!r}, not "
                f"{meta[key].decode()!r}; a file holds one series",
                hint="choose another --out",
            )
    tcol = "open_time" if kind == "candles" else "funding_time"
    wanted = CANDLE_COLUMNS if kind == "candles" else ("funding_rate", "mark_price")
    missing = [c for c in (tcol, *wanted) if c not in table.column_names]
    if missing:
        raise InvalidInputError(f"{path}: missing column(s) {', '.join(missing)}")
    times = table.column(tcol).cast(pa.timestamp("ms", tz="UTC")).cast(pa.int64()).to_pylist()
    values = list(
        zip(*(table.column(c).cast(pa.float64()).to_pylist() for c in wanted), strict=True)
    )
    series = Series()
    series.rows = dict(zip(times, values, strict=True))
    return series


def _clean_stale_temps(path: Path) -> None:
    for tmp in path.parent.glob(f".{path.name}.*.tmp"):
        tmp.unlink(missing_ok=True)


def _gaps(times: list[int], step_ms: int) -> list[tuple[int, int, int]]:
    """``(after, before, missing)`` for each hole in a sorted series on a ``step_ms`` grid."""
    out = []
    for a, b in itertools.pairwise(times):
        if b - a > step_ms:
            out.append((a, b, (b - a) // step_ms - 1))
    return out


@dataclass(frozen=True)
class FetchResult:
    kind: str
    path: str
    source: str
    rows_before: int
    rows_added: int
    rows_total: int
    first_ms: int | None
    last_ms: int | None
    pages: int
    warnings: tuple[str, ...]

    def as_dict(self) -> dict[str, object]:
        return {
            "kind": f"fetch_{self.kind}", "path": self.path, "source": self.source,
            "rows_before": self.rows_before, "rows_added": self.rows_added,
            "rows_total": self.rows_total,
            "first": iso_utc(self.first_ms) if self.first_ms is not None else None,
            "last": iso_utc(self.last_ms) if self.last_ms is not None else None,
            "pages": self.pages, "warnings": list(self.warnings),
        }  # fmt: skip


# --- candles ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CandleFetchRequest:
    source: str
    interval: str
    start_ms: int
    out: Path
    settings: Settings
    now_ms: int
    end_ms: int | None = None
    page_limit: int | None = None  # rows per request; default: the venue's maximum
    checkpoint_pages: int = 10


def _candle_pages(
    req: CandleFetchRequest, deps: FetchDeps, lo: int, hi: int
) -> Iterator[dict[int, tuple[float | None, ...]]]:
    """Closed bars with ``lo <= open < hi``, one dict per request."""
    step = interval_ms(req.interval)
    src = req.source
    if src.startswith("binance"):
        limit = req.page_limit or (1000 if src == "binance-spot" else 1500)
        symbol = req.settings.binance.symbol
        with binance_client(req.settings, deps) as client:
            cursor = lo
            while cursor < hi:
                if src == "binance-spot":
                    raw = client.spot_klines(symbol, req.interval, cursor, hi - 1, limit)
                else:
                    price = "mark" if src == "binance-mark" else "last"
                    raw = client.futures_klines(symbol, req.interval, cursor, hi - 1, limit,
                                                price=price)  # fmt: skip
                rows = [tr.binance_kline(r) for r in raw]
                page = {r.open_ms: tuple(r[1:]) for r in rows if lo <= r.open_ms < hi}
                yield page
                if not rows:
                    return
                cursor = max(r.open_ms for r in rows) + step
        return
    # Gate: explicit from/to windows (<= 1000 spot / 2000 futures points per query).
    per_query = req.page_limit or (1000 if src == "gate-spot" else 2000)
    g = req.settings.gate
    with gate_client(req.settings, deps, None) as client:
        mult = None
        if src == "gate-perp":
            mult = tr.to_dec(client.contract(g.contract).quanto_multiplier)
        cursor = lo
        while cursor < hi:
            last = min(hi - step, cursor + (per_query - 1) * step)
            if src == "gate-spot":
                raw_s = client.spot_candles(
                    g.currency_pair, req.interval, cursor // 1000, last // 1000
                )
                parsed = [tr.gate_spot_candle(r) for r in raw_s]
                rows = [r for r, closed in parsed if closed]
            else:
                name = {"gate-perp": "", "gate-mark": "mark_", "gate-index": "index_"}[src]
                raw_f = client.futures_candles(name + g.contract, req.interval, cursor // 1000,
                                               last // 1000)  # fmt: skip
                rows = [tr.gate_futures_candle(c, mult) for c in raw_f]
            yield {r.open_ms: tuple(r[1:]) for r in rows if lo <= r.open_ms < hi}
            cursor = last + step


def fetch_candles(
    req: CandleFetchRequest, deps: FetchDeps | None = None, progress: Progress | None = None
) -> FetchResult:
    deps = deps or FetchDeps()
    if req.source not in CANDLE_SOURCES:
        raise UsageError(
            f"unknown source {req.source!r}; choose one of {', '.join(CANDLE_SOURCES)}"
        )
    allowed = BINANCE_INTERVALS if req.source.startswith("binance") else GATE_INTERVALS
    if req.interval not in allowed:
        raise UsageError(
            f"{req.source} does not serve interval {req.interval!r}; use one of {', '.join(allowed)}"
        )
    step = interval_ms(req.interval)
    symbol = req.settings.binance.symbol if req.source.startswith("binance") else (
        req.settings.gate.currency_pair if req.source == "gate-spot" else req.settings.gate.contract
    )  # fmt: skip
    meta = _meta("candles", req.source, symbol, req.interval)
    start = -(-req.start_ms // step) * step
    end = req.now_ms // step * step  # bars opening before this instant have closed
    if req.end_ms is not None:  # --end is exclusive: bars that open before it
        end = min(end, -(-req.end_ms // step) * step)
    if end <= start:
        raise UsageError(
            f"nothing to fetch: the window {iso_utc(start)} .. {iso_utc(end)} holds no closed bar"
        )
    path = req.out
    _clean_stale_temps(path)
    series = _read_series(path, "candles", meta) if path.exists() else Series()
    before = len(series.rows)
    ranges = _missing_ranges(series.times, start, end, step)
    total = sum((b - a) // step for a, b in ranges)
    done = pages = 0
    since_checkpoint = 0
    if progress:
        progress(0, total)
    for lo, hi in ranges:
        for page in _candle_pages(req, deps, lo, hi):
            series.merge(page)
            pages += 1
            done = min(total, done + len(page))
            since_checkpoint += 1
            if progress:
                progress(done, total)
            if since_checkpoint >= req.checkpoint_pages:
                _write_series(path, "candles", series, meta)
                since_checkpoint = 0
    if (len(series.rows) != before or not path.exists() or since_checkpoint) and series.rows:
        _write_series(path, "candles", series, meta)
    return _result("candles", req.source, path, series, before, pages, step)


def _missing_ranges(times: list[int], start: int, end: int, step: int) -> list[tuple[int, int]]:
    if not times:
        return [(start, end)]
    out = []
    if start < times[0]:
        out.append((start, min(times[0], end)))
    if times[-1] + step < end:
        out.append((max(times[-1] + step, start), end))
    return out


def _result(kind: str, source: str, path: Path, series: Series, before: int, pages: int,
            step: int | None) -> FetchResult:  # fmt: skip
    times = series.times
    warnings: list[str] = []
    if series.replaced:
        warnings.append(
            f"{series.replaced} row(s) already in the file came back with different values; "
            "kept the new download"
        )
    if step is None and len(times) > 2:
        diffs = [b - a for a, b in itertools.pairwise(times)]
        step = max(set(diffs), key=diffs.count)
    if step is not None:
        gaps = _gaps(times, step)
        for a, b, n in gaps[:5]:
            warnings.append(f"gap of {n} missing row(s) between {iso_utc(a)} and {iso_utc(b)}")
        if len(gaps) > 5:
            warnings.append(f"... and {len(gaps) - 5} more gap(s)")
    return FetchResult(
        kind, str(path), source, before, len(times) - before, len(times),
        times[0] if times else None, times[-1] if times else None, pages, tuple(warnings),
    )  # fmt: skip


# --- funding ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FundingFetchRequest:
    source: str
    start_ms: int
    out: Path
    settings: Settings
    now_ms: int
    end_ms: int | None = None
    page_limit: int = 1000
    checkpoint_pages: int = 10


def _snap_funding(t: int) -> int:
    slot = (t + HOUR_MS // 2) // HOUR_MS * HOUR_MS
    return slot if abs(t - slot) <= FUNDING_JITTER_MS else t


def _funding_pages(
    req: FundingFetchRequest, deps: FetchDeps, lo: int, hi: int
) -> Iterator[dict[int, tuple[float | None, ...]]]:
    if req.source == "binance":
        with binance_client(req.settings, deps) as client:
            cursor = lo
            while cursor < hi:
                raw = client.funding_rates(
                    req.settings.binance.symbol, cursor, hi - 1, req.page_limit
                )
                rows = [tr.binance_funding(r) for r in raw]
                yield {_snap_funding(r.time_ms): (r.rate, r.mark_price) for r in rows
                       if lo <= r.time_ms < hi}  # fmt: skip
                if len(rows) < req.page_limit:
                    return
                cursor = max(r.time_ms for r in rows) + 1
        return
    window = req.page_limit * HOUR_MS  # <= page_limit records for any interval >= 1 h
    with gate_client(req.settings, deps, None) as client:
        cursor = lo
        while cursor < hi:
            last = min(hi - 1, cursor + window - 1)
            raw_g = client.funding_rate_history(
                req.settings.gate.contract, cursor // 1000, last // 1000, req.page_limit
            )
            rows = [tr.gate_funding(r) for r in raw_g]
            yield {r.time_ms: (r.rate, None) for r in rows if lo <= r.time_ms < hi}
            cursor = last + 1


def fetch_funding(
    req: FundingFetchRequest, deps: FetchDeps | None = None, progress: Progress | None = None
) -> FetchResult:
    deps = deps or FetchDeps()
    if req.source not in FUNDING_SOURCES:
        raise UsageError(f"unknown source {req.source!r}; choose binance or gate")
    symbol = req.settings.binance.symbol if req.source == "binance" else req.settings.gate.contract
    meta = _meta("funding", req.source, symbol, "funding")
    end = min(req.end_ms, req.now_ms) if req.end_ms is not None else req.now_ms
    if end <= req.start_ms:
        raise UsageError("nothing to fetch: --start is not before --end / now")
    path = req.out
    _clean_stale_temps(path)
    series = _read_series(path, "funding", meta) if path.exists() else Series()
    before = len(series.rows)
    times = series.times
    ranges: list[tuple[int, int]] = []
    if not times:
        ranges = [(req.start_ms, end)]
    else:
        if req.start_ms < times[0]:
            ranges.append((req.start_ms, times[0]))
        if times[-1] + 1 < end:
            ranges.append((max(times[-1] + 1, req.start_ms), end))
    total = sum(b - a for a, b in ranges)
    done = pages = since = 0
    if progress:
        progress(0, total)
    for lo, hi in ranges:
        for page in _funding_pages(req, deps, lo, hi):
            series.merge(page)
            pages += 1
            since += 1
            reached = max(page) if page else hi
            done = min(total, done + max(0, reached - lo)) if page else done
            if progress:
                progress(done, total)
            if since >= req.checkpoint_pages:
                _write_series(path, "funding", series, meta)
                since = 0
        if progress:
            progress(total, total)
    if series.rows and (len(series.rows) != before or since or not path.exists()):
        _write_series(path, "funding", series, meta)
    return _result("funding", req.source, path, series, before, pages, None)


# --- snapshots ----------------------------------------------------------------------------------
def p_ref_from_binance(settings: Settings, deps: FetchDeps, now_ms: int, interval: str
                       ) -> tuple[Decimal, int]:  # fmt: skip
    """Close and close time of the last **closed** Binance spot candle."""
    step = interval_ms(interval)
    with binance_client(settings, deps) as client:
        raw = client.spot_klines(settings.binance.symbol, interval, end_ms=now_ms, limit=3)
    closed = [r for r in raw if int(r[0]) + step <= now_ms]
    if not closed:
        from btcn.errors import ExchangeError

        raise ExchangeError("binance: no closed spot candle returned for P_ref")
    last = max(closed, key=lambda r: int(r[0]))
    return Decimal(str(last[4])), int(last[0]) + step


def gate_snapshot(settings: Settings, now_ms: int, deps: FetchDeps | None = None,
                  ref_interval: str = "1m") -> Snapshot:  # fmt: skip
    deps = deps or FetchDeps()
    creds = deps.credentials or gate_credentials()
    g = settings.gate
    p_ref, p_ref_ms = p_ref_from_binance(settings, deps, now_ms, ref_interval)
    with gate_client(settings, deps, creds) as client:
        client.sync_clock()
        unified = account_check(client, settings.account.mode)
        pair = client.currency_pair(g.currency_pair)
        contract = client.contract(g.contract)
        fut = client.futures_account()
        positions = (
            client.dual_positions(g.contract) if tr.is_dual_mode(fut) else client.positions()
        )
        if not tr.is_dual_mode(fut):
            log.warning("the futures account is in single-position mode; btcn needs dual (hedge) "
                        "mode to execute")  # fmt: skip
        return tr.gate_snapshot(
            as_of_ms=now_ms, pair=pair, contract=contract, spot_accounts=client.spot_accounts(),
            futures_account=fut, positions=positions, spot_ticker=client.spot_ticker(g.currency_pair),
            futures_ticker=client.futures_ticker(g.contract), p_ref_usdt=p_ref,
            p_ref_as_of_ms=p_ref_ms, unified=unified,
        )  # fmt: skip


def _paper_book(settings: Settings, state_path: Path | None) -> Book:
    from btcn.stages.execute import initial_paper_book

    path = state_path or Path(settings.state.path)
    if path.exists():
        with StateStore(path, read_only=True) as store:
            book = store.paper_book()
            if book is not None:
                return book
    return initial_paper_book(settings)


def _last_close(files: list[str], what: str) -> tuple[Decimal, int]:
    from btcn.data.candles import load_candles

    bars = load_candles(files, gaps="warn", what=what)
    for warning in bars.warnings:
        log.warning("%s", warning)
    return dec(float(bars.close[-1])), bars.last_close_ms


def paper_snapshot(
    settings: Settings, now_ms: int, *, state_path: Path | None = None,
    candles: list[str] | None = None, perp: list[str] | None = None,
    deps: FetchDeps | None = None, ref_interval: str = "1m",
) -> Snapshot:  # fmt: skip
    """The paper account priced offline (candle files) or from the public APIs (no keys)."""
    deps = deps or FetchDeps()
    book = _paper_book(settings, state_path)
    if perp and not candles:
        raise UsageError("--perp needs --candles (the spot candles give P_ref)")
    spot_spec, perp_spec = SpotSpec(), PerpSpec()
    if candles:
        spot_close, as_of = _last_close(candles, "candles")
        perp_close = spot_close
        if perp:
            perp_close, perp_as_of = _last_close(perp, "perp candles")
            if perp_as_of != as_of:
                log.warning("perp candles end at %s, spot candles at %s", iso_utc(perp_as_of),
                            iso_utc(as_of))  # fmt: skip
        else:
            log.warning("no --perp candles: the perp mark is taken as the spot close")
        prices = Prices(spot_last_usdt=spot_close, perp_mark_usdt=perp_close,
                        perp_last_usdt=perp_close)  # fmt: skip
        p_ref, p_ref_ms = spot_close, as_of
    else:
        g = settings.gate
        p_ref, p_ref_ms = p_ref_from_binance(settings, deps, now_ms, ref_interval)
        with gate_client(settings, deps, None) as client:
            prices = tr.prices(
                client.spot_ticker(g.currency_pair), client.futures_ticker(g.contract)
            )
            spot_spec = tr.spot_spec(client.currency_pair(g.currency_pair))
            perp_spec = tr.perp_spec(client.contract(g.contract))
        as_of = now_ms
    return Snapshot(
        as_of_ms=as_of, venue="paper", p_ref_usdt=p_ref, p_ref_as_of_ms=p_ref_ms, prices=prices,
        balances=Balances(spot_usdt=book.spot_usdt, spot_btc=book.spot_btc,
                          futures_usdt=book.futures_usdt),
        positions=PerpPositions(
            BTC_PERP_LONG=PerpPosition(size_contracts=book.long_contracts,
                                       entry_price_usdt=book.long_entry_usdt or None),
            BTC_PERP_SHORT=PerpPosition(size_contracts=book.short_contracts,
                                        entry_price_usdt=book.short_entry_usdt or None),
        ),
        spot_spec=spot_spec, perp_spec=perp_spec,
    )  # fmt: skip
