"""The parameter space of a sweep: a TOML grid file expanded into validated points.

Grid file (every key is a settings key written ``section.key``, quoted or as nested tables)::

    [grid]                      # the cartesian product of these lists
    "strategy.threshold_floor" = [0.003, 0.005, 0.01]
    "strategy.cooldown" = ["30m", "60m", "4h"]

    [random]                    # optional
    samples = 20                # draws (seeded: the same file gives the same points)
    seed = 7
    [random.params]             # each draw picks one value per key; crossed with [grid]
    "strategy.atr_multiplier" = { uniform = [0.1, 0.4], digits = 3 }
    "backtest.slippage" = { loguniform = [0.0001, 0.001] }
    "strategy.atr_periods" = { randint = [7, 28] }      # both ends included
    "strategy.apply_signal_logic" = { choice = [true, false] }

    [fixed]                     # optional: applied to every point (not a swept parameter)
    "fees.spot_taker" = 0.0005

``[random]`` without ``params`` draws ``samples`` points of the grid instead (without
replacement, kept in grid order). Keys are limited to the sections that change a backtest:
``strategy``, ``fees``, ``guardrails``, ``risk``, ``backtest`` and ``account`` (sweeping
``account.mode`` keeps the base's ``[strategy]``: the unified defaults apply only to a config that
sets the mode). Values override the base settings (``--config`` file and ``BTCN_*`` environment); an unknown key, a value of the wrong type or out
of range, a duplicated value or a key swept twice is an error naming it before any work starts.
A combination that only fails as a whole (e.g. targets adding up to more than 1) becomes a point
with an error: it is reported as failed, not run.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import ValidationError

from btcn.errors import ConfigError
from btcn.runtime.boundary import parse_toml
from btcn.runtime.settings import OLD_KEYS, Settings

log = logging.getLogger("btcn.sweep")

SWEEPABLE = ("strategy", "fees", "guardrails", "risk", "backtest", "account")
DISTRIBUTIONS = ("uniform", "loguniform", "randint", "choice")
MAX_POINTS = 1_000_000


@dataclass(frozen=True)
class Distribution:
    kind: str
    args: tuple[Any, ...]
    digits: int | None = None

    def draw(self, rng: np.random.Generator) -> Any:
        if self.kind == "choice":
            return self.args[int(rng.integers(len(self.args)))]
        lo, hi = self.args
        if self.kind == "randint":
            return int(rng.integers(int(lo), int(hi) + 1))
        if self.kind == "uniform":
            value = float(rng.uniform(float(lo), float(hi)))
        else:
            value = math.exp(float(rng.uniform(math.log(lo), math.log(hi))))
        return round(value, self.digits) if self.digits is not None else value


@dataclass(frozen=True)
class GridSpec:
    """The grid file, parsed (not yet checked against the settings)."""

    grid: dict[str, list[Any]] = field(default_factory=dict)
    random: dict[str, Distribution] = field(default_factory=dict)
    samples: int = 0
    seed: int = 0
    fixed: dict[str, Any] = field(default_factory=dict)
    source: str = "grid"

    @property
    def keys(self) -> list[str]:
        """The swept keys: grid axes, then random keys (the parameter columns of the results)."""
        return [*self.grid, *self.random]

    def describe(self) -> dict[str, Any]:
        return {
            "grid": self.grid,
            "random": {
                k: {d.kind: list(d.args), "digits": d.digits} for k, d in self.random.items()
            },
            "samples": self.samples,
            "seed": self.seed,
            "fixed": self.fixed,
        }


@dataclass(frozen=True)
class Point:
    """One set of parameters. ``settings`` is None when the combination is invalid (``error``)."""

    index: int
    params: dict[str, Any]
    settings: Settings | None
    error: str | None = None


def canonical_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=False)


def digest(obj: Any) -> str:
    return hashlib.sha256(canonical_json(obj).encode()).hexdigest()


def relevant_settings(settings: Settings) -> dict[str, Any]:
    """The settings that change a backtest's result (what a point's identity hashes)."""
    return {k: getattr(settings, k).model_dump(mode="json") for k in SWEEPABLE}


# --- reading the grid file ------------------------------------------------------------------


def _is_distribution(value: Any) -> bool:
    return isinstance(value, dict) and any(k in value for k in DISTRIBUTIONS)


def _flatten(table: dict[str, Any], *, leaf: Any, prefix: str = "") -> dict[str, Any]:
    """``{"strategy": {"cooldown": [..]}}`` and ``{"strategy.cooldown": [..]}`` alike."""
    out: dict[str, Any] = {}
    for key, value in table.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and not leaf(value):
            out.update(_flatten(value, leaf=leaf, prefix=f"{path}."))
        else:
            out[path] = value
    return out


def _distribution(source: str, key: str, spec: dict[str, Any]) -> Distribution:
    where = f"{source}: [random.params] {key}"
    kinds = [k for k in spec if k in DISTRIBUTIONS]
    extra = sorted(set(spec) - set(DISTRIBUTIONS) - {"digits"})
    if len(kinds) != 1 or extra:
        raise ConfigError(
            f"{where}: give exactly one of {', '.join(DISTRIBUTIONS)} (and optionally digits)"
        )
    kind = kinds[0]
    args = spec[kind]
    if not isinstance(args, list) or not args:
        raise ConfigError(f"{where}: {kind} takes a list")
    digits = spec.get("digits")
    if digits is not None and (
        not isinstance(digits, int) or isinstance(digits, bool) or not 0 <= digits <= 15
    ):
        raise ConfigError(f"{where}: digits must be an integer from 0 to 15")
    if kind != "choice":
        if len(args) != 2 or not all(
            isinstance(a, int | float) and not isinstance(a, bool) for a in args
        ):
            raise ConfigError(f"{where}: {kind} takes [low, high] numbers")
        lo, hi = args
        if not lo < hi:
            raise ConfigError(f"{where}: {kind} needs low < high")
        if kind == "loguniform" and lo <= 0:
            raise ConfigError(f"{where}: loguniform needs low > 0")
        if kind == "randint" and not all(isinstance(a, int) for a in args):
            raise ConfigError(f"{where}: randint takes [low, high] integers")
    return Distribution(kind, tuple(args), digits)


def parse_grid(text: str, source: str = "grid") -> GridSpec:
    """Parse the grid file's text; raise ConfigError naming the file and the key at fault."""
    data = parse_toml(text, source, ConfigError)
    unknown = sorted(set(data) - {"grid", "random", "fixed"})
    if unknown:
        raise ConfigError(
            f"{source}: unknown table(s) {', '.join(unknown)}; use [grid], [random] and [fixed]"
        )
    for name in ("grid", "random", "fixed"):
        if name in data and not isinstance(data[name], dict):
            raise ConfigError(f"{source}: '{name}' must be a table ([{name}])")
    grid = _flatten(data.get("grid", {}), leaf=lambda v: False)
    for key, values in grid.items():
        if not isinstance(values, list) or not values:
            raise ConfigError(f"{source}: [grid] {key}: expected a non-empty list of values")
        seen: set[str] = set()
        for v in values:
            c = canonical_json(v)
            if c in seen:
                raise ConfigError(f"{source}: [grid] {key}: value {v!r} is listed twice")
            seen.add(c)
    rand = dict(data.get("random", {}))
    params = rand.pop("params", {})
    samples = rand.pop("samples", 0 if not params else None)
    seed = rand.pop("seed", 0)
    if rand:
        raise ConfigError(
            f"{source}: [random] unknown key(s) {', '.join(sorted(rand))}; use samples, seed, params"
        )
    if params and samples is None:
        raise ConfigError(f"{source}: [random] needs samples = N (the number of draws)")
    if not isinstance(samples, int) or isinstance(samples, bool) or samples < 0:
        raise ConfigError(f"{source}: [random] samples must be a whole number >= 0")
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ConfigError(f"{source}: [random] seed must be a whole number >= 0")
    if "random" in data and samples == 0:
        raise ConfigError(f"{source}: [random] samples must be at least 1")
    if not isinstance(params, dict):
        raise ConfigError(f"{source}: [random.params] must be a table")
    dists = {
        k: _distribution(source, k, v) if isinstance(v, dict) else _bad_distribution(source, k)
        for k, v in _flatten(params, leaf=_is_distribution).items()
    }
    fixed = _flatten(data.get("fixed", {}), leaf=lambda v: False)
    for a, b, name_a, name_b in (
        (grid, dists, "[grid]", "[random.params]"),
        (grid, fixed, "[grid]", "[fixed]"),
        (dists, fixed, "[random.params]", "[fixed]"),
    ):
        both = sorted(set(a) & set(b))
        if both:
            raise ConfigError(f"{source}: {both[0]} is in both {name_a} and {name_b}")
    if not grid and not dists:
        raise ConfigError(
            f"{source}: no parameter to sweep; list values under [grid] or draws under "
            "[random.params]"
        )
    return GridSpec(grid, dists, samples, seed, fixed, source)


