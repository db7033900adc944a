"""Calibration: a seeded, resumable reference table of prior simulations and its
regression-adjusted posterior (model/calibration/regression.py).

Why not ABC-SMC: pyabc's SMC shrinks a tolerance until the fit is good, which gives intervals
that are too narrow for the stated observation noise (the synthetic recovery of the previous
calibration covered 41% of truths with nominal 90% intervals), and its cost is paid again for
every question. A reference table is simulated once: row i draws its parameters from the
prior with ``SeedSequence(seed, (0, i))``, runs the model with ``(1, i)`` and draws the
observation noise with ``(2, i)``, so the table does not depend on the number of workers,
on where they run (local processes or Dask) or on interruptions (it is saved every chunk and
resumed). The folder is stamped with everything that defines the table; resuming into a
folder made with anything else is refused.
"""

from __future__ import annotations

import hashlib
import json
import math
import sys
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from scipy import stats

from model.calibration.observations import (
    Observation,
    load_observations,
    simulate_all,
    standardised_gaps,
)
from model.calibration.regression import Adjusted, Transform, adjust
from model.economy import YichunModel
from model.errors import InputError
from model.parallel import fork_pool
from model.parameters import load_specs
from model.runner import collect
from model.scenario import N_MONTHS, ResolvedScenario, load_scenario, month_index
from model.yamlio import (
    MAX_JSON_BYTES,
    atomic_path,
    check_archive,
    check_regular,
    load_yaml_with_lines,
    read_json,
    validated,
    write_json_atomic,
)

SEP = "__"  # flat parameter names: "revenue_2021__li_upstream" for mapping entries


class AbcSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    simulations: int = Field(4800, ge=20, le=1_000_000)  # rows of the reference table
    tolerance: float = Field(0.08, gt=0, le=1)  # share of the table kept nearest the data
    heteroscedastic: bool = True                # Blum & François's variance correction
    chunk: int = Field(96, ge=1, le=100_000)    # rows simulated between saves
    posterior_draws: int = Field(150, ge=10, le=100_000)


class CalibrationConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")  # names the posterior folder
    scenario: str
    observations: str = "observations.yaml"
    exclude: list[str] = []
    include: list[str] = []
    parameters: list[str] = Field(min_length=1)
    seed: int = Field(1, ge=0, le=2**32 - 1)
    workers: int = Field(2, ge=1, le=256)
    stop_month: str = "2025-12"
    origins: list[str] = []                     # rolling-origin forecasts: data up to each month
    abc: AbcSettings = AbcSettings()
    population_scale: float = Field(1.0, ge=0.01, le=1)

    @field_validator("stop_month")
    @classmethod
    def _month_in_run(cls, value: str) -> str:
        if not 0 <= month_index(value) < N_MONTHS:
            raise ValueError(f"month {value} lies outside the simulated 2022-01..2026-12")
        return value

    @field_validator("origins")
    @classmethod
    def _origins(cls, values: list[str]) -> list[str]:
        for value in values:
            month_index(value)
        return values

    @field_validator("include", "exclude")
    @classmethod
    def _ids(cls, values: list[str]) -> list[str]:
        if any(not str(v).strip() for v in values):
            raise ValueError("an observation id cannot be empty")
        return values

    @model_validator(mode="after")
    def _meaningful(self) -> CalibrationConfig:
        stop = month_index(self.stop_month)
        for value in self.origins:
            if not 0 <= month_index(value) < stop:
                raise ValueError(f"origin {value} must lie inside the observed span, after "
                                 f"2022-01 and before the stop month {self.stop_month}")
        both = sorted(set(self.include) & set(self.exclude))
        if both:
            raise ValueError(f"observations {both} are both included and excluded")
        kept = self.abc.tolerance * self.abc.simulations
        needed = 2 * (len(self.parameters) + 1)
        if kept < needed:
            raise ValueError(f"abc.tolerance {self.abc.tolerance:g} keeps {kept:.0f} of "
                             f"{self.abc.simulations} simulations; the regression over "
                             f"{len(self.parameters)} parameters needs at least {needed}")
        return self


