"""The `pyarc` command line (typer).

Exit codes: 0 success, 1 a data or file error (corrupt archive, missing codec, unsafe path,
missing file, full disk, an input that could not be packed as it was) or an interruption
(SIGINT, SIGTERM, SIGHUP), 2 a usage error (bad option, unknown codec name). Every error is one
line on stderr; no traceback (set PYARC_DEBUG=1 to see one).
"""

from __future__ import annotations

import copy
import functools
import itertools
import json
import os
import re
import signal
import stat
import sys
import threading
import time
import warnings
from array import array
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from types import FrameType
from typing import IO, TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperCommand, TyperGroup

import archiver
from archiver import api, passwords
from archiver.blocks import MAX_JOBS
from archiver.catalog import Catalog
from archiver.codec import kernel_status, split_codec_specs
from archiver.errors import (
    MissingCodecError,
    PasswordNeededError,
    PyarcError,
    UsageError,
    WrongPasswordError,
)
from archiver.format import (
    DEFAULT_BLOCK_SIZE,
    DEFAULT_UNSOLID_BLOCK_SIZE,
    ENCRYPTED_MAJOR,
    MAX_BLOCK_SIZE,
    MIN_BLOCK_SIZE,
    BlockRef,
    Entry,
    Kind,
)
from archiver.levels import DEFAULT_LEVEL, LEVELS
from archiver.limits import DEFAULT_MAX_RATIO
from archiver.plugins import registry

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import ProgressColumn

    from archiver.salvage import Scan


def _words_only(params: list[Any]) -> list[Any]:
    """Help that shows what to type, not Python types: typer 0.2x prints `<str>`,
    `<list[str]>` or `<bool>` beside every parameter, where the metavar (ARCHIVE, PATH, N)
    already says it, and a flag takes no value at all."""
    for param in params:
        if getattr(param, "is_flag", False) or (param.param_type_name == "argument"
                                                and param.metavar is not None):
            param.display_type_rich = lambda ctx: None
    return params


class _PlainValues:
    """typer (0.2x) checks every parameter's value with a pydantic TypeAdapter, whose import
    costs a third of `pyarc list`'s start-up: this takes the values that need no checking (none,
    a string for a `str` parameter, an int in range for an `int` one, as every default is) as
    they are, and hands any other to typer's own check."""

    def __init__(self, param: Any) -> None:
        self.param = param

    def plain(self, value: Any) -> bool:
        info = self.param.type_descriptor
        annotation = info.annotation
        if self.param.multiple or self.param.nargs != 1:
            return False
        if annotation is str:
            return isinstance(value, str)
        low, high = info.parameter_info.min, info.parameter_info.max
        return (annotation is int and type(value) is int
                and (low is None or low <= value) and (high is None or value <= high))

    def coerce(self, value: Any, param: Any, ctx: Any) -> Any:
        if value is None:  # as typer does: no value, nothing to check
            return () if self.param.multiple or self.param.nargs == -1 else None
        if self.plain(value):
            return value
        from typer._coercion import build_runtime_param

        return build_runtime_param(self.param.type_descriptor).coerce(value, param=param,
                                                                      ctx=ctx)


def _plain_values(params: list[Any]) -> list[Any]:
    """Each typer parameter checks its values through _PlainValues (where typer has the
    lazily-built checker that _PlainValues stands in front of)."""
    for param in params:
        if getattr(param, "_runtime_param", False) is None and hasattr(param,
                                                                       "type_descriptor"):
            param._runtime_param = _PlainValues(param)
    return params


class _Command(TyperCommand):
    def get_params(self, ctx: Any) -> list[Any]:
        return _plain_values(_words_only(super().get_params(ctx)))


class _Group(TyperGroup):
    def get_params(self, ctx: Any) -> list[Any]:
        return _plain_values(_words_only(super().get_params(ctx)))


