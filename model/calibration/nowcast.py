"""Nowcast: newly published figures update the posterior and the target probabilities in
seconds, from the reference table and its panel, with no new simulation.

Each new figure is read in every table row from the row's year-to-date panel
(``model/calibration/panel.py``) and given observation noise of its stated sd (a seeded stream
of its own), exactly as the calibration's observations are. The posterior is then the same
regression-adjusted ABC with the figure's standardised gap as one more summary, and each
target's probability is read from the rows' 2026 outcomes adjusted the same way (their
posterior predictive), or, for a target that is a small count, from an emulator of P(met | θ)
over the adjusted parameters (``model/calibration/emulator.py``). Adding the figures one at a
time in publication order shows how far each one moved each probability, and the posterior
predictive of a figure just before it was added (its percentile) is a running out-of-sample
score of the model.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, ValidationError

from model.analysis.targets import load_targets, wilson_interval
from model.calibration.abc import Calibration, Table
from model.calibration.emulator import MetEmulator
from model.calibration.observations import Observation, simulated, standardised_gaps
from model.calibration.panel import PANEL_STATS, Panel
from model.calibration.regression import Adjusted, adjust
from model.errors import InputError
from model.scenario import month_index
from model.yamlio import load_yaml_with_lines, plain_message


class Figure(Observation):
    """A newly published figure, in the observations' format with its value given."""

    fact: str = "new figure"
    value: float
    published: str | None = None      # YYYY-MM: when it was published (default: its period's end)


class FiguresFile(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    figures: list[Figure]


def load_figures(path: Path, calib: Calibration, replay: bool = False) -> list[Figure]:
    """The file's figures in publication order; every problem is one line naming the file, the
    entry and the key. In a replay the calibration's own figures may be replayed (the fit then
    starts before the first of them)."""
    data, lines = load_yaml_with_lines(path)
    if isinstance(data, dict) and isinstance(data.get("figures"), list):
        for k, item in enumerate(data["figures"]):
            for key in ("value", "sd", "sd_relative", "upper"):
                if isinstance(item, dict) and isinstance(item.get(key), str | bool):
                    raise InputError(path, f"figures[{item.get('id', k)}].{key}",
                                     f"expected a number, got '{item[key]}'")
    try:
        parsed = FiguresFile.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = err["loc"]
        entry = loc[1] if len(loc) > 1 else None
        if isinstance(entry, int) and isinstance(data, dict):
            item = data["figures"][entry]
            entry = item.get("id", entry) if isinstance(item, dict) else entry
        key = ".".join(str(x) for x in loc[2:]) if len(loc) > 2 else None
        where = f"figures[{entry}]" + (f".{key}" if key else "") if entry is not None else "figures"
        raise InputError(path, where, plain_message(err, FiguresFile),
                         lines.get(f"figures[{loc[1]}]") if len(loc) > 1 else None) from None
    if not parsed.figures:
        raise InputError(path, "figures", "expected at least one figure")
    known = [] if replay else calib.observations
    seen: set[str] = set()
    for fig in parsed.figures:
        if fig.id in seen:
            raise InputError(path, f"figures[{fig.id}].id", "duplicate id; ids must be unique")
        seen.add(fig.id)
        check_figure(fig, calib, known, path)
    return sorted(parsed.figures, key=_published)


def check_figure(fig: Figure, calib: Calibration, known: list[Observation],
                 path: Path | str = "figure") -> None:
    """A figure the calibration (its observations `known`) does not already hold, read on the
    panel's statistics; otherwise an InputError naming the entry and the key."""
    where = f"figures[{fig.id}]"
    if any(o.id == fig.id for o in known):
        raise InputError(path, f"{where}.id", f"'{fig.id}' is already in the calibration "
                         f"({calib.source})")
    twin = next((o.id for o in known if _same_quantity(o, fig)), None)
    if twin:
        raise InputError(path, where, f"the same figure is already in the calibration as "
                         f"'{twin}' ({calib.source})")
    for key in ("statistic", "denominator"):
        stat = getattr(fig, key)
        if stat is not None and stat not in PANEL_STATS:
            raise InputError(path, f"{where}.{key}", f"'{stat}' is not in the year-to-date "
                             f"panel; expected one of {list(PANEL_STATS)}")
    if fig.upper is not None and fig.upper <= fig.value:
        raise InputError(path, f"{where}.upper", f"must exceed the lower end {fig.value}")
    if fig.published is not None:
        try:
            month_index(fig.published)
        except (ValueError, InputError):
            raise InputError(path, f"{where}.published",
                             f"expected a month YYYY-MM, got '{fig.published}'") from None


def _published(fig: Figure) -> int:
    return month_index(fig.published) if fig.published else fig.end_month()


def _same_quantity(a: Observation, b: Observation) -> bool:
    """The same statistic over the same months (a full year is January to December)."""
    def months(o: Observation) -> tuple[int, int]:
        return o.period.month_span() or (month_index(f"{o.period.year}-01"), o.end_month())

    return (a.statistic, a.denominator, a.scope, a.denominator_scope, a.kind, months(a)) == \
        (b.statistic, b.denominator, b.scope, b.denominator_scope, b.kind, months(b))


def figure_values(figures: list[Figure], panel: Panel) -> np.ndarray:
    """Each figure's clean simulated value in every table row (rows x figures)."""
    out = np.full((panel.n, len(figures)), np.nan)
    for i in range(panel.n):
        if not np.isfinite(panel.outcomes[i]).any():
            continue                                   # an infeasible row
        yearly, monthly = panel.full_arrays(i)
        for j, fig in enumerate(figures):
            out[i, j] = simulated(fig, yearly, monthly)
    return out


def figure_noise(figures: list[Figure], rows: int, seed: int) -> np.ndarray:
    """Standard-normal observation noise per row for each figure: a stream of its own, keyed by
    its id, so a figure's noise does not depend on which others are added."""
    out = np.empty((rows, len(figures)))
    for j, fig in enumerate(figures):
        key = int(hashlib.sha256(fig.id.encode()).hexdigest()[:8], 16)
        out[:, j] = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(7, key))
                                          ).standard_normal(rows)
    return out


