"""Salvage: every intact entry of a damaged archive, and every damaged one, in the manner of
bzip2recover. `pyarc test` reports with it; `pyarc unpack --salvage` extracts with it.

The archive is scanned front to back, frame by frame, trusting neither index nor footer. A
frame that fails to parse or to check is damage; the scan resynchronises at the next offset
where a whole frame parses and its XXH32 checks (a false match at a random offset is a chance
of about one in four billion). Every block is verified as a reader would (payload hash,
decoding, data hash). An entry is intact when its entry frame is followed by exactly the
blocks that cover its size, all verified; an entry whose frame was destroyed cannot be found,
and its blocks are reported as blocks without an entry. A block whose codec is not installed
is no damage: its payload hash is checked, and its entry is counted as undecodable here.
"""

from __future__ import annotations

import mmap
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from archiver.blocks import check_payload, decode_block
from archiver.errors import MissingCodecError, PyarcError
from archiver.format import (
    FRAME_BLOCK,
    FRAME_ENTRY,
    FRAME_INDEX,
    HEADER_SIZE,
    Entry,
    Kind,
    ParsedFrame,
    parse_frame,
    parse_header,
)
from archiver.plugins import Registry
from archiver.plugins import registry as default_registry

#: Where a frame may begin: at one of the three frame type bytes.
FRAME_START = re.compile(b"[" + FRAME_ENTRY + FRAME_BLOCK + FRAME_INDEX + b"]")


@dataclass
class Damage:
    offset: int
    message: str
    entry: str | None = None  # the entry it hit, when known


@dataclass
class ScannedEntry:
    entry: Entry
    blocks: list[int] = field(default_factory=list)  # offsets of its verified block frames
    missing: int = 0  # bytes of data not covered by verified blocks
    damaged: bool = False
    #: Blocks whose payload is intact but whose codec is not installed, so not decodable here.
    undecodable: int = 0

    @property
    def intact(self) -> bool:
        return not self.damaged and self.missing == 0 and not self.undecodable


@dataclass
class Scan:
    entries: list[ScannedEntry] = field(default_factory=list)
    damage: list[Damage] = field(default_factory=list)
    #: Why blocks could not be decoded although intact: one message per missing codec.
    missing_codecs: dict[tuple[str, int], str] = field(default_factory=dict)

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


class _Scanner:
    def __init__(self, view: mmap.mmap | bytes, registry: Registry) -> None:
        self.view = view
        self.registry = registry
        self.scan = Scan()
        self.current: ScannedEntry | None = None

    def frame_at(self, offset: int) -> tuple[ParsedFrame, int]:
        """The frame at offset and where it ends; PyarcError if there is none."""
        stream = _View(self.view, offset)
        frame = parse_frame(stream, offset)
        return frame, stream.position

    def resync(self, start: int) -> int:
        """The next offset from `start` where a whole frame parses and checks."""
        for found in FRAME_START.finditer(self.view, start):
            try:
                self.frame_at(found.start())
            except PyarcError:
                continue
            return found.start()
        return len(self.view)

    def damaged(self, offset: int, message: str) -> None:
        name = self.current.entry.path if self.current else None
        self.scan.damage.append(Damage(offset, message, name))
        if self.current is not None:
            self.current.damaged = True

    def close_entry(self, offset: int) -> None:
        if self.current is not None and self.current.missing:
            self.damaged(offset, f"{self.current.entry.path!r} lacks {self.current.missing} "
                                 f"bytes of data (blocks lost)")
        self.current = None

    def run(self) -> Scan:
        try:
            parse_header(_View(self.view, 0))
        except PyarcError as error:
            self.scan.damage.append(Damage(0, str(error)))
        offset = HEADER_SIZE
        while offset < len(self.view):
            try:
                frame, end = self.frame_at(offset)
            except PyarcError as error:
                if self.current is not None and not self.current.missing:
                    self.close_entry(offset)  # complete: the damage is in what follows it
                self.damaged(offset, str(error))
                self.close_entry(offset)
                offset = self.resync(offset + 1)
                continue
            if frame.index is not None:
                self.close_entry(offset)
                break  # the footer follows; the frames read are what matter
            if frame.entry is not None:
                self.close_entry(offset)
                self.current = ScannedEntry(frame.entry, missing=(
                    frame.entry.size if frame.entry.kind == Kind.FILE else 0))
                self.scan.entries.append(self.current)
            else:
                self.block(offset, frame)
            offset = end
        self.close_entry(offset)
        return self.scan

    def block(self, offset: int, frame: ParsedFrame) -> None:
        header = frame.block
        assert header is not None
        where = f"block at offset {offset}"
        if self.current is None or header.raw_size > self.current.missing:
            self.scan.damage.append(Damage(offset, f"{where}: a block without its entry (the "
                                                   f"entry frame before it is lost)"))
            return
        where = f"{where} of {self.current.entry.path!r}"
        try:
            decode_block(self.registry, header, frame.payload, where)
        except MissingCodecError as error:  # not damage: check what can be checked
            try:
                check_payload(header, frame.payload, where)
            except PyarcError as damage:
                self.damaged(offset, str(damage))
            else:
                self.scan.missing_codecs[header.codec, header.version] = str(error)
                self.current.undecodable += 1
        except PyarcError as error:
            self.damaged(offset, str(error))
        else:
            self.current.blocks.append(offset)
        self.current.missing -= header.raw_size


class _View:
    """A read-only file-like view of the archive's bytes from an offset (parse_frame reads
    through it)."""

    def __init__(self, view: mmap.mmap | bytes, offset: int) -> None:
        self.view = view
        self.position = offset

    def read(self, size: int = -1) -> bytes:
        end = len(self.view) if size < 0 else min(len(self.view), self.position + size)
        data = bytes(self.view[self.position:end])
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


def scan(path: str | os.PathLike[str], registry: Registry | None = None) -> Scan:
    """Scan the archive at `path`: its entries, intact or not, and every damage found."""
    with open(path, "rb") as file:
        if os.fstat(file.fileno()).st_size == 0:
            return Scan(damage=[Damage(0, "the archive is empty")])
        with mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as view:
            return _Scanner(view, registry or default_registry()).run()


def intact_data(path: str | os.PathLike[str], scanned: ScannedEntry,
                registry: Registry | None = None) -> Iterator[bytes]:
    """The verified data of an intact entry found by `scan`, block by block."""
    registry = registry or default_registry()
    with open(path, "rb") as file, mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as view:
        for offset in scanned.blocks:
            frame = parse_frame(_View(view, offset), offset)
            if frame.block is None:
                raise PyarcError(f"frame at offset {offset}: no longer a block (the archive "
                                 f"changed while it was read)")
            yield decode_block(registry, frame.block, frame.payload,
                               f"block at offset {offset} of {scanned.entry.path!r}")
