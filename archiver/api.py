"""pyarc's Python API: compress/decompress bytes, pack/unpack/test files and trees.

An archive argument of "-" means standard output (pack) or standard input (everything else).
"""

from __future__ import annotations

import contextlib
import io
import os
import secrets
import stat
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import IO

from archiver.blocks import STORE, BlockEncoder
from archiver.codec import OptionValue, format_codec_spec, parse_codec_spec
from archiver.errors import ExistsError, PyarcError, UsageError
from archiver.extract import Extractor
from archiver.format import (
    DEFAULT_BLOCK_SIZE,
    MAX_BLOCK_SIZE,
    MIN_BLOCK_SIZE,
    Entry,
    Index,
    Kind,
)
from archiver.limits import DEFAULT_MAX_RATIO, OutputCap, free_space
from archiver.plugins import Registry
from archiver.plugins import registry as default_registry
from archiver.reader import Archive, StreamReader, open_archive
from archiver.salvage import Scan, intact_data, scan
from archiver.sources import collect
from archiver.writer import Source, WriteStats, write_archive

AUTO = "auto"
AUTO_SAMPLE = "auto-sample"
STDIO = "-"

__all__ = [
    "AUTO", "AUTO_SAMPLE", "Listing", "compress", "decompress", "make_encoder", "open_archive",
    "pack",
    "read_index", "salvage",
    "test", "unpack",
]


def make_encoder(codec: str = AUTO, registry: Registry | None = None,
                 auto_codecs: Sequence[str] | None = None,
                 **options: OptionValue) -> BlockEncoder:
    """The block encoder for a codec spec (`name`, `name:key=value,...`), `auto` or
    `auto-sample`.

    `auto` tries every installed codec at its default settings (or the codec specs in
    `auto_codecs`, such as `bwt:stage=cm`) on each block and keeps the smallest;
    `auto-sample` first tries them on a sample of the block and compresses the whole block
    with the SAMPLE_FINALISTS best only.
    """
    registry = registry or default_registry()
    store = registry.create(STORE)
    if codec in (AUTO, AUTO_SAMPLE):
        if options:
            raise UsageError(f"codec options need a codec name, not {codec!r}")
        specs = list(auto_codecs) if auto_codecs else registry.names()
        unknown = sorted({parse_codec_spec(spec)[0] for spec in specs} - set(registry.names()))
        if unknown:
            raise UsageError(f"--auto-codecs: no codec named {unknown[0]!r} is installed "
                             f"(see pyarc codecs)")
        # One candidate per distinct setting (a codec may come with several, in the order
        # given: on equal sizes and equal decode_rank, the first is kept).
        created = {codec.spec: codec for codec in map(registry.create, [STORE, *specs])}
        candidates = sorted(created.values(), key=lambda candidate: candidate.decode_rank)
        return BlockEncoder(candidates, store, sample=codec == AUTO_SAMPLE)
    if auto_codecs:
        raise UsageError("--auto-codecs goes with --codec auto or auto-sample")
    name, text_options = parse_codec_spec(codec)
    clash = set(text_options) & set(options)
    if clash:
        raise UsageError(f"option {sorted(clash)[0]!r} given twice")
    merged: dict[str, OptionValue] = {**text_options, **options}
    return BlockEncoder([registry.create(format_codec_spec(name, merged))], store)


def check_block_size(block_size: int) -> None:
    if not MIN_BLOCK_SIZE <= block_size <= MAX_BLOCK_SIZE:
        raise UsageError(f"block size {block_size} is outside {MIN_BLOCK_SIZE}.."
                         f"{MAX_BLOCK_SIZE} bytes")


def _slices(data: bytes, block_size: int) -> Iterator[bytes]:
    view = memoryview(data)
    for start in range(0, len(data), block_size):
        yield bytes(view[start:start + block_size])


