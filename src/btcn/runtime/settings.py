"""The one settings model: ``btcn.toml`` plus ``BTCN_<SECTION>__<KEY>`` environment variables.

Precedence (highest first): environment variables, the TOML file, built-in defaults. The file is
found at ``--config PATH``, else ``$BTCN_CONFIG``, else ``./btcn.toml`` if it exists. Unknown keys
and invalid values are errors that name the key. Core functions never see this object: stages
translate it into explicit parameters.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    ValidationError,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)

from btcn.contracts.enums import AccountMode, MarginMode
from btcn.contracts.plan import RebalanceMode
from btcn.core.durations import Duration
from btcn.core.intents import (
    ATR_WINDOW,
    COOLDOWN,
    DEFAULT_TARGETS,
    MAX_DATA_AGE,
    SIGNAL_MAX_AGE,
    PlannerParams,
)
from btcn.core.treasury import TreasuryParams
from btcn.core.unified import DiscountTier, check_tiers, hedge_weight
from btcn.errors import ConfigError
from btcn.runtime.boundary import env_error_line, parse_toml, read_text_file

log = logging.getLogger("btcn.settings")

CONFIG_ENV = "BTCN_CONFIG"
DEFAULT_CONFIG_FILE = "btcn.toml"


def _duration(value: Any) -> Duration:
    return value if isinstance(value, Duration) else Duration(value)


def _positive_duration(value: Any) -> Duration:
    return Duration.positive(value)


# A duration key holds a Duration (parsed once into ``.ms``) and is written back as its text.
_AS_TEXT = (PlainSerializer(str, return_type=str), WithJsonSchema({"type": "string"}))
DurationKey = Annotated[Duration, PlainValidator(_duration), *_AS_TEXT]
PositiveDurationKey = Annotated[Duration, PlainValidator(_positive_duration), *_AS_TEXT]
Fraction = Annotated[float, Field(ge=0, le=1)]


def _core_default(params: type, name: str) -> Any:
    """The default of a core parameter (a float where the core keeps a Decimal): the settings'
    defaults are the core's, written once in :class:`PlannerParams` / :class:`TreasuryParams`."""
    default = {f.name: f.default for f in dataclasses.fields(params)}[name]
    if default is dataclasses.MISSING:
        raise TypeError(f"{params.__name__}.{name} has no default")
    return float(default) if isinstance(default, Decimal) else default


def _planner(name: str) -> Any:
    return _core_default(PlannerParams, name)


def _treasury(name: str) -> Any:
    return _core_default(TreasuryParams, name)


class Section(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, validate_default=True, allow_inf_nan=False
    )


class StrategySettings(Section):
    targets: dict[str, Fraction] = Field(
        default_factory=lambda: dict(
            zip(("BTC_SPOT", "BTC_PERP_LONG", "BTC_PERP_SHORT"), DEFAULT_TARGETS, strict=True)
        )
    )
    threshold_floor: Fraction = _planner("threshold_floor")
    atr_multiplier: Annotated[float, Field(ge=0)] = _planner("atr_multiplier")
    atr_window: PositiveDurationKey = ATR_WINDOW
    atr_periods: Annotated[int, Field(ge=1, le=1000)] = _planner("atr_periods")
    cooldown: DurationKey = COOLDOWN
    apply_signal_logic: bool = _planner("apply_signal_logic")
    signal_max_age: DurationKey = SIGNAL_MAX_AGE
    # "book": one decision for the whole book, perp legs sized from the planned spot quantity;
    # "per_leg": every leg thresholded and sized on its own (btcn 0.1, kept for comparison).
    rebalance: RebalanceMode = _planner("rebalance")
    # |net delta| * P_ref / NAV above which a book rebalance fires even with no weight drift
    # (book mode only). 0.2 %: 20 contracts at 100k NAV, well below the 0.5 % threshold floor.
    max_delta_drift: Annotated[float, Field(gt=0, le=1)] = _planner("max_delta_drift")

    @field_validator("targets")
    @classmethod
    def _legs(cls, value: dict[str, float]) -> dict[str, float]:
        legs = ("BTC_SPOT", "BTC_PERP_LONG", "BTC_PERP_SHORT")
        unknown = sorted(set(value) - set(legs))
        if unknown:
            raise ValueError(f"unknown leg(s) {', '.join(unknown)}; legs are {', '.join(legs)}")
        full = {leg: float(value.get(leg, 0.0)) for leg in legs}
        if full["BTC_SPOT"] + full["BTC_PERP_LONG"] > 1.0 + 1e-12:
            raise ValueError("BTC_SPOT + BTC_PERP_LONG targets exceed 1.0 of NAV")
        return full

    @property
    def atr_window_ms(self) -> int:
        return self.atr_window.ms

    @property
    def cooldown_ms(self) -> int:
        return self.cooldown.ms

    @property
    def signal_max_age_ms(self) -> int:
        return self.signal_max_age.ms