def prior_distribution(name: str):
    """scipy distribution of a flat parameter's prior."""
    base, _, entry = name.partition(SEP)
    spec = load_specs()[base]
    prior, centre = spec.prior, (spec.value[entry] if entry else spec.value)
    if prior.dist == "normal":
        return stats.norm(prior.mean if prior.mean is not None else centre,
                          prior.sd_by_key.get(entry, prior.sd))
    if prior.dist == "lognormal":
        return stats.lognorm(prior.sigma, scale=prior.median if prior.median is not None else centre)
    if prior.dist == "uniform":
        return stats.uniform(prior.low, prior.high - prior.low)
    return stats.beta(prior.a, prior.b)


def prior_transform(names: list[str]) -> Transform:
    """log for lognormal priors, logit on the support for uniform and beta, else identity."""
    kinds, low, high = [], [], []
    for name in names:
        base = name.partition(SEP)[0]
        prior = load_specs()[base].prior
        kind = {"lognormal": "log", "uniform": "logit", "beta": "logit"}.get(prior.dist, "none")
        lo, hi = (prior.low, prior.high) if prior.dist == "uniform" else (0.0, 1.0)
        kinds.append(kind)
        low.append(lo)
        high.append(hi)
    return Transform(kinds, np.array(low, dtype=float), np.array(high, dtype=float))


class Calibration:
    """A configured calibration: scenario, observations, priors, and how to simulate."""

    def __init__(self, config: CalibrationConfig, base: Path, source: Path | None = None) -> None:
        self.config = config
        self.base = base
        self.source = source or base / "config"
        scenario = load_scenario((base / config.scenario).resolve())
        if config.population_scale != 1.0:
            scenario = scenario.updated({"run": {"population_scale": config.population_scale}})
        self.scenario: ResolvedScenario = scenario
        obs_path = (base / config.observations).resolve()
        obs_file = load_observations(obs_path, config.include, config.exclude)
        self.months = month_index(config.stop_month) + 1
        late = [o.id for o in obs_file.observations if o.include and o.end_month() >= self.months]
        if late:
            raise InputError(self.source, "stop_month", f"{config.stop_month} ends before the "
                             f"observations {late}; expected a month at or after their end")
        # held-out observations after the stop month cannot be simulated: left out
        self.all_observations = [o for o in obs_file.observations if o.end_month() < self.months]
        self.observations: list[Observation] = [o for o in self.all_observations if o.include]
        self.held_out: list[Observation] = [o for o in self.all_observations if not o.include]
        if not self.observations:
            raise InputError(obs_path, "observations",
                             "no observation left to fit (all excluded or none given)")
        self.names = self._names()
        self.priors = {name: prior_distribution(name) for name in self.names}
        self.transform = prior_transform(self.names)

    def _names(self) -> list[str]:
        """Flat names of the estimated parameters (a mapping expands to its entries)."""
        specs = load_specs()
        out: list[str] = []
        for name in self.config.parameters:
            base, _, entry = name.partition(".")
            if base not in specs or specs[base].prior is None:
                raise InputError(self.source, f"parameters.{name}",
                                 "not a parameter with a prior in model/defaults.yaml")
            value = specs[base].value
            if isinstance(value, dict):
                for e in [entry] if entry else list(value):
                    if e not in value:
                        raise InputError(self.source, f"parameters.{name}", f"no entry '{e}'")
                    out.append(f"{base}{SEP}{e}")
            else:
                out.append(base)
        if len(set(out)) != len(out):
            raise InputError(self.source, "parameters", "a parameter is listed twice")
        return out

    def overrides(self, theta: dict[str, float]) -> dict[str, Any]:
        """Flat parameters as parameter overrides ({name: value or {entry: value}})."""
        out: dict[str, Any] = {}
        for key, value in theta.items():
            name, _, entry = key.partition(SEP)
            if entry:
                out.setdefault(name, {})[entry] = float(value)
            else:
                out[name] = float(value)
        return out

    def simulate(self, theta: dict[str, float], seed: np.random.SeedSequence) -> dict[str, float]:
        """The observed quantities (all observations, held-out ones too) for one parameter set."""
        scenario = self.scenario.with_parameters(self.overrides(theta))
        try:
            model = YichunModel(scenario, seed=seed).run(self.months)
        except ValueError:  # ParameterConflict: an infeasible draw (chains above the city total)
            return {o.id: float("nan") for o in self.all_observations}
        simulated = simulate_all(self.all_observations, collect(model))
        model.release()
        return simulated

    def feasible(self, theta: dict[str, float]) -> bool:
        """Can the model build its 2021 economy from these values (accounts that close, chains
        within the city total)?"""
        from model.population import check_coherence

        try:
            check_coherence(self.scenario.with_parameters(self.overrides(theta)).parameters)
        except ValueError:
            return False
        return True

    @property
    def sd(self) -> np.ndarray:
        return np.array([o.sd_absolute for o in self.all_observations])

    def stamp(self) -> dict[str, Any]:
        """What makes a folder's posterior: the config (not the workers, nor the table size,
        which may grow on resume), the observations as read, exclusions, seed and scenario."""
        config = self.config.model_dump(exclude={"workers"})
        config["abc"] = {k: v for k, v in config["abc"].items() if k not in ("simulations", "chunk")}
        observations = [{"id": o.id, "value": o.value, "upper": o.upper, "sd": o.sd_absolute,
                         "kind": o.kind, "statistic": o.statistic, "scope": o.scope,
                         "period": o.period.model_dump(), "denominator": o.denominator,
                         "denominator_scope": o.denominator_scope, "include": o.include}
                        for o in self.all_observations]
        return {"config": config, "parameters": self.names, "seed": self.config.seed,
                "scenario_hash": self.scenario.digest(), "observations": observations}

    def fitted_mask(self, until: int | None = None) -> np.ndarray:
        """Which of all_observations are fitted (those included, ending by month `until`)."""
        return np.array([o.include and (until is None or o.end_month() <= until)
                         for o in self.all_observations])


