"""Reading archives of every format version: through the index (an archive on disk) or front
to back (a stream).

`Archive` opens a file, reads the header, the footer and the index, and from then on reads only
the blocks it is asked for, each once however many wanted files it holds (and, before an
extraction, the frames that describe what is extracted: format 1.0's entry frames, format 2's
tables): listing never touches the data. `StreamReader` reads an archive from its first byte to
its last, which is how stdin is read and how `pyarc test` checks that the frames, the index and
the footer all agree.

Both give the same things to the rest of pyarc: a `Catalog` (archiver/catalog.py) and *items*,
the tables of jobs and the encoded blocks that archiver/restore.py turns into files' bytes.
"""

from __future__ import annotations

import io
import os
from collections import Counter
from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, NoReturn

from archiver import format1, format2
from archiver.blocks import DataBlock, EncodedBlock, decode_block, decode_items
from archiver.catalog import Catalog, of_format1
from archiver.encryption import Envelope, Password, unseal
from archiver.errors import FormatError, PyarcError, UsageError
from archiver.executors import Workers
from archiver.format import (
    FOOTER_SIZE,
    FORMAT_MAJOR,
    HEADER_SIZE,
    BlockRef,
    Entry,
    Kind,
    ReplayableStream,
    parse_footer,
    parse_header,
)
from archiver.format2 import FRAME_BLOCK, FRAME_INDEX, FRAME_TABLE, Records, Segment
from archiver.plugins import Registry
from archiver.plugins import registry as default_registry
from archiver.restore import (
    BlockNames,
    Copy,
    Delivery,
    Job,
    Table,
    jobs_for,
    needed_blocks,
    scatter,
)


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
    segments: int = 0
    raw_bytes: int = 0  # the data of the files: what unpacking writes
    stored_bytes: int = 0
    shared_bytes: int = 0  # what identical contents stored once saved
    codecs: dict[str, CodecUsage] = field(default_factory=dict)
    groups: dict[str, CodecUsage] = field(default_factory=dict)  # by kind group (format 2)
    group_codecs: dict[str, Counter[str]] = field(default_factory=dict)  # group -> codec wins
    encryption: str | None = None  # how the archive is encrypted; None: it is not

    @property
    def ratio(self) -> float:
        """Archive size over data size (lower is better); 0 for an archive without data."""
        return self.archive_size / self.raw_bytes if self.raw_bytes else 0.0

    def as_dict(self) -> dict[str, object]:
        return dict(
            format_version=self.format_version, block_size=self.block_size,
            archive_size=self.archive_size, entries=dict(self.entries), blocks=self.blocks,
            segments=self.segments, raw_bytes=self.raw_bytes, stored_bytes=self.stored_bytes,
            shared_bytes=self.shared_bytes, ratio=self.ratio,
            codecs={name: vars(usage) for name, usage in sorted(self.codecs.items())},
            groups={name: {**vars(usage), "codecs": dict(self.group_codecs[name])}
                    for name, usage in sorted(self.groups.items())},
            encryption=self.encryption,
        )


def summarize(catalog: Catalog, format_version: str, block_size: int,
              archive_size: int) -> ArchiveInfo:
    """Totals over a catalog: entries by kind, blocks and bytes by codec and by group."""
    info = ArchiveInfo(format_version, block_size, archive_size, catalog.kinds(),
                       len(catalog.blocks), len(catalog.segments))
    info.shared_bytes = catalog.shared_bytes()
    info.raw_bytes = catalog.data_size + info.shared_bytes
    for ref in catalog.blocks:
        for table, key in ((info.codecs, ref.codec), (info.groups, ref.group)):
            if table is info.groups and not key:
                continue
            usage = table.setdefault(key, CodecUsage())
            usage.blocks += 1
            usage.raw_bytes += ref.raw_size
            usage.stored_bytes += ref.stored_size
        if ref.group:
            info.group_codecs.setdefault(ref.group, Counter())[ref.codec] += 1
        info.stored_bytes += ref.stored_size
    return info


#: Zeros come in pieces of at most this size for the holes of a sparse file.
ZEROS = bytes(1 << 20)


