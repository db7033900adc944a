"""ABC-SMC estimation with pyabc, seeded and resumable.

pyabc (ABC-SMC, Del Moral et al. / Beaumont et al. adaptive schemes) does the inference and
keeps every finished generation in its SQLite history, so an interrupted calibration resumes
from the last finished generation. Its own parallel samplers reseed numpy's global generator
from the operating system in every worker (ICB-DCM/pyABC#400), so their results cannot be
reproduced; ``SeededSampler`` replaces them: evaluation j of generation t runs with streams
from ``SeedSequence(seed, spawn_key=(t, j))`` (for pyabc's proposal draws and for the model),
and particles are accepted in index order, so the posterior is identical for any number of
workers. pyabc draws its proposals from numpy's legacy global generator; the sampler seeds it
per evaluation from that SeedSequence, the only place the project touches global state.
"""

from __future__ import annotations

import json
import multiprocessing
import random
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyabc
from pydantic import BaseModel, ConfigDict, Field

from model.calibration.observations import (
    Observation,
    discrepancy,
    load_observations,
    simulate_all,
)
from model.economy import YichunModel
from model.errors import InputError
from model.parameters import load_specs
from model.runner import collect
from model.scenario import ResolvedScenario, load_scenario, month_index
from model.yamlio import load_yaml_with_lines, validated, write_json_atomic

SEP = "__"  # pyabc parameter names: "revenue_2021__li_upstream" for mapping entries


class AbcSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    population_size: int = Field(200, ge=10)
    max_generations: int = Field(8, ge=1)
    max_simulations: int = Field(6000, ge=10)
    min_epsilon: float = Field(0.0, ge=0)
    min_acceptance_rate: float = Field(0.01, gt=0, le=1)
    batch_size: int = Field(32, ge=1)
    posterior_draws: int = Field(200, ge=10)


class CalibrationConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    scenario: str
    observations: str = "observations.yaml"
    exclude: list[str] = []
    include: list[str] = []
    parameters: list[str]
    seed: int = Field(1, ge=0)
    workers: int = Field(2, ge=1)
    stop_month: str = "2025-12"
    abc: AbcSettings = AbcSettings()
    population_scale: float = Field(1.0, gt=0, le=1)


class Calibration:
    """A configured calibration: scenario, observations, priors, and how to simulate."""

    def __init__(self, config: CalibrationConfig, base: Path) -> None:
        self.config = config
        self.base = base
        scenario = load_scenario((base / config.scenario).resolve())
        if config.population_scale != 1.0:
            scenario = scenario.updated({"run": {"population_scale": config.population_scale}})
        self.scenario: ResolvedScenario = scenario
        obs_file = load_observations((base / config.observations).resolve(), config.include,
                                     config.exclude)
        self.all_observations = obs_file.observations
        self.observations: list[Observation] = [o for o in obs_file.observations if o.include]
        self.held_out: list[Observation] = [o for o in obs_file.observations if not o.include]
        self.months = month_index(config.stop_month) + 1
        self.priors = self._priors()

    def _priors(self) -> dict[str, Any]:
        """pyabc random variables for each estimated parameter (or mapping entry)."""
        specs = load_specs()
        out = {}
        for name in self.config.parameters:
            base, _, entry = name.partition(".")
            if base not in specs or specs[base].prior is None:
                raise InputError(self.base / "config", f"parameters.{name}",
                                 "not a parameter with a prior in model/defaults.yaml")
            spec = specs[base]
            if isinstance(spec.value, dict):
                entries = [entry] if entry else list(spec.value)
                for e in entries:
                    if e not in spec.value:
                        raise InputError(self.base / "config", f"parameters.{name}",
                                         f"no entry '{e}'")
                    out[f"{base}{SEP}{e}"] = _rv(spec.prior, spec.value[e])
            else:
                out[base] = _rv(spec.prior, spec.value)
        return out

    def overrides(self, theta: dict[str, float]) -> dict[str, Any]:
        """pyabc's flat parameters as parameter overrides ({name: value or {entry: value}})."""
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
        return simulate_all(self.all_observations, collect(model))

    def distance(self, sim: dict[str, float], _observed: dict[str, float]) -> float:
        return discrepancy(self.observations, sim)


def _rv(prior, centre: float) -> pyabc.RV:
    if prior.dist == "normal":
        return pyabc.RV("norm", prior.mean if prior.mean is not None else centre, prior.sd)
    if prior.dist == "lognormal":
        median = prior.median if prior.median is not None else centre
        return pyabc.RV("lognorm", prior.sigma, 0, median)
    if prior.dist == "uniform":
        return pyabc.RV("uniform", prior.low, prior.high - prior.low)
    return pyabc.RV("beta", prior.a, prior.b)


