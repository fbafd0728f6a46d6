"""pyarc's Python API: compress/decompress bytes, pack/unpack/test files and trees.

An archive argument of "-" means standard output (pack) or standard input (everything else).
"""

from __future__ import annotations

import fcntl
import io
import itertools
import os
import stat
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import IO, TYPE_CHECKING, Any, cast

import xxhash

from archiver.atomic import AtomicOutput
from archiver.blocks import STORE, BlockEncoder, EncodedBlock, decode_items, worker_count
from archiver.catalog import Catalog
from archiver.codec import OptionValue, format_codec_spec, parse_codec_spec
from archiver.encryption import Envelope, Password, ScryptCost, SealedWriter
from archiver.errors import CodecError, FormatError, PyarcError, UsageError
from archiver.executors import check_workers, open_workers
from archiver.format import (
    DEFAULT_BLOCK_SIZE,
    DEFAULT_UNSOLID_BLOCK_SIZE,
    MAX_BLOCK_SIZE,
    MIN_BLOCK_SIZE,
    Entry,
    Kind,
)
from archiver.grouping import GROUPS
from archiver.levels import DEFAULT_LEVEL, STORE_LEVEL, check_level
from archiver.limits import DEFAULT_MAX_RATIO, OutputCap, free_space
from archiver.plugins import Registry
from archiver.plugins import registry as default_registry
from archiver.reader import Archive, StreamReader, open_archive, with_holes
from archiver.restore import Copy, Delivery, Job, needed_blocks, scatter

if TYPE_CHECKING:
    from concurrent.futures import Executor

    from archiver.extract import Extractor
    from archiver.salvage import Scan
    from archiver.writer import Source, WriteStats
# What only writing or extracting needs (archiver.writer, archiver.sources with pathspec,
# archiver.extract, archiver.members, archiver.salvage) is imported by the functions that do
# it: `pyarc list` starts without them.

AUTO = "auto"
AUTO_SAMPLE = "auto-sample"
STDIO = "-"
#: The name standard input is stored under when `pack` is given none.
STDIN_NAME = "stdin"

__all__ = [
    "AUTO", "AUTO_SAMPLE", "Listing", "compress", "compress_file", "decompress",
    "extract_entries", "make_encoder", "open_archive", "pack",
    "read_index", "salvage",
    "test", "unpack", "unpack_to",
]


def make_encoder(codec: str = AUTO, registry: Registry | None = None,
                 auto_codecs: Sequence[str] | None = None, preset: int | None = None,
                 **options: OptionValue) -> BlockEncoder:
    """The block encoder for a codec spec (`name`, `name:key=value,...`), `auto` or
    `auto-sample`.

    `auto` tries every installed codec that is `tried_by_auto` at its default settings (or
    the codec specs in `auto_codecs`, such as `bwt:stage=cm`, or every candidate the plugins
    give compression level `preset` for any kind of data: archiver/levels.py) on each block
    and keeps the smallest; `auto-sample` first tries them on a sample of the block and
    compresses the whole block with the SAMPLE_FINALISTS best only.
    """
    registry = registry or default_registry()
    store = registry.create(STORE)
    if auto_codecs is not None and not auto_codecs:
        raise UsageError("--auto-codecs: give at least one codec")
    if preset is not None:
        auto_codecs = _level_codecs(codec, registry, auto_codecs, preset)
        if not auto_codecs:
            return BlockEncoder([store], store)
    if codec in (AUTO, AUTO_SAMPLE):
        if options:
            raise UsageError(f"codec options need a codec name, not {codec!r}")
        specs = list(auto_codecs) if auto_codecs else registry.tried_by_auto()
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


