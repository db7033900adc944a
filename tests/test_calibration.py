"""Calibration: observations, their errors, the seeded resumable reference table, its posterior,
stamping and refusal, synthetic recovery, rolling-origin forecasts."""

import json
import subprocess
import sys
import time

import numpy as np
import pytest

from model.calibration.abc import Table, build_table, load_config, load_table, run_calibration
from model.calibration.observations import (
    OBSERVATIONS_FILE,
    load_observations,
    simulated,
    standardised_gaps,
)
from model.calibration.recovery import recovery_check
from model.errors import InputError
from model.runner import YEARLY_STATS
from model.statistics import MONTHLY, YEARS
from model.structure import SCOPES
from tests.conftest import BASELINE, kill_at_random_moments, kill_group, start, write


def test_every_usable_fact_is_mapped_or_explained():
    from model.facts import load_facts

    obs = load_observations()
    mapped = {o.fact for o in obs.observations} | {u.fact for u in obs.unusable}
    assert mapped == {o.id for o in load_facts().observed}


BAD = {
    "unknown statistic": ("statistic: revenue", "statistic: revenu", "unknown yearly statistic"),
    "period out of reach": ("period: {year: 2022}\n    kind: level\n    sd_relative: 0.03",
                            "period: {year: 2030}\n    kind: level\n    sd_relative: 0.03",
                            "produces years"),
    "month before 2022": ('period: {month: "2022-09"}', 'period: {month: "2021-09"}',
                          "outside the months"),
    "negative uncertainty": ("sd: 1.5\n", "sd: -1.5\n", "cannot be negative"),
}


@pytest.mark.parametrize("case", list(BAD), ids=list(BAD))
def test_malformed_observation_names_it(tmp_path, case):
    old, new, message = BAD[case]
    text = OBSERVATIONS_FILE.read_text(encoding="utf-8")
    assert old in text
    path = write(tmp_path, "obs.yaml", text.replace(old, new, 1))
    with pytest.raises(InputError) as err:
        load_observations(path)
    msg = str(err.value)
    assert message in msg and "obs.yaml" in msg and "observations[" in msg


def test_unknown_observation_to_exclude_is_an_error():
    with pytest.raises(InputError, match="no observation with this id"):
        load_observations(exclude=["nope"])


def fake_arrays():
    yearly = np.zeros((len(YEARS), len(SCOPES), len(YEARLY_STATS)))
    monthly = np.zeros((60, len(SCOPES), len(MONTHLY)))
    k = MONTHLY.index("revenue")
    monthly[:, 0, k] = np.arange(60) + 1.0            # revenue in month t is t + 1
    monthly[:, 0, MONTHLY.index("above_scale_firms")] = 100 + np.arange(60)
    yearly[:, 0, YEARLY_STATS.index("revenue")] = [10, 20, 25, 30, 40, 50]
    return yearly, monthly


def test_simulated_quantities_per_period_and_kind():
    obs = {o.id: o for o in load_observations().observations}
    yearly, monthly = fake_arrays()
    assert simulated(obs["rev_2022"], yearly, monthly) == 20
    q1 = obs["lithium_rev_2022_q1"].model_copy(update={"scope": "total", "statistic": "revenue"})
    assert simulated(q1, yearly, monthly) == 1 + 2 + 3          # January-March summed
    firms = obs["above_scale_firms_2022"].model_copy(update={"scope": "total"})
    assert simulated(firms, yearly, monthly) == 100 + 8          # September 2022 stock
    growth = obs["etdz_revenue_growth_2025"].model_copy(
        update={"scope": "total", "kind": "growth_pct", "denominator": None})
    ytd_2025, ytd_2024 = sum(range(37, 48)), sum(range(25, 36))
    assert simulated(growth, yearly, monthly) == pytest.approx(100 * (ytd_2025 / ytd_2024 - 1))


def gaps_of(obs_id: str, *values: float) -> list[float]:
    obs = [o for o in load_observations().observations if o.id == obs_id]
    return standardised_gaps(obs, np.array(values)[:, None])[:, 0].tolist()


def test_lower_bound_is_one_sided():
    assert gaps_of("carbonate_output_2022", 300000.0, 126000.0) == [0.0, pytest.approx(-2.0)]


