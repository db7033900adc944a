"""Engine benchmark: median wall time of full 2022-2026 runs and firm-months per second."""

from __future__ import annotations

import statistics
import time

from model.economy import YichunModel
from model.scenario import N_MONTHS, ResolvedScenario, load_scenario


def scaled(scenario: ResolvedScenario, scale: float) -> ResolvedScenario:
    """The scenario with ``population_scale`` set, in its data too (so a later ``updated`` keeps
    it: rebuilding from the data alone once reset every benchmark's scale to 1)."""
    return scenario.updated({"run": {"population_scale": scale}})


def time_runs(scenario: ResolvedScenario, repeats: int,
              cpu: list[float] | None = None) -> tuple[list[float], list[int]]:
    """Wall seconds of each full run (construction included) and its firm count; the CPU
    seconds of this process for each run are appended to `cpu` when given."""
    YichunModel(scenario, seed=0).run().release()  # warm caches (facts, compiled loops)
    seconds, firms = [], []
    for i in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        model = YichunModel(scenario, seed=i + 1).run()
        seconds.append(time.perf_counter() - start)
        if cpu is not None:
            cpu.append(time.process_time() - start_cpu)
        firms.append(model.firms.n)
        model.release()
    return seconds, firms


def bench_engine(path: str, repeats: int = 7, scale: float = 1.0) -> dict[str, float]:
    scenario = scaled(load_scenario(path), scale)
    cpu: list[float] = []
    seconds, firms = time_runs(scenario, repeats, cpu)
    median = statistics.median(seconds)
    firm_months = statistics.mean(firms) * N_MONTHS
    result = {"median_seconds": median, "min_seconds": min(seconds),
              "median_cpu_seconds": statistics.median(cpu),
              "firms": statistics.mean(firms), "firm_months_per_second": firm_months / median}
    print(f"scenario {scenario.name}, population scale {scale}, {repeats} runs of {N_MONTHS} months")
    print(f"  firms per run (incl. entrants): {result['firms']:.0f}")
    print(f"  median wall time per run: {median:.3f} s (min {min(seconds):.3f} s), "
          f"CPU {result['median_cpu_seconds']:.3f} s")
    print(f"  firm-months per second: {result['firm_months_per_second']:,.0f}")
    return result