def _level_codecs(codec: str, registry: Registry, auto_codecs: Sequence[str] | None,
                  level: int) -> list[str]:
    """Every codec spec the plugins give `auto` at `level`, for any kind group ([]: store, as
    level 0 does), after checking that the level goes with `codec` and `auto_codecs`."""
    check_level(level)
    if codec not in (AUTO, AUTO_SAMPLE):
        raise UsageError(f"a level chooses the codecs that auto tries: it goes with --codec "
                         f"auto or auto-sample, not {codec!r} (a codec's own effort is one "
                         f"of its options, e.g. lz77:level=9)")
    if auto_codecs is not None:
        raise UsageError("a level and --auto-codecs both choose the codecs that auto tries: "
                         "give one of them")
    if level == STORE_LEVEL:
        return []
    specs = [spec for group in GROUPS for spec in registry.auto_candidates(group, level)]
    return list(dict.fromkeys(specs)) or registry.tried_by_auto()


def metadata_encoder(registry: Registry | None = None) -> BlockEncoder:
    """The encoder of tables and the index: auto over the metadata codecs the built-in plugins
    name (Registry.metadata_codecs; store only, if there is none)."""
    registry = registry or default_registry()
    store = registry.create(STORE)
    return BlockEncoder([registry.create(name) for name in registry.metadata_codecs()]
                        or [store], store)


def group_encoders(codec: str, registry: Registry | None, auto_codecs: Sequence[str] | None,
                   preset: int | None = None) -> Callable[[str], BlockEncoder] | None:
    """For `auto` without --auto-codecs: the encoder of each kind group, auto over the codecs
    the plugins give it at compression level `preset` (the default level if None;
    Registry.auto_candidates; made once per group; every codec `tried_by_auto` for a group
    they name none for; store only at level 0); None otherwise (one encoder for every
    block)."""
    if codec != AUTO or auto_codecs is not None:
        return None
    return _GroupEncoders(registry or default_registry(),
                          DEFAULT_LEVEL if preset is None else check_level(preset))


class _GroupEncoders:
    """group_encoders' answer: a callable, each group's encoder made once, that pickles (for
    workers in other processes) as its registry and level."""

    def __init__(self, registry: Registry, level: int) -> None:
        self.registry, self.level = registry, level
        self._made: dict[str, BlockEncoder] = {}

    def __call__(self, group: str) -> BlockEncoder:
        if group not in self._made:
            self._made[group] = (
                make_encoder(AUTO, self.registry, preset=STORE_LEVEL)
                if self.level == STORE_LEVEL
                else make_encoder(AUTO, self.registry,
                                  self.registry.auto_candidates(group, self.level) or None))
        return self._made[group]

    def __reduce__(self) -> tuple[type[_GroupEncoders], tuple[Registry, int]]:
        return _GroupEncoders, (self.registry, self.level)


def check_block_size(block_size: int) -> None:
    if not MIN_BLOCK_SIZE <= block_size <= MAX_BLOCK_SIZE:
        raise UsageError(f"block size {block_size} is outside {MIN_BLOCK_SIZE}.."
                         f"{MAX_BLOCK_SIZE} bytes")


def compress(data: bytes, codec: str = AUTO, *, block_size: int = DEFAULT_BLOCK_SIZE,
             jobs: int = 1, registry: Registry | None = None,
             auto_codecs: Sequence[str] | None = None, preset: int | None = None,
             **options: OptionValue) -> bytes:
    """Compress `data` into a self-contained pyarc archive holding one unnamed entry.

    `codec` is a codec name (options may follow as keyword arguments or in `name:k=v` form),
    "auto" or "auto-sample" (see make_encoder). `auto` with a compression level `preset`
    (archiver/levels.py; named as lzma's, since `level` is an option of some codecs) tries
    what `pack` at that level tries on a file of this content (the candidates of its
    kind group); without, every codec that is `tried_by_auto`. The result is the same for
    any `jobs`.
    """
    out = io.BytesIO()
    compress_file(io.BytesIO(data), out, codec, block_size=block_size, jobs=jobs,
                  registry=registry, auto_codecs=auto_codecs, preset=preset, **options)
    return out.getvalue()