class FeeSettings(Section):
    """Fee rates as fractions of notional (Gate VIP0 defaults)."""

    spot_maker: Annotated[float, Field(ge=-0.01, le=0.01)] = _planner("spot_maker_fee")
    spot_taker: Annotated[float, Field(ge=0, le=0.01)] = _planner("spot_taker_fee")
    perp_maker: Annotated[float, Field(ge=-0.01, le=0.01)] = _planner("perp_maker_fee")
    perp_taker: Annotated[float, Field(ge=0, le=0.01)] = _planner("perp_taker_fee")


class GuardrailSettings(Section):
    """Safe-mode limits. A tripped limit empties the plan (or keeps risk-reducing orders only)."""

    max_data_age: DurationKey = MAX_DATA_AGE
    max_price_deviation: Annotated[float, Field(gt=0)] = _planner("max_price_deviation")
    max_order_notional_usdt: Annotated[float, Field(gt=0)] = _planner("max_order_notional_usdt")
    max_net_delta: Annotated[float, Field(gt=0)] = _planner("max_net_delta")

    @property
    def max_data_age_ms(self) -> int:
        return self.max_data_age.ms


class RiskSettings(Section):
    """Collateral of the perp book: one treasury shared by plan, backtest and execute.

    The futures wallet's target equity is the planned perp book's initial margin
    (``notional / leverage``) times ``1 + margin_buffer``, and at least what keeps the
    liquidation price ``min_liquidation_distance`` away from the mark. Below
    ``target * (1 - transfer_band)`` (or below the liquidation guard) the plan tops it up before
    its orders; above ``target * (1 + transfer_band)`` it sweeps the excess back to spot."""

    # perp margin used = notional / leverage (plan, backtest, execute; PnL does not depend on it)
    leverage: Annotated[float, Field(gt=0, le=125)] = _treasury("leverage")
    margin_buffer: Annotated[float, Field(ge=0, le=10)] = _treasury("margin_buffer")
    min_liquidation_distance: Annotated[float, Field(gt=0, le=10)] = _treasury(
        "min_liquidation_distance"
    )
    transfer_band: Annotated[float, Field(ge=0, lt=1)] = _treasury("transfer_band")
    margin_mode: MarginMode = "cross"
    # realise locked short profit (close and re-open part of the short) when spot USDT plus
    # transferable futures cash cannot pay for the planned spot buy
    realise_locked_profit: bool = _planner("realise_locked_profit")
    # Unified account only ([account] mode = "unified"; manual "Running on a unified account"):
    # USDT kept aside for funding and fees, as a fraction of NAV;
    usdt_reserve: Annotated[float, Field(ge=0, le=0.5)] = 0.01
    # the plan refuses orders that take IMR (margin balance / initial margin) below this ratio
    min_initial_margin_ratio: Annotated[float, Field(ge=1, le=100)] = 1.5
    # ... or the account liquidation price closer than this fraction of the price
    min_account_liquidation_distance: Annotated[float, Field(gt=0, le=100)] = 0.5


