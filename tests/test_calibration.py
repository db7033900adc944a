"""Calibration: observations, their errors, the seeded resumable ABC-SMC, synthetic recovery."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import numpy as np
import pytest

from model.calibration.abc import load_config, run_calibration
from model.calibration.observations import (
    OBSERVATIONS_FILE,
    discrepancy,
    load_observations,
    simulated,
)
from model.calibration.recovery import recovery_check
from model.errors import InputError
from model.runner import YEARLY_STATS
from model.statistics import MONTHLY, YEARS
from model.structure import SCOPES
from tests.conftest import BASELINE, write


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
    growth = obs["etdz_revenue_growth_2025"].model_copy(update={"scope": "total"})
    ytd_2025, ytd_2024 = sum(range(37, 48)), sum(range(25, 36))
    assert simulated(growth, yearly, monthly) == pytest.approx(100 * (ytd_2025 / ytd_2024 - 1))


def test_lower_bound_is_one_sided():
    obs = [o for o in load_observations().observations if o.id == "carbonate_output_2022"]
    assert discrepancy(obs, {"carbonate_output_2022": 300000.0}) == 0.0
    assert discrepancy(obs, {"carbonate_output_2022": 126000.0}) == pytest.approx(4.0)


def test_interval_counts_only_outside():
    """突破千亿: 2022 value added between 1000 and 1090 亿 costs nothing; outside, by the sd."""
    obs = [o for o in load_observations().observations if o.id == "va_level_2022"]
    assert obs[0].kind == "interval" and obs[0].value == 1000 and obs[0].upper == 1090
    assert discrepancy(obs, {"va_level_2022": 1050.0}) == 0.0
    assert discrepancy(obs, {"va_level_2022": 1150.0}) == pytest.approx(4.0)
    assert discrepancy(obs, {"va_level_2022": 970.0}) == pytest.approx(1.0)


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
    sim = {"rev_2022": 5094.6, "va_growth_2022": float("nan")}
    assert discrepancy(obs, sim) == pytest.approx(100.0)
    assert discrepancy(obs, dict.fromkeys(sim, float("nan"))) == float("inf")


def tiny_config(tmp_path, params, **abc):
    settings = {"population_size": 12, "max_generations": 1, "max_simulations": 200,
                "batch_size": 6, "posterior_draws": 12, **abc}
    body = "\n".join(f"  {k}: {v}" for k, v in settings.items())
    plist = ", ".join(params)
    return write(tmp_path, "calib.yaml", f"""name: tiny
scenario: {BASELINE}
observations: {OBSERVATIONS_FILE}
parameters: [{plist}]
seed: 5
workers: 1
population_scale: 0.1
abc:
{body}
""")


def test_posterior_identical_for_one_and_two_workers(tmp_path):
    config = tiny_config(tmp_path, ["nonlithium_demand_shock_2022"])
    results = []
    for workers in (1, 2):
        calib = load_config(config)
        calib.config.workers = workers
        run_calibration(calib, tmp_path / f"w{workers}", progress=False)
        results.append(json.loads((tmp_path / f"w{workers}" / "draws.json").read_text()))
    assert results[0] == results[1]


def test_calibration_resumes_finished_generations(tmp_path):
    config = tiny_config(tmp_path, ["nonlithium_demand_shock_2022"])
    out = tmp_path / "post"
    first = run_calibration(load_config(config), out, progress=False)
    assert len(first["generations"]) == 1
    calib = load_config(config)
    calib.config.abc.max_generations = 2
    second = run_calibration(calib, out, progress=False)
    assert second["resumed_from_generation"] == 1
    assert len(second["generations"]) == 2
    assert second["generations"][0] == first["generations"][0]


def test_killed_calibration_resumes(tmp_path):
    config = tiny_config(tmp_path, ["nonlithium_demand_shock_2022"], max_generations=3)
    out = tmp_path / "post"
    cmd = [sys.executable, "-m", "model.cli", "calibrate", str(config), "--out", str(out),
           "--quiet", "--no-fit"]
    proc = subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    db = out / "history.db"
    deadline, done = time.time() + 180, -1
    while time.time() < deadline and done < 0:
        time.sleep(0.2)
        if db.exists():
            try:
                with sqlite3.connect(db) as con:
                    row = con.execute("select max(t) from populations").fetchone()
                done = row[0] if row and row[0] is not None else -1
            except sqlite3.Error:
                pass
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert done >= 0, "no generation finished before the kill"
    resumed = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["resumed_from_generation"] >= 1
    assert len(manifest["generations"]) == 3


def test_quick_synthetic_recovery(tmp_path):
    """Two truths, two parameters: the 2021 lithium upstream revenue is pinned down by the
    lithium observations; the truths fall inside the 90% intervals most of the time."""
    config = tiny_config(tmp_path, ["revenue_2021.li_upstream", "nonlithium_demand_shock_2022"],
                         population_size=30, max_generations=3, max_simulations=600,
                         posterior_draws=30)
    calib = load_config(config)
    calib.config.workers = 2
    result = recovery_check(calib, truths=2, out=tmp_path / "rec")
    upstream = result["per_parameter"]["revenue_2021__li_upstream"]
    assert upstream["posterior_over_prior_sd"] < 0.7
    assert result["overall_coverage_90"] >= 0.5
    assert (tmp_path / "rec" / "recovery.md").is_file()


@pytest.mark.slow
def test_longer_synthetic_recovery(tmp_path):
    config = tiny_config(tmp_path, ["revenue_2021.li_upstream", "nonlithium_demand_shock_2022",
                                    "lithium_top_firm_share_2021", "expansion_speed"],
                         population_size=60, max_generations=4, max_simulations=2000,
                         posterior_draws=60)
    calib = load_config(config)
    calib.config.workers = 2
    result = recovery_check(calib, truths=8, out=tmp_path / "rec")
    assert 0.6 <= result["overall_coverage_90"] <= 1.0


def test_calibration_on_dask_matches_local_processes(tmp_path):
    config = tiny_config(tmp_path, ["nonlithium_demand_shock_2022"])
    local = load_config(config)
    local.config.workers = 2
    run_calibration(local, tmp_path / "local", progress=False)
    remote = load_config(config)
    remote.config.workers = 2
    run_calibration(remote, tmp_path / "dask", progress=False, executor="dask")
    assert (json.loads((tmp_path / "local" / "draws.json").read_text())
            == json.loads((tmp_path / "dask" / "draws.json").read_text()))
