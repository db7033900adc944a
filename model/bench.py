"""Engine benchmark: median wall time of full 2022-2026 runs and firm-months per second."""

from __future__ import annotations

import statistics
import time

from model.economy import YichunModel
from model.scenario import N_MONTHS, ResolvedScenario, load_scenario


def scaled(scenario: ResolvedScenario, scale: float) -> ResolvedScenario:
    run = scenario.spec.run.model_copy(update={"population_scale": scale})
    spec = scenario.spec.model_copy(update={"run": run})
    return ResolvedScenario(spec, scenario.data, scenario.files, scenario.parameters)


def time_runs(scenario: ResolvedScenario, repeats: int) -> tuple[list[float], list[int]]:
    """Wall seconds of each full run (construction included) and its firm count."""
    YichunModel(scenario, seed=0).run()  # warm caches (facts, defaults) outside the timing
    seconds, firms = [], []
    for i in range(repeats):
        start = time.perf_counter()
        model = YichunModel(scenario, seed=i + 1).run()
        seconds.append(time.perf_counter() - start)
        firms.append(model.firms.n)
        model.release()
    return seconds, firms


def bench_engine(path: str, repeats: int = 7, scale: float = 1.0) -> dict[str, float]:
    scenario = scaled(load_scenario(path), scale)
    seconds, firms = time_runs(scenario, repeats)
    median = statistics.median(seconds)
    firm_months = statistics.mean(firms) * N_MONTHS
    result = {"median_seconds": median, "min_seconds": min(seconds),
              "firms": statistics.mean(firms), "firm_months_per_second": firm_months / median}
    print(f"scenario {scenario.name}, population scale {scale}, {repeats} runs of {N_MONTHS} months")
    print(f"  firms per run (incl. entrants): {result['firms']:.0f}")
    print(f"  median wall time per run: {median:.3f} s (min {min(seconds):.3f} s)")
    print(f"  firm-months per second: {result['firm_months_per_second']:,.0f}")
    return result