def _bad_distribution(source: str, key: str) -> Distribution:
    raise ConfigError(
        f"{source}: [random.params] {key}: expected a table such as {{ uniform = [0.1, 0.5] }}"
    )


def read_grid(path: str | Path) -> GridSpec:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(f"grid file not found: {p}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read grid file {p}: {exc}") from exc
    return parse_grid(text, str(p))


# --- expansion --------------------------------------------------------------------------------


def combinations(spec: GridSpec) -> list[dict[str, Any]]:
    """The swept parameter sets, in a fixed order: grid order (last axis fastest) crossed with
    the random draws; or the seeded subsample of the grid. Duplicates keep their first place."""
    axes = list(spec.grid.items())
    size = math.prod(len(v) for _, v in axes)
    total = size * (spec.samples if spec.random else 1)
    if total > MAX_POINTS:
        raise ConfigError(f"{spec.source}: the sweep has {total:,} points (limit {MAX_POINTS:,})")
    grid = [dict(zip([k for k, _ in axes], combo, strict=True))
            for combo in itertools.product(*(v for _, v in axes))]  # fmt: skip
    rng = np.random.default_rng(spec.seed)
    if spec.random:
        draws = [{k: d.draw(rng) for k, d in spec.random.items()} for _ in range(spec.samples)]
        combos = [{**g, **d} for g in grid for d in draws]
    elif spec.samples and spec.samples < len(grid):
        pick = np.sort(rng.choice(len(grid), size=spec.samples, replace=False))
        combos = [grid[int(i)] for i in pick]
    else:
        combos = grid
    seen: set[str] = set()
    unique = []
    for c in combos:
        key = canonical_json(c)
        if key not in seen:
            seen.add(key)
            unique.append(c)
    return unique