@dataclass
class Evidence:
    """What a posterior is fitted to: the table's observations (a mask) and some figures, each
    with its simulated values in every row and the value published (for a synthetic truth, what
    the truth published)."""

    fitted: np.ndarray
    figures: list[Figure]
    figure_clean: np.ndarray      # rows x figures
    figure_noise: np.ndarray      # rows x figures


@dataclass
class Update:
    """One posterior: the parameters, and the posterior predictive of the targets' 2026
    outcomes and of the figures' values (before each is seen)."""

    post: Adjusted
    outcomes: Adjusted
    predicted: Adjusted | None


def fit(calib: Calibration, table: Table, panel: Panel, evidence: Evidence,
        predict: np.ndarray | None = None, published: np.ndarray | None = None,
        keep: np.ndarray | None = None) -> Update:
    """The regression-adjusted posterior on the table's rows (those in `keep`, default all
    feasible), with the targets' 2026 outcomes and the columns of `predict` (what could be
    published of figures not yet seen, rows x q) adjusted as posterior predictive. `published`
    gives the published values of the fitted observations then figures when they are not the
    data (a synthetic truth)."""
    observations = [o for o, f in zip(calib.all_observations, evidence.fitted, strict=True) if f]
    sd_obs = calib.sd[evidence.fitted]
    sd_fig = np.array([f.sd_absolute for f in evidence.figures])
    noisy = np.hstack([table.clean[:, evidence.fitted] + table.noise[:, evidence.fitted] * sd_obs,
                       evidence.figure_clean + evidence.figure_noise * sd_fig])
    everything = observations + list(evidence.figures)
    rows = table.feasible() & np.isfinite(panel.outcomes).all(axis=1)
    if keep is not None:
        rows &= keep
    gaps = standardised_gaps(everything, noisy[rows])
    if published is not None:
        gaps = gaps - standardised_gaps(everything, published[None, :])
    extra = [panel.outcomes[rows]]
    if predict is not None:
        extra.append(predict[rows])
    post, pred = adjust(table.theta[rows], gaps, calib.config.abc.tolerance, calib.transform,
                        extra=np.hstack(extra), heteroscedastic=calib.config.abc.heteroscedastic)
    k = panel.outcomes.shape[1]

    def part(first: int, last: int | None) -> Adjusted:
        return Adjusted(pred.values[:, first:last], pred.weights, pred.accepted, pred.bandwidth)

    # the outcomes adjusted as the parameters give their posterior-predictive spread (the
    # intervals of a 2026 value); the probabilities come from the emulator (probabilities())
    return Update(post, part(0, k), part(k, None) if predict is not None else None)


