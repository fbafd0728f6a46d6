"""pyarc's Python API: compress/decompress bytes, pack/unpack/test files and trees.

An archive argument of "-" means standard output (pack) or standard input (everything else).
"""

from __future__ import annotations

import contextlib
import io
import itertools
import os
import secrets
import stat
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import IO

from archiver.blocks import (
    STORE,
    BlockEncoder,
    EntryBlocks,
    EntryData,
    decode_entries,
    worker_count,
)
from archiver.codec import OptionValue, format_codec_spec, parse_codec_spec
from archiver.errors import ExistsError, PyarcError, UsageError
from archiver.extract import Extractor
from archiver.format import (
    DEFAULT_BLOCK_SIZE,
    FORMAT_MAJOR,
    MAX_BLOCK_SIZE,
    MIN_BLOCK_SIZE,
    Entry,
    Index,
    Kind,
)
from archiver.limits import DEFAULT_MAX_RATIO, OutputCap, free_space
from archiver.members import Members
from archiver.plugins import Registry
from archiver.plugins import registry as default_registry
from archiver.reader import Archive, StreamReader, open_archive
from archiver.salvage import Scan, intact_data, scan
from archiver.sources import Problems, Selection
from archiver.writer import WriteStats, write_archive

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
    if auto_codecs is not None and not auto_codecs:
        raise UsageError("--auto-codecs: give at least one codec")
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
    write_archive(out, [(entry, _slices(data, block_size))], encoder, block_size,
                  worker_count(jobs))
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
    strict: bool = False,
    exclude: Sequence[str] = (),
    dereference: bool = False,
    xattrs: bool = False,
    registry: Registry | None = None,
    on_block: Callable[[int], None] | None = None,
    on_entry: Callable[[Entry], None] | None = None,
) -> WriteStats:
    """Pack files and directory trees into `archive` ("-" for standard output).

    `exclude` holds gitignore-style patterns of names to leave out, `dereference` follows
    symlinks, `xattrs` records extended attributes (archiver/sources.py). A file that cannot
    be read, vanishes or changes while it is packed is a problem: warned about and listed in
    the result's `problems`, and the archive holds everything else; with `strict` it is an
    error instead. The archive appears at its final path only once it is complete; on any
    error nothing is left behind and an existing archive is untouched; a pack that would hold
    no entry at all is an error too.
    """
    encoder = make_encoder(codec, registry, auto_codecs)
    check_block_size(block_size)
    selection = Selection([os.fspath(path) for path in paths], exclude, dereference, xattrs)
    threads = worker_count(jobs)
    problems = Problems(strict)
    target = os.fspath(archive)

    def write(out: IO[bytes], skip: set[tuple[int, int]]) -> WriteStats:
        # Format 1.0 stores no hard links, extents or FIFOs: sources gives it what it can.
        sources = selection.sources(block_size, problems, skip, format_1=FORMAT_MAJOR == 1)
        first = next(sources, None)  # before the header: an empty pack writes nothing
        if first is None:
            raise PyarcError("nothing to pack: every path given was skipped or excluded")
        stats = write_archive(out, itertools.chain([first], sources), encoder, block_size,
                              threads, on_block, on_entry)
        stats.problems = problems.messages
        return stats

    if target == STDIO:
        out = sys.stdout.buffer
        if out.isatty():
            raise UsageError("refusing to write an archive to a terminal: redirect standard "
                             "output, or name an archive file")
        written = os.fstat(out.fileno())
        # `pyarc pack - . > x.pyarc` must not pack x.pyarc into itself.
        ours = {(written.st_dev, written.st_ino)} if stat.S_ISREG(written.st_mode) else set()
        selection.refuse(ours, "standard output")
        stats = write(out, ours)
        out.flush()
        return stats

    if os.path.isdir(target):
        raise UsageError(f"the archive {target!r} is a directory (the archive comes first: "
                         f"pyarc pack ARCHIVE PATH...)")
    ours = set()
    if os.path.exists(target):
        existing = os.stat(target)
        ours.add((existing.st_dev, existing.st_ino))
        selection.refuse(ours, target)  # before the output is even created
    output = _AtomicOutput(target, force)
    ours.add(output.identity())
    try:
        stats = write(output.file, ours)
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

    def count(self, entry: Entry) -> None:
        self.entries += 1
        self.files += entry.kind == Kind.FILE


