"""Accounting identities, as hypothesis property tests over random states and policies."""

import copy

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from model.economy import YichunModel
from model.government import Government
from model.mechanisms import market, production
from model.structure import CHAINS

PROPERTY = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


@PROPERTY
@given(months=st.integers(0, 30), price_shift=st.floats(0.2, 3.0), seed=st.integers(0, 2**16))
def test_revenue_is_price_times_volume(small_baseline, months, price_shift, seed):
    model = YichunModel(small_baseline, seed=seed)
    for _ in range(months):
        model.step()
    model.conditions.price[model.t] *= price_shift
    market.allocate_demand(model)
    production.produce(model)
    f = model.f
    price = production.competitive_price(model)
    assert np.allclose(f.revenue, price[f.segment] * f.volume)
    by_segment = np.bincount(f.segment, f.revenue, minlength=model.n_segments)
    volume = np.bincount(f.segment, f.volume, minlength=model.n_segments)
    assert np.allclose(by_segment, price * volume)
    assert (f.volume <= f.capacity * model.params.max_utilisation + 1e-12).all()


class _Rules(Government):
    """The government's payment rules with a fixed month's budget and no model behind."""

    def __init__(self, budget: float) -> None:  # no Mesa registration: rules only
        self.budget, self.recorded = budget, []

    def available(self, name: str, t: int) -> float:
        return self.budget

    def record(self, name, t, firms, amounts) -> None:
        self.recorded.append(amounts.copy())


@settings(max_examples=200, deadline=None)
@given(requests=arrays(float, st.integers(0, 40), elements=st.floats(0.0, 5.0)),
       budget=st.floats(0.0, 20.0), month=st.integers(0, 59), data=st.data())
def test_payments_equal_recorded_awards_within_budget(requests, budget, month, data):
    scores = data.draw(arrays(float, requests.size, elements=st.floats(-10, 10)))
    gov = _Rules(budget)
    paid = gov.allocate("tech_upgrade_fund", month, np.arange(requests.size), requests, scores)
    recorded = sum(a.sum() for a in gov.recorded)
    assert paid.sum() <= budget + 1e-9
    assert np.isclose(paid.sum(), recorded)
    assert np.all((paid == 0) | (paid == requests))      # a request is paid whole or not at all
    # best score first, while the month's money lasts
    order = np.argsort(-scores, kind="stable")
    fits = (np.cumsum(requests[order]) <= budget + 1e-12) & (budget > 0)
    assert np.array_equal(paid[order], np.where(fits, requests[order], 0.0))


@PROPERTY
@given(months=st.integers(1, 40), seed=st.integers(0, 2**16))
def test_statistics_are_sums_over_firms(small_baseline, months, seed):
    model = YichunModel(small_baseline, seed=seed)
    for _ in range(months):
        model.step()
    f, t = model.f, model.t - 1
    above = f.above_scale & f.alive
    monthly = model.recorder.monthly[t]
    from model.statistics import MONTHLY
    k = MONTHLY.index("revenue")
    assert np.isclose(monthly[0, k], (f.revenue * above).sum())
    for c, _chain in enumerate(CHAINS):
        assert np.isclose(monthly[1 + c, k], (f.revenue * above * f.member[:, c]).sum())
    assert np.isclose(monthly[0, MONTHLY.index("above_scale_firms")], above.sum())
    # chains overlap: their sum is at least the chain firms' total, never less
    assert monthly[1 : 1 + len(CHAINS), k].sum() >= (f.revenue * above * f.member.any(1)).sum() - 1e-9


def test_year_is_sum_of_its_months(baseline_run):
    from model.statistics import FLOWS, MONTHLY, YEARLY
    for name in FLOWS:
        k, j = MONTHLY.index(name), YEARLY.index(name)
        months = baseline_run.monthly[:, :, k].reshape(5, 12, -1).sum(axis=1)
        assert np.allclose(baseline_run.yearly[1:, :, j], months), name


def test_year_end_counts_and_stocks_are_read_from_the_firms(small_baseline):
    """December closes the year: size counts over the year's revenue so far, per scope, and
    stocks as the year's last month (read before January resets revenue so far)."""
    from model.statistics import COUNTS, MONTHLY, PLAN_START, STOCKS, YEARLY
    model = YichunModel(small_baseline, seed=5).run(24)
    f, yearly = model.f, model.recorder.yearly[2]
    above = f.above_scale & f.alive
    new = f.born_month >= PLAN_START
    expected = {f"firms_over_{k}yi": above & (f.revenue_ytd >= k) for k in (5, 10, 50, 100)}
    expected |= {f"plan_new_firms_over_{k}yi": above & new & (f.revenue_ytd >= k) for k in (5, 10)}
    assert set(expected) == set(COUNTS)
    for name, firms in expected.items():
        j = YEARLY.index(name)
        assert yearly[0, j] == firms.sum(), name
        for c in range(len(CHAINS)):
            assert yearly[1 + c, j] == (firms & f.member[:, c]).sum(), (name, CHAINS[c])
    december = model.recorder.monthly[23]
    for name in STOCKS:
        assert np.array_equal(yearly[:, YEARLY.index(name)], december[:, MONTHLY.index(name)])


def test_deepcopy_of_a_model_runs_identically(small_baseline):
    a = YichunModel(small_baseline, seed=3)
    for _ in range(5):
        a.step()
    b = copy.deepcopy(a)
    a.run()
    b.run()
    assert np.array_equal(a.recorder.yearly, b.recorder.yearly)
