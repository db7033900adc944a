"""The compiler for the mechanisms' fused loops (numba), with one setting for all of them.

A mechanism's arithmetic over firms, which numpy runs as a dozen passes each writing a
temporary array, runs as one compiled pass over the firms; segment totals are accumulated in
the same pass, in row order, as ``np.bincount`` does. Transcendental functions (exp, log,
powers) stay in numpy, whose vectorised versions are faster than a scalar loop calling them
(and round differently in the last bit); a loop over a few new firms computes them itself.
Random draws come from numpy's generators (a loop drawing normals uses numba's version of
numpy's Generator: the same ziggurat on the same bit generator, so the same numbers). The
settings keep results exact and reproducible: no fastmath (no reassociation or fused
multiply-add, so a loop gives the bits of the numpy expression it replaces), numpy's error
model (x / 0 is inf, not an exception), and ``cache=True`` (compiled once per installation,
into ``__pycache__``).
``NUMBA_DISABLE_JIT=1`` runs the loops as plain Python, for debugging.
"""

from __future__ import annotations

import numba
import numpy as np

jit = numba.njit(cache=True, error_model="numpy", nogil=True)


def cache_is_warm(least: int = 20) -> bool:
    """Whether the compiled loops are in numba's cache (``__pycache__`` beside the modules, or
    NUMBA_CACHE_DIR): a first run after installing compiles them, about a minute."""
    from pathlib import Path

    if numba.config.DISABLE_JIT:
        return True
    root = Path(numba.config.CACHE_DIR) if numba.config.CACHE_DIR else Path(__file__).parent
    return sum(1 for _ in root.rglob("*.nbi")) >= least
if numba.config.DISABLE_JIT:
    def vectorize(rule):  # noqa: ANN001, ANN201
        """Plain Python (NUMBA_DISABLE_JIT): numpy runs the rule element by element."""
        return np.vectorize(rule, otypes=[float])
else:
    #: a scalar rule over float64 arguments, usable both inside compiled loops and on arrays
    vectorize = numba.vectorize(["float64(float64, float64, float64)"], cache=True)


@jit
def sum_by(group, values, n_groups):  # noqa: ANN001, ANN201
    """``np.bincount(group, values, minlength=n_groups)``, to the same bits: values are added
    in row order, each group's running total held in a register while rows of that group
    follow one another (firms are stored by segment, so most of the time), which makes the
    loop about three times faster than adding into memory row by row."""
    totals = np.zeros(n_groups)
    current, running = 0, 0.0
    for i in range(group.size):
        if group[i] != current:
            running, current = next_group(totals, current, running, group[i]), group[i]
        running += values[i]
    totals[current] = running
    return totals


@jit
def next_group(totals, current, running, group):  # noqa: ANN001, ANN201
    """In a loop summing by group with the running sum in a register (``sum_by``): store the
    running sum of the group `current` and return the stored sum of `group`, the next one."""
    totals[current] = running
    return totals[group]


@jit
def rows(start, stop):  # noqa: ANN001, ANN201
    """``range(start, stop)`` over rows, as unsigned integers. A loop whose first row is read
    from memory (a run of one segment's firms) could start below zero for all the compiler
    knows, and numba wraps negative indices around: with that check in it the loop runs one
    row at a time; with unsigned rows it runs several at once (the same numbers)."""
    return range(np.uint64(start), np.uint64(stop))


@jit
def runs_of(values):  # noqa: ANN001, ANN201
    """The first row of each run of equal `values`, then the number of rows."""
    starts = np.empty(values.size + 1, dtype=np.int64)
    count = 0
    for i in range(values.size):
        if i == 0 or values[i] != values[i - 1]:
            starts[count] = i
            count += 1
    starts[count] = values.size
    return starts[: count + 1]
