"""Draws made cheaper than numpy's general calls (model/sampling.py) draw the same process."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model.sampling import bernoulli_rows, categorical, cumulative


@settings(max_examples=60, deadline=None)
@given(n=st.integers(0, 3000), p=st.floats(0.0, 1.0), seed=st.integers(0, 2**32 - 1))
def test_bernoulli_rows_are_distinct_rows_in_order(n, p, seed):
    rows = bernoulli_rows(np.random.default_rng(seed), n, p)
    assert rows.dtype.kind == "i"
    assert ((rows >= 0) & (rows < n)).all()
    assert (np.diff(rows) > 0).all()
    if p == 1.0:
        assert rows.size == n


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 2000), extra=st.integers(0, 2000), p=st.floats(0.001, 0.9),
       seed=st.integers(0, 2**32 - 1))
def test_a_row_pick_does_not_depend_on_rows_added_after_it(n, extra, p, seed):
    """Common random numbers: firms entering at the end leave earlier firms' picks alone."""
    few = bernoulli_rows(np.random.default_rng(seed), n, p)
    more = bernoulli_rows(np.random.default_rng(seed), n + extra, p)
    assert np.array_equal(few, more[more < n])


@pytest.mark.parametrize("p", [0.003, 0.015, 0.3, 0.7])
def test_each_row_is_picked_with_probability_p_independently(p):
    rng = np.random.default_rng(11)
    n, reps = 400, 4000
    picks = np.zeros((reps, n), dtype=bool)
    for r in range(reps):
        picks[r, bernoulli_rows(rng, n, p)] = True
    rate = picks.mean(axis=0)                 # per row: p, whatever the row
    se = np.sqrt(p * (1 - p) / reps)
    assert abs(rate.mean() - p) < 4 * se / np.sqrt(n)
    assert np.abs(rate - p).max() < 5 * se
    counts = picks.sum(axis=1)                # binomial(n, p): its variance too
    assert counts.var() == pytest.approx(n * p * (1 - p), rel=0.1)
    # neighbours are independent (no gap structure left over)
    both = (picks[:, :-1] & picks[:, 1:]).mean()
    assert both == pytest.approx(p * p, abs=5 * np.sqrt(p * p / (reps * n)))


def test_categorical_draws_what_rng_choice_draws():
    p = np.array([0.1, 0.0, 0.5, 0.4])
    a, b = np.random.default_rng(3), np.random.default_rng(3)
    assert np.array_equal(categorical(a, cumulative(p), 1000), b.choice(4, 1000, p=p))
