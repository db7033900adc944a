"""Running work on a Dask cluster: a scheduler address, or a LocalCluster on this machine.

Replications and calibration evaluations carry their own seeds, so where they run does not
change a number: results are bit-identical to the local process pool.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any


def dask_client(scheduler: str | None, workers: int):
    """A client for `scheduler` (tcp://host:port), or for a new LocalCluster of processes."""
    from dask.distributed import Client, LocalCluster

    if scheduler:
        return Client(scheduler), None
    cluster = LocalCluster(n_workers=max(workers, 1), threads_per_worker=1, processes=True,
                           dashboard_address=None)
    return Client(cluster), cluster


def dask_map(func: Callable[[Any], Any], items: list[Any], scheduler: str | None,
             workers: int) -> Iterator[Any]:
    """Results of func over items as they complete on the cluster."""
    from dask.distributed import as_completed

    if not items:
        return
    client, cluster = dask_client(scheduler, workers)
    try:
        futures = client.map(func, items, pure=False)
        for future in as_completed(futures):
            yield future.result()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
