"""The `pyarc` command line (typer).

Exit codes: 0 success, 1 a data or file error (corrupt archive, missing codec, unsafe path,
missing file, full disk) or an interruption, 2 a usage error (bad option, unknown codec name).
Every error is one line on stderr; no traceback (set PYARC_DEBUG=1 to see one).
"""

from __future__ import annotations

import functools
import json
import os
import re
import stat
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from archiver import api
from archiver.codec import kernel_status, split_codec_specs
from archiver.entropy import DEFAULT_ORDER, MAX_ORDER, Measure, estimate
from archiver.errors import PyarcError, UsageError
from archiver.format import (
    DEFAULT_BLOCK_SIZE,
    MAX_BLOCK_SIZE,
    MIN_BLOCK_SIZE,
    BlockRef,
    Entry,
    Index,
    Kind,
)
from archiver.limits import DEFAULT_MAX_RATIO
from archiver.plugins import registry
from archiver.reader import summarize
from archiver.salvage import Scan
from archiver.salvage import scan as salvage_scan
from archiver.sources import collect

app = typer.Typer(
    name="pyarc",
    help="A plugin-based archiver and compression laboratory.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
stdout = Console(highlight=False, soft_wrap=True)
stderr = Console(stderr=True, highlight=False)

ArchiveArg = Annotated[str, typer.Argument(help="The archive file; '-' for stdin/stdout.",
                                           metavar="ARCHIVE")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]

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


def _jobs(value: int) -> int:
    return value if value > 0 else (os.cpu_count() or 1)


@contextmanager
def _progress(total: int | None, label: str) -> Iterator[Callable[[int], None] | None]:
    """A byte-count progress bar on stderr when stderr is a terminal; nothing otherwise."""
    if not sys.stderr.isatty():
        yield None
        return
    columns: list[str | ProgressColumn] = [
        label, BarColumn(), DownloadColumn(), TransferSpeedColumn(), TimeRemainingColumn()
    ]
    with Progress(*columns, console=stderr, transient=True) as bar:
        task = bar.add_task(label, total=total)
        yield lambda amount: bar.advance(task, amount)


@app.command()
def pack(
    archive: ArchiveArg,
    paths: Annotated[list[str], typer.Argument(help="Files and directories to pack.")],
    codec: Annotated[str, typer.Option(
        "--codec", "-c", metavar="NAME[:K=V,...]|auto|auto-sample",
        help="Codec for every block, with options (arithmetic:order=1); 'auto': try every "
             "installed codec on each block and keep the smallest (on equal sizes the faster "
             "decoder); 'auto-sample': rank the codecs on a 64 KiB sample of each block and "
             "try only the best two on the block (faster; may miss the smallest).")] = api.AUTO,
    auto_codecs: Annotated[str | None, typer.Option(
        "--auto-codecs", metavar="NAME[:K=V,...],...",
        help="With auto or auto-sample: try only these codecs, each at its defaults or with "
             "the options given; a codec may come more than once (ppm,bwt,bwt:stage=cm). "
             "store is always a candidate.")] = None,
    block_size: Annotated[str, typer.Option(
        "--block-size", "-b", metavar="SIZE",
        help=f"Block size, {MIN_BLOCK_SIZE // 1024}K to {MAX_BLOCK_SIZE >> 20}M "
             f"(suffixes K, M).")] = f"{DEFAULT_BLOCK_SIZE >> 20}M",
    jobs: Annotated[int, typer.Option(
        "--jobs", "-j", metavar="N",
        help="Compress blocks on N threads (0: one per core). The archive is identical "
             "for any N.")] = 0,
    force: Annotated[bool, typer.Option("--force", "-f",
                                        help="Overwrite an existing archive.")] = False,
) -> None:
    """Pack files and directory trees into ARCHIVE."""
    size = parse_size(block_size)
    total = None
    if sys.stderr.isatty():
        total = sum(entry.size for entry, _ in collect(paths, size))
    started = time.perf_counter()
    with _progress(total, "packing") as on_block:
        stats = api.pack(paths, archive, codec=codec, block_size=size, jobs=_jobs(jobs),
                         force=force, on_block=on_block,
                         auto_codecs=split_codec_specs(auto_codecs) if auto_codecs else None)
    if archive != api.STDIO:
        ratio = f"{stats.archive_bytes / stats.raw_bytes:.1%}" if stats.raw_bytes else "-"
        stderr.print(
            f"packed {_count(stats.entries, 'entry', 'entries')}, {stats.raw_bytes:,} bytes into "
            f"{stats.archive_bytes:,} ({ratio}) in {time.perf_counter() - started:.2f} s"
        )


def _total_size(archive: str) -> int | None:
    """The archive's data size for a progress bar, when one is shown and the index reads."""
    if archive == api.STDIO or not sys.stderr.isatty():
        return None
    try:
        return sum(entry.size for entry in api.read_index(archive).index.entries)
    except PyarcError:
        return None  # the command itself reports the damage


def _report_damage(found: Scan) -> None:
    """Every damaged place and entry a salvage scan found, on standard output."""
    for damage in found.damage:
        stdout.print(f"damaged  offset {damage.offset}: {damage.message}")
    for scanned in found.damaged:
        stdout.print(f"damaged entry  {_printable(scanned.entry.path)}")


def _damage_summary(found: Scan, fate: str) -> str:
    places = _count(len(found.damage), "damaged place", "damaged places")
    return (f"{places}; {len(found.damaged)} of {len(found.entries)} entries {fate} "
            f"(listed on standard output)")


@app.command()
def unpack(
    archive: ArchiveArg,
    paths: Annotated[list[str] | None, typer.Argument(
        help="Entries to extract (with everything below them); all if none.")] = None,
    directory: Annotated[str, typer.Option(
        "--directory", "-C", metavar="DIR",
        help="Extract into DIR (created if missing).")] = ".",
    force: Annotated[bool, typer.Option(
        "--force", "-f", help="Replace existing files and symlinks.")] = False,
    salvage: Annotated[bool, typer.Option(
        "--salvage", help="For a damaged archive: extract every entry whose data is intact, "
                          "found by scanning its frames, and list the damaged ones.")] = False,
    max_output: Annotated[str | None, typer.Option(
        "--max-output", metavar="SIZE",
        help="Refuse to write more than SIZE bytes of data (suffixes K, M, G); default: the "
             "free space at the destination.")] = None,
    max_ratio: Annotated[int, typer.Option(
        "--max-ratio", metavar="N", min=0,
        help="Refuse an archive whose data is more than N times its size (a decompression "
             "bomb); 0: no limit.")] = DEFAULT_MAX_RATIO,
) -> None:
    """Extract ARCHIVE. From a file, check the index and the entry frame of every entry to
    extract before writing anything, and each file's blocks (checksums, sizes) before the file
    is put in place; frames of entries not extracted are not read (pyarc test reads them all).
    From '-', check every frame as it comes: the entries before a damaged one may already be
    written."""
    if salvage:
        stats, found = api.salvage(archive, directory, paths or [], force=force)
        _report_damage(found)
        salvaged = f"salvaged {_count(stats.entries, 'entry', 'entries')}, {stats.bytes:,} bytes"
        if found.damage:
            raise PyarcError(f"{salvaged}; {_damage_summary(found, 'not extracted')}")
        stderr.print(salvaged)
        return
    total = _total_size(archive)
    with _progress(total, "unpacking") as on_block:
        api.unpack(archive, directory, paths or [], force=force, on_block=on_block,
                   max_output=None if max_output is None else parse_size(max_output,
                                                                         "--max-output"),
                   max_ratio=max_ratio)


def _printable(name: str) -> str:
    """A name as it is, unless it holds control characters: then escaped, as `ls -b` does,
    so that a crafted archive cannot drive the terminal."""
    return name if name.isprintable() else name.encode("unicode_escape").decode("ascii")


def _mode_string(kind: Kind, mode: int) -> str:
    type_bit = {Kind.FILE: stat.S_IFREG, Kind.DIRECTORY: stat.S_IFDIR,
                Kind.SYMLINK: stat.S_IFLNK}[kind]
    return stat.filemode(type_bit | mode)


def _unicode(key: str, name: str) -> dict[str, str]:
    """A stored name for JSON: `key` as valid Unicode (U+FFFD for bytes that are not UTF-8)
    and, only when the stored bytes are not UTF-8, `KEY_bytes`: those bytes in hex."""
    stored = os.fsencode(name)  # the bytes in the archive (Entry holds os.fsdecode of them)
    try:
        return {key: stored.decode("utf-8")}
    except UnicodeDecodeError:
        return {key: stored.decode("utf-8", "replace"), f"{key}_bytes": stored.hex()}


def _json_row(entry: Entry, refs: list[BlockRef]) -> dict[str, Any]:
    return dict(
        **_unicode("path", entry.path), type=entry.kind.name.lower(), size=entry.size,
        stored=sum(ref.stored_size for ref in refs),
        codecs=sorted({ref.codec for ref in refs}), blocks=len(refs),
        mode=f"{entry.mode:04o}", mtime_ns=entry.mtime_ns,
        **(_unicode("target", entry.target) if entry.kind == Kind.SYMLINK else {}),
    )


def _shown_name(entry: Entry) -> str:
    name = entry.path or "(unnamed)"
    return _printable(f"{name} -> {entry.target}" if entry.kind == Kind.SYMLINK else name)


def _listing(index: Index) -> str:
    """The text of `pyarc list`: a line per entry with its mode, size, stored size, codecs,
    date and name, in columns as wide as their widest cell; built a column at a time."""
    entries, blocks = index.entries, index.blocks
    # Archives hold few distinct modes, and often many entries of the same second.
    mode_string = functools.cache(_mode_string)
    minute = functools.cache(
        lambda second: time.strftime("%Y-%m-%d %H:%M", time.localtime(second)))
    modes = [mode_string(entry.kind, entry.mode) for entry in entries]
    sizes = [str(entry.size) for entry in entries]
    stored = [str(sum(ref.stored_size for ref in refs)) for refs in blocks]
    codecs = [",".join(sorted({ref.codec for ref in refs})) or "-" for refs in blocks]
    dates = [minute(entry.mtime_ns // 1_000_000_000) for entry in entries]
    names = [_shown_name(entry) for entry in entries]
    width = [max(map(len, column), default=0) for column in (sizes, stored, codecs)]
    return "".join(
        f"{mode} {size:>{width[0]}} {packed:>{width[1]}} {used:<{width[2]}} {when} {name}\n"
        for mode, size, packed, used, when, name in zip(modes, sizes, stored, codecs, dates,
                                                        names, strict=True))


LIST_HELP = (
    "List the entries of ARCHIVE (read from its index only).\n\n"
    "With --json, a name that is not UTF-8 also comes as its stored bytes in hex: path_bytes "
    "(and a symlink's target_bytes)."
)


@app.command("list", help=LIST_HELP)
def list_(archive: ArchiveArg, as_json: JsonOption = False) -> None:
    index = api.read_index(archive).index
    if as_json:
        rows = [_json_row(entry, refs) for entry, refs in zip(index.entries, index.blocks,
                                                               strict=True)]
        print(json.dumps(rows, indent=1))
        return
    sys.stdout.write(_listing(index))


@app.command()
def test(archive: ArchiveArg) -> None:
    """Verify every checksum of ARCHIVE (frames, data, index, footer) without writing. On
    damage, scan the whole archive and list every damaged block and entry."""
    total = _total_size(archive)
    try:
        with _progress(total, "testing") as on_block:
            stats = api.test(archive, on_block=on_block)
    except PyarcError as error:
        if archive == api.STDIO:
            raise
        found = salvage_scan(archive)
        _report_damage(found)
        if found.damage:
            raise PyarcError(f"{error}; {_damage_summary(found, 'damaged')}") from None
        raise
    stderr.print(f"OK: {_count(stats.entries, 'entry', 'entries')}, {stats.bytes:,} bytes verified")


@app.command()
def info(archive: ArchiveArg, as_json: JsonOption = False) -> None:
    """Show the format version, block count, codec usage and ratio of ARCHIVE."""
    listing = api.read_index(archive)
    summary = summarize(listing.index, listing.format_version, listing.block_size,
                        listing.archive_size)
    if as_json:
        print(json.dumps(summary.as_dict(), indent=1))
        return
    stdout.print(f"format version  {summary.format_version}")
    stdout.print(f"block size      {summary.block_size:,}")
    plural = {"file": "files", "directory": "directories", "symlink": "symlinks"}
    kinds = ", ".join(_count(count, kind, plural[kind])
                      for kind, count in sorted(summary.entries.items()))
    stdout.print(f"entries         {sum(summary.entries.values())} ({kinds or 'none'})")
    stdout.print(f"blocks          {summary.blocks}")
    stdout.print(f"data            {summary.raw_bytes:,} bytes")
    stdout.print(f"archive         {summary.archive_size:,} bytes")
    if summary.raw_bytes:
        stdout.print(f"ratio           {summary.ratio:.4f} "
                     f"({8 * summary.ratio:.3f} bits per byte)")
    if summary.codecs:
        table = Table("codec", "blocks", "data bytes", "stored bytes", "ratio")
        for name, usage in sorted(summary.codecs.items()):
            table.add_row(name, str(usage.blocks), f"{usage.raw_bytes:,}",
                          f"{usage.stored_bytes:,}",
                          f"{usage.stored_bytes / usage.raw_bytes:.4f}")
        stdout.print(table)


@app.command()
def entropy(
    files: Annotated[list[str], typer.Argument(help="Files to measure.", metavar="FILE...")],
    max_order: Annotated[int, typer.Option(
        "--max-order", "-k", metavar="K",
        help=f"Measure context orders up to K (0 to {MAX_ORDER}).")] = DEFAULT_ORDER,
    as_json: JsonOption = False,
) -> None:
    """Estimate how far each FILE can be compressed: H0, empirical H1..Hk (descriptive, not
    bounds), the exact code lengths of adaptive order-k models and of a context-model codec,
    and from those the estimated achievable size."""
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
        table = Table("measure", "bits per byte", "bytes", "what it is",
                      title=f"{name}: {report.size:,} bytes", title_justify="left")
        rows = [Measure("H0", report.h0, "a bound for order-0 codes"), *report.empirical,
                *report.adaptive]
        for measure in rows:
            table.add_row(measure.name, f"{measure.bits_per_byte:.3f}",
                          f"{measure.bits_per_byte * report.size / 8:,.0f}", measure.meaning)
        stdout.print(table)
        ratio = report.achievable_bytes / report.size if report.size else 1.0
        stdout.print(f"estimated achievable: {report.achievable_bytes:,} bytes "
                     f"({report.achievable_bits_per_byte:.3f} bits per byte, ratio {ratio:.3f})"
                     f"; {report.reasoning}")


@app.command()
def codecs(as_json: JsonOption = False) -> None:
    """List the installed codecs: name, payload version, providing plugin, kernels."""
    rows = [
        dict(name=found.codec.name, version=found.codec.version,
             distribution=found.distribution, plugin=found.plugin,
             kernels=kernel_status(found.codec), description=found.codec.description,
             options=[spec.describe() for spec in found.codec.option_specs])
        for found in registry()
    ]
    if as_json:
        print(json.dumps(rows, indent=1))
        return
    table = Table("codec", "version", "provided by", "kernels", "options", "description")
    for found in registry():
        codec = found.codec
        table.add_row(codec.name, str(codec.version), found.distribution, kernel_status(codec),
                      "\n".join(spec.describe() for spec in codec.option_specs) or "-",
                      codec.description)
    stdout.print(table)


CodecsOption = Annotated[list[str] | None, typer.Option(
    "--codecs", metavar="NAME,...",
    help="Measure only these methods (comma-separated, or the option repeated): pyarc codecs, "
         "with options if wanted (lz77:level=9), auto, auto-sample, zlib-6, zlib-9, bz2-9, "
         "lzma-9e, "
         "zstandard-19, brotli-11, gzip-9, bzip2-9, xz-9e, zstd-19, 7z-mx9. Default: all "
         "available.")]


@app.command()
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
) -> None:
    """Measure every pyarc codec, auto, auto-sample and the standard archivers on each file:
    size, bits
    per byte, ratio, compress and decompress MB/s (and ÷ zlib-6 in the same run), round trip
    verified; the best per file and overall, and its distance from the entropy estimate."""
    from archiver import benchmark

    if sum((as_json, as_csv, as_markdown)) > 1:
        raise UsageError("choose one of --json, --csv and --markdown")
    names = benchmark.split_names(codec_names or [])
    methods = (benchmark.select_methods(names, external=not no_external) if names
               else benchmark.default_methods(external=not no_external))
    if plot is not None:
        benchmark.check_plotting()
        folder = os.path.dirname(os.path.abspath(plot))
        if not os.path.isdir(folder):
            raise PyarcError(f"--plot: folder {folder!r} does not exist")
    data = benchmark.read_inputs(paths)
    with _steps(benchmark.steps(len(data), len(methods)), "measuring") as on_step:
        report = benchmark.run(data, methods, repeat, on_step)
    if plot is not None:
        benchmark.plot(report, plot)
    if as_json:
        print(json.dumps(report.as_dict(), indent=1))
    elif as_csv:
        sys.stdout.write(benchmark.to_csv(report))
    elif as_markdown:
        sys.stdout.write(benchmark.markdown(report))
    else:
        console = stdout if stdout.is_terminal else Console(highlight=False, width=200)
        for table in benchmark.tables(report, console.width):
            console.print(table)
        console.print(benchmark.LEGEND, style="dim")
        if console.width < benchmark.WIDE:
            console.print(f"(kind and ratio are shown in a terminal of {benchmark.WIDE} columns "
                          f"or more, and by --json, --csv and --markdown)", style="dim")
        console.print(benchmark.executables_line(report)
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
    columns: list[str | ProgressColumn] = [
        BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TextColumn("{task.description}")
    ]
    with Progress(*columns, console=stderr, transient=True) as bar:
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


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit code (the console script exits with it)."""
    warnings.showwarning = _show_warning
    try:
        code = app(args=argv, prog_name="pyarc", standalone_mode=False)
        if code == TYPER_INTERRUPTED:
            raise KeyboardInterrupt
        return code if isinstance(code, int) else 0  # --help returns its exit code
    except (typer.Abort, KeyboardInterrupt):  # Ctrl-C
        print("pyarc: interrupted", file=sys.stderr)
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
    sys.exit(main())
