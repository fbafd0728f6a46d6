"""Salvage: every intact entry of a damaged archive, and every damaged one, in the manner of
bzip2recover. `pyarc test` reports with it; `pyarc unpack --salvage` extracts with it.

The archive is scanned front to back, frame by frame, trusting neither index nor footer. A
frame that fails to parse or to check is damage; the scan resynchronises at the next offset
where a whole frame parses and its XXH32 checks (a false match at a random offset is a chance
of about one in four billion). Every block is verified as a reader would (payload hash,
decoding, data hash), and remembered with the range of the data stream D it holds.

What a file needs is its range of D: it is intact when every byte of that range is in a
verified block, and damaged otherwise, so a damaged solid block loses exactly the files that
have bytes in it. Files are known from the frames that describe them: format 1.0's entry
frames (each followed by its blocks), format 2's tables (each block says where its bytes lie
in D). In format 2 the entries without data (directories, symlinks, empty files, links) are in
the index only: they are salvaged when the index is intact, and it also names files whose
table was lost. A block whose data no known entry claims is reported as a block without an
entry. A block whose codec is not installed is no damage: its payload hash is checked, and the
files in it are counted as undecodable here.

An encrypted archive is scanned the same way through its decrypted chunks: a chunk that fails
to authenticate is damage, like a bad checksum, and no frame that has a byte in it is used.
"""

from __future__ import annotations

import bisect
import contextlib
import mmap
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from archiver import format1, format2
from archiver.blocks import check_payload, decode_block
from archiver.encryption import Password, SealedReader, unseal
from archiver.errors import AuthenticationError, MissingCodecError, PyarcError
from archiver.format import ENCRYPTED_MAJOR, HEADER_SIZE, BlockHeader, Entry, parse_header
from archiver.plugins import Registry
from archiver.plugins import registry as default_registry

R = TypeVar("R")


@dataclass
class Damage:
    offset: int
    message: str
    entry: str | None = None  # the entry it hit, when known


@dataclass
class ScannedEntry:
    entry: Entry
    start: int = 0  # its range of the data stream
    end: int = 0
    damaged: bool = False
    undecodable: bool = False  # some of its data is in a block whose codec is not installed

    @property
    def intact(self) -> bool:
        return not self.damaged and not self.undecodable


@dataclass(frozen=True)
class _Good:
    """A verified block: where its frame is, and where its data lies in D."""

    offset: int
    data_offset: int
    raw_size: int


@dataclass
class Scan:
    major: int = 0
    entries: list[ScannedEntry] = field(default_factory=list)
    damage: list[Damage] = field(default_factory=list)
    #: Why blocks could not be decoded although intact: one message per missing codec.
    missing_codecs: dict[tuple[str, int], str] = field(default_factory=dict)
    good: list[_Good] = field(default_factory=list)  # in order of data_offset

    @property
    def intact(self) -> list[ScannedEntry]:
        return [scanned for scanned in self.entries if scanned.intact]

    @property
    def damaged(self) -> list[ScannedEntry]:
        return [scanned for scanned in self.entries if scanned.damaged]

    @property
    def undecodable(self) -> list[ScannedEntry]:
        """Entries that are not damaged but need a codec that is not installed."""
        return [scanned for scanned in self.entries
                if scanned.undecodable and not scanned.damaged]


#: Where a frame may begin: at one of the frame type bytes of either format.
FRAME_START = re.compile(b"[EBIT]")


class ArchiveView(Protocol):
    """The bytes of an archive as the scan reads them: sliced, and searched for frames."""

    def __len__(self) -> int: ...

    def __getitem__(self, at: slice) -> bytes: ...

    def frame_starts(self, start: int) -> Iterator[int]:
        """The offsets from `start` on whose byte may begin a frame."""
        ...


class _Mapped:
    """A plain archive, mapped into memory."""

    def __init__(self, view: mmap.mmap | bytes) -> None:
        self._view = view

    def __len__(self) -> int:
        return len(self._view)

    def __getitem__(self, at: slice) -> bytes:
        return bytes(self._view[at])

    def frame_starts(self, start: int) -> Iterator[int]:
        return (found.start() for found in FRAME_START.finditer(self._view, start))