def with_holes(entry: Entry, data: Iterable[bytes]) -> Iterator[bytes | memoryview]:
    """A file's content from its stored data (Archive.data): for a sparse file, the bytes of
    each extent at its offset and zeros in between, in pieces of at most a block."""
    if entry.extents is None:
        yield from data
        return
    pieces = iter(data)
    piece = memoryview(b"")
    position = 0  # in the content
    for offset, length in entry.extents:
        yield from _zeros(offset - position)
        position = offset + length
        while length > 0:
            if not piece:
                piece = memoryview(next(pieces, b""))
                if not piece:
                    raise FormatError(f"{entry.path!r}: its data ends before its size")
            take = min(length, len(piece))
            yield piece[:take]
            piece, length = piece[take:], length - take
    yield from _zeros(entry.size - position)


def _zeros(count: int) -> Iterator[memoryview]:
    for start in range(0, count, len(ZEROS)):
        yield memoryview(ZEROS)[:min(len(ZEROS), count - start)]


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

    def _table(self, frame: format2.CodedFrame, what: str) -> Records:
        """The records of a table frame, decoded and checked."""
        body = decode_block(self.registry, frame.header, frame.payload, what)
        return format2.parse_table_body(body, what)


#: The most bytes of adjacent entry frames read and compared in one piece (format 1.0).
_MAX_RUN = 1 << 20
#: What Archive.plan yields: the table of the jobs, then their blocks, to be decoded or decoded.
Planned = Table | EncodedBlock | DataBlock
#: Decoded blocks an Archive keeps for `data` and `read`, so that reading the files of a solid
#: block one after the other decodes it once; four, so that a folder whose files fall in
#: different kind groups (one block each) does not decode them over and over.
CACHED_BLOCKS = 4
#: ... and at most this many bytes of them (the block read last is always kept).
CACHED_BYTES = 64 << 20


