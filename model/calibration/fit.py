"""Fit report of a posterior: each observation against the posterior predictive, parameter
posteriors against priors, which observations pull against each other, held-out forecasts
against naive baselines."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from model.calibration.abc import SEP, Calibration, load_draws, prior_distribution  # noqa: E402
from model.calibration.observations import Observation, standardised_gap  # noqa: E402
from model.parallel import fork_pool  # noqa: E402
from model.reporting.figures import save_figure  # noqa: E402
from model.reporting.tables import csv_cell  # noqa: E402
from model.yamlio import write_text_atomic  # noqa: E402

_STATE: dict[str, Any] = {}


def _predict(i: int) -> dict[str, float]:
    calib, draws = _STATE["calib"], _STATE["draws"]
    seq = np.random.SeedSequence(calib.config.seed, spawn_key=(10_000, i))
    theta = flat_draw(draws[i % len(draws)])
    return calib.simulate(theta, seq)


def flat_draw(draw: dict[str, Any]) -> dict[str, float]:
    out = {}
    for name, value in draw.items():
        if isinstance(value, dict):
            out.update({f"{name}{SEP}{k}": v for k, v in value.items()})
        else:
            out[name] = value
    return out


def posterior_predictive(calib: Calibration, draws: list[dict[str, Any]],
                         replications: int) -> dict[str, np.ndarray]:
    """Simulated observations for `replications` runs, run i using draw i mod n."""
    _STATE.update(calib=calib, draws=draws)
    workers = calib.config.workers
    if workers > 1:
        with fork_pool(workers) as pool:
            sims = pool.map(_predict, range(replications))
    else:
        sims = [_predict(i) for i in range(replications)]
    return {o.id: np.array([s[o.id] for s in sims]) for o in calib.all_observations}


def gap_array(obs: Observation, values: np.ndarray) -> np.ndarray:
    return np.array([standardised_gap(obs, float(x)) if np.isfinite(x) else np.nan for x in values])


def tension_pairs(calib: Calibration, sims: dict[str, np.ndarray], top: int = 5) -> list[str]:
    """Pairs of fitted observations whose standardised errors move against each other across
    the posterior: where bringing one closer pushes the other away."""
    ids = [o.id for o in calib.observations]
    # only a shortfall below a bound, or a miss outside an interval, is an error
    z = np.array([gap_array(o, sims[o.id]) for o in calib.observations])
    ok = np.all(np.isfinite(z), axis=0)
    z = z[:, ok]
    if z.shape[1] < 5:
        return []
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = np.corrcoef(z)
    mean = z.mean(axis=1)
    pairs = []
    for i in range(len(ids)):
        for j in range(i + 1, len(ids)):
            # errors of opposite sign that rise together, or of the same sign that trade off
            conflict = corr[i, j] * np.sign(mean[i] * mean[j])
            if np.isfinite(conflict) and conflict < -0.3 and abs(mean[i]) + abs(mean[j]) > 1.5:
                pairs.append((conflict, ids[i], ids[j], corr[i, j], mean[i], mean[j]))
    pairs.sort()
    return [f"- `{a}` (mean z {za:+.1f}) and `{b}` (mean z {zb:+.1f}): correlation {c:+.2f} across "
            "posterior runs — moving one toward its observation moves the other away"
            for _, a, b, c, za, zb in pairs[:top]]


def write_fit_report(calib: Calibration, folder: Path, replications: int = 100) -> int:
    """fit.csv, fit.md and figures in `folder`; returns the number of observations."""
    draws = load_draws(folder)
    sims = posterior_predictive(calib, draws, replications)
    rows = []
    for obs in calib.all_observations:
        v = sims[obs.id]
        v = v[np.isfinite(v)]
        med, p05, p95 = (np.quantile(v, [0.5, 0.05, 0.95]) if v.size else (np.nan,) * 3)
        z = standardised_gap(obs, med)
        row = {"observation": obs.id, "statistic": obs.statistic, "scope": obs.scope,
               "kind": obs.kind, "observed": obs.value, "sd": obs.sd_absolute,
               "sim_median": med, "sim_p05": p05, "sim_p95": p95, "z": z,
               "in_90pct_band": bool(p05 <= obs.value <= p95) or (
                   obs.kind == "lower_bound" and p05 >= obs.value) or (
                   obs.kind == "interval" and p05 <= obs.upper and p95 >= obs.value),
               "used": obs.include}
        rows.append(row)
    columns = ["observation", "statistic", "scope", "kind", "observed", "sd", "sim_median",
               "sim_p05", "sim_p95", "z", "in_90pct_band", "used"]
    out = io.StringIO()
    out.write(",".join(columns) + "\n")
    for r in rows:
        out.write(",".join(csv_cell(r.get(c, "")) for c in columns) + "\n")
    write_text_atomic(folder / "fit.csv", out.getvalue())

    names = [k for k in flat_draw(draws[0])]
    values = np.array([[flat_draw(d)[n] for n in names] for d in draws])
    unidentified = []
    for j, name in enumerate(names):
        prior_sd = prior_distribution(name).std()
        if values[:, j].std() > 0.7 * prior_sd:
            unidentified.append(name)
    _plot_fit(rows, folder / "figures" / "posterior_predictive.png")
    _plot_parameters(names, values, folder / "figures" / "parameter_posteriors.png")

    md = [f"# Fit of calibration '{calib.config.name}'", "",
          f"{replications} posterior-predictive runs (run i uses posterior draw i mod "
          f"{len(draws)}). z = (simulated median − observed) / sd; for a lower bound only a "
          "shortfall counts.", "",
          "| observation | observed | sd | simulated median | 90% band | z | used |",
          "| --- | ---: | ---: | ---: | --- | ---: | --- |"]
    for r in rows:
        md.append(f"| {r['observation']} | {r['observed']:.4g} | {r['sd']:.3g} | "
                  f"{r['sim_median']:.4g} | {r['sim_p05']:.4g}–{r['sim_p95']:.4g} | {r['z']:+.2f} | "
                  f"{'fitted' if r['used'] else 'held out'} |")
    bad = [r["observation"] for r in rows if r["used"] and abs(r["z"]) > 2]
    fitted = sum(r["used"] for r in rows)
    md += ["", f"Fitted observations within |z| ≤ 2: {fitted - len(bad)} of {fitted} "
           f"({100 * (fitted - len(bad)) / max(fitted, 1):.0f}%). Observations that fit badly: "
           + (", ".join(bad) if bad else "none") + ".", ""]
    notes = {o.id: o.misfit for o in calib.all_observations}
    for name in bad:
        md.append(f"- **{name}**: " + (notes.get(name) or "not yet explained (add a `misfit` "
                                       "note to its entry in observations.yaml)"))
    md += [""] if bad else []
    for extra in ("recovery.md", "forecasts.md"):
        if (folder / extra).is_file():
            md += [(folder / extra).read_text().rstrip(), ""]
    md += ["## Observations that pull against each other", "",
           *(tension_pairs(calib, sims) or ["- none found"]), "",
           "## Parameters", "",
           "| parameter | posterior median | 90% interval | pinned down by the data |",
           "| --- | ---: | --- | --- |"]
    for j, name in enumerate(names):
        col = values[:, j]
        md.append(f"| {name.replace(SEP, '.')} | {np.median(col):.4g} | "
                  f"{np.quantile(col, 0.05):.4g}–{np.quantile(col, 0.95):.4g} | "
                  f"{'no (posterior spread > 70% of prior)' if name in unidentified else 'yes'} |")
    md += ["", "![posterior predictive](figures/posterior_predictive.png)",
           "![parameter posteriors](figures/parameter_posteriors.png)", ""]
    write_text_atomic(folder / "fit.md", "\n".join(md))
    return len(rows)


def _plot_fit(rows: list[dict[str, Any]], path: Path) -> None:
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(rows) + 1.5))
    for i, r in enumerate(rows):
        lo = (r["sim_p05"] - r["observed"]) / r["sd"]
        hi = (r["sim_p95"] - r["observed"]) / r["sd"]
        ax.plot([lo, hi], [i, i], color="#9ecae1", lw=6, solid_capstyle="butt")
        bound = r["kind"] == "lower_bound"   # met whenever the point is right of zero
        ax.plot((r["sim_median"] - r["observed"]) / r["sd"], i, "o", color="#08519c",
                mfc="white" if bound else "#08519c")
    ax.axvline(0, color="black", lw=1)
    ax.axvspan(-2, 2, color="grey", alpha=0.1)
    labels = [r["observation"] + (" (lower bound)" if r["kind"] == "lower_bound" else "")
              + ("" if r["used"] else " (held out)") for r in rows]
    ax.set_yticks(range(len(rows)), labels, fontsize=8)
    ax.set_xlabel("(simulated − observed) / sd: posterior-predictive median and 90% band")
    ax.set_title("Observations against the posterior predictive (0 = observed value)")
    ax.invert_yaxis()
    save_figure(fig, path)


def _plot_parameters(names: list[str], values: np.ndarray, path: Path) -> None:
    cols = 4
    rows = int(np.ceil(len(names) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(13, 2.4 * rows))
    for ax, j in zip(np.atleast_1d(axes).flat, range(len(names)), strict=False):
        prior = prior_distribution(names[j])
        lo, hi = prior.ppf(0.005), prior.ppf(0.995)
        ax.hist(values[:, j], bins=20, density=True, color="#6baed6", label="posterior")
        grid = np.linspace(lo, hi, 200)
        ax.plot(grid, prior.pdf(grid), color="black", lw=1, label="prior")
        ax.set_title(names[j].replace(SEP, "."), fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in list(np.atleast_1d(axes).flat)[len(names):]:
        ax.axis("off")
    np.atleast_1d(axes).flat[0].legend(fontsize=7)
    fig.suptitle("Parameter posteriors (bars) against priors (lines)")
    fig.tight_layout()
    save_figure(fig, path)
