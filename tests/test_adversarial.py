"""An adversarial review's cases (issue 26): nothing lost, nothing let in.

Every case ends in one of two ways: refused with exit 2 and one `error:` line (no traceback,
no output folder, no file outside it touched), or accepted and run sensibly. A sandbox tree
around the output folder is snapshotted before and after each case. The default run tries
every listed case once and a sample of the scenario mutations; ``pytest -m slow`` tries the
mutations on every numeric leaf of the baseline.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import yaml

from model.cli import main
from model.paths import SCENARIO_DIR
from tests.conftest import BASELINE, write

SMALL = f"extends: {BASELINE}\nname: small\nrun:\n  population_scale: 0.1\n"


def snapshot(root: Path) -> dict[str, tuple]:
    """Every path below root with its kind, size, content time and mode."""
    out = {}
    for path in sorted(root.rglob("*")):
        info = path.lstat()
        out[str(path.relative_to(root))] = (info.st_mode, info.st_size, info.st_mtime_ns)
    return out


@pytest.fixture()
def sandbox(tmp_path: Path) -> Path:
    """A user's tree: notes, drafts and hidden temporary files the program must never touch."""
    root = tmp_path / "sandbox"
    (root / "notes").mkdir(parents=True)
    (root / "sub" / "deep").mkdir(parents=True)
    (root / "notes" / "plan.md").write_text("my notes")
    (root / "notes" / ".draft.md.tmp").write_text("unsaved work")
    (root / "sub" / "deep" / ".important.tmp").write_text("keep me")
    (root / "report.md").write_text("someone else's report")
    (root / "manifest.json").write_text('{"mine": true}')
    return root


def one_error_line(capsys) -> str:
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


# ---------------------------------------------------------------- output folders

def test_run_into_a_foreign_folder_is_refused_and_leaves_every_file(sandbox, tmp_path, capsys):
    scenario = write(tmp_path, "small.yaml", SMALL)
    before = snapshot(sandbox)
    assert main(["run", str(scenario), "--out", str(sandbox), "--replications", "1",
                 "--posterior", "none", "--quiet"]) == 2
    assert "did not write" in one_error_line(capsys)
    assert snapshot(sandbox) == before
    assert (sandbox / "notes" / ".draft.md.tmp").read_text() == "unsaved work"
    assert (sandbox / "sub" / "deep" / ".important.tmp").read_text() == "keep me"


def test_a_run_cleans_only_its_own_temporaries(tmp_path, capsys):
    scenario = write(tmp_path, "small.yaml", SMALL)
    out = tmp_path / "run"
    args = ["run", str(scenario), "--out", str(out), "--replications", "1", "--posterior",
            "none", "--quiet"]
    assert main(args) == 0
    ours = out / ".report.md.yichun-abm-abcd1234.tmp"       # a half-written file of ours
    theirs = out / "figures" / ".notes.tmp"                  # not our name pattern
    deep = out / "replications" / "x" / ".a.yichun-abm-1.tmp"   # not a folder we clean
    ours.write_text("half")
    theirs.write_text("kept")
    deep.parent.mkdir()
    deep.write_text("kept")
    assert main(args) == 0
    capsys.readouterr()
    assert not ours.exists() and theirs.exists() and deep.exists()


def test_run_into_a_calibration_folder_is_refused(tmp_path, capsys):
    scenario = write(tmp_path, "small.yaml", SMALL)
    posterior = tmp_path / "posterior"
    posterior.mkdir()
    (posterior / "stamp.json").write_text('{"digest": "x"}')
    (posterior / "manifest.json").write_text('{"calibration": true}')
    before = snapshot(posterior)
    assert main(["run", str(scenario), "--out", str(posterior), "--replications", "1",
                 "--posterior", "none", "--quiet"]) == 2
    assert "calibration" in one_error_line(capsys)
    assert snapshot(posterior) == before


def test_run_into_the_root_is_refused(tmp_path, capsys):
    scenario = write(tmp_path, "small.yaml", SMALL)
    assert main(["run", str(scenario), "--out", "/", "--replications", "1", "--posterior",
                 "none", "--quiet"]) == 2
    one_error_line(capsys)
    assert not Path("/ensemble.json").exists()


def test_an_output_never_replaces_a_special_file(tmp_path, capsys):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    assert main(["schema", "--out", str(fifo)]) == 2
    assert "not a regular file" in one_error_line(capsys)
    assert fifo.is_fifo()


