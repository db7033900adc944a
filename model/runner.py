"""Replications and ensembles: seeds, workers, resumable per-replication files.

Replication ``i`` of a run with root seed ``s`` uses ``SeedSequence(s, spawn_key=(i,))``,
the same stream numpy's ``SeedSequence(s).spawn(n)[i]`` gives, so its numbers do not depend
on how many replications or worker processes there are. Each finished replication is
written atomically to ``replications/rep_#####.npz``; a rerun into the same folder skips
the ones already there.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from model.economy import YichunModel
from model.government import INSTRUMENTS
from model.parallel import completed
from model.scenario import ResolvedScenario
from model.statistics import MONTHLY, YEARLY, derived_yearly
from model.yamlio import atomic_path

DERIVED = ("value_added_real", "revenue_growth_pct", "revenue_all_firms_growth_pct",
           "value_added_real_growth_pct", "emerging_va_share_pct",
           "profit_margin_pct", "rd_to_revenue_pct", "digitalisation_rate_pct",
           "lithium_mid_down_share_pct", "new_plants_contribution_pct")
SUBSIDY_STATS = tuple(f"subsidy_{name}" for name in INSTRUMENTS)
YEARLY_STATS = YEARLY + DERIVED + SUBSIDY_STATS


@dataclass
class Replication:
    """The tables of one replication."""

    index: int
    yearly: np.ndarray        # (years, scopes, YEARLY_STATS)
    monthly: np.ndarray       # (months, scopes, MONTHLY)
    lithium_price: np.ndarray  # (months,) 元/吨
    payments: dict[str, np.ndarray]
    draw: int                 # index of the parameter draw used (-1: the scenario's values)
    seconds: float

    def save(self, path: Path) -> None:
        with atomic_path(path) as tmp, open(tmp, "wb") as fh:
            np.savez(fh, index=self.index, yearly=self.yearly, monthly=self.monthly,
                     lithium_price=self.lithium_price, draw=self.draw, seconds=self.seconds,
                     **{f"pay_{k}": v for k, v in self.payments.items()})

    @classmethod
    def load(cls, path: Path) -> Replication:
        with np.load(path) as z:
            payments = {k[4:]: z[k] for k in z.files if k.startswith("pay_")}
            return cls(int(z["index"]), z["yearly"], z["monthly"], z["lithium_price"], payments,
                       int(z["draw"]), float(z["seconds"]))


def replication_seed(root_seed: int, index: int) -> np.random.SeedSequence:
    return np.random.SeedSequence(root_seed, spawn_key=(index,))


def run_replication(scenario: ResolvedScenario, root_seed: int, index: int,
                    draws: list[dict[str, Any]] | None = None) -> Replication:
    """One full 2022-2026 run; with `draws`, the replication uses parameter draw i mod n."""
    start = time.perf_counter()
    draw = -1
    if draws:
        draw = index % len(draws)
        scenario = scenario.with_parameters(draws[draw])
    model = YichunModel(scenario, seed=replication_seed(root_seed, index)).run()
    rep = collect(model, index, draw, time.perf_counter() - start)
    model.release()
    return rep


def collect(model: YichunModel, index: int = 0, draw: int = -1, seconds: float = 0.0) -> Replication:
    rec = model.recorder
    derived = derived_yearly(rec.yearly)
    subsidies = rec.subsidies_by_year()
    yearly = np.concatenate(
        [rec.yearly, np.stack([derived[k] for k in DERIVED], axis=-1),
         np.stack([subsidies[k] for k in INSTRUMENTS], axis=-1)], axis=-1)
    ledger = model.government.ledger()
    ledger["firm_id"] = np.asarray(ledger["firm"], dtype=int)  # the firm's row (Enterprise.index)
    return Replication(index, yearly, rec.monthly.copy(), model.conditions.lithium_price.copy(),
                       ledger, draw, seconds)


def _task(args: tuple[ResolvedScenario, int, int, list[dict[str, Any]] | None]) -> Replication:
    """One replication, returned to the caller (which writes it: workers need no shared disk)."""
    scenario, seed, index, draws = args
    return run_replication(scenario, seed, index, draws)


def rep_name(index: int) -> str:
    return f"rep_{index:05d}.npz"


def run_ensemble(scenario: ResolvedScenario, folder: Path, replications: int, seed: int,
                 workers: int = 1, draws: list[dict[str, Any]] | None = None,
                 progress: Callable[[Iterable[Any], int], Iterable[Any]] | None = None,
                 executor: str = "processes", scheduler: str | None = None) -> list[int]:
    """Run the missing replications into `folder`; return the indices run now.

    executor: "processes" (a local process pool of `workers`), "dask" (the Dask scheduler at
    `scheduler`, or a LocalCluster of `workers` processes when none is given). Each finished
    replication is written as it arrives, so an interruption loses only those in flight.
    """
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob(".rep_*.tmp"):  # half-written files of an interrupted run
        stale.unlink()
    todo = [i for i in range(replications) if not (folder / rep_name(i)).exists()]
    tasks = [(scenario, seed, i, draws) for i in todo]
    wrap = progress or (lambda it, total: it)
    for rep in wrap(completed(_task, tasks, workers, executor, scheduler), len(tasks)):
        rep.save(folder / rep_name(rep.index))
    return todo


def load_replications(folder: Path, replications: int) -> list[Replication]:
    return [Replication.load(folder / rep_name(i)) for i in range(replications)]


__all__ = ["MONTHLY", "YEARLY_STATS", "Replication", "run_replication", "run_ensemble",
           "load_replications", "replication_seed"]
