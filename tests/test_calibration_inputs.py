"""Bad calibration input: one line naming the file and the key, exit 2, nothing written."""

import json

import pytest

from model.calibration.observations import OBSERVATIONS_FILE
from model.cli import main
from model.paths import PROJECT_ROOT
from tests.conftest import write

OBSERVATIONS = OBSERVATIONS_FILE.read_text(encoding="utf-8")
ALL_IDS = [line.split("id: ")[1] for line in OBSERVATIONS.splitlines() if line.startswith("  - id: ")]
#: a small valid config: if a bad input slipped through, it would run in seconds and fail the test
CONFIG = """name: bad
scenario: {scenario}
observations: {observations}
parameters: [price_elasticity, revenue_2021.li_upstream]
seed: 20240601
workers: 1
population_scale: 0.05
stop_month: 2025-12
abc: {{simulations: 20, tolerance: 0.5}}
"""


def config_with(tmp_path, old: str = "", new: str = "", observations: str | None = None):
    obs_path = OBSERVATIONS_FILE
    if observations is not None:
        obs_path = write(tmp_path, "obs.yaml", observations)
    text = CONFIG.format(scenario=PROJECT_ROOT / "scenarios" / "baseline.yaml", observations=obs_path)
    if old:
        assert old in text
        text = text.replace(old, new, 1)
    return write(tmp_path, "calib.yaml", text)


def observations_with(old: str, new: str) -> str:
    assert old in OBSERVATIONS
    return OBSERVATIONS.replace(old, new, 1)


