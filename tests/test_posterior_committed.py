"""The committed default posterior: it belongs to today's config and observations, its draws
follow from its reference table, and its out-of-sample forecasts do not get worse."""

import json

import numpy as np
import pytest

from model.calibration.abc import feasible_posterior, load_config, load_table
from model.calibration.forecast import rolling_origin
from model.paths import PROJECT_ROOT

FOLDER = PROJECT_ROOT / "calibration" / "posterior" / "default"
CONFIG = PROJECT_ROOT / "calibration" / "default.yaml"


@pytest.fixture(scope="module")
def calib_and_table():
    calib = load_config(CONFIG)
    return calib, load_table(calib, FOLDER)  # refuses a table made from other inputs


def test_manifest_records_a_calibration_within_fifteen_minutes():
    manifest = json.loads((FOLDER / "manifest.json").read_text())
    assert manifest["total_simulations"] == load_config(CONFIG).config.abc.simulations
    # the table's time over every session that built it (this one included)
    assert manifest["wall_seconds_this_session"] <= manifest["table_wall_seconds_all_sessions"]
    assert manifest["table_wall_seconds_all_sessions"] <= 15 * 60


def test_posterior_summary_follows_from_the_table(calib_and_table):
    calib, table = calib_and_table
    post, _ = feasible_posterior(calib, table)
    q = post.quantile(np.array([0.05, 0.5, 0.95]))
    summary = json.loads((FOLDER / "manifest.json").read_text())["posterior_summary"]
    for j, name in enumerate(calib.names):
        assert summary[name]["q50"] == pytest.approx(q[1, j], rel=1e-9, abs=1e-12)
        assert summary[name]["q05"] <= summary[name]["q50"] <= summary[name]["q95"]


def test_out_of_sample_errors_do_not_get_worse(calib_and_table):
    calib, table = calib_and_table
    stored = json.loads((FOLDER / "forecasts.json").read_text())["rows"]
    now = rolling_origin(calib, table)["rows"]
    assert [(r["origin"], r["observation"]) for r in now] == \
        [(r["origin"], r["observation"]) for r in stored]
    for new, old in zip(now, stored, strict=True):
        assert new["model_error"] <= old["model_error"] + 1e-9 * max(1.0, old["sd"]), new
