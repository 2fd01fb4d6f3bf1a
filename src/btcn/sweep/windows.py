"""Walk-forward windows: rolling train/test periods that never overlap and never look ahead.

``--walk-forward 90d:30d`` cuts, from the first bar (or ``--start``) on::

    window 0: train [t0,          t0 + 90d)   test [t0 + 90d,  t0 + 120d)
    window 1: train [t0 + 30d,    t0 + 120d)  test [t0 + 120d, t0 + 150d)
    ...

The train window rolls forward by the test length, so the test windows tile the period end to
end and chain into one out-of-sample equity curve. Only whole windows are used: a tail shorter
than a test window is left out (and reported). Bars before a window's start still warm the ATR,
exactly as ``btcn backtest --start`` does; they are never traded or scored.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from btcn.core.durations import format_duration_ms, parse_duration_ms
from btcn.errors import UsageError


@dataclass(frozen=True, slots=True)
class Window:
    index: int
    train_start_ms: int
    train_end_ms: int  # exclusive; equals test_start_ms
    test_start_ms: int
    test_end_ms: int  # exclusive


def parse_walk_forward(text: str) -> tuple[int, int]:
    """``TRAIN:TEST`` durations (e.g. ``90d:30d``) in milliseconds."""
    parts = text.split(":")
    if len(parts) != 2:
        raise UsageError(
            f"--walk-forward {text!r}: expected TRAIN:TEST, e.g. 90d:30d", hint="units: m, h, d"
        )
    try:
        train, test = (parse_duration_ms(p.strip()) for p in parts)
    except ValueError as exc:
        raise UsageError(f"--walk-forward {text!r}: {exc}") from exc
    if train <= 0 or test <= 0:
        raise UsageError(f"--walk-forward {text!r}: both lengths must be positive")
    if train % 1000 or test % 1000:
        raise UsageError(f"--walk-forward {text!r}: use whole seconds")
    return train, test


def make_windows(start_ms: int, end_ms: int, train_ms: int, test_ms: int) -> list[Window]:
    """Every whole train+test window in ``[start_ms, end_ms)``, rolling by ``test_ms``."""
    if train_ms <= 0 or test_ms <= 0:
        raise ValueError("train and test lengths must be positive")
    out = []
    k = 0
    while True:
        t0 = start_ms + k * test_ms
        test_end = t0 + train_ms + test_ms
        if test_end > end_ms:
            break
        out.append(Window(k, t0, t0 + train_ms, t0 + train_ms, test_end))
        k += 1
    if not out:
        raise UsageError(
            f"--walk-forward {format_duration_ms(train_ms)}:{format_duration_ms(test_ms)} needs "
            f"{format_duration_ms(train_ms + test_ms)} of data, the period holds "
            f"{format_duration_ms(max(end_ms - start_ms, 0))}",
            hint="use shorter windows or more data",
        )
    return out


def coverage(open_ms: npt.NDArray[np.int64], bar_ms: int, start_ms: int, end_ms: int) -> float:
    """Share of the bars of ``[start_ms, end_ms)`` that the data holds (0..1)."""
    expected = (end_ms - start_ms) // bar_ms
    if expected <= 0:
        return 0.0
    held = int(np.searchsorted(open_ms, end_ms) - np.searchsorted(open_ms, start_ms))
    return min(held / expected, 1.0)


def coverage_problem(train: float, test: float, minimum: float) -> str | None:
    """Why a window is left out of the walk-forward scores, or None when it is complete enough."""
    short = [f"{name} period holds {share:.1%} of its bars" for name, share in
             (("train", train), ("test", test)) if share < minimum]  # fmt: skip
    if not short:
        return None
    return (f"{' and '.join(short)} (below sweep.min_window_coverage {minimum:.0%}); "
            "left out of the scores")  # fmt: skip