@pytest.mark.slow
def test_outputs_respect_the_umask(tmp_path):
    scenario = write(tmp_path, "small.yaml", SMALL)
    out = tmp_path / "private"
    code = (f"import os, sys; os.umask(0o077); from model.cli import main; "
            f"sys.exit(main(['run', {str(scenario)!r}, '--out', {str(out)!r}, "
            "'--replications', '1', '--posterior', 'none', '--quiet']))")
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
    modes = {p.name: p.stat().st_mode & 0o777 for p in out.rglob("*") if p.is_file()}
    assert modes and set(modes.values()) == {0o600}, modes


# ---------------------------------------------------------------- strict scalars

BASE = f"extends: {BASELINE}\nname: strict\n"
REFUSED_SCENARIOS = {
    "true as a seed": "run: {seed: true}",
    "true as a count": "run: {replications: true}",
    "true as a scale": "run: {population_scale: true}",
    "sexagesimal 1:30": "run: {replications: 1:30}",
    "yes as a number": "run: {seed: yes}",
    "boolean in a by-year mapping": "policy: {attraction: {projects_per_year: {2023: true}}}",
    "impossible date": "policy: {approval: {reform_start: 2022-02-30}}",
    "year 1900": "policy: {approval: {reform_start: '1900-01'}}",
    "year 0000": "policy: {approval: {reform_start: '0000-01'}}",
    "full-width digits": "policy: {approval: {reform_start: '２０２３-01'}}",
    "trailing newline": 'policy: {approval: {reform_start: "2023-01\\n"}}',
    "window outside 2022-2026": "exogenous: {shocks: [{start: 2028-01, end: 2029-12, "
                                "segments: [circular]}]}",
    "window before 2022": "exogenous: {demand_shifts: [{start: 2016-01, end: 2017-01, "
                          "segments: {circular: 0.1}}]}",
    "empty segment list": "exogenous: {shocks: [{segments: []}]}",
    "empty shift": "exogenous: {demand_shifts: [{segments: {}}]}",
    "shifts adding to -200%": "exogenous: {demand_shifts: [{segments: {lithium: -1, "
                              "li_cells: -1}}]}",
    "two windows adding to -200%": "exogenous: {demand_shifts: [{segments: {circular: -1}}, "
                                   "{segments: {circular: -1}}]}",
    "2023 spelt twice": "policy: {attraction: {projects_per_year: {2023: 1, 0x7e7: 2}}}",
    "2023 quoted and not": "policy: {attraction: {projects_per_year: {2023: 1, '2023': 2}}}",
    "merge key": "run:\n  <<: {seed: 3}",
    "tag on a scalar": "run: {seed: !!timestamp 'junk'}",
    "bool tag": "run: {seed: !!bool 'maybe'}",
    "price date impossible": "exogenous: {lithium_price: {points: [{date: 2026-02-30, "
                             "value: 90000}]}}",
    "price date as text": "exogenous: {lithium_price: {points: [{date: soon, value: 90000}]}}",
}


@pytest.mark.parametrize("case", sorted(REFUSED_SCENARIOS))
def test_garbage_scenarios_are_refused_in_one_line(case, tmp_path, capsys):
    path = write(tmp_path, "case.yaml", BASE + REFUSED_SCENARIOS[case] + "\n")
    before = snapshot(tmp_path)
    assert main(["validate", str(path)]) == 2
    assert str(path) in one_error_line(capsys)
    assert snapshot(tmp_path) == before


def test_an_extends_chain_too_deep_is_one_line(tmp_path, capsys):
    write(tmp_path, "s0.yaml", SMALL)
    for k in range(1, 60):
        write(tmp_path, f"s{k}.yaml", f"extends: s{k - 1}.yaml\n")
    assert main(["validate", str(tmp_path / "s59.yaml")]) == 2
    assert "extends" in one_error_line(capsys)


def test_yaml_core_schema_reads_what_it_says():
    from model.yamlio import CoreLoader

    read = yaml.load("a: 010\nb: 0x10\nc: 1.5e3\nd: yes\ne: 1:30\nf: 2022-01-02\ng: true",
                     Loader=CoreLoader)  # noqa: S506
    assert read == {"a": 10, "b": 16, "c": 1500.0, "d": "yes", "e": "1:30", "f": "2022-01-02",
                    "g": True}


