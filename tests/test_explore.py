"""Exploratory experiments: reproducible for any number of workers and after a kill, and bad
input to explore / what-it-takes is one line."""

import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

from model.cli import main
from tests.conftest import BASELINE, kill_group, start, write


@pytest.fixture
def small(tmp_path):
    return write(tmp_path, "small.yaml", f"extends: {BASELINE}\nname: small\n"
                 "run:\n  population_scale: 0.05\n")


def explore_args(scenario, out, workers=1, samples=6):
    return ["explore", "--scenario", str(scenario), "--samples", str(samples), "--replications",
            "2", "--workers", str(workers), "--out", str(out), "--quiet", "--posterior", "none",
            "--targets", "revenue_cagr_2023_2026", "lithium_revenue"]


def test_table_identical_for_one_and_two_workers(tmp_path, small):
    assert main(explore_args(small, tmp_path / "w1", 1)) == 0
    assert main(explore_args(small, tmp_path / "w2", 2)) == 0
    one = pd.read_parquet(tmp_path / "w1" / "experiments.parquet")
    two = pd.read_parquet(tmp_path / "w2" / "experiments.parquet")
    pd.testing.assert_frame_equal(one, two)
    assert len(one) == 12 and {"met_revenue_cagr_2023_2026", "upgrade_fund",
                               "carbonate_price_2026", "public_money_paid"} <= set(one.columns)
    assert "Scenario discovery" in (tmp_path / "w1" / "discovery.md").read_text()


@pytest.mark.slow
def test_killed_exploration_resumes_to_the_same_table(tmp_path, small):
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "model.cli", *explore_args(small, out, 1, samples=10)]
    proc = start(cmd)
    points = out / "points"
    deadline = time.time() + 120
    while time.time() < deadline and len(list(points.glob("point_*.json"))) < 2:
        time.sleep(0.1)
    kill_group(proc)
    done = len(list(points.glob("point_*.json")))
    assert 2 <= done < 10
    assert subprocess.run(cmd, capture_output=True, timeout=300).returncode == 0
    assert main(explore_args(small, tmp_path / "fresh", 1, samples=10)) == 0
    pd.testing.assert_frame_equal(pd.read_parquet(out / "experiments.parquet"),
                                  pd.read_parquet(tmp_path / "fresh" / "experiments.parquet"))


BAD = {
    "unknown lever": (["explore", "--levers", "free_money"], "free_money", "no such lever"),
    "unknown target": (["what-it-takes", "no_such_target"], "no_such_target", "no such target"),
    "unknown discovery target": (["explore", "--targets", "nope"], "nope", "no such target"),
}


@pytest.mark.parametrize("case", list(BAD), ids=list(BAD))
def test_bad_exploration_input_is_one_line(tmp_path, capsys, small, case):
    args, name, message = BAD[case]
    out = tmp_path / "out"
    assert main([*args, "--scenario", str(small), "--out", str(out), "--samples", "2",
                 "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and name in err and message in err, err
    assert not out.exists()


def test_sobol_command_writes_indices_with_intervals(tmp_path, small):
    out = tmp_path / "sobol"
    assert main(["sobol", "--scenario", str(small), "--samples", "4", "--replications", "1",
                 "--out", str(out), "--posterior", "none", "--quiet",
                 "--levers", "projects_per_year", "realisation_rate", "carbonate_price_2026"]) == 0
    indices = pd.read_csv(out / "sobol.csv")
    assert set(indices.outcome) == {"p_9pct", "revenue_2026"}
    assert len(indices) == 6 and {"S1", "S1_conf", "ST", "ST_conf"} <= set(indices.columns)
    assert len(pd.read_parquet(out / "experiments.parquet")) == 4 * (3 + 2)


def test_what_it_takes_confirms_each_package(tmp_path, small):
    out = tmp_path / "wit"
    assert main(["what-it-takes", "lithium_revenue", "--scenario", str(small), "--samples", "6",
                 "--replications", "1", "--confirm", "4", "--posterior", "none", "--out",
                 str(out), "--quiet"]) == 0
    rows = pd.read_csv(out / "what_it_takes.csv")
    assert list(rows["bar"]) == [0.5, 0.8] and set(rows["replications"]) == {4}
    assert ((rows["low"] <= rows["confirmed"]) & (rows["confirmed"] <= rows["high"])).all()
    assert (out / "figures" / "frontier.png").is_file()


def test_what_it_takes_finds_how_far_the_best_package_gets_without_a_worse_lever():
    """On a planted outcome (value = 3 a - b, out of reach), the search ranks the levers by
    their effect, never moves a lever the worse way from the scenario's value, and its best
    package is the one the regression says goes furthest."""
    from model.analysis.space import Dimension, Space
    from model.analysis.what_it_takes import lever_search

    dims = [Dimension(name=n, key=f"policy.{n}", range=(0.0, 1.0), limit=(0.0, 1.0), unit="u",
                      basis="test", better=better) for n, better in (("a", "up"), ("b", None))]
    space = Space(levers=dims)
    rng = np.random.default_rng(0)
    a, b = rng.random(400), rng.random(400)
    value = 3 * a - b + 0.05 * rng.standard_normal(400)
    table = pd.DataFrame({"a": a, "b": b, "value_t": value, "met_t": np.zeros(400)})
    base = {"a": 0.4, "b": 0.6}
    search = lever_search(table, space, "t", seed=1, base=base)
    assert [name for name, _ in search.movers] == ["a", "b"]
    assert search.movers[0][1] == pytest.approx(3 * 0.6, abs=0.15)     # a from 0.4 up to 1
    assert search.movers[1][1] == pytest.approx(0.6, abs=0.15)         # b from 0.6 down to 0
    assert (search.candidates["a"] >= 0.4 - 1e-9).all()               # never below the scenario
    assert (search.candidates["b"] <= 0.6 + 1e-9).all()               # the data say lower is better
    best = search.candidates.iloc[int(np.nanargmax(search.value))]
    assert best["a"] > 0.95 and best["b"] < 0.05