CASES = {
    "sd zero": (None, observations_with("    sd: 1.5\n", "    sd: 0\n"), "obs.yaml",
                "observations[va_growth_2022]", "at least"),
    "sd 1e-300": (None, observations_with("    sd: 1.5\n", "    sd: 1.0e-300\n"), "obs.yaml",
                  "observations[va_growth_2022]", "at least"),
    "empty id": (None, observations_with("  - id: va_level_2022", "  - id: ''"), "obs.yaml",
                 "observations[3]", "letters, digits"),
    "origin in 1900": (("stop_month: 2025-12", "stop_month: 2025-12\norigins: ['1900-01']"),
                       None, "calib.yaml", "origins", "outside"),
    "origin after the stop": (("stop_month: 2025-12", "stop_month: 2025-12\norigins: ['2026-03']"),
                              None, "calib.yaml", None, "before the stop month"),
    "tolerance keeps no row": (("tolerance: 0.5", "tolerance: 0.001"), None, "calib.yaml",
                               None, "needs at least"),
    "id included and excluded": (("seed: 20240601", "seed: 20240601\ninclude: [rev_2022]\n"
                                  "exclude: [rev_2022]"), None, "calib.yaml", None,
                                 "both included and excluded"),
    "empty id excluded": (("seed: 20240601", "seed: 20240601\nexclude: ['']"), None,
                          "calib.yaml", "exclude", "empty"),
    "sd not a number": (None, observations_with("    sd: 1.5\n", "    sd: .nan\n"), "obs.yaml",
                        "observations[va_growth_2022]", "finite"),
    "sd infinite": (None, observations_with("    sd: 1.5\n", "    sd: .inf\n"), "obs.yaml",
                    "observations[va_growth_2022]", "finite"),
    "duplicate id": (None, observations_with("  - id: va_level_2022", "  - id: rev_2022"),
                     "obs.yaml", "observations[rev_2022].id", "duplicate"),
    "empty observations": (None, "observations: []\n", "obs.yaml", "observations", "at least one"),
    "all excluded": (("seed: 20240601", f"seed: 20240601\nexclude: [{', '.join(ALL_IDS)}]"), None,
                     "obs", "observations", "no observation left"),
    "stop month malformed": (("stop_month: 2025-12", "stop_month: 2025-13"), None, "calib.yaml",
                             "stop_month", "YYYY-MM"),
    "stop month outside the run": (("stop_month: 2025-12", "stop_month: 2031-01"), None,
                                   "calib.yaml", "stop_month", "outside"),
    "stop month before the data": (("stop_month: 2025-12", "stop_month: 2023-06"), None,
                                   "calib.yaml", "stop_month", "ends before"),
    "no parameters": (("[price_elasticity, revenue_2021.li_upstream]", "[]"), None,
                      "calib.yaml", "parameters", "at least 1"),
    "unknown parameter": (("[price_elasticity,", "[price_elasticiti,"), None, "calib.yaml",
                          "parameters.price_elasticiti", "prior"),
    "unknown denominator scope": (None, observations_with(
        "    denominator_scope: etdz\n", "    denominator_scope: the_zone\n"), "obs.yaml",
        "observations[etdz_lithium_share_2025]", "unknown scope 'the_zone'"),
    "denominator scope on a growth": (None, observations_with(
        "    denominator: value_added_base\n    scope: etdz\n",
        "    denominator: value_added_base\n    denominator_scope: total\n    scope: etdz\n"),
        "obs.yaml", "observations[etdz_va_growth_2025]", "only a ratio_pct"),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_bad_calibration_input_is_one_line(tmp_path, capsys, case):
    replace, observations, file, key, message = CASES[case]
    old, new = replace or ("", "")
    config = config_with(tmp_path, old, new, observations)
    out = tmp_path / "posterior"
    assert main(["calibrate", str(config), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert file in err and (key is None or f"'{key}'" in err) and message in err, err
    assert not out.exists()


CORRUPT = {"not json": "{draws: [", "no draws": '{"parameters": []}',
           "a string draw": '{"draws": ["x"]}',
           "a non-finite value": '{"draws": [{"price_elasticity": NaN}]}',
           "an unknown parameter": '{"draws": [{"nope": 1.0}]}',
           "a number for a mapping": '{"draws": [{"revenue_2021": 5.0}]}',
           "a mapping for a number": '{"draws": [{"price_elasticity": {"a": 1.0}}]}',
           "an unknown entry": '{"draws": [{"revenue_2021": {"mars": 1.0}}]}',
           "a list": '[1, 2]'}


@pytest.mark.parametrize("case", list(CORRUPT), ids=list(CORRUPT))
def test_corrupt_posterior_draws_are_one_line(tmp_path, capsys, case):
    folder = tmp_path / "posterior"
    folder.mkdir()
    write(folder, "draws.json", CORRUPT[case])
    out = tmp_path / "run"
    code = main(["run", str(PROJECT_ROOT / "scenarios" / "baseline.yaml"), "--posterior",
                 str(folder), "--out", str(out), "--replications", "1"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "draws.json" in err, err
    assert not out.exists()


def test_corrupt_reference_table_is_one_line(tmp_path, capsys):
    folder = tmp_path / "posterior"
    folder.mkdir()
    write(folder, "reference.npz", "not an archive")
    config = config_with(tmp_path)
    assert main(["recovery", str(config), "--out", str(folder), "--truths", "2", "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "reference" in err, err


@pytest.mark.parametrize("stamp", ["[]", '"x"', "null", "{not json"])
def test_a_damaged_stamp_is_one_line(tmp_path, capsys, stamp):
    folder = tmp_path / "posterior"
    folder.mkdir()
    write(folder, "stamp.json", stamp)
    config = config_with(tmp_path)
    assert main(["calibrate", str(config), "--out", str(folder), "--quiet", "--no-fit"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "stamp" in err, err
    assert sorted(p.name for p in folder.iterdir()) == ["stamp.json"]


def test_a_reference_table_of_text_is_one_line(tmp_path, capsys):
    import numpy as np

    from model.calibration.abc import load_config, stamp_digest

    folder = tmp_path / "posterior"
    folder.mkdir()
    config = config_with(tmp_path)
    calib = load_config(config)
    m = len(calib.all_observations)
    write(folder, "stamp.json", json.dumps({"digest": stamp_digest(calib.stamp()),
                                            "stamp": calib.stamp()}, default=str))
    with open(folder / "reference.npz", "wb") as fh:
        np.savez(fh, theta=np.array([["a", "b"]]), clean=np.zeros((1, m)), noise=np.zeros((1, m)))
    assert main(["recovery", str(config), "--out", str(folder), "--truths", "2", "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "other than numbers" in err, err
