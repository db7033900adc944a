"""Shared fixtures: the baseline scenario, small models, a finished baseline run."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from model.bench import scaled
from model.economy import YichunModel
from model.paths import PROJECT_ROOT
from model.runner import run_replication
from model.scenario import ResolvedScenario, load_scenario

BASELINE = PROJECT_ROOT / "scenarios" / "baseline.yaml"
SHARED = PROJECT_ROOT.parent / "shared"


@pytest.fixture(scope="session")
def baseline() -> ResolvedScenario:
    return load_scenario(BASELINE)


@pytest.fixture(scope="session")
def small_baseline(baseline: ResolvedScenario) -> ResolvedScenario:
    """The baseline with a fifth of the firms (revenues scaled alike): fast mechanism tests."""
    return scaled(baseline, 0.2)


@pytest.fixture()
def small_model(small_baseline: ResolvedScenario) -> YichunModel:
    return YichunModel(small_baseline, seed=7)


@pytest.fixture(scope="session")
def baseline_run(baseline: ResolvedScenario):
    """Replication 0 of the baseline at full size (the shipped configuration)."""
    return run_replication(baseline, baseline.spec.run.seed, 0)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def start(cmd: list[str]) -> subprocess.Popen:
    """The command in its own process group, quiet (so kill_group reaches its workers too)."""
    return subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def kill_group(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def kill_at_random_moments(cmd: list[str], seed: int, low: float, high: float,
                           times: int = 5) -> None:
    """Start the command and kill -9 it `times` times, each after a seeded random wait."""
    rng = np.random.default_rng(seed)
    for _ in range(times):
        proc = start(cmd)
        time.sleep(float(rng.uniform(low, high)))
        kill_group(proc)
