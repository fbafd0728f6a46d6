"""pyarc's data as Python file objects: an entry of an archive (`Archive.open`), and the one
file of a single-stream archive (`archiver.open`, as `lzma.open` and `gzip.open` are).

`EntryReader` reads any range of an entry through the index: a content position maps to a
position in the data stream D (through the extents, for a sparse file), and that to the block
holding it, which the Archive decodes (verifying it whole) and keeps in its cache; a read
takes a slice of it. It keeps the block it reads from, so reading on, or seeking back inside
it, decodes nothing again.

`archiver.open` reads front to back with a StreamReader, which needs no index, so that any
binary stream works, a pipe too; seeking back starts again from the stream's beginning, as
lzma's files do. Writing runs `pack` of standard input on a thread of its own, its standard
input a Pipe (archiver/pipe.py) that `write` feeds: the archive is the very one `pack(["-"],
...)` makes of the same bytes, and memory stays within a few blocks.
"""

from __future__ import annotations

import bisect
import builtins
import io
import os
import sys
import threading
from typing import IO, TYPE_CHECKING, Any, cast

from archiver.api import AUTO, pack
from archiver.blocks import DataBlock
from archiver.encryption import Password
from archiver.errors import UsageError
from archiver.format import Entry, Kind
from archiver.pipe import Pipe
from archiver.reader import ZEROS, StreamReader

if TYPE_CHECKING:
    from archiver.reader import Archive


class EntryReader(io.RawIOBase):
    """The content of a file entry of `archive` (a hard link: its file's), holes of a sparse
    file as zeros; `Archive.open` wraps it in an io.BufferedReader."""

    def __init__(self, archive: Archive, entry: Entry) -> None:
        super().__init__()
        if entry.kind == Kind.HARDLINK:
            entry = archive.entries[archive.number(entry.target)]
        if entry.kind != Kind.FILE:
            raise UsageError(f"{entry.path!r} is a {entry.kind.name.lower()}, not a file: only "
                             f"a file's content can be read")
        self.name = entry.path
        self._archive = archive
        self._size = entry.size
        # The content as extents (offset, length) of data, D[start + before[i]:] for extent i.
        self._extents = (entry.extents if entry.extents is not None
                         else ((0, entry.size),) if entry.size else ())
        self._offsets = [offset for offset, _ in self._extents]
        self._before = [0]
        for _, length in self._extents:
            self._before.append(self._before[-1] + length)
        self._start = archive.catalog.data_range(archive.number(entry))[0]
        self._position = 0
        self._block: DataBlock | None = None  # the block read last

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        self._checkClosed()
        with memoryview(buffer) as view:
            piece = self._piece(view.nbytes)
            view.cast("B")[:len(piece)] = piece
        self._position += len(piece)
        return len(piece)

    def readall(self) -> bytes:
        self._checkClosed()
        pieces = []
        while piece := self._piece(self._size):
            pieces.append(piece)
            self._position += len(piece)
        return b"".join(pieces)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        self._checkClosed()
        self._position = _sought(offset, whence, self._position, self._size)
        return self._position

    def tell(self) -> int:
        self._checkClosed()
        return self._position

    def _piece(self, most: int) -> memoryview:
        """Up to `most` bytes of the content from the position: zeros to the end of a hole,
        else bytes of the block that holds the position; empty at the end."""
        position = self._position
        end = min(self._size, position + most)
        if position >= end:
            return memoryview(b"")
        number = bisect.bisect_right(self._offsets, position) - 1
        if number < 0 or position >= self._offsets[number] + self._extents[number][1]:
            hole_end = (self._offsets[number + 1] if number + 1 < len(self._offsets)
                        else self._size)
            return memoryview(ZEROS)[:min(end, hole_end, position + len(ZEROS)) - position]
        offset, length = self._extents[number]
        at = self._start + self._before[number] + position - offset  # in D
        block = self._block_at(at)
        inside = at - block.data_offset
        take = min(end, offset + length) - position
        return memoryview(block.data)[inside:inside + take]

    def _block_at(self, at: int) -> DataBlock:
        """The decoded block that holds byte `at` of D."""
        block = self._block
        if block is None or not block.data_offset <= at < block.data_offset + len(block.data):
            ref = self._archive.catalog.blocks_in(at, at + 1)[0]
            block = self._block = self._archive.decoded_block(
                ref, f"block at offset {ref.offset} of {self.name!r}")
        return block