def load_config(path: str | Path) -> Calibration:
    path = Path(path)
    data, lines = load_yaml_with_lines(path)
    return Calibration(validated(CalibrationConfig, data, path, lines), path.parent, path)


# ---------------------------------------------------------------- the reference table
def table_row(calib: Calibration, i: int, stream: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row i: prior draw, clean simulated observations, standard-normal observation noise.
    stream 0 is the reference table; other streams (synthetic truths) never overlap it."""
    root = calib.config.seed
    draw = np.random.default_rng(np.random.SeedSequence(root, spawn_key=(3 * stream, i)))
    theta = np.array([float(calib.priors[n].rvs(random_state=draw)) for n in calib.names])
    sim = calib.simulate(dict(zip(calib.names, theta, strict=True)),
                         np.random.SeedSequence(root, spawn_key=(3 * stream + 1, i)))
    noise = np.random.default_rng(np.random.SeedSequence(root, spawn_key=(3 * stream + 2, i)))
    clean = np.array([sim[o.id] for o in calib.all_observations])
    return theta, clean, noise.standard_normal(len(calib.all_observations))


_STATE: dict[str, Any] = {}


def _row_in_worker(i: int, stream: int = 0):
    return table_row(_STATE["calib"], i, stream)


def simulate_rows(calib: Calibration, indices: list[int], stream: int = 0,
                  executor: str = "processes", scheduler: str | None = None,
                  pool: Any = None) -> list[tuple]:
    """table_row for each index, on a fork pool (`pool`, or one made for the call) or a Dask
    cluster, in index order."""
    if executor == "dask":
        from model.distributed import dask_map

        keyed = dask_map(partial(_keyed_row, calib, stream), indices, scheduler,
                         calib.config.workers)
        return [row for _, row in sorted(keyed, key=lambda pair: pair[0])]
    task = partial(_row_in_worker, stream=stream)
    if pool is not None:
        return pool.map(task, indices)
    if calib.config.workers > 1 and len(indices) > 1:
        with worker_pool(calib) as fresh:
            return fresh.map(task, indices)
    return [table_row(calib, i, stream) for i in indices]


def worker_pool(calib: Calibration):
    """A fork pool whose workers see `calib` (set before the fork)."""
    _STATE["calib"] = calib
    return fork_pool(calib.config.workers)


def _keyed_row(calib: Calibration, stream: int, i: int):
    return i, table_row(calib, i, stream)


class Table:
    """The reference table: theta (n x p), clean simulations and standard noise (n x m)."""

    def __init__(self, theta: np.ndarray, clean: np.ndarray, noise: np.ndarray) -> None:
        self.theta, self.clean, self.noise = theta, clean, noise

    @property
    def n(self) -> int:
        return self.theta.shape[0]

    def noisy(self, sd: np.ndarray) -> np.ndarray:
        """What could have been published: simulations plus observation noise."""
        return self.clean + self.noise * sd

    def feasible(self) -> np.ndarray:
        return np.any(np.isfinite(self.clean), axis=1)

    def extend(self, rows: list[tuple]) -> Table:
        if not rows:
            return self
        theta, clean, noise = (np.array([r[k] for r in rows]) for k in range(3))
        return Table(np.vstack([self.theta, theta]), np.vstack([self.clean, clean]),
                     np.vstack([self.noise, noise]))

    def save(self, path: Path) -> None:
        with atomic_path(path) as tmp:
            with open(tmp, "wb") as fh:
                np.savez_compressed(fh, theta=self.theta, clean=self.clean, noise=self.noise)

    @classmethod
    def load(cls, path: Path, p: int, m: int) -> Table:
        check_archive(path, "reference table", 4_000_000_000)
        try:
            with np.load(path) as data:
                table = cls(data["theta"], data["clean"], data["noise"])
        except (OSError, ValueError, KeyError, EOFError, TypeError, AttributeError,
                zipfile.BadZipFile) as exc:
            reason = " ".join(str(exc).split()) or type(exc).__name__
            raise InputError(path, None, f"unreadable reference table ({reason}); delete the "
                             "folder or choose another --out") from None
        if table.theta.shape[1:] != (p,) or table.clean.shape[1:] != (m,) \
                or table.noise.shape != table.clean.shape or len(table.theta) != len(table.clean):
            raise InputError(path, None, "reference table does not match the stamp's shape")
        if not all(np.issubdtype(a.dtype, np.floating) for a in (table.theta, table.clean, table.noise)):
            raise InputError(path, None, "reference table holds other than numbers; delete the "
                             "folder or choose another --out")
        return table

    @classmethod
    def empty(cls, p: int, m: int) -> Table:
        return cls(np.zeros((0, p)), np.zeros((0, m)), np.zeros((0, m)))


def stamp_digest(stamp: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(stamp, sort_keys=True, default=str).encode()).hexdigest()[:16]


def check_stamp(calib: Calibration, out: Path) -> None:
    """A folder holds one calibration's table: refuse to resume one made with anything else."""
    path = out / "stamp.json"
    if not path.exists():
        if (out / "reference.npz").exists():
            raise InputError(out, None, "a reference table without its stamp.json; delete the "
                             "folder or choose another --out")
        return
    old = read_json(path, "stamp")
    new = calib.stamp()
    if old.get("digest") != stamp_digest(new):
        before = old.get("stamp") if isinstance(old.get("stamp"), dict) else {}
        differ = [k for k in new if before.get(k) != new[k]]
        raise InputError(out, None, f"folder holds a calibration made with other {differ or 'inputs'}"
                         "; choose another --out or delete it")


def load_table(calib: Calibration, folder: Path) -> Table:
    check_stamp(calib, folder)
    path = folder / "reference.npz"
    if not path.exists():
        raise InputError(path, None, "no reference table (run `yichun-abm calibrate`)")
    return Table.load(path, len(calib.names), len(calib.all_observations))


def build_table(calib: Calibration, out: Path, progress: bool = True, executor: str = "processes",
                scheduler: str | None = None) -> tuple[Table, int]:
    """Simulate (or resume) the reference table in `out`; returns it and the rows reused."""
    check_stamp(calib, out)
    p, m = len(calib.names), len(calib.all_observations)
    path = out / "reference.npz"
    table = Table.load(path, p, m) if path.exists() else Table.empty(p, m)
    resumed = table.n
    target = calib.config.abc.simulations
    if table.n > target:
        table = Table(table.theta[:target], table.clean[:target], table.noise[:target])
    out.mkdir(parents=True, exist_ok=True)
    stamp = calib.stamp()
    write_json_atomic(out / "stamp.json", {"digest": stamp_digest(stamp), "stamp": stamp})
    chunk = calib.config.abc.chunk * (1 if executor == "processes" else 4)
    missing = table.n < target
    with pool_and_bar(calib, executor == "processes" and calib.config.workers > 1 and missing,
                      progress and missing, target, table.n, "reference table") as (pool, bar):
        while table.n < target:
            indices = list(range(table.n, min(table.n + chunk, target)))
            table = table.extend(simulate_rows(calib, indices, 0, executor, scheduler, pool))
            table.save(path)
            if bar:
                bar.update(len(indices))
    return table, resumed


@contextmanager
def pool_and_bar(calib: Calibration, use_pool: bool, progress: bool, total: int, initial: int,
                 desc: str) -> Iterator[tuple[Any, Any]]:
    """One fork pool for a whole pass over the table's rows (a pool per chunk would pay the fork
    and warm-up each time) and its progress bar, both closed however the pass ends."""
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=total, initial=initial, unit="run", desc=desc)
    pool = worker_pool(calib) if use_pool else None
    try:
        yield pool, bar
    finally:
        if pool is not None:
            pool.close()
            pool.join()
        if bar:
            bar.close()