def load_config(path: str | Path) -> Calibration:
    path = Path(path)
    data, lines = load_yaml_with_lines(path)
    return Calibration(validated(CalibrationConfig, data, path, lines), path.parent)


# ---------------------------------------------------------------- the seeded sampler
_JOB: dict[str, Any] = {}


def _evaluate(j: int) -> Any:
    seq = np.random.SeedSequence(_JOB["seed"], spawn_key=(_JOB["t"] + 1, j))  # t = -1: calibration
    legacy, python, model = seq.spawn(3)
    np.random.seed(legacy.generate_state(1)[0])  # noqa: NPY002 (pyabc draws from the legacy global)
    random.seed(int(python.generate_state(1)[0]))
    _JOB["model_seed"] = model
    return _JOB["simulate_one"]()


def current_model_seed(fallback: int) -> np.random.SeedSequence:
    """The model stream of the evaluation running in this process (set by _evaluate)."""
    return _JOB.get("model_seed") or np.random.SeedSequence(fallback)


def _evaluate_remote(payload: bytes, seed: int, t: int, j: int) -> Any:
    """_evaluate on a Dask worker: the generation's simulate_one arrives cloudpickled."""
    import cloudpickle

    if _JOB.get("payload") is not payload:
        _JOB.update(payload=payload, simulate_one=cloudpickle.loads(payload))
    _JOB.update(seed=seed, t=t)
    return _evaluate(j)


class SeededSampler(pyabc.sampler.Sampler):
    """Evaluates particles in fixed batches, on a fork pool or a Dask cluster; evaluation j of
    generation t is seeded from SeedSequence(seed, (t + 1, j)); accepts in index order, so the
    result does not depend on the number of workers or where they run."""

    def __init__(self, seed: int, workers: int = 1, batch_size: int = 32,
                 progress: bool = True, client: Any = None) -> None:
        super().__init__()
        self.seed, self.workers, self.batch_size, self.progress = seed, workers, batch_size, progress
        self.client = client

    def _batches(self, simulate_one, t: int):
        """A function mapping a batch of evaluation indices to their particles."""
        if self.client is not None:
            import cloudpickle

            payload = self.client.scatter(cloudpickle.dumps(simulate_one), broadcast=True)

            def run(batch):
                futures = self.client.map(_evaluate_remote, [payload] * len(batch),
                                          [self.seed] * len(batch), [t] * len(batch), list(batch),
                                          pure=False)
                return self.client.gather(futures)

            return run, None
        if self.workers > 1:
            pool = multiprocessing.get_context("fork").Pool(self.workers)
            return (lambda batch: pool.map(_evaluate, batch)), pool
        return (lambda batch: [_evaluate(j) for j in batch]), None

    def sample_until_n_accepted(self, n, simulate_one, t, *, max_eval=np.inf, all_accepted=False,
                                ana_vars=None):
        _JOB.update(seed=self.seed, t=t, simulate_one=simulate_one)
        sample = self._create_empty_sample()
        accepted = evaluated = 0
        run_batch, pool = self._batches(simulate_one, t)
        bar = None
        if self.progress:
            from tqdm import tqdm

            bar = tqdm(total=n, desc=f"generation {t}", unit="accepted", leave=False)
        try:
            while accepted < n and evaluated < max_eval:
                results = run_batch(range(evaluated, evaluated + self.batch_size))
                for particle in results:
                    evaluated += 1
                    sample.append(particle)
                    if particle.accepted:
                        accepted += 1
                        if bar:
                            bar.update(1)
                        if accepted == n:
                            break
        finally:
            if pool:
                pool.close()
                pool.join()
            if bar:
                bar.close()
        self.nr_evaluations_ = evaluated
        if sample.n_accepted < n:
            sample.ok = False
        return sample


def run_calibration(calib: Calibration, out: Path, progress: bool = True,
                    executor: str = "processes", scheduler: str | None = None) -> dict[str, Any]:
    """Run (or resume) ABC-SMC into `out`; write the posterior draws and manifest.

    executor "dask" evaluates on the Dask scheduler at `scheduler` (or a LocalCluster of the
    config's workers); the posterior is the same as with local processes."""
    out.mkdir(parents=True, exist_ok=True)
    settings = calib.config.abc
    db_path = out / "history.db"
    db = f"sqlite:///{db_path}"

    def model(theta: dict[str, float]) -> dict[str, float]:
        return calib.simulate(dict(theta), current_model_seed(calib.config.seed))

    client = cluster = None
    if executor == "dask":
        from model.distributed import dask_client

        client, cluster = dask_client(scheduler, calib.config.workers)
    sampler = SeededSampler(calib.config.seed, calib.config.workers, settings.batch_size,
                            progress, client)
    abc = pyabc.ABCSMC(model, pyabc.Distribution(**calib.priors), calib.distance,
                       population_size=settings.population_size, sampler=sampler)
    try:
        return _run(abc, calib, out, db, db_path, settings, start=time.perf_counter())
    finally:
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()


