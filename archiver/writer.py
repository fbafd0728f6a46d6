"""Writing archives: entry and block frames in order, then the index and the footer.

Blocks are compressed on `jobs` threads by `ordered_map`, but written strictly in input order,
so the archive's bytes do not depend on the number of threads. The writer only appends, so it
can write to a pipe; it counts the bytes it has written to know each block's offset.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO

from archiver.blocks import BlockEncoder, ordered_map
from archiver.errors import PyarcError
from archiver.format import (
    BlockHeader,
    BlockRef,
    Entry,
    Index,
    Kind,
    build_block_head,
    build_entry_frame,
    build_footer,
    build_header,
    build_index_frame,
)

#: An entry and, for a file, an iterable of its data in chunks of exactly the block size
#: (the last may be shorter).
Source = tuple[Entry, Iterable[bytes] | None]


@dataclass
class WriteStats:
    entries: int = 0
    blocks: int = 0
    raw_bytes: int = 0
    archive_bytes: int = 0
    #: What `pack` could not store as it was on disk (archiver/sources.py: Problems).
    problems: list[str] = field(default_factory=list)


def _tasks(sources: Iterable[Source]) -> Iterator[Entry | bytes]:
    """Flatten the sources into entries, each followed by its data blocks. A source must give
    exactly its entry's size (archiver/sources.py pads or cuts a file that changed)."""
    for entry, data in sources:
        yield entry
        if entry.kind != Kind.FILE:
            continue
        total = 0
        for block in data or ():
            total += len(block)
            if total > entry.size:
                raise PyarcError(f"{entry.path!r}: more data than its {entry.size} bytes")
            yield block
        if total != entry.size:
            raise PyarcError(f"{entry.path!r}: {total} bytes of data for {entry.size}")


def write_archive(
    out: IO[bytes],
    sources: Iterable[Source],
    encoder: BlockEncoder,
    block_size: int,
    jobs: int = 1,
    on_block: Callable[[int], None] | None = None,
    on_entry: Callable[[Entry], None] | None = None,
) -> WriteStats:
    """Write a complete archive of `sources` to `out` with `jobs` threads; `on_block(raw_bytes)`
    reports progress, `on_entry(entry)` each entry as its frame is written."""
    stats = WriteStats()
    index = Index()
    position = 0

    def emit(data: bytes) -> None:
        nonlocal position
        out.write(data)
        position += len(data)

    def compress(task: Entry | bytes) -> Entry | tuple[BlockHeader, bytes]:
        return task if isinstance(task, Entry) else encoder.encode(task)

    def is_block(task: Entry | bytes) -> bool:  # entries only pass through
        return not isinstance(task, Entry)

    emit(build_header(block_size))
    for result in ordered_map(compress, _tasks(sources), jobs, heavy=is_block):
        if isinstance(result, Entry):
            index.entries.append(result)
            index.blocks.append([])
            stats.entries += 1
            emit(build_entry_frame(result))
            if on_entry is not None:
                on_entry(result)
            continue
        header, payload = result
        index.blocks[-1].append(BlockRef.at(position, header))
        emit(build_block_head(header))
        emit(payload)
        stats.blocks += 1
        stats.raw_bytes += header.raw_size
        if on_block is not None:
            on_block(header.raw_size)
    index_offset = position
    emit(build_index_frame(index))
    emit(build_footer(index_offset, position - index_offset))
    stats.archive_bytes = position
    return stats
