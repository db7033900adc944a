"""The performance suite: ``yichun-abm bench --full`` (or ``python -m benchmarks.suite``).

Prints, from one invocation:
1. the vectorised engine against the object-per-agent Mesa reference at about 10^4 firms
   (firm rules only, both), time per run and ratio;
2. the engine's firm-months per second on the full baseline;
3. time and peak memory of one full 2022-2026 run at 10^3, 10^4, 10^5 and 10^6 firms, each in
   a fresh process (its own peak resident memory, VmHWM), and the cost per firm-month;
4. ensemble throughput with 1 and 2 worker processes.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from model.bench import scaled, time_runs
from model.paths import PROJECT_ROOT
from model.runner import run_ensemble
from model.scenario import N_MONTHS, load_scenario

BASELINE = PROJECT_ROOT / "scenarios" / "baseline.yaml"
#: population scales giving about 10^3, 10^4, 10^5 and 10^6 firms (entrants included)
SCALES = {"1e3": 0.08, "1e4": 0.8, "1e5": 8.0, "1e6": 80.0}

_ONE_RUN = """
import json, sys, time
from model.bench import scaled
from model.economy import YichunModel
from model.scenario import load_scenario
sc = scaled(load_scenario(sys.argv[1]), float(sys.argv[2]))
YichunModel(scaled(sc, 0.05), seed=0).run(1)  # load the facts and defaults outside the timing
start = time.perf_counter()
m = YichunModel(sc, seed=1).run()
seconds = time.perf_counter() - start
# VmHWM is this process's own peak (getrusage's ru_maxrss survives execve, so it read the
# parent's peak)
with open("/proc/self/status") as fh:
    peak_kb = next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:"))
print(json.dumps({"seconds": seconds, "firms": m.firms.n, "peak_mb": peak_kb / 1024}))
"""


def engine_vs_reference(scale: float = 0.8, repeats: int = 3) -> dict[str, float]:
    from benchmarks.reference_mesa import FIRM_RULES_ONLY, ReferenceModel
    from model.economy import YichunModel

    scenario = scaled(load_scenario(BASELINE), scale).updated(FIRM_RULES_ONLY)
    engine = []
    for seed in range(repeats):
        start = time.perf_counter()
        model = YichunModel(scenario, seed=seed).run()
        engine.append(time.perf_counter() - start)
    start = time.perf_counter()
    ReferenceModel(scenario, seed=0).run()
    reference = time.perf_counter() - start
    eng = statistics.median(engine)
    return {"firms": model.firms.n, "engine_s": eng, "reference_s": reference,
            "ratio": reference / eng}


def one_run_in_fresh_process(scale: float) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", _ONE_RUN, str(BASELINE), str(scale)],
                         capture_output=True, text=True, check=True, cwd=PROJECT_ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def ensemble_throughput(replications: int = 24) -> dict[int, float]:
    scenario = load_scenario(BASELINE)
    rates = {}
    for workers in (1, 2):
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            run_ensemble(scenario, Path(tmp), replications, seed=3, workers=workers)
            rates[workers] = replications / (time.perf_counter() - start)
    return rates


def main(sizes: tuple[str, ...] = tuple(SCALES)) -> None:
    print("1. vectorised engine vs object-per-agent Mesa reference (firm rules only)")
    r = engine_vs_reference()
    print(f"   {r['firms']} firms: engine {r['engine_s']:.3f} s/run, reference "
          f"{r['reference_s']:.2f} s/run, ratio {r['ratio']:.0f}x")
    print("2. engine on the full baseline")
    seconds, firms = time_runs(load_scenario(BASELINE), 5)
    med = statistics.median(seconds)
    print(f"   {statistics.mean(firms):.0f} firms: median {med:.3f} s/run, "
          f"{statistics.mean(firms) * N_MONTHS / med:,.0f} firm-months/s")
    print("3. scaling (one full 2022-2026 run in a fresh process)")
    for label in sizes:
        res = one_run_in_fresh_process(SCALES[label])
        per = res["seconds"] / (res["firms"] * N_MONTHS) * 1e6
        print(f"   ~{label} firms ({res['firms']}): {res['seconds']:.2f} s, peak "
              f"{res['peak_mb']:.0f} MB, {per:.2f} µs per firm-month")
    print("4. ensemble throughput (baseline, 24 replications)")
    for workers, rate in ensemble_throughput().items():
        print(f"   {workers} process(es): {rate:.2f} replications/s")


if __name__ == "__main__":
    main()
