"""pyarc's data as Python file objects: an entry of an archive (`Archive.open`, as
`ZipFile.open` is).

`EntryReader` reads any range of an entry through the index: a content position maps to a
position in the data stream D (through the extents, for a sparse file), and that to the block
holding it, which the Archive decodes (verifying it whole) and keeps in its cache; a read
takes a slice of it. It keeps the block it reads from, so reading on, or seeking back inside
it, decodes nothing again.
"""

from __future__ import annotations

import bisect
import io
from typing import TYPE_CHECKING, Any

from archiver.blocks import DataBlock
from archiver.errors import UsageError
from archiver.format import Entry, Kind
from archiver.reader import ZEROS

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
