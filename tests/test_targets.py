"""Targets: built from the facts; the probability estimator and its interval; compare."""

import numpy as np
import pytest

from model.analysis.compare import paired_difference
from model.analysis.targets import evaluate, facts_value, load_targets, targets_markdown, wilson_interval
from model.cli import main
from model.runner import YEARLY_STATS
from model.statistics import YEARS
from model.structure import SCOPES
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


def test_paired_difference_sees_a_small_effect_under_shared_noise():
    """A constant +1 under noise of sd 50 shared by both runs: the paired interval is tight
    and flags it; the same numbers with the noise not shared would not."""
    rng = np.random.default_rng(0)
    shared = rng.normal(0, 50, 100)
    d, se, flag = paired_difference(shared, shared + 1 + rng.normal(0, 0.5, 100))
    assert flag and abs(d - 1) < 0.2 and se < 0.1
    d, se, flag = paired_difference(shared, rng.normal(0, 50, 100) + 1)
    assert se > 5
    assert paired_difference(np.zeros(5), np.zeros(5))[2] is False
    assert paired_difference(np.zeros(5), np.ones(5))[2] is True   # every replication agrees


def small_run(tmp_path, name: str, replications: int, extra: str = "", seed: int | None = None):
    path = write(tmp_path, f"{name}.yaml", f"extends: {BASELINE}\nname: {name}\n"
                 f"run:\n  population_scale: 0.1\n{extra}")
    out = tmp_path / f"{name}_{replications}_{seed}"
    args = ["run", str(path), "--replications", str(replications), "--out", str(out), "--quiet",
            "--posterior", "none", "--workers", "2"]
    assert main(args + (["--seed", str(seed)] if seed is not None else [])) == 0
    return str(out)


PUSH = "policy:\n  attraction:\n    projects_per_year: 700\n    realisation_rate: 0.9\n"


def test_compare_is_paired_truncates_to_common_replications_and_flags_a_real_effect(tmp_path):
    base200 = small_run(tmp_path, "base", 40)
    base100 = small_run(tmp_path, "base", 20)
    push = small_run(tmp_path, "push", 20, PUSH)
    assert main(["compare", base200, push, "--out", str(tmp_path / "c200")]) == 0
    assert main(["compare", base100, push, "--out", str(tmp_path / "c100")]) == 0
    table = (tmp_path / "c200" / "comparison.csv").read_text()
    assert table == (tmp_path / "c100" / "comparison.csv").read_text()
    rows = {(r.split(",")[0], r.split(",")[1]): r.split(",") for r in table.splitlines()[1:]}
    revenue = rows[("value_2026", "revenue")]
    assert float(revenue[5]) > 0 and revenue[-1] == "true"   # 700 projects a year raise revenue
    assert "over the 20 replications" in (tmp_path / "c200" / "comparison.md").read_text()
    assert (tmp_path / "c200" / "figures" / "fan_chain_revenue.png").stat().st_size > 10_000


def test_compare_refuses_runs_on_other_seeds(tmp_path, capsys):
    a = small_run(tmp_path, "base", 3)
    b = small_run(tmp_path, "base", 3, seed=7)
    assert main(["compare", a, b, "--out", str(tmp_path / "cmp")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "seed" in err
    assert not (tmp_path / "cmp").exists()
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
