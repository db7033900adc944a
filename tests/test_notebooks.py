"""Every notebook executes (papermill) on small stored or freshly made runs; the report
command writes the executed notebook and its HTML."""

import json

import pytest

from model.cli import main
from model.paths import PROJECT_ROOT
from model.reporting.report import execute_notebook
from tests.conftest import BASELINE, write

DEFAULT_POSTERIOR = PROJECT_ROOT / "calibration" / "posterior" / "default"


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("runs")
    folders = []
    for name, extra in (("base", ""), ("slump", "exogenous:\n  lithium_price:\n    points:\n"
                                               "      - {date: 2026-12-31, value: 40000}\n")):
        path = write(base, f"{name}.yaml", f"extends: {BASELINE}\nname: {name}\n"
                     f"run:\n  population_scale: 0.15\n{extra}")
        assert main(["run", str(path), "--replications", "3", "--out", str(base / name),
                     "--quiet", "--workers", "2"]) == 0
        folders.append(base / name)
    return folders


def test_report_command_writes_notebook_and_html(two_runs, tmp_path, monkeypatch):
    import shutil

    # a what-it-takes page with its figure, where the report looks for it (./results)
    monkeypatch.chdir(tmp_path)
    page = tmp_path / "results" / "what_it_takes_base"
    (page / "figures").mkdir(parents=True)
    shutil.copy(two_runs[0] / "figures" / "revenue_vs_9pct_path.png", page / "figures" / "frontier.png")
    (page / "what_it_takes.md").write_text("# t\nbest package\n\n![frontier](figures/frontier.png)\n")
    out = tmp_path / "report"
    assert main(["report", *map(str, two_runs), "--out", str(out)]) == 0
    html = (out / "scenario_report.html").read_text()
    assert "Probability that each target is met" in html and "slump" in html
    # the page's figure is embedded, not linked to this machine's path
    assert "best package" in html and str(page) not in html
    assert html.count("data:image/png;base64") >= 3
    executed = json.loads((out / "scenario_report.ipynb").read_text())
    errors = [o for c in executed["cells"] for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert errors == []
    assert (out / "figures" / "fan_chain_revenue.png").is_file()


def test_report_refuses_a_folder_that_is_not_a_run(tmp_path):
    assert main(["report", str(tmp_path), "--out", str(tmp_path / "r")]) == 2


def test_enterprise_explorer_executes(tmp_path):
    execute_notebook("enterprise_explorer", {"scenario": str(BASELINE), "population_scale": 0.2},
                     tmp_path, html=False)


def test_sensitivity_executes(tmp_path):
    execute_notebook("sensitivity", {"sobol_dir": str(tmp_path / "none"), "scenario": str(BASELINE),
                                     "base_samples": 2, "replications": 1,
                                     "population_scale": 0.15}, tmp_path, html=False)


def test_calibration_fit_executes_on_the_committed_posterior(tmp_path):
    assert (DEFAULT_POSTERIOR / "fit.csv").is_file(), "the default posterior is committed"
    execute_notebook("calibration_fit", {"posterior": str(DEFAULT_POSTERIOR)}, tmp_path,
                     html=False)
