"""One runner for many independent tasks: in this process, on a local process pool, or on Dask.

:func:`run_tasks` calls ``fn(item, *args)`` for every item and yields one :class:`Outcome` per
item, as the tasks complete or in input order (``ordered=True``):

* ``workers <= 1`` and no executor: in this process, one after the other;
* ``workers > 1``: on a local ``ProcessPoolExecutor`` (``spawn``; OpenCV on one thread in each
  worker, :func:`single_thread_worker`), at most ``in_flight`` tasks submitted at a time. When a
  worker process dies (a crash, or the kernel's out-of-memory killer), the pool breaks: it is
  made again, the tasks that were in flight are run again one at a time, and one that kills its
  worker alone twice (:data:`SOLO_TRIES`) is reported with :data:`WORKER_DIED`; the others go on;
* ``executor``: any ``concurrent.futures.Executor``, e.g. a Dask client's
  (:func:`dask_executor`), which replaces its own dead workers and retries their tasks.

A task that raises gives an outcome with the error (``"TypeName: message"``) and the exception,
so one bad item does not stop a long batch; what to make of it is the caller's choice.

Nothing here imports Dask at module level: :func:`dask_executor` imports ``distributed`` only
when it is called.
"""

from __future__ import annotations

import logging
import multiprocessing
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from typing import Any

from ecgkit.errors import EcgkitError

__all__ = ["WORKER_DIED", "Outcome", "dask_executor", "run_tasks", "single_thread_worker"]

WORKER_DIED = (
    "the worker process died while making this image (a crash or out of memory); "
    "it was tried again alone and died again"
)

#: Times a task is run alone after a pool broke before it is reported with WORKER_DIED.
SOLO_TRIES = 2

_Indexed = tuple[int, Any]


@dataclass(frozen=True)
class Outcome:
    """What became of one item.

    Attributes
    ----------
    index : int
        The item's position in the input.
    item : object
        The item.
    value : object
        What ``fn`` returned (None where it failed).
    error : str
        Empty on success; :data:`WORKER_DIED`, or ``"TypeName: message"`` of what ``fn`` raised.
    exception : BaseException or None
        What ``fn`` raised, for callers that re-raise it (None for a dead worker).
    """

    index: int
    item: Any
    value: Any = None
    error: str = ""
    exception: BaseException | None = field(default=None, compare=False)

    @property
    def ok(self) -> bool:
        """Whether ``fn`` returned."""
        return not self.error


def single_thread_worker() -> None:
    """Make a worker process run OpenCV on one thread (the parallelism is across tasks)."""
    import cv2

    cv2.setNumThreads(1)


def run_tasks(
    fn: Callable[..., Any],
    items: Iterable[Any],
    *,
    args: Sequence[Any] = (),
    workers: int = 1,
    executor: Executor | None = None,
    ordered: bool = False,
    in_flight: int | None = None,
) -> Generator[Outcome, None, None]:
    """Run ``fn(item, *args)`` for every item; yield an :class:`Outcome` for each.

    Parameters
    ----------
    fn : callable
        The task; with processes it and its arguments must pickle (a module-level function).
    items : iterable
        One task per item.
    args : sequence
        Further arguments of every call (sent with every task).
    workers : int
        Processes of the local pool (1: this process); with ``executor``, its worker threads.
    executor : concurrent.futures.Executor, optional
        Run on this executor (e.g. a Dask client's) instead of a local pool.
    ordered : bool
        Yield in input order (results that complete early wait); otherwise as they complete.
    in_flight : int, optional
        Tasks submitted at a time (default 4 per worker).

    Returns
    -------
    generator of Outcome
        Exactly one per item. Close it (``contextlib.closing``) to stop early: the local pool is
        shut down and the tasks not started are cancelled.
    """
    if workers < 1:
        raise EcgkitError(f"--workers must be >= 1, got {workers}")
    limit = in_flight if in_flight is not None else 4 * max(workers, 1)
    if limit < 1:
        raise EcgkitError(f"in_flight must be >= 1, got {limit}")
    indexed = list(enumerate(items))
    stream = _stream(fn, indexed, tuple(args), workers, executor, limit)
    return _in_order(stream) if ordered else stream


def _call(fn: Callable[..., Any], index: int, item: Any, args: tuple) -> Outcome:
    try:
        return Outcome(index, item, fn(item, *args))
    except Exception as exc:  # noqa: BLE001 - one task's crash must not stop the batch
        return _failed(index, item, exc)


def _failed(index: int, item: Any, exc: BaseException) -> Outcome:
    return Outcome(index, item, error=f"{type(exc).__name__}: {exc}", exception=exc)


