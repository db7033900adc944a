"""What the verdicts rest on (partial rank correlations) and the measurement tables of a run."""

import numpy as np
import pytest

from model.analysis.drivers import prcc
from model.analysis.measurement import measurement_rows, physical_growth


def test_prcc_finds_the_input_that_drives_the_outcome_and_its_sign():
    rng = np.random.default_rng(1)
    x = rng.random((300, 3))
    y = np.exp(2.0 * x[:, 0]) - 1.5 * x[:, 2] + 0.05 * rng.standard_normal(300)
    r = prcc(x, y)
    assert r[0] > 0.9 and r[2] < -0.8
    assert abs(r[1]) < 0.2


def test_prcc_is_undefined_with_too_few_replications():
    assert np.isnan(prcc(np.ones((3, 4)), np.arange(3.0))).all()


def test_lithium_measured_growth_tracks_its_physical_volumes(baseline_run):
    """With the bureau's deflator the lithium chain's measured real growth is its volume
    growth: within 3 points of the same firms' tonnes and GWh every year, and of all firms'
    in 2022-2023 (later, firms that close drop out of the bureau's sample only)."""
    yearly = baseline_run.yearly[None]
    rows = {(r["year"], r["quantity"]): r["median"] for r in measurement_rows(yearly)
            if r["table"] == "lithium_growth"}
    for year in range(2022, 2027):
        assert abs(rows[(year, "measured_minus_same_firms_pp")]) < 3.0, year
    for year in (2022, 2023):
        assert rows[(year, "measured_real_growth_pct")] == pytest.approx(
            rows[(year, "physical_volume_growth_pct")], abs=3.0)
    assert np.isnan(physical_growth(yearly)[0, 0])          # no growth in the base year
