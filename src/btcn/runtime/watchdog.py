"""Resource watchdog (psutil): keep a long command within its CPU and memory budget.

The machine is shared (a cron job must not starve the box), so by default a btcn command uses at
most 50 % of one core on average and 2 GB of resident memory.

The watchdog acts only at **checkpoints**: a long loop calls :meth:`Watchdog.checkpoint` between
units of work (a batch of points, a chunk of bars, a sheet), never inside a write. So a command
is never killed mid-write:

* CPU above the limit, once the command has run longer than ``grace`` (10 s by default, so a
  one-second backtest or a cron ``plan`` is never slowed) → the command is *slowed*: the checkpoint sleeps just long enough that the
  process's CPU time over its wall time since the last check comes back to the limit.
* RSS above the limit → the command is *stopped*: the checkpoint raises
  :class:`~btcn.errors.ResourceLimitExceeded` (exit code 9) with the figures and the setting to
  change. Files being written by btcn are atomic (temp file + rename), so nothing half-written is
  left behind.

CPU is measured as a percentage of **one core** (user + system time of this process, all threads,
over wall time), which is what "50 %" means on a 2-core machine shared with others.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import psutil

from btcn.errors import ResourceLimitExceeded

log = logging.getLogger(__name__)

MB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Limits:
    max_cpu_pct: float = 50.0
    max_rss_mb: float = 2048.0
    check_interval_s: float = 0.5
    grace_s: float = 10.0  # CPU is left alone for this long: only a *long* command is slowed


class Watchdog:
    """Checks CPU and RSS of this process at checkpoints; slows or stops the command."""

    def __init__(
        self,
        limits: Limits = Limits(),
        *,
        process: psutil.Process | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        what: str = "command",
    ) -> None:
        self.limits = limits
        self._proc = process or psutil.Process()
        self._monotonic = monotonic
        self._sleep = sleep
        self.what = what
        self.slept_s = 0.0
        self.peak_rss_mb = 0.0
        self._t0 = self._monotonic()
        self._started = self._t0
        self._cpu0 = self._cpu_s()

    def _cpu_s(self) -> float:
        t = self._proc.cpu_times()
        return float(t.user + t.system)

    def checkpoint(self, *, force: bool = False) -> None:
        """Call between units of work. Cheap when called more often than ``check_interval``."""
        now = self._monotonic()
        wall = now - self._t0
        if not force and wall < self.limits.check_interval_s:
            return
        rss_mb = self._proc.memory_info().rss / MB
        self.peak_rss_mb = max(self.peak_rss_mb, rss_mb)
        if rss_mb > self.limits.max_rss_mb:
            raise ResourceLimitExceeded(
                f"{self.what} stopped by the watchdog: resident memory {rss_mb:.0f} MB exceeds "
                f"the limit of {self.limits.max_rss_mb:.0f} MB (stopped between two steps; "
                "no file was left half-written)",
                hint="raise [watchdog] max_rss_mb (BTCN_WATCHDOG__MAX_RSS_MB) or give the command "
                "less data at once",
            )
        cpu = self._cpu_s()
        used = cpu - self._cpu0
        limit = self.limits.max_cpu_pct / 100.0
        long_running = now - self._started >= self.limits.grace_s
        if long_running and wall > 0 and used / wall > limit:
            pause = used / limit - wall
            # The first pause is announced; later ones are routine (DEBUG).
            level = logging.DEBUG if self.slept_s else logging.INFO
            log.log(
                level,
                "watchdog: %s uses %.0f%% of one core (limit %.0f%%); slowing it down "
                "(pause %.2f s)", self.what, 100 * used / wall, self.limits.max_cpu_pct, pause,
            )  # fmt: skip
            self._sleep(pause)
            self.slept_s += pause
            now = self._monotonic()
        self._t0 = now
        self._cpu0 = cpu


class NullWatchdog(Watchdog):
    """A watchdog that never acts (``[watchdog] enabled = false``)."""

    def __init__(self) -> None:
        self.limits = Limits()
        self.slept_s = 0.0
        self.peak_rss_mb = 0.0
        self.what = "command"

    def checkpoint(self, *, force: bool = False) -> None:
        return None


def from_settings(settings: object, what: str = "command") -> Watchdog:
    """A watchdog configured from ``[watchdog]`` of the settings."""
    wd = settings.watchdog  # type: ignore[attr-defined]
    if not wd.enabled:
        return NullWatchdog()
    limits = Limits(
        wd.max_cpu_pct, wd.max_rss_mb, wd.check_interval_ms / 1000.0, wd.grace_ms / 1000.0
    )
    return Watchdog(limits, what=what)
