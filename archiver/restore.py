"""Giving each file its bytes: from the decoded blocks of the data stream D to the files whose
ranges they hold, the same way whether the archive is read through its index or as a stream.

A *job* is a file to write and its range of D. Jobs come in the order of their data; the
blocks come in archive order, which is D's order. A job's bytes are the slices of the blocks
that cover its range; a block may serve many jobs (solid), and a job may span many blocks
(a large file). A job whose range is the same as an earlier job's (identical contents, stored
once) gets the slices again while they are in the block at hand, and otherwise none: it is
then a copy of that earlier job's file.

The items of a plan are tables of jobs and decoded blocks, in the order a stream has them: a
table comes before the blocks in which its jobs begin, and a block's `data_offset` says where
its bytes lie in D (an archive read through its index skips the blocks nobody wants).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from archiver.blocks import DataBlock
from archiver.catalog import Catalog
from archiver.errors import FormatError
from archiver.format import BlockRef, Entry, Kind


@dataclass(frozen=True, slots=True)
class Job:
    """Write `entry`, whose data is D[start:end]; a hard link written as a copy of its file
    (the file itself not extracted) names that file's entry as `linked`."""

    entry: Entry
    start: int
    end: int
    linked: Entry | None = None


@dataclass(frozen=True, slots=True)
class Table:
    """Jobs in the order of their data."""

    jobs: tuple[Job, ...]


@dataclass(frozen=True, slots=True)
class Copy:
    """A job whose bytes are those of `source`, an earlier job (same range)."""

    source: Job


Item = Table | DataBlock
#: What the scatter gives for each job: its bytes, or the earlier job to copy.
Delivery = tuple[Job, Iterator[bytes] | Copy]


def jobs_for(catalog: Catalog, numbers: list[int]) -> list[Job]:
    """The jobs that extract entries `numbers` of the catalog, in the order of their data. A
    hard link whose file is not among them is given that file's data (it becomes a copy)."""
    chosen = set(numbers)
    by_path = {entry.path: number for number, entry in enumerate(catalog.entries)}
    jobs = []
    for number in numbers:
        entry = catalog.entries[number]
        source = number
        if entry.kind == Kind.HARDLINK:
            source = by_path[entry.target]
            if source in chosen:
                continue  # linked once the file is written
        start, end = catalog.data_range(source)
        if end > start:
            linked = catalog.entries[source] if source != number else None
            jobs.append((start, number, Job(entry, start, end, linked)))
    return [job for _, _, job in sorted(jobs, key=lambda item: (item[0], item[1]))]


class BlockNames:
    """Which files a block holds data of, for its messages: `where(offset, start, end)` says
    "block at offset N of 'a'" (or "of 'a' and 3 more files"). Jobs are added in the order of
    their data, and asked about blocks in that order too."""

    def __init__(self) -> None:
        self._pending: deque[Job] = deque()

    def add(self, jobs: Iterable[Job]) -> None:
        self._pending.extend(job for job in jobs if job.end > job.start)

    def where(self, offset: int, start: int, end: int) -> str:
        while self._pending and self._pending[0].end <= start:
            self._pending.popleft()
        names = [job.entry.path for job in self._pending if job.start < end]
        text = f"block at offset {offset}"
        if not names:
            return text
        more = f" and {len(set(names)) - 1} more files" if len(set(names)) > 1 else ""
        return f"{text} of {names[0]!r}{more}"


def needed_blocks(catalog: Catalog, jobs: list[Job]) -> list[BlockRef]:
    """The blocks that hold any byte of the jobs, each once, in archive order."""
    seen: dict[int, BlockRef] = {}
    for job in jobs:
        for ref in catalog.blocks_in(job.start, job.end):
            seen.setdefault(ref.offset, ref)
    return sorted(seen.values(), key=lambda ref: ref.data_offset)


def scatter(items: Iterator[Item]) -> Iterator[Delivery]:
    """Each job with its bytes (read them before asking for the next job), or with the earlier
    job it copies. Blocks that no job needs are passed over.

    A job is never given bytes it does not cover: a block that starts past the next byte a
    job needs, or data that ends before a job's range does, is an error (the archive is
    inconsistent), raised as FormatError.
    """
    items = iter(items)
    pending: deque[Job] = deque()
    done: dict[tuple[int, int], Job] = {}  # range -> the first job that got it
    block: DataBlock | None = None

    def next_block() -> DataBlock | None:
        """The next block, taking in the tables that come before it."""
        for item in items:
            if isinstance(item, Table):
                pending.extend(item.jobs)
            else:
                return item
        return None

    def chunks(job: Job) -> Iterator[bytes]:
        nonlocal block
        position = job.start
        while position < job.end:
            while block is not None and block.data_offset + len(block.data) <= position:
                block = next_block()
            if block is None or block.data_offset > position:
                raise FormatError(f"the data of {job.entry.path!r} (bytes {position}.."
                                  f"{job.end} of the data stream) is not in the archive")
            start = position - block.data_offset
            end = min(len(block.data), job.end - block.data_offset)
            yield block.data[start:end] if (start, end) != (0, len(block.data)) else block.data
            position = block.data_offset + end

    while True:
        # A table comes before the blocks its jobs begin in: with no job pending, the current
        # block is done with, and the next table (if any) comes before the next block.
        while not pending:
            block = next_block()
            if block is None and not pending:
                return
        job = pending.popleft()
        earlier = done.get((job.start, job.end))
        in_block = (block is not None and block.data_offset <= job.start
                    and job.end <= block.data_offset + len(block.data))
        if earlier is not None and not in_block:
            yield job, Copy(earlier)  # its bytes are gone by: copy the file that got them
            continue
        done[job.start, job.end] = job
        data = chunks(job)
        yield job, data
        for _ in data:  # what the consumer left
            pass
