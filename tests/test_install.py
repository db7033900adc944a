"""The package installs: a wheel built from the clone, installed into a fresh virtual
environment, runs the baseline from an empty directory with the data it ships.

The default test lends the fresh environment this one's dependencies (a path entry, not an
install) so it needs no network; the slow one installs them from the registry as a user would.
"""

import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def build_wheel(tmp_path: Path) -> Path:
    out = tmp_path / "wheel"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                    "-w", str(out), str(ROOT)], check=True, capture_output=True, text=True)
    (wheel,) = out.glob("yichun_abm-*.whl")
    return wheel


def fresh_env(tmp_path: Path, lend_dependencies: bool) -> Path:
    env = tmp_path / "env"
    venv.EnvBuilder(with_pip=True).create(env)
    if lend_dependencies:
        site = next((env / "lib").glob("python3*/site-packages"))
        (site / "lent_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return env


def run_from_empty_directory(env: Path, tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    done = subprocess.run([str(env / "bin" / "yichun-abm"), "run", "baseline", "--replications", "2",
                           "--quiet"], cwd=work, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    folder = work / "results" / "baseline"
    for name in ("targets.csv", "yearly.csv", "report.md", "manifest.json"):
        assert (folder / name).is_file(), name
    assert "posterior" in (folder / "manifest.json").read_text()
    imported = subprocess.run([str(env / "bin" / "python"), "-c",
                               "import model.paths as p; print(p.PROJECT_ROOT)"],
                              cwd=work, capture_output=True, text=True, check=True).stdout
    assert str(env) in imported and "shipped" in imported   # the installed copy, not the clone
    # the dashboard and the nowcast's figure files ship too
    shipped = subprocess.run([str(env / "bin" / "python"), "-c",
                              "import model.dashboard.logic, model.paths as p; "
                              "print(sorted(x.name for x in (p.PROJECT_ROOT / 'calibration' / "
                              "'figures').glob('*.yaml')))"],
                             cwd=work, capture_output=True, text=True)
    assert shipped.returncode == 0, shipped.stderr
    assert "replay_2023_2025.yaml" in shipped.stdout
    groups = subprocess.run([str(env / "bin" / "python"), "-c",
                             "from model.analysis.attribution import load_groups; "
                             "print(sorted(load_groups()))"], cwd=work, capture_output=True,
                            text=True)
    assert groups.returncode == 0 and "chain_leaders" in groups.stdout, groups.stderr


def test_wheel_installs_and_runs_the_baseline_anywhere(tmp_path):
    wheel = build_wheel(tmp_path)
    env = fresh_env(tmp_path, lend_dependencies=True)
    subprocess.run([str(env / "bin" / "python"), "-m", "pip", "install", "-q", "--no-deps",
                    "--no-index", str(wheel)], check=True, capture_output=True, text=True)
    run_from_empty_directory(env, tmp_path)


@pytest.mark.slow
def test_wheel_installs_with_its_dependencies_from_the_registry(tmp_path):
    wheel = build_wheel(tmp_path)
    env = fresh_env(tmp_path, lend_dependencies=False)
    subprocess.run([str(env / "bin" / "python"), "-m", "pip", "install", "-q", str(wheel)],
                   check=True, capture_output=True, text=True, timeout=1800)
    run_from_empty_directory(env, tmp_path)
