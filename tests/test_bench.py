"""The performance suite's measurements (``yichun-abm bench --full``) at a small size: each
reports what the issue asks for, read in the right process."""

from benchmarks.suite import ensemble_throughput, one_run_in_fresh_process


def test_a_fresh_process_reports_its_own_time_and_peak_memory():
    res = one_run_in_fresh_process(0.05)
    assert res["firms"] > 100
    assert 0 < res["cpu"] <= res["seconds"] * 1.5 + 0.05     # one thread: CPU close to wall
    assert 100 < res["peak_mb"] < 1000                          # the child's own peak, not ours


def test_the_ensemble_reports_each_workers_memory_after_every_replication():
    r = ensemble_throughput(replications=6, workers=2)
    assert r["per_second"] > 0
    assert sum(len(rows) for rows in r["memory"].values()) == 6
    assert 1 <= len(r["memory"]) <= 2                           # worker processes, by pid
    for rows in r["memory"].values():
        assert all(rss <= peak for rss, peak in rows)