def compress_file(file: IO[bytes], out: IO[bytes], codec: str = AUTO, *,
                  block_size: int = DEFAULT_BLOCK_SIZE, jobs: int = 1,
                  registry: Registry | None = None, auto_codecs: Sequence[str] | None = None,
                  preset: int | None = None, **options: OptionValue) -> None:
    """Write to `out` the archive `compress` makes of the data of `file`, a binary file that
    seeks (a Compressor's spool), from its position to its end, read a block at a time."""
    from archiver.grouping import HEAD_SIZE, group_of, kind_of
    from archiver.writer import Source, write_archive

    start = file.tell()
    head = file.read(HEAD_SIZE)
    size = file.seek(0, io.SEEK_END) - start
    file.seek(start)
    by_group = (group_encoders(codec, registry, auto_codecs, preset)
                if preset is not None and not options else None)
    encoder = (by_group(group_of(kind_of("", head))) if by_group is not None
               else make_encoder(codec, registry, auto_codecs, preset, **options))
    check_block_size(block_size)
    entry = Entry("", Kind.FILE, 0o644, 0, size)
    blocks = iter(lambda: file.read(block_size), b"")
    write_archive(out, [Source(0, entry, blocks)], encoder, block_size, worker_count(jobs),
                  metadata=metadata_encoder(registry))


def decompress(blob: bytes, registry: Registry | None = None) -> bytes:
    """The data of a single-entry archive made by `compress` (or of any archive holding
    exactly one file), with every checksum verified."""
    return b"".join(StreamReader(io.BytesIO(blob), registry).single_file())


# -- pack ------------------------------------------------------------------------------------


def pack(
    paths: Sequence[str | os.PathLike[str]],
    archive: str | os.PathLike[str] | IO[bytes],
    *,
    codec: str = AUTO,
    auto_codecs: Sequence[str] | None = None,
    preset: int | None = None,
    block_size: int | None = None,
    solid: bool = True,
    jobs: int = 1,
    force: bool = False,
    strict: bool = False,
    exclude: Sequence[str] = (),
    dereference: bool = False,
    xattrs: bool = False,
    registry: Registry | None = None,
    on_block: Callable[[int], None] | None = None,
    on_entry: Callable[[Entry], None] | None = None,
    stdin_name: str | None = STDIN_NAME,
    stdin: IO[bytes] | None = None,
    executor: str | Executor | None = None,
    password: Password | None = None,
    kdf_cost: ScryptCost | None = None,
) -> WriteStats:
    """Pack files and directory trees into `archive` ("-" for standard output, or a binary
    file object, written from its position on and left open).

    The path "-", given alone, packs standard input (or the stream `stdin`) as one file
    entry named `stdin_name` (None: the unnamed entry of a single-stream archive, as
    `compress` writes), read block by block as it is packed; when the archive goes to
    a stream that cannot seek (a pipe), the stream is first copied to a temporary file
    (archiver/sources.py).

    With `solid` (the default) the data of many files shares blocks of up to `block_size`
    bytes (default 4 MiB), similar files side by side and identical ones stored once;
    without, each block holds the data of one file (default 1 MiB blocks): less compression,
    faster access to one file. `exclude` holds gitignore-style patterns of names to leave out,
    `dereference` follows symlinks, `xattrs` records extended attributes (archiver/sources.py);
    `preset`, a compression level (0..9, archiver/levels.py), chooses what `auto` tries.
    Blocks are compressed on `jobs` threads, or on `executor` (a spec, `processes:4`,
    `dask://HOST:PORT`, or any concurrent.futures.Executor: archiver/executors.py).
    A file that cannot be read, vanishes or changes while it is packed is a problem: warned
    about and listed in the result's `problems`, and the archive holds everything else; with
    `strict` it is an error instead.
    The archive appears at its final path only once it is complete; on any error nothing is
    left behind and an existing archive is untouched; a pack that would hold no entry at all
    is an error too.

    With a `password` the archive is encrypted and authenticated (archiver/encryption.py): its
    key derived by scrypt at `kdf_cost` (by default about 0.5 s); standard input cannot be
    packed so, as its data would pass through a temporary file or need the archive rewritten.
    """
    encoder = make_encoder(codec, registry, auto_codecs, preset)
    if block_size is None:
        block_size = DEFAULT_BLOCK_SIZE if solid else DEFAULT_UNSOLID_BLOCK_SIZE
    check_block_size(block_size)
    from archiver.sources import Problems, Selection

    names = [os.fspath(path) for path in paths]
    from_stdin = STDIO in names
    if from_stdin and len(names) > 1:
        raise UsageError("'-' (standard input) is packed alone: give no other path with it")
    if from_stdin and password is not None:
        raise UsageError("standard input cannot be packed encrypted: save it to a file and "
                         "pack that")
    selection = None if from_stdin else Selection(names, exclude, dereference, xattrs)
    check_workers(executor, jobs)
    problems = Problems(strict)

    def write(out: IO[bytes], skip: set[tuple[int, int]]) -> WriteStats:
        if selection is not None:
            sources = selection.sources(block_size, problems, skip)
        else:
            sources = iter([_stdin_source(stdin, stdin_name, block_size, out)])
        first = next(sources, None)  # before the header: an empty pack writes nothing
        if first is None:
            raise PyarcError("nothing to pack: every path given was skipped or excluded")
        stats = write_sources(out, itertools.chain([first], sources), encoder, block_size,
                              codec=codec, registry=registry, auto_codecs=auto_codecs,
                              preset=preset, solid=solid, jobs=jobs, executor=executor,
                              on_block=on_block, on_entry=on_entry, password=password,
                              kdf_cost=kdf_cost)
        stats.problems = problems.messages
        return stats

    if isinstance(archive, str | os.PathLike) and os.fspath(archive) == STDIO:
        archive = sys.stdout.buffer
        if archive.isatty():
            raise UsageError("refusing to write an archive to a terminal: redirect standard "
                             "output, or name an archive file")
    if not isinstance(archive, str | os.PathLike):  # standard output, or a stream given
        # `pyarc pack - . > x.pyarc` must not pack x.pyarc into itself.
        ours = _regular_file(archive)
        if selection is not None:
            selection.refuse(ours, "standard output" if archive is sys.stdout.buffer
                             else str(getattr(archive, "name", "the archive's stream")))
        stats = write(archive, ours)
        archive.flush()
        return stats

    target = os.fspath(archive)
    if os.path.isdir(target):
        raise UsageError(f"the archive {target!r} is a directory (the archive comes first: "
                         f"pyarc pack ARCHIVE PATH...)")
    ours = set()
    if os.path.exists(target):
        existing = os.stat(target)
        ours.add((existing.st_dev, existing.st_ino))
        if selection is not None:
            selection.refuse(ours, target)  # before the output is even created
    output = AtomicOutput(target, force)
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


