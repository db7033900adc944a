"""Synthetic recovery: does the calibration find parameters it knows?

For each of K truths drawn from the prior, simulate the observations (adding observation
noise of the stated sd), calibrate against them, and check whether each true value lies in
the posterior's 90% credible interval. Across truths, coverage near 90% says the procedure is
honest; a posterior as wide as the prior says the data cannot pin that parameter down.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np

from model.calibration.abc import Calibration, load_draws, run_calibration
from model.calibration.fit import flat_draw, prior_distribution
from model.yamlio import write_json_atomic, write_text_atomic


def draw_truth(calib: Calibration, rng: np.random.Generator) -> dict[str, float]:
    return {name: float(prior_distribution(name).rvs(random_state=rng)) for name in calib.priors}


def synthetic_calibration(calib: Calibration, truth: dict[str, float],
                          seed: np.random.SeedSequence, rng: np.random.Generator) -> Calibration:
    """A copy of `calib` whose observations are simulated from `truth`, plus noise."""
    sim = calib.simulate(truth, seed)
    synthetic = copy.copy(calib)
    observations = []
    for obs in calib.all_observations:
        clean = sim[obs.id]
        sd = obs.sd if obs.sd is not None else abs(clean) * obs.sd_relative
        value = clean if obs.kind == "lower_bound" else clean + rng.normal(0.0, sd)
        observations.append(obs.model_copy(update={"value": float(value)}))
    synthetic.all_observations = observations
    synthetic.observations = [o for o in observations if o.include]
    synthetic.held_out = [o for o in observations if not o.include]
    return synthetic


def recovery_check(calib: Calibration, truths: int, out: Path, progress: bool = False) -> dict[str, Any]:
    rng = np.random.default_rng(np.random.SeedSequence(calib.config.seed, spawn_key=(77,)))
    names = list(calib.priors)
    inside = np.zeros((truths, len(names)), dtype=bool)
    ratio = np.zeros((truths, len(names)))
    records = []
    for k in range(truths):
        truth = draw_truth(calib, rng)
        synthetic = synthetic_calibration(
            calib, truth, np.random.SeedSequence(calib.config.seed, spawn_key=(78, k)), rng)
        manifest = run_calibration(synthetic, out / f"truth_{k}", progress=progress)
        draws = [flat_draw(d) for d in load_draws(out / f"truth_{k}")]
        for j, name in enumerate(names):
            col = np.array([d[name] for d in draws])
            lo, hi = np.quantile(col, [0.05, 0.95])
            inside[k, j] = lo <= truth[name] <= hi
            ratio[k, j] = col.std() / prior_distribution(name).std()
        records.append({"truth": truth, "simulations": manifest["total_simulations"]})
    coverage = inside.mean(axis=0)
    spread = ratio.mean(axis=0)
    result = {
        "truths": truths, "overall_coverage_90": float(inside.mean()),
        "per_parameter": {n: {"coverage_90": float(coverage[j]),
                              "posterior_over_prior_sd": float(spread[j]),
                              "pinned_down": bool(spread[j] < 0.7)}
                          for j, n in enumerate(names)},
        "runs": records,
    }
    write_json_atomic(out / "recovery.json", result)
    lines = [f"# Synthetic recovery: {truths} truths drawn from the prior", "",
             f"Share of true values inside the 90% credible interval: {inside.mean():.2f} "
             f"(over {inside.size} parameter-truth pairs).", "",
             "| parameter | coverage of 90% interval | posterior sd / prior sd | pinned down |",
             "| --- | ---: | ---: | --- |"]
    for j, n in enumerate(names):
        lines.append(f"| {n} | {coverage[j]:.2f} | {spread[j]:.2f} | "
                     f"{'yes' if spread[j] < 0.7 else 'no'} |")
    write_text_atomic(out / "recovery.md", "\n".join(lines) + "\n")
    return result