def record_table_time(out: Path, seconds: float, rows: int) -> float:
    """Add this session's table-building time to the folder's record; the total is what the
    whole table cost, however many sessions it took."""
    path = out / "table_time.json"
    record = read_json(path, "table time record") if path.exists() else {"sessions": []}
    sessions = record.get("sessions")
    if not isinstance(sessions, list) or not all(
            isinstance(x, dict) and isinstance(x.get("seconds"), int | float) for x in sessions):
        raise InputError(path, "sessions", "damaged table time record; delete the file (the "
                         "table's time is then counted from now)")
    if rows:
        record["sessions"].append({"rows": rows, "seconds": round(seconds, 1)})
    record["total_seconds"] = round(sum(x["seconds"] for x in record["sessions"]), 1)
    write_json_atomic(path, record)
    return record["total_seconds"]


# ---------------------------------------------------------------- posterior
def posterior(calib: Calibration, table: Table, observed_clean: np.ndarray | None = None,
              noise: np.ndarray | None = None, until: int | None = None,
              forecast: np.ndarray | None = None) -> tuple[Adjusted, Adjusted | None]:
    """The regression-adjusted posterior from the table, given the published values (or,
    for a synthetic truth, its simulated values `observed_clean` plus `noise` in sd units),
    fitting the included observations that end by month `until`; `forecast` is a mask of
    observations whose posterior predictive is wanted too."""
    sd = calib.sd
    fitted = calib.fitted_mask(until)
    observations = [o for o, f in zip(calib.all_observations, fitted, strict=True) if f]
    feasible = table.feasible()
    noisy = table.noisy(sd)[feasible]
    # summaries are functions of what is published: the standardised gap to the published
    # figure (censored inside a bound or an interval); the data sit at 0, a synthetic truth
    # wherever its own simulated publication falls
    gaps = standardised_gaps(observations, noisy[:, fitted])
    if observed_clean is not None:
        published = observed_clean + (noise if noise is not None else 0.0) * sd
        gaps = gaps - standardised_gaps(observations, published[None, fitted])
    extra = noisy[:, forecast] if forecast is not None else None
    return adjust(table.theta[feasible], gaps, calib.config.abc.tolerance, calib.transform,
                  extra=extra, heteroscedastic=calib.config.abc.heteroscedastic)


