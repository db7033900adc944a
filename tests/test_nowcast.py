"""Nowcast: new figures update the probabilities from the reference table's panel, with no new
simulation; bad figures are one line and write nothing; synthetic truths are covered."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from model.calibration.abc import load_config, load_table, run_calibration
from model.calibration.nowcast import (
    Figure,
    load_figures,
    nowcast,
    synthetic_truths,
    ytd_figures,
)
from model.calibration.panel import build_panel, load_panel
from model.cli import main
from model.errors import InputError
from tests.test_calibration import tiny_config

REVENUE_2026 = "revenue_2026_on_9pct_path"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A small calibration with its panel: 320 rows, a tenth of the firms."""
    tmp = tmp_path_factory.mktemp("nowcast")
    config = tiny_config(tmp, ["revenue_2021.li_upstream", "lithium_chain_outside_share"],
                         simulations=320, tolerance=0.3)
    calib = load_config(config)
    calib.config.workers = 2
    folder = tmp / "post"
    run_calibration(calib, folder, progress=False)
    build_panel(calib, folder, progress=False)      # checks every row against the table
    table = load_table(calib, folder)
    return config, calib, folder, table, load_panel(calib, folder, table.n)


def figure(**changes) -> Figure:
    base = {"id": "va_ytd_2026_06", "statistic": "value_added_prevprice",
            "denominator": "value_added_base", "scope": "total",
            "period": {"year": 2026, "months": 6}, "kind": "same_firm_growth_pct",
            "value": 6.0, "sd": 1.0, "reason": "test"}
    return Figure(**{**base, **changes})


def unmoved(result) -> bool:  # noqa: ANN001
    """Every probability after the figure within the Monte-Carlo error of before and after
    (an uninformative figure still adds a dimension of pure noise to the ABC distance, which
    reshuffles the accepted rows: a Monte-Carlo change, not an update)."""
    for before, after in zip(result.stages[0], result.stages[1], strict=True):
        se = np.hypot((before["high"] - before["low"]) / 3.92, (after["high"] - after["low"]) / 3.92)
        if abs(after["probability"] - before["probability"]) > 1.96 * se + 1e-9:
            return False
    return True


def test_a_sharp_figure_moves_the_model_toward_it(tiny):
    _, calib, _, table, panel = tiny
    result = nowcast(calib, table, panel, [figure(value=2.0, sd=0.5)])
    low, _, high = result.bands_after[0]
    before_low, _, before_high = result.bands_before[0]
    assert high - low < before_high - before_low            # the quantity is better known
    assert 0.0 <= result.percentiles[0] <= 100.0
    assert len(result.stages) == 2 and len(result.stages[1]) == len(panel.targets)


def test_synthetic_truths_narrow_and_are_covered(tiny):
    """A quick version of the slow check: 40 truths, their own year-to-date revenue growth
    of 2026 every third month. A table of 320 rows at a tenth of the firms under-covers as
    figures are added (the local-linear fit over about 100 accepted rows; 0.68-0.88 here), so
    this bound only catches a broken update: the 85-95% check runs on the committed table
    (-m slow)."""
    _, calib, _, table, panel = tiny
    figs = ytd_figures("revenue", "revenue_base", "total", 2026, range(1, 12, 3), 2.0)
    result = synthetic_truths(calib, table, panel, figs, REVENUE_2026, 40)
    assert result["mean_width"][-1] < result["mean_width"][0]
    assert all(0.6 <= c <= 1.0 for c in result["coverage_90"]), result


@pytest.mark.slow
def test_synthetic_truths_and_an_uninformative_figure_on_the_committed_posterior():
    """200 rows of the committed table as truths, their 2026 year-to-date revenue growth fed
    month by month (sd 2 points): the 90% interval of 2026 revenue narrows and covers the truth
    in 85-95% of cases at every stage. Builds the panel first if it is missing (about 2 min)."""
    from model.paths import POSTERIOR_DIR, PROJECT_ROOT

    calib = load_config(PROJECT_ROOT / "calibration" / "default.yaml")
    folder = POSTERIOR_DIR / "default"
    table = load_table(calib, folder)
    try:
        panel = load_panel(calib, folder, table.n)
    except InputError:
        panel = build_panel(calib, folder, progress=False)
    figs = ytd_figures("revenue", "revenue_base", "total", 2026, range(1, 12), 2.0)
    result = synthetic_truths(calib, table, panel, figs, REVENUE_2026, 200)
    assert all(0.85 <= c <= 0.95 for c in result["coverage_90"]), result["coverage_90"]
    widths = result["mean_width"]
    assert widths[-1] < 0.8 * widths[0]
    assert all(b <= a * 1.01 for a, b in zip(widths, widths[1:], strict=False))
    # a figure with an enormous sd moves no probability beyond Monte-Carlo error (on the
    # committed table; a table of a few hundred rows is too coarse to tell)
    assert unmoved(nowcast(calib, table, panel, [figure(sd=1e7)]))


FIGURE_YAML = """figures:
  - id: {id}
    statistic: {statistic}
    denominator: value_added_base
    scope: {scope}
    period: {period}
    kind: same_firm_growth_pct
    value: {value}
    sd: {sd}
    reason: test
"""
GOOD = {"id": "va_ytd_2026_06", "statistic": "value_added_prevprice", "scope": "total",
        "period": "{year: 2026, months: 6}", "value": "6.0", "sd": "1.0"}


