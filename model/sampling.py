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


def beta(rng: np.random.Generator, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``rng.beta(a, b)`` for arrays of parameters. numpy draws them in element order after
    ~8 µs of broadcasting set-up; for the few firms opened in a month they are drawn one at a
    time instead (~0.6 µs each), which gives the same numbers."""
    if a.size >= 16:
        return rng.beta(a, b)
    return np.array([rng.beta(x, y) for x, y in zip(a.tolist(), b.tolist(), strict=True)],
                    dtype=float)