def probabilities(update: Update, panel: Panel, emulator: MetEmulator) -> list[dict[str, Any]]:
    """P(met) per target, with a 95% interval for the Monte-Carlo error of the weighted sample
    (Wilson at its effective size), and the posterior-predictive median of the 2026 outcome.
    A continuous outcome (revenue, a growth rate) is the share of its regression-adjusted
    values that meet the target; a small count (chain leaders, firms over a line), which a
    linear adjustment would move across its threshold for no reason, is the posterior mean of
    the emulator's P(met | θ) over the adjusted parameters (model/calibration/emulator.py)."""
    targets = {t.id: t for t in load_targets().targets}
    w = update.post.weights
    effective = float(w.sum() ** 2 / np.sum(w * w)) if w.sum() > 0 else 0.0
    chance = emulator.probabilities(update.post.values)
    v, vw = update.outcomes.values, update.outcomes.weights
    medians = update.outcomes.quantile(0.5)        # weighted, every outcome at once
    rows = []
    for j, target_id in enumerate(panel.targets):
        target = targets[target_id]
        if emulator.counts[j]:          # a small count: the emulator's P(met | θ)
            met = float(np.sum(w * chance[:, j]) / w.sum())
        else:                           # a continuous outcome: its adjusted value, thresholded
            met = float(np.sum(vw * (v[:, j] >= target.threshold)) / vw.sum())
        low, high = wilson_interval(round(met * effective), max(round(effective), 1))
        rows.append({"target": target_id, "description": target.description,
                     "description_zh": target.description_zh, "probability": met,
                     "low": low, "high": high,
                     "median_2026": float(medians[j]),
                     "threshold": target.threshold, "effective_rows": effective})
    return rows


def percentile(update: Update, column: int, value: float) -> float:
    """Where a published value falls in the posterior predictive of its figure (0-100)."""
    pred = update.predicted
    below = np.sum(pred.weights * (pred.values[:, column] < value))
    return float(100.0 * below / pred.weights.sum())


def band(update: Update, column: int) -> tuple[float, float, float]:
    """The 5th, 50th and 95th percentiles of a figure's posterior predictive."""
    return tuple(float(x) for x in update.predicted.quantile(np.array([0.05, 0.5, 0.95]))[:, column])


# ---------------------------------------------------------------- the nowcast itself
@dataclass
class Nowcast:
    """Probabilities before and after each figure (stage 0: the calibration's data alone),
    each figure's percentile and band just before it was added and after all of them, and
    the final posterior."""

    figures: list[Figure]
    stages: list[list[dict[str, Any]]]
    percentiles: list[float]
    bands_before: list[tuple[float, float, float]]
    bands_after: list[tuple[float, float, float]]
    final: Update
    origin: str | None


def nowcast(calib: Calibration, table: Table, panel: Panel, figures: list[Figure],
            origin: int | None = None, emulator: MetEmulator | None = None) -> Nowcast:
    """Add the figures one at a time, in publication order, to the calibration's data (those
    ending by month `origin`, for a replay; all of them otherwise)."""
    emulator = emulator or MetEmulator(calib, table, panel)
    clean = figure_values(figures, panel)
    noise = figure_noise(figures, table.n, calib.config.seed)
    sd = np.array([f.sd_absolute for f in figures])
    # what could be published (with its noise: the score of a published value) and the
    # quantity itself (what the model believes once it has seen the figure)
    predict = np.hstack([clean + noise * sd, clean])
    fitted = calib.fitted_mask(origin)
    stages, percentiles, before = [], [], []
    update = None
    for k in range(len(figures) + 1):
        evidence = Evidence(fitted, figures[:k], clean[:, :k], noise[:, :k])
        update = fit(calib, table, panel, evidence, predict=predict)
        stages.append(probabilities(update, panel, emulator))
        if k < len(figures):
            percentiles.append(percentile(update, k, figures[k].value))
            before.append(band(update, k))
    after = [band(update, len(figures) + k) for k in range(len(figures))]
    label = None if origin is None else f"{2022 + origin // 12}-{origin % 12 + 1:02d}"
    return Nowcast(figures, stages, percentiles, before, after, update, label)


