"""Reading archives: through the index (an archive on disk) or front to back (a stream).

`Archive` opens a file, reads the header, the footer and the index, and from then on reads
only the blocks it is asked for (and, before an extraction, the entry frames of the entries
extracted): listing never touches the data. `read_stream` reads any archive from its first
byte to its last, which is how stdin is read and how `pyarc test` checks that the frames, the
index and the footer all agree.
"""

from __future__ import annotations

import io
import os
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, fields
from typing import IO, BinaryIO, NoReturn

from archiver.blocks import EncodedBlock, EntryBlocks, EntryData
from archiver.errors import FormatError, PyarcError
from archiver.format import (
    FOOTER_SIZE,
    FORMAT_MAJOR,
    HEADER_SIZE,
    MIN_BLOCK_HEADER,
    BlockRef,
    Entry,
    Index,
    Kind,
    ParsedFrame,
    ReplayableStream,
    build_entry_frame,
    check_index,
    entry_frame_size,
    parse_footer,
    parse_frame,
    parse_header,
)
from archiver.plugins import Registry
from archiver.plugins import registry as default_registry


@dataclass
class CodecUsage:
    blocks: int = 0
    raw_bytes: int = 0
    stored_bytes: int = 0


@dataclass
class ArchiveInfo:
    """What `pyarc info` reports, computed from the index alone."""

    format_version: str
    block_size: int
    archive_size: int
    entries: Counter[str] = field(default_factory=Counter)  # by kind
    blocks: int = 0
    raw_bytes: int = 0
    stored_bytes: int = 0
    codecs: dict[str, CodecUsage] = field(default_factory=dict)

    @property
    def ratio(self) -> float:
        """Archive size over data size (lower is better); 0 for an archive without data."""
        return self.archive_size / self.raw_bytes if self.raw_bytes else 0.0

    def as_dict(self) -> dict[str, object]:
        return dict(
            format_version=self.format_version, block_size=self.block_size,
            archive_size=self.archive_size, entries=dict(self.entries), blocks=self.blocks,
            raw_bytes=self.raw_bytes, stored_bytes=self.stored_bytes, ratio=self.ratio,
            codecs={name: vars(usage) for name, usage in sorted(self.codecs.items())},
        )


def summarize(index: Index, format_version: str, block_size: int,
              archive_size: int) -> ArchiveInfo:
    """Totals over an index: entries by kind, blocks and bytes by codec."""
    info = ArchiveInfo(format_version, block_size, archive_size)
    for entry, refs in zip(index.entries, index.blocks, strict=True):
        info.entries[entry.kind.name.lower()] += 1
        for ref in refs:
            usage = info.codecs.setdefault(ref.codec, CodecUsage())
            usage.blocks += 1
            usage.raw_bytes += ref.raw_size
            usage.stored_bytes += ref.stored_size
            info.blocks += 1
            info.raw_bytes += ref.raw_size
            info.stored_bytes += ref.stored_size
    return info


class _Reader:
    """What both readers share: the codecs, loaded only once a block is decoded (listing needs
    none, and loading every plugin takes longer than reading a large index)."""

    def __init__(self, registry: Registry | None) -> None:
        self._registry = registry

    @property
    def registry(self) -> Registry:
        if self._registry is None:
            self._registry = default_registry()
        return self._registry


#: The most bytes of adjacent entry frames read and compared in one piece.
_MAX_RUN = 1 << 20