@pytest.mark.parametrize(("change", "key", "words"), [
    ({"id": "rev_2022"}, "figures[rev_2022].id", "already in the calibration"),
    ({"twin": True}, "figures[same_as_rev_2022]", "already in the calibration as"),
    ({"scope": "nowhere"}, "figures[va_ytd_2026_06]", "unknown scope"),
    ({"statistic": "volume_same_firms"}, "figures[va_ytd_2026_06].statistic",
     "not in the year-to-date panel"),
    ({"statistic": "no_such_statistic"}, "figures[va_ytd_2026_06]", "unknown monthly statistic"),
    ({"period": "{year: 2027, months: 3}"}, "figures[va_ytd_2026_06]", "outside"),
    ({"value": ".nan"}, "figures[va_ytd_2026_06]", "finite"),
    ({"sd": "-1"}, "figures[va_ytd_2026_06]", "negative"),
    ({"value": "abc"}, "figures[va_ytd_2026_06].value", "expected a number"),
    ({"sd": "true"}, "figures[va_ytd_2026_06].sd", "expected a number"),
])
def test_a_bad_figure_is_one_line_and_writes_nothing(tiny, tmp_path, capsys, change, key, words):
    config, _, folder, _, _ = tiny
    path = tmp_path / "figures.yaml"
    text = FIGURE_YAML.format(**{**GOOD, **change})
    if change.get("twin"):            # the calibration's rev_2022 under another name
        text = ("figures:\n  - {id: same_as_rev_2022, statistic: revenue, scope: total, "
                "period: {year: 2022}, kind: level, value: 5094.6, sd: 100, reason: test}\n")
    path.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    code = main(["nowcast", str(path), "--config", str(config), "--posterior", str(folder),
                 "--out", str(out)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and not out.exists()
    assert len(err.splitlines()) == 1 and str(path) in err and words in err
    assert key.split(".")[0] in err


def test_a_table_without_its_panel_is_refused_with_how_to_extend_it(tiny, tmp_path, capsys):
    config, calib, _, _, _ = tiny
    bare = tmp_path / "bare"
    run_calibration(calib, bare, progress=False)
    path = tmp_path / "figures.yaml"
    path.write_text(FIGURE_YAML.format(**GOOD), encoding="utf-8")
    code = main(["nowcast", str(path), "--config", str(config), "--posterior", str(bare),
                 "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "--panel" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_nowcast_command_end_to_end_and_its_posterior_runs(tiny, tmp_path):
    config, _, folder, _, _ = tiny
    path = tmp_path / "figures.yaml"
    path.write_text(FIGURE_YAML.format(**GOOD), encoding="utf-8")
    out = tmp_path / "out"
    assert main(["nowcast", str(path), "--config", str(config), "--posterior", str(folder),
                 "--out", str(out), "--confirm", "6", "--quiet"]) == 0
    md = (out / "nowcast.md").read_text(encoding="utf-8")
    assert "va_ytd_2026_06" in md and "Confirmed by a fresh ensemble" in md
    assert (out / "figures" / "monitor_total.png").stat().st_size > 10_000
    csv = (out / "nowcast.csv").read_text(encoding="utf-8")
    assert csv.startswith("stage,figure_added,target") and REVENUE_2026 in csv
    # the nowcast's own posterior is a posterior a run can use
    scenario = tmp_path / "small.yaml"
    scenario.write_text("extends: baseline\nname: small\nrun:\n  population_scale: 0.1\n",
                        encoding="utf-8")
    assert main(["run", str(scenario), "--posterior", str(out), "--replications", "2",
                 "--out", str(tmp_path / "run"), "--quiet"]) == 0
    summary = (tmp_path / "run" / "summary.md").read_text(encoding="utf-8")
    assert "最新公布数据 Monitoring" in summary and "va_ytd_2026_06" in summary


def test_the_replay_file_copies_the_calibrations_figures():
    """calibration/figures/replay_2023_2025.yaml repeats observations of the calibration:
    same quantity, value and sd, so a replay replays what the calibration fits."""
    from model.calibration.observations import load_observations
    from model.paths import PROJECT_ROOT

    calib = load_config(PROJECT_ROOT / "calibration" / "default.yaml")
    figures = load_figures(PROJECT_ROOT / "calibration" / "figures" / "replay_2023_2025.yaml",
                           calib, replay=True)
    observed = {o.id: o for o in load_observations().observations}
    for fig in figures:
        obs = observed[fig.id]
        assert (fig.statistic, fig.denominator, fig.scope, fig.kind) == (
            obs.statistic, obs.denominator, obs.scope, obs.kind)
        assert fig.period.month_span() == obs.period.month_span()
        assert fig.value == obs.value and fig.sd_absolute == pytest.approx(obs.sd_absolute)
    assert [f.end_month() for f in figures] == sorted(f.end_month() for f in figures)


def test_figures_are_read_in_publication_order(tiny, tmp_path):
    _, calib, _, _, _ = tiny
    path = tmp_path / "f.yaml"
    path.write_text(FIGURE_YAML.format(**{**GOOD, "id": "late", "period": "{year: 2026, months: 9}"})
                    + FIGURE_YAML.format(**GOOD).replace("figures:\n", ""), encoding="utf-8")
    assert [f.id for f in load_figures(path, calib)] == ["va_ytd_2026_06", "late"]
    assert Path(path).is_file()
    assert np.isfinite(calib.sd).all()