def _open_input(archive: str | os.PathLike[str]) -> IO[bytes]:
    path = os.fspath(archive)
    if path == STDIO:
        if sys.stdin.isatty():
            raise UsageError("refusing to read an archive from a terminal: redirect standard "
                             "input, or name the archive file")
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


def _counted(data: Iterable[bytes], stats: ReadStats, on_block: Callable[[int], None] | None,
             cap: Callable[[int], None] | None = None) -> Iterator[bytes]:
    """The blocks of `data`, counted into `stats`; `cap(size)` runs before each is passed on."""
    for block in data:
        if cap is not None:
            cap(len(block))
        stats.bytes += len(block)
        if on_block is not None:
            on_block(len(block))
        yield block


def test(archive: str | os.PathLike[str], registry: Registry | None = None,
         on_block: Callable[[int], None] | None = None, *, jobs: int = 1,
         on_entry: Callable[[Entry], None] | None = None) -> ReadStats:
    """Read the whole archive front to back, decode every block (on `jobs` threads) and verify
    every checksum, the index and the footer; write nothing."""
    stats = ReadStats()
    threads = worker_count(jobs)
    stream = _open_input(archive)
    try:
        reader = StreamReader(stream, registry)
        for entry, data in decode_entries(reader.encoded_entries(), reader.registry, threads):
            for _ in _counted(data, stats, on_block):
                pass
            stats.count(entry)
            if on_entry is not None:
                on_entry(entry)
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


def _destination(archive: str) -> Callable[[Entry], Entry]:
    """Entries as they are written: the unnamed entry under the archive's name."""
    return lambda entry: entry if entry.path else replace(entry, path=_unnamed_name(archive))


def salvage(
    archive: str | os.PathLike[str],
    dest: str | os.PathLike[str] = ".",
    paths: Sequence[str] = (),
    *,
    force: bool = False,
    keep_absolute_symlinks: bool = False,
    same_owner: bool = True,
    numeric_owner: bool = False,
    xattrs: bool = False,
    registry: Registry | None = None,
    max_output: int | None = None,
    max_ratio: int = DEFAULT_MAX_RATIO,
    on_entry: Callable[[Entry], None] | None = None,
) -> tuple[ReadStats, Scan]:
    """Extract every intact entry of a damaged archive (or of those named in `paths`) into
    `dest`, found by scanning its frames (archiver/salvage.py) without trusting its index.
    `force`, `keep_absolute_symlinks`, the owner and xattrs options and the caps are as for
    `unpack`, the ratio included:
    the intact entries' total is checked before anything is written, and the output is
    counted as it is written.
    Returns what was extracted and the scan, whose `damaged` entries were left out."""
    source = os.fspath(archive)
    if source == STDIO:
        raise UsageError("salvage needs an archive file, not a stream")
    members = Members(paths)
    found = scan(source, registry)
    chosen = [scanned for scanned in found.intact if members(scanned.entry.path)]
    archive_size = os.path.getsize(source)
    cap = OutputCap(repr(os.fspath(dest)), free_space(dest), max_output, max_ratio)
    cap.check_salvage(sum(scanned.entry.size for scanned in chosen), archive_size)
    destination = _destination(source)
    stats = ReadStats()
    with Extractor(dest, force=force, keep_absolute_symlinks=keep_absolute_symlinks,
                   same_owner=same_owner, numeric_owner=numeric_owner,
                   xattrs=xattrs) as extractor:
        for scanned in chosen:
            entry = destination(scanned.entry)
            data = (_counted(intact_data(source, scanned, registry), stats, None,
                             lambda size: cap.add(size, archive_size))
                    if entry.kind == Kind.FILE else ())
            extractor.extract(entry, data)
            stats.count(entry)
            if on_entry is not None:
                on_entry(entry)
        extractor.finish()
    return stats, found