def write_sources(out: IO[bytes], sources: Iterable[Source], encoder: BlockEncoder,
                  block_size: int, *, codec: str, registry: Registry | None,
                  auto_codecs: Sequence[str] | None, preset: int | None, solid: bool,
                  jobs: int, executor: str | Executor | None = None,
                  on_block: Callable[[int], None] | None = None,
                  on_entry: Callable[[Entry], None] | None = None,
                  password: Password | None = None,
                  kdf_cost: ScryptCost | None = None) -> WriteStats:
    """The archive of `sources` written to `out` as pack writes it (for pack and
    ArchiveFile): blocks by `encoder`, or by kind as `codec` and `preset` choose, tables and
    the index by built-in codecs, sealed when there is a `password`."""
    from archiver.writer import write_archive

    sealed = None if password is None else SealedWriter(out, password, block_size, kdf_cost)
    with open_workers(executor, jobs) as workers:
        stats = write_archive(out if sealed is None else cast(IO[bytes], sealed), sources,
                              encoder, block_size, workers, on_block, on_entry, solid=solid,
                              metadata=metadata_encoder(registry),
                              by_group=group_encoders(codec, registry, auto_codecs, preset))
    if sealed is not None:
        sealed.finish()
        stats.archive_bytes = sealed.sealed_bytes
    return stats


def _stdin_source(stream: IO[bytes] | None, name: str | None, block_size: int,
                  out: IO[bytes]) -> Source:
    """Standard input (or `stream`) as the one source of a pack into `out`: streamed when
    `out` can seek back to patch the entry's table, else spooled to a temporary file."""
    from archiver.sources import spooled_source, stream_source

    if stream is None:
        stream = sys.stdin.buffer
        if stream.isatty():
            raise UsageError("refusing to read data from a terminal: pipe or redirect "
                             "standard input into pyarc")
    if _can_seek_back(out):
        return stream_source(stream, name, block_size)
    return spooled_source(stream, name, block_size)


