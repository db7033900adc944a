"""End-to-end tests of the command line: run folders, and one-line errors with exit code 2."""

import csv
import json
import subprocess
import sys

import pytest

from model.cli import main
from model.paths import results_dir
from tests.conftest import BASELINE, write


@pytest.fixture()
def small_scenario(tmp_path):
    return write(tmp_path, "small.yaml",
                 f"extends: {BASELINE}\nname: small\nrun:\n  population_scale: 0.2\n")


def results_listing():
    return sorted(p.name for p in results_dir().iterdir()) if results_dir().exists() else []


def test_run_writes_the_documented_folder(tmp_path, small_scenario, capsys):
    out = tmp_path / "run"
    assert main(["run", str(small_scenario), "--out", str(out), "--replications", "2",
                 "--quiet"]) == 0
    for name in ("manifest.json", "yearly.csv", "yearly_summary.csv", "monthly.csv",
                 "payments.csv", "lithium_price.csv", "figures/revenue_vs_9pct_path.png",
                 "figures/chain_revenue_vs_targets.png", "figures/lithium_price_vs_revenue.png",
                 "summary.md", "summary.html"):
        assert (out / name).is_file(), name
    summary = (out / "summary.md").read_text(encoding="utf-8")
    assert "全市 (City)" in summary and "新能源（锂电） (Lithium new energy)" in summary
    assert "P(达成) P(met)" in summary and "亿元" in summary and "Code version" in summary
    with open(out / "lithium_price.csv") as fh:
        price = list(csv.DictReader(fh))
    assert len(price) == 60 and float(price[-1]["p05_yuan_per_tonne"]) <= float(
        price[-1]["p95_yuan_per_tonne"]) and price[0]["replications"] == "2"
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"]["replications"] == 2
    assert manifest["scenario_hash"] and manifest["parameters"]["share_persistence"]
    with open(out / "yearly.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert set(rows[0]) >= {"replication", "year", "scope", "statistic", "value"}
    assert {r["replication"] for r in rows} == {"0", "1"}
    assert {r["scope"] for r in rows} >= {"total", "lithium", "etdz"}
    with open(out / "monthly.csv") as fh:
        monthly = list(csv.DictReader(fh))
    dec = [r for r in monthly if r["month"] == "2022-12" and r["scope"] == "total"
           and r["statistic"] == "revenue"][0]
    year = [r for r in rows if r["replication"] == "0" and r["year"] == "2022"
            and r["scope"] == "total" and r["statistic"] == "revenue"][0]
    assert float(dec["ytd"]) > 10 * float(dec["value"])     # 1–12月 cumulates the months
    assert float(year["value"]) > 0


@pytest.mark.parametrize(("text", "expected"), [
    (None, "scenario file not found"),
    ("name: [unclosed\n", "malformed YAML"),
    ("extends: {base}\nname: x\nfavourite_colour: red\n", "key 'favourite_colour': unknown key"),
    ("extends: {base}\nname: x\nparameters:\n  share_persistence: 3\n",
     "key 'parameters.share_persistence'"),
    ("extends: {base}\nname: x\npolicy:\n  instruments:\n    tech_upgrade_fund:\n"
     "      subsidy_rate: 2\n", "key 'policy.instruments.tech_upgrade_fund.subsidy_rate'"),
])
def test_bad_input_one_line_exit_2_nothing_written(tmp_path, capsys, text, expected):
    path = tmp_path / "bad.yaml"
    if text is not None:
        path.write_text(text.replace("{base}", str(BASELINE)))
    before = results_listing()
    out = tmp_path / "never"
    assert main(["run", str(path), "--out", str(out)]) == 2
    assert main(["run", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and expected in err[0] and "bad.yaml" in err[0]
    assert not out.exists()
    assert results_listing() == before


def test_validate_and_show(capsys):
    assert main(["validate", str(BASELINE)]) == 0
    assert "ok" in capsys.readouterr().out
    assert main(["show", str(BASELINE)]) == 0
    shown = capsys.readouterr().out
    assert "tech_upgrade_fund" in shown and "share_persistence" in shown


def test_console_script_runs_as_a_program(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "model.cli", "validate", str(BASELINE)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    proc = subprocess.run([sys.executable, "-m", "model.cli", "run", str(tmp_path / "nope.yaml")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1


def test_parameters_in_range_but_impossible_together(tmp_path, capsys):
    path = write(tmp_path, "greedy.yaml", f"extends: {BASELINE}\nname: greedy\nparameters:\n"
                 "  revenue_2021: {circular: 10}\n  above_scale_firms_2021: {circular: 300}\n")
    assert main(["run", str(path), "--out", str(tmp_path / "never")]) == 2
    err = capsys.readouterr().err
    assert "greedy.yaml" in err and "parameters.revenue_2021" in err and "cannot be shared" in err
    assert not (tmp_path / "never").exists()


ANCHOR_CASES = [
    ("segment: li_cells", "segment: li_batteries", "segment"),
    ("capacity: 65\n", "capacity: -5\n", "capacity"),
    ("start: 2022-01", "start: 2031-01", "start"),
    ("    source: fact gotion_yichun_cells; 002_4e1ad33a134b8e51.txt\n    quote: 一期工程",
     "    quote: 一期工程", "source"),
]


def run_with_data_file(tmp_path, monkeypatch, capsys, attribute, loader, text):
    """`run` with one of the model's data files (paths.<attribute>) replaced by `text`:
    (exit code, stderr, the bad file, the run folder)."""
    from model import paths

    bad = tmp_path / "data.yaml"
    bad.write_text(text, encoding="utf-8")
    monkeypatch.setattr(paths, attribute, bad)
    loader.cache_clear()
    out = tmp_path / "run"
    try:
        code = main(["run", str(BASELINE), "--replications", "1", "--out", str(out),
                     "--posterior", "none", "--quiet"])
    finally:
        loader.cache_clear()
    return code, capsys.readouterr().err.strip(), bad, out


@pytest.mark.parametrize("old,new,key", ANCHOR_CASES)
def test_malformed_anchor_entry_is_one_line_exit_2(tmp_path, monkeypatch, capsys, old, new, key):
    """A bad anchor entry names the file, the entry and the key; nothing is written."""
    from model import anchors, paths

    text = paths.ANCHORS_FILE.read_text(encoding="utf-8")
    start = text.index("  - id: gotion_cells")
    entry_end = text.index("  - id: gotion_phase2")
    entry = text[start:entry_end]
    assert old in entry
    code, err, bad, out = run_with_data_file(
        tmp_path, monkeypatch, capsys, "ANCHORS_FILE", anchors.load_anchors,
        text[:start] + entry.replace(old, new, 1) + text[entry_end:])
    assert code == 2
    assert len(err.splitlines()) == 1
    assert str(bad) in err and "gotion_cells" in err and key in err
    assert not out.exists()


def test_malformed_national_context_is_one_line_exit_2(tmp_path, monkeypatch, capsys):
    from model import facts, paths

    text = paths.FACTS_FILE.read_text(encoding="utf-8")
    old = "2023: {value: 940, growth_pct: 25"
    assert old in text
    code, err, bad, out = run_with_data_file(
        tmp_path, monkeypatch, capsys, "FACTS_FILE", facts.load_facts,
        text.replace(old, "2023: {value: -940, growth_pct: 25"))
    assert code == 2 and len(err.splitlines()) == 1
    assert str(bad) in err and "national_context.lithium_battery_output_gwh" in err and "value" in err
    assert not out.exists()


def test_levers_table_pairs_every_lever(tmp_path, small_scenario, capsys):
    """The lever-effects command: one row per lever, paired differences with standard errors,
    and the levers whose own outcome is mechanical move it the expected way."""
    out = tmp_path / "levers"
    assert main(["levers", str(small_scenario), "--replications", "3", "--posterior", "none",
                 "--out", str(out), "--quiet"]) == 0
    rows = {r["lever"]: r for r in csv.DictReader((out / "levers.csv").open(encoding="utf-8"))}
    from model.analysis.levers import LEVERS

    assert set(rows) == {lever.name for lever in LEVERS}
    for name in ("tech_upgrade_fund", "more_projects", "no_chain_leaders", "awards_off"):
        assert rows[name]["own_as_expected"] == "true", name
    assert float(rows["funds_off"]["d_own"]) < 0
    table = (out / "levers.md").read_text(encoding="utf-8")
    assert "yichun-abm levers" in table and table.count("\n| ") >= len(LEVERS) + 1


def test_show_marks_the_parameters_runs_draw_from_the_posterior(capsys):
    assert main(["show", "baseline"]) == 0
    lines = capsys.readouterr().out.splitlines()
    drawn = [line for line in lines if line.endswith("# ← posterior")]
    assert any(line.strip().startswith("lithium_price_2021_average:") for line in drawn)
    assert any(line.strip().startswith("share_persistence:") and "posterior" not in line
               for line in lines)


@pytest.mark.parametrize("name", sorted(p.stem for p in BASELINE.parent.glob("*.yaml")))
def test_every_shipped_scenario_runs_to_its_summary(tmp_path, name):
    """Each shipped scenario runs end to end (a fifth of the firms, one replication) and writes
    its summary: attraction_push and plan_max set projects a year by year, which the summary's
    assumptions line once formatted as a number and crashed on."""
    path = write(tmp_path, "small.yaml", f"extends: {BASELINE.parent / (name + '.yaml')}\n"
                 f"name: small_{name}\nrun:\n  population_scale: 0.2\n")
    out = tmp_path / "run"
    assert main(["run", str(path), "--out", str(out), "--replications", "1", "--quiet"]) == 0
    summary = (out / "summary.md").read_text(encoding="utf-8")
    assert summary.count("招商引资") <= 1 and "情景问题" in summary
    assert (out / "summary.html").is_file() and (out / "report.md").is_file()