def _check_tiers(value: list[tuple[float, float]]) -> list[tuple[float, float]]:
    # one rule for the schedule: core.unified.check_tiers
    tiers = check_tiers([DiscountTier(Decimal(repr(lo)), Decimal(repr(d))) for lo, d in value])
    return [(float(t.lower), float(t.discount)) for t in tiers]


class AccountSettings(Section):
    """Which Gate account btcn runs on (manual: "Running on a unified account").

    ``classic``: split spot and futures wallets, USDT moved between them by transfers.
    ``unified``: Gate's unified account in multi-currency margin mode, spot BTC collateral of the
    short, no transfers, no borrowing. Switching the Gate account is the user's act, never btcn's;
    ``execute --live`` refuses an account whose mode differs from this one.

    ``btc_discount_tiers`` (``[lower_btc, discount]`` bands, band by band) values spot BTC as
    collateral where the venue does not say: backtests and paper. The default is the documented
    example of Gate's API docs, not Gate's live schedule (live runs read the venue's)."""

    mode: AccountMode = "classic"
    btc_discount_tiers: Annotated[
        list[tuple[Annotated[float, Field(ge=0)], Fraction]], AfterValidator(_check_tiers)
    ] = Field(
        default_factory=lambda: [(0.0, 0.98), (1000.0, 0.95), (10000.0, 0.9), (50000.0, 0.85)]
    )


class ExecutionSettings(Section):
    """How ``btcn execute`` works orders (paper venue and, later, live)."""

    post_only_window: DurationKey = Duration("5s")
    slippage: Annotated[float, Field(ge=0, le=0.05)] = _planner("slippage")
    paper_maker_fill_fraction: Fraction = 0.5

    @property
    def post_only_window_ms(self) -> int:
        return self.post_only_window.ms


# The largest balance a setting may give (a million million USDT): far above any real book, and
# far enough below Decimal's limits that no ledger arithmetic on it can fail.
MAX_BALANCE = 1e12


class PaperSettings(Section):
    """Opening balances of the paper account, used the first time the state store is created."""

    spot_usdt: Annotated[float, Field(ge=0, le=MAX_BALANCE)] = 50_000.0
    spot_btc: Annotated[float, Field(ge=0, le=MAX_BALANCE)] = 0.0
    futures_usdt: Annotated[float, Field(ge=0, le=MAX_BALANCE)] = 50_000.0


class StateSettings(Section):
    path: str = "btcn-state.db"


class BacktestSettings(Section):
    """The backtest's own numbers. ``leverage`` moved to ``[risk]`` and ``post_only_window`` is
    gone (the PostOnly phase is always the next bar): both old keys are still read, with a
    warning (see :data:`OLD_KEYS`)."""

    initial_nav_usdt: Annotated[float, Field(gt=0, le=MAX_BALANCE)] = 100_000.0
    slippage: Annotated[float, Field(ge=0, le=0.05)] = _planner("slippage")
    maintenance_margin_rate: Annotated[float, Field(ge=0, lt=1)] = 0.004
    # unified account: yearly interest charged on a negative USDT balance (a liability on Gate)
    negative_usdt_interest_apr: Annotated[float, Field(ge=0, le=10)] = 0.20


class GateSettings(Section):
    """Gate APIv4 access and live execution (``btcn execute --live``, ``btcn fetch``)."""

    base_url: str = "https://api.gateio.ws/api/v4"
    currency_pair: str = "BTC_USDT"
    contract: str = "BTC_USDT"
    settle: str = "usdt"
    timeout: PositiveDurationKey = "10s"  # per HTTP request
    max_retries: Annotated[int, Field(ge=0, le=10)] = 4  # extra attempts of an idempotent call
    request_expiry: PositiveDurationKey = (
        "10s"  # x-gate-exptime: Gate refuses an order request after this
    )
    spot_ioc_slippage: Annotated[float, Field(ge=0, le=0.05)] = 0.002  # spot remainder price cap
    reconcile_tolerance_btc: Annotated[float, Field(ge=0, le=0.01)] = 0.00001
    max_plan_age: DurationKey = "10m"  # refuse to start a live plan older than this

    @property
    def timeout_s(self) -> float:
        return self.timeout.seconds

    @property
    def request_expiry_ms(self) -> int:
        return self.request_expiry.ms

    @property
    def max_plan_age_ms(self) -> int:
        return self.max_plan_age.ms


