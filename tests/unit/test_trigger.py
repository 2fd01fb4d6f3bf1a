"""The one trigger and cooldown (core/trigger.py): the array form is the scalar form bar by bar."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from btcn.core.trigger import fired, in_cooldown
from btcn.core.valuation import FloatBook

finite = st.floats(min_value=0, max_value=1e4, allow_nan=False)


@settings(max_examples=300, deadline=None)
@given(
    st.tuples(finite, finite, st.floats(-1e3, 1e5), finite, finite, finite, finite),
    st.lists(
        st.tuples(st.floats(1e3, 2e5), st.floats(0.9, 1.1), st.floats(0.0, 0.05)),
        min_size=1,
        max_size=20,
    ),
    st.sampled_from([(0.5, 0.0, 0.5), (0.4, 0.2, 0.6), (1.0, 0.0, 0.0)]),
    st.booleans(),
    st.sampled_from([0.002, 0.05]),
)
def test_the_array_trigger_is_the_scalar_trigger_on_every_bar(book, bars, targets, mode, mdd):
    fb = FloatBook(*book)
    ps = np.array([b[0] for b in bars])
    pp = ps * np.array([b[1] for b in bars])
    thr = np.array([b[2] for b in bars])
    arr = fired(fb, ps, pp, ps, thr, targets, book_mode=mode, max_delta_drift=mdd)
    for i in range(len(bars)):
        one = fired(fb, ps[i], pp[i], ps[i], thr[i], targets, book_mode=mode, max_delta_drift=mdd)
        if one.nav > 0:
            assert bool(arr.drift[i]) == bool(one.drift) and bool(arr.delta[i]) == bool(one.delta)
        else:
            assert not one.drift and not one.delta


def test_the_delta_trigger_fires_only_in_book_mode_and_beyond_the_limit() -> None:
    # hedged except 0.01 BTC of spot: net delta 0.01 * 50,000 / NAV 150,500 = 0.00332
    fb = FloatBook(50_000.0, 1.01, 50_000.0, 0.0, 0.0, 1.0, 50_000.0)
    args = (fb, 50_000.0, 50_000.0, 50_000.0, 0.5, (0.5, 0.0, 0.5))
    assert fired(*args, book_mode=True, max_delta_drift=0.0033).delta
    assert not fired(*args, book_mode=True, max_delta_drift=0.0034).delta
    assert not fired(*args, book_mode=False, max_delta_drift=0.0033).delta


def test_cooldown_ends_exactly_at_last_plus_cooldown() -> None:
    assert in_cooldown(1_999, 1_000, 1_000) and not in_cooldown(2_000, 1_000, 1_000)
    assert not in_cooldown(0, None, 10**9)
    times = np.array([1_000, 1_999, 2_000, 3_000])
    assert in_cooldown(times, 1_000, 1_000).tolist() == [True, True, False, False]
    assert in_cooldown(times, None, 1_000).tolist() == [False] * 4