# ---------------------------------------------------------------- damaged run folders

@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("finished")
    scenario = write(base, "small.yaml", SMALL)
    out = base / "run"
    assert main(["run", str(scenario), "--out", str(out), "--replications", "2",
                 "--posterior", "none", "--quiet"]) == 0
    return out


def damaged_copy(run: Path, tmp_path: Path, name: str, damage) -> Path:
    import shutil

    copy = tmp_path / name
    shutil.copytree(run, copy)
    damage(copy)
    return copy


def _zip_bomb(path: Path) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("yearly.npy", b"\0" * 200_000_000)


FOLDER_DAMAGE = {
    "ensemble.json a list": lambda f: (f / "ensemble.json").write_text("[1, 2]"),
    "ensemble.json null": lambda f: (f / "ensemble.json").write_text("null"),
    "ensemble.json a string": lambda f: (f / "ensemble.json").write_text('"x"'),
    "ensemble.json seed not a number": lambda f: (f / "ensemble.json").write_text(
        json.dumps({**json.loads((f / "ensemble.json").read_text()), "seed": "abc"})),
    "manifest.json a list": lambda f: (f / "manifest.json").write_text("[]"),
    "manifest.json null": lambda f: (f / "manifest.json").write_text("null"),
    "manifest scenario escapes": lambda f: (f / "manifest.json").write_text(json.dumps(
        {**json.loads((f / "manifest.json").read_text()), "scenario": "../../etc"})),
    "targets.csv binary": lambda f: (f / "targets.csv").write_bytes(bytes(range(256)) * 4),
    "targets.csv a FIFO": lambda f: ((f / "targets.csv").unlink(), os.mkfifo(f / "targets.csv")),
}


@pytest.mark.parametrize("case", sorted(FOLDER_DAMAGE))
def test_a_damaged_run_folder_is_one_line(case, finished_run, tmp_path, capsys):
    folder = damaged_copy(finished_run, tmp_path, "damaged", FOLDER_DAMAGE[case])
    out = tmp_path / "compare"
    assert main(["compare", str(folder), str(finished_run), "--out", str(out)]) == 2
    one_error_line(capsys)
    assert not out.exists()


REPLICATION_DAMAGE = {
    "an .npy file": lambda p: np.save(open(p, "wb"), np.zeros(3)),  # noqa: SIM115
    "an array index": lambda p: _resave(p, index=np.arange(3)),
    "a zip bomb": _zip_bomb,
    "a FIFO": lambda p: (p.unlink(), os.mkfifo(p)),
    "empty": lambda p: p.write_bytes(b""),
}


def _resave(path: Path, **changes) -> None:
    with np.load(path) as z:
        data = {k: z[k] for k in z.files}
    data.update(changes)
    with open(path, "wb") as fh:
        np.savez(fh, **data)


@pytest.mark.parametrize("case", [pytest.param(case, marks=() if case in ("a FIFO", "a zip bomb")
                                                else pytest.mark.slow)
                                  for case in sorted(REPLICATION_DAMAGE)])
def test_a_damaged_replication_is_set_aside_and_recomputed(case, finished_run, tmp_path, capsys):
    folder = damaged_copy(finished_run, tmp_path, "damaged", lambda f: None)
    target = folder / "replications" / "rep_00001.npz"
    REPLICATION_DAMAGE[case](target)
    scenario = write(tmp_path, "small.yaml", SMALL)
    start = time.perf_counter()
    assert main(["run", str(scenario), "--out", str(folder), "--replications", "2",
                 "--posterior", "none", "--quiet"]) == 0
    assert time.perf_counter() - start < 60     # a FIFO must not block
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err and "rep_00001" in err
    assert (folder / "targets.csv").read_text() == (finished_run / "targets.csv").read_text()


# ---------------------------------------------------------------- commands check first

@pytest.mark.parametrize("address", ["localhost", "http://localhost:8786", "tcp://localhost:1",
                                     "tcp://[::1", "tcp://host:99999"])
def test_bad_dask_addresses_are_refused_before_anything_is_written(address, tmp_path, capsys):
    scenario = write(tmp_path, "small.yaml", SMALL)
    out = tmp_path / "run"
    code = main(["run", str(scenario), "--out", str(out), "--replications", "1", "--posterior",
                 "none", "--executor", "dask", "--scheduler", address, "--quiet"])
    assert code == 2
    assert "--scheduler" in one_error_line(capsys)
    assert not out.exists()


