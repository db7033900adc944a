"""Replications and ensembles: seeds, workers, resumable per-replication files.

Replication ``i`` of a run with root seed ``s`` uses ``SeedSequence(s, spawn_key=(i,))``,
the same stream numpy's ``SeedSequence(s).spawn(n)[i]`` gives, so its numbers do not depend
on how many replications or worker processes there are. Each finished replication is
written atomically to ``replications/rep_#####.npz``; a rerun into the same folder skips
the ones already there.
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from model.economy import YichunModel
from model.errors import InputError
from model.government import INSTRUMENTS
from model.parallel import completed
from model.scenario import ResolvedScenario
from model.statistics import MONTHLY, YEARLY, derived_yearly
from model.yamlio import TMP_TAG, atomic_path, check_archive

MAX_REPLICATION_BYTES = 64_000_000  # a replication inflates to about 2 MB

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

    def checksum(self) -> str:
        """sha256 of the replication's numbers: a file that does not match was altered."""
        digest = hashlib.sha256()
        for array in (self.yearly, self.monthly, self.lithium_price,
                      *(self.payments[k] for k in sorted(self.payments))):
            digest.update(np.ascontiguousarray(array).tobytes())
        digest.update(f"{self.index}:{self.draw}".encode())
        return digest.hexdigest()

    def save(self, path: Path, identity: str = "") -> None:
        """Write the replication with what it belongs to (`identity`: scenario hash and seed)
        and its checksum, so a rerun can verify the file rather than trust its name."""
        with atomic_path(path) as tmp, open(tmp, "wb") as fh:
            np.savez(fh, index=self.index, yearly=self.yearly, monthly=self.monthly,
                     lithium_price=self.lithium_price, draw=self.draw, seconds=self.seconds,
                     identity=identity, checksum=self.checksum(),
                     **{f"pay_{k}": v for k, v in self.payments.items()})

    @classmethod
    def load(cls, path: Path, index: int | None = None, identity: str | None = None) -> Replication:
        """Read and verify a replication file: a truncated or corrupt file, another index, a
        different identity (when given) or a failing checksum is an InputError naming it."""
        check_archive(path, "replication file", MAX_REPLICATION_BYTES)
        try:
            with np.load(path) as z:
                if not isinstance(z, np.lib.npyio.NpzFile):
                    raise ValueError("not an .npz archive")
                payments = {k[4:]: z[k] for k in z.files if k.startswith("pay_")}
                rep = cls(int(z["index"]), z["yearly"], z["monthly"], z["lithium_price"], payments,
                          int(z["draw"]), float(z["seconds"]))
                stored = (str(z["identity"]), str(z["checksum"])) if "checksum" in z.files else None
        except (OSError, ValueError, KeyError, EOFError, TypeError, AttributeError,
                zipfile.BadZipFile) as exc:
            raise InputError(path, None, f"unreadable replication file ({type(exc).__name__})") from None
        if index is not None and rep.index != index:
            raise InputError(path, None, f"holds replication {rep.index}, not {index} (a copied file?)")
        if stored is None:
            raise InputError(path, None, "written by an older version (no checksum): rerun "
                             "`yichun-abm run` into a new folder to rebuild it")
        if stored[1] != rep.checksum():
            raise InputError(path, None, "checksum wrong: the file was altered")
        if identity is not None and stored[0] != identity:
            raise InputError(path, None, "belongs to another scenario, seed or posterior")
        return rep


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
    ledger = model.government.ledger()
    subsidies = rec.subsidies_by_year(ledger)
    yearly = np.concatenate(
        [rec.yearly, np.stack([derived[k] for k in DERIVED], axis=-1),
         np.stack([subsidies[k] for k in INSTRUMENTS], axis=-1)], axis=-1)
    ledger["firm_id"] = np.asarray(ledger["firm"], dtype=int)  # the firm's row (Enterprise.index)
    return Replication(index, yearly, rec.monthly.copy(), model.conditions.lithium_price.copy(),
                       ledger, draw, seconds)