def _regular_file(out: IO[bytes]) -> set[tuple[int, int]]:
    """The identity (device, inode) of the file `out` writes to, when it is a regular one."""
    try:
        written = os.fstat(out.fileno())
    except (OSError, ValueError, io.UnsupportedOperation):  # no file descriptor: in memory
        return set()
    return {(written.st_dev, written.st_ino)} if stat.S_ISREG(written.st_mode) else set()


def _can_seek_back(out: IO[bytes]) -> bool:
    """True if `out` can seek and a write after a seek lands there (not O_APPEND)."""
    try:
        if not out.seekable():
            return False
        return not fcntl.fcntl(out.fileno(), fcntl.F_GETFL) & os.O_APPEND
    except (OSError, ValueError, io.UnsupportedOperation):  # no file descriptor: in memory
        return out.seekable()


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


def _open_index(path: str, registry: Registry | None, password: Password | None) -> Archive:
    try:
        return open_archive(path, registry, password=password)
    except OSError as error:
        raise PyarcError(f"cannot read {path!r}: {error.strerror}") from None


@dataclass(frozen=True)
class Listing:
    """What listing an archive gives: its catalog and the header's facts."""

    catalog: Catalog
    block_size: int
    archive_size: int
    format_version: str
    encryption: str | None  # how the archive is encrypted (None: it is not)


def read_index(archive: str | os.PathLike[str], registry: Registry | None = None, *,
               password: Password | None = None) -> Listing:
    """The catalog of an archive: read through the footer when it is a file, or by one pass
    without decoding the data when it is "-" (standard input)."""
    path = os.fspath(archive)
    if path != STDIO:
        with _open_index(path, registry, password) as opened:
            return Listing(opened.catalog, opened.block_size, opened.file_size,
                           opened.format_version, _encryption(opened.envelope))
    reader = StreamReader(_open_input(path), registry, password)
    for item in reader.items():
        if isinstance(item, EncodedBlock):
            item.check()
    assert reader.catalog is not None
    return Listing(reader.catalog, reader.block_size, reader.position, reader.format_version,
                   _encryption(reader.envelope))


