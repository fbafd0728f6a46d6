"""Writing archives (format 2): segments of a table and its blocks, then the index and the
footer.

The writer is given the entries in the order their *data* should take in the data stream D
(pack puts similar files side by side, archiver/grouping.py), each with its place in the
*archive* order (what the index lists, what the user sees). It fills blocks of at most
`block_size` bytes of D with the files' data, one after the other; a new block starts where a
file's kind group changes (so that each block is of one kind, and auto mode picks a codec for
it), and with `solid` false at every file. Before each block whose data some file begins in
comes a table listing those files; a file whose data is identical to an earlier one's
(`same_as`) gets no data of its own: its record points at the earlier range.

Blocks and tables are compressed on `jobs` threads by `ordered_map`, but written strictly in
order, so the archive's bytes do not depend on the number of threads. The writer only appends,
so it can write to a pipe; it counts the bytes it has written to know each frame's offset. It
holds at most 2 x jobs blocks in memory, and the entries (for the index).

One exception to appending: a *streamed* source (standard input) has a size nobody knows until
its data ends, yet its table comes before its first block. Its table is written stored (not
compressed), with the size a placeholder, so that its length does not depend on the size;
when the data has ended, the writer seeks back and writes the table again with the size read.
Only an output that can seek takes a streamed source (api.pack spools standard input to a
temporary file for a pipe).
"""

from __future__ import annotations

import functools
import itertools
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import IO

from archiver.blocks import BlockEncoder, ordered_map
from archiver.errors import PyarcError
from archiver.executors import Workers
from archiver.format import (
    MAX_ENTRIES,
    MAX_INDEX_SIZE,
    BlockHeader,
    BlockRef,
    Entry,
    build_footer,
    build_header,
)
from archiver.format2 import (
    FRAME_BLOCK,
    FRAME_INDEX,
    FRAME_TABLE,
    IndexRecords,
    Records,
    Segment,
    build_frame_head,
    build_index_body,
    build_table_body,
)


@dataclass
class Source:
    """An entry to write: `order` is its place in the archive order; `data` gives exactly
    `entry.data_size` bytes (in chunks of any size) for a file with data, nothing otherwise;
    `group` is its kind group; `same_as` the `order` of an earlier source with the same data,
    whose range it shares instead (then `data` is None)."""

    order: int
    entry: Entry
    data: Iterable[bytes] | None = None
    group: str = "data"
    same_as: int | None = None
    #: True for data whose size is known only at its end (standard input): `entry.size` is
    #: then ignored, and the entry stored gets the number of bytes `data` gave.
    streamed: bool = False


@dataclass
class WriteStats:
    entries: int = 0
    blocks: int = 0
    raw_bytes: int = 0  # the data of the files, counting identical ones each time
    archive_bytes: int = 0
    shared_bytes: int = 0  # what identical contents stored once saved
    #: What `pack` could not store as it was on disk (archiver/sources.py: Problems).
    problems: list[str] = field(default_factory=list)


@dataclass
class _Segment:
    """A task for a worker: a table (None for a block no file begins in) and a block of D
    (None for a table of copies only, after the last block)."""

    records: Records | None
    data: bytes | None
    data_offset: int
    group: str
    #: The table lists a streamed entry whose size is a placeholder: stored, patched at the end.
    patched: bool = False


#: The size a streamed entry has in its table until its data ends (any size would do: a table
#: row's length does not depend on it).
PLACEHOLDER_SIZE = 1


def _data(source: Source) -> Iterator[bytes]:
    """The source's data, checked to be exactly its entry's data size."""
    total = 0
    for chunk in source.data or ():
        total += len(chunk)
        if total > source.entry.data_size:
            raise PyarcError(f"{source.entry.path!r}: more data than its "
                             f"{source.entry.data_size} bytes")
        yield chunk
    if total != source.entry.data_size:
        raise PyarcError(f"{source.entry.path!r}: {total} bytes of data for "
                         f"{source.entry.data_size}")


