"""Random draws made cheaper than numpy's general calls.

``rng.choice(k, n, p=p)`` checks and accumulates `p` on every call (~10 µs); a mechanism that
draws from the same probabilities every month keeps their cumulative table and draws the
same numbers from it: the same uniforms, looked up the same way.

A rare event for every firm (a project review, an exit) is drawn by ``bernoulli_rows``: the
gaps between the rows it picks are geometric, so a month costs a draw per firm picked
rather than a uniform per firm (2 ns x 12,000 firms, several times a month).
"""

from __future__ import annotations

import math

import numpy as np

from model.jit import jit


def cumulative(p: np.ndarray) -> np.ndarray:
    """The table ``rng.choice`` builds from probabilities `p` (cumulative, last entry 1)."""
    cdf = np.cumsum(p)
    cdf /= cdf[-1]
    return cdf


def categorical(rng: np.random.Generator, cdf: np.ndarray, n: int) -> np.ndarray:
    """`n` category indices: ``rng.choice(cdf.size, n, p=p)`` for ``cdf = cumulative(p)``."""
    return lookup(cdf, rng.random(n))


def lookup(cdf: np.ndarray, uniforms: np.ndarray) -> np.ndarray:
    """The categories ``categorical`` gives for these uniforms."""
    return cdf.searchsorted(uniforms, side="right")



def bernoulli_rows(rng: np.random.Generator, n: int, p: float) -> np.ndarray:
    """Rows of 0..n-1 each picked independently with probability `p`, in row order (the same
    process as one uniform per row below `p`). Row i's pick depends only on the draws before
    it, so firms added at the end leave earlier firms' picks unchanged (common random
    numbers across scenarios with different entry)."""
    if n <= 0 or p <= 0.0:
        return np.zeros(0, dtype=np.int64)
    if p >= 1.0:
        return np.arange(n)
    block = int(n * p + 4.0 * math.sqrt(n * p)) + 8
    rows, last = _rows_after_gaps(rng.geometric(p, block), -1, n)
    if last < n - 1:              # rarely: the block of gaps ended before the last row
        picked = [rows]
        while last < n - 1:
            rows, last = _rows_after_gaps(rng.geometric(p, block), last, n)
            picked.append(rows)
        rows = np.concatenate(picked)
    return rows


@jit
def _rows_after_gaps(gaps, last, n):  # noqa: ANN001, ANN202
    """The rows reached by stepping `gaps` on from row `last`, those below `n`, and the row
    the last step reaches (each gap capped at n + 1: one step past the end is enough)."""
    rows = np.empty(gaps.size, dtype=np.int64)
    count = 0
    for k in range(gaps.size):
        last += min(gaps[k], n + 1)
        if last < n:
            rows[count] = last
            count += 1
    return rows[:count], last