def _encryption(envelope: Envelope | None) -> str | None:
    return envelope.describe() if envelope is not None else None


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
         on_entry: Callable[[Entry], None] | None = None,
         executor: str | Executor | None = None,
         password: Password | None = None) -> ReadStats:
    """Read the whole archive front to back, decode every block (on `jobs` threads, or on
    `executor`, as for pack) and verify every checksum, the tables, the index and the footer;
    write nothing."""
    stats = ReadStats()
    check_workers(executor, jobs)
    stream = _open_input(archive)
    try:
        reader = StreamReader(stream, registry, password)
        with open_workers(executor, jobs) as workers:
            for _, chunks in reader.deliveries(workers):
                if not isinstance(chunks, Copy):
                    for _ in _counted(chunks, stats, on_block):
                        pass
        assert reader.catalog is not None
        for entry in reader.catalog.entries:
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
    password: Password | None = None,
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
    from archiver.extract import Extractor
    from archiver.members import Members
    from archiver.salvage import archive_view, intact_data, scan_view

    members = Members(paths)
    archive_size = os.path.getsize(source)
    cap = OutputCap(repr(os.fspath(dest)), free_space(dest), max_output, max_ratio)
    restore = _Restore(_destination(source), ReadStats(), None, on_entry)
    with archive_view(source, password) as view:
        found = scan_view(view, registry)
        chosen = [scanned for scanned in found.intact if members(scanned.entry.path)]
        cap.check_salvage(sum(scanned.end - scanned.start for scanned in chosen), archive_size)
        with Extractor(dest, force=force, keep_absolute_symlinks=keep_absolute_symlinks,
                       same_owner=same_owner, numeric_owner=numeric_owner,
                       xattrs=xattrs) as extractor:
            # Files with data first, in the order of their data; hard links after their files.
            for scanned in sorted(chosen, key=lambda scanned: (
                    scanned.entry.kind == Kind.HARDLINK, scanned.start)):
                entry = restore.destination(scanned.entry)
                data = (_counted(intact_data(view, scanned, found, registry), restore.stats,
                                 None, lambda size: cap.add(size, archive_size))
                        if scanned.end > scanned.start else ())
                extractor.extract(entry, data)
                restore.done_with(scanned.entry, entry)
            extractor.finish()
    return restore.stats, found


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
    executor: str | Executor | None = None,
    password: Password | None = None,
) -> ReadStats:
    """Extract every entry (or those `paths` select: names, with everything below them, or
    gitignore-style patterns; archiver/members.py) into `dest`, decoding on `jobs` threads
    (or on `executor`, as for pack).

    From a file, only the blocks that hold the selected entries are read, each once. Each file
    is verified before it is renamed into place; existing files are refused, and existing
    directories keep their modes and mtimes, unless `force`; nothing is ever written through a
    symlink or outside `dest`. Symlinks with absolute targets are refused unless
    `keep_absolute_symlinks`. As root, owners are restored unless `same_owner` is false, by
    id only with `numeric_owner`; extended attributes only with `xattrs` (archiver/extract.py
    has the rules). At most `max_output` bytes are written, and never more than the free
    space at `dest`; a stream is also held to `max_ratio` times the archive read (0: no ratio
    cap); see archiver/limits.py.
    """
    source = os.fspath(archive)
    from archiver.extract import Extractor
    from archiver.members import Members

    members = Members(paths)
    check_workers(executor, jobs)
    options = dict(force=force, keep_absolute_symlinks=keep_absolute_symlinks,
                   same_owner=same_owner, numeric_owner=numeric_owner, xattrs=xattrs)
    if source != STDIO:
        # Open and check the archive before anything is created at the destination.
        with _open_index(source, registry, password) as opened:
            numbers = [number for number, entry in enumerate(opened.entries)
                       if members(entry.path)]
            members.check_all_found(opened.entries[number].path for number in numbers)
            return extract_entries(opened, numbers, dest, jobs=jobs, on_block=on_block,
                                   on_entry=on_entry, max_output=max_output,
                                   executor=executor, **options)

    cap = OutputCap(repr(os.fspath(dest)), free_space(dest), max_output, max_ratio)
    restore = _Restore(_destination(source), ReadStats(), on_block, on_entry)
    stream = StreamReader(_open_input(source), registry, password)
    # The sizes come as the data does: cap the output as it is written.
    with Extractor(dest, **options) as extractor, open_workers(executor, jobs) as workers:
        restore.files(extractor, stream.deliveries(workers), members,
                      lambda size: cap.add(size, stream.position))
        assert stream.catalog is not None
        numbers = [number for number, entry in enumerate(stream.catalog.entries)
                   if members(entry.path)]
        members.check_all_found(stream.catalog.entries[n].path for n in numbers)
        restore.others(extractor, stream.catalog, numbers)
        extractor.finish()
    return restore.stats