def _sought(offset: int, whence: int, position: int, size: int) -> int:
    """The position a seek asks for (ValueError if it is before the start), no further than
    the end (as the files of lzma, gzip and zipfile have it)."""
    if whence == io.SEEK_SET:
        target = offset
    elif whence == io.SEEK_CUR:
        target = position + offset
    elif whence == io.SEEK_END:
        target = size + offset
    else:
        raise ValueError(f"invalid whence ({whence}, should be 0, 1 or 2)")
    if target < 0:
        raise ValueError(f"negative seek position {target}")
    return min(target, size)


class SingleFileReader(io.RawIOBase):
    """The content of the one file of the archive in `file`, read front to back as its
    blocks are verified (StreamReader.single_file). It seeks when `file` does: on by reading
    on, back by reading again from where the archive begins. `own`: close `file` with it."""

    def __init__(self, file: IO[bytes], password: Password | None, own: bool) -> None:
        super().__init__()
        self._file, self._password, self._own = file, password, own
        self._origin = file.tell() if file.seekable() else 0
        self._begin()

    def _begin(self) -> None:
        self._pieces = StreamReader(self._file, password=self._password).single_file()
        self._piece = memoryview(b"")
        self._position = 0
        self._error: BaseException | None = None  # once reading failed: each read on, too

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return self._file.seekable()

    def readinto(self, buffer: Any) -> int:
        self._checkClosed()
        with memoryview(buffer) as view:
            piece = self._next(view.nbytes)
            view.cast("B")[:len(piece)] = piece
        return len(piece)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        self._checkClosed()
        if not self.seekable():
            raise io.UnsupportedOperation("seek: the archive's stream cannot seek")
        size = sys.maxsize  # not known, but reading on to a position stops at the end
        if whence == io.SEEK_END:
            self._read_on_to(size)
            size = self._position
        target = _sought(offset, whence, self._position, size)
        if target < self._position:
            self._pieces.close()
            self._file.seek(self._origin)
            self._begin()
        self._read_on_to(target)
        return self._position

    def tell(self) -> int:
        self._checkClosed()
        return self._position

    def close(self) -> None:
        if not self.closed:
            self._pieces.close()
            if self._own:
                self._file.close()
        super().close()

    def _next(self, most: int) -> memoryview:
        """Up to `most` bytes of the content from the position on (empty at its end)."""
        if self._error is not None:
            raise self._error
        while not self._piece:
            try:
                piece = next(self._pieces, None)
            except BaseException as error:  # (the reader is done for: not an end of file)
                self._error = error
                raise
            if piece is None:
                return self._piece
            self._piece = memoryview(piece)
        piece, self._piece = self._piece[:most], self._piece[most:]
        self._position += len(piece)
        return piece

    def _read_on_to(self, target: int) -> None:
        """Read on to position `target`, or to the end if that comes sooner."""
        while self._position < target and self._next(target - self._position):
            pass