def _set_path(data: dict[str, Any], key: str, value: Any) -> None:
    parts = key.split(".")
    node = data
    for part in parts[:-1]:
        node = node[part]
    if isinstance(value, dict) and isinstance(node[parts[-1]], dict):
        node[parts[-1]].update(value)
    else:
        node[parts[-1]] = value


def current_key(key: str, source: str, table: str) -> str:
    """A grid key under its current name: an old name (``backtest.leverage``) is read as its new
    one with a warning; a key that no longer changes anything is an error (sweeping it would run
    identical points)."""
    parts = tuple(key.split("."))
    if len(parts) != 2 or parts not in OLD_KEYS:
        return key
    new = OLD_KEYS[parts]  # type: ignore[index]
    if new is None:
        raise ConfigError(f"{source}: {table} {key} is no longer used: remove it from the grid")
    log.warning("%s: %s %s is now %s", source, table, key, ".".join(new))
    return ".".join(new)


def _check_key(base: dict[str, Any], key: str, source: str, table: str) -> None:
    parts = key.split(".")
    if parts[0] not in SWEEPABLE:
        raise ConfigError(
            f"{source}: {table} {key}: only [strategy], [fees], [guardrails], [risk], "
            "[backtest] and [account] keys change a backtest"
        )
    node: Any = base
    for i, part in enumerate(parts):
        if not isinstance(node, dict) or part not in node:
            raise ConfigError(f"{source}: {table} unknown settings key '{key}'")
        node = node[part]
        if i < len(parts) - 1 and not isinstance(node, dict):
            raise ConfigError(f"{source}: {table} unknown settings key '{key}'")


def _validate(data: dict[str, Any]) -> Settings:
    """Settings from a full dump, section by section: environment variables are not read again
    (they are already in the base), so a grid value always wins."""
    sections = {
        name: Settings.model_fields[name].annotation.model_validate(value)  # type: ignore[union-attr]
        for name, value in data.items()
    }
    return Settings.model_construct(**sections)


def _problem(err: ValidationError) -> str:
    p = err.errors(include_url=False, include_input=False)[0]
    loc = ".".join(str(x) for x in p["loc"])
    msg = p["msg"].removeprefix("Value error, ")
    return f"{msg} (at {loc})" if loc else msg


def build_points(spec: GridSpec, base: Settings) -> list[Point]:
    """Validate every key and value against the settings model, then build each point."""
    dump = base.model_dump(mode="python")
    tables = {**{k: "[grid]" for k in spec.grid}, **{k: "[random.params]" for k in spec.random},
              **{k: "[fixed]" for k in spec.fixed}}  # fmt: skip
    names = {key: current_key(key, spec.source, table) for key, table in tables.items()}
    for key, table in tables.items():
        _check_key(dump, names[key], spec.source, table)
    fixed = copy.deepcopy(dump)
    for key, value in spec.fixed.items():
        _set_path(fixed, names[key], value)
        try:
            _validate(fixed)
        except ValidationError as exc:
            raise ConfigError(f"{spec.source}: [fixed] {key} = {value!r}: {_problem(exc)}") from exc
    for key, values in spec.grid.items():
        for value in values:
            trial = copy.deepcopy(fixed)
            _set_path(trial, names[key], value)
            try:
                _validate(trial)
            except ValidationError as exc:
                raise ConfigError(
                    f"{spec.source}: [grid] {key} = {value!r}: {_problem(exc)}"
                ) from exc
    for key, dist in spec.random.items():
        probes = dist.args if dist.kind == "choice" else dist.args[:2]
        for value in probes:
            trial = copy.deepcopy(fixed)
            _set_path(trial, names[key], value)
            try:
                _validate(trial)
            except ValidationError as exc:
                raise ConfigError(
                    f"{spec.source}: [random.params] {key} {dist.kind} value {value!r}: "
                    f"{_problem(exc)}"
                ) from exc
    points = []
    for i, combo in enumerate(combinations(spec)):
        data = copy.deepcopy(fixed)
        for key, value in combo.items():
            _set_path(data, names[key], value)
        try:
            points.append(Point(i, combo, _validate(data)))
        except ValidationError as exc:
            points.append(Point(i, combo, None, f"invalid combination: {_problem(exc)}"))
    return points
