"""The compiler for the mechanisms' fused loops (numba), with one setting for all of them.

A mechanism's arithmetic over firms, which numpy runs as a dozen passes each writing a
temporary array, runs as one compiled pass over the firms; segment totals are accumulated in
the same pass, in row order, as ``np.bincount`` does. Random draws and transcendental
functions (exp, log, powers) stay in numpy, whose vectorised versions are faster than a
scalar loop calling them. The settings keep results exact and reproducible: no fastmath (no
reassociation or fused multiply-add, so a loop gives the bits of the numpy expression it
replaces), numpy's error model (x / 0 is inf, not an exception), and ``cache=True`` (compiled
once per installation, into ``__pycache__``). ``NUMBA_DISABLE_JIT=1`` runs the loops as plain
Python, for debugging.
"""

from __future__ import annotations

import numba

jit = numba.njit(cache=True, error_model="numpy", nogil=True)
#: a scalar rule over float64 arguments, usable both inside compiled loops and on arrays
vectorize = numba.vectorize(["float64(float64, float64, float64)"], cache=True)