class BinanceSettings(Section):
    base_url: str = "https://api.binance.com"
    futures_base_url: str = "https://fapi.binance.com"
    symbol: str = "BTCUSDT"
    timeout: PositiveDurationKey = "10s"
    max_retries: Annotated[int, Field(ge=0, le=10)] = 4

    @property
    def timeout_s(self) -> float:
        return self.timeout.seconds


class TelegramSettings(Section):
    """Telegram Bot API alerts. Disabled while ``chat_id`` is empty; the bot token is a secret."""

    base_url: str = "https://api.telegram.org"
    chat_id: str = ""
    token_secret: str = "TELEGRAM_BOT_TOKEN"  # name passed to get_secret(), never the token
    timeout: PositiveDurationKey = "10s"

    @property
    def enabled(self) -> bool:
        return bool(self.chat_id)

    @property
    def timeout_ms(self) -> int:
        return self.timeout.ms


class InfluxSettings(Section):
    """InfluxDB over its HTTP line protocol: ``v1`` = ``/write``, ``v2`` = ``/api/v2/write``."""

    url: str = "http://127.0.0.1:8086"
    api: Literal["v1", "v2"] = "v1"
    database: str = "btcn"  # v1
    retention_policy: str = ""  # v1, empty = the database's default
    username: str = ""  # v1 basic auth user; its password is the secret named below
    org: str = ""  # v2
    bucket: str = "btcn"  # v2
    token_secret: str = "INFLUX_TOKEN"  # v2 token or v1 password; optional for v1
    measurement: str = "btcn"
    batch_size: Annotated[int, Field(ge=1, le=100_000)] = 5000
    retries: Annotated[int, Field(ge=0, le=10)] = 3
    timeout: PositiveDurationKey = "10s"

    @property
    def timeout_ms(self) -> int:
        return self.timeout.ms


class AlertSettings(Section):
    """Alert thresholds and de-duplication (state kept in the state store between cron runs)."""

    funding_bps_8h: Annotated[float, Field(gt=0)] = 5.0  # |funding rate| per 8 h, in bps
    margin_used_pct_nav: Annotated[float, Field(gt=0, le=10)] = 0.70  # fraction of NAV
    # alert when a perp side's liquidation distance (fraction of the mark) falls below this
    liquidation_distance_below: Annotated[float, Field(gt=0, le=10)] = 0.25
    cooldown: DurationKey = "6h"  # a condition still active is re-sent at most once per cooldown
    send_recovery: bool = True

    @property
    def cooldown_ms(self) -> int:
        return self.cooldown.ms


class WatchdogSettings(Section):
    """Resource limits of a long command (CPU as % of one core, resident memory)."""

    enabled: bool = True
    max_cpu_pct: Annotated[float, Field(gt=0, le=100 * 64)] = 50.0
    max_rss_mb: Annotated[float, Field(gt=0)] = 2048.0
    check_interval: PositiveDurationKey = "500ms"
    grace: DurationKey = "10s"  # CPU throttling starts only after a command has run this long

    @property
    def check_interval_ms(self) -> int:
        return self.check_interval.ms

    @property
    def grace_ms(self) -> int:
        return self.grace.ms


class AuditSettings(Section):
    """``btcn audit``: targets file (empty = the roadmap defaults), drift tolerance, workbook."""

    targets: str = ""
    tolerance: Annotated[float, Field(gt=0, le=10)] = 0.05
    log_path: str = "Log.xlsx"