class Archive(_Reader):
    """An archive opened for listing and reading entries through its index: a file named by
    its path, or a binary file object that can seek (an fsspec file, a BytesIO), read from its
    start and left open on close()."""

    def __init__(self, source: str | os.PathLike[str] | IO[bytes],
                 registry: Registry | None = None, password: Password | None = None) -> None:
        super().__init__(registry)
        self._owned = isinstance(source, str | os.PathLike)
        if isinstance(source, str | os.PathLike):
            self.path = os.fspath(source)
            self._raw: IO[bytes] = open(self.path, "rb")  # noqa: SIM115 (closed by close())
        else:
            if not source.seekable():
                raise UsageError("reading an archive through its index needs a file that can "
                                 "seek: read a stream front to back (archiver.test, unpack)")
            self.path = str(getattr(source, "name", "<file object>"))
            self._raw = source
        try:
            self.file_size = self._raw.seek(0, os.SEEK_END)
            self._raw.seek(0)
            self._file, self.envelope = unseal(self._raw, password)
            self._load()
        except BaseException:
            self.close()
            raise

    def _load(self) -> None:
        file = self._file
        self.size = file.seek(0, os.SEEK_END)  # of the inner archive, when encrypted
        file.seek(0)
        self.major, minor, self.block_size = _parse_header(file, self.envelope)
        self.format_version = f"{self.major}.{minor}"
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
        self.index_offset = index_offset
        if self.major == 1:
            frame = format1.parse_frame(index_bytes, index_offset)
            if frame.index is None or index_bytes.tell() != index_size:
                raise FormatError(f"footer points at offset {index_offset}, which is not the "
                                  f"index")
            format1.check_index(frame.index, index_offset)
            self._index1 = frame.index
            self.catalog = of_format1(frame.index.entries, frame.index.blocks)
        else:
            coded = format2.parse_frame(index_bytes, index_offset)
            if coded.type != FRAME_INDEX or index_bytes.tell() != index_size:
                raise FormatError(f"footer points at offset {index_offset}, which is not the "
                                  f"index")
            what = f"index at offset {index_offset}"
            body = decode_block(self.registry, coded.header, coded.payload, what)
            index = format2.parse_index_body(body, what)
            format2.check_index(index, index_offset, what)
            self.catalog = Catalog.of_index(index)
        self._positions = {entry.path: number for number, entry in enumerate(self.entries)}
        # Each frame must end before the next one starts (the index checks sorted them).
        offsets = sorted([ref.offset for ref in self.catalog.blocks]
                         + [segment.offset for segment in self.catalog.segments]
                         + [index_offset])
        self._frame_limit = dict(zip(offsets, offsets[1:], strict=False))
        self._checked_segments: set[int] = set()
        self._block_numbers = {ref.offset: n for n, ref in enumerate(self.catalog.blocks)}
        self._cache: dict[int, DataBlock] = {}  # data_offset -> block, the last used last

    # -- listing ---------------------------------------------------------------------------

    @property
    def entries(self) -> list[Entry]:
        return self.catalog.entries

    def number(self, entry: Entry | str) -> int:
        """The entry's position in the archive (PyarcError if it is not in it)."""
        path = entry if isinstance(entry, str) else entry.path
        try:
            return self._positions[path]
        except KeyError:
            raise PyarcError(f"{path!r} is not in the archive") from None

    def blocks_of(self, entry: Entry | str) -> list[BlockRef]:
        """The blocks that hold any byte of the entry's data."""
        return self.catalog.blocks_in(*self.catalog.data_range(self.number(entry)))

    def stored_size(self, entry: Entry | str) -> int:
        """The stored bytes the entry's data accounts for (its share of solid blocks)."""
        number = self.number(entry)
        return self.catalog.stored_share(number, self.blocks_of(entry))

    def info(self) -> ArchiveInfo:
        info = summarize(self.catalog, self.format_version, self.block_size, self.file_size)
        info.encryption = self.envelope.describe() if self.envelope else None
        return info

    # -- reading ---------------------------------------------------------------------------

    def plan(self, numbers: list[int]) -> tuple[list[Job], Iterator[Planned]]:
        """The jobs that extract entries `numbers`, and the items that feed them: one table of
        all the jobs, then each block they need, once, in archive order, read and checked
        against the index as it is asked for (decode with blocks.decode_items; a block that
        `data` decoded lately comes decoded)."""
        jobs = jobs_for(self.catalog, numbers)
        refs = needed_blocks(self.catalog, jobs)
        names = BlockNames()
        names.add(jobs)

        def items() -> Iterator[Planned]:
            yield Table(tuple(jobs))
            for ref in refs:
                yield self._cache.get(ref.data_offset) or self.encoded_block(
                    ref, names.where(ref.offset, ref.data_offset, ref.data_end))

        return jobs, items()

    def encoded_block(self, ref: BlockRef, where: str = "") -> EncodedBlock:
        """The block frame the index row `ref` describes, checked against it; `where` names
        it in messages."""
        where = where or f"block at offset {ref.offset}"
        self._file.seek(ref.offset)
        if self.major == 1:
            parsed = format1.parse_frame(self._file, ref.offset)
            header, payload = parsed.block, parsed.payload
            data_offset = ref.data_offset
        else:
            frame = format2.parse_frame(self._file, ref.offset)
            header = frame.header if frame.type == FRAME_BLOCK else None
            payload, data_offset = frame.payload, frame.data_offset
        if header is None:
            raise FormatError(f"{where}: the index points at a frame that is not a block")
        if (BlockRef.at(ref.offset, header, data_offset, ref.group) != ref):
            raise FormatError(f"{where}: the block frame disagrees with the index")
        if self._file.tell() > self._frame_limit[ref.offset]:
            raise FormatError(f"{where}: the block frame overlaps the next frame")
        return EncodedBlock(header, payload, where, ref.data_offset)

    def data(self, entry: Entry | str) -> Iterator[bytes]:
        """The stored data of a file entry (for a sparse file, its extents' bytes), block by
        verified block; a hard link gives the data of its file. The last blocks decoded are
        kept (CACHED_BLOCKS), so reading many files of one block decodes it once."""
        _, items = self.plan([self.number(entry)])
        for _, chunks in scatter(self._cached(items)):
            if isinstance(chunks, Iterator):
                yield from chunks

    def _cached(self, items: Iterator[Planned]) -> Iterator[Table | DataBlock]:
        """The items with each block decoded, and kept in the cache."""
        for item in items:
            yield item if isinstance(item, Table) else self._kept(item)

    def _kept(self, item: EncodedBlock | DataBlock) -> DataBlock:
        """The block decoded, and kept in the cache (the last used last)."""
        block = item.decode(self.registry) if isinstance(item, EncodedBlock) else item
        self._cache.pop(block.data_offset, None)
        self._cache[block.data_offset] = block
        while len(self._cache) > CACHED_BLOCKS or (
                len(self._cache) > 1
                and sum(len(kept.data) for kept in self._cache.values()) > CACHED_BYTES):
            del self._cache[next(iter(self._cache))]
        return block

    def decoded_block(self, ref: BlockRef, where: str = "") -> DataBlock:
        """The block the index row `ref` describes, decoded and verified: from the cache, or
        read, decoded and then kept there (as `data` keeps the blocks it decodes)."""
        return self._kept(self._cache.get(ref.data_offset) or self.encoded_block(ref, where))

    def read(self, entry: Entry | str) -> bytes:
        """The whole content of a file entry, verified (holes of a sparse file as zeros)."""
        return b"".join(with_holes(self.entries[self.number(entry)], self.data(entry)))

    def open(self, entry: Entry | str) -> io.BufferedReader:
        """The content of a file entry (a hard link: its file's) as a binary file that reads
        and seeks, decoding only the blocks it reads, each verified (archiver/fileobjects.py)."""
        from archiver.fileobjects import EntryReader

        return io.BufferedReader(EntryReader(self, self.entries[self.number(entry)]))

    def verify(self, entries: Iterable[Entry]) -> None:
        """Before extracting `entries`: check the frames that describe them, which the index
        repeats (format 1.0: their entry frames; format 2: the tables of the segments that
        hold their data), so that an extraction never trusts the index alone."""
        entries = list(entries)
        if self.major == 1:
            self._verify_entry_frames(entries)
            return
        numbers = [self.number(entry) for entry in entries]
        for ref in needed_blocks(self.catalog, jobs_for(self.catalog, numbers)):
            self._verify_segment(self.catalog.segment_of(self._block_numbers[ref.offset]))

    def _verify_segment(self, number: int) -> None:
        """The table of segment `number` agrees with the index: its entries are the index's,
        with the same fields, and it lists the data that begins in the segment's blocks."""
        if number in self._checked_segments:
            return
        catalog = self.catalog
        segment = catalog.segments[number]
        refs = catalog.segment_blocks(number)
        start = refs[0].data_offset if refs else catalog.data_size
        end = refs[-1].data_end if refs else start
        what = f"table at offset {segment.offset}"
        self._file.seek(segment.offset)
        frame = format2.parse_frame(self._file, segment.offset, what)
        if frame.type != FRAME_TABLE:
            raise FormatError(f"{what}: the index places a table here, but it is another "
                              f"kind of frame")
        if self._file.tell() > self._frame_limit[segment.offset]:
            raise FormatError(f"{what}: the table frame overlaps the next frame")
        records = self._table(frame, what)
        listed = {catalog.data_offsets[n]
                  for n in _match_table(records, catalog, self._positions, end, what)}
        # The data that begins in the segment's blocks is listed here: at least one of the
        # entries of each range (others with the same contents may come in later tables).
        unlisted = set(catalog.range_starts(start, end)) - listed
        if unlisted:
            number = next(n for n, entry in enumerate(catalog.entries)
                          if entry.data_size and catalog.data_offsets[n] == min(unlisted))
            raise FormatError(f"{what}: the table does not list {catalog.entries[number].path!r}"
                              f", whose data begins in its blocks")
        self._checked_segments.add(number)

    # -- format 1.0: entry frames --------------------------------------------------------------

    def _verify_entry_frames(self, entries: list[Entry]) -> None:
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
        for number in sorted({self.number(entry) for entry in entries}):
            entry, start = self.entries[number], starts[number]
            if start < floors[number]:
                raise FormatError(f"frame at offset {start} of {entry.path!r}: the index leaves "
                                  f"no room for this entry frame after the frame before it")
            if start != run_end or run_end - run_start >= _MAX_RUN:
                check(run)
                run, run_start = [], start
            expected = format1.build_entry_frame(entry)
            run.append((number, expected))
            run_end = start + len(expected)
        check(run)

    def _entry_frame_places(self) -> tuple[list[int], list[int]]:
        """Where each entry frame starts by the index, and the offset it cannot start before
        (the end of the blocks before it, counted with the shortest block frame header)."""
        entries, blocks = self._index1.entries, self._index1.blocks
        starts = [0] * len(entries)
        next_start = self.index_offset
        for number in reversed(range(len(entries))):
            end = blocks[number][0].offset if blocks[number] else next_start
            next_start = starts[number] = end - format1.entry_frame_size(entries[number])
        floors = [HEADER_SIZE] * len(entries)
        for number in range(1, len(entries)):
            before = blocks[number - 1]
            floors[number] = (before[-1].offset + format1.MIN_BLOCK_HEADER
                              + before[-1].stored_size if before else floors[number - 1])
        return starts, floors

    def _refuse_entry_frame(self, number: int, start: int) -> NoReturn:
        """Say what is wrong with the entry frame at `start`, which is not the one the index
        describes: parsing it names the damage, or else the fields that differ."""
        entry = self.entries[number]
        what = f"frame at offset {start} of {entry.path!r}"
        self._file.seek(start)
        found = format1.parse_frame(self._file, start, what).entry
        if found is None:
            raise FormatError(f"{what}: the index places an entry frame here, but it is "
                              f"another kind of frame")
        raise FormatError(f"{what}: the entry frame disagrees with the index "
                          f"({', '.join(format2.differing_fields(found, entry))})")

    def close(self) -> None:
        if self._owned:
            self._raw.close()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_archive(path: str | os.PathLike[str] | IO[bytes], registry: Registry | None = None,
                 *, password: Password | None = None) -> Archive:
    """Open an archive (a path, or a binary file object that can seek) for listing
    (`entries`, `info()`) and reading (`read`); an encrypted one needs its `password`
    (archiver/encryption.py)."""
    return Archive(path, registry, password)