def extract_entries(
    opened: Archive,
    numbers: Iterable[int],
    dest: str | os.PathLike[str] = ".",
    *,
    force: bool = False,
    keep_absolute_symlinks: bool = False,
    same_owner: bool = True,
    numeric_owner: bool = False,
    xattrs: bool = False,
    jobs: int = 1,
    on_block: Callable[[int], None] | None = None,
    on_entry: Callable[[Entry], None] | None = None,
    max_output: int | None = None,
    executor: str | Executor | None = None,
) -> ReadStats:
    """`unpack` of an archive already open (open_archive): the entries at `numbers` in
    `opened.entries` (in any order), with the same checks before anything is written and the
    same safe extraction (the options are unpack's). For ArchiveFile, which names its members
    exactly, and opens an encrypted archive once."""
    from archiver.extract import Extractor

    check_workers(executor, jobs)
    catalog = opened.catalog
    numbers = sorted(set(numbers))  # archive order: a hard link after its file
    selected = [catalog.entries[number] for number in numbers]
    cap = OutputCap(repr(os.fspath(dest)), free_space(dest), max_output)
    restore = _Restore(_destination(opened.path), ReadStats(), on_block, on_entry)
    opened.verify(selected)
    jobs_list, items = opened.plan(numbers)
    cap.check_declared(sum(job.end - job.start for job in jobs_list))
    for codec, version in sorted({(ref.codec, ref.version)
                                  for ref in needed_blocks(catalog, jobs_list)}):
        opened.registry.require(codec, version)  # missing: refuse before writing
    with Extractor(dest, force=force, keep_absolute_symlinks=keep_absolute_symlinks,
                   same_owner=same_owner, numeric_owner=numeric_owner,
                   xattrs=xattrs) as extractor, open_workers(executor, jobs) as workers:
        extractor.check_conflicts(map(restore.destination, selected))
        restore.others(extractor, catalog, numbers, directories=True)
        # (the plan holds the jobs of the selected entries only)
        restore.files(extractor, scatter(decode_items(items, opened.registry, workers)),
                      lambda path: True, None)
        restore.others(extractor, catalog, numbers)
        extractor.finish()
    return restore.stats


def unpack_to(
    archive: str | os.PathLike[str],
    out: IO[bytes],
    path: str | None = None,
    *,
    jobs: int = 1,
    registry: Registry | None = None,
    max_output: int | None = None,
    executor: str | Executor | None = None,
    password: Password | None = None,
) -> ReadStats:
    """Write the content of one file entry, `path` (an exact name; a hard link gives its
    file's), to `out` as its blocks are decoded and verified: `pyarc unpack -c`. Without
    `path` the archive must hold exactly one file. Holes of a sparse file are written as
    zeros. Nothing else is written, and nothing at all when the entry cannot be read; a block
    damaged part-way stops the writing with an error, as `xz -dc` does: what `out` got by then
    is incomplete. From "-" (standard input) the archive is read front to back: the entry must
    then be a file with data of its own (not a hard link, not a copy of an earlier file)."""
    source = os.fspath(archive)
    check_workers(executor, jobs)
    cap = OutputCap("standard output", None, max_output, 0)
    stats = ReadStats()
    if source == STDIO:
        stream = StreamReader(_open_input(source), registry, password)
        found = False
        with open_workers(executor, jobs) as workers:
            for job, data in stream.deliveries(workers):
                if found and path is None:
                    raise UsageError("the archive holds more than one file: name the one to "
                                     "write to standard output")
                if found or not (path is None or job.entry.path == path):
                    continue  # (its bytes are passed over)
                if isinstance(data, Copy):
                    raise PyarcError(f"{job.entry.path!r} has the same contents as "
                                     f"{data.source.entry.path!r}, which a stream gives "
                                     f"once: unpack it from the archive file")
                _write_content(out, job.entry, data, stats, cap)
                found = True
        assert stream.catalog is not None
        entry = _the_entry(stream.catalog, path)
        if entry.kind == Kind.HARDLINK:
            raise PyarcError(f"{entry.path!r} is a hard link to {entry.target!r}: read from a "
                             f"stream, give {entry.target!r}")
        stats.count(entry)
        return stats
    with _open_index(source, registry, password) as opened:
        entry = _the_entry(opened.catalog, path)
        content = (opened.entries[opened.number(entry.target)] if entry.kind == Kind.HARDLINK
                   else entry)
        opened.verify([content])
        _write_content(out, content, opened.data(content), stats, cap)  # (cached, one thread)
    stats.count(entry)
    return stats


def _the_entry(catalog: Catalog, path: str | None) -> Entry:
    """The file entry `path` names (None: the only file), or an error saying why not."""
    files = [entry for entry in catalog.entries if entry.kind in (Kind.FILE, Kind.HARDLINK)]
    if path is None:
        if len(files) != 1:
            raise UsageError(f"the archive holds {len(files)} files: name the one to write "
                             f"to standard output")
        return files[0]
    for entry in catalog.entries:
        if entry.path == path:
            if entry.kind not in (Kind.FILE, Kind.HARDLINK):
                raise UsageError(f"{path!r} is a {entry.kind.name.lower()}, not a file: only "
                                 f"a file's content can go to standard output")
            return entry
    raise PyarcError(f"{path!r} is not in the archive")