class SweepSettings(Section):
    """``btcn sweep``: where the points run and how often results are saved for a resume."""

    workers: Annotated[int, Field(ge=0, le=4096)] = 0  # local processes; 0 = every core
    scheduler: str = ""  # tcp://HOST:PORT of a Dask scheduler; empty = local processes
    metric: str = "sharpe"  # KPI that ranks points and picks the walk-forward winner
    batch: Annotated[int, Field(ge=0, le=100_000)] = 0  # points per task; 0 = automatic
    flush_interval: PositiveDurationKey = (
        "2s"  # sweep.parquet is rewritten (atomically) at most this often
    )
    # a walk-forward window whose train or test period holds a smaller share of its bars is
    # flagged low_coverage and left out of the scores
    min_window_coverage: Annotated[float, Field(gt=0.0, le=1.0)] = 0.9

    @property
    def flush_interval_ms(self) -> int:
        return self.flush_interval.ms


class NetworkSettings(Section):
    """In test mode every HTTP request to a host outside ``allowlist`` is refused in-process."""

    test_mode: bool = False
    allowlist: list[str] = Field(default_factory=lambda: ["127.0.0.1", "localhost", "::1"])


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="BTCN_",
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
        validate_default=True,
    )

    strategy: StrategySettings = StrategySettings()
    fees: FeeSettings = FeeSettings()
    guardrails: GuardrailSettings = GuardrailSettings()
    risk: RiskSettings = RiskSettings()
    account: AccountSettings = AccountSettings()
    execution: ExecutionSettings = ExecutionSettings()
    paper: PaperSettings = PaperSettings()
    state: StateSettings = StateSettings()
    backtest: BacktestSettings = BacktestSettings()
    gate: GateSettings = GateSettings()
    binance: BinanceSettings = BinanceSettings()
    telegram: TelegramSettings = TelegramSettings()
    influx: InfluxSettings = InfluxSettings()
    alerts: AlertSettings = AlertSettings()
    watchdog: WatchdogSettings = WatchdogSettings()
    audit: AuditSettings = AuditSettings()
    sweep: SweepSettings = SweepSettings()
    network: NetworkSettings = NetworkSettings()

    @model_validator(mode="before")
    @classmethod
    def _drop_config_path(cls, data: Any) -> Any:
        # BTCN_CONFIG names the file; it is not a settings key.
        if isinstance(data, dict):
            data.pop("config", None)
            read_old_keys(data)
            # a unified account has its own defaults for the keys the user did not set
            data = with_unified_defaults(data)
        return data

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (env_settings, init_settings)


# Chosen with btcn's sweep and walk-forward on the in-sample part of the first real block
# (decision 0071); the targets are derived from the margin rule (core.unified.hedge_weight).
UNIFIED_STRATEGY_DEFAULTS: dict[str, Any] = {
    "threshold_floor": 0.15,
    "cooldown": "60m",
    "max_delta_drift": 0.002,
}


def _section(data: dict[str, Any], name: str) -> dict[str, Any]:
    value = data.get(name, {})
    if isinstance(value, BaseModel):
        return value.model_dump(exclude_unset=True)
    return dict(value) if isinstance(value, dict) else {}