def _parse_header(stream: IO[bytes] | ReplayableStream, envelope: Envelope | None
                  ) -> tuple[int, int, int]:
    """The archive header, which an encrypted archive's inner archive repeats: there it must
    be format 2 (an envelope holds nothing else)."""
    major, minor, block_size = parse_header(stream)
    if envelope is not None and major != FORMAT_MAJOR:
        raise FormatError(f"the encrypted archive holds an archive of format {major}, not "
                          f"{FORMAT_MAJOR}")
    return major, minor, block_size


def _match_table(records: Records, catalog: Catalog, positions: dict[str, int], end: int,
                 what: str) -> list[int]:
    """The index's numbers of a table's entries, each checked to be in the index with the same
    fields and data, and to begin before `end` (in its segment, or earlier: a copy)."""
    numbers = []
    for entry, offset in zip(records.entries, records.data_offsets, strict=True):
        number = positions.get(entry.path)
        if number is None:
            raise FormatError(f"{what}: entry {entry.path!r} is not in the index")
        found = catalog.entries[number]
        if found != entry or catalog.data_offsets[number] != offset:
            differ = format2.differing_fields(entry, found)
            if catalog.data_offsets[number] != offset:
                differ.append("data_offset")
            raise FormatError(f"{what}: entry {entry.path!r} disagrees with the index "
                              f"({', '.join(differ)})")
        if offset >= end:
            raise FormatError(f"{what}: entry {entry.path!r} begins after this segment")
        numbers.append(number)
    return numbers