def test_a_population_too_small_to_build_is_refused_before_the_folder(tmp_path, capsys):
    scenario = write(tmp_path, "tiny.yaml", SMALL.replace("0.1", "0.0001"))
    out = tmp_path / "run"
    assert main(["run", str(scenario), "--out", str(out), "--replications", "1",
                 "--posterior", "none", "--quiet"]) == 2
    one_error_line(capsys)
    assert not out.exists()


# ---------------------------------------------------------------- signals

def _children(pid: int) -> list[int]:
    import psutil

    try:
        return [c.pid for c in psutil.Process(pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


@pytest.mark.parametrize("signum", [signal.SIGTERM,
                                    pytest.param(signal.SIGINT, marks=pytest.mark.slow)])
def test_a_stopped_run_says_one_line_and_takes_its_workers_along(signum, tmp_path):
    import psutil

    scenario = write(tmp_path, "run.yaml", SMALL)
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-m", "model.cli", "run", str(scenario), "--out",
                             str(out), "--replications", "400", "--workers", "2", "--quiet",
                             "--posterior", "none"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    workers: list[int] = []
    while time.time() < deadline and len(workers) < 2:
        workers = _children(proc.pid)
        time.sleep(0.2)
    assert len(workers) >= 2, "the workers did not start"
    time.sleep(0.5)
    proc.send_signal(signum)
    sent = time.time()
    _, err = proc.communicate(timeout=60)
    assert time.time() - sent < 10, "the workers were left to finish their queue"
    assert proc.returncode in (130, 143), err
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith("stopped"), err
    time.sleep(1.0)
    alive = [pid for pid in workers if psutil.pid_exists(pid)
             and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE]
    assert not alive, f"workers {alive} outlived the main process"


# ---------------------------------------------------------------- mutations, counted

MUTATIONS = ("true", "yes", "1:30", "0x10", "'2023-02-30'", "~", "[]", "{}", ".nan", "-.inf")


def mutate_every_number(text: str, limit: int | None, seed: int) -> list[tuple[str, str]]:
    """(description, scenario text) with one numeric leaf of the baseline replaced."""
    lines = text.splitlines()
    numeric = [i for i, line in enumerate(lines)
               if ":" in line and not line.lstrip().startswith("#")
               and line.split(":", 1)[1].split("#")[0].strip().replace(".", "", 1).isdigit()]
    cases = [(i, m) for i in numeric for m in MUTATIONS]
    if limit is not None:
        rng = np.random.default_rng(seed)
        cases = [cases[k] for k in rng.choice(len(cases), size=min(limit, len(cases)),
                                               replace=False)]
    out = []
    for i, value in cases:
        key, rest = lines[i].split(":", 1)
        changed = [*lines[:i], f"{key}: {value}", *lines[i + 1:]]
        out.append((f"line {i + 1} = {value}", "\n".join(changed) + "\n"))
    return out


def tally_mutations(tmp_path: Path, capsys, limit: int | None, seed: int = 0) -> Counter:
    text = (SCENARIO_DIR / "baseline.yaml").read_text(encoding="utf-8")
    tally: Counter = Counter()
    for _, case in mutate_every_number(text, limit, seed):
        folder = tmp_path / "m"
        folder.mkdir(exist_ok=True)
        path = write(folder, "case.yaml", case.replace("name: baseline", "name: mutated"))
        before = snapshot(tmp_path)
        code = main(["validate", str(path)])
        out, err = capsys.readouterr()
        assert "Traceback" not in out + err
        assert snapshot(tmp_path) == before
        if code == 2:
            assert err.strip().startswith("error: ")
            tally["refused"] += 1
        else:
            assert code == 0
            tally["accepted"] += 1
    return tally


def test_mutated_numbers_sample(tmp_path, capsys):
    tally = tally_mutations(tmp_path, capsys, limit=80)
    assert tally["refused"] >= 60


@pytest.mark.slow
def test_mutated_numbers_every_leaf(tmp_path, capsys):
    tally = tally_mutations(tmp_path, capsys, limit=None)
    with capsys.disabled():
        print("\nnumeric-leaf mutations:", dict(tally))
    assert tally["refused"] > tally["accepted"]


# ---------------------------------------------------------------- reports run no script

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
PAYLOAD = ('<img src=x onerror="document.title=\'PWNED\'">'
           '<script>document.title = "PWNED"</script>')


def test_markdown_read_from_a_folder_is_made_inert():
    from model.reporting.summary import inert_markdown

    text = inert_markdown("| a | b |\n| --- | --- |\n| **x** | " + PAYLOAD + " |")
    assert "<img" not in text and "<script" not in text and "**x**" in text


@pytest.mark.skipif(not (CHROMIUM and DRIVER), reason="Debian's chromium and chromium-driver are "
                    "not installed (.ci/run installs them as root: apt-get install chromium "
                    "chromium-driver)")
def test_a_crafted_report_runs_no_script_in_chromium(finished_run, tmp_path, monkeypatch):
    pytest.importorskip("selenium")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    monkeypatch.chdir(tmp_path)            # the report looks for pages in ./results
    folder = damaged_copy(finished_run, tmp_path, "crafted", lambda f: None)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["scenario_resolved"]["question"] = PAYLOAD
    (folder / "manifest.json").write_text(json.dumps(manifest))
    for page, name in (("explore_small", "discovery.md"), ("what_it_takes_small", "what_it_takes.md")):
        (tmp_path / "results" / page).mkdir(parents=True)
        (tmp_path / "results" / page / name).write_text(f"# crafted\n{PAYLOAD}\n")
    out = tmp_path / "report"
    assert main(["report", str(folder), "--out", str(out), "--quiet"]) == 0
    html = out / "scenario_report.html"
    assert "PWNED" in html.read_text()         # the text is there, shown as text
    options = webdriver.ChromeOptions()
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu"):
        options.add_argument(arg)
    options.binary_location = CHROMIUM
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    try:
        driver.get(html.as_uri())
        time.sleep(2.0)                        # let any onerror handler fire
        assert driver.title != "PWNED"
        assert "PWNED" not in driver.execute_script("return document.title")
        assert driver.find_elements("xpath", "//img[@src='x']") == []
    finally:
        driver.quit()


# ---------------------------------------------------------------- the dashboard

def test_the_dashboard_loads_only_the_scenarios_it_offers(tmp_path):
    from model.dashboard import logic
    from model.errors import InputError

    assert logic.load_offered("baseline").name == "baseline"
    other = write(tmp_path, "mine.yaml", SMALL)
    for name in (str(other), "../scenarios/baseline.yaml", "/etc/passwd", "baseline.yaml"):
        with pytest.raises(InputError, match="not one of the dashboard's scenarios"):
            logic.load_offered(name)


def test_the_dashboard_starts_offline_on_the_loopback():
    from model.cli import build_parser, dashboard_command

    args = build_parser().parse_args(["dashboard"])
    command, environment = dashboard_command(args)
    assert "--no-check-version" in command
    assert command[command.index("--host") + 1] == "127.0.0.1"
    assert environment["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] == "False"


# ---------------------------------------------------------------- explore and what-it-takes

def test_explore_of_a_scenario_without_the_explored_shock_writes_nothing(tmp_path, capsys):
    scenario = write(tmp_path, "noshock.yaml", SMALL + "exogenous: {shocks: []}\n")
    out = tmp_path / "explore"
    assert main(["explore", "--scenario", str(scenario), "--samples", "4", "--replications",
                 "1", "--posterior", "none", "--out", str(out), "--quiet"]) == 2
    assert "not a key of scenario" in one_error_line(capsys)
    assert not out.exists()


def test_explore_of_one_lever_draws_its_box(tmp_path, capsys):
    scenario = write(tmp_path, "small.yaml", SMALL)
    out = tmp_path / "explore"
    assert main(["explore", "--scenario", str(scenario), "--samples", "6", "--replications", "1",
                 "--posterior", "none", "--levers", "projects_per_year", "--out", str(out),
                 "--quiet", "--targets", "revenue_cagr_2023_2026"]) == 0
    assert "Traceback" not in capsys.readouterr().err
    assert (out / "discovery.md").is_file()


def test_what_it_takes_refuses_an_uncertainty_as_a_lever(tmp_path, capsys):
    out = tmp_path / "wit"
    assert main(["what-it-takes", "revenue_cagr_2023_2026", "--levers", "carbonate_price_2026",
                 "--samples", "4", "--replications", "1", "--posterior", "none", "--out",
                 str(out), "--quiet"]) == 2
    assert "uncertainties, not levers" in one_error_line(capsys)
    assert not out.exists()
