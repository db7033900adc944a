"""The dashboard: its logic without a browser, then the real thing in headless Chromium.

The browser test starts `yichun-abm dashboard` on a free local port, loads it in Debian's
chromium (driven by Selenium through Debian's chromedriver), runs the baseline, types a lever
value, runs again and checks that the probability table changed; a value outside the lever's
allowed range shows a message and no traceback. Screenshots land in
tests/artifacts/ (kept by CI as test artefacts). The server is stopped by its process id.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from model.dashboard import logic

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")


def test_typed_values_are_checked_not_raised():
    dim = next(d for d in logic.dimensions() if d.name == "projects_per_year")
    assert logic.check_value(dim, "450") is None
    for bad in ("9999", "-3", "abc", "", "nan"):
        message = logic.check_value(dim, bad)
        assert message and "projects_per_year" in message


def test_a_moved_lever_moves_the_live_ensemble():
    base = logic.run_ensemble_live("baseline", {}, 2, population_scale=0.1)
    push = logic.run_ensemble_live("baseline", {"projects_per_year": 900.0}, 2, population_scale=0.1)
    assert len(base.rows) == len(push.rows) and base.firms
    assert logic.probability_table(base) != logic.probability_table(push)
    delta = logic.probability_table(push, base)
    assert all("Δ 较上次 vs previous" in row for row in delta)


def test_a_scenario_path_by_year_is_shown_and_kept():
    """attraction_push sets projects by year: the dashboard shows that path, a typed year
    changes only that year, and an unmoved path is not applied as a change."""
    dims = {d.name: d for d in logic.dimensions()}
    scenario = logic.load_offered("attraction_push")
    path = logic.current_value(scenario, dims["projects_per_year"])
    assert path == {2022: 338.0, 2023: 450.0, 2024: 450.0, 2025: 450.0, 2026: 450.0}
    assert logic.format_value(path).startswith("2022: 338, 2023: 450")
    typed, problem = logic.read_value(dims["projects_per_year"], "2023: 500")
    assert problem is None
    settled, problem = logic.settle_value("attraction_push", dims["projects_per_year"], path, typed)
    assert problem is None and settled == {**path, 2023: 500.0}
    values = {name: logic.current_value(scenario, d) for name, d in dims.items()}
    assert logic.moved_values(scenario, values) == {}
    # a path where the scenario's key takes only a number is refused, with the lever's name
    _, problem = logic.settle_value("baseline", dims["realisation_rate"], 0.5, {2023: 0.6})
    assert problem and "realisation_rate" in problem
    for bad in ("2023: 5000", "2031: 400", "2023 400x", "2023: abc"):
        assert logic.read_value(dims["projects_per_year"], bad)[1]


def test_results_carry_their_settings_and_go_stale():
    scenario = logic.load_offered("baseline")
    values = {d.name: logic.current_value(scenario, d) for d in logic.dimensions()}
    partial = []
    ens = logic.run_ensemble_live("baseline", values, 5, population_scale=0.1,
                                  partial=partial.append)
    assert partial and partial[0].done == logic.FIRST_TABLE_AFTER and not partial[0].complete
    assert ens.complete and ens.done == 5
    assert logic.stale_reasons(ens, "baseline", values, 5) == []
    moved = {**values, "sme_fund": 2.0}
    reasons = logic.stale_reasons(ens, "baseline", moved, 8)
    assert any("sme_fund" in r for r in reasons) and any("replications" in r for r in reasons)
    assert logic.stale_reasons(ens, "plan_max", values, 5)
    rows = logic.settings_table(ens)
    assert len(rows) == len(values) and not any(r[""] for r in rows)
    assert "亿元" in logic.probability_table(ens)[1]["目标值 target value"]
    csv_text = logic.table_csv(logic.probability_table(ens))
    assert csv_text.count("\n") == len(ens.rows) + 1


def test_the_exported_settings_are_a_scenario_that_runs_the_same(tmp_path):
    """The YAML export, saved anywhere, resolves to the settings shown (it extends the shipped
    scenario by name)."""
    from model.scenario import load_scenario

    dims = {d.name: d for d in logic.dimensions()}
    base = logic.load_offered("attraction_push")
    values = {name: logic.current_value(base, d) for name, d in dims.items()}
    values["sme_fund"] = 1.5
    values["projects_per_year"] = {**values["projects_per_year"], 2024: 600.0}
    ens = logic.Ensemble("attraction_push", values, [], [], 0)
    saved = tmp_path / "saved.yaml"
    saved.write_text(logic.scenario_yaml(ens), encoding="utf-8")
    loaded = load_scenario(saved)
    for name, d in dims.items():
        assert logic.current_value(loaded, d) == values[name], name


def test_a_typed_figure_is_checked_before_anything_is_read():
    """The dashboard's nowcast box: a figure the calibration already holds, or a value that is
    not a number, is a message (never an exception), with or without the panel."""
    assert "already in the calibration as 'va_growth_2022'" in logic.nowcast_figure(
        "value_added", "total", 2022, 12, 9.0, 1.5)[1]
    assert "not usable" in logic.nowcast_figure("value_added", "total", 2026, 2, "abc", 1.5)[1]
    assert "negative" in logic.nowcast_figure("revenue", "total", 2026, 2, 9, -1)[1]
    answer, problem = logic.nowcast_figure("revenue", "etdz", 2026, 3, 12.0, 3.0)
    assert (answer and answer["rows"] and 0 <= answer["percentile"] <= 100) or "--panel" in problem


def test_traffic_lights_and_interval_note():
    assert [logic.light(p) for p in (0.85, 0.6, 0.1)] == ["绿 green", "黄 amber", "红 red"]
    assert "±10" in logic.interval_note(100) and "12" in logic.interval_note(12)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def dashboard():
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    exe = Path(sys.executable).with_name("yichun-abm")
    server = subprocess.Popen([str(exe), "dashboard", "--port", str(port), "--replications", "2",
                               "--population-scale", "0.1"], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert server.poll() is None, server.stdout.read()
            time.sleep(0.5)
        yield f"http://127.0.0.1:{port}/"
    finally:
        os.kill(server.pid, signal.SIGTERM)   # the command became the server: stop it by its pid
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.kill(server.pid, signal.SIGKILL)
            server.wait()


def table_text(driver) -> str:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.CLASS_NAME, "probability-table").text


@pytest.mark.skipif(not (CHROMIUM and DRIVER), reason="Debian's chromium and chromium-driver are "
                    "not installed (.ci/run installs them as root: apt-get install chromium "
                    "chromium-driver fonts-noto-cjk)")
def test_dashboard_in_a_real_browser(dashboard):
    """A planner's session, with a screenshot of each state in tests/artifacts/: a scenario
    chosen (its by-year path shown as such), results with their settings, a refused entry
    reverted to the value in force, the stale marker after a lever moves, and a second run
    with its change against the first."""
    pytest.importorskip("selenium")
    from selenium import webdriver
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    options = webdriver.ChromeOptions()
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1600,1300"):
        options.add_argument(arg)
    options.binary_location = CHROMIUM
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    wait = WebDriverWait(driver, 120)
    ARTIFACTS.mkdir(exist_ok=True)

    def field(name: str):  # noqa: ANN202
        return driver.find_element(By.CSS_SELECTOR, f".lever-{name} input")

    def type_into_lever(name: str, text: str) -> None:
        """Click the lever's field, replace its text, leave it (as a person does)."""
        box = field(name)
        box.click()
        box.send_keys(Keys.CONTROL, "a")
        box.send_keys(text)
        box.send_keys(Keys.TAB)

    def type_until(name: str, text: str, condition):  # noqa: ANN001, ANN202
        """Type, and type again if the page has not reacted (under load a keystroke or the
        blur that commits the field can be lost): three tries of 40 s."""
        for _ in range(3):
            type_into_lever(name, text)
            try:
                return WebDriverWait(driver, 40).until(condition)
            except TimeoutException:
                continue
        raise AssertionError(f"the page did not react to {text!r} typed into {name}")

    def text_of(css: str) -> str:
        found = driver.find_elements(By.CLASS_NAME, css)
        return found[0].text if found else ""

    try:
        driver.get(dashboard)
        wait.until(ec.element_to_be_clickable((By.CLASS_NAME, "run-button")))
        assert "replications: 2" in text_of("replications")

        # choose a scenario that sets projects by year: the field shows the path, not a number
        driver.find_element(By.CSS_SELECTOR, ".v-select").click()
        wait.until(ec.element_to_be_clickable(
            (By.XPATH, "//div[contains(@class,'v-list-item__title')][text()='attraction_push']"))).click()
        wait.until(lambda d: field("projects_per_year").get_attribute("value").startswith("2022: 338"))
        assert field("large_projects_per_year").get_attribute("value") == "5"
        driver.save_screenshot(str(ARTIFACTS / "dashboard_scenario_chosen.png"))

        # run: a table with lights, units and the settings that produced it
        clicked = time.perf_counter()
        driver.find_element(By.CLASS_NAME, "run-button").click()
        wait.until(lambda d: "%" in text_of("probability-table"))
        first_answer = time.perf_counter() - clicked
        wait.until(lambda d: d.find_elements(By.CLASS_NAME, "firms-table"))
        whole = time.perf_counter() - clicked
        before = text_of("probability-table")
        assert "亿元" in before and ("red" in before or "amber" in before or "green" in before)
        settings = text_of("settings-table")
        assert "2022: 338, 2023: 450" in settings and "attraction_push" in text_of("result-header")
        assert not driver.find_elements(By.CLASS_NAME, "stale-marker")
        driver.save_screenshot(str(ARTIFACTS / "dashboard_results_with_settings.png"))
        (ARTIFACTS / "dashboard_timings.txt").write_text(
            f"first table {first_answer:.1f} s, figures and firms {whole:.1f} s after Run "
            "(2 replications at population scale 0.1, the server's first run)\n")

        # a refused entry: its message, and the field back at the value in force
        problem = type_until("sme_fund", "50",
                             ec.presence_of_element_located((By.CLASS_NAME, "input-problem")))
        assert "outside the allowed range" in problem.text
        wait.until(lambda d: field("sme_fund").get_attribute("value") == "0.1")
        assert "Traceback" not in driver.find_element(By.TAG_NAME, "body").text
        assert not driver.find_elements(By.CLASS_NAME, "stale-marker")   # nothing in force moved
        driver.save_screenshot(str(ARTIFACTS / "dashboard_refused_entry_reverted.png"))

        # one year of the path moved: the other years kept, the results marked stale
        type_until("projects_per_year", "2023: 900",
                   ec.presence_of_element_located((By.CLASS_NAME, "stale-marker")))
        assert field("projects_per_year").get_attribute("value") == (
            "2022: 338, 2023: 900, 2024: 450, 2025: 450, 2026: 450")
        assert "projects_per_year" in text_of("stale-marker")
        driver.save_screenshot(str(ARTIFACTS / "dashboard_stale_marker.png"))

        # run again: the marker goes, the table changes and shows the change against the first run
        wait.until(ec.element_to_be_clickable((By.CLASS_NAME, "run-button"))).click()
        wait.until(lambda d: text_of("probability-table") != before
                   and "Δ" in text_of("probability-table")
                   and not d.find_elements(By.CLASS_NAME, "stale-marker"))
        assert "2023: 900" in text_of("settings-table")
        driver.save_screenshot(str(ARTIFACTS / "dashboard_after_lever.png"))

        # a newly published figure typed in: what it changes (or, without the calibration's
        # panel, one line saying how to make it)
        def open_nowcast(d):  # noqa: ANN001, ANN202
            """Open the box (again, if a click was lost under load) until its field shows."""
            found = d.find_elements(By.CSS_SELECTOR, ".figure-value input")
            if found and found[0].is_displayed():
                return found[0]
            d.find_element(By.XPATH, "//*[contains(text(),'A newly published figure')]").click()
            return False

        box = WebDriverWait(driver, 120, poll_frequency=5).until(open_nowcast)
        box.click()
        box.send_keys("9")
        box.send_keys(Keys.TAB)
        driver.find_element(By.CLASS_NAME, "figure-button").click()
        wait.until(lambda d: d.find_elements(By.CLASS_NAME, "nowcast-table")
                   or d.find_elements(By.CLASS_NAME, "figure-problem"))
        problem = text_of("figure-problem")
        assert text_of("nowcast-table") or "--panel" in problem, problem
        assert "Traceback" not in driver.find_element(By.TAG_NAME, "body").text
        driver.save_screenshot(str(ARTIFACTS / "dashboard_nowcast.png"))
    except Exception:
        driver.save_screenshot(str(ARTIFACTS / "dashboard_failure.png"))  # what the page showed
        raise
    finally:
        driver.quit()


@pytest.mark.skipif(not CHROMIUM, reason="Debian's chromium is not installed (.ci/run installs it)")
def test_summary_page_renders_in_chinese(tmp_path):
    """The run folder's one-page summary, rendered by chromium with the CJK font .ci/run
    installs: a screenshot lands in tests/artifacts/summary.png."""
    fonts = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True).stdout
    if not fonts.strip():
        pytest.skip("no CJK font (.ci/run installs fonts-noto-cjk)")
    from model.cli import main

    scenario = tmp_path / "small.yaml"
    scenario.write_text("extends: baseline\nname: small\nrun:\n  population_scale: 0.2\n")
    out = tmp_path / "run"
    assert main(["run", str(scenario), "--out", str(out), "--replications", "2", "--quiet"]) == 0
    page = (out / "summary.html").read_text(encoding="utf-8")
    assert "<html lang='zh-CN'>" in page and "全市" in page and "可能达成" in page
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "summary.png"
    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    "--window-size=1280,1400", f"--screenshot={shot}", (out / "summary.html").as_uri()],
                   capture_output=True, timeout=120, check=True)
    assert shot.stat().st_size > 50_000      # a page of text and tables, not a blank one
