"""The unified account on the (fake) venue: mode check, snapshot version 3, orders on the unified
balance, transfers and margin refusals, faults on the new endpoints."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import SecretStr

from btcn.contracts import Action, Leg, PlannedTransfer, Snapshot, dump_json, parse_artifact
from btcn.core.unified import DiscountTier, MarginRules, UnifiedBook, account_margin
from btcn.errors import ExchangeError, ExitCode, InvalidInputError
from btcn.exchange.credentials import Credentials
from btcn.exchange.gate_unified import parse_discount_tiers
from btcn.exchange.live import LiveDeps, execute_live
from btcn.exchange.retry import RetryPolicy
from btcn.runtime.settings import AccountSettings, Settings
from btcn.stages import fetch as stage
from btcn.stages.execute import ExecuteRequest, plan_digest
from tests.fakes import FakeBinance, FakeGate, FakeServer
from tests.fakes.gate_fake import ApiError
from tests.helpers import KEY, SECRET, VirtualClock, gate_settings, make_plan, order

D = Decimal
NOW_MS = 1_736_000_000_000
CREDS = Credentials(SecretStr(KEY), SecretStr(SECRET))


def unified_gate(clock) -> FakeGate:  # type: ignore[no-untyped-def]
    g = FakeGate(KEY, SECRET, spot_usdt="10000", spot_btc="1.5", futures_usdt="0", clock=clock)
    g.unified_mode = "multi_currency"
    g.pos["short"] = [D(15000), D(100000)]
    return g


@pytest.fixture
def usrv(vclock: VirtualClock) -> Iterator[FakeServer]:
    gate = unified_gate(lambda: NOW_MS / 1000)
    with FakeServer(gate, FakeBinance(now=lambda: NOW_MS / 1000)) as server:
        yield server


def settings_for(srv: FakeServer, mode: str) -> Settings:
    base = gate_settings(srv.gate_url, srv.binance_url)
    return base.model_copy(update={"account": AccountSettings(mode=mode)})  # type: ignore[arg-type]


def deps(clock: VirtualClock) -> stage.FetchDeps:
    return stage.FetchDeps(clock=clock, retry=RetryPolicy(max_attempts=3, clock=clock),
                           credentials=CREDS)  # fmt: skip


def test_unified_snapshot_is_version_3_and_matches_the_rule(
    usrv: FakeServer, vclock: VirtualClock
) -> None:
    snap = stage.gate_snapshot(settings_for(usrv, "unified"), NOW_MS, deps(vclock))
    assert snap.schema_version == 3 and snap.unified is not None
    u = snap.unified
    assert u.mode == "multi_currency" and not u.has_loan
    # no futures wallet: the futures account's figures are not added to the unified balance
    assert snap.balances.futures_usdt == 0 and snap.balances.spot_usdt == D(10000)
    assert snap.balances.spot_btc == D("1.5")
    assert [(b.lower, b.discount) for b in u.btc_discount_tiers][:2] == [
        (D(0), D("0.98")), (D(1000), D("0.95"))
    ]  # fmt: skip
    # Gate's (the fake's) account figures equal btcn's rule on the snapshot
    rules = MarginRules(
        maintenance_rate=snap.perp_spec.maintenance_rate, leverage=D(10),
        btc_tiers=tuple(DiscountTier(b.lower, b.discount) for b in u.btc_discount_tiers),
    )  # fmt: skip
    book = UnifiedBook(usdt_balance=snap.balances.spot_usdt, btc_balance=snap.balances.spot_btc,
                       short_btc=D("1.5"), short_entry_usdt=D(100000))  # fmt: skip
    m = account_margin(book, snap.prices.perp_mark_usdt, rules)
    assert m.margin_balance_usdt == u.total_margin_balance_usdt == D(157000)
    assert m.maintenance_margin_usdt == u.total_maintenance_margin_usdt
    assert m.initial_margin_usdt == u.total_initial_margin_usdt
    # the document round-trips, and a version 2 reader path still reads old snapshots
    again = parse_artifact(dump_json(snap), Snapshot)
    assert again == snap


def test_a_classic_snapshot_stays_version_2(srv_classic: FakeServer, vclock: VirtualClock) -> None:
    snap = stage.gate_snapshot(settings_for(srv_classic, "classic"), NOW_MS, deps(vclock))
    assert snap.schema_version == 2 and snap.unified is None
    assert '"unified"' not in dump_json(snap)  # written exactly as version 2 was
    text = dump_json(snap).replace('"schema_version": 2', '"schema_version": 3')
    with pytest.raises(InvalidInputError, match="exactly when its schema_version is 3"):
        parse_artifact(text, Snapshot)


@pytest.fixture
def srv_classic(vclock: VirtualClock) -> Iterator[FakeServer]:
    gate = FakeGate(KEY, SECRET, clock=lambda: NOW_MS / 1000)
    with FakeServer(gate, FakeBinance(now=lambda: NOW_MS / 1000)) as server:
        yield server


@pytest.mark.parametrize(
    ("venue_mode", "configured", "needle"),
    [
        ("portfolio", "unified", "one-way positions only"),
        ("single_currency", "unified", "does not count spot BTC"),
        ("multi_currency", "classic", "'multi_currency' mode but btcn is configured for"),
        ("classic", "unified", "'classic' mode but btcn is configured for [account] mode = 'unif"),
        ("portfolio", "classic", "'portfolio'"),
    ],
)
def test_a_mode_btcn_is_not_configured_for_is_refused(
    usrv: FakeServer, vclock: VirtualClock, venue_mode: str, configured: str, needle: str
) -> None:
    usrv.gate.unified_mode = venue_mode
    with pytest.raises(ExchangeError) as err:
        stage.gate_snapshot(settings_for(usrv, configured), NOW_MS, deps(vclock))
    assert err.value.exit_code == ExitCode.EXCHANGE
    assert needle in str(err.value) and "\n" not in str(err.value)
    assert "nothing was sent" in str(err.value)
    assert not [r for r in usrv.gate.requests if r[0] != "GET"]


def test_classic_key_without_unified_permission_still_reads(
    srv_classic: FakeServer, vclock: VirtualClock, caplog: pytest.LogCaptureFixture
) -> None:
    srv_classic.gate.add_fault(method="GET", path="/unified/unified_mode", kind="status",
                               status=403, label="FORBIDDEN")  # fmt: skip
    snap = stage.gate_snapshot(settings_for(srv_classic, "classic"), NOW_MS, deps(vclock))
    assert snap.schema_version == 2 and "assuming a classic account" in caplog.text


def test_unified_reads_survive_transient_faults(usrv: FakeServer, vclock: VirtualClock) -> None:
    for path in ("/unified/unified_mode", "/unified/accounts", "/unified/currency_discount_tiers"):
        usrv.gate.add_fault(method="GET", path=path, kind="status", status=502, label="BAD_GW")
    snap = stage.gate_snapshot(settings_for(usrv, "unified"), NOW_MS, deps(vclock))
    assert snap.unified is not None and snap.unified.total_margin_balance_usdt == D(157000)
    u_reads = [r for r in usrv.gate.requests if r[1].startswith("/unified/")]
    assert len(u_reads) == 6  # each read once refused, once answered


def test_a_loan_on_the_account_is_visible(usrv: FakeServer, vclock: VirtualClock) -> None:
    usrv.gate.borrowed["USDT"] = D(500)
    snap = stage.gate_snapshot(settings_for(usrv, "unified"), NOW_MS, deps(vclock))
    assert snap.unified is not None and snap.unified.has_loan
    assert snap.unified.balances["USDT"].borrowed == D(500)


def test_discount_tiers_nested_and_flat_read_alike() -> None:
    rows = [{"currency": "BTC", "discount_tiers": [
        {"tier": "1", "discount": "0.98", "lower_limit": "0", "upper_limit": "1000"}]}]  # fmt: skip
    assert parse_discount_tiers([rows]) == parse_discount_tiers(rows)
    assert parse_discount_tiers(rows)[0].discount_tiers[0].discount == "0.98"


# --- the fake venue's unified rules ---------------------------------------------------------------
def test_fake_refuses_transfers_and_spot_orders_on_the_wrong_account(vclock: VirtualClock) -> None:
    g = unified_gate(vclock.now_s)
    body = {"currency": "USDT", "from": "spot", "to": "futures", "amount": "1"}
    with pytest.raises(ApiError) as err:
        g._transfer(body)
    assert err.value.status == 400 and "unified account" in err.value.message
    with pytest.raises(ApiError) as err:
        g.check_spot_account("spot")
    assert "account spot on a unified account" in err.value.message
    g.check_spot_account("unified")
    g.check_spot_account(None)  # the venue's default is the account's own
    g.unified_mode = "classic"
    with pytest.raises(ApiError):
        g.check_spot_account("unified")
    assert g._transfer(body).status == 200  # classic: transfers still work


def test_fake_margin_refusal_follows_the_margin_balance(vclock: VirtualClock) -> None:
    g = unified_gate(vclock.now_s)
    mb = g._u_margin_balance()
    assert mb == D(157000)
    # initial margin of the short (15,000 at leverage 10) plus a new order's must stay within mb
    assert g.unified_margin_check((mb - D(15000)) * g.leverage - 1)
    assert not g.unified_margin_check((mb - D(15000)) * g.leverage + 1)


# --- execute --live on a unified account ----------------------------------------------------------
def _run(srv: FakeServer, clock: VirtualClock, state: Path, plan, mode: str):  # type: ignore[no-untyped-def]
    settings = settings_for(srv, mode)
    req = ExecuteRequest(plan, settings, clock.now_ms(), live=True, state_path=state)
    return execute_live(req, plan_digest(plan), LiveDeps(clock=clock, credentials=CREDS))


@pytest.fixture
def lsrv(vclock: VirtualClock) -> Iterator[FakeServer]:
    gate = unified_gate(vclock.now_s)
    with FakeServer(gate) as server:
        yield server


def test_live_unified_orders_name_the_account_and_never_transfer(
    lsrv: FakeServer, vclock: VirtualClock, tmp_path: Path
) -> None:
    plan = make_plan(
        [order(Leg.BTC_SPOT, Action.BUY, "0.05", "99999.9"),
         order(Leg.BTC_PERP_SHORT, Action.OPEN_SHORT, "500", "100000.1")],
        as_of_ms=vclock.now_ms(), spot_btc="1.5", short_contracts="15000",
    )  # fmt: skip
    report = _run(lsrv, vclock, tmp_path / "s.db", plan, "unified")
    assert report.status == "completed"
    g = lsrv.gate
    spot_orders = [o for o in g.orders.values() if o.market == "spot"]
    assert spot_orders and all(o.filled > 0 for o in spot_orders)
    assert not [r for r in g.requests if r[1] == "/wallet/transfers"]
    assert ("GET", "/unified/unified_mode", "") in g.requests
    assert g.pos["short"][0] == 15500 and g.spot["BTC"][0] > D("1.54")
    assert g.fut_total == 0  # fees settled into the one USDT balance


def test_live_unified_refuses_a_plan_with_transfers(
    lsrv: FakeServer, vclock: VirtualClock, tmp_path: Path
) -> None:
    t = PlannedTransfer(from_="spot", to="futures", amount_usdt=D(100), when="before_orders",
                        reason="margin")  # fmt: skip
    plan = make_plan([order(Leg.BTC_SPOT, Action.BUY, "0.05", "99999.9")],
                     as_of_ms=vclock.now_ms(), spot_btc="1.5", short_contracts="15000",
                     transfers=[t])  # fmt: skip
    with pytest.raises(InvalidInputError, match="wallet transfer"):
        _run(lsrv, vclock, tmp_path / "s.db", plan, "unified")
    assert not [r for r in lsrv.gate.requests if r[0] != "GET"]


def test_live_refuses_a_unified_account_configured_classic(
    lsrv: FakeServer, vclock: VirtualClock, tmp_path: Path
) -> None:
    plan = make_plan([order(Leg.BTC_SPOT, Action.BUY, "0.05", "99999.9")],
                     as_of_ms=vclock.now_ms())  # fmt: skip
    with pytest.raises(ExchangeError, match="'multi_currency' mode") as err:
        _run(lsrv, vclock, tmp_path / "s.db", plan, "classic")
    assert err.value.exit_code == 6
    assert not [r for r in lsrv.gate.requests if r[0] != "GET"]


def test_weights_show_the_account_liquidation_on_a_unified_snapshot(
    usrv: FakeServer, vclock: VirtualClock
) -> None:
    from btcn.stages.liquidation import book_figures, liquidation_infos

    settings = settings_for(usrv, "unified")
    snap = stage.gate_snapshot(settings, NOW_MS, deps(vclock))
    infos = liquidation_infos(snap, settings)
    short = infos[1]
    # 10,000 USDT, 1.5 BTC spot, 1.5 BTC short at 100,000: MB - MM = 160,000 - 0.036 * P
    assert (
        short.liq_price_usdt is not None and abs(short.liq_price_usdt - D(160000) / D("0.036")) < 1
    )
    assert infos[0].liq_price_usdt is None  # no long
    price, dist, _ = book_figures(infos)
    assert abs(dist - float(D(160000) / D("0.036") / D(100000) - 1)) < 1e-9
    assert price == float(short.liq_price_usdt)