def _segments(sources: Iterable[Source], block_size: int, solid: bool, stats: WriteStats,
              placed: list[tuple[int, Entry, int]],
              streamed: dict[int, Entry]) -> Iterator[_Segment]:
    """Cut the sources' data into blocks, and say which files begin in each. Every entry,
    with the start of its data in D (0 without data), is added to `placed` with its order;
    a streamed entry's placeholder (by its id) maps to the entry read in `streamed`."""
    buffer = bytearray()
    start = 0  # where the buffer begins in D
    records = Records()  # the files that begin in the buffer, and copies met meanwhile
    group = "data"
    ranges: dict[int, int] = {}  # order -> data_offset, for same_as
    patched = False  # the buffer's table lists a streamed entry's placeholder

    def cut(length: int) -> _Segment:
        nonlocal start, records, patched
        # A table lists its files in the order of their data; a copy met later comes after
        # the file it copies (a stable sort keeps that order).
        order = sorted(range(len(records.entries)), key=records.data_offsets.__getitem__)
        table = Records([records.entries[n] for n in order],
                        [records.data_offsets[n] for n in order])
        segment = _Segment(table if table.entries else None, bytes(buffer[:length]), start,
                           group, patched)
        del buffer[:length]
        start += length
        records = Records()
        patched = False
        return segment

    for source in sources:
        entry = source.entry
        stats.entries += 1
        if stats.entries > MAX_ENTRIES:  # known during the walk, not only at the index
            raise PyarcError(f"more than {MAX_ENTRIES:,} entries, the most one archive's index "
                             f"holds: pack the tree in parts")
        if source.same_as is not None:
            offset = ranges[source.same_as]
            records.entries.append(entry)
            records.data_offsets.append(offset)
            placed.append((source.order, entry, offset))
            stats.raw_bytes += entry.data_size
            stats.shared_bytes += entry.data_size
            continue
        chunks = iter(source.data or ()) if source.streamed else _data(source)
        first = next(chunks, b"") if source.streamed else b""
        if source.streamed:
            entry = replace(entry, size=PLACEHOLDER_SIZE if first else 0)
        if not entry.data_size:
            placed.append((source.order, entry, 0))
            continue
        if buffer and (not solid or source.group != group):
            yield cut(len(buffer))
        group = source.group
        offset = start + len(buffer)
        ranges[source.order] = offset
        records.entries.append(entry)
        records.data_offsets.append(offset)
        patched = patched or source.streamed
        size = 0
        for chunk in itertools.chain([first], chunks):
            size += len(chunk)
            buffer += chunk
            while len(buffer) >= block_size:
                yield cut(block_size)
        if source.streamed:
            streamed[id(entry)] = entry = replace(entry, size=size)
        placed.append((source.order, entry, offset))
        stats.raw_bytes += entry.data_size
    if buffer or records.entries:
        yield cut(len(buffer))


