"""Regression-adjusted ABC on a model whose posterior is known in closed form.

theta ~ N(0, 1); three summaries s_j = a_j theta + noise of sd 1, observed with no further
error. The exact posterior is normal with precision 1 + sum(a_j^2): the adjusted sample must
match its mean and sd, and across truths drawn from the prior its 90% intervals must cover
about 90% of them (simulation-based calibration).
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model.calibration.observations import load_observations, standardised_gap, standardised_gaps
from model.calibration.regression import Transform, adjust, rank_statistic

A = np.array([1.0, 0.5, 0.0])  # the third summary is pure noise
IDENTITY = Transform(["none"], np.zeros(1), np.ones(1))


def table(rng, n=20000):
    theta = rng.standard_normal((n, 1))
    return theta, theta * A + rng.standard_normal((n, 3))


def exact(observed):
    precision = 1 + np.sum(A * A)
    return np.sum(A * observed) / precision, precision ** -0.5


def test_adjusted_posterior_matches_the_exact_one():
    rng = np.random.default_rng(1)
    theta, sims = table(rng)
    observed = np.array([0.8, 0.2, -1.0])
    post, _ = adjust(theta, sims - observed, 0.05, IDENTITY)
    mean = np.average(post.values[:, 0], weights=post.weights)
    sd = np.sqrt(np.average((post.values[:, 0] - mean) ** 2, weights=post.weights))
    m, s = exact(observed)
    assert abs(mean - m) < 0.05 and abs(sd / s - 1) < 0.1


def test_rejection_alone_is_wider_than_the_adjusted_posterior():
    rng = np.random.default_rng(2)
    theta, sims = table(rng)
    gaps = sims - np.array([0.8, 0.2, -1.0])
    distance = np.sqrt((gaps ** 2).sum(axis=1))
    kept = theta[np.argsort(distance)[:1000], 0]
    post, _ = adjust(theta, gaps, 0.05, IDENTITY)
    assert post.values[:, 0].std() < kept.std()


def test_intervals_cover_about_ninety_percent_of_prior_truths():
    rng = np.random.default_rng(3)
    theta, sims = table(rng, 10000)
    inside, ranks = [], []
    for _ in range(200):
        truth = rng.standard_normal()
        observed = truth * A + rng.standard_normal(3)
        post, _ = adjust(theta, sims - observed, 0.05, IDENTITY)
        lo, hi = post.quantile(np.array([0.05, 0.95]))[:, 0]
        inside.append(lo <= truth <= hi)
        ranks.append(rank_statistic(post.resample(99, rng)[:, 0], truth))
    assert 0.84 <= np.mean(inside) <= 0.96
    hist, _ = np.histogram(ranks, bins=5, range=(0, 100))
    assert hist.min() > 20  # no bin emptied: ranks spread over the whole range


def test_adjusted_values_stay_in_a_bounded_prior_support():
    rng = np.random.default_rng(4)
    theta = rng.uniform(0.0, 1.0, (5000, 1))
    sims = theta + 0.05 * rng.standard_normal((5000, 1))
    logit = Transform(["logit"], np.zeros(1), np.ones(1))
    post, _ = adjust(theta, sims - 0.99, 0.1, logit)
    assert post.values.min() > 0.0 and post.values.max() < 1.0


def test_forecasts_are_adjusted_like_parameters():
    """A future quantity equal to theta plus noise is forecast around the posterior of theta."""
    rng = np.random.default_rng(5)
    theta, sims = table(rng)
    future = theta + 0.1 * rng.standard_normal(theta.shape)
    observed = np.array([0.8, 0.2, -1.0])
    post, pred = adjust(theta, sims - observed, 0.05, IDENTITY, extra=future)
    assert abs(pred.quantile(0.5)[0] - post.quantile(0.5)[0]) < 0.05


OBS = load_observations().observations


@given(st.sampled_from(OBS), st.floats(-1e6, 1e6, allow_nan=False))
@settings(max_examples=200, deadline=None)
def test_table_gaps_equal_the_single_gap(obs, value):
    """The vectorised summaries agree with the per-observation definition for every kind."""
    assert standardised_gaps([obs], np.array([[value]]))[0, 0] == pytest.approx(
        standardised_gap(obs, value), abs=1e-9)


def test_forecast_errors_and_the_diebold_mariano_test():
    from model.calibration.forecast import diebold_mariano, error

    obs = {o.id: o for o in OBS}
    assert error(obs["carbonate_output_2022"], 150000.0) == 0.0          # a bound that is met
    assert error(obs["carbonate_output_2022"], 130000.0) == 10000.0
    assert error(obs["va_level_2022"], 1050.0) == 0.0                    # inside the interval
    assert error(obs["rev_2022"], 5000.0) == pytest.approx(94.6)
    rng = np.random.default_rng(0)
    naive = np.abs(rng.normal(0, 1, 40)) + 1.0
    better = diebold_mariano(naive - 0.8 + rng.normal(0, 0.3, 40), naive)
    assert better["statistic"] < 0 and better["p_value"] < 0.01
    assert diebold_mariano(naive[:3], naive[:3] + 1) is None             # too few points