def _task(args: tuple[ResolvedScenario, int, int, list[dict[str, Any]] | None]) -> Replication:
    """One replication, returned to the caller (which writes it: Dask workers need no shared
    disk)."""
    scenario, seed, index, draws = args
    return run_replication(scenario, seed, index, draws)


@dataclass(frozen=True)
class Saved:
    """What a local worker reports once it has written a replication: its index and run time,
    and the worker's process id and resident memory now and at its peak (MB)."""

    index: int
    seconds: float
    pid: int
    resident_mb: float
    peak_mb: float


def _run_and_save(args: tuple[ResolvedScenario, int, int, list[dict[str, Any]] | None, Path, str],
                  ) -> Saved:
    """One replication written by the worker itself (local workers share the disk): the
    parent receives a few numbers instead of the tables, and does not write them."""
    scenario, seed, index, draws, folder, identity = args
    rep = run_replication(scenario, seed, index, draws)
    rep.save(folder / rep_name(index), identity)
    return Saved(index, rep.seconds, os.getpid(), *memory_mb())


def memory_mb() -> tuple[float, float]:
    """This process's resident memory now and its peak (VmRSS, VmHWM), MB (0 where /proc is
    not available)."""
    try:
        with open("/proc/self/status") as fh:
            fields = dict(line.split(":", 1) for line in fh if ":" in line)
        return tuple(int(fields[k].split()[0]) / 1024 for k in ("VmRSS", "VmHWM"))
    except (OSError, KeyError, ValueError):
        return 0.0, 0.0


def rep_name(index: int) -> str:
    return f"rep_{index:05d}.npz"


def run_ensemble(scenario: ResolvedScenario, folder: Path, replications: int, seed: int,
                 workers: int = 1, draws: list[dict[str, Any]] | None = None,
                 progress: Callable[[Iterable[Any], int], Iterable[Any]] | None = None,
                 executor: str = "processes", scheduler: str | None = None,
                 identity: str = "") -> list[int]:
    """Run the missing replications into `folder`; return the indices run now.

    executor: "processes" (a local process pool of `workers`), "dask" (the Dask scheduler at
    `scheduler`, or a LocalCluster of `workers` processes when none is given). Each finished
    replication is written as it arrives, so an interruption loses only those in flight.
    """
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob(f".rep_*{TMP_TAG}*.tmp"):  # half-written files of an interrupted run
        stale.unlink()
    todo = [i for i in range(replications) if not verified(folder, i, identity)]
    wrap = progress or (lambda it, total: it)
    if executor == "processes":      # the workers write their replications themselves
        tasks = [(scenario, seed, i, draws, folder, identity) for i in todo]
        for _ in wrap(completed(_run_and_save, tasks, workers), len(tasks)):
            pass
    else:
        tasks = [(scenario, seed, i, draws) for i in todo]
        for rep in wrap(completed(_task, tasks, workers, executor, scheduler), len(tasks)):
            rep.save(folder / rep_name(rep.index), identity)
    return todo


def verified(folder: Path, index: int, identity: str) -> bool:
    """Whether replication `index` is in the folder and sound; a bad file is named on stderr and
    set aside (folder/set_aside/) to be recomputed."""
    path = folder / rep_name(index)
    if not path.exists():
        return False
    try:
        Replication.load(path, index, identity)
        return True
    except InputError as exc:
        aside = folder / "set_aside"
        aside.mkdir(exist_ok=True)
        path.replace(aside / f"{path.name}.{int(time.time())}")
        print(f"warning: {exc.one_line()}; set aside in {aside} and recomputed", file=sys.stderr)
        return False


def load_replications(folder: Path, replications: int, identity: str | None = None,
                      ) -> list[Replication]:
    """The first `replications` replications of a folder, each verified (see Replication.load)."""
    return [Replication.load(folder / rep_name(i), i, identity) for i in range(replications)]


__all__ = ["MONTHLY", "YEARLY_STATS", "Replication", "run_replication", "run_ensemble",
           "load_replications", "replication_seed"]