def write_archive(
    out: IO[bytes],
    sources: Iterable[Source],
    encoder: BlockEncoder,
    block_size: int,
    jobs: int | Workers = 1,
    on_block: Callable[[int], None] | None = None,
    on_entry: Callable[[Entry], None] | None = None,
    *,
    solid: bool = True,
    metadata: BlockEncoder | None = None,
    by_group: Callable[[str], BlockEncoder] | None = None,
) -> WriteStats:
    """Write a complete archive of `sources` (in the order of their data) to `out` with
    `jobs` threads; `on_block(raw_bytes)` reports progress, `on_entry(entry)` each entry as
    it is placed. A block is compressed by `by_group(its group)` when given (auto mode picks
    among the codecs suited to the block's kind), else by `encoder`. Tables and the index are
    compressed by `metadata` (by default `encoder`): pack gives an encoder of built-in codecs
    only, so that any pyarc can list the archive. A streamed source needs an `out` that can
    seek (see the module's docstring)."""
    metadata = metadata or encoder
    stored_only = BlockEncoder([metadata.store], metadata.store)
    stats = WriteStats()
    placed: list[tuple[int, Entry, int]] = []
    streamed: dict[int, Entry] = {}  # id of a placeholder entry -> the entry read
    patches: list[tuple[int, Records, int]] = []  # (out.tell(), table, frame length)
    index = IndexRecords()
    position = 0

    def emit(data: bytes) -> None:
        nonlocal position
        out.write(data)
        position += len(data)

    compress = functools.partial(_encode_segment,
                                 _Encoders(metadata, stored_only, encoder, by_group))

    def announced(segment_sources: Iterable[Source]) -> Iterator[Source]:
        for source in segment_sources:
            if on_entry is not None:
                on_entry(source.entry)
            yield source

    tasks = _segments(announced(sources), block_size, solid, stats, placed, streamed)
    emit(build_header(block_size))
    for segment, (table, block) in _with_results(tasks, compress, jobs):
        if table is not None:
            index.segments.append(Segment(position, 0))
            frame = build_frame_head(FRAME_TABLE, table[0]) + table[1]
            if segment.patched:
                patches.append((out.tell(), segment.records, len(frame)))
            emit(frame)
        if block is not None:
            header, payload = block
            if not index.segments:
                raise PyarcError("internal: a block before the first table")
            last = index.segments[-1]
            index.segments[-1] = Segment(last.offset, last.blocks + 1)
            index.blocks.append(BlockRef.at(position, header, segment.data_offset,
                                            segment.group))
            emit(build_frame_head(FRAME_BLOCK, header, segment.data_offset))
            emit(payload)
            stats.blocks += 1
            if on_block is not None:
                on_block(header.raw_size)
    for at, records, length in patches:
        _rewrite_table(out, at, length, records, streamed, stored_only)
    for _, entry, offset in sorted(placed, key=lambda item: item[0]):
        index.entries.append(entry)
        index.data_offsets.append(offset)
    index_offset = position
    body = build_index_body(index)
    if len(body) > MAX_INDEX_SIZE:
        raise PyarcError(f"the index of these {len(index.entries):,} entries takes "
                         f"{len(body) >> 20} MiB, more than the {MAX_INDEX_SIZE >> 20} MiB one "
                         f"archive's index may: pack the tree in parts")
    header, payload = metadata.encode(body)
    emit(build_frame_head(FRAME_INDEX, header))
    emit(payload)
    emit(build_footer(index_offset, position - index_offset))
    stats.archive_bytes = position
    return stats


@dataclass(frozen=True)
class _Encoders:
    """What a segment is compressed with (pickled, for workers in other processes)."""

    table: BlockEncoder
    patched_table: BlockEncoder  # stored: see the module's docstring
    block: BlockEncoder
    by_group: Callable[[str], BlockEncoder] | None


def _encode_segment(encoders: _Encoders, segment: _Segment
                    ) -> tuple[tuple[BlockHeader, bytes] | None, tuple[BlockHeader, bytes] | None]:
    """A segment's table and block, compressed (each None when the segment has none)."""
    table_encoder = encoders.patched_table if segment.patched else encoders.table
    table = (table_encoder.encode(build_table_body(segment.records))
             if segment.records is not None else None)
    coder = encoders.by_group(segment.group) if encoders.by_group is not None else encoders.block
    block = coder.encode(segment.data) if segment.data else None
    return table, block


def _rewrite_table(out: IO[bytes], at: int, length: int, records: Records,
                   streamed: dict[int, Entry], stored_only: BlockEncoder) -> None:
    """Write the table frame at `at` in `out` again with the sizes its streamed entries turned
    out to have, and come back: the same number of bytes, since the table is stored and a size
    takes the same width whatever its value."""
    table = Records([streamed.get(id(entry), entry) for entry in records.entries],
                    records.data_offsets)
    header, payload = stored_only.encode(build_table_body(table))
    frame = build_frame_head(FRAME_TABLE, header) + payload
    if len(frame) != length:
        raise PyarcError("internal: a streamed entry's table changed its length")
    end = out.tell()
    out.seek(at)
    out.write(frame)
    out.seek(end)


def _with_results(tasks: Iterator[_Segment], work: Callable, jobs: int | Workers
                  ) -> Iterator[tuple]:
    """(task, work(task)) for each task, computed on `jobs` threads (or Workers), in order.
    Only work(task) comes back from a worker: the task is this process's own object."""
    sent: deque[_Segment] = deque()

    def recorded() -> Iterator[_Segment]:
        for task in tasks:
            sent.append(task)
            yield task

    for result in ordered_map(work, recorded(), jobs):
        yield sent.popleft(), result