def compress(data: bytes, codec: str = AUTO, *, block_size: int = DEFAULT_BLOCK_SIZE,
             jobs: int = 1, registry: Registry | None = None,
             auto_codecs: Sequence[str] | None = None, **options: OptionValue) -> bytes:
    """Compress `data` into a self-contained pyarc archive holding one unnamed entry.

    `codec` is a codec name (options may follow as keyword arguments or in `name:k=v` form),
    "auto" or "auto-sample" (see make_encoder). The result is the same for any `jobs`.
    """
    encoder = make_encoder(codec, registry, auto_codecs, **options)
    check_block_size(block_size)
    entry = Entry("", Kind.FILE, 0o644, 0, len(data))
    out = io.BytesIO()
    write_archive(out, [(entry, _slices(data, block_size))], encoder, block_size, jobs)
    return out.getvalue()


def decompress(blob: bytes, registry: Registry | None = None) -> bytes:
    """The data of a single-entry archive made by `compress` (or of any archive holding
    exactly one file), with every checksum verified."""
    entries, found = 0, None
    for entry, data in StreamReader(io.BytesIO(blob), registry).entries():
        entries += 1
        if entries == 1 and entry.kind == Kind.FILE:
            found = b"".join(data)
    if entries != 1 or found is None:
        raise UsageError(f"the archive holds {entries} entries, not a single file; "
                         f"use open_archive() or unpack()")
    return found


# -- pack ------------------------------------------------------------------------------------


class _AtomicOutput:
    """A file written under a temporary name and renamed into place only when complete."""

    def __init__(self, path: str, force: bool) -> None:
        if os.path.lexists(path) and not force:
            raise ExistsError(f"refusing to overwrite existing {path!r} (use --force)")
        if os.path.isdir(path):
            raise ExistsError(f"{path!r} is a directory")
        self.path = path
        folder, name = os.path.split(os.path.abspath(path))
        self.temporary = os.path.join(folder, f".{name}.{secrets.token_hex(4)}.pyarc-tmp")
        try:
            # 0o666 so the umask decides the final mode, as for any new file.
            descriptor = os.open(self.temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except OSError as error:
            raise PyarcError(f"cannot create {path!r}: {error.strerror}") from None
        self.file = os.fdopen(descriptor, "wb", buffering=1 << 20)

    def identity(self) -> tuple[int, int]:
        info = os.fstat(self.file.fileno())
        return info.st_dev, info.st_ino

    def commit(self) -> None:
        self.file.flush()
        os.fsync(self.file.fileno())
        self.file.close()
        os.replace(self.temporary, self.path)

    def discard(self) -> None:
        # Closing flushes the buffer, which fails again on a full disk: the file goes anyway.
        with contextlib.suppress(OSError):
            self.file.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.temporary)


def pack(
    paths: Sequence[str | os.PathLike[str]],
    archive: str | os.PathLike[str],
    *,
    codec: str = AUTO,
    auto_codecs: Sequence[str] | None = None,
    block_size: int = DEFAULT_BLOCK_SIZE,
    jobs: int = 1,
    force: bool = False,
    registry: Registry | None = None,
    on_block: Callable[[int], None] | None = None,
) -> WriteStats:
    """Pack files and directory trees into `archive` ("-" for standard output).

    The archive appears at its final path only once it is complete; on any error nothing is
    left behind and an existing archive is untouched.
    """
    encoder = make_encoder(codec, registry, auto_codecs)
    check_block_size(block_size)
    names = [os.fspath(path) for path in paths]
    if not names:
        raise UsageError("nothing to pack: give at least one path")
    target = os.fspath(archive)

    def sources(ours: set[tuple[int, int]]) -> Iterator[Source]:
        """The entries to pack, without the archive itself (given by device and inode)."""
        return collect(names, block_size, exclude=lambda info: (info.st_dev, info.st_ino) in ours)

    if target == STDIO:
        out = sys.stdout.buffer
        # `pyarc pack - . > x.pyarc` must not pack x.pyarc into itself.
        written = os.fstat(out.fileno())
        ours = {(written.st_dev, written.st_ino)} if stat.S_ISREG(written.st_mode) else set()
        stats = write_archive(out, sources(ours), encoder, block_size, jobs, on_block)
        out.flush()
        return stats

    output = _AtomicOutput(target, force)
    ours = {output.identity()}
    if os.path.exists(target):
        existing = os.stat(target)
        ours.add((existing.st_dev, existing.st_ino))
    try:
        stats = write_archive(output.file, sources(ours), encoder, block_size, jobs, on_block)
        output.commit()
    except OSError as error:
        output.discard()
        raise PyarcError(f"cannot write {target!r}: {error.strerror or error}") from None
    except BaseException:
        output.discard()
        raise
    return stats