def _run(abc: pyabc.ABCSMC, calib: Calibration, out: Path, db: str, db_path: Path,
         settings: AbcSettings, start: float) -> dict[str, Any]:
    observed = {o.id: o.value for o in calib.observations}
    done = 0
    if db_path.exists():
        history = pyabc.History(db)
        if history.n_populations > 0 and history.max_t >= 0:
            abc.load(db, history.id)
            done = history.max_t + 1
    if done == 0:
        if db_path.exists():
            db_path.unlink()
        abc.new(db, observed)
    remaining = settings.max_generations - done
    stopped = None
    if remaining > 0:
        try:
            abc.run(minimum_epsilon=settings.min_epsilon, max_nr_populations=remaining,
                    min_acceptance_rate=settings.min_acceptance_rate,
                    max_total_nr_simulations=settings.max_simulations)
        except (ValueError, np.linalg.LinAlgError) as exc:
            # e.g. the weights of a generation collapse onto one particle and the proposal
            # cannot be fitted: keep the generations that finished, and say why it stopped
            stopped = f"{type(exc).__name__}: {exc}"
    history = pyabc.History(db)
    if history.max_t < 0:
        raise RuntimeError(f"calibration stopped before any generation finished ({stopped})")
    return write_posterior(calib, history, out, time.perf_counter() - start, resumed_from=done,
                           stopped_early=stopped)


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    order = np.argsort(values)
    cum = np.cumsum(weights[order])
    return float(np.interp(q * cum[-1], cum, values[order]))


def write_posterior(calib: Calibration, history: pyabc.History, out: Path, seconds: float,
                    resumed_from: int = 0, stopped_early: str | None = None) -> dict[str, Any]:
    frame, weights = history.get_distribution(m=0, t=history.max_t)
    names = list(calib.priors)
    values = frame[names].to_numpy()
    weights = np.asarray(weights) / np.sum(weights)
    rng = np.random.default_rng(np.random.SeedSequence(calib.config.seed, spawn_key=(999,)))
    n = calib.config.abc.posterior_draws
    # systematic resampling to an equally weighted sample
    positions = (rng.random() + np.arange(n)) / n
    picks = np.minimum(np.searchsorted(np.cumsum(weights), positions), len(weights) - 1)
    draws = [calib.overrides(dict(zip(names, values[i], strict=True))) for i in picks]
    write_json_atomic(out / "draws.json", {"parameters": names, "draws": draws})
    pops = history.get_all_populations()
    summary = {}
    for j, name in enumerate(names):
        col = values[:, j]
        summary[name] = {"mean": float(np.sum(weights * col)),
                         "q05": weighted_quantile(col, weights, 0.05),
                         "q50": weighted_quantile(col, weights, 0.5),
                         "q95": weighted_quantile(col, weights, 0.95)}
    from model.output import code_version

    manifest = {
        "name": calib.config.name, "config": calib.config.model_dump(),
        "scenario_hash": calib.scenario.digest(), "code_version": code_version(),
        "observations": [{"id": o.id, "value": o.value, "sd": o.sd_absolute, "kind": o.kind}
                         for o in calib.observations],
        "held_out": [o.id for o in calib.held_out],
        "generations": [{"t": int(r.t), "epsilon": float(r.epsilon), "samples": int(r.samples)}
                        for r in pops.itertuples() if r.t >= 0],
        "total_simulations": int(pops["samples"].sum()),
        "wall_seconds_this_session": round(seconds, 1), "resumed_from_generation": resumed_from,
        "posterior_draws": n, "posterior_summary": summary, "stopped_early": stopped_early,
        "effective_sample_size": float(1.0 / np.sum(weights**2)),
        "seed_rule": "evaluation j of generation t: SeedSequence(seed, spawn_key=(t + 1, j)); "
                     "resampling: SeedSequence(seed, spawn_key=(999,))",
    }
    write_json_atomic(out / "manifest.json", manifest)
    return manifest


def load_draws(folder: str | Path) -> list[dict[str, Any]]:
    path = Path(folder) / "draws.json"
    if not path.is_file():
        raise InputError(path, None, "posterior draws not found (run `yichun-abm calibrate`)")
    return json.loads(path.read_text())["draws"]
