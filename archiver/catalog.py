"""An archive's table of contents, the same for every format version: what `list`, `info`,
`unpack` and the readers work with.

Both formats store files' data in blocks that, read in archive order, make one data stream D;
an entry with data owns a range of D. In format 1.0 each file's blocks hold its data alone,
one file after the other; in format 2 a block may hold parts of many files (solid), and files
with identical contents share one range. So a catalog is: the entries (archive order), where
each one's data starts in D, and the blocks with where each one's data starts in D; the
segments (format 2: the table frames) say which table describes which blocks.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from itertools import accumulate

from archiver.format import BlockRef, Entry
from archiver.format2 import IndexRecords, Segment


@dataclass
class Catalog:
    major: int
    entries: list[Entry]
    data_offsets: Sequence[int]  # parallel to entries; 0 for those without data
    blocks: list[BlockRef]  # archive order; ascending data_offset
    segments: list[Segment] = field(default_factory=list)

    @classmethod
    def of_index(cls, index: IndexRecords) -> Catalog:
        return cls(2, index.entries, index.data_offsets, index.blocks, index.segments)

    @property
    def data_size(self) -> int:
        return self.blocks[-1].data_end if self.blocks else 0

    def data_range(self, number: int) -> tuple[int, int]:
        start = self.data_offsets[number]
        return start, start + self.entries[number].data_size

    def blocks_in(self, start: int, end: int) -> list[BlockRef]:
        """The blocks holding any byte of D[start:end] (none for an empty range)."""
        if end <= start:
            return []
        starts = self._block_starts
        first = bisect.bisect_right(starts, start) - 1
        last = bisect.bisect_left(starts, end)
        return self.blocks[first:last]

    def entry_blocks(self) -> list[tuple[BlockRef, ...]]:
        """For each entry, the blocks its data touches, found in one sweep (`list` of a
        million entries must not search each one). The entries that lie inside one block
        share one tuple, so the result costs a pointer per entry."""
        offsets, blocks = self.data_offsets, self.blocks
        ends = [block.data_end for block in blocks]
        alone = [(block,) for block in blocks]
        result: list[tuple[BlockRef, ...]] = [()] * len(self.entries)
        with_data = (number for number, entry in enumerate(self.entries) if entry.data_size)
        block = 0
        for number in sorted(with_data, key=offsets.__getitem__):
            start, end = self.data_range(number)
            while ends[block] <= start:
                block += 1
            last = block
            while last + 1 < len(blocks) and blocks[last + 1].data_offset < end:
                last += 1
            result[number] = alone[block] if last == block else tuple(blocks[block:last + 1])
        return result

    def stored_share(self, number: int, refs: Sequence[BlockRef]) -> int:
        """The stored bytes an entry's data accounts for: its share of each block it touches
        (all of it when a block holds only this entry)."""
        start, end = self.data_range(number)
        share = 0
        for ref in refs:
            inside = min(end, ref.data_end) - max(start, ref.data_offset)
            share += ref.stored_size * inside // ref.raw_size
        return share

    def shared_bytes(self) -> int:
        """What storing identical contents once saved: the data size of every entry whose
        range an earlier entry already has."""
        counts = Counter(self.data_range(number) for number, entry in enumerate(self.entries)
                         if entry.data_size)
        return sum((count - 1) * (end - start) for (start, end), count in counts.items())

    def range_starts(self, start: int, end: int) -> list[int]:
        """Where in D[start:end] the data of an entry begins (each place once, ascending)."""
        starts = self._range_starts
        return starts[bisect.bisect_left(starts, start):bisect.bisect_left(starts, end)]

    def segment_blocks(self, number: int) -> list[BlockRef]:
        """The blocks of segment `number` (format 2), in archive order."""
        end = self._segment_ends[number]
        return self.blocks[end - self.segments[number].blocks:end]

    def segment_of(self, block_number: int) -> int:
        """The number of the segment (table) a block belongs to (format 2)."""
        return bisect.bisect_right(self._segment_ends, block_number)

    @cached_property
    def _block_starts(self) -> list[int]:
        return [ref.data_offset for ref in self.blocks]

    @cached_property
    def _range_starts(self) -> list[int]:
        return sorted({self.data_offsets[number] for number, entry in enumerate(self.entries)
                       if entry.data_size})

    @cached_property
    def _segment_ends(self) -> list[int]:
        return list(accumulate(segment.blocks for segment in self.segments))

    def kinds(self) -> Counter[str]:
        return Counter(entry.kind.name.lower() for entry in self.entries)


def of_format1(entries: list[Entry], blocks_per_entry: list[list[BlockRef]]) -> Catalog:
    """The catalog of a format 1.0 index: each file's blocks in turn make D."""
    data_offsets: list[int] = []
    blocks: list[BlockRef] = []
    position = 0
    for refs in blocks_per_entry:
        data_offsets.append(position if refs else 0)
        for ref in refs:
            blocks.append(BlockRef(ref.offset, ref.raw_size, ref.stored_size, ref.codec,
                                   ref.version, position))
            position += ref.raw_size
    return Catalog(1, entries, data_offsets, blocks)
