"""Regression-adjusted rejection ABC over a reference table (Beaumont, Zhang & Balding 2002;
the heteroscedastic correction of Blum & François 2010), as in R's ``abc`` package
(``method = "loclinear"``, ``hcorr = TRUE``, Epanechnikov kernel, bounded parameters on a
logit scale).

Each simulation in the table carries observation noise of each observation's stated sd, so
its summaries are draws of what the statistics office could have published under that
parameter set; the accepted, adjusted parameters then approximate the posterior for the
stated noise model, not for a tolerance shrunk until it fits. Summaries are standardised
gaps (simulated − observed) / sd, zero inside a bound or an interval, so the observed data
sit at the origin. The same table serves every question: the posterior, any subset of the
observations (rolling-origin forecasts), and synthetic truths (recovery), without new runs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_EPS = 1e-9


@dataclass(frozen=True)
class Adjusted:
    """A weighted posterior sample: adjusted values (k x p, natural scale) and weights."""
    values: np.ndarray
    weights: np.ndarray
    accepted: np.ndarray      # indices into the table
    bandwidth: float

    def quantile(self, q: float | np.ndarray) -> np.ndarray:
        """Weighted quantiles of each column (len(q) x p, or p for a scalar q)."""
        qs = np.atleast_1d(q)
        out = np.empty((qs.size, self.values.shape[1]))
        for j in range(self.values.shape[1]):
            order = np.argsort(self.values[:, j])
            cum = np.cumsum(self.weights[order])
            cum = (cum - 0.5 * self.weights[order]) / cum[-1]
            out[:, j] = np.interp(qs, cum, self.values[order, j])
        return out[0] if np.ndim(q) == 0 else out

    def resample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """n equally weighted rows by systematic resampling."""
        positions = (rng.random() + np.arange(n)) / n
        cum = np.cumsum(self.weights) / self.weights.sum()
        picks = np.minimum(np.searchsorted(cum, positions), len(self.weights) - 1)
        return self.values[picks]


@dataclass(frozen=True)
class Transform:
    """Per parameter: identity, log, or logit on (low, high), so adjusted values stay in the
    prior's support."""
    kind: list[str]
    low: np.ndarray
    high: np.ndarray

    def forward(self, x: np.ndarray) -> np.ndarray:
        y = np.array(x, dtype=float, copy=True)
        for j, kind in enumerate(self.kind):
            if kind == "log":
                y[..., j] = np.log(np.maximum(y[..., j], _EPS))
            elif kind == "logit":
                u = (y[..., j] - self.low[j]) / (self.high[j] - self.low[j])
                u = np.clip(u, _EPS, 1 - _EPS)
                y[..., j] = np.log(u / (1 - u))
        return y

    def backward(self, y: np.ndarray) -> np.ndarray:
        x = np.array(y, dtype=float, copy=True)
        for j, kind in enumerate(self.kind):
            if kind == "log":
                x[..., j] = np.exp(y[..., j])
            elif kind == "logit":
                x[..., j] = self.low[j] + (self.high[j] - self.low[j]) / (1 + np.exp(-y[..., j]))
        return x


def _weighted_fit(design: np.ndarray, target: np.ndarray, weights: np.ndarray,
                  ridge: float) -> np.ndarray:
    """Weighted ridge least squares (no penalty on the intercept): coefficients (m+1 x p)."""
    sw = np.sqrt(weights)[:, None]
    a = design * sw
    gram = a.T @ a
    penalty = ridge * np.trace(gram) / gram.shape[0] * np.eye(gram.shape[0])
    penalty[0, 0] = 0.0
    return np.linalg.solve(gram + penalty, a.T @ (target * sw))


def adjust(theta: np.ndarray, gaps: np.ndarray, tolerance: float, transform: Transform,
           extra: np.ndarray | None = None, ridge: float = 1e-6,
           heteroscedastic: bool = True) -> tuple[Adjusted, Adjusted | None]:
    """Posterior of `theta` (n x p, natural scale) given summaries `gaps` (n x m, standardised,
    observed data at 0): keep the `tolerance` share of rows nearest the origin, weight them with
    the Epanechnikov kernel, regress the transformed parameters on the gaps and move each kept
    row to what it would have been had its gaps been zero.

    `extra` (n x q) are further simulated quantities (forecasts) adjusted the same way, on their
    natural scale: their posterior predictive given the data."""
    n = gaps.shape[0]
    distance = np.sqrt(np.sum(gaps * gaps, axis=1))
    # at least ten rows per regressor, or the regression fits the noise and the residuals,
    # hence the intervals, shrink
    k = max(int(round(tolerance * n)), 10 * (gaps.shape[1] + 1))
    k = min(k, n)
    accepted = np.argsort(distance, kind="stable")[:k]
    bandwidth = float(distance[accepted[-1]]) * (1 + 1e-6) or 1.0
    weights = 1.0 - (distance[accepted] / bandwidth) ** 2
    design = np.column_stack([np.ones(k), gaps[accepted]])
    effective = weights.sum() ** 2 / np.sum(weights * weights)

    def moved(target: np.ndarray) -> np.ndarray:
        coef = _weighted_fit(design, target, weights, ridge)
        fitted = design @ coef
        residual = target - fitted
        centre = coef[0]
        # residuals of a fitted regression understate the error variance by the degrees of
        # freedom the fit used: rescale by the effective sample size (Kish) over what is left
        residual = residual * np.sqrt(effective / max(effective - design.shape[1], 1.0))
        if not heteroscedastic:
            return centre + residual
        log_sq = np.log(residual * residual + _EPS)
        scale_coef = _weighted_fit(design, log_sq, weights, ridge)
        log_scale_here = design @ scale_coef
        # the variance model is a correction, not a licence to extrapolate: bounded ratios
        ratio = np.exp(np.clip(0.5 * (scale_coef[0] - log_scale_here), -1.5, 1.5))
        return centre + residual * ratio

    values = transform.backward(moved(transform.forward(theta[accepted])))
    post = Adjusted(values, weights, accepted, bandwidth)
    pred = None
    if extra is not None and extra.shape[1]:
        rows = extra[accepted]
        ok = np.all(np.isfinite(rows), axis=1)
        rows = np.where(np.isfinite(rows), rows, np.nanmedian(rows, axis=0))
        pred = Adjusted(moved(rows), weights * ok, accepted, bandwidth)
    return post, pred


def rank_statistic(sample: np.ndarray, truth: float) -> int:
    """Simulation-based-calibration rank: how many posterior draws fall below the truth
    (Talts et al. 2018); uniform over 0..len(sample) when the posterior is calibrated."""
    return int(np.sum(sample < truth))
