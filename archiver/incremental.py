"""Compressing and decompressing a piece at a time, as zlib's and lzma's compressor and
decompressor objects do.

A Compressor gives the archive `compress` makes of everything it was given, byte for byte,
but all of it at `flush`: the table in front of an entry's blocks holds the entry's size,
which is known only once the data has ended, and a Compressor's output cannot be taken back
to patch it (as `pack` patches a file, spooling standard input instead when the archive goes
to a pipe). So the Compressor spools what it is given, in memory up to a block and in a
temporary file beyond, and compresses it at `flush`, reading the spool a block at a time.

A Decompressor runs a StreamReader on a thread of its own, which reads the pieces given to
`decompress` from a Pipe (archiver/pipe.py); a call returns once the reader has used all the
bytes given, with the data of every block that they complete, verified. Nothing is read
ahead: the reader takes a frame at a time, so after the footer what is left is exactly the
bytes that follow the archive.
"""

from __future__ import annotations

import io
import tempfile
import threading
import weakref
from typing import IO, Any, cast

from archiver.api import AUTO, check_block_size, compress_file, make_encoder
from archiver.format import DEFAULT_BLOCK_SIZE
from archiver.pipe import Pipe
from archiver.reader import StreamReader


class Compressor:
    """Compresses data given in pieces into one archive of one unnamed entry: the same
    bytes as `compress(data, codec, preset=..., block_size=...)` of the pieces joined,
    all of them returned by `flush` (see the module's docstring for why)."""

    def __init__(self, codec: str = AUTO, *, preset: int | None = None,
                 block_size: int = DEFAULT_BLOCK_SIZE) -> None:
        make_encoder(codec, preset=preset)  # a bad setting fails now, not after the data
        check_block_size(block_size)
        self._settings: dict[str, Any] = dict(codec=codec, preset=preset,
                                              block_size=block_size)
        self._spool = tempfile.SpooledTemporaryFile(max_size=block_size,  # noqa: SIM115
                                                    prefix="pyarc-compressor-")
        self._flushed = False

    def compress(self, data: bytes | bytearray | memoryview) -> bytes:
        """Take `data`; returns b"" (the archive comes whole from `flush`)."""
        if self._flushed:
            raise ValueError("the compressor has been flushed")
        self._spool.write(data)
        return b""

    def flush(self) -> bytes:
        """The archive, complete: the compressor takes nothing more."""
        if self._flushed:
            raise ValueError("repeated call to flush()")
        self._flushed = True
        out = io.BytesIO()
        with self._spool:
            self._spool.seek(0)
            compress_file(cast(IO[bytes], self._spool), out, **self._settings)
        return out.getvalue()


class Decompressor:
    """Decompresses an archive of one file given in pieces of any size: `decompress`
    returns the data of the blocks each piece completes, verified (FormatError for a
    damaged archive, UsageError for one that holds anything but one file). Once the footer
    has been read, `eof` is true and the bytes given after it are `unused_data`."""

    def __init__(self) -> None:
        self._pipe = Pipe()
        self._output: list[bytes] = []
        self._started = False

    def decompress(self, data: bytes | bytearray | memoryview) -> bytes:
        if self._pipe.finished:
            raise EOFError("already at the end of the archive")
        if not self._started:
            # The thread holds no reference to this object: a decompressor dropped half way
            # closes its pipe, and the reader ends (on a truncated archive).
            pipe, pieces = self._pipe, self._output
            threading.Thread(target=pipe.serve, args=(lambda: _decompress(pipe, pieces),),
                             name="pyarc-decompressor", daemon=True).start()
            weakref.finalize(self, self._pipe.close)
            self._started = True
        self._pipe.write(data)
        self._pipe.check()
        output = b"".join(self._output)
        self._output.clear()
        return output

    @property
    def eof(self) -> bool:
        """True once the archive's footer has been read and checked."""
        return self._pipe.finished

    @property
    def unused_data(self) -> bytes:
        """The bytes given after the end of the archive."""
        return self._pipe.rest() if self._pipe.finished else b""


def _decompress(pipe: Pipe, output: list[bytes]) -> None:
    """A Decompressor's thread: the content of the archive read from `pipe`, into
    `output`, each block's share as soon as the block is verified."""
    reader = StreamReader(cast(IO[bytes], pipe), stop_at_footer=True)
    for piece in reader.single_file(jobs=None):
        output.append(bytes(piece))
