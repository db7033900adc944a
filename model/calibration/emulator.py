"""An emulator of each target's met-or-not outcome over the parameters, fitted on the reference
table's rows, so the posterior predictive probability of a target that is a small count (chain
leaders, firms over a line) is read at any posterior sample without new runs:
P(met | data) = E over the posterior of P(met | θ).

Each target gets a logistic regression (scikit-learn, L2-penalised, C = 1) of its 2026
met-or-not outcome on the standardised, prior-transformed parameters over every feasible row
of the table. The rows were run on their own seeds, so the fitted probability includes the
run's own randomness (a price path, a firm's luck) beside the parameters' effect. Why not the
regression-adjusted outcome thresholded at the target: a linear adjustment moves a small count
(a chain has 0, 1 or 2 leaders) across its threshold for no reason. Continuous outcomes keep
the adjustment, which agreed better with fresh ensembles for them (README, "Nowcast").
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression

from model.analysis.targets import load_targets
from model.calibration.abc import Calibration, Table
from model.calibration.panel import Panel


class MetEmulator:
    """P(target met | θ) for every target of a panel."""

    def __init__(self, calib: Calibration, table: Table, panel: Panel) -> None:
        self.transform = calib.transform
        rows = table.feasible() & np.isfinite(panel.outcomes).all(axis=1)
        x = self.transform.forward(table.theta[rows])
        self.centre, self.scale = x.mean(axis=0), x.std(axis=0) + 1e-12
        x = (x - self.centre) / self.scale
        thresholds = {t.id: t.threshold for t in load_targets().targets}
        #: per target, whether its outcome is a small count (whole numbers, under 20 values)
        self.counts = [_small_count(panel.outcomes[rows, j]) for j in range(len(panel.targets))]
        # only small counts are read through the emulator (``nowcast.probabilities``)
        self.models: list[LogisticRegression | float | None] = []
        for j, target in enumerate(panel.targets):
            met = (panel.outcomes[rows, j] >= thresholds[target]).astype(int)
            if not self.counts[j]:
                self.models.append(None)
            elif met.min() == met.max():            # met in every row, or in none
                self.models.append(float(met[0]))
            else:
                self.models.append(LogisticRegression(C=1.0, max_iter=2000).fit(x, met))

    def probabilities(self, theta: np.ndarray) -> np.ndarray:
        """P(met) per row of `theta` (natural scale) and target: rows x targets (NaN for a
        target that is not a small count: it has no emulator)."""
        x = (self.transform.forward(theta) - self.centre) / self.scale
        return np.column_stack([np.full(len(x), np.nan) if m is None
                                else np.full(len(x), m) if isinstance(m, float)
                                else m.predict_proba(x)[:, 1] for m in self.models])


def _small_count(values: np.ndarray) -> bool:
    return bool(values.size and np.all(values == np.round(values)) and np.unique(values).size < 20)
