"""Targets: built from the facts; the probability estimator and its interval; compare."""

import numpy as np
import pytest

from model.cli import main
from model.compare import probability_difference
from model.runner import YEARLY_STATS
from model.statistics import YEARS
from model.structure import SCOPES
from model.targets import evaluate, facts_value, load_targets, targets_markdown, wilson_interval
from tests.conftest import BASELINE, write


def test_every_threshold_comes_from_the_facts():
    targets = load_targets()
    for t in targets.targets:
        value = facts_value(t.facts_key)
        if t.derived:
            assert t.threshold == pytest.approx(5094.6 * 1.09**4, abs=0.1)
        elif isinstance(value, list):
            assert t.threshold == min(value)          # "1-2 firms": at least the lower end
        else:
            assert t.threshold == pytest.approx(value), t.id
    assert len(targets.targets) >= 30 and len(targets.not_represented) >= 5


def synthetic_yearly(values_2026: np.ndarray, stat: str, scope: str) -> np.ndarray:
    yearly = np.ones((values_2026.size, len(YEARS), len(SCOPES), len(YEARLY_STATS)))
    yearly[:, YEARS.index(2026), SCOPES.index(scope), YEARLY_STATS.index(stat)] = values_2026
    return yearly


def test_probability_and_quantiles_on_synthetic_data():
    targets = load_targets()
    values = np.arange(1000, dtype=float) * 3.0      # 0 .. 2997; lithium target 2500
    rows = {r["target"]: r for r in evaluate(targets, synthetic_yearly(
        values, "revenue_chain_published", "lithium"))}
    row = rows["lithium_revenue"]
    assert row["probability"] == pytest.approx((values >= 2500).mean())
    assert row["probability_low"] < row["probability"] < row["probability_high"]
    assert row["median_2026"] == pytest.approx(np.median(values))
    assert row["p10_2026"] == pytest.approx(np.quantile(values, 0.1))


def test_cagr_target_on_synthetic_data():
    targets = load_targets()
    yearly = np.ones((4, len(YEARS), len(SCOPES), len(YEARLY_STATS)))
    k, s = YEARLY_STATS.index("revenue"), SCOPES.index("total")
    yearly[:, YEARS.index(2022), s, k] = 100.0
    yearly[:, YEARS.index(2026), s, k] = 100.0 * np.array([1.08, 1.09, 1.10, 1.2]) ** 4
    rows = {r["target"]: r for r in evaluate(targets, yearly)}
    assert rows["revenue_cagr_2023_2026"]["probability"] == pytest.approx(0.75)


def test_wilson_interval_covers_at_its_level():
    rng = np.random.default_rng(0)
    for p in (0.02, 0.3, 0.5):
        hits = 0
        for _ in range(2000):
            k = rng.binomial(200, p)
            low, high = wilson_interval(k, 200)
            hits += low <= p <= high
        assert 0.92 <= hits / 2000 <= 0.98, p
    assert wilson_interval(0, 50)[0] == 0.0 and wilson_interval(0, 50)[1] > 0.0


def test_probability_difference_error():
    d, se = probability_difference(50, 100, 70, 100)
    assert d == pytest.approx(0.2) and 0.05 < se < 0.08
    d, se = probability_difference(0, 100, 0, 100)
    assert d == 0 and se > 0


def test_compare_writes_table_and_fan_charts(tmp_path):
    folders = []
    for name, extra in (("base", ""), ("nopolicy", "policy:\n  approval:\n    reform_start: 2030-01\n")):
        path = write(tmp_path, f"{name}.yaml", f"extends: {BASELINE}\nname: {name}\n"
                     f"run:\n  population_scale: 0.15\n{extra}")
        out = tmp_path / name
        assert main(["run", str(path), "--replications", "3", "--out", str(out), "--quiet"]) == 0
        folders.append(str(out))
    assert main(["compare", *folders, "--out", str(tmp_path / "cmp")]) == 0
    table = (tmp_path / "cmp" / "comparison.csv").read_text()
    assert "nopolicy_minus_base" in table and "lithium_revenue" in table
    assert (tmp_path / "cmp" / "figures" / "fan_chain_revenue.png").stat().st_size > 10_000
    assert "Δ nopolicy" in (tmp_path / "cmp" / "comparison.md").read_text()
    assert main(["compare", str(tmp_path / "nothing")]) == 2


def test_chain_targets_without_a_published_base_are_flagged_as_prior_decided():
    """No publication gives the non-lithium chains' 2021 revenue, so their targets' probabilities
    rest on a prior: every such row says so, lithium's (with published bases) does not."""
    targets = load_targets()
    rows = {r["target"]: r for r in evaluate(targets, synthetic_yearly(np.ones(10), "revenue", "total"))}
    assert rows["lithium_revenue"]["evidence"] == "data"
    for chain in ("circular", "building", "electronics", "equipment", "textile"):
        assert rows[f"{chain}_revenue"]["evidence"] == "prior", chain
    assert "†" in targets_markdown(list(rows.values()), targets)