# -- reading ---------------------------------------------------------------------------------


@dataclass
class ReadStats:
    entries: int = 0
    files: int = 0
    bytes: int = 0


def _open_input(archive: str | os.PathLike[str]) -> IO[bytes]:
    path = os.fspath(archive)
    if path == STDIO:
        return sys.stdin.buffer
    try:
        return open(path, "rb")  # noqa: SIM115 (the caller closes it)
    except OSError as error:
        raise PyarcError(f"cannot open {path!r}: {error.strerror}") from None


def _open_index(path: str, registry: Registry | None) -> Archive:
    try:
        return open_archive(path, registry)
    except OSError as error:
        raise PyarcError(f"cannot read {path!r}: {error.strerror}") from None


@dataclass(frozen=True)
class Listing:
    """What listing an archive gives: its index and the header's facts."""

    index: Index
    block_size: int
    archive_size: int
    format_version: str


def read_index(archive: str | os.PathLike[str], registry: Registry | None = None) -> Listing:
    """The index of an archive: read through the footer when it is a file, or by one pass
    without decoding when it is "-" (standard input)."""
    path = os.fspath(archive)
    if path != STDIO:
        with _open_index(path, registry) as opened:
            return Listing(opened.index, opened.block_size, opened.size, opened.format_version)
    reader = StreamReader(_open_input(path), registry)
    for _ in reader.entries(decode=False):
        pass
    return Listing(reader.seen, reader.block_size, reader.position, reader.format_version)


def test(archive: str | os.PathLike[str], registry: Registry | None = None,
         on_block: Callable[[int], None] | None = None) -> ReadStats:
    """Read the whole archive front to back, decode every block and verify every checksum,
    the index and the footer; write nothing."""
    stats = ReadStats()
    stream = _open_input(archive)
    try:
        for entry, data in StreamReader(stream, registry).entries():
            stats.entries += 1
            stats.files += entry.kind == Kind.FILE
            for block in data:
                stats.bytes += len(block)
                if on_block is not None:
                    on_block(len(block))
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()
    return stats


def _unnamed_name(archive: str) -> str:
    """Where the unnamed entry of a single-stream archive is extracted: like gunzip, the
    archive's name without `.pyarc`."""
    base = os.path.basename(archive)
    if archive == STDIO:
        return "stdin.out"
    return base[: -len(".pyarc")] if base.endswith(".pyarc") and len(base) > 6 else base + ".out"


def _selector(paths: Iterable[str]) -> Callable[[str], bool]:
    """A test for entry names: those named in `paths` and everything below them (all if none)."""
    wanted = [path.strip("/") for path in paths]
    if not wanted:
        return lambda name: True
    return lambda name: any(name == w or name.startswith(w + "/") for w in wanted)