def test_interval_counts_only_outside():
    """突破千亿: 2022 value added between 1000 and 1090 亿 costs nothing; outside, by the sd."""
    obs = [o for o in load_observations().observations if o.id == "va_level_2022"]
    assert obs[0].kind == "interval" and obs[0].value == 1000 and obs[0].upper == 1090
    assert gaps_of("va_level_2022", 1050.0, 1150.0, 970.0) == [0.0, pytest.approx(2.0),
                                                               pytest.approx(-1.0)]


def test_same_firm_growth_is_a_ratio_of_two_statistics():
    obs = {o.id: o for o in load_observations().observations}["va_growth_2022"]
    assert obs.kind == "same_firm_growth_pct" and obs.denominator == "value_added_base"
    yearly, monthly = fake_arrays()
    from model.runner import YEARLY_STATS

    yearly[1, 0, YEARLY_STATS.index("value_added_prevprice")] = 109.0
    yearly[1, 0, YEARLY_STATS.index("value_added_base")] = 100.0
    assert simulated(obs, yearly, monthly) == pytest.approx(9.0)


def test_undefined_statistic_is_a_bad_fit_not_an_impossible_one():
    obs = [o for o in load_observations().observations if o.id in ("rev_2022", "va_growth_2022")]
    gaps = standardised_gaps(obs, np.array([[5094.6, float("nan")]]))
    assert gaps.tolist() == [[0.0, 10.0]]


TINY_OBSERVATIONS = ["lithium_rev_2021", "lithium_rev_2022", "lithium_rev_2022_q1", "rev_2022",
                     "lithium_profit_2022"]


def tiny_config(tmp_path, params, name="calib.yaml", **abc):
    """A small calibration: a tenth of the firms, five observations, a short table."""
    settings = {"simulations": 60, "tolerance": 0.5, "chunk": 12, "posterior_draws": 12, **abc}
    body = "\n".join(f"  {k}: {v}" for k, v in settings.items())
    others = [o.id for o in load_observations().observations if o.id not in TINY_OBSERVATIONS]
    return write(tmp_path, name, f"""name: tiny
scenario: {BASELINE}
observations: {OBSERVATIONS_FILE}
parameters: [{", ".join(params)}]
exclude: [{", ".join(others)}]
seed: 5
workers: 1
population_scale: 0.1
stop_month: 2022-12
abc:
{body}
""")


def test_table_and_posterior_identical_for_one_and_two_workers(tmp_path):
    config = tiny_config(tmp_path, ["nonlithium_demand_shock_2022"])
    results = []
    for workers in (1, 2):
        calib = load_config(config)
        calib.config.workers = workers
        run_calibration(calib, tmp_path / f"w{workers}", progress=False)
        results.append(((tmp_path / f"w{workers}" / "draws.json").read_text(),
                        load_table(calib, tmp_path / f"w{workers}").clean))
    assert results[0][0] == results[1][0]
    assert np.array_equal(results[0][1], results[1][1], equal_nan=True)


def test_a_larger_budget_extends_the_same_table(tmp_path):
    config = tiny_config(tmp_path, ["nonlithium_demand_shock_2022"], simulations=24)
    out = tmp_path / "post"
    run_calibration(load_config(config), out, progress=False)
    first = load_table(load_config(config), out)
    calib = load_config(config)
    calib.config.abc.simulations = 36
    manifest = run_calibration(calib, out, progress=False)
    second = load_table(calib, out)
    assert manifest["rows_reused"] == 24 and second.n == 36
    assert np.array_equal(second.theta[:24], first.theta)


