"""The performance suite's measurements (``yichun-abm bench --full``) at a small size: each
reports what the issue asks for, read in the right process."""

import numpy as np

from benchmarks.identity import differences
from benchmarks.suite import ensemble_in_fresh_process, machine, one_run_in_fresh_process


def test_a_fresh_process_reports_its_own_time_and_peak_memory():
    res = one_run_in_fresh_process(0.05)
    assert res["firms"] > 100
    assert 0 < res["cpu"] <= res["seconds"] * 1.5 + 0.05     # one thread: CPU close to wall
    assert 100 < res["peak_mb"] < 1000                          # the child's own peak, not ours


def test_the_ensemble_reports_each_workers_memory_after_every_replication():
    r = ensemble_in_fresh_process(replications=6, workers=2)     # as the suite runs it
    assert r["per_second"] > 0
    assert sum(len(rows) for rows in r["memory"].values()) == 6
    assert 1 <= len(r["memory"]) <= 2                           # worker processes, by pid
    for rows in r["memory"].values():
        assert all(rss <= peak for rss, peak in rows)


def test_the_identity_check_names_what_moved():
    before = {"baseline-1-capacity": np.array([1.0, 2.0]), "baseline-1-monthly": np.ones(3),
              "baseline-1-cash": np.zeros(2)}
    after = {"baseline-1-capacity": np.array([1.0, np.nextafter(2.0, 3.0)]),   # the last bit
             "baseline-1-monthly": np.ones(3) * (1 + 1e-15),                 # reassociation
             "baseline-1-cash": np.zeros(3)}
    assert differences(before, before) == []
    assert differences(before, after) == ["baseline-1-capacity: 1 of 2 values differ",
                                          "baseline-1-cash: missing or reshaped"]


def test_the_reference_ratio_is_the_median_of_paired_measurements():
    from benchmarks.suite import engine_vs_reference

    r = engine_vs_reference(scale=0.05, repeats=2, pairs=3)
    assert len(r["reference_s"]) == len(r["ratios"]) == 3
    assert r["ratio"] == sorted(r["ratios"])[1]
    assert r["ratio"] > 1                 # one Python object per firm is slower even at 500 firms


def test_the_suite_names_the_machine_its_figures_come_from():
    line = machine()
    assert "logical cores" in line and "numpy" in line and "numba" in line
    assert not line.startswith(",")                        # a processor name comes first
