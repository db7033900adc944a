"""Policy attribution: Shapley values that recover known contributions, split a planted
interaction equally and always add up; the same numbers for 1 and 2 workers and after an
interruption; bad group files are one line and write nothing."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model.analysis.attribution import (
    attribute,
    coalition,
    load_groups,
    outcome_names,
    permutations,
    shapley_exact,
    shapley_sampled,
)
from model.cli import main
from model.scenario import load_scenario


def test_additive_outcome_gives_each_group_its_own_contribution():
    contributions = np.array([3.0, -1.5, 0.0, 7.25])
    values = shapley_exact(4, lambda s: np.array([sum(contributions[i] for i in s)]))
    np.testing.assert_allclose(values[:, 0], contributions, atol=1e-12)


def test_a_planted_interaction_is_split_equally_between_its_two_groups():
    # groups 0 and 1 together add 10 beyond their own 2 and 3; group 2 adds 1 on its own
    def v(s: frozenset[int]) -> np.ndarray:
        return np.array([2.0 * (0 in s) + 3.0 * (1 in s) + 1.0 * (2 in s)
                         + 10.0 * (0 in s and 1 in s)])

    values = shapley_exact(3, v)[:, 0]
    np.testing.assert_allclose(values, [2.0 + 5.0, 3.0 + 5.0, 1.0], atol=1e-12)
    sampled = shapley_sampled(3, v, permutations(3, 6, seed=1))[:, 0]
    np.testing.assert_allclose(sampled.sum(), 16.0, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=1, max_value=5), st.integers(min_value=0, max_value=2**31 - 1))
def test_shapley_values_add_up_to_the_total_difference(n, seed):
    """Efficiency, exactly, for any game; for sampled orders too."""
    rng = np.random.default_rng(seed)
    table = {frozenset(s): rng.normal(size=3) for r in range(n + 1)
             for s in itertools.combinations(range(n), r)}
    total = table[frozenset(range(n))] - table[frozenset()]
    np.testing.assert_allclose(shapley_exact(n, table.__getitem__).sum(axis=0), total, atol=1e-9)
    sampled = shapley_sampled(n, table.__getitem__, permutations(n, 5, seed))
    np.testing.assert_allclose(sampled.sum(axis=0), total, atol=1e-9)


@pytest.fixture()
def small(tmp_path):
    """The baseline and its counterfactual at a tenth of the firms."""
    for name in ("baseline", "no_new_policy"):
        (tmp_path / f"small_{name}.yaml").write_text(
            f"extends: {name}\nname: small_{name}\nrun:\n  population_scale: 0.1\n",
            encoding="utf-8")
    return (load_scenario(tmp_path / "small_baseline.yaml"),
            load_scenario(tmp_path / "small_no_new_policy.yaml"))


def test_coalitions_reach_both_scenarios(small):
    scenario, against = small
    groups = load_groups()
    assert coalition(scenario, against, groups, []).spec.policy == against.spec.policy
    assert coalition(scenario, against, groups, list(groups)).spec.policy == scenario.spec.policy


def test_same_numbers_for_one_and_two_workers_and_after_an_interruption(small, tmp_path):
    scenario, against = small
    groups = load_groups()
    one = attribute(scenario, against, groups, 3, 7, tmp_path / "one", workers=1)
    two = attribute(scenario, against, groups, 3, 7, tmp_path / "two", workers=2)
    np.testing.assert_array_equal(one.per_replication, two.per_replication)
    assert one.groups == ["funds", "awards", "chain_leaders", "approval"] and one.exact
    k = outcome_names().index("revenue_2026")
    np.testing.assert_allclose(one.per_replication[:, :, k].sum(axis=1),
                               (one.full - one.base)[:, k], rtol=1e-12, atol=1e-9)

    class Stop(Exception):
        pass

    def dies_after(count: int):  # noqa: ANN202
        def wrap(items, total):  # noqa: ANN001, ANN202
            for n, item in enumerate(items):
                if n == count:
                    raise Stop
                yield item
        return wrap

    folder = tmp_path / "killed"
    with pytest.raises(Stop):
        attribute(scenario, against, groups, 3, 7, folder, workers=1, progress=dies_after(20))
    saved = sorted(folder.glob("coalition_*.npz"))
    assert 0 < len(saved) < 16                      # some coalitions finished, not all
    resumed = attribute(scenario, against, groups, 3, 7, folder, workers=1)
    np.testing.assert_array_equal(resumed.per_replication, one.per_replication)


GROUPS = {
    "unknown key": ("groups:\n  a: {keys: [policy.instruments.no_such_fund]}\n",
                    "groups.a.keys", "not a policy key"),
    "in two groups": ("groups:\n  a: {keys: [policy.approval]}\n  b: {keys: [policy.approval]}\n",
                      "groups.b.keys", "one group only"),
    "nested overlap": ("groups:\n  a: {keys: [policy.instruments]}\n"
                       "  b: {keys: [policy.instruments.sme_fund]}\n", "groups.b.keys",
                       "one group only"),
    "empty group": ("groups:\n  a: {keys: []}\n", "groups.a.keys", "at least 1"),
    "no groups": ("groups: {}\n", "groups", "at least 1"),
}


@pytest.mark.parametrize("case", list(GROUPS))
def test_a_bad_groups_file_is_one_line_and_writes_nothing(tmp_path, capsys, case):
    text, key, words = GROUPS[case]
    path = tmp_path / "groups.yaml"
    path.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    code = main(["attribute", "baseline", "--groups", str(path), "--replications", "2",
                 "--out", str(out)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and not out.exists()
    assert len(err.splitlines()) == 1 and str(path) in err and key in err and words in err, err


def test_a_difference_no_group_covers_is_refused(small, tmp_path, capsys):
    path = tmp_path / "groups.yaml"
    path.write_text("groups:\n  approval: {keys: [policy.approval]}\n", encoding="utf-8")
    code = main(["attribute", str(tmp_path / "small_baseline.yaml"), "--against",
                 str(tmp_path / "small_no_new_policy.yaml"), "--groups", str(path),
                 "--replications", "2", "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "no group covers" in err and "policy.chain_leaders" in err


def test_a_scenario_against_itself_is_refused(small, tmp_path, capsys):
    code = main(["attribute", str(tmp_path / "small_baseline.yaml"), "--against",
                 str(tmp_path / "small_baseline.yaml"), "--replications", "2",
                 "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "nothing to attribute" in err and not (tmp_path / "out").exists()


def test_attribute_command_end_to_end(small, tmp_path):
    out = tmp_path / "attribution"
    assert main(["attribute", str(tmp_path / "small_baseline.yaml"), "--against",
                 str(tmp_path / "small_no_new_policy.yaml"), "--replications", "3",
                 "--workers", "2", "--out", str(out), "--quiet"]) == 0
    md = (out / "attribution.md").read_text(encoding="utf-8")
    assert "chain_leaders" in md and "sum of one-at-a-time effects" in md
    assert "Cost-effectiveness" in md and "same in both" in md
    assert (out / "figures" / "waterfall_revenue_2026.png").stat().st_size > 10_000
    csv = (out / "attribution.csv").read_text(encoding="utf-8")
    assert csv.startswith("group,outcome,shapley") and "(total),revenue_2026" in csv