class Archive(_Reader):
    """An archive file opened for listing and reading entries through its index."""

    def __init__(self, path: str | os.PathLike[str], registry: Registry | None = None) -> None:
        super().__init__(registry)
        self.path = os.fspath(path)
        self._file: BinaryIO = open(self.path, "rb")  # noqa: SIM115 (closed by close())
        try:
            self._load()
        except BaseException:
            self._file.close()
            raise

    def _load(self) -> None:
        file = self._file
        self.size = os.fstat(file.fileno()).st_size
        minor, self.block_size = parse_header(file)
        self.format_version = f"{FORMAT_MAJOR}.{minor}"
        if self.size < HEADER_SIZE + FOOTER_SIZE:
            raise FormatError("archive is truncated: too short to hold an index and a footer")
        file.seek(self.size - FOOTER_SIZE)
        index_offset, index_size = parse_footer(file.read(FOOTER_SIZE), self.size - FOOTER_SIZE)
        if index_offset < HEADER_SIZE or index_offset + index_size + FOOTER_SIZE != self.size:
            raise FormatError(
                f"footer at offset {self.size - FOOTER_SIZE}: it places the index at "
                f"{index_offset}+{index_size}, which does not end at the footer "
                f"(truncated archive or trailing data)"
            )
        file.seek(index_offset)
        index_bytes = io.BytesIO(file.read(index_size))
        frame = parse_frame(index_bytes, index_offset)
        if frame.index is None or index_bytes.tell() != index_size:
            raise FormatError(f"footer points at offset {index_offset}, which is not the index")
        check_index(frame.index, index_offset)
        self.index_offset = index_offset
        self.index: Index = frame.index
        self._positions = {entry.path: number for number, entry in enumerate(self.index.entries)}
        # Each block frame must end before the next one starts (check_index sorted them).
        offsets = [ref.offset for refs in self.index.blocks for ref in refs] + [index_offset]
        self._frame_limit = dict(zip(offsets, offsets[1:], strict=False))

    # -- listing ---------------------------------------------------------------------------

    @property
    def entries(self) -> list[Entry]:
        return self.index.entries

    def blocks_of(self, entry: Entry) -> list[BlockRef]:
        return self.index.blocks[self._position(entry)]

    def stored_size(self, entry: Entry) -> int:
        return sum(ref.stored_size for ref in self.blocks_of(entry))

    def info(self) -> ArchiveInfo:
        return summarize(self.index, self.format_version, self.block_size, self.size)

    def _position(self, entry: Entry | str) -> int:
        path = entry if isinstance(entry, str) else entry.path
        try:
            return self._positions[path]
        except KeyError:
            raise PyarcError(f"{path!r} is not in the archive") from None

    # -- reading ---------------------------------------------------------------------------

    def verify_entry_frames(self, entries: Iterable[Entry]) -> None:
        """Check that the entry frame of each of `entries` is intact and holds what the index
        says (FormatError or ChecksumError "frame at offset N of 'P': ..." otherwise).

        The index lists no entry frames, but frames are contiguous: an entry with blocks has its
        frame just before its first block, one without ends where the next entry's frame starts
        (or the index). Each frame must be, byte for byte, the one built from the index; frames
        side by side are read and compared in one piece, and only a frame that differs is parsed,
        to say what is wrong with it.
        """
        starts, floors = self._entry_frame_places()

        def check(run: list[tuple[int, bytes]]) -> None:
            """Compare a run of adjacent frames (entry number, expected bytes) with the archive,
            in one read."""
            if not run:
                return
            first = starts[run[0][0]]
            self._file.seek(first)
            found = self._file.read(sum(len(frame) for _, frame in run))
            if found == b"".join(frame for _, frame in run):
                return
            for number, frame in run:
                at = starts[number] - first
                if found[at:at + len(frame)] != frame:
                    self._refuse_entry_frame(number, starts[number])

        run: list[tuple[int, bytes]] = []
        run_start = run_end = 0
        for number in sorted({self._position(entry) for entry in entries}):
            entry, start = self.index.entries[number], starts[number]
            if start < floors[number]:
                raise FormatError(f"frame at offset {start} of {entry.path!r}: the index leaves "
                                  f"no room for this entry frame after the frame before it")
            if start != run_end or run_end - run_start >= _MAX_RUN:
                check(run)
                run, run_start = [], start
            expected = build_entry_frame(entry)
            run.append((number, expected))
            run_end = start + len(expected)
        check(run)

    def _entry_frame_places(self) -> tuple[list[int], list[int]]:
        """Where each entry frame starts by the index, and the offset it cannot start before
        (the end of the blocks before it, counted with the shortest block frame header)."""
        entries, blocks = self.index.entries, self.index.blocks
        starts = [0] * len(entries)
        next_start = self.index_offset
        for number in reversed(range(len(entries))):
            end = blocks[number][0].offset if blocks[number] else next_start
            next_start = starts[number] = end - entry_frame_size(entries[number])
        floors = [HEADER_SIZE] * len(entries)
        for number in range(1, len(entries)):
            before = blocks[number - 1]
            floors[number] = (before[-1].offset + MIN_BLOCK_HEADER + before[-1].stored_size
                              if before else floors[number - 1])
        return starts, floors

    def _refuse_entry_frame(self, number: int, start: int) -> NoReturn:
        """Say what is wrong with the entry frame at `start`, which is not the one the index
        describes: parsing it names the damage, or else the fields that differ."""
        entry = self.index.entries[number]
        what = f"frame at offset {start} of {entry.path!r}"
        self._file.seek(start)
        found = parse_frame(self._file, start, what).entry
        if found is None:
            raise FormatError(f"{what}: the index places an entry frame here, but it is "
                              f"another kind of frame")
        names = [each.name for each in fields(Entry)]
        differ = [name for name in names if getattr(found, name) != getattr(entry, name)]
        raise FormatError(f"{what}: the entry frame disagrees with the index "
                          f"({', '.join(differ)})")

    def encoded_blocks(self, entry: Entry | str) -> Iterator[EncodedBlock]:
        """The blocks of a file entry as stored, each frame checked against the index; their
        payloads are verified when they are decoded (or checked)."""
        position = self._position(entry)
        for ref in self.index.blocks[position]:
            where = f"block at offset {ref.offset} of {self.index.entries[position].path!r}"
            self._file.seek(ref.offset)
            frame = parse_frame(self._file, ref.offset)
            if frame.block is None:
                raise FormatError(f"{where}: the index points at a frame that is not a block")
            if BlockRef.at(ref.offset, frame.block) != ref:
                raise FormatError(f"{where}: the block frame disagrees with the index")
            if self._file.tell() > self._frame_limit[ref.offset]:
                raise FormatError(f"{where}: the block frame overlaps the next frame")
            yield EncodedBlock(frame.block, frame.payload, where)

    def iter_data(self, entry: Entry | str) -> Iterator[bytes]:
        """The data of a file entry, one verified block at a time."""
        for block in self.encoded_blocks(entry):
            yield block.decode(self.registry)

    def read(self, entry: Entry | str) -> bytes:
        """The whole data of a file entry, verified."""
        return b"".join(self.iter_data(entry))

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_archive(path: str | os.PathLike[str], registry: Registry | None = None) -> Archive:
    """Open an archive on disk for listing (`entries`, `info()`) and reading (`read`)."""
    return Archive(path, registry)


