"""The performance suite: ``yichun-abm bench --full`` (or ``python -m benchmarks.suite``).

Prints, from one invocation:
1. the vectorised engine against the object-per-agent Mesa reference at about 10^4 firms
   (firm rules only, both), time per run and ratio (the median of three paired measurements);
2. the engine's firm-months per second on the full baseline;
3. time and peak memory of one full 2022-2026 run at 10^3, 10^4, 10^5 and 10^6 firms, each in
   a fresh process (its own peak resident memory, VmHWM), and the cost per firm-month;
4. a baseline ensemble on 2 worker processes (``run_ensemble``, as ``run`` runs it): wall
   time, replications per second, the time 1,000 would take, and each worker's resident
   memory after its first and its last replication (flat: no growth) and its peak;
5. the last full calibration's time (from the committed posterior's manifest);
6. a nowcast of one new figure on the committed posterior (benchmarks/nowcast_bench.py).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from model.bench import scaled, time_runs
from model.paths import PROJECT_ROOT
from model.runner import Saved, run_ensemble
from model.scenario import N_MONTHS, load_scenario

BASELINE = PROJECT_ROOT / "scenarios" / "baseline.yaml"
#: population scales giving about 10^3, 10^4, 10^5 and 10^6 firms (entrants included)
SCALES = {"1e3": 0.08, "1e4": 0.8, "1e5": 8.0, "1e6": 80.0}

_ONE_RUN = """
import json, sys, time
from model.bench import scaled
from model.economy import YichunModel
from model.runner import memory_mb
from model.scenario import load_scenario
sc = scaled(load_scenario(sys.argv[1]), float(sys.argv[2]))
YichunModel(scaled(sc, 0.05), seed=0).run(1)  # load the facts and defaults outside the timing
start, start_cpu = time.perf_counter(), time.process_time()
m = YichunModel(sc, seed=1).run()
seconds, cpu = time.perf_counter() - start, time.process_time() - start_cpu
# VmHWM is this process's own peak (getrusage's ru_maxrss survives execve, so it read the
# parent's peak)
print(json.dumps({"seconds": seconds, "cpu": cpu, "firms": m.firms.n, "peak_mb": memory_mb()[1]}))
"""
CALIBRATION_MANIFEST = PROJECT_ROOT / "calibration" / "posterior" / "default" / "manifest.json"


def engine_vs_reference(scale: float = 1.0, repeats: int = 7, pairs: int = 3) -> dict[str, Any]:
    """CPU seconds per run of the engine and of the reference on the same scenario with the
    firm rules only (no small-firm entry or projects: scale 1 is about 10^4 firms), and their
    ratio. Measured in `pairs` pairs, each the engine's median over `repeats` runs next to one
    reference run: on a shared virtual machine both move with the other tenants by tens of
    percent (one reference run took 13.5-21 s), together within a pair; the ratio is the
    median of the pairs' ratios. CPU time, as the issue measures."""
    from benchmarks.reference_mesa import FIRM_RULES_ONLY, ReferenceModel
    from model.economy import YichunModel

    scenario = scaled(load_scenario(BASELINE), scale).updated(FIRM_RULES_ONLY)
    YichunModel(scenario, seed=0).run().release()   # compiled loops loaded outside the timing
    engine, reference = [], []
    for pair in range(pairs):
        block = []
        for seed in range(repeats):
            start = time.process_time()
            model = YichunModel(scenario, seed=pair * repeats + seed).run()
            block.append(time.process_time() - start)
            firms = model.firms.n
            model.release()
        engine.append(statistics.median(block))
        start = time.process_time()
        ReferenceModel(scenario, seed=pair).run()
        reference.append(time.process_time() - start)
    ratios = [r / e for r, e in zip(reference, engine, strict=True)]
    return {"firms": firms, "engine_s": statistics.median(engine), "reference_s": reference,
            "ratios": ratios, "ratio": statistics.median(ratios)}


