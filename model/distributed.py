"""Running work on a Dask cluster: a scheduler address, or a LocalCluster on this machine.

Replications and calibration evaluations carry their own seeds, so where they run does not
change a number: results are bit-identical to the local process pool.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Callable, Iterator
from typing import Any

from model.errors import InputError

_ADDRESS = re.compile(r"(?:tcp://)?(?P<host>[A-Za-z0-9.\-]+|\[[0-9A-Fa-f:]+\]):(?P<port>[0-9]{1,5})")


def parse_scheduler(text: str) -> str:
    """A scheduler address as tcp://host:port (the tcp:// may be left out); anything else
    (http://, no port, a path) is refused before any work starts."""
    found = _ADDRESS.fullmatch(text.strip())
    if not found or not 0 < int(found["port"]) < 65536:
        raise InputError("--scheduler", None, f"expected a Dask scheduler address as "
                         f"tcp://host:port, got {text!r}")
    return f"tcp://{found['host']}:{int(found['port'])}"


def check_scheduler(address: str, timeout: float = 5.0) -> None:
    """Reach the scheduler (TCP, then Dask's handshake) before anything is written."""
    host, port = address.removeprefix("tcp://").rsplit(":", 1)
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout):
            pass
    except OSError as exc:
        raise InputError("--scheduler", None, f"cannot reach {address} within {timeout:g} s "
                         f"({exc.strerror or type(exc).__name__}); is the scheduler running?") from None
    from dask.distributed import Client

    try:
        Client(address, timeout=timeout).close()
    except (OSError, TimeoutError, ValueError, MemoryError) as exc:
        raise InputError("--scheduler", None, f"{address} answered, but not as a Dask scheduler "
                         f"({type(exc).__name__})") from None


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