def _write_content(out: IO[bytes], entry: Entry, data: Iterable[bytes], stats: ReadStats,
                   cap: OutputCap) -> None:
    """The entry's content to `out`: its data, with the holes between its extents as zeros."""
    for chunk in with_holes(entry, data):
        cap.add(len(chunk), 0)
        out.write(chunk)
        stats.bytes += len(chunk)


@dataclass
class _Restore:
    """Writing what an extraction selected: first the files with data, in the order of their
    data, as their bytes come; then every other entry (directories, symlinks, empty files,
    FIFOs, and hard links once their files are there)."""

    destination: Callable[[Entry], Entry]
    stats: ReadStats
    on_block: Callable[[int], None] | None
    on_entry: Callable[[Entry], None] | None
    #: Each data range already written, with the file that got it and the hash of its bytes.
    written: dict[tuple[int, int], tuple[Entry, int]] = field(default_factory=dict)
    done: set[str] = field(default_factory=set)  # paths of the entries already extracted

    def files(self, extractor: Extractor, deliveries: Iterator[Delivery],
              wanted: Callable[[str], bool], cap: Callable[[int], None] | None) -> None:
        for job, data in deliveries:
            if not wanted(job.entry.path):
                continue  # (a stream: its bytes are passed over)
            target = self.destination(job.entry)
            if isinstance(data, Copy):
                data = self._copy(extractor, job, data)
            hasher = xxhash.xxh3_64()
            try:
                extractor.extract(target, _hashed(_counted(data, self.stats, self.on_block,
                                                           cap), hasher), linked=job.linked)
            except (FormatError, CodecError) as error:  # a block of its data is damaged
                raise type(error)(f"{error}; {job.entry.path!r} is not extracted") from None
            self.written.setdefault((job.start, job.end), (target, hasher.intdigest()))
            self.done_with(job.entry, target)

    def _copy(self, extractor: Extractor, job: Job, copy: Copy) -> Iterator[bytes]:
        """The bytes of an earlier file with the same data, read back from where it was
        written, and checked to be what was written."""
        found = self.written.get((job.start, job.end))
        if found is None:
            raise PyarcError(f"{job.entry.path!r} has the same contents as "
                             f"{copy.source.entry.path!r}, which was not extracted: a stream "
                             f"gives them once; extract both, or unpack the archive file")
        source, digest = found

        def checked() -> Iterator[bytes]:
            hasher = xxhash.xxh3_64()
            for chunk in extractor.read_back(source):
                hasher.update(chunk)
                yield chunk
            if hasher.intdigest() != digest:
                raise PyarcError(f"{source.path!r} changed on disk while it was unpacked; "
                                 f"{job.entry.path!r}, a copy of it, is not extracted")

        return checked()

    def others(self, extractor: Extractor, catalog: Catalog, numbers: list[int],
               directories: bool = False) -> None:
        """The selected entries not yet extracted (with `directories`, the directories only,
        which go first when the catalog is known in advance: then even a failed unpack leaves
        them their modes); hard links last, once their files are."""
        rest = [catalog.entries[number] for number in numbers
                if catalog.entries[number].path not in self.done
                and (catalog.entries[number].kind == Kind.DIRECTORY or not directories)]
        for entry in sorted(rest, key=lambda entry: entry.kind == Kind.HARDLINK):
            target = self.destination(entry)
            extractor.extract(target, ())
            self.done_with(entry, target)

    def done_with(self, entry: Entry, target: Entry) -> None:
        self.done.add(entry.path)
        self.stats.count(entry)
        if self.on_entry is not None:
            self.on_entry(target)


def _hashed(data: Iterable[bytes], hasher: Any) -> Iterator[bytes]:
    for chunk in data:
        hasher.update(chunk)
        yield chunk