@pytest.mark.parametrize("change", ["seed: 6", "exclude: []"])
def test_resuming_a_folder_made_otherwise_is_refused(tmp_path, change):
    config = tiny_config(tmp_path, ["nonlithium_demand_shock_2022"], simulations=20)
    out = tmp_path / "post"
    run_calibration(load_config(config), out, progress=False)
    text = config.read_text()
    key = change.split(":")[0]
    changed = "\n".join(change if line.startswith(f"{key}:") else line
                        for line in text.splitlines())
    other = write(tmp_path, "other.yaml", changed)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    result = subprocess.run([sys.executable, "-m", "model.cli", "calibrate", str(other), "--out",
                             str(out), "--quiet", "--no-fit"], capture_output=True, text=True)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "other" in result.stderr
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_killed_calibration_resumes_to_the_same_table(tmp_path):
    config = tiny_config(tmp_path, ["nonlithium_demand_shock_2022"], simulations=72, chunk=6)
    out = tmp_path / "post"
    cmd = [sys.executable, "-m", "model.cli", "calibrate", str(config), "--out", str(out),
           "--quiet", "--no-fit"]
    proc = start(cmd)
    table = out / "reference.npz"
    deadline = time.time() + 180
    while time.time() < deadline and not table.exists():
        time.sleep(0.1)
    kill_group(proc)
    assert table.exists(), "no chunk saved before the kill"
    done = Table.load(table, 1, len(load_config(config).all_observations)).n
    assert done < 72
    resumed = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["rows_reused"] >= done and manifest["total_simulations"] == 72
    fresh = tmp_path / "fresh"
    run_calibration(load_config(config), fresh, progress=False)
    assert (fresh / "draws.json").read_text() == (out / "draws.json").read_text()


def test_synthetic_recovery_covers(tmp_path):
    """Two parameters the lithium figures speak to, 30 truths: 90% intervals cover most of
    them and the data narrow the posterior (the closed-form check is test_abc_regression)."""
    config = tiny_config(tmp_path, ["revenue_2021.li_upstream", "lithium_chain_outside_share"],
                         simulations=240, tolerance=0.3)
    calib = load_config(config)
    calib.config.workers = 2
    table, _ = build_table(calib, tmp_path / "post", progress=False)
    result = recovery_check(calib, table, 30, tmp_path / "post")
    upstream = result["per_parameter"]["revenue_2021__li_upstream"]
    assert min(p["posterior_over_prior_sd"] for p in result["per_parameter"].values()) < 0.95
    assert 0.75 <= result["overall_coverage_90"] <= 1.0
    assert sum(upstream["rank_histogram"]) == result["truths_feasible"]
    assert "rank histogram" in (tmp_path / "post" / "recovery.md").read_text()


def test_calibration_on_dask_matches_local_processes(tmp_path):
    config = tiny_config(tmp_path, ["nonlithium_demand_shock_2022"], simulations=24)
    local = load_config(config)
    local.config.workers = 2
    run_calibration(local, tmp_path / "local", progress=False)
    remote = load_config(config)
    remote.config.workers = 2
    run_calibration(remote, tmp_path / "dask", progress=False, executor="dask")
    assert ((tmp_path / "local" / "draws.json").read_text()
            == (tmp_path / "dask" / "draws.json").read_text())


@pytest.mark.slow
def test_five_kills_of_a_calibration_then_resume_identically(tmp_path):
    """A calibration killed five times at random moments (seeded) resumes to the draws an
    uninterrupted one gives."""
    config = tiny_config(tmp_path, ["nonlithium_demand_shock_2022"], simulations=96, chunk=6)
    out = tmp_path / "post"
    cmd = [sys.executable, "-m", "model.cli", "calibrate", str(config), "--out", str(out),
           "--quiet", "--no-fit"]
    kill_at_random_moments(cmd, seed=12, low=2.0, high=6.0)
    resumed = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    fresh = tmp_path / "fresh"
    run_calibration(load_config(config), fresh, progress=False)
    assert (fresh / "draws.json").read_text() == (out / "draws.json").read_text()


def test_a_corrupt_reference_table_is_one_line(tmp_path, capsys):
    from model.cli import main

    config = tiny_config(tmp_path, ["nonlithium_demand_shock_2022"], simulations=24, chunk=6)
    out = tmp_path / "post"
    assert main(["calibrate", str(config), "--out", str(out), "--quiet", "--no-fit"]) == 0
    table = out / "reference.npz"
    table.write_bytes(table.read_bytes()[:300])
    assert main(["calibrate", str(config), "--out", str(out), "--quiet", "--no-fit"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(table) in err[0] and "unreadable reference table" in err[0]