def one_run_in_fresh_process(scale: float) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", _ONE_RUN, str(BASELINE), str(scale)],
                         capture_output=True, text=True, check=True, cwd=PROJECT_ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def ensemble_in_fresh_process(replications: int, workers: int = 2) -> dict[str, Any]:
    """``ensemble_throughput`` in a new process, as ``yichun-abm run`` starts one: forked
    workers share their parent's pages, so a parent that ran the reference and the engine
    first (sections 1-3) would lend them ~100 MB of its own."""
    code = ("import json, sys; from benchmarks.suite import ensemble_throughput; "
            "print(json.dumps(ensemble_throughput(int(sys.argv[1]), int(sys.argv[2]))))")
    out = subprocess.run([sys.executable, "-c", code, str(replications), str(workers)],
                         capture_output=True, text=True, check=True, cwd=PROJECT_ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def ensemble_throughput(replications: int = 200, workers: int = 2) -> dict[str, object]:
    """A baseline ensemble on `workers` processes, run as ``yichun-abm run`` runs it (each
    worker writes its replications), with each worker's memory after each replication."""
    memory: dict[int, list[tuple[float, float]]] = {}

    def record(reports: Iterable[Saved], total: int) -> Iterator[Saved]:
        for report in reports:
            memory.setdefault(report.pid, []).append((report.resident_mb, report.peak_mb))
            yield report

    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        run_ensemble(load_scenario(BASELINE), Path(tmp), replications, seed=3, workers=workers,
                     progress=record)
        seconds = time.perf_counter() - start
    return {"seconds": seconds, "per_second": replications / seconds, "memory": memory}


def machine() -> str:
    """The processor, its cores and the numerical libraries: the suite's figures depend on
    them (the same code measured 200x against the reference on one 2-core host, 300x on
    another)."""
    import os
    import platform

    import numba
    import numpy as np

    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = [line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines()
                 if line.startswith("model name")]
        cpu = names[0] if names else cpu
    return (f"{cpu}, {os.cpu_count()} logical cores; Python {platform.python_version()}, "
            f"numpy {np.__version__}, numba {numba.__version__}")


def main(sizes: tuple[str, ...] = tuple(SCALES), ensemble: int = 200) -> None:
    print(f"machine: {machine()}")
    print("1. vectorised engine vs object-per-agent Mesa reference (firm rules only)")
    r = engine_vs_reference()
    print(f"   {r['firms']} firms: engine {r['engine_s']:.3f} s CPU per run (median of "
          f"{len(r['ratios'])} x 7 runs), reference "
          f"{', '.join(f'{x:.2f}' for x in r['reference_s'])} s CPU; ratio {r['ratio']:.0f}x "
          f"(the median of the pairs' {', '.join(f'{x:.0f}x' for x in r['ratios'])})")
    print("2. engine on the full baseline")
    for scale in (1.0, SCALES["1e4"]):
        cpu: list[float] = []
        seconds, firms = time_runs(scaled(load_scenario(BASELINE), scale), 9, cpu)
        med = statistics.median(seconds)
        print(f"   {statistics.mean(firms):.0f} firms (scale {scale}): median {med:.3f} s/run wall, "
              f"{statistics.median(cpu):.3f} s CPU (fastest {min(cpu):.3f}), "
              f"{statistics.mean(firms) * N_MONTHS / med:,.0f} firm-months/s")
    print("3. scaling (one full 2022-2026 run in a fresh process)")
    for label in sizes:
        res = one_run_in_fresh_process(SCALES[label])
        per = res["seconds"] / (res["firms"] * N_MONTHS) * 1e6
        print(f"   ~{label} firms ({res['firms']}): {res['seconds']:.2f} s ({res['cpu']:.2f} s CPU), peak "
              f"{res['peak_mb']:.0f} MB, {per:.2f} µs per firm-month")
    print(f"4. baseline ensemble on 2 worker processes ({ensemble} replications, each saved)")
    r = ensemble_in_fresh_process(ensemble)
    print(f"   {r['seconds']:.1f} s, {r['per_second']:.2f} replications/s: 1,000 would take "
          f"{1000 / r['per_second']:.0f} s")
    for pid, rows in r["memory"].items():
        warm = len(rows) // 10      # the allocator and caches fill during the first replications
        print(f"   worker {pid}: {len(rows)} replications, resident {rows[0][0]:.0f} MB after the "
              f"first, {rows[warm][0]:.0f} MB after replication {warm + 1}, {rows[-1][0]:.0f} MB "
              f"after the last; peak {rows[-1][1]:.0f} MB")
    print("5. full calibration (the committed posterior's manifest)")
    if CALIBRATION_MANIFEST.exists():
        m = json.loads(CALIBRATION_MANIFEST.read_text())
        print(f"   reference table of {m['total_simulations']} simulations: "
              f"{m['table_wall_seconds_all_sessions'] / 60:.1f} min over all sessions "
              f"(`yichun-abm calibrate calibration/default.yaml` to measure again)")
    print("6. nowcast of one new figure on the committed posterior")
    if (CALIBRATION_MANIFEST.parent / "panel.npz").exists():
        from benchmarks.nowcast_bench import bench_nowcast

        r = bench_nowcast()
        print(f"   {r['command_seconds']:.1f} s for the whole command in a fresh process, "
              f"{r['update_seconds']:.2f} s for the update alone (no new simulation)")
    else:
        print("   no panel (`yichun-abm calibrate calibration/default.yaml --panel` makes it)")