def salvage(
    archive: str | os.PathLike[str],
    dest: str | os.PathLike[str] = ".",
    paths: Sequence[str] = (),
    *,
    force: bool = False,
    registry: Registry | None = None,
) -> tuple[ReadStats, Scan]:
    """Extract every intact entry of a damaged archive (or of those named in `paths`) into
    `dest`, found by scanning its frames (archiver/salvage.py) without trusting its index.
    Returns what was extracted and the scan, whose `damaged` entries were left out."""
    source = os.fspath(archive)
    if source == STDIO:
        raise UsageError("salvage needs an archive file, not a stream")
    wanted = _selector(paths)
    found = scan(source, registry)
    stats = ReadStats()
    with Extractor(dest, force=force) as extractor:
        for scanned in found.intact:
            entry = scanned.entry
            if not wanted(entry.path):
                continue
            entry = replace(entry, path=_unnamed_name(source)) if not entry.path else entry
            data = intact_data(source, scanned, registry) if entry.kind == Kind.FILE else ()
            extractor.extract(entry, data)
            stats.entries += 1
            stats.files += entry.kind == Kind.FILE
            stats.bytes += entry.size if entry.kind == Kind.FILE else 0
        extractor.finish()
    return stats, found


def _check_all_found(paths: Sequence[str], found: Sequence[str]) -> None:
    for path in paths:
        if not any(map(_selector([path]), found)):
            raise PyarcError(f"{path!r} is not in the archive")


def unpack(
    archive: str | os.PathLike[str],
    dest: str | os.PathLike[str] = ".",
    paths: Sequence[str] = (),
    *,
    force: bool = False,
    registry: Registry | None = None,
    on_block: Callable[[int], None] | None = None,
    max_output: int | None = None,
    max_ratio: int = DEFAULT_MAX_RATIO,
) -> ReadStats:
    """Extract every entry (or those named in `paths`, with everything below them) into `dest`.

    Each file is verified before it is renamed into place; existing files are refused unless
    `force`; nothing is ever written through a symlink or outside `dest`. At most `max_output`
    bytes are written (default: the free space at `dest`), and at most `max_ratio` times the
    archive's size (0: no ratio cap); see archiver/limits.py.
    """
    source = os.fspath(archive)
    wanted = _selector(paths)
    stats = ReadStats()
    extracted: list[str] = []
    cap = OutputCap(free_space(dest) if max_output is None else max_output, max_ratio,
                    repr(os.fspath(dest)))

    def destination(entry: Entry) -> Entry:
        return replace(entry, path=_unnamed_name(source)) if not entry.path else entry

    def counted(data: Iterable[bytes]) -> Iterator[bytes]:
        for block in data:
            stats.bytes += len(block)
            if stream is not None:  # sizes were not known in advance: cap as they come
                cap.add(len(block), stream.position)
            if on_block is not None:
                on_block(len(block))
            yield block

    # Open and check the archive before anything is created at the destination.
    opened: Archive | None = None
    stream: StreamReader | None = None
    if source == STDIO:
        stream = StreamReader(sys.stdin.buffer, registry)
        pairs: Iterable[tuple[Entry, Iterable[bytes]]] = (
            (entry, data) for entry, data in stream.entries() if wanted(entry.path))
    else:
        opened = _open_index(source, registry)
        selected = [entry for entry in opened.entries if wanted(entry.path)]
        pairs = ((entry, opened.iter_data(entry)) for entry in selected)
    try:
        if opened is not None:
            _check_all_found(paths, [entry.path for entry in selected])
            opened.verify_entry_frames(selected)
            cap.check_declared(sum(entry.size for entry in selected), opened.size)
            for codec, version in sorted({(ref.codec, ref.version) for entry in selected
                                          for ref in opened.blocks_of(entry)}):
                opened.registry.require(codec, version)  # missing: refuse before writing
        with Extractor(dest, force=force) as extractor:
            if opened is not None:
                extractor.check_conflicts(map(destination, selected))
            for entry, data in pairs:
                extractor.extract(destination(entry),
                                  counted(data) if entry.kind == Kind.FILE else ())
                extracted.append(entry.path)
                stats.entries += 1
                stats.files += entry.kind == Kind.FILE
            extractor.finish()
    finally:
        if opened is not None:
            opened.close()
    _check_all_found(paths, extracted)
    return stats
