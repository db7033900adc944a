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
    pytest.importorskip("selenium")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    options = webdriver.ChromeOptions()
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1600,1100"):
        options.add_argument(arg)
    options.binary_location = CHROMIUM
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    wait = WebDriverWait(driver, 120)
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        driver.get(dashboard)
        run = wait.until(ec.element_to_be_clickable((By.CLASS_NAME, "run-button")))
        run.click()
        wait.until(ec.presence_of_element_located((By.CLASS_NAME, "probability-table")))
        wait.until(lambda d: "%" in table_text(d))
        before = table_text(driver)

        def type_into_lever(name: str, text: str) -> None:
            """Click the lever's field, replace its text, leave it (as a person does)."""
            field = driver.find_element(By.CSS_SELECTOR, f".lever-{name} input")
            field.click()
            field.send_keys(Keys.CONTROL, "a")
            field.send_keys(text)
            field.send_keys(Keys.TAB)

        def type_until(name: str, text: str, condition):  # noqa: ANN001, ANN202
            """Type, and type again if the page has not reacted (under load a keystroke or
            the blur that commits the field can be lost): three tries of 40 s."""
            from selenium.common.exceptions import TimeoutException

            for _ in range(3):
                type_into_lever(name, text)
                try:
                    return WebDriverWait(driver, 40).until(condition)
                except TimeoutException:
                    continue
            raise AssertionError(f"the page did not react to {text!r} typed into {name}")

        # a value outside the lever's allowed range: a message, not a traceback
        problem = type_until("projects_per_year", "99999",
                             ec.presence_of_element_located((By.CLASS_NAME, "input-problem")))
        assert "outside the allowed range" in problem.text
        assert "Traceback" not in driver.find_element(By.TAG_NAME, "body").text
        driver.save_screenshot(str(ARTIFACTS / "dashboard_bad_input.png"))

        # move the lever to an allowed value and run again: the probability table changes
        type_until("projects_per_year", "900",
                   lambda d: not d.find_elements(By.CLASS_NAME, "input-problem"))
        wait.until(ec.element_to_be_clickable((By.CLASS_NAME, "run-button"))).click()
        wait.until(lambda d: table_text(d) != before and "%" in table_text(d))
        driver.save_screenshot(str(ARTIFACTS / "dashboard_after_lever.png"))
        assert table_text(driver) != before
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