class SingleFileWriter(io.BufferedIOBase):
    """What is written becomes the one file of an archive written to `out`, packed as
    `pack(["-"], out)` packs standard input (an unnamed entry, dated now) by a thread whose
    standard input is a Pipe that `write` feeds. `own`: close `out` with it. `settings` are
    pack's (codec, preset, block_size)."""

    def __init__(self, out: IO[bytes], own: bool, settings: dict[str, Any]) -> None:
        super().__init__()
        self._out, self._own = out, own
        self._pipe = Pipe()
        self._written = 0
        # The thread holds no reference to this object, so that one left unclosed is still
        # collected, and closed (which ends the archive) as any file is; but not at exit, when
        # pack can no longer start the threads it compresses on.
        pipe = self._pipe
        self._thread = threading.Thread(
            target=pipe.serve, name="pyarc-open", daemon=True,
            args=(lambda: pack(["-"], out, stdin=cast(IO[bytes], pipe), stdin_name=None,
                               **settings),))
        self._thread.start()
        try:
            self._pipe.write(b"")  # until pack reads its input, or fails (a bad setting)
            self._pipe.check()
        except BaseException:
            self._pipe.close()
            self._thread.join()
            if own:
                out.close()
            raise

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self._checkClosed()
        with memoryview(data) as view:
            self._pipe.write(view)
            size = view.nbytes
        self._pipe.check()
        self._written += size
        return size

    def tell(self) -> int:
        """The bytes written so far, as for lzma's and gzip's files."""
        self._checkClosed()
        return self._written

    def close(self) -> None:
        """End the data, and wait for the archive to be complete."""
        if self.closed:
            return
        try:
            self._pipe.close()
            self._thread.join()
            self._pipe.check()
        finally:
            if self._own:
                self._out.close()
            super().close()


#: The modes of `open`, each with the one `io.open` opens a path in.
_MODES = {"r": "rb", "rb": "rb", "rt": "rb", "w": "wb", "wb": "wb", "wt": "wb",
          "x": "xb", "xb": "xb", "xt": "xb"}


def open(file: str | bytes | os.PathLike[str] | os.PathLike[bytes] | IO[bytes],
         mode: str = "rb", *, codec: str | None = None, preset: int | None = None,
         block_size: int | None = None, encoding: str | None = None,
         errors: str | None = None, newline: str | None = None,
         password: Password | None = None) -> IO[Any]:
    """A single-stream archive as a file object, like `lzma.open`: `file` is a path or a
    binary file object; `mode` is "rb" (or "r") to read the content of an archive holding
    one file, "wb" ("w") or "xb" ("x", the file must not exist) to write one, and "rt",
    "wt", "xt" for text through io.TextIOWrapper with `encoding`, `errors` and `newline`.

    Reading goes front to back, block by verified block (an encrypted archive needs its
    `password`). Writing packs what is written as `pack(["-"], file, stdin_name=None)` packs
    standard input, with `codec`, `preset` and `block_size` as pack takes them; the archive
    is complete once the file object is closed.
    """
    if mode not in _MODES:
        raise ValueError(f"invalid mode: {mode!r}")
    if "t" not in mode and (encoding, errors, newline) != (None, None, None):
        raise ValueError("encoding, errors and newline go with a text mode only")
    reading = _MODES[mode] == "rb"
    if reading and (codec, preset, block_size) != (None, None, None):
        raise ValueError("codec, preset and block_size are for writing an archive")
    if not reading and password is not None:
        raise UsageError("archiver.open writes no encrypted archive: the size of its one file "
                         "is written in front of its data once the data has ended, which an "
                         "encrypted archive cannot take back; write a file and pack that")
    if isinstance(file, str | bytes | os.PathLike):
        stream, own = cast(IO[bytes], builtins.open(file, _MODES[mode])), True  # noqa: SIM115
    elif hasattr(file, "read" if reading else "write"):
        stream, own = file, False
    else:
        raise TypeError("file must be a path or a binary file object")
    binary: IO[bytes]
    if reading:
        try:
            binary = cast(IO[bytes], io.BufferedReader(SingleFileReader(stream, password, own)))
        except BaseException:
            if own:
                stream.close()
            raise
    else:
        settings = dict(codec=codec or AUTO, preset=preset, block_size=block_size)
        binary = cast(IO[bytes], SingleFileWriter(stream, own, settings))
    if "t" in mode:
        return io.TextIOWrapper(binary, io.text_encoding(encoding), errors, newline)
    return binary