class _Decrypted:
    """The inner archive of an encrypted one, decrypted a chunk at a time as it is read. A
    slice that touches a chunk that fails to authenticate raises AuthenticationError; the
    search for frames passes over such chunks."""

    def __init__(self, reader: SealedReader) -> None:
        self._reader = reader

    def __len__(self) -> int:
        return self._reader.size

    def __getitem__(self, at: slice) -> bytes:
        start, end, _ = at.indices(len(self))
        self._reader.seek(start)
        return self._reader.read(max(0, end - start))

    def frame_starts(self, start: int) -> Iterator[int]:
        size = self._reader.envelope.chunk_size
        for number in range(start // size, -(-len(self) // size)):
            try:
                plaintext = self._reader.chunk(number)
            except AuthenticationError:
                continue
            assert plaintext is not None
            for found in FRAME_START.finditer(plaintext, max(0, start - number * size)):
                yield number * size + found.start()


@contextlib.contextmanager
def archive_view(path: str | os.PathLike[str], password: Password | None = None
                 ) -> Iterator[ArchiveView]:
    """The archive at `path` as the scan reads it. An encrypted one needs its password (and
    an intact encryption record: without it no key can be derived). A header too damaged to
    say whether the archive is encrypted is scanned as a plain archive's."""
    with open(path, "rb") as file:
        try:
            encrypted = parse_header(file)[0] == ENCRYPTED_MAJOR
        except PyarcError:
            encrypted = False
        file.seek(0)
        if encrypted:
            reader, _ = unseal(file, password, salvage=True)
            assert isinstance(reader, SealedReader)
            yield _Decrypted(reader)
            return
        if os.fstat(file.fileno()).st_size == 0:
            yield _Mapped(b"")
            return
        with mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as view:
            yield _Mapped(view)


class _Scanner:
    def __init__(self, view: ArchiveView, registry: Registry) -> None:
        self.view = view
        self.registry = registry
        self.scan = Scan()
        self.undecodable: list[tuple[int, int]] = []  # D ranges of intact, undecodable blocks
        self.bad: list[tuple[int, int]] = []  # D ranges of blocks found damaged (reported)
        self.index: format2.IndexRecords | None = None

    def parse_at(self, offset: int) -> tuple[format1.ParsedFrame | format2.CodedFrame, int]:
        """The frame at offset (of this archive's format) and where it ends."""
        stream = _View(self.view, offset)
        frame = (format1.parse_frame(stream, offset) if self.scan.major == 1
                 else format2.parse_frame(stream, offset))
        return frame, stream.position

    def resync(self, start: int) -> int:
        """The next offset from `start` where a whole frame parses and checks."""
        for offset in self.view.frame_starts(start):
            try:
                self.parse_at(offset)
            except PyarcError:
                continue
            return offset
        return len(self.view)

    def run(self) -> Scan:
        try:
            self.scan.major = parse_header(_View(self.view, 0))[0]
        except PyarcError as error:
            self.scan.damage.append(Damage(0, str(error)))
            self.scan.major = _guess_major(self.view)
        offset = HEADER_SIZE
        position = 0  # format 1.0: where the next entry's data begins in D
        current: ScannedEntry | None = None  # format 1.0: the entry whose blocks come
        filled = 0  # ... and the bytes of it its blocks gave so far
        while offset < len(self.view):
            try:
                frame, end = self.parse_at(offset)
            except PyarcError as error:
                self.scan.damage.append(Damage(offset, str(error)))
                current = None  # format 1.0: the rest of its blocks cannot be placed
                offset = self.resync(offset + 1)
                continue
            if isinstance(frame, format1.ParsedFrame):
                if frame.index is not None:
                    break
                if frame.entry is not None:
                    current, filled = ScannedEntry(frame.entry, position,
                                                   position + frame.entry.size), 0
                    self.scan.entries.append(current)
                    position += frame.entry.size
                elif frame.block is not None:
                    if current is None or current.start + filled + frame.block.raw_size \
                            > current.end:
                        self.orphan(offset)
                    else:
                        self.block(offset, frame.block, frame.payload, current.start + filled)
                        filled += frame.block.raw_size
            else:
                if frame.type == format2.FRAME_INDEX:
                    self.read_index(offset, frame)
                    break
                if frame.type == format2.FRAME_TABLE:
                    self.table(offset, frame)
                else:
                    self.block(offset, frame.header, frame.payload, frame.data_offset)
            offset = end
        self.judge()
        return self.scan

    def orphan(self, offset: int) -> None:
        self.scan.damage.append(Damage(offset, f"block at offset {offset}: a block without "
                                               f"its entry (the frame before it is lost)"))

    def block(self, offset: int, header: BlockHeader, payload: bytes, data_offset: int) -> None:
        where = f"block at offset {offset}"
        try:
            decode_block(self.registry, header, payload, where)
        except MissingCodecError as error:  # not damage: check what can be checked
            try:
                check_payload(header, payload, where)
            except PyarcError as damage:
                self.scan.damage.append(Damage(offset, str(damage)))
                self.bad.append((data_offset, data_offset + header.raw_size))
            else:
                self.scan.missing_codecs[header.codec, header.version] = str(error)
                self.undecodable.append((data_offset, data_offset + header.raw_size))
        except PyarcError as error:
            self.scan.damage.append(Damage(offset, str(error)))
            self.bad.append((data_offset, data_offset + header.raw_size))
        else:
            self.scan.good.append(_Good(offset, data_offset, header.raw_size))

    def body(self, offset: int, frame: format2.CodedFrame, what: str,
             parse: Callable[[bytes, str], R]) -> R | None:
        """The parsed body of a table or of the index; None, and the damage noted, if it
        cannot be decoded or parsed."""
        try:
            return parse(decode_block(self.registry, frame.header, frame.payload, what), what)
        except PyarcError as error:
            self.scan.damage.append(Damage(offset, str(error)))
            return None

    def table(self, offset: int, frame: format2.CodedFrame) -> None:
        records = self.body(offset, frame, f"table at offset {offset}",
                            format2.parse_table_body)
        if records is None:
            return
        for entry, start in zip(records.entries, records.data_offsets, strict=True):
            self.scan.entries.append(ScannedEntry(entry, start, start + entry.data_size))

    def read_index(self, offset: int, frame: format2.CodedFrame) -> None:
        """Take the index's entries too, when it is intact: those without data live there
        alone, and it names the files of lost tables."""
        index = self.body(offset, frame, f"index at offset {offset}", format2.parse_index_body)
        if index is None:
            return
        known = {scanned.entry.path for scanned in self.scan.entries}
        for entry, start in zip(index.entries, index.data_offsets, strict=True):
            if entry.path not in known:
                self.scan.entries.append(ScannedEntry(entry, start, start + entry.data_size))

    def judge(self) -> None:
        """Each entry with data is intact only if its range is in verified blocks; a block no
        entry claims is reported."""
        good = sorted(self.scan.good, key=lambda block: block.data_offset)
        self.scan.good = good
        covered = _union((block.data_offset, block.data_offset + block.raw_size)
                         for block in good)
        readable = _union(covered + self.undecodable)
        located = _union(readable + self.bad)  # where some block frame still is
        claimed = _union((scanned.start, scanned.end) for scanned in self.scan.entries
                         if scanned.end > scanned.start)
        for scanned in self.scan.entries:
            if scanned.end <= scanned.start or _inside(covered, scanned.start, scanned.end):
                continue
            if _inside(readable, scanned.start, scanned.end):
                scanned.undecodable = True
                continue
            scanned.damaged = True  # (the damaged block is reported already)
            if not _inside(located, scanned.start, scanned.end):
                self.scan.damage.append(Damage(
                    scanned.start, f"{scanned.entry.path!r} lacks some of its data (blocks "
                                   f"lost)", scanned.entry.path))
        for block in good:
            if not _inside(claimed, block.data_offset, block.data_offset + block.raw_size):
                self.orphan(block.offset)


def _guess_major(view: ArchiveView) -> int:
    """A damaged header: the format by the frames that follow it (format 2 has tables)."""
    try:
        return 2 if b"T" in view[HEADER_SIZE:HEADER_SIZE + 1] else 1
    except PyarcError:  # an encrypted archive's first chunk: it holds format 2
        return 2


def _union(ranges: object) -> list[tuple[int, int]]:
    """Sorted, merged (start, end) ranges."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(ranges):  # type: ignore[call-overload]
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _inside(merged: list[tuple[int, int]], start: int, end: int) -> bool:
    """Whether [start, end) lies within one of the merged ranges."""
    at = bisect.bisect_right(merged, (start, float("inf"))) - 1
    return at >= 0 and merged[at][0] <= start and end <= merged[at][1]


class _View:
    """A read-only file-like view of the archive's bytes from an offset (parse_frame reads
    through it)."""

    def __init__(self, view: ArchiveView, offset: int) -> None:
        self.view = view
        self.position = offset

    def read(self, size: int = -1) -> bytes:
        end = len(self.view) if size < 0 else min(len(self.view), self.position + size)
        data = self.view[self.position:end]
        self.position = end
        return data

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self.position, os.SEEK_END: len(self.view)}[whence]
        self.position = base + offset
        return self.position

    def seekable(self) -> bool:
        return True


def scan(path: str | os.PathLike[str], registry: Registry | None = None,
         password: Password | None = None) -> Scan:
    """Scan the archive at `path`: its entries, intact or not, and every damage found."""
    with archive_view(path, password) as view:
        return scan_view(view, registry)


def scan_view(view: ArchiveView, registry: Registry | None = None) -> Scan:
    if len(view) == 0:
        return Scan(damage=[Damage(0, "the archive is empty")])
    return _Scanner(view, registry or default_registry()).run()


def intact_data(view: ArchiveView, scanned: ScannedEntry, found: Scan,
                registry: Registry | None = None) -> Iterator[bytes]:
    """The verified data of an intact entry found by `scan_view` in `view`, block by block."""
    registry = registry or default_registry()
    starts = [block.data_offset for block in found.good]
    position = scanned.start
    while position < scanned.end:
        block = found.good[bisect.bisect_right(starts, position) - 1]
        stream = _View(view, block.offset)
        if found.major == 1:
            frame1 = format1.parse_frame(stream, block.offset)
            header, payload = frame1.block, frame1.payload
        else:
            frame2 = format2.parse_frame(stream, block.offset)
            header, payload = frame2.header, frame2.payload
        if header is None:
            raise PyarcError(f"frame at offset {block.offset}: no longer a block (the "
                             f"archive changed while it was read)")
        data = decode_block(registry, header, payload,
                            f"block at offset {block.offset} of {scanned.entry.path!r}")
        start = position - block.data_offset
        end = min(len(data), scanned.end - block.data_offset)
        yield data[start:end]
        position = block.data_offset + end