def _stream(
    fn: Callable[..., Any],
    indexed: list[_Indexed],
    args: tuple,
    workers: int,
    executor: Executor | None,
    limit: int,
) -> Generator[Outcome, None, None]:
    """Outcomes as the tasks complete."""
    if executor is None and workers <= 1:
        for index, item in indexed:
            yield _call(fn, index, item, args)
        return
    if executor is not None:  # it replaces its own dead workers
        yield from _drain(executor, fn, args, deque(indexed), limit, [])
        return
    todo: deque[_Indexed] = deque(indexed)
    suspects: deque[_Indexed] = deque()
    # deaths alone per task: a task lost with a pool that another task broke may meet its own
    # (one-off) death on its first solo try, so a task is given up only when it died alone twice
    solo_deaths: dict[int, int] = {}
    ctx = multiprocessing.get_context("spawn")
    while todo or suspects:
        pool = ProcessPoolExecutor(
            max_workers=workers, mp_context=ctx, initializer=single_thread_worker
        )
        try:
            lost: list[_Indexed] = []
            while suspects and not lost:
                yield from _drain(pool, fn, args, deque([suspects.popleft()]), 1, lost)
            if lost:  # it died alone
                index, item = lost[0]
                solo_deaths[index] = solo_deaths.get(index, 0) + 1
                if solo_deaths[index] >= SOLO_TRIES:  # this task kills its worker
                    yield Outcome(index, item, error=WORKER_DIED)
                else:
                    suspects.appendleft(lost[0])
                continue
            yield from _drain(pool, fn, args, todo, limit, lost)
            suspects.extend(lost)
        finally:
            pool.shutdown(cancel_futures=True)


def _drain(
    executor: Executor,
    fn: Callable[..., Any],
    args: tuple,
    todo: deque[_Indexed],
    limit: int,
    lost: list[_Indexed],
) -> Iterator[Outcome]:
    """Run the tasks of ``todo`` with at most ``limit`` in flight; yield outcomes as they come.

    When a process pool breaks (a worker died), the tasks it had in flight go to ``lost`` and
    the generator returns; the tasks not yet submitted stay in ``todo``. Any other exception of
    a task (e.g. Dask's ``KilledWorker`` after its retries) becomes a failed outcome.
    """
    pending: dict[Future, _Indexed] = {}
    broken = False
    while (todo and not broken) or pending:
        while todo and not broken and len(pending) < limit:
            index, item = todo.popleft()
            try:
                pending[executor.submit(fn, item, *args)] = (index, item)
            except BrokenProcessPool:
                todo.appendleft((index, item))
                broken = True
        if not pending:
            break
        done, _ = wait(pending, return_when=FIRST_COMPLETED)
        for fut in done:
            index, item = pending.pop(fut)
            try:
                value = fut.result()
            except BrokenProcessPool:
                lost.append((index, item))
                broken = True
            except Exception as exc:  # noqa: BLE001 - a task's crash must not stop the batch
                yield _failed(index, item, exc)
            else:
                yield Outcome(index, item, value)


def _in_order(stream: Generator[Outcome, None, None]) -> Generator[Outcome, None, None]:
    """The outcomes of ``stream`` in input order."""
    waiting: dict[int, Outcome] = {}
    nxt = 0
    with closing(stream):
        for outcome in stream:
            waiting[outcome.index] = outcome
            while nxt in waiting:
                yield waiting.pop(nxt)
                nxt += 1


@contextmanager
def dask_executor(address: str) -> Iterator[tuple[Executor, int]]:
    """A Dask cluster's ``concurrent.futures`` executor and its number of worker threads.

    Parameters
    ----------
    address : str
        ``tcp://host:port`` (or any address ``distributed.Client`` takes) of a running
        scheduler, or ``local:N`` to start a ``LocalCluster`` of N single-threaded worker
        processes on this machine for the run.

    Yields
    ------
    tuple
        ``(executor, threads)``; the executor retries a task whose worker died on another one.
    """
    try:
        from distributed import Client, LocalCluster, WorkerPlugin
    except ImportError:  # pragma: no cover - a dependency, but keep the message friendly
        raise EcgkitError(
            "--scheduler needs dask.distributed: pip install 'dask[distributed]'"
        ) from None

    class SingleThread(WorkerPlugin):
        """OpenCV on one thread in every worker, also in restarted ones."""

        def setup(self, worker: Any) -> None:
            single_thread_worker()

    cluster = None
    try:
        if address.startswith("local:"):
            try:
                n = int(address[len("local:") :])
            except ValueError:
                n = 0
            if n < 1:
                raise EcgkitError(f"--scheduler {address!r}: give local:N with N >= 1 workers")
            cluster = LocalCluster(
                n_workers=n,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=logging.ERROR,
            )
            client = Client(cluster)
        else:
            try:
                client = Client(address, timeout=20)
            except (OSError, TimeoutError, ValueError) as exc:
                raise EcgkitError(
                    f"--scheduler {address}: cannot reach the Dask scheduler "
                    f"({type(exc).__name__}: {exc})"
                ) from None
        try:
            client.register_plugin(SingleThread(), name="ecgkit-single-thread")
            threads = sum(client.nthreads().values()) or 1
            yield client.get_executor(pure=False, retries=1), threads
        finally:
            client.close()
    finally:
        if cluster is not None:
            cluster.close()
