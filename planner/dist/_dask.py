"""The thin Dask layer: a client on a local or remote cluster, and cells as tasks.

This is the only module that imports Dask (the optional ``dist`` extra). Each cell
is one task running :func:`planner.dist._task.run_cell`; the scheduler moves a task
whose worker dies to another worker (``distributed.scheduler.allowed-failures``
times), and since a plan depends only on its scenario, seed and work budget, the
retried cell writes the same files.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from planner._errors import PlannerError
from planner.dist._task import CellResult, CellTask, run_cell

LOOPBACK_ANY_PORT = "127.0.0.1:0"  # the scheduler's HTTP server: loopback, any free port

INSTALL_HINT = (
    "Dask is not installed: pip install 'steppe-planner[dist]' "
    "(or use --workers 0 to plan the cells here, one at a time)"
)


def _distributed() -> Any:
    try:
        import distributed
    except ImportError:
        raise PlannerError(INSTALL_HINT) from None
    return distributed


@contextmanager
def dask_client(workers: int | None = None, scheduler: str | None = None) -> Iterator[Any]:
    """A ``distributed.Client``: on ``scheduler`` (``tcp://HOST:8786``) if given, else
    on a new ``LocalCluster`` of ``workers`` processes (default: one per core), one
    thread each, listening on 127.0.0.1 only (the scheduler's HTTP server on a free
    port). Both are closed on exit.

    Workers must see the same files as the client: every path in a task is absolute.
    """
    dist = _distributed()
    if scheduler:
        client = dist.Client(scheduler, set_as_default=False)
        try:
            yield client
        finally:
            client.close()
        return
    n = workers or os.cpu_count() or 1
    cluster = dist.LocalCluster(
        n_workers=n,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        # Its HTTP server (metrics, health) on a free loopback port: with None it
        # still takes 8787, and a second sweep or test run on the machine collides.
        dashboard_address=LOOPBACK_ANY_PORT,
    )
    try:
        client = dist.Client(cluster, set_as_default=False)
        try:
            yield client
        finally:
            client.close()
    finally:
        cluster.close()


def _warm_up() -> int:
    """Import the planner on a worker before the first task (a worker's first import
    takes a second or two that would otherwise count against one cell)."""
    import planner.app.pipeline  # noqa: F401

    return os.getpid()


def run_tasks(
    client: Any,
    tasks: Sequence[CellTask],
    on_result: Callable[[CellResult], None] | None = None,
) -> list[CellResult]:
    """Run every task on ``client``'s cluster; results in ``tasks`` order.

    ``on_result`` is called on the client as each cell finishes (for the progress
    display). A task that raised, or whose workers kept dying, becomes a ``failed``
    result naming the error; the other cells go on.
    """
    dist = _distributed()
    if not tasks:
        return []
    client.run(_warm_up)
    token = uuid.uuid4().hex[:8]
    keys = [f"plan-{t.cell}-{token}" for t in tasks]
    futures = client.map(run_cell, list(tasks), key=keys, pure=False)
    cell_of = {f.key: t.cell for f, t in zip(futures, tasks, strict=True)}
    done: dict[str, CellResult] = {}
    for fut in dist.as_completed(futures, loop=client.loop):
        if fut.status == "finished":
            res: CellResult = fut.result()
        else:
            exc = fut.exception()
            res = CellResult(cell_of[fut.key], "failed", message=f"{type(exc).__name__}: {exc}")
        done[res.cell] = res
        if on_result is not None:
            on_result(res)
        fut.release()
    return [done[t.cell] for t in tasks]