def _check_listed_once(catalog: Catalog, tables: Iterable[list[int]], what: str) -> None:
    """Every entry of the index with data is listed by exactly one table (a stream reader
    delivers the data of the entries the tables list, and no other)."""
    listed = bytearray(len(catalog.entries))  # a byte an entry: 1 once a table lists it
    for numbers in tables:
        for number in numbers:
            if listed[number]:
                raise FormatError(f"{what}: entry {catalog.entries[number].path!r} is listed "
                                  f"by two tables")
            listed[number] = 1
    for number, entry in enumerate(catalog.entries):
        if entry.data_size and not listed[number]:
            raise FormatError(f"{what}: no table lists {entry.path!r}")


#: What to use for an archive of more than one file, in the errors of the single-file readers.
_USE_ARCHIVE = "use open_archive() or unpack()"


class StreamReader(_Reader):
    """Reads an archive front to back, verifying every frame, then the index and the footer
    against what it read. Works on pipes: it never seeks outside the frame being read.

    The header is read at once, so a stream that is no archive fails before anything else.
    `items()` gives the tables of jobs and the encoded blocks in archive order; once it is
    exhausted, `catalog` is the archive's index, checked against everything read. With
    `stop_at_footer`, what follows the footer is left unread (a Decompressor's unused_data)
    instead of refused.
    """

    def __init__(self, stream: IO[bytes], registry: Registry | None = None,
                 password: Password | None = None, *, stop_at_footer: bool = False) -> None:
        super().__init__(registry)
        self._stop_at_footer = stop_at_footer
        stream, self.envelope = unseal(stream, password)
        self._stream: IO[bytes] | ReplayableStream = (
            stream if stream.seekable() else ReplayableStream(stream))
        self.major, minor, self.block_size = _parse_header(self._stream, self.envelope)
        self.format_version = f"{self.major}.{minor}"
        self.catalog: Catalog | None = None

    @property
    def position(self) -> int:
        """Bytes read so far; after the index and footer, the archive's size."""
        return self._stream.tell()

    def _released(self) -> None:
        if isinstance(self._stream, ReplayableStream):
            self._stream.release()

    def items(self) -> Iterator[Table | EncodedBlock]:
        return self._items1() if self.major == 1 else self._items2()

    def deliveries(self, jobs: int | Workers | None = 1) -> Iterator[Delivery]:
        """Every file with data, in the order of its data, with its verified bytes (decoded on
        `jobs` threads, or Workers; None: each block here, as soon as it is read), or the
        earlier file it copies (archiver/restore.py)."""
        return scatter(decode_items(self.items(), self.registry, jobs))

    def single_file(self, jobs: int | Workers | None = 1
                    ) -> Generator[bytes | memoryview, None, None]:
        """The content of the archive's only entry, a file (holes of a sparse one as zeros),
        as its blocks are verified (decoded as for `deliveries`). UsageError once the archive
        turns out to hold anything else: at a second file's data, else at the index."""
        entry = None
        for job, data in self.deliveries(jobs):
            if entry is not None:
                raise UsageError(f"the archive holds more than one file; {_USE_ARCHIVE}")
            entry = job.entry
            assert not isinstance(data, Copy)  # (the first file's data is its own)
            yield from with_holes(entry, data)
        assert self.catalog is not None
        entries = self.catalog.entries
        if len(entries) != 1 or entries[0].kind != Kind.FILE:
            raise UsageError(f"the archive holds {len(entries)} entries, not a single file; "
                             f"{_USE_ARCHIVE}")
        if entry is None:  # no data: empty, or a sparse file of holes only
            yield from with_holes(entries[0], ())

    # -- format 1.0: an entry frame, then its blocks -------------------------------------------

    def _items1(self) -> Iterator[Table | EncodedBlock]:
        seen = format1.Index()
        data_position = 0
        while True:
            offset = self._stream.tell()
            frame = format1.parse_frame(self._stream, offset)
            self._released()
            if frame.index is not None:
                if frame.index != seen:
                    raise FormatError(f"index at offset {offset} does not match the entries "
                                      f"and blocks of the archive")
                format1.check_index(frame.index, offset)
                self._finish(offset)
                self.catalog = of_format1(frame.index.entries, frame.index.blocks)
                return
            if frame.entry is None:
                raise FormatError(f"frame at offset {offset}: a block frame without an entry "
                                  f"before it")
            entry = frame.entry
            refs: list[BlockRef] = []
            seen.entries.append(entry)
            seen.blocks.append(refs)
            if entry.data_size:
                yield Table((Job(entry, data_position, data_position + entry.size),))
            remaining = entry.data_size
            while remaining > 0:
                offset = self._stream.tell()
                frame = format1.parse_frame(self._stream, offset)
                self._released()
                where = f"block at offset {offset} of {entry.path!r}"
                if frame.block is None:
                    raise FormatError(f"frame at offset {offset}: {entry.path!r} still lacks "
                                      f"{remaining} bytes of data, but the frame is no block")
                if frame.block.raw_size > remaining:
                    raise FormatError(f"{where}: holds {frame.block.raw_size} bytes, more than "
                                      f"the {remaining} left of the entry")
                remaining -= frame.block.raw_size
                refs.append(BlockRef.at(offset, frame.block))
                yield EncodedBlock(frame.block, frame.payload, where, data_position)
                data_position += frame.block.raw_size

    # -- format 2: segments of a table and its blocks, then the index -------------------------

    def _items2(self) -> Iterator[Table | EncodedBlock]:
        segments: list[Segment] = []
        blocks: list[BlockRef] = []
        tables: list[tuple[str, Records, int, int]] = []  # what, records, segment start, end
        ranges: set[tuple[int, int]] = set()  # the data ranges handed out so far
        names = BlockNames()
        data_position = 0
        while True:
            offset = self._stream.tell()
            frame = format2.parse_frame(self._stream, offset)
            self._released()
            if frame.type == FRAME_INDEX:
                self._finish_tables(tables)
                what = f"index at offset {offset}"
                body = decode_block(self.registry, frame.header, frame.payload, what)
                index = format2.parse_index_body(body, what)
                format2.check_index(index, offset, what)
                if index.segments != segments or list(map(_bare, index.blocks)) != blocks:
                    raise FormatError(f"{what} does not match the frames of the archive")
                catalog = Catalog.of_index(index)
                positions = {entry.path: n for n, entry in enumerate(catalog.entries)}
                _check_listed_once(catalog, (_match_table(records, catalog, positions, end,
                                                          table_what)
                                             for table_what, records, _, end in tables), what)
                if {catalog.data_range(n) for n, entry in enumerate(catalog.entries)
                        if entry.data_size} != ranges:
                    raise FormatError(f"{what} does not match the frames of the archive")
                self._finish(offset)
                self.catalog = catalog
                return
            if frame.type == FRAME_TABLE:
                self._finish_tables(tables)
                what = f"table at offset {offset}"
                records = self._table(frame, what)
                jobs = []
                for entry, start in zip(records.entries, records.data_offsets, strict=True):
                    end = start + entry.data_size
                    if start < data_position and (start, end) not in ranges:
                        raise FormatError(f"{what}: entry {entry.path!r} has data before this "
                                          f"segment that no earlier entry has")
                    ranges.add((start, end))
                    jobs.append(Job(entry, start, end))
                segments.append(Segment(offset, 0))
                tables.append((what, records, data_position, data_position))
                names.add(jobs)
                yield Table(tuple(jobs))
                continue
            where = names.where(offset, frame.data_offset,
                                frame.data_offset + frame.header.raw_size)
            if not segments:
                raise FormatError(f"{where}: a block frame without a table before it")
            if frame.data_offset != data_position:
                raise FormatError(f"{where}: its data_offset {frame.data_offset} does not "
                                  f"follow the blocks before it ({data_position})")
            segments[-1] = Segment(segments[-1].offset, segments[-1].blocks + 1)
            blocks.append(BlockRef.at(offset, frame.header, data_position))
            yield EncodedBlock(frame.header, frame.payload, where, data_position)
            data_position += frame.header.raw_size
            what, records, start, _ = tables[-1]
            tables[-1] = (what, records, start, data_position)

    @staticmethod
    def _finish_tables(tables: list[tuple[str, Records, int, int]]) -> None:
        """The last table's new entries (those that are no copies of earlier data) all begin
        inside its segment's blocks."""
        if not tables:
            return
        what, records, start, end = tables[-1]
        for entry, offset in zip(records.entries, records.data_offsets, strict=True):
            if start <= offset and offset >= end:
                raise FormatError(f"{what}: entry {entry.path!r} begins after this segment")

    def _finish(self, index_offset: int) -> None:
        """The footer locates the index just read, and nothing follows it."""
        index_end = self._stream.tell()
        footer_offset, footer_size = parse_footer(self._stream.read(FOOTER_SIZE), index_end)
        if (footer_offset, footer_size) != (index_offset, index_end - index_offset):
            raise FormatError(f"footer at offset {index_end} does not locate the index")
        if not self._stop_at_footer and self._stream.read(1):
            raise FormatError(f"unexpected data after the footer at offset "
                              f"{index_end + FOOTER_SIZE}")


def _bare(ref: BlockRef) -> BlockRef:
    """An index row as a block frame alone can give it (the group is the index's alone)."""
    return BlockRef(ref.offset, ref.raw_size, ref.stored_size, ref.codec, ref.version,
                    ref.data_offset)
