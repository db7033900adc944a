"""Worker processes with single-threaded BLAS.

numpy's OpenBLAS starts one thread per core in every process; with one worker per core the
threads fight over the cores (measured: a calibration run took 0.84 s with two workers
instead of 0.28 s alone). Each worker therefore limits BLAS to one thread when it starts, as
Dask's nanny does for its workers.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any


def single_threaded_blas() -> None:
    """A worker's start: one BLAS thread, Ctrl-C left to the main process (which stops the
    workers itself, with one message instead of a traceback from each), and on Linux the
    worker ends when the main process dies, however it dies."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _end_with_parent()


def _end_with_parent() -> None:
    """prctl(PR_SET_PDEATHSIG, SIGTERM): the kernel ends this worker when its parent exits."""
    if sys.platform != "linux":
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() == 1:           # the parent died before prctl took effect
        os._exit(1)


def stop_workers(pool: ProcessPoolExecutor) -> None:
    """Cancel what is queued and end the running workers now (shutdown alone would wait for
    their tasks, which may take minutes)."""
    processes = list((getattr(pool, "_processes", None) or {}).values())  # shutdown forgets them
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join(timeout=5)


def fork_pool(workers: int) -> Any:
    """A multiprocessing fork pool (workers see the parent's module state at the fork)."""
    return multiprocessing.get_context("fork").Pool(workers, initializer=single_threaded_blas)


def process_executor(workers: int) -> ProcessPoolExecutor:
    """A pool of forked workers. Forked explicitly: importing mesa sets the global start method
    to spawn (mesa.batchrunner does, at import), and spawned workers import everything again
    (about a second each) before their first task."""
    return ProcessPoolExecutor(max_workers=workers, initializer=single_threaded_blas,
                               mp_context=multiprocessing.get_context("fork"))


def completed(func: Callable[[Any], Any], tasks: list[Any], workers: int = 1,
              executor: str = "processes", scheduler: str | None = None) -> Iterator[Any]:
    """func over tasks, each result as it finishes: in this process (one worker), on a process
    pool, or on Dask (the scheduler at `scheduler`, or a LocalCluster of `workers`). On an
    error the pool's queued tasks are cancelled, so it fails at once."""
    if executor == "dask":
        from model.distributed import dask_map

        yield from dask_map(func, tasks, scheduler, workers)
    elif workers <= 1:
        yield from (func(t) for t in tasks)
    else:
        with process_executor(workers) as pool:
            futures = [pool.submit(func, t) for t in tasks]
            try:
                for fut in as_completed(futures):
                    yield fut.result()
            except BaseException:
                stop_workers(pool)
                raise
