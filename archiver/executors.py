"""Where blocks are compressed and decoded: threads of this process (the default), worker
processes, or a Dask cluster, all through the `concurrent.futures.Executor` interface.

An executor is named by a spec (`--executor`, the API's `executor=`):

    threads[:N]        N threads here (default: one per core; `-j N` is the same)
    processes[:N]      N worker processes, for a codec that holds the GIL (a third-party one)
    dask[:N]           a local Dask cluster (`distributed.LocalCluster`) of N worker processes,
                       started and stopped by pyarc
    dask://HOST:PORT   an existing Dask scheduler (tcp://HOST:PORT too)

The API also takes any `concurrent.futures.Executor` (a `Client.get_executor()`, say); pyarc
then neither starts nor stops it.

What leaves this process is a block's bytes with its codec specs (a BlockEncoder pickles as
its specs, a Registry as "the worker's own", archiver/blocks.py and archiver/plugins.py): a
worker needs pyarc and the plugins the job uses installed, and a worker that lacks one fails
the job with an error naming the codec. The archive is byte-identical whatever the executor:
results are taken in order, and every codec is deterministic. A worker that dies has its tasks
run again: on another Dask worker (the scheduler's retries), or on a new process pool
(archiver/process_pool.py), up to TASK_RETRIES times a task.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from archiver.errors import UsageError

if TYPE_CHECKING:  # (imported when a pool starts: `pyarc list` needs none)
    from concurrent.futures import Executor

THREADS = "threads"
PROCESSES = "processes"
DASK = "dask"
#: Schemes of an existing scheduler's address.
SCHEDULER_SCHEMES = ("dask://", "tcp://")
T = TypeVar("T")
R = TypeVar("R")

#: Seconds to wait for a scheduler to answer, and the retries of a task whose worker died.
CONNECT_TIMEOUT = 30
TASK_RETRIES = 3


@dataclass(frozen=True)
class ExecutorSpec:
    """A parsed `--executor`: its kind, its worker count (0: one per core) and, for an
    existing Dask scheduler, its address (tcp://HOST:PORT)."""

    kind: str
    workers: int = 0
    address: str = ""


def parse_executor(text: str) -> ExecutorSpec:
    """`threads[:N]`, `processes[:N]`, `dask[:N]`, `dask://HOST:PORT` or `tcp://HOST:PORT`."""
    for scheme in SCHEDULER_SCHEMES:
        if text.startswith(scheme):
            if not text[len(scheme):]:
                raise UsageError(f"--executor {text!r}: give the scheduler's HOST:PORT")
            return ExecutorSpec(DASK, address="tcp://" + text[len(scheme):])
    kind, _, count = text.partition(":")
    if kind not in (THREADS, PROCESSES, DASK):
        raise UsageError(f"--executor {text!r}: expected threads[:N], processes[:N], "
                         f"dask[:N] or dask://HOST:PORT")
    if not count:
        return ExecutorSpec(kind)
    if not count.isdigit() or not 1 <= int(count) <= 1024:
        raise UsageError(f"--executor {text!r}: N must be a number of workers, 1..1024")
    return ExecutorSpec(kind, int(count))


@dataclass(frozen=True)
class Workers:
    """What the block pipeline runs on: `executor` (None: a thread pool of its own for each
    map, as threads have always been) with `count` tasks at once. Tasks given to an executor
    may leave this process: what they take and give must pickle."""

    count: int
    executor: Executor | None = None


def completed_map(function: Callable[[T], R], items: Iterable[tuple[int, T]],
                  workers: Workers) -> Iterator[tuple[int, R]]:
    """(key, function(item)) for each (key, item), on the workers' executor, as each finishes:
    at most 2 x their count in flight, so that a long task holds up no other (unlike
    blocks.ordered_map, whose order a writer needs)."""
    from concurrent.futures import FIRST_COMPLETED, wait

    if workers.executor is None:
        raise ValueError("completed_map needs an executor")
    window = 2 * max(workers.count, 1)
    running: dict[Any, int] = {}
    pending = iter(items)
    try:
        while True:
            for key, item in pending:
                running[workers.executor.submit(function, item)] = key
                if len(running) >= window:
                    break
            if not running:
                return
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                yield running.pop(future), future.result()
    finally:
        for future in running:
            future.cancel()


def check_workers(executor: str | Executor | None, jobs: int) -> None:
    """Refuse a bad `jobs` or `executor` before anything is started."""
    from archiver.blocks import worker_count

    worker_count(jobs)
    if isinstance(executor, str):
        parse_executor(executor)


@contextlib.contextmanager
def open_workers(executor: str | Executor | None, jobs: int) -> Iterator[Workers]:
    """The workers an `--executor` spec (or an Executor; None: `jobs` threads, 0 for one per
    core, which an executor overrides) names, started for the block of the `with` and stopped
    after it (not an Executor given: its owner stops it)."""
    from concurrent.futures import Executor

    from archiver.blocks import worker_count

    check_workers(executor, jobs)
    if executor is None:
        yield Workers(worker_count(jobs))
        return
    if isinstance(executor, Executor):
        yield Workers(_executor_workers(executor), executor)
        return
    spec = parse_executor(executor)
    if spec.kind == THREADS:
        yield Workers(worker_count(spec.workers))
    elif spec.kind == PROCESSES:
        from archiver.process_pool import RespawningPool

        count = spec.workers or worker_count(0)
        pool = RespawningPool(count, TASK_RETRIES)
        try:
            yield Workers(count, pool)
        except BaseException:  # an error, Ctrl-C, SIGTERM: stop the blocks being compressed
            pool.terminate()
            raise
        pool.shutdown()
    else:
        with _dask(spec) as (client, count):
            yield Workers(count, client.get_executor(retries=TASK_RETRIES, pure=False))


def _executor_workers(executor: Executor) -> int:
    """How many tasks an executor runs at once, as far as it says (else 2)."""
    client = getattr(executor, "_client", None)  # distributed's ClientExecutor
    if client is not None:
        return max(sum(client.nthreads().values()), 1)
    return max(getattr(executor, "_max_workers", 2) or 2, 1)


@contextlib.contextmanager
def _dask(spec: ExecutorSpec) -> Iterator[tuple[Any, int]]:
    """A Dask client, of a local cluster pyarc starts (and stops) or of an existing scheduler,
    and the number of worker threads it has."""
    import logging

    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise UsageError("--executor dask needs Dask distributed: pip install "
                         "'pyarc[dask]'") from None
    from archiver.blocks import available_cores

    with contextlib.ExitStack() as stack:
        if spec.address:
            try:
                client = stack.enter_context(Client(spec.address, timeout=CONNECT_TIMEOUT))
            except OSError as error:
                raise UsageError(f"--executor: no Dask scheduler answers at {spec.address}: "
                                 f"{error}") from None
        else:
            cluster = stack.enter_context(LocalCluster(
                n_workers=spec.workers or available_cores(), threads_per_worker=1,
                processes=True, dashboard_address=None, silence_logs=logging.ERROR))
            client = stack.enter_context(Client(cluster))
        count = sum(client.nthreads().values())
        if not count:
            raise UsageError(f"--executor: the Dask scheduler at {spec.address} has no "
                             f"workers")
        yield client, count