def with_unified_defaults(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` with the unified account's defaults filled in where ``[strategy]`` is silent:
    targets ``w / 0 / w`` with ``w = core.unified.hedge_weight`` of the configured leverage,
    first BTC discount, IMR limit and USDT reserve, and ``UNIFIED_STRATEGY_DEFAULTS``."""
    account = _section(data, "account")
    if account.get("mode") != "unified":
        return data
    strategy = _section(data, "strategy")
    try:
        risk = RiskSettings(**_section(data, "risk"))
        tiers = AccountSettings(**account).btc_discount_tiers
    except (ValidationError, TypeError):
        return data  # the regular validation names the key at fault
    if "targets" not in strategy:
        w = hedge_weight(risk.leverage, tiers[0][1], risk.min_initial_margin_ratio,
                         risk.usdt_reserve)  # fmt: skip
        strategy["targets"] = {"BTC_SPOT": w, "BTC_PERP_LONG": 0.0, "BTC_PERP_SHORT": w}
    for key, value in UNIFIED_STRATEGY_DEFAULTS.items():
        strategy.setdefault(key, value)
    return {**data, "strategy": strategy}


# Keys of earlier versions, still read: (section, key) -> its new place, or None for a key that no
# longer changes anything (accepted and ignored). Each one read logs one warning line.
OLD_KEYS: dict[tuple[str, str], tuple[str, str] | None] = {
    ("backtest", "leverage"): ("risk", "leverage"),
    ("backtest", "post_only_window"): None,  # decision 0031: the PostOnly phase is one bar
}


def _number(value: Any) -> Any:
    try:
        return float(value)
    except (TypeError, ValueError):
        return value


def read_old_keys(data: dict[str, Any]) -> list[str]:
    """Move the keys of :data:`OLD_KEYS` found in ``data`` (file and environment merged) to their
    new place, logging one warning line each; returns the lines. Refuses a key given under both
    names with different values."""
    lines: list[str] = []
    for (section, key), new in OLD_KEYS.items():
        old_section = data.get(section)
        if not isinstance(old_section, dict) or key not in old_section:
            continue
        old_section = dict(old_section)
        value = old_section.pop(key)
        data[section] = old_section
        if new is None:
            lines.append(f"[{section}] {key} is no longer used and is ignored: remove it")
            continue
        new_section_name, new_key = new
        new_section = data.get(new_section_name)
        new_section = dict(new_section) if isinstance(new_section, dict) else {}
        if new_key in new_section and _number(new_section[new_key]) != _number(value):
            raise ConfigError(
                f"{new_key} is set twice: [{new_section_name}] {new_key} = "
                f"{new_section[new_key]!r} and its old name [{section}] {key} = {value!r}",
                hint=f"keep [{new_section_name}] {new_key} only",
            )
        new_section.setdefault(new_key, value)
        data[new_section_name] = new_section
        lines.append(
            f"[{section}] {key} is now [{new_section_name}] {new_key} (read as "
            f"{new_key} = {value!r}): move it to [{new_section_name}]"
        )
    for line in lines:
        log.warning("%s", line)
    return lines


def resolve_config_path(path: str | os.PathLike[str] | None) -> Path | None:
    """The config file to read: explicit path, then $BTCN_CONFIG, then ./btcn.toml if present."""
    if path is not None:
        return Path(path)
    env = os.environ.get(CONFIG_ENV)
    if env:
        return Path(env)
    default = Path(DEFAULT_CONFIG_FILE)
    return default if default.is_file() else None


def _format_error(err: ValidationError, source: str) -> str:
    problem = err.errors(include_url=False, include_input=False)[0]
    key = ".".join(str(p) for p in problem["loc"])
    if problem["type"] == "extra_forbidden":
        return f"{source}: unknown key '{key}'"
    msg = problem["msg"].removeprefix("Value error, ")
    return f"{source}: invalid value for '{key}': {msg}"


# BTCN_* variables that are not settings and stay allowed: the settings file, the secrets file,
# --debug from the environment (cli.context), the test suite's CI switch (tests/services.py), the
# cron wrapper's inputs (examples/cron/btcn-rebalance.sh), which its btcn child inherits, and the
# image build's source label (scripts/container-build.sh, set in the GitHub job).
NON_SETTING_ENV = frozenset({
    CONFIG_ENV, "BTCN_SECRETS_FILE", "BTCN_DEBUG", "BTCN_REQUIRE_SERVICES",
    "BTCN_HOME", "BTCN_VENUE", "BTCN_MODE", "BTCN_SIGNALS", "BTCN_HISTORY_DAYS",
    "BTCN_IMAGE_SOURCE",
})  # fmt: skip
_SECRET_NAME_KEYS = ("token_secret",)  # settings whose value names a secret (env var) to read


def _env_names() -> dict[str, str]:
    """Every BTCN_* name that sets something -> the settings key it sets."""
    out: dict[str, str] = {}
    for section, field in Settings.model_fields.items():
        out[f"BTCN_{section.upper()}"] = section  # a whole section as JSON
        model = field.annotation
        for key in getattr(model, "model_fields", {}):
            out[f"BTCN_{section.upper()}__{key.upper()}"] = f"{section}.{key}"
    for (section, key), new in OLD_KEYS.items():  # old names are still read (with a warning)
        target = f"{new[0]}.{new[1]}" if new else f"{section}.{key} (ignored)"
        out[f"BTCN_{section.upper()}__{key.upper()}"] = target
    return out


def _nested_ok(name: str, known: dict[str, str]) -> bool:
    """BTCN_<SECTION>__<KEY>__<SUB>: allowed when SECTION.KEY is a table (a dict or model field)."""
    parts = name.split("__")
    if len(parts) < 3 or "__".join(parts[:2]) not in known:
        return False
    section, key = known["__".join(parts[:2])].split(".")
    ann = Settings.model_fields[section].annotation.model_fields[key].annotation  # type: ignore[union-attr]
    return getattr(ann, "__origin__", None) is dict or (
        isinstance(ann, type) and issubclass(ann, BaseModel)
    )


def check_env_names(data: dict[str, Any], environ: Any = None) -> None:
    """ConfigError (exit 4) for a BTCN_* variable that names no setting: pydantic-settings would
    silently ignore a name with one underscore between section and key, or one whose section does
    not exist, while the same mistake in btcn.toml is an error. The message names the variable and the nearest key."""
    import difflib

    env = os.environ if environ is None else environ
    known = _env_names()
    secrets = set()
    for section in ("telegram", "influx"):
        for key in _SECRET_NAME_KEYS:
            default = Settings.model_fields[section].annotation.model_fields[key].default  # type: ignore[union-attr]
            for value in (default, (data.get(section) or {}).get(key),
                          env.get(f"BTCN_{section.upper()}__{key.upper()}")):  # fmt: skip
                if isinstance(value, str):
                    secrets.add(value.upper())
    for raw in sorted(env):
        name = raw.upper()
        if not name.startswith("BTCN_") or name in NON_SETTING_ENV or name in secrets:
            continue
        if name in known or _nested_ok(name, known):
            continue
        nearest = difflib.get_close_matches(name, [k for k in known if "__" in k], n=1, cutoff=0)
        parts = name.removeprefix("BTCN_").split("__")
        what = (f"unknown key '{parts[0].lower()}.{parts[1].lower()}'"
                if len(parts) == 2 and f"BTCN_{parts[0]}" in known else "names no setting")  # fmt: skip
        near = f"; the nearest setting is {nearest[0]} ({known[nearest[0]]})" if nearest else ""
        raise ConfigError(
            f"environment variable {raw}: {what}{near}",
            hint="settings are BTCN_<SECTION>__<KEY> (two underscores); unset the variable or fix "
            "its name",
        )


def load_settings(path: str | os.PathLike[str] | None = None) -> Settings:
    """Read settings; raise ConfigError with one line naming the key at fault."""
    file = resolve_config_path(path)
    data: dict[str, Any] = {}
    source = "settings"
    if file is not None:
        source = str(file)
        try:
            text = read_text_file(file, "config", ConfigError)
        except FileNotFoundError as exc:
            raise ConfigError(f"config file not found: {file}") from exc
        except OSError as exc:
            raise ConfigError(f"cannot read config file {file}: {exc.strerror}") from exc
        data = parse_toml(text, str(file), ConfigError)
    check_env_names(data)
    try:
        return Settings(**data)
    except SettingsError as exc:  # a BTCN_* value that is not the JSON its field needs
        raise ConfigError(env_error_line(exc)) from None
    except ValidationError as exc:
        env_keys = [k for k in os.environ if k.startswith("BTCN_") and k != CONFIG_ENV]
        where = source if not env_keys else f"{source} (or BTCN_* environment)"
        raise ConfigError(_format_error(exc, where)) from exc
