"""A process pool that survives its workers: `--executor processes[:N]`.

When a worker process of a ProcessPoolExecutor dies (killed, out of memory, a codec that
crashes), the pool is *broken*: every task it held fails with BrokenProcessPool, and it takes
no more. RespawningPool then does what Dask's scheduler does for a lost worker: it starts a
new pool and runs each lost task again, up to `retries` times per task, so a pack goes on and
writes the same archive. A task that brings its worker down every time (a decoder that
crashes on one block, say) fails after its retries, with a PyarcError that says so.

Tasks are submitted in a fresh interpreter (`spawn`), never a fork of one that may be running
threads; they, their arguments and their results must pickle.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future, InvalidStateError, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import suppress
from typing import Any

from archiver.errors import PyarcError


class RespawningPool(Executor):
    """`count` worker processes; a task whose worker died runs again on a new pool."""

    def __init__(self, count: int, retries: int) -> None:
        self._max_workers = count  # (read by executors._executor_workers, as for any pool)
        self._retries = retries
        self._lock = threading.Lock()  # guards _pool and _closed
        self._closed = False
        self._pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(self._max_workers,
                                   mp_context=multiprocessing.get_context("spawn"))

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        task: Future = Future()
        self._run(task, fn, args, kwargs, self._retries)
        return task

    def _run(self, task: Future, fn: Callable[..., Any], args: tuple, kwargs: dict,
             retries: int) -> None:
        """Submit to the current pool; `task` gets the outcome of the last attempt."""
        with self._lock:
            if self._closed:
                raise RuntimeError("cannot schedule new futures after shutdown")
            pool = self._pool
            try:
                attempt = pool.submit(fn, *args, **kwargs)
            except BrokenProcessPool:  # broken since: a failed attempt, retried below
                attempt = Future()
                attempt.set_exception(BrokenProcessPool("the worker processes died"))

        def finished(attempt: Future) -> None:
            if attempt.cancelled():
                task.cancel()
                return
            error = attempt.exception()
            if isinstance(error, BrokenProcessPool) and retries > 0 and not self._closed:
                self._replace(pool)
                self._run(task, fn, args, kwargs, retries - 1)
                return
            if isinstance(error, BrokenProcessPool) and not self._closed:
                error = PyarcError(f"a worker process died on each of {self._retries + 1} "
                                   f"attempts at one task (out of memory? a codec that "
                                   f"crashes?)")
            with suppress(InvalidStateError):  # (the task was cancelled meanwhile)
                if error is not None:
                    task.set_exception(error)
                else:
                    task.set_result(attempt.result())

        # A task cancelled by its caller cancels its attempt, if that has not started.
        task.add_done_callback(lambda task: task.cancelled() and attempt.cancel())
        attempt.add_done_callback(finished)

    def _replace(self, broken: ProcessPoolExecutor) -> None:
        """A new pool in place of `broken`, once, however many of its tasks report it. (The
        broken pool has already stopped its processes; it is not shut down from here, its own
        manager thread, which is reporting the tasks.)"""
        with self._lock:
            if self._pool is broken and not self._closed:
                self._pool = self._new_pool()

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            self._closed = True
            pool = self._pool
        pool.shutdown(wait=wait, cancel_futures=cancel_futures)

    def terminate(self) -> None:
        """Stop the workers now, not after the tasks they are running (Python 3.14 has
        ProcessPoolExecutor.terminate_workers; before it, the pool's own processes)."""
        with self._lock:
            self._closed = True
            pool = self._pool
        terminate = getattr(pool, "terminate_workers", None)
        if terminate is not None:
            terminate()
            return
        for process in list(getattr(pool, "_processes", {}).values()):
            process.terminate()
        pool.shutdown(wait=True, cancel_futures=True)
