"""Worker processes with single-threaded BLAS.

numpy's OpenBLAS starts one thread per core in every process; with one worker per core the
threads fight over the cores (measured: a calibration run took 0.84 s with two workers
instead of 0.28 s alone). Each worker therefore limits BLAS to one thread when it starts, as
Dask's nanny does for its workers.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from typing import Any


def single_threaded_blas() -> None:
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)


def fork_pool(workers: int) -> Any:
    """A multiprocessing fork pool (workers see the parent's module state at the fork)."""
    return multiprocessing.get_context("fork").Pool(workers, initializer=single_threaded_blas)


def process_executor(workers: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(max_workers=workers, initializer=single_threaded_blas)