def run_calibration(calib: Calibration, out: Path, progress: bool = True,
                    executor: str = "processes", scheduler: str | None = None) -> dict[str, Any]:
    """Build (or resume) the reference table in `out`; write the posterior and manifest."""
    start = time.perf_counter()
    table, resumed = build_table(calib, out, progress, executor, scheduler)
    total = record_table_time(out, time.perf_counter() - start, table.n - resumed)
    return write_posterior(calib, table, out, time.perf_counter() - start, resumed, total)


def feasible_posterior(calib: Calibration, table: Table) -> tuple[Adjusted, np.ndarray]:
    """The posterior given the data, without the adjusted rows the model cannot build: the
    prior is truncated to buildable parameter sets (infeasible table rows are dropped), and an
    adjusted row may leave that set. Returns it and the mask of kept rows."""
    post, _ = posterior(calib, table)
    kept = np.array([calib.feasible(dict(zip(calib.names, row, strict=True)))
                     for row in post.values])
    if not kept.any():
        # the regression extrapolates past what the model can build (a small table, or data
        # far from every simulation): fall back to the accepted rows unadjusted (plain
        # rejection ABC), which are buildable by construction, and say so
        print("warning: every regression-adjusted parameter set leaves what the model can "
              "build; the posterior is the accepted rows unadjusted (plain rejection ABC): a "
              "larger table would sharpen it", file=sys.stderr)
        unadjusted = table.theta[table.feasible()][post.accepted]
        return Adjusted(unadjusted, post.weights, post.accepted, post.bandwidth), \
            np.ones(len(post.weights), dtype=bool)
    return Adjusted(post.values[kept], post.weights[kept], post.accepted[kept],
                    post.bandwidth), kept


