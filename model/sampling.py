"""Random draws numpy makes with per-call checks, made from precomputed tables.

``rng.choice(k, n, p=p)`` checks and accumulates `p` on every call (~10 µs); a mechanism that
draws from the same probabilities every month keeps their cumulative table and draws the
same numbers from it: the same uniforms, looked up the same way, so results do not change.
"""

from __future__ import annotations

import numpy as np


def cumulative(p: np.ndarray) -> np.ndarray:
    """The table ``rng.choice`` builds from probabilities `p` (cumulative, last entry 1)."""
    cdf = np.cumsum(p)
    cdf /= cdf[-1]
    return cdf


def categorical(rng: np.random.Generator, cdf: np.ndarray, n: int) -> np.ndarray:
    """`n` category indices: ``rng.choice(cdf.size, n, p=p)`` for ``cdf = cumulative(p)``."""
    return cdf.searchsorted(rng.random(n), side="right")

