"""A pipe between two threads: bytes one thread writes, another reads as a stream.

pyarc's writer and stream reader pull their input (`pack` reads standard input, a
StreamReader reads an archive), while archiver.open's writing and the Decompressor are given
theirs a piece at a time. Each runs the writer or the reader on a thread of its own, reading
from a Pipe that the caller's pieces are written to. A write returns once the reader has
taken what it asked for and waits for more than is left (or has stopped): so the pipe holds
less than one read of the reader's plus one write, and when a write returns, the reader has
done everything that the bytes written so far allow.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable


class Pipe:
    """What `write` gives, `read` takes, in order; `close` ends the data (the reader then
    gets what is left, and then b""), `stop` says that the reader reads no more, and why."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._buffer = bytearray()
        self._wanted = 0  # while the reader waits: the bytes it waits for
        self._closed = False
        self._stopped = False
        self._error: BaseException | None = None  # what stopped the reader, if it failed

    # -- the writer's end ------------------------------------------------------------------

    def write(self, data: bytes | bytearray | memoryview) -> None:
        """Add `data` (copied), and wait until the reader wants more than the pipe holds, or
        has stopped."""
        with self._condition:
            if not self._stopped:
                self._buffer += data
            if len(self._buffer) >= self._wanted > 0:  # else the reader waits on
                self._condition.notify_all()
            self._condition.wait_for(self._idle)

    def _idle(self) -> bool:
        return self._stopped or self._wanted > len(self._buffer)

    def close(self) -> None:
        with self._condition:
            self._closed = True
            self._condition.notify_all()

    @property
    def finished(self) -> bool:
        """True once the reader has stopped without an error."""
        return self._stopped and self._error is None

    def check(self) -> None:
        """Raise the error the reader stopped with, if any."""
        if self._error is not None:
            raise self._error

    def rest(self) -> bytes:
        """What the reader left when it stopped."""
        with self._condition:
            return bytes(self._buffer)

    # -- the reader's end ------------------------------------------------------------------

    def read(self, count: int = -1) -> bytes:
        """`count` bytes (all of them to the end, if negative): fewer only at the end."""
        wanted = sys.maxsize if count < 0 else count
        with self._condition:
            while len(self._buffer) < wanted and not self._closed:
                self._wanted = wanted
                self._condition.notify_all()
                self._condition.wait()
            self._wanted = 0
            with memoryview(self._buffer) as view:
                data = bytes(view[:wanted])
            del self._buffer[:wanted]
            return data

    def seekable(self) -> bool:
        return False

    def serve(self, reader: Callable[[], object]) -> None:
        """Run `reader`, which reads from this pipe (a thread's target), and stop the pipe
        when it returns, or with its error, for the writing thread to raise."""
        try:
            reader()
        except BaseException as error:
            self.stop(error)
        else:
            self.stop()

    def stop(self, error: BaseException | None = None) -> None:
        """The reader reads no more: it has done its work, or failed with `error`."""
        with self._condition:
            self._stopped, self._error = True, error
            self._condition.notify_all()