def replay_origin(figures: list[Figure]) -> int:
    """A replay starts from what was published before its first figure's period ended."""
    return min(f.end_month() for f in figures) - 1


def posterior_draws(calib: Calibration, update: Update, n: int) -> list[dict[str, Any]]:
    """Equally weighted parameter sets of the updated posterior (for `run --posterior`),
    without adjusted sets the model cannot build (as the calibration's own draws)."""
    post = update.post
    kept = np.array([calib.feasible(dict(zip(calib.names, row, strict=True)))
                     for row in post.values])
    if kept.any():
        post = Adjusted(post.values[kept], post.weights[kept], post.accepted[kept],
                        post.bandwidth)
    rng = np.random.default_rng(np.random.SeedSequence(calib.config.seed, spawn_key=(998,)))
    return [calib.overrides(dict(zip(calib.names, row, strict=True)))
            for row in post.resample(n, rng)]


# ---------------------------------------------------------------- synthetic truths
def ytd_figures(statistic: str, denominator: str, scope: str, year: int, months: range,
                sd: float) -> list[Figure]:
    """Year-to-date same-firm growth figures (1-N月) of one year, as the bureau publishes them."""
    return [Figure(id=f"{scope}_{statistic}_{year}_01_{m:02d}", statistic=statistic,
                   denominator=denominator, scope=scope, period={"year": year, "months": m},
                   kind="same_firm_growth_pct", value=0.0, sd=sd, reason="synthetic truth")
            for m in months]


def synthetic_truths(calib: Calibration, table: Table, panel: Panel, figures: list[Figure],
                     target: str, truths: int, seed: int = 0) -> dict[str, Any]:
    """Rows of the table taken as the truth, one at a time (left out of the fit): their own
    calibration data and then their own figures, with noise of the stated sds, added month
    by month. Per stage: the share of truths whose 2026 `target` outcome lies inside the 90%
    posterior-predictive interval, and the interval's mean width."""
    clean = figure_values(figures, panel)
    noise = figure_noise(figures, table.n, calib.config.seed)
    sd_fig = np.array([f.sd_absolute for f in figures])
    fitted = calib.fitted_mask(None)
    usable = np.flatnonzero(table.feasible() & np.isfinite(panel.outcomes).all(axis=1)
                            & np.isfinite(clean).all(axis=1))
    rng = np.random.default_rng(np.random.SeedSequence(calib.config.seed, spawn_key=(11, seed)))
    picks = rng.choice(usable, size=min(truths, usable.size), replace=False)
    column = panel.targets.index(target)
    inside = np.zeros((len(figures) + 1, picks.size), dtype=bool)
    width = np.zeros((len(figures) + 1, picks.size))
    for t, j in enumerate(picks):
        keep = np.ones(table.n, dtype=bool)
        keep[j] = False
        published_obs = (table.clean[j] + table.noise[j] * calib.sd)[fitted]
        published_fig = clean[j] + noise[j] * sd_fig
        truth = panel.outcomes[j, column]
        for k in range(len(figures) + 1):
            evidence = Evidence(fitted, figures[:k], clean[:, :k], noise[:, :k])
            update = fit(calib, table, panel, evidence,
                         published=np.concatenate([published_obs, published_fig[:k]]), keep=keep)
            low, high = update.outcomes.quantile(np.array([0.05, 0.95]))[:, column]
            inside[k, t] = low <= truth <= high
            width[k, t] = high - low
    return {"target": target, "truths": int(picks.size), "figures": [f.id for f in figures],
            "coverage_90": inside.mean(axis=1).tolist(), "mean_width": width.mean(axis=1).tolist()}
