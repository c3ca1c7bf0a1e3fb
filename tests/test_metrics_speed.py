"""The vectorised per-interval wait figures equal the straightforward ones, bit for bit.

``bposim.metrics._wait_counts`` computes each interval's wait percentiles with one sort
per queue instead of one ``np.percentile`` call per interval (issue 11: the calls took
most of a replication's frame building on large_centre.yaml). The reference below is
the plain per-interval loop; both must give exactly the same values, on arbitrary
ragged data (ties, empty and one-contact intervals, zero waits) and on the frames of
every example scenario.
"""

from __future__ import annotations

import golden
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bposim import metrics
from bposim.engine.model import compile_scenario
from bposim.engine.select import choose_engine, run_engine
from bposim.rng import Streams


def reference_wait_counts(waits, thresholds):
    """Per interval, with one np.percentile (default 'linear' method) and plain counts."""
    n = len(waits)
    pcts = np.full((n, len(metrics.PERCENTILES)), np.nan)
    waited = np.zeros(n)
    within = np.zeros((n, len(thresholds)))
    for i, w in enumerate(waits):
        v = np.frombuffer(w, dtype=float)
        if v.size:
            pcts[i] = np.percentile(v, metrics.PERCENTILES)
            waited[i] = np.count_nonzero(v > 0)
            for k, t in enumerate(thresholds):
                within[i, k] = np.count_nonzero(v <= t)
    return pcts, waited, within


def _buffers(groups):
    return [np.asarray(g, dtype=float).tobytes() for g in groups]


def _assert_same(groups, thresholds):
    got = metrics._wait_counts(_buffers(groups), thresholds)
    want = reference_wait_counts(_buffers(groups), thresholds)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w, strict=True)


# waits drawn from a few values (many ties, zero waits) or from any non-negative float
WAIT = st.one_of(st.sampled_from([0.0, 0.0, 1.0, 2.5, 20.0, 20.0, 59.999, 60.0, 300.0]),
                 st.floats(min_value=0.0, max_value=1e6, allow_nan=False))


@settings(max_examples=200, deadline=None)
@given(groups=st.lists(st.lists(WAIT, max_size=9), max_size=12),
       thresholds=st.lists(st.sampled_from([0.0, 20.0, 60.0, 120.0]), max_size=3))
def test_same_values_as_per_interval_percentiles(groups, thresholds):
    _assert_same(groups, thresholds)


def test_small_counts_and_larger_intervals():
    rng = np.random.default_rng(11)
    groups = [[], [7.0], [0.0, 3.0], [], [5.0, 5.0], [2.0, 1.0]]  # two contacts in an interval
    groups += [rng.exponential(30.0, size=k) for k in (3, 17, 100, 1001)]
    _assert_same(groups, [20.0, 30.0])
    _assert_same([], [20.0])  # no interval at all
    _assert_same([[], []], [])  # no contact at all
    pcts, waited, within = metrics._wait_counts(_buffers([[0.0, 10.0]]), [5.0])
    np.testing.assert_allclose(pcts[0], [5.0, 9.0, 9.5])  # by hand: linear interpolation
    assert waited[0] == 1 and within[0, 0] == 1


def test_nan_wait_gives_nan_percentiles_like_numpy():
    with np.errstate(invalid="ignore"):
        _assert_same([[1.0, np.nan, 3.0], [1.0, 2.0]], [2.0])


BASE_CASES = [c for c in golden.cases() if c.variant is None]


@pytest.mark.parametrize("case", BASE_CASES, ids=[c.name for c in BASE_CASES])
def test_example_scenario_frames_unchanged(case, monkeypatch):
    """One replication's frames (horizon cut as for the golden tests), built with the
    vectorised figures and with the reference loop, are exactly equal."""
    scenario = golden.scenario_of(case)
    model = compile_scenario(scenario)
    rec = run_engine(choose_engine(scenario, None, model=model), model, Streams(golden.SEED))
    fast = metrics.replication_metrics(model, rec)
    monkeypatch.setattr(metrics, "_wait_counts", reference_wait_counts)
    slow = metrics.replication_metrics(model, rec)
    for name in ("intervals", "pools", "totals", "outbound"):
        a, b = getattr(fast, name), getattr(slow, name)
        if a is None or b is None:
            assert a is None and b is None
            continue
        pd.testing.assert_frame_equal(a, b, check_exact=True)
    assert fast.intervals.filter(like="wait_p").notna().any().any() or not len(fast.intervals)