class StreamReader(_Reader):
    """Reads an archive front to back, verifying every frame, then the index and the footer
    against what it read. Works on pipes: it never seeks outside the frame being read.

    The header is read at once, so a stream that is no archive fails before anything else.
    """

    def __init__(self, stream: IO[bytes], registry: Registry | None = None) -> None:
        super().__init__(registry)
        self._stream: IO[bytes] | ReplayableStream = (
            stream if stream.seekable() else ReplayableStream(stream))
        self.seen = Index()
        minor, self.block_size = parse_header(self._stream)
        self.format_version = f"{FORMAT_MAJOR}.{minor}"

    @property
    def position(self) -> int:
        """Bytes read so far; after the last entry, the archive's size."""
        return self._stream.tell()

    def _next_frame(self) -> ParsedFrame:
        offset = self._stream.tell()
        frame = parse_frame(self._stream, offset)
        if isinstance(self._stream, ReplayableStream):
            self._stream.release()
        return frame

    def entries(self, decode: bool = True) -> Iterator[EntryData]:
        """Yield each entry with an iterator over its verified data blocks (with `decode`
        false, the payloads are only checked against their hashes and no data is yielded).

        Each data iterator must be finished (or abandoned) before asking for the next entry;
        whatever is left of it is then read and checked without being decoded.
        """
        for entry, blocks in self.encoded_entries():
            data = (block.decode(self.registry) for block in blocks) if decode else iter(())
            yield entry, data
            for block in blocks:  # what the consumer left, or all of it without decode
                block.check()

    def encoded_entries(self) -> Iterator[EntryBlocks]:
        """Yield each entry with an iterator over its blocks as stored (decode them with
        blocks.decode_entries, on several threads if wanted). The same rule as for entries()
        holds: finish or abandon each iterator before asking for the next entry."""
        while True:
            frame = self._next_frame()
            if frame.index is not None:
                self._finish(frame.offset, frame.index)
                return
            if frame.entry is None:
                raise FormatError(f"frame at offset {frame.offset}: a block frame without "
                                  f"an entry before it")
            entry = frame.entry
            refs: list[BlockRef] = []
            self.seen.entries.append(entry)
            self.seen.blocks.append(refs)
            blocks = self._blocks(entry, refs)
            yield entry, blocks
            for _ in blocks:  # whatever the consumer left is still read
                pass

    def _blocks(self, entry: Entry, refs: list[BlockRef]) -> Iterator[EncodedBlock]:
        remaining = entry.size if entry.kind == Kind.FILE else 0
        while remaining > 0:
            frame = self._next_frame()
            where = f"block at offset {frame.offset} of {entry.path!r}"
            if frame.block is None:
                raise FormatError(f"frame at offset {frame.offset}: {entry.path!r} still "
                                  f"lacks {remaining} bytes of data, but the frame is no block")
            header = frame.block
            if header.raw_size > remaining:
                raise FormatError(f"{where}: holds {header.raw_size} bytes, more than the "
                                  f"{remaining} left of the entry")
            remaining -= header.raw_size
            refs.append(BlockRef.at(frame.offset, header))
            yield EncodedBlock(header, frame.payload, where)

    def _finish(self, index_offset: int, index: Index) -> None:
        if index != self.seen:
            raise FormatError(f"index at offset {index_offset} does not match the entries "
                              f"and blocks of the archive")
        check_index(index, index_offset)
        index_end = self._stream.tell()
        footer_offset, footer_size = parse_footer(self._stream.read(FOOTER_SIZE), index_end)
        if (footer_offset, footer_size) != (index_offset, index_end - index_offset):
            raise FormatError(f"footer at offset {index_end} does not locate the index")
        if self._stream.read(1):
            raise FormatError(f"unexpected data after the footer at offset "
                              f"{index_end + FOOTER_SIZE}")


def read_stream(stream: IO[bytes], registry: Registry | None = None,
                decode: bool = True) -> Iterator[EntryData]:
    """Read an archive front to back; see StreamReader.entries."""
    return StreamReader(stream, registry).entries(decode)
