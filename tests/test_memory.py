"""Memory stays flat over many replications in one process (Mesa 3.3.1 keeps every model that
made an agent unless it is released: about 9 MB a full run)."""

import gc

import mesa

from model.runner import run_replication
from model.scenario import load_scenario
from tests.conftest import BASELINE


def resident_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * 4096 / 1e6


def test_memory_flat_over_replications():
    scenario = load_scenario(BASELINE).updated({"run": {"population_scale": 0.3}})
    for i in range(40):  # warm caches and the allocator
        run_replication(scenario, 1, i)
    gc.collect()
    before, models = resident_mb(), len(mesa.Agent._ids)
    for i in range(40, 100):
        run_replication(scenario, 1, i)
    gc.collect()
    assert len(mesa.Agent._ids) == models
    # unreleased, each model of this size keeps about 3 MB: 180 MB over these 60
    assert resident_mb() - before < 30, "memory grows with replications"
