"""The statistics office's measure of real growth, tested on economies whose true volumes are
known: same firms, both sides valued at last year's average prices (可比价), month by month.

With the official deflator equal to the true price index, flat volumes must give zero growth
whatever prices do (a boom then a collapse across years, a trend inside one year), for every
scope, year to date and for the year; volumes 10% higher at constant prices must give +10%."""

import numpy as np
import pytest

from model.statistics import MONTHLY, derived_yearly
from model.structure import IS_LITHIUM, SCOPES, SEGMENT_INDEX
from tests.test_real_growth import stationary

PREV, BASE = MONTHLY.index("value_added_prevprice"), MONTHLY.index("value_added_base")


def calm_economy(small_baseline):
    """The stationary economy with no anchor plants opening (their whole output is growth)."""
    calm = small_baseline.with_parameters({
        "anchor_size_factor": {name: 0.05 for name in small_baseline.parameters.anchor_size_factor}})
    model = stationary(calm)
    model.params.override("shutdown_band", 1.0)
    model.params.override("spillover_share", 1.0)   # no orders lost to firms at capacity
    return model


def price_path() -> np.ndarray:
    """A carbonate-style boom (x3.5 over 2022), a collapse (to 0.8 over 2023) and a trend
    inside 2024 (+40% from January to December), flat after."""
    t = np.arange(60)
    path = np.ones(60)
    path[:12] = np.linspace(1.2, 3.5, 12)
    path[12:24] = np.linspace(3.2, 0.8, 12)
    path[24:36] = np.linspace(0.8, 1.12, 12)
    path[36:] = 1.0
    return path[t]


def ytd_growth(monthly: np.ndarray) -> np.ndarray:
    """Year-to-date same-firm growth, %: (months, scopes)."""
    prev = monthly[:, :, PREV].reshape(5, 12, -1).cumsum(axis=1).reshape(60, -1)
    base = monthly[:, :, BASE].reshape(5, 12, -1).cumsum(axis=1).reshape(60, -1)
    return 100.0 * (prev / np.where(base > 0, base, np.nan) - 1.0)


def scopes_with_firms(model) -> list[int]:
    base = model.recorder.monthly[12: model.t, :, BASE].min(axis=0)
    return [s for s in range(len(SCOPES)) if base[s] > 0]


def run_tracking_volumes(model, months: int) -> np.ndarray:
    """Run, keeping the true same-firm volume growth year to date, % (months, scopes): each
    firm's physical output this month and in the same month a year before, both valued at
    last year's average price and value-added ratio of its industry, over the firms in the
    statistics this month. Computed from volumes, not from revenue and deflators."""
    volumes, true = [], np.full((months, len(SCOPES)), np.nan)
    num = np.zeros(len(SCOPES))
    den = np.zeros(len(SCOPES))
    for t in range(months):
        if t % 12 == 0:
            num[:], den[:] = 0.0, 0.0
        deflator = model.deflator_last_year.copy()   # December's close sets next year's
        model.step()
        f = model.f
        volumes.append(np.pad(f.volume.copy(), (0, 10 * f.n)))
        if t < 12:
            continue
        counted = f.alive & f.above_scale
        weight = (deflator * model.segment_va_ratio)[f.segment] * counted
        scopes = model.scope_groups.weights(f.n)
        num += (volumes[t][: f.n] * weight) @ scopes
        den += (volumes[t - 12][: f.n] * weight) @ scopes
        true[t] = 100.0 * (num / np.where(den > 0, den, np.nan) - 1.0)
    return true


def test_flat_volumes_give_zero_growth_whatever_prices_do(small_baseline):
    model = calm_economy(small_baseline)
    c = model.conditions
    path = price_path()
    # every price moves together (outputs, inputs, wages), so margins and volumes stay put
    c.price[:] = path[:, None]
    c.other_price[:] = path
    c.lithium_index[:] = path
    c.official_adjust[:] = 1.0
    model.params.override("concentrate_floor", 0.0)
    true = run_tracking_volumes(model, 48)
    scopes = scopes_with_firms(model)
    measured = ytd_growth(model.recorder.monthly)[12:48][:, scopes]
    # the measure equals the true volume growth, month by month, for every scope ...
    assert np.nanmax(np.abs(measured - true[12:48][:, scopes])) < 0.01
    # ... which is flat up to the calm economy's own drift (firms at capacity passing orders
    # on, shares settling): under 0.1 pp for the city, 0.5 pp in the smallest scopes
    yearly = derived_yearly(model.recorder.yearly)["value_added_real_growth_pct"]
    assert np.nanmax(np.abs(measured)) < 0.5
    assert np.abs(yearly[2:5][:, scopes]).max() < 0.5
    assert np.abs(yearly[2:5, SCOPES.index("total")]).max() < 0.1


def test_ten_percent_more_volume_at_constant_prices_is_ten_percent(small_baseline):
    model = calm_economy(small_baseline)
    c = model.conditions
    c.real_demand[12:] *= 1.10        # 2023: every segment sells 10% more, then stays there
    # (the lithium firms start near full use and the refiners sell what they can make: their
    # usable capacity rises 10% too)
    c.capacity_factor[12:, np.array(IS_LITHIUM)] *= 1.10
    model.run(36)
    yearly = derived_yearly(model.recorder.yearly)["value_added_real_growth_pct"]
    city = SCOPES.index("total")
    assert yearly[2, city] == pytest.approx(10.0, abs=0.3)     # 2023 over 2022
    assert yearly[3, city] == pytest.approx(0.0, abs=0.3)      # 2024 flat again
    ytd = ytd_growth(model.recorder.monthly)
    assert np.abs(ytd[12:24, city] - 10.0).max() < 0.5


def test_a_deflator_that_ignores_carbonate_counts_its_boom_as_volume(small_baseline):
    """The sensitivity case: with the official deflator of lithium output following carbonate
    with elasticity 0 (the loophole of earlier rounds), the same flat volumes show a boom."""
    model = calm_economy(small_baseline)
    c = model.conditions
    path = price_path()
    c.lithium_index[:] = path
    c.price[:, :] = 1.0
    upstream = SCOPES.index("li_upstream")
    s = SEGMENT_INDEX["li_upstream"]
    c.price[:, s] = path
    c.official_adjust[:, s] = 1.0 / path       # official deflator flat: carbonate's price unseen
    model.params.override("concentrate_floor", 0.0)
    model.run(24)
    yearly = derived_yearly(model.recorder.yearly)["value_added_real_growth_pct"]
    assert yearly[1, upstream] > 50.0     # the 2022 boom shows as volume