def write_posterior(calib: Calibration, table: Table, out: Path, seconds: float,
                    resumed: int = 0, table_seconds: float | None = None) -> dict[str, Any]:
    post, feasible_rows = feasible_posterior(calib, table)
    rng = np.random.default_rng(np.random.SeedSequence(calib.config.seed, spawn_key=(999,)))
    n = calib.config.abc.posterior_draws
    rows = post.resample(n, rng)
    draws = [calib.overrides(dict(zip(calib.names, row, strict=True))) for row in rows]
    write_json_atomic(out / "draws.json", {"parameters": calib.names, "draws": draws})
    q = post.quantile(np.array([0.05, 0.5, 0.95]))
    summary = {name: {"mean": float(np.average(post.values[:, j], weights=post.weights)),
                      "q05": float(q[0, j]), "q50": float(q[1, j]), "q95": float(q[2, j])}
               for j, name in enumerate(calib.names)}
    from model.reporting.tables import code_version

    feasible = int(table.feasible().sum())
    manifest = {
        "name": calib.config.name, "config": calib.config.model_dump(),
        "method": "rejection ABC with local-linear regression adjustment"
                  + (" and heteroscedastic correction" if calib.config.abc.heteroscedastic else "")
                  + " over a reference table with simulated observation noise",
        "scenario_hash": calib.scenario.digest(), "code_version": code_version(),
        "stamp_digest": stamp_digest(calib.stamp()),
        "observations": [{"id": o.id, "value": o.value, "sd": o.sd_absolute, "kind": o.kind}
                         for o in calib.observations],
        "held_out": [o.id for o in calib.held_out],
        "total_simulations": table.n, "feasible_simulations": feasible,
        "accepted": int(feasible_rows.size), "dropped_infeasible": int((~feasible_rows).sum()),
        "effective_sample_size": float(post.weights.sum() ** 2 / np.sum(post.weights ** 2)),
        "wall_seconds_this_session": round(seconds, 1), "rows_reused": resumed,
        "table_wall_seconds_all_sessions": table_seconds,
        "posterior_draws": n, "posterior_summary": summary,
        "seed_rule": "table row i: prior SeedSequence(seed, (0, i)), model (1, i), noise (2, i); "
                     "resampling SeedSequence(seed, (999,))",
    }
    write_json_atomic(out / "manifest.json", manifest)
    return manifest


def load_draws(folder: str | Path) -> list[dict[str, Any]]:
    """The posterior draws of a folder; a missing or corrupt file is an InputError."""
    path = Path(folder) / "draws.json"
    if not path.is_file():
        raise InputError(path, None, "posterior draws not found (run `yichun-abm calibrate`)")
    check_regular(path, "posterior draws", MAX_JSON_BYTES)
    try:
        data = json.loads(path.read_text())
        draws = data["draws"]
    except (json.JSONDecodeError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise InputError(path, "draws", f"corrupt posterior draws ({type(exc).__name__})") from None
    if not isinstance(draws, list) or not draws:
        raise InputError(path, "draws", "expected a non-empty list of parameter sets")
    specs = load_specs()
    for k, draw in enumerate(draws):
        if not isinstance(draw, dict):
            raise InputError(path, f"draws[{k}]", "expected a mapping of parameter values")
        for name, value in draw.items():
            values = value.values() if isinstance(value, dict) else [value]
            if name not in specs or not all(_finite_number(v) for v in values):
                raise InputError(path, f"draws[{k}].{name}",
                                 "expected a known parameter with finite numbers")
            expected = specs[name].value
            if isinstance(expected, dict) != isinstance(value, dict) or (
                    isinstance(value, dict) and not set(value) <= set(expected)):
                shape = (f"a mapping of some of {sorted(expected)} to numbers"
                         if isinstance(expected, dict) else "a number")
                raise InputError(path, f"draws[{k}].{name}", f"expected {shape}")
    return draws


def _finite_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