app = typer.Typer(
    name="pyarc",
    cls=_Group,
    help="A plugin-based archiver and compression laboratory.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def command(*args: Any, **kwargs: Any) -> Callable[[Callable[..., Any]], Any]:
    """app.command, with help in words (see _words_only)."""
    return app.command(*args, cls=_Command, **kwargs)


@functools.cache
def _console(to_stderr: bool = False) -> Console:
    """The rich console of standard output or standard error, made when first needed (rich
    costs a fifth of `pyarc list`'s start-up, which prints without it)."""
    from rich.console import Console

    return (Console(stderr=True, highlight=False) if to_stderr
            else Console(highlight=False, soft_wrap=True))


def _print(*objects: Any) -> None:
    """rich's print on standard output."""
    _console().print(*objects)


def _table(*columns: str, **options: Any) -> Any:
    from rich.table import Table

    return Table(*columns, **options)

ArchiveArg = Annotated[str, typer.Argument(help="The archive file; '-' for stdin/stdout.",
                                           metavar="ARCHIVE")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
JobsOption = Annotated[int, typer.Option(
    "--jobs", "-j", metavar="N",
    help=f"Work on N threads, 0 to {MAX_JOBS} (0: one per core; never more threads than "
         f"cores). The result is identical for any N.")]
ExecutorOption = Annotated[str | None, typer.Option(
    "--executor", "-e", metavar="SPEC",
    help="Where blocks are compressed or decoded: threads[:N] (the default, as -j N), "
         "processes[:N] (worker processes: for a codec that holds the GIL), dask[:N] (a local "
         "Dask cluster of N processes) or dask://HOST:PORT (an existing Dask scheduler; "
         "needs pyarc[dask]). The result is identical on any.")]
PasswordFileOption = Annotated[str | None, typer.Option(
    "--password-file", metavar="FILE",
    help="An encrypted archive's password: the content of FILE, without its final newline. "
         "Else the PYARC_PASSWORD environment variable (less safe), else the terminal "
         "asks.")]
VerboseOption = Annotated[bool, typer.Option("--verbose", "-v",
                                             help="List each entry as it is processed.")]
QuietOption = Annotated[bool, typer.Option(
    "--quiet", "-q", help="Print errors only: no summary, progress bar or warnings.")]

#: What typer returns (standalone_mode=False) when a command was interrupted by Ctrl-C.
TYPER_INTERRUPTED = 130

_SIZE = re.compile(r"(\d+)\s*([kmg]?)(i?b)?", re.IGNORECASE)


def parse_size(text: str, option: str = "--block-size") -> int:
    """'65536', '64K', '64KiB', '1M', '1MB' -> bytes (K, M and G are powers of 1024)."""
    match = _SIZE.fullmatch(text.strip())
    if not match:
        raise UsageError(f"{option}: {text!r} is not a size (e.g. 65536, 64K, 1M)")
    number, unit = int(match.group(1)), match.group(2).lower()
    return number * {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}[unit]


def _count(number: int, one: str, many: str) -> str:
    return f"{number} {one if number == 1 else many}"


@contextmanager
def _progress(total: int | None, label: str) -> Iterator[Callable[[int], None] | None]:
    """A byte-count progress bar on stderr when stderr is a terminal; nothing otherwise."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    columns: list[str | ProgressColumn] = [
        label, BarColumn(), DownloadColumn(), TransferSpeedColumn(), TimeRemainingColumn()
    ]
    with Progress(*columns, console=_console(True), transient=True) as bar:
        task = bar.add_task(label, total=total)
        yield lambda amount: bar.advance(task, amount)


class _Report:
    """What a command prints besides errors: a progress bar and a summary line on stderr, or,
    with -v, each entry as it is processed (on stdout, unless stdout carries the archive), or,
    with -q, nothing (warnings included)."""

    def __init__(self, verbose: bool, quiet: bool, stdout_is_data: bool = False) -> None:
        if verbose and quiet:
            raise UsageError("choose one of --verbose and --quiet")
        self.verbose, self.quiet = verbose, quiet
        self._listing = sys.stderr if stdout_is_data else sys.stdout
        if quiet:
            warnings.simplefilter("ignore")

    @property
    def shows_progress(self) -> bool:
        return not (self.verbose or self.quiet) and sys.stderr.isatty()

    @contextmanager
    def progress(self, total: Callable[[], int | None],
                 label: str) -> Iterator[Callable[[int], None] | None]:
        if not self.shows_progress:
            yield None
            return
        with _progress(total(), label) as on_block:
            yield on_block

    def entry(self, entry: Entry) -> None:
        if self.verbose:
            name = _printable(entry.path) + ("/" if entry.kind == Kind.DIRECTORY else "")
            print(name, file=self._listing, flush=True)

    def summary(self, line: str) -> None:
        if not self.quiet:
            _console(True).print(line)


def _workers(jobs: int, executor: str | None) -> str | None:
    """-j N and --executor, which name the same thing: refuse both."""
    if jobs and executor is not None:
        raise UsageError("give -j N or --executor, not both (-j N is --executor threads:N)")
    return executor


def _solid_and_block_size(solid: str, block_size: str | None) -> tuple[bool, int | None]:
    """--solid on|off|SIZE and --block-size as (solid?, the block size or None: the default)."""
    size = None if block_size is None else parse_size(block_size)
    if solid in ("on", "off"):
        return solid == "on", size
    solid_size = parse_size(solid, "--solid")
    if size is not None and size != solid_size:
        raise UsageError(f"--solid {solid} and --block-size {block_size} disagree: give one")
    return True, solid_size


PACK_HELP = (
    "Pack files and directory trees into ARCHIVE.\n\n"
    "Each entry keeps its mode, mtime and owner; a file with several names is stored once "
    "(the others as hard links), a sparse file as its data only, a FIFO as an entry; "
    "extended attributes with --xattrs.\n\n"
    "A file that cannot be read, vanishes, or changes while it is read is warned about and "
    "left out or stored as it was read (a file that shrank: padded with zeros; one that grew: "
    "its first bytes); everything else is packed and pyarc exits 1. With --strict such a "
    "file is an error, and no archive is written.\n\n"
    "The PATH '-', alone, packs standard input as one file (named by --name), read block by "
    "block: `pg_dump db | pyarc pack db.pyarc - --name db.sql`."
)


@command(help=PACK_HELP)
def pack(
    archive: ArchiveArg,
    paths: Annotated[list[str], typer.Argument(
        help="Files and directories to pack; '-' alone for standard input.", metavar="PATH")],
    codec: Annotated[str, typer.Option(
        "--codec", "-c", metavar="CODEC",
        help="NAME or NAME:KEY=VALUE,...: the codec for every block, with options "
             "(arithmetic:order=1); 'auto': try every "
             "installed codec on each block and keep the smallest (on equal sizes the faster "
             "decoder); 'auto-sample': rank the codecs on a 64 KiB sample of each block and "
             "try only the best two on the block (faster; may miss the smallest).")] = api.AUTO,
    auto_codecs: Annotated[str | None, typer.Option(
        "--auto-codecs", metavar="CODEC,...",
        help="With auto or auto-sample: try only these codecs, each at its defaults or with "
             "the options given; a codec may come more than once (ppm,bwt,bwt:stage=cm). "
             "store is always a candidate.")] = None,
    level: Annotated[int | None, typer.Option(
        "--level", metavar="N", min=LEVELS.start, max=LEVELS.stop - 1,
        help=f"-0 .. -9 for short: what auto tries on each block, 0 store only, 1 fastest, "
             f"9 smallest (the slowest codecs too); default {DEFAULT_LEVEL}. `pyarc codecs` "
             f"lists each level's codecs.")] = None,
    block_size: Annotated[str | None, typer.Option(
        "--block-size", "-b", metavar="SIZE",
        help=f"The largest block, {MIN_BLOCK_SIZE // 1024}K to {MAX_BLOCK_SIZE >> 20}M "
             f"(suffixes K, M); default {DEFAULT_BLOCK_SIZE >> 20}M, with --solid off "
             f"{DEFAULT_UNSOLID_BLOCK_SIZE >> 20}M.")] = None,
    solid: Annotated[str, typer.Option(
        "--solid", metavar="on|off|SIZE",
        help="on (the default): the data of many files shares each block, similar files side "
             "by side and identical ones stored once; SIZE: on, with blocks of up to SIZE (as "
             "-b); off: a block holds the data of one file only, for quicker access to a "
             "single file at some cost in size.")] = "on",
    jobs: JobsOption = 0,
    executor: ExecutorOption = None,
    exclude: Annotated[list[str] | None, typer.Option(
        "--exclude", "-x", metavar="PATTERN",
        help="Leave out the names that match PATTERN, gitignore-style ('*.pyc', "
             "'__pycache__/', '/build', 'docs/**/*.png'); a folder matched is not entered. "
             "Repeat for more patterns.")] = None,
    dereference: Annotated[bool, typer.Option(
        "--dereference", "-L",
        help="Follow symlinks: store what they point to instead of the links.")] = False,
    xattrs: Annotated[bool, typer.Option(
        "--xattrs", help="Store extended attributes too (every namespace this user can "
                         "read).")] = False,
    strict: Annotated[bool, typer.Option(
        "--strict", help="Refuse to write an archive if any file could not be packed as it "
                         "was (unreadable, vanished, changed while read).")] = False,
    force: Annotated[bool, typer.Option("--force", "-f",
                                        help="Overwrite an existing archive.")] = False,
    name: Annotated[str, typer.Option(
        "--name", metavar="NAME",
        help="With the PATH '-': the name standard input is stored under.")] = api.STDIN_NAME,
    encrypt: Annotated[bool, typer.Option(
        "--encrypt",
        help="Encrypt and authenticate the whole archive, names and sizes included, with a "
             "password (asked twice on the terminal, or --password-file, or "
             "PYARC_PASSWORD): scrypt and ChaCha20-Poly1305.")] = False,
    password_file: PasswordFileOption = None,
    verbose: VerboseOption = False,
    quiet: QuietOption = False,
) -> None:
    is_solid, size = _solid_and_block_size(solid, block_size)
    if password_file is not None and not encrypt:
        raise UsageError("--password-file is for an encrypted archive: add --encrypt")
    password = passwords.for_new_archive(password_file) if encrypt else None
    report = _Report(verbose, quiet, stdout_is_data=archive == api.STDIO)
    started = time.perf_counter()
    from archiver.sources import Selection

    def total() -> int | None:  # (standard input's size is unknown)
        return None if api.STDIO in paths else Selection(paths, exclude or (),
                                                         dereference).total_size()

    with report.progress(total, "packing") as on_block:
        stats = api.pack(paths, archive, codec=codec, preset=level, block_size=size,
                         solid=is_solid, jobs=jobs, executor=_workers(jobs, executor),
                         force=force,
                         strict=strict, exclude=exclude or (), dereference=dereference,
                         xattrs=xattrs, on_block=on_block, on_entry=report.entry,
                         stdin_name=name, password=password,
                         auto_codecs=None if auto_codecs is None
                         else split_codec_specs(auto_codecs))
    if archive != api.STDIO:
        ratio = f"{stats.archive_bytes / stats.raw_bytes:.1%}" if stats.raw_bytes else "-"
        report.summary(
            f"packed {_count(stats.entries, 'entry', 'entries')}, {stats.raw_bytes:,} bytes into "
            f"{stats.archive_bytes:,} ({ratio}) in {time.perf_counter() - started:.2f} s"
        )
    if stats.problems:
        which = f"the first: {stats.problems[0]}" if quiet else "see the warnings"
        raise PyarcError(f"{_count(len(stats.problems), 'file was', 'files were')} not packed "
                         f"as on disk ({which}); the archive holds everything else "
                         f"(--strict refuses such a pack)")


def _total_size(archive: str) -> int | None:
    """The archive's data size for a progress bar, when the index reads."""
    if archive == api.STDIO:
        return None
    try:
        return sum(entry.data_size for entry in api.read_index(archive).catalog.entries)
    except PyarcError:  # (an encrypted archive too: its key is derived once, by the command)
        return None  # the command itself reports the damage


def _report_damage(found: Scan) -> None:
    """Every damaged place and entry a salvage scan found, on standard output."""
    for damage in found.damage:
        _print(f"damaged  offset {damage.offset}: {damage.message}")
    for scanned in found.damaged:
        _print(f"damaged entry  {_printable(scanned.entry.path)}")
    for scanned in found.undecodable:
        _print(f"undecodable entry  {_printable(scanned.entry.path)} (codec not "
                     f"installed)")


def _damage_summary(found: Scan, fate: str) -> str:
    places = _count(len(found.damage), "damaged place", "damaged places")
    return (f"{places}; {len(found.damaged)} of {len(found.entries)} entries {fate} "
            f"(listed on standard output)")


def _missing_codecs(found: Scan) -> str:
    """One clause naming the codecs a scan could not decode with, or ''."""
    if not found.missing_codecs:
        return ""
    return "; ".join(found.missing_codecs.values())


UNPACK_HELP = (
    "Extract ARCHIVE, verifying every checksum before a file is put in place.\n\n"
    "PATH selects entries by name, with everything below them ('src/lib', './src/lib/'), or "
    "by gitignore-style pattern ('*.py', 'src/**/*.c'); all entries when none is given.\n\n"
    "Nothing is written outside DIR or through a symlink. Symlinks leading outside DIR, "
    "absolute ones included (unless --keep-absolute-symlinks), are left out and reported after "
    "everything else is extracted. Modes are restored without setuid and setgid, minus the "
    "umask unless you are root; directories that existed keep theirs unless --force. As root, "
    "owners are restored too, by name where this system has the name, else by id.\n\n"
    "From a file, the index and the entry frame of every entry to extract are checked before "
    "anything is written, and each file's blocks (checksums, sizes) before the file is put in "
    "place; frames of entries not extracted are not read (pyarc test reads them all). From "
    "'-', every frame is checked as it comes: the entries before a damaged one may already be "
    "written."
)


@command(help=UNPACK_HELP)
def unpack(
    archive: ArchiveArg,
    paths: Annotated[list[str] | None, typer.Argument(
        help="Entries to extract (with everything below them), or patterns; all if none.",
        metavar="PATH")] = None,
    directory: Annotated[str, typer.Option(
        "--directory", "-C", metavar="DIR",
        help="Extract into DIR (created if missing).")] = ".",
    force: Annotated[bool, typer.Option(
        "--force", "-f", help="Replace existing files and symlinks, and give existing "
                              "directories the archive's modes and times.")] = False,
    keep_absolute_symlinks: Annotated[bool, typer.Option(
        "--keep-absolute-symlinks",
        help="Create symlinks with absolute targets as given (to restore a system tree) "
             "instead of leaving them out; links through them may lead outside DIR too. "
             "Relative targets that climb out of DIR ('../x') are still left out, and nothing "
             "is ever written through a symlink.")] = False,
    no_same_owner: Annotated[bool, typer.Option(
        "--no-same-owner", help="Do not restore owners (only root does): what is extracted "
                                "belongs to whoever unpacks it.")] = False,
    numeric_owner: Annotated[bool, typer.Option(
        "--numeric-owner", help="Restore owners by their archived ids, ignoring the user and "
                                "group names.")] = False,
    xattrs: Annotated[bool, typer.Option(
        "--xattrs", help="Restore extended attributes; one the file system refuses is a "
                         "warning.")] = False,
    jobs: JobsOption = 0,
    executor: ExecutorOption = None,
    salvage: Annotated[bool, typer.Option(
        "--salvage", help="For a damaged archive: extract every entry whose data is intact, "
                          "found by scanning its frames, and list the damaged ones.")] = False,
    max_output: Annotated[str | None, typer.Option(
        "--max-output", metavar="SIZE",
        help="Refuse to write more than SIZE bytes of data (suffixes K, M, G). Never more "
             "than the free space at the destination is written, whatever SIZE.")] = None,
    max_ratio: Annotated[int, typer.Option(
        "--max-ratio", metavar="N", min=0,
        help="From a stream or with --salvage, where sizes cannot be known in advance: stop "
             "when the data grows to more than N times the archive read (a decompression "
             "bomb); 0: no limit.")] = DEFAULT_MAX_RATIO,
    to_stdout: Annotated[bool, typer.Option(
        "--stdout", "-c",
        help="Write the content of one file, the PATH given by its exact name (or the "
             "archive's only file), to standard output instead of extracting anything.")
    ] = False,
    password_file: PasswordFileOption = None,
    verbose: VerboseOption = False,
    quiet: QuietOption = False,
) -> None:
    report = _Report(verbose, quiet)
    password = passwords.for_reading(password_file)
    cap = None if max_output is None else parse_size(max_output, "--max-output")
    if to_stdout:
        if salvage:
            raise UsageError("--stdout writes one intact file: it cannot be used with --salvage")
        if paths and len(paths) > 1:
            raise UsageError(f"--stdout writes one file: give one PATH, not {len(paths)}")
        api.unpack_to(archive, sys.stdout.buffer, paths[0] if paths else None, jobs=jobs,
                      executor=_workers(jobs, executor), max_output=cap, password=password)
        sys.stdout.buffer.flush()
        return
    if salvage:
        stats, found = api.salvage(archive, directory, paths or [], force=force,
                                   keep_absolute_symlinks=keep_absolute_symlinks,
                                   same_owner=not no_same_owner, numeric_owner=numeric_owner,
                                   xattrs=xattrs, max_output=cap, max_ratio=max_ratio,
                                   on_entry=report.entry, password=password)
        _report_damage(found)
        salvaged = f"salvaged {_count(stats.entries, 'entry', 'entries')}, {stats.bytes:,} bytes"
        if found.damage:
            raise PyarcError(f"{salvaged}; {_damage_summary(found, 'not extracted')}")
        if found.undecodable:
            raise PyarcError(f"{salvaged}; {_missing_codecs(found)}")
        report.summary(salvaged)
        return
    with report.progress(lambda: _total_size(archive), "unpacking") as on_block:
        api.unpack(archive, directory, paths or [], force=force,
                   keep_absolute_symlinks=keep_absolute_symlinks,
                   same_owner=not no_same_owner, numeric_owner=numeric_owner, xattrs=xattrs,
                   jobs=jobs, executor=_workers(jobs, executor), on_block=on_block,
                   on_entry=report.entry,
                   max_output=cap, max_ratio=max_ratio, password=password)


def _printable(name: str) -> str:
    """A name as it is, unless it holds control characters: then escaped, as `ls -b` does,
    so that a crafted archive cannot drive the terminal."""
    return name if name.isprintable() else name.encode("unicode_escape").decode("ascii")


def _mode_string(kind: Kind, mode: int) -> str:
    """`ls -l`'s mode column; a hard link shows as `h`, as in `tar -tv`."""
    type_bit = {Kind.FILE: stat.S_IFREG, Kind.DIRECTORY: stat.S_IFDIR,
                Kind.SYMLINK: stat.S_IFLNK, Kind.HARDLINK: stat.S_IFREG,
                Kind.FIFO: stat.S_IFIFO}[kind]
    shown = stat.filemode(type_bit | mode)
    return "h" + shown[1:] if kind == Kind.HARDLINK else shown


def _unicode(key: str, name: str) -> dict[str, str]:
    """A stored name for JSON: `key` as valid Unicode (U+FFFD for bytes that are not UTF-8)
    and, only when the stored bytes are not UTF-8, `KEY_bytes`: those bytes in hex."""
    stored = os.fsencode(name)  # the bytes in the archive (Entry holds os.fsdecode of them)
    try:
        return {key: stored.decode("utf-8")}
    except UnicodeDecodeError:
        return {key: stored.decode("utf-8", "replace"), f"{key}_bytes": stored.hex()}


def _json_row(entry: Entry, refs: Sequence[BlockRef], stored: int) -> dict[str, Any]:
    return dict(
        **_unicode("path", entry.path), type=entry.kind.name.lower(), size=entry.size,
        stored=stored, codecs=sorted({ref.codec for ref in refs}), blocks=len(refs),
        mode=f"{entry.mode:04o}", mtime_ns=entry.mtime_ns,
        **({"owner": entry.user or entry.uid, "group": entry.group or entry.gid}
           if entry.uid is not None else {}),
        **(_unicode("target", entry.target) if entry.target else {}),
    )


def _shown_name(entry: Entry) -> str:
    name = entry.path or "(unnamed)"
    if entry.kind == Kind.SYMLINK:
        name = f"{name} -> {entry.target}"
    elif entry.kind == Kind.HARDLINK:
        name = f"{name} link to {entry.target}"
    return _printable(name)


def _stored(catalog: Catalog, blocks: list[tuple[BlockRef, ...]]) -> Iterator[int]:
    """Each entry's share of the stored bytes (in a solid block, in proportion to its data)."""
    return (catalog.stored_share(number, refs) for number, refs in enumerate(blocks))


#: The entries `list` formats at a time: its output is written in pieces, so that listing a
#: million entries holds no column of strings, only the catalog.
LIST_CHUNK = 4096


def _write_listing(catalog: Catalog, out: IO[str]) -> None:
    """The text of `pyarc list`: a line per entry with its mode, size, stored size (its share
    of solid blocks), codecs, date and name, in columns as wide as their widest cell."""
    entries, blocks = catalog.entries, catalog.entry_blocks()
    # Archives hold few distinct modes, block tuples (entries in one block share one) and
    # seconds: each is formatted once.
    mode_string = functools.cache(_mode_string)
    codecs = functools.cache(lambda refs: ",".join(sorted({ref.codec for ref in refs})) or "-")
    minute = functools.cache(
        lambda second: time.strftime("%Y-%m-%d %H:%M", time.localtime(second)))
    stored = array("Q", _stored(catalog, blocks))  # 8 bytes an entry, not a str
    width = [len(str(max(column, default=0))) for column in
             ((entry.size for entry in entries), stored)]
    width.append(max(map(len, map(codecs, blocks)), default=0))
    rows = zip(entries, blocks, stored, strict=True)
    while chunk := list(itertools.islice(rows, LIST_CHUNK)):
        out.write("".join(
            f"{mode_string(entry.kind, entry.mode)} {entry.size:>{width[0]}} "
            f"{share:>{width[1]}} {codecs(refs):<{width[2]}} "
            f"{minute(entry.mtime_ns // 1_000_000_000)} {_shown_name(entry)}\n"
            for entry, refs, share in chunk))


def _write_json_listing(catalog: Catalog, out: IO[str]) -> None:
    """`pyarc list --json`: what json.dumps(rows, indent=1) gives, written a row at a time."""
    blocks = catalog.entry_blocks()
    rows = zip(catalog.entries, blocks, _stored(catalog, blocks), strict=True)
    out.write("[")
    for number, (entry, refs, stored) in enumerate(rows):
        row = json.dumps(_json_row(entry, refs, stored), indent=1).replace("\n", "\n ")
        out.write(f"{',' if number else ''}\n {row}")
    out.write("\n]\n" if catalog.entries else "]\n")


LIST_HELP = (
    "List the entries of ARCHIVE (read from its index only).\n\n"
    "With --json, a name that is not UTF-8 also comes as its stored bytes in hex: path_bytes "
    "(and a symlink's target_bytes)."
)


@command("list", help=LIST_HELP)
def list_(archive: ArchiveArg, as_json: JsonOption = False,
          password_file: PasswordFileOption = None) -> None:
    catalog = api.read_index(archive, password=passwords.for_reading(password_file)).catalog
    (_write_json_listing if as_json else _write_listing)(catalog, sys.stdout)


TEST_HELP = (
    "Verify every checksum of ARCHIVE (frames, data, index, footer) without writing.\n\n"
    "On damage, scan the whole archive and list every damaged block and entry."
)


@command(help=TEST_HELP)
def test(archive: ArchiveArg, jobs: JobsOption = 0, executor: ExecutorOption = None,
         password_file: PasswordFileOption = None, verbose: VerboseOption = False,
         quiet: QuietOption = False) -> None:
    report = _Report(verbose, quiet)
    password = passwords.for_reading(password_file)
    try:
        with report.progress(lambda: _total_size(archive), "testing") as on_block:
            stats = api.test(archive, on_block=on_block, jobs=jobs,
                             executor=_workers(jobs, executor),
                             on_entry=report.entry, password=password)
    except PyarcError as error:
        if archive == api.STDIO or isinstance(error, UsageError | WrongPasswordError
                                                     | PasswordNeededError):
            raise
        from archiver.salvage import scan

        found = scan(archive, password=password)
        _report_damage(found)
        if found.damage:
            raise PyarcError(f"{error}; {_damage_summary(found, 'damaged')}") from None
        if isinstance(error, MissingCodecError):
            raise PyarcError(f"{_missing_codecs(found) or error}; no damage found: every "
                             f"frame and payload checksum that can be checked holds") from None
        raise
    report.summary(f"OK: {_count(stats.entries, 'entry', 'entries')}, {stats.bytes:,} bytes "
                   f"verified")


INFO_HELP = (
    "Show the format version, block count, codec usage and ratio of ARCHIVE.\n\n"
    "Of an encrypted archive, how it is encrypted; its contents only with its password from "
    "--password-file or PYARC_PASSWORD (info never asks on the terminal)."
)


@command(help=INFO_HELP)
def info(archive: ArchiveArg, as_json: JsonOption = False,
         password_file: PasswordFileOption = None) -> None:
    from archiver.encryption import envelope_of
    from archiver.reader import summarize

    password = passwords.given(password_file)
    envelope = envelope_of(archive) if archive != api.STDIO else None
    if envelope is not None and password is None:
        hidden = "its contents are encrypted: give the password (--password-file or " \
                 "PYARC_PASSWORD) to see them"
        if as_json:
            print(json.dumps(dict(format_version=f"{ENCRYPTED_MAJOR}.0",
                                  block_size=envelope.block_size,
                                  archive_size=os.path.getsize(archive),
                                  encryption=envelope.describe()), indent=1))
            return
        _print(f"format version  {ENCRYPTED_MAJOR}.0 (encrypted)")
        _print(f"encryption      {envelope.describe()}")
        _print(f"archive         {os.path.getsize(archive):,} bytes; {hidden}")
        return
    listing = api.read_index(archive, password=password)
    summary = summarize(listing.catalog, listing.format_version, listing.block_size,
                        listing.archive_size)
    summary.encryption = listing.encryption
    if as_json:
        print(json.dumps(summary.as_dict(), indent=1))
        return
    _print(f"format version  {summary.format_version}"
           + (f" in an encrypted archive ({ENCRYPTED_MAJOR}.0)" if summary.encryption else ""))
    if summary.encryption:
        _print(f"encryption      {summary.encryption}")
    _print(f"block size      {summary.block_size:,}")
    plural = {"file": "files", "directory": "directories", "symlink": "symlinks",
              "hardlink": "hard links", "fifo": "FIFOs"}
    kinds = ", ".join(_count(count, kind.replace("hardlink", "hard link"), plural[kind])
                      for kind, count in sorted(summary.entries.items()))
    _print(f"entries         {sum(summary.entries.values())} ({kinds or 'none'})")
    _print(f"blocks          {summary.blocks}"
                 + (f" in {summary.segments} segments" if summary.segments else ""))
    _print(f"data            {summary.raw_bytes:,} bytes")
    if summary.shared_bytes:
        _print(f"stored once     {summary.shared_bytes:,} bytes of identical files "
                     f"(deduplication)")
    _print(f"archive         {summary.archive_size:,} bytes")
    if summary.raw_bytes:
        _print(f"ratio           {summary.ratio:.4f} "
                     f"({8 * summary.ratio:.3f} bits per byte)")
    if summary.codecs:
        table = _table("codec", "blocks", "data bytes", "stored bytes", "ratio")
        for name, usage in sorted(summary.codecs.items()):
            table.add_row(name, str(usage.blocks), f"{usage.raw_bytes:,}",
                          f"{usage.stored_bytes:,}",
                          f"{usage.stored_bytes / usage.raw_bytes:.4f}")
        _print(table)
    if summary.groups:
        table = _table("group", "blocks", "data bytes", "stored bytes", "ratio", "codecs won")
        for name, usage in sorted(summary.groups.items()):
            wins = ", ".join(f"{codec} {count}" for codec, count
                             in summary.group_codecs[name].most_common())
            table.add_row(name, str(usage.blocks), f"{usage.raw_bytes:,}",
                          f"{usage.stored_bytes:,}",
                          f"{usage.stored_bytes / usage.raw_bytes:.4f}", wins)
        _print(table)


ENTROPY_HELP = (
    "Estimate how far each FILE can be compressed.\n\n"
    "Prints H0, the empirical entropies H1..Hk (descriptive, not bounds), the exact code "
    "lengths of adaptive order-k models and of a context-model codec, and from those the "
    "estimated achievable size."
)


@command(help=ENTROPY_HELP)
def entropy(
    files: Annotated[list[str], typer.Argument(help="Files to measure.", metavar="FILE...")],
    max_order: Annotated[int, typer.Option(
        "--max-order", "-k", metavar="K",
        help="Measure context orders up to K (0 to 7).")] = 4,  # lab.entropy's bounds
    as_json: JsonOption = False,
) -> None:
    from archiver.lab.entropy import MAX_ORDER, Measure, estimate

    if not 0 <= max_order <= MAX_ORDER:
        raise UsageError(f"--max-order {max_order} is outside 0..{MAX_ORDER}")
    reports = {}
    for name in files:
        if os.path.isdir(name):
            raise UsageError(f"{name!r} is a directory: name the files to measure")
        with open(name, "rb") as file:
            reports[name] = estimate(file.read(), max_order)
    if as_json:
        print(json.dumps({name: report.as_dict() for name, report in reports.items()},
                         indent=1))
        return
    for name, report in reports.items():
        table = _table("measure", "bits per byte", "bytes", "what it is",
                      title=f"{name}: {report.size:,} bytes", title_justify="left")
        rows = [Measure("H0", report.h0, "a bound for static order-0 codes"), *report.empirical,
                *report.adaptive]
        for measure in rows:
            table.add_row(measure.name, f"{measure.bits_per_byte:.3f}",
                          f"{measure.bits_per_byte * report.size / 8:,.0f}", measure.meaning)
        _print(table)
        ratio = report.achievable_bytes / report.size if report.size else 1.0
        _print(f"estimated achievable: {report.achievable_bytes:,} bytes "
                     f"({report.achievable_bits_per_byte:.3f} bits per byte, ratio {ratio:.3f})"
                     f"; {report.reasoning}")


@command()
def codecs(as_json: JsonOption = False) -> None:
    """List the installed codecs: payload versions written and read, plugin, kernels."""
    rows = [
        dict(name=found.codec.name, version=found.codec.version,
             reads=found.codec.versions_read(),
             distribution=found.distribution, plugin=found.plugin,
             kernels=kernel_status(found.codec), description=found.codec.description,
             options=[spec.describe() for spec in found.codec.option_specs])
        for found in registry()
    ]
    if as_json:
        print(json.dumps(rows, indent=1))
        return
    table = _table("codec", "version", "reads", "provided by", "kernels", "options",
                  "description")
    for found in registry():
        codec = found.codec
        table.add_row(codec.name, str(codec.version), ",".join(map(str, codec.versions_read())),
                      found.distribution, kernel_status(codec),
                      "\n".join(spec.describe() for spec in codec.option_specs) or "-",
                      codec.description)
    _print(table)
    _print(_levels_table())


def _levels_table() -> Any:
    """What auto tries at each level, per kind of data (the plugins' auto_candidates)."""
    from archiver.grouping import GROUPS

    table = _table("level", *GROUPS, title="compression levels (pack -0 .. -9; "
                                           f"default {DEFAULT_LEVEL})")
    for level in LEVELS:
        cells = [", ".join(registry().auto_candidates(group, level)) or
                 ("store" if level == 0 else "every codec") for group in GROUPS]
        table.add_row(str(level), *cells)
    return table


CodecsOption = Annotated[list[str] | None, typer.Option(
    "--codecs", metavar="NAME,...",
    help="Measure only these methods (comma-separated, or the option repeated): pyarc codecs, "
         "with options if wanted (lz77:level=9), auto, auto-sample, zlib-6, zlib-9, bz2-9, "
         "lzma-9e, "
         "zstandard-19, brotli-11, gzip-9, bzip2-9, xz-9e, zstd-19, 7z-mx9. Default: all "
         "available.")]


BENCH_HELP = (
    "Measure every pyarc codec and the standard archivers on each file.\n\n"
    "For pyarc's codecs, auto, auto-sample and the standard archivers: size, bits per byte, "
    "ratio, compress and decompress MB/s (and the ratio to zlib-6 in the same run), round "
    "trip verified; the best per file and overall, and its distance from the entropy "
    "estimate."
)


@command(help=BENCH_HELP)
def bench(
    paths: Annotated[list[str], typer.Argument(
        help="Files to measure, and folders (all their files, recursively).", metavar="PATH")],
    codec_names: CodecsOption = None,
    no_external: Annotated[bool, typer.Option(
        "--no-external", help="Skip the gzip, bzip2, xz, zstd and 7z executables.")] = False,
    repeat: Annotated[int, typer.Option(
        "--repeat", "-r", min=1, metavar="N",
        help="Time each method N times on each file; the fastest run counts.")] = 1,
    as_json: JsonOption = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV, a row per file and method.")]
    = False,
    as_markdown: Annotated[bool, typer.Option(
        "--markdown", help="Print markdown tables.")] = False,
    plot: Annotated[str | None, typer.Option(
        "--plot", metavar="FILE.png",
        help="Also draw size against speed per method into FILE.png (needs matplotlib: "
             "pip install 'pyarc\\[plot]').")] = None,
    executor: Annotated[str | None, typer.Option(
        "--executor", "-e", metavar="SPEC",
        help="Measure on workers: processes[:N], dask[:N] or dask://HOST:PORT (one cell, a "
             "method on a file, at a time on each, timed there: use identical machines); by "
             "default one cell after the other here.")] = None,
    resume: Annotated[str | None, typer.Option(
        "--resume", metavar="FILE",
        help="Append each measurement to FILE (JSON lines) as it is made, and take those "
             "already in FILE (same file contents, method and --repeat) instead of measuring "
             "them again: a run that died goes on where it stopped.")] = None,
) -> None:
    from archiver.executors import THREADS, open_workers, parse_executor
    from archiver.lab.measure import ResultsFile, read_inputs, run, steps
    from archiver.lab.methods import default_methods, select_methods, split_names
    from archiver.lab.report import (
        LEGEND,
        WIDE,
        check_plotting,
        executables_line,
        markdown,
        tables,
        to_csv,
    )
    from archiver.lab.report import plot as draw

    if sum((as_json, as_csv, as_markdown)) > 1:
        raise UsageError("choose one of --json, --csv and --markdown")
    names = split_names(codec_names or [])
    methods = (select_methods(names, external=not no_external) if names
               else default_methods(external=not no_external))
    if plot is not None:
        check_plotting()
        folder = os.path.dirname(os.path.abspath(plot))
        if not os.path.isdir(folder):
            raise PyarcError(f"--plot: folder {folder!r} does not exist")
    data = read_inputs(paths)
    if executor is not None and parse_executor(executor).kind == THREADS:
        raise UsageError("bench measures one cell at a time here (threads would share the "
                         "cores and skew the timings): give processes, dask or none")
    results = ResultsFile(resume) if resume is not None else None
    try:
        with _steps(steps(len(data), methods), "measuring") as on_step, \
                (open_workers(executor, 0) if executor is not None else nullcontext()) as workers:
            report = run(data, methods, repeat, on_step, workers=workers, results=results)
    finally:
        if results is not None:
            results.close()
    if plot is not None:
        draw(report, plot)
    if as_json:
        print(json.dumps(report.as_dict(), indent=1))
    elif as_csv:
        sys.stdout.write(to_csv(report))
    elif as_markdown:
        sys.stdout.write(markdown(report))
    else:
        from rich.console import Console

        console = _console() if _console().is_terminal else Console(highlight=False, width=200)
        for table in tables(report, console.width):
            console.print(table)
        console.print(LEGEND, style="dim")
        if console.width < WIDE:
            console.print(f"(kind and ratio are shown in a terminal of {WIDE} columns "
                          f"or more, and by --json, --csv and --markdown)", style="dim")
        console.print(executables_line(report)
                      + (" (skipped: --no-external)" if no_external else ""), style="dim")
    if plot is not None:
        print(f"chart written to {plot}", file=sys.stderr)


@contextmanager
def _steps(total: int, label: str) -> Iterator[Callable[[str], None] | None]:
    """A progress bar over `total` steps on stderr, naming the current one, when stderr is a
    terminal; nothing otherwise."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    columns: list[str | ProgressColumn] = [
        BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TextColumn("{task.description}")
    ]
    with Progress(*columns, console=_console(True), transient=True) as bar:
        task = bar.add_task(label, total=total)
        started = False

        def step(description: str) -> None:
            nonlocal started
            bar.update(task, description=description, advance=1 if started else 0)
            started = True

        yield step


def _show_warning(message: Any, category: Any, filename: str, lineno: int,
                  file: Any = None, line: Any = None) -> None:
    print(f"pyarc: warning: {message}", file=sys.stderr)


def _show_version(value: bool) -> None:
    if value:
        print(f"pyarc {archiver.__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[bool, typer.Option(
        "--version", is_eager=True, callback=_show_version,
        help="Show pyarc's version and exit.")] = False,
) -> None:
    """A plugin-based archiver and compression laboratory."""


#: Signals handled as Ctrl-C is: the work in progress is abandoned, its temporary files are
#: removed, and pyarc exits 1.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class _StopSignals:
    """Turns the first stop signal into a KeyboardInterrupt in the main thread, and ignores
    any later one, so that the cleanup the first one starts is not interrupted in its turn."""

    def __init__(self) -> None:
        self.received: signal.Signals | None = None
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> _StopSignals:
        if threading.current_thread() is threading.main_thread():
            for number in STOP_SIGNALS:
                self._previous[number] = signal.signal(number, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for number, handler in self._previous.items():
            signal.signal(number, handler)

    def _handle(self, number: int, frame: FrameType | None) -> None:
        if self.received is None:
            self.received = signal.Signals(number)
            raise KeyboardInterrupt


_SHORT_LEVEL = re.compile(r"-[0-9]")


def _levels_spelled_out(args: list[str]) -> list[str]:
    """`pack -9` as `pack --level 9` (xz's and gzip's spelling, which click cannot declare):
    a lone `-N` of pack's arguments before any `--`."""
    if not args or args[0] != "pack":
        return args
    end = args.index("--") if "--" in args else len(args)
    return [f"--level={arg[1]}" if index < end and _SHORT_LEVEL.fullmatch(arg) else arg
            for index, arg in enumerate(args)]


def _app_for(args: list[str]) -> typer.Typer:
    """The app, with only the command that `args` runs when they name one first: typer builds
    every registered command's parser (reading its signature and annotations) on each run, a
    tenth of `pyarc list`'s start-up, when one command is all a run can use."""
    if args and not args[0].startswith("-"):
        for info in app.registered_commands:
            callback_name = info.callback.__name__ if info.callback else ""
            if (info.name or typer.main.get_command_name(callback_name)) == args[0]:
                narrowed = copy.copy(app)
                narrowed.registered_commands = [info]
                return narrowed
    return app


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit code (the console script exits with it)."""
    warnings.showwarning = _show_warning
    with _StopSignals() as stop:
        try:
            args = _levels_spelled_out(sys.argv[1:] if argv is None else list(argv))
            code = _app_for(args)(args=args, prog_name="pyarc", standalone_mode=False)
            if code == TYPER_INTERRUPTED:
                raise KeyboardInterrupt
            return code if isinstance(code, int) else 0  # --help returns its exit code
        except (typer.Abort, KeyboardInterrupt):
            received = stop.received or signal.SIGINT
            print("pyarc: interrupted" if received == signal.SIGINT
                  else f"pyarc: stopped by {received.name}", file=sys.stderr)
            return 1
        except typer.TyperException as error:  # the argument parser's errors
            message = error.format_message().strip()
            if message:  # (no message: the parser has shown the help instead)
                print(f"pyarc: error: {message} (see pyarc --help)", file=sys.stderr)
            return 2
        except UsageError as error:
            print(f"pyarc: error: {error}", file=sys.stderr)
            return 2
        except PyarcError as error:
            print(f"pyarc: error: {error}", file=sys.stderr)
            return 1
        except BrokenPipeError:  # e.g. `pyarc list big.pyarc | head`: not an error of ours
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 1
        except OSError as error:  # e.g. standard output on a full disk
            if os.environ.get("PYARC_DEBUG"):
                raise
            where = f" {error.filename!r}:" if error.filename else ""
            print(f"pyarc: error:{where} {error.strerror or error}", file=sys.stderr)
            return 1
        except Exception as error:
            if os.environ.get("PYARC_DEBUG"):
                raise
            print(f"pyarc: internal error: {type(error).__name__}: {error} "
                  f"(a bug in pyarc; set PYARC_DEBUG=1 for a traceback)", file=sys.stderr)
            return 1


def run() -> None:
    code = main()
    if threading.active_count() > 1:
        # A worker is still finishing a block that nobody will use (the command failed or was
        # interrupted, and cleaned up): exit now instead of waiting for it.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)