def unpack(
    archive: str | os.PathLike[str],
    dest: str | os.PathLike[str] = ".",
    paths: Sequence[str] = (),
    *,
    force: bool = False,
    keep_absolute_symlinks: bool = False,
    same_owner: bool = True,
    numeric_owner: bool = False,
    xattrs: bool = False,
    jobs: int = 1,
    registry: Registry | None = None,
    on_block: Callable[[int], None] | None = None,
    on_entry: Callable[[Entry], None] | None = None,
    max_output: int | None = None,
    max_ratio: int = DEFAULT_MAX_RATIO,
) -> ReadStats:
    """Extract every entry (or those `paths` select: names, with everything below them, or
    gitignore-style patterns; archiver/members.py) into `dest`, decoding on `jobs` threads.

    Each file is verified before it is renamed into place; existing files are refused, and
    existing directories keep their modes and mtimes, unless `force`; nothing is ever written
    through a symlink or outside `dest`. Symlinks with absolute targets are refused unless
    `keep_absolute_symlinks`. As root, owners are restored unless `same_owner` is false, by
    id only with `numeric_owner`; extended attributes only with `xattrs` (archiver/extract.py
    has the rules). At most `max_output` bytes are written, and never more than the free
    space at `dest`; a stream is also held to `max_ratio` times the archive read (0: no ratio
    cap); see archiver/limits.py.
    """
    source = os.fspath(archive)
    members = Members(paths)
    threads = worker_count(jobs)
    options = dict(force=force, keep_absolute_symlinks=keep_absolute_symlinks,
                   same_owner=same_owner, numeric_owner=numeric_owner, xattrs=xattrs)
    cap = OutputCap(repr(os.fspath(dest)), free_space(dest), max_output, max_ratio)
    destination = _destination(source)
    stats = ReadStats()

    def extract_all(extractor: Extractor, pairs: Iterable[EntryData],
                    cap_check: Callable[[int], None] | None) -> list[str]:
        extracted = []
        for entry, data in pairs:
            chunks = _counted(data, stats, on_block, cap_check) if entry.kind == Kind.FILE else ()
            extractor.extract(destination(entry), chunks)
            extracted.append(entry.path)
            stats.count(entry)
            if on_entry is not None:
                on_entry(entry)
        extractor.finish()
        return extracted

    if source == STDIO:
        stream = StreamReader(_open_input(source), registry)

        def chosen() -> Iterator[EntryBlocks]:
            for entry, blocks in stream.encoded_entries():
                if members(entry.path):
                    yield entry, blocks
                else:
                    for block in blocks:
                        block.check()

        # The sizes come as the data does: cap the output as it is written.
        with Extractor(dest, **options) as extractor:
            extracted = extract_all(extractor,
                                    decode_entries(chosen(), stream.registry, threads),
                                    lambda size: cap.add(size, stream.position))
        members.check_all_found(extracted)
        return stats

    # Open and check the archive before anything is created at the destination.
    with _open_index(source, registry) as opened:
        selected = [entry for entry in opened.entries if members(entry.path)]
        members.check_all_found(entry.path for entry in selected)
        opened.verify_entry_frames(selected)
        cap.check_declared(sum(entry.size for entry in selected))
        for codec, version in sorted({(ref.codec, ref.version) for entry in selected
                                      for ref in opened.blocks_of(entry)}):
            opened.registry.require(codec, version)  # missing: refuse before writing
        pairs = decode_entries(((entry, opened.encoded_blocks(entry)) for entry in selected),
                               opened.registry, threads)
        with Extractor(dest, **options) as extractor:
            extractor.check_conflicts(map(destination, selected))
            extract_all(extractor, pairs, None)
    return stats
