"""Ensembles: identical for any number of workers; resumable without duplicates."""

import subprocess
import sys
import time

import numpy as np
import pytest

from model.cli import main
from model.runner import load_replications, rep_name, run_ensemble
from tests.conftest import BASELINE, kill_at_random_moments, kill_group, start, write


def test_one_and_two_workers_give_identical_tables(tmp_path, small_baseline):
    run_ensemble(small_baseline, tmp_path / "w1", 4, seed=9, workers=1)
    run_ensemble(small_baseline, tmp_path / "w2", 4, seed=9, workers=2)
    one = load_replications(tmp_path / "w1", 4)
    two = load_replications(tmp_path / "w2", 4)
    for a, b in zip(one, two, strict=True):
        assert np.array_equal(a.yearly, b.yearly, equal_nan=True)
        assert np.array_equal(a.monthly, b.monthly)
    assert not np.array_equal(one[0].yearly, one[1].yearly, equal_nan=True)


def test_tables_identical_across_worker_counts_via_cli(tmp_path):
    small = write(tmp_path, "small.yaml", f"extends: {BASELINE}\nname: small\n"
                  "run:\n  population_scale: 0.15\n")
    for workers in ("1", "2"):
        assert main(["run", str(small), "--replications", "3", "--workers", workers, "--quiet",
                     "--out", str(tmp_path / workers)]) == 0
    for table in ("yearly.csv", "targets.csv", "monthly.csv", "payments.csv"):
        assert (tmp_path / "1" / table).read_bytes() == (tmp_path / "2" / table).read_bytes()


def test_killed_ensemble_resumes_with_every_replication_once(tmp_path):
    small = write(tmp_path, "small.yaml", f"extends: {BASELINE}\nname: small\n"
                  "run:\n  population_scale: 0.15\n")
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "model.cli", "run", str(small), "--replications", "12",
           "--out", str(out), "--quiet"]
    proc = start(cmd)
    reps = out / "replications"
    deadline = time.time() + 120
    while time.time() < deadline and len(list(reps.glob("rep_*.npz"))) < 3:
        time.sleep(0.05)
    kill_group(proc)
    done_before = {p.name for p in reps.glob("rep_*.npz")}
    assert 3 <= len(done_before) < 12, "the kill should land part-way"
    before = {name: (reps / name).stat().st_mtime_ns for name in done_before}

    resumed = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert f"({12 - len(done_before)} run now)" in resumed.stdout
    names = sorted(p.name for p in reps.glob("rep_*.npz"))
    assert names == [rep_name(i) for i in range(12)]
    assert not list(reps.glob(".rep_*"))           # no half-written leftovers
    for name, mtime in before.items():            # finished work was kept, not redone
        assert (reps / name).stat().st_mtime_ns == mtime
    rows = (out / "yearly.csv").read_text().splitlines()[1:]
    assert sorted({int(r.split(",")[0]) for r in rows}) == list(range(12))

    fresh = tmp_path / "fresh"
    assert main(["run", str(small), "--replications", "12", "--out", str(fresh), "--quiet"]) == 0
    assert (fresh / "yearly.csv").read_bytes() == (out / "yearly.csv").read_bytes()


def test_resume_refuses_another_scenario(tmp_path, capsys):
    small = write(tmp_path, "small.yaml", f"extends: {BASELINE}\nname: small\n"
                  "run:\n  population_scale: 0.15\n")
    other = write(tmp_path, "other.yaml", f"extends: {small}\nname: other\n"
                  "parameters:\n  share_persistence: 0.5\n")
    out = tmp_path / "run"
    assert main(["run", str(small), "--replications", "1", "--out", str(out), "--quiet"]) == 0
    assert main(["run", str(other), "--replications", "1", "--out", str(out), "--quiet"]) == 2
    assert "another scenario or seed" in capsys.readouterr().err


@pytest.mark.slow
def test_500_replication_baseline_ensemble(tmp_path):
    start = time.perf_counter()
    assert main(["run", str(BASELINE), "--replications", "500", "--workers", "2", "--quiet",
                 "--out", str(tmp_path / "big")]) == 0
    assert time.perf_counter() - start < 180


def test_dask_local_cluster_is_bit_identical_to_process_pool(tmp_path, small_baseline):
    run_ensemble(small_baseline, tmp_path / "pool", 3, seed=21, workers=2)
    run_ensemble(small_baseline, tmp_path / "dask", 3, seed=21, workers=2, executor="dask")
    for a, b in zip(load_replications(tmp_path / "pool", 3), load_replications(tmp_path / "dask", 3),
                    strict=True):
        assert np.array_equal(a.yearly, b.yearly, equal_nan=True)
        assert np.array_equal(a.monthly, b.monthly)


def small_run_command(tmp_path, replications: int):
    small = write(tmp_path, "small.yaml", f"extends: {BASELINE}\nname: small\n"
                  "run:\n  population_scale: 0.1\n")
    out = tmp_path / "run"
    return small, out, [sys.executable, "-m", "model.cli", "run", str(small), "--replications",
                        str(replications), "--out", str(out), "--quiet"]


@pytest.mark.slow   # the default run covers set-aside-and-recompute in tests/test_adversarial.py
def test_a_corrupt_or_copied_replication_is_named_set_aside_and_recomputed(tmp_path):
    small, out, cmd = small_run_command(tmp_path, 4)
    assert subprocess.run(cmd, capture_output=True, timeout=300).returncode == 0
    reps = out / "replications"
    good = (out / "yearly.csv").read_bytes()
    (reps / rep_name(1)).write_bytes((reps / rep_name(1)).read_bytes()[:500])   # truncated
    (reps / rep_name(2)).write_bytes((reps / rep_name(0)).read_bytes())         # copied over
    again = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    warnings = [line for line in again.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 2
    assert rep_name(1) in warnings[0] and "unreadable" in warnings[0]
    assert rep_name(2) in warnings[1] and "holds replication 0, not 2" in warnings[1]
    assert "(2 run now)" in again.stdout
    assert len(list((reps / "set_aside").iterdir())) == 2
    assert (out / "yearly.csv").read_bytes() == good


def test_a_folder_is_not_adopted_or_shrunk(tmp_path, capsys):
    small, out, cmd = small_run_command(tmp_path, 3)
    assert main(cmd[3:]) == 0
    assert main([*cmd[3:5], "--replications", "2", "--out", str(out), "--quiet"]) == 2
    assert "holds 3 replications; rerun with --replications 3" in capsys.readouterr().err
    (out / "ensemble.json").unlink()
    assert main(cmd[3:]) == 2
    assert "no ensemble.json stamp" in capsys.readouterr().err


@pytest.mark.slow
def test_five_kills_at_random_moments_then_resume_identically(tmp_path):
    """Killed five times at random moments (seeded), then finished: every replication exactly
    once and the tables byte-identical to an uninterrupted run."""
    small, out, cmd = small_run_command(tmp_path, 16)
    kill_at_random_moments(cmd, seed=11, low=1.0, high=4.0)
    finished = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert finished.returncode == 0, finished.stderr
    reps = out / "replications"
    assert sorted(p.name for p in reps.glob("rep_*.npz")) == [rep_name(i) for i in range(16)]
    fresh = tmp_path / "fresh"
    assert main(["run", str(small), "--replications", "16", "--out", str(fresh), "--quiet"]) == 0
    assert (fresh / "yearly.csv").read_bytes() == (out / "yearly.csv").read_bytes()
