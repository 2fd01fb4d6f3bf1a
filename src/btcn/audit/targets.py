"""KPI targets of the audit: a TOML file, or the roadmap's defaults.

```toml
tolerance = 0.05                 # optional: relative deviation that counts as drift
[sharpe_30d]
target = 1.34
better = "higher"
[max_drawdown]
target = 0.137
better = "lower"
hard_limit = 0.20
[fees_per_nav_per_day]
target = 0.0028                  # 0.28 % of NAV per day
better = "lower"
```
Each table is a KPI by name (see :data:`KPI_NAMES`); fractions are plain fractions (0.137, not
13.7). Unknown KPIs or keys are errors naming the key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from btcn.audit.model import Better
from btcn.errors import InvalidInputError
from btcn.runtime.boundary import parse_toml

KPI_NAMES = (
    "sharpe_30d", "sharpe", "sortino", "max_drawdown", "fees_per_nav_per_day", "roi", "cagr",
    # the carry KPIs (btcn.core.carry; fractions)
    "funding_apr_on_nav", "net_apr_on_nav", "hedged_fraction", "carry_capture", "fee_drag",
)  # fmt: skip


class Target(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    target: float
    better: Better
    hard_limit: float | None = None

    @field_validator("target")
    @classmethod
    def _nonzero(cls, value: float) -> float:
        if value == 0:
            raise ValueError("a target of 0 has no relative deviation; use a small non-zero value")
        return value


class Targets(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    tolerance: Annotated[float, Field(gt=0, le=10)] | None = None
    kpis: dict[str, Target]

    @field_validator("kpis")
    @classmethod
    def _known(cls, value: dict[str, Target]) -> dict[str, Target]:
        unknown = sorted(set(value) - set(KPI_NAMES))
        if unknown:
            raise ValueError(f"unknown KPI(s) {', '.join(unknown)}; known: {', '.join(KPI_NAMES)}")
        if not value:
            raise ValueError("no KPI targets")
        return value


ROADMAP_TARGETS = Targets(
    kpis={
        "sharpe_30d": Target(target=1.34, better="higher"),
        "max_drawdown": Target(target=0.137, better="lower", hard_limit=0.20),
        "fees_per_nav_per_day": Target(target=0.0028, better="lower"),
    }
)


# The carry KPIs' own targets (docs/decisions/0061): keep at least 95 % of what the mean short
# could earn at the market's rates, and spend at most a quarter of the funding on fees. Both are
# ratios to what the market paid, so they hold in a year of low funding as in a year of high.
CARRY_TARGETS = {
    "carry_capture": Target(target=0.95, better="higher"),
    "fee_drag": Target(target=0.25, better="lower"),
}
DEFAULT_TARGETS = Targets(kpis={**ROADMAP_TARGETS.kpis, **CARRY_TARGETS})


def load_targets(path: str | Path | None) -> Targets:
    """Targets from a TOML file; the roadmap's and the carry defaults when ``path`` is None or
    empty."""
    if path is None or str(path) == "":
        return DEFAULT_TARGETS
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise InvalidInputError(f"targets file not found: {file}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"cannot read targets file {file}") from exc
    data = parse_toml(text, str(file), InvalidInputError)
    tolerance = data.pop("tolerance", None)
    try:
        return Targets(tolerance=tolerance, kpis=data)
    except ValidationError as exc:
        problem = exc.errors(include_url=False, include_input=False)[0]
        loc = ".".join(str(p) for p in problem["loc"] if p != "kpis")
        msg = problem["msg"].removeprefix("Value error, ")
        if problem["type"] == "extra_forbidden":
            msg = "unknown key"
        raise InvalidInputError(f"{file}: {loc or 'targets'}: {msg}") from exc
