"""`pyarc bench`: every pyarc codec, `auto` and the standard archivers, measured on the same data.

A *method* is a name and two functions, `compress(data) -> packed` and
`decompress(packed, size) -> data`. Methods come in four kinds:

- `pyarc codec`: a bare `encode`/`decode` of `registry().create(spec)` (default settings unless
  the spec gives options), timed as zlib is, without the container;
- `pyarc container`: `auto` and `auto-sample` through `api.compress`/`api.decompress`, the whole
  archive (framing, checksums, every codec tried on every block, or on a sample of it), one
  thread;
- `python`: the standard library's zlib, bz2 and lzma, and the `zstandard` and `brotli` packages
  when they are installed (`pip install 'pyarc[archivers]'`);
- `executable`: gzip, bzip2, xz, zstd and 7z when they are on PATH, run on stdin/stdout (7z on
  temporary files), so their times include starting a process.

Each method runs on each file `repeat` times; the fastest run counts (the least disturbed by other
load). Every round trip is checked; a method that fails or does not give back the data is
reported as failed, never dropped. Speeds are MB/s of original data (MB = 10**6 bytes) and, since
shared machines are noisy, also ratios to zlib level 6 timed in the same run on the same file.
Per file, the best (smallest) result is compared with `entropy.estimate(data).achievable_bytes`.

Rendering (rich tables, JSON, CSV, markdown) is done by pure functions of a `BenchReport`;
plotting imports matplotlib lazily, so it stays an optional extra (`pyarc[plot]`).
"""

from __future__ import annotations

import bz2
import csv
import functools
import importlib
import importlib.util
import io
import lzma
import math
import os
import shutil
import subprocess
import tempfile
import time
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from archiver import api
from archiver.codec import split_codec_specs
from archiver.entropy import estimate
from archiver.errors import PyarcError, UsageError
from archiver.plugins import Registry
from archiver.plugins import registry as default_registry

Compress = Callable[[bytes], bytes]
Decompress = Callable[[bytes, int], bytes]

PYARC_CODEC = "pyarc codec"
PYARC_CONTAINER = "pyarc container"
PYTHON = "python"
EXECUTABLE = "executable"

#: The yardstick of the speed ratios; always timed, shown only when selected.
REFERENCE = "zlib-6"

LEGEND = (
    "bytes: compressed size; bpc: bits per byte (8 × compressed ÷ original); ratio: compressed ÷ "
    "original; MB/s: of original data (10**6 bytes), best of the runs; ÷ zlib-6: speed as a "
    "ratio to Python's zlib level 6 timed in the same run (quote these, the machine is noisy). "
    "pyarc codecs are bare encode/decode calls at their default settings (no container); "
    "`auto` and `auto-sample` are the whole archive through archiver.compress/decompress (every "
    "codec tried on each block, or on a sample of it; one thread); executables run on "
    "stdin/stdout, so their times include starting a process. best ÷ estimate: the best size "
    "over the entropy estimate of the achievable size (archiver.entropy; below 1 means a "
    "method beat the estimate)."
)


@dataclass(frozen=True)
class Method:
    name: str
    kind: str
    compress: Compress
    decompress: Decompress


@dataclass(frozen=True)
class Candidate:
    """A standard method pyarc knows of, and why it cannot run here (None: it can)."""

    name: str
    kind: str
    unavailable: str | None
    build: Callable[[], Method]


# -- the methods -------------------------------------------------------------------------------


def _python(name: str, compress: Compress, decompress: Callable[[bytes], bytes]) -> Method:
    return Method(name, PYTHON, compress, lambda packed, size: decompress(packed))


def _optional_module(name: str) -> Any | None:
    if importlib.util.find_spec(name) is None:
        return None
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def _zstandard() -> Method:
    zstandard = importlib.import_module("zstandard")
    return _python("zstandard-19", zstandard.ZstdCompressor(level=19).compress,
                   lambda packed: zstandard.ZstdDecompressor().decompress(packed))


def _brotli() -> Method:
    brotli = importlib.import_module("brotli")
    return _python("brotli-11", lambda data: brotli.compress(data, quality=11),
                   brotli.decompress)


def _run(command: Sequence[str], data: bytes) -> bytes:
    done = subprocess.run(command, input=data, capture_output=True, check=False)
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise PyarcError(f"{' '.join(command)} exited with {done.returncode}"
                         + (f": {message[-1]}" if message else ""))
    return done.stdout


def _pipe(name: str, program: str, pack: Sequence[str], unpack: Sequence[str]) -> Method:
    return Method(name, EXECUTABLE, lambda data: _run([program, *pack], data),
                  lambda packed, size: _run([program, *unpack], packed))


def _seven_zip(program: str) -> Method:
    """7z cannot write a .7z archive to stdout: it packs a temporary file instead."""

    def pack(data: bytes) -> bytes:
        with tempfile.TemporaryDirectory(prefix="pyarc-bench-") as scratch:
            source, archive = Path(scratch, "data"), Path(scratch, "data.7z")
            source.write_bytes(data)
            _run([program, "a", "-t7z", "-mx=9", "-bd", "-y", str(archive), str(source)], b"")
            return archive.read_bytes()

    def unpack(packed: bytes, size: int) -> bytes:
        with tempfile.TemporaryDirectory(prefix="pyarc-bench-") as scratch:
            archive = Path(scratch, "data.7z")
            archive.write_bytes(packed)
            return _run([program, "e", "-so", "-bd", str(archive)], b"")

    return Method("7z-mx9", EXECUTABLE, pack, unpack)


def _which(*programs: str) -> str | None:
    for program in programs:
        found = shutil.which(program)
        if found:
            return found
    return None


def standard_candidates() -> list[Candidate]:
    """The standard archivers pyarc measures against, available here or not."""
    need = "needs the Python package {} (pip install 'pyarc[archivers]')"
    found: list[Candidate] = [
        Candidate("zlib-6", PYTHON, None,
                  lambda: _python("zlib-6", lambda d: zlib.compress(d, 6), zlib.decompress)),
        Candidate("zlib-9", PYTHON, None,
                  lambda: _python("zlib-9", lambda d: zlib.compress(d, 9), zlib.decompress)),
        Candidate("bz2-9", PYTHON, None,
                  lambda: _python("bz2-9", lambda d: bz2.compress(d, 9), bz2.decompress)),
        Candidate("lzma-9e", PYTHON, None, lambda: _python(
            "lzma-9e", lambda d: lzma.compress(d, preset=9 | lzma.PRESET_EXTREME),
            lzma.decompress)),
        Candidate("zstandard-19", PYTHON,
                  None if _optional_module("zstandard") else need.format("zstandard"),
                  _zstandard),
        Candidate("brotli-11", PYTHON,
                  None if _optional_module("brotli") else need.format("brotli"), _brotli),
    ]
    pipes = [("gzip-9", ("gzip",), ["-9", "-c", "-n"], ["-d", "-c"]),
             ("bzip2-9", ("bzip2",), ["-9", "-c"], ["-d", "-c"]),
             ("xz-9e", ("xz",), ["-9e", "-c", "-T1"], ["-d", "-c"]),
             ("zstd-19", ("zstd",), ["-19", "-q", "-c"], ["-d", "-q", "-c"])]
    for name, programs, pack, unpack in pipes:
        program = _which(*programs)
        found.append(Candidate(
            name, EXECUTABLE, None if program else f"needs the {programs[0]} executable on PATH",
            functools.partial(_pipe, name, program or "", pack, unpack)))
    seven = _which("7z", "7zz", "7za")
    found.append(Candidate("7z-mx9", EXECUTABLE,
                           None if seven else "needs the 7z executable on PATH",
                           lambda: _seven_zip(seven or "")))
    return found


#: The container's automatic modes, measured as whole archives.
AUTO_MODES = (api.AUTO, api.AUTO_SAMPLE)


def pyarc_method(spec: str, registry: Registry | None = None) -> Method:
    """A pyarc codec spec (`lz77`, `arithmetic:order=1`) as a bare encode/decode, or `auto`
    (or `auto-sample`) as the whole container."""
    registry = registry or default_registry()
    if spec in AUTO_MODES:
        return Method(spec, PYARC_CONTAINER,
                      lambda data: api.compress(data, spec, jobs=1, registry=registry),
                      lambda packed, size: api.decompress(packed, registry=registry))
    codec = registry.create(spec)
    return Method(spec.strip(), PYARC_CODEC, codec.encode, codec.decode)


def default_methods(external: bool = True, registry: Registry | None = None) -> list[Method]:
    """Every installed pyarc codec at its defaults, `auto` and `auto-sample`, and every
    standard archiver available here (the executables only when `external`)."""
    registry = registry or default_registry()
    methods = [pyarc_method(name, registry) for name in [*registry.names(), *AUTO_MODES]]
    for candidate in standard_candidates():
        if candidate.unavailable is None and (external or candidate.kind != EXECUTABLE):
            methods.append(candidate.build())
    return methods


def found_executables() -> dict[str, str | None]:
    """Each archiver executable pyarc looks for, and where it was found (None: not on PATH)."""
    return {"gzip": _which("gzip"), "bzip2": _which("bzip2"), "xz": _which("xz"),
            "zstd": _which("zstd"), "7z": _which("7z", "7zz", "7za")}


def split_names(texts: Iterable[str]) -> list[str]:
    """`--codecs` values, comma-separated lists read as one (see split_codec_specs), into
    names: `lz77:level=9,window=22,zlib-6` is two names."""
    return split_codec_specs(",".join(texts))


def select_methods(names: Sequence[str], external: bool = True,
                   registry: Registry | None = None) -> list[Method]:
    """The methods named (in that order): pyarc codec specs, `auto`, standard archivers.

    An unknown name is a UsageError; a known one that cannot run here (a package or an
    executable missing) a PyarcError naming what it needs.
    """
    registry = registry or default_registry()
    candidates = {candidate.name: candidate for candidate in standard_candidates()}
    methods: list[Method] = []
    for name in names:
        if name in candidates:
            candidate = candidates[name]
            if candidate.kind == EXECUTABLE and not external:
                raise UsageError(f"--codecs {name} is an executable, but --no-external was given")
            if candidate.unavailable:
                raise PyarcError(f"method {name!r} {candidate.unavailable}")
            method = candidate.build()
        elif name in AUTO_MODES or name.partition(":")[0] in registry:
            method = pyarc_method(name, registry)
        else:
            known = ", ".join([*registry.names(), *AUTO_MODES, *candidates])
            raise UsageError(f"unknown method {name!r} (known: {known})")
        if any(chosen.name == method.name for chosen in methods):
            raise UsageError(f"method {method.name!r} given twice")
        methods.append(method)
    return methods


# -- measuring ---------------------------------------------------------------------------------


@dataclass
class Result:
    """One method on one file (or on all files: the totals)."""

    method: str
    kind: str
    original: int
    size: int | None = None
    compress_seconds: float | None = None
    decompress_seconds: float | None = None
    round_trip: bool = False
    error: str | None = None
    best: bool = False
    #: speed ÷ zlib-6's speed on the same data in the same run
    compress_vs_reference: float | None = None
    decompress_vs_reference: float | None = None

    @property
    def ok(self) -> bool:
        return self.round_trip and self.size is not None

    @property
    def bpc(self) -> float | None:
        return 8 * self.size / self.original if self.size is not None and self.original else None

    @property
    def ratio(self) -> float | None:
        return self.size / self.original if self.size is not None and self.original else None

    @property
    def compress_mbps(self) -> float | None:
        return _speed(self.original, self.compress_seconds)

    @property
    def decompress_mbps(self) -> float | None:
        return _speed(self.original, self.decompress_seconds)

    def as_dict(self) -> dict[str, object]:
        return dict(method=self.method, kind=self.kind, original=self.original, size=self.size,
                    bpc=_finite(self.bpc), ratio=_finite(self.ratio),
                    compress_seconds=self.compress_seconds,
                    decompress_seconds=self.decompress_seconds,
                    compress_mbps=_finite(self.compress_mbps),
                    decompress_mbps=_finite(self.decompress_mbps),
                    compress_vs_zlib6=_finite(self.compress_vs_reference),
                    decompress_vs_zlib6=_finite(self.decompress_vs_reference),
                    round_trip=self.round_trip, error=self.error, best=self.best)


def _speed(size: int, seconds: float | None) -> float | None:
    if seconds is None or not size:
        return None
    return size / max(seconds, 1e-9) / 1e6


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


@dataclass
class FileReport:
    """The results of every method on one file, or their totals over all files."""

    name: str
    size: int
    estimate_bytes: int | None
    results: list[Result] = field(default_factory=list)
    reference: Result | None = None  # zlib-6, the yardstick (also in results when selected)

    @property
    def best(self) -> Result | None:
        return next((result for result in self.results if result.best), None)

    @property
    def estimate_bpc(self) -> float | None:
        if self.estimate_bytes is None or not self.size:
            return None
        return 8 * self.estimate_bytes / self.size

    @property
    def best_over_estimate(self) -> float | None:
        best = self.best
        if best is None or best.size is None or not self.estimate_bytes:
            return None
        return best.size / self.estimate_bytes

    def as_dict(self) -> dict[str, object]:
        best = self.best
        return dict(file=self.name, size=self.size, estimate_bytes=self.estimate_bytes,
                    estimate_bpc=_finite(self.estimate_bpc),
                    best=best.method if best else None,
                    best_size=best.size if best else None,
                    best_over_estimate=_finite(self.best_over_estimate),
                    results=[result.as_dict() for result in self.results])


@dataclass
class BenchReport:
    files: list[FileReport]
    total: FileReport
    repeat: int
    executables: dict[str, str | None]

    def as_dict(self) -> dict[str, object]:
        return dict(repeat=self.repeat, reference=REFERENCE, legend=LEGEND,
                    executables=self.executables,
                    methods=[result.method for result in self.total.results],
                    files=[report.as_dict() for report in self.files],
                    total=self.total.as_dict())


def _best_of(repeat: int, function: Callable[[], bytes]) -> tuple[bytes, float]:
    """The output of the first run and the shortest time of `repeat` runs."""
    output, fastest = b"", math.inf
    for run in range(max(repeat, 1)):
        start = time.perf_counter()
        produced = function()
        fastest = min(fastest, time.perf_counter() - start)
        if run == 0:
            output = produced
    return output, fastest


def _error_text(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0]}" if text else type(error).__name__


def measure(method: Method, data: bytes, repeat: int = 1) -> Result:
    """Compress and decompress `data` with `method`, `repeat` times each; check the round trip.
    Never raises for a failing method: the failure is in the result."""
    result = Result(method.name, method.kind, len(data))
    try:
        packed, result.compress_seconds = _best_of(repeat, lambda: method.compress(data))
        result.size = len(packed)
        restored, result.decompress_seconds = _best_of(
            repeat, lambda: method.decompress(packed, len(data)))
    except Exception as error:  # a failing method is a result, not a crash
        result.error = _error_text(error)
        return result
    result.round_trip = restored == data
    if not result.round_trip:
        result.error = "decompressed data differs from the original"
    return result


def _rank(report: FileReport) -> None:
    """Mark the smallest successful result, and each speed as a ratio to the reference's."""
    done = [result for result in report.results if result.ok]
    if done:
        min(done, key=lambda result: (result.size, result.method)).best = True
    reference = report.reference
    if reference is None or not reference.ok:
        return
    for result in report.results:
        if result.compress_seconds and reference.compress_seconds:
            result.compress_vs_reference = reference.compress_seconds / result.compress_seconds
        if result.decompress_seconds and reference.decompress_seconds:
            result.decompress_vs_reference = (reference.decompress_seconds
                                              / result.decompress_seconds)


def _totals(name: str, method: str, kind: str, parts: list[Result]) -> Result:
    total = Result(method, kind, sum(part.original for part in parts))
    failed = [part for part in parts if not part.ok]
    if failed:
        total.error = f"failed on {len(failed)} of {len(parts)} files"
        return total
    total.size = sum(part.size or 0 for part in parts)
    total.compress_seconds = sum(part.compress_seconds or 0.0 for part in parts)
    total.decompress_seconds = sum(part.decompress_seconds or 0.0 for part in parts)
    total.round_trip = True
    return total


Progress = Callable[[str], None]


def steps(files: int, methods: int) -> int:
    """How many times `run` calls its progress callback: per file, the methods, the reference
    and the entropy estimate."""
    return files * (methods + 2)


def run(data: Sequence[tuple[str, bytes]], methods: Sequence[Method], repeat: int = 1,
        on_step: Progress | None = None, entropy: bool = True) -> BenchReport:
    """Measure every method on every (name, data) pair."""
    advance = on_step or (lambda label: None)
    by_name = {method.name: method for method in methods}
    reference_method = by_name.get(REFERENCE) or next(
        candidate.build() for candidate in standard_candidates() if candidate.name == REFERENCE)
    files: list[FileReport] = []
    for name, blob in data:
        advance(f"{name}: entropy estimate")
        bound = estimate(blob).achievable_bytes if entropy else None
        report = FileReport(name, len(blob), bound)
        for method in methods:
            advance(f"{name}: {method.name}")
            report.results.append(measure(method, blob, repeat))
        advance(f"{name}: {REFERENCE} (yardstick)")
        report.reference = next((result for result in report.results
                                 if result.method == REFERENCE), None)
        if report.reference is None:
            report.reference = measure(reference_method, blob, repeat)
        _rank(report)
        files.append(report)
    estimates = [report.estimate_bytes for report in files]
    total = FileReport(
        f"all {len(files)} files", sum(report.size for report in files),
        None if None in estimates else sum(value or 0 for value in estimates))
    for index, method in enumerate(methods):
        total.results.append(_totals(total.name, method.name, method.kind,
                                     [report.results[index] for report in files]))
    references = [report.reference for report in files if report.reference is not None]
    total.reference = _totals(total.name, REFERENCE, PYTHON, references)
    _rank(total)
    return BenchReport(files, total, repeat, found_executables())


# -- inputs ------------------------------------------------------------------------------------


def read_inputs(paths: Sequence[str]) -> list[tuple[str, bytes]]:
    """Each file named, and every regular file below each folder named (sorted, symlinks not
    followed), as (name, data); a folder's files are named folder/relative/path."""
    found: list[tuple[str, bytes]] = []
    for text in paths:
        path = Path(text)
        if not path.exists():
            raise PyarcError(f"{text!r}: no such file or directory")
        if path.is_dir():
            label = path.resolve().name or text
            files = []
            for folder, subfolders, names in os.walk(path):
                subfolders.sort()
                for entry in sorted(names):
                    full = Path(folder, entry)
                    if full.is_file() and not full.is_symlink():
                        files.append(full)
            for full in sorted(files, key=lambda p: p.relative_to(path).as_posix()):
                found.append((f"{label}/{full.relative_to(path).as_posix()}",
                              full.read_bytes()))
        elif path.is_file():
            found.append((text, path.read_bytes()))
        else:
            raise PyarcError(f"{text!r} is not a regular file or a folder")
    if not found:
        raise PyarcError(f"no files to measure in {', '.join(map(repr, paths))}")
    return found


# -- rendering ---------------------------------------------------------------------------------

BEST_MARK = "★ best"
COLUMNS = ("method", "kind", "bytes", "bpc", "ratio", "compress MB/s", "decompress MB/s",
           "compress ÷ zlib-6", "decompress ÷ zlib-6", "round trip", "best")


def _fixed(value: float | None, digits: int = 3) -> str:
    return "-" if value is None or not math.isfinite(value) else f"{value:.{digits}f}"


def _figure(value: float | None) -> str:
    """A speed or speed ratio with about three significant digits."""
    if value is None or not math.isfinite(value):
        return "-"
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    if value >= 0.1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def _round_trip(result: Result) -> str:
    return "ok" if result.ok else f"FAILED ({result.error})"


def row(result: Result) -> list[str]:
    """One result as the cells of COLUMNS."""
    return [result.method, result.kind,
            f"{result.size:,}" if result.size is not None else "-",
            _fixed(result.bpc), _fixed(result.ratio, 4),
            _figure(result.compress_mbps), _figure(result.decompress_mbps),
            _figure(result.compress_vs_reference), _figure(result.decompress_vs_reference),
            _round_trip(result), BEST_MARK if result.best else ""]


def describe(report: FileReport) -> str:
    """One line: the file, its size, the entropy estimate, the best method and the gap."""
    parts = [f"{report.name}: {report.size:,} bytes"]
    if report.estimate_bytes is not None:
        parts.append(f"entropy estimate {report.estimate_bytes:,} bytes "
                     f"({_fixed(report.estimate_bpc)} bpc)")
    best = report.best
    if best is None:
        parts.append("no method succeeded")
    else:
        parts.append(f"best {best.method} {best.size:,} bytes ({_fixed(best.bpc)} bpc)")
        if report.best_over_estimate is not None:
            parts.append(f"best ÷ estimate {_fixed(report.best_over_estimate)}")
    return "; ".join(parts)


def summary_rows(report: BenchReport) -> list[list[str]]:
    """Per file: name, bytes, estimate bpc, best method, its bpc, best ÷ estimate."""
    rows = []
    for item in [*report.files, report.total] if len(report.files) > 1 else report.files:
        best = item.best
        rows.append([item.name, f"{item.size:,}", _fixed(item.estimate_bpc),
                     best.method if best else "-", _fixed(best.bpc) if best else "-",
                     _fixed(item.best_over_estimate)])
    return rows


SUMMARY_COLUMNS = ("file", "bytes", "estimate bpc", "best", "best bpc", "best ÷ estimate")


#: In a terminal narrower than this, the tables leave out `kind` and `ratio` (bpc ÷ 8).
WIDE = 150
#: Terminal headers, on two lines where they are long, and shorter in a narrow terminal.
HEADERS = {"compress MB/s": "compress\nMB/s", "decompress MB/s": "decompress\nMB/s",
           "compress ÷ zlib-6": "compress\n÷ zlib-6", "decompress ÷ zlib-6": "decompress\n÷ zlib-6",
           "round trip": "round\ntrip"}
NARROW_HEADERS = {"compress MB/s": "comp\nMB/s", "decompress MB/s": "decomp\nMB/s",
                  "compress ÷ zlib-6": "comp\n÷zlib-6", "decompress ÷ zlib-6": "decomp\n÷zlib-6",
                  "round trip": "round\ntrip"}


def tables(report: BenchReport, width: int = WIDE) -> list[Any]:
    """rich renderables: a table per file, the totals over all files, and the summary; for a
    terminal `width` columns wide (narrower than WIDE: without `kind` and `ratio`)."""
    from rich import box
    from rich.table import Table

    wide = width >= WIDE
    headers = HEADERS if wide else NARROW_HEADERS
    out: list[Any] = []
    numeric = {"bytes", "bpc", "ratio"} | {name for name in COLUMNS
                                           if "MB/s" in name or "÷" in name}
    shown = [index for index, column in enumerate(COLUMNS)
             if wide or column not in ("kind", "ratio")]
    items = [*report.files, report.total] if len(report.files) > 1 else report.files
    for item in items:
        table = Table(title=describe(item), title_justify="left",
                      box=box.HEAVY_HEAD if wide else box.SIMPLE_HEAD)
        rows = [row(result) for result in item.results]
        for index in shown:
            column = COLUMNS[index]
            # Figures are never cut: when the terminal is too narrow, method names are.
            fixed = column in numeric or column == "best"
            table.add_column(headers.get(column, column), overflow="fold",
                             no_wrap=column != "round trip",
                             min_width=max((len(cells[index]) for cells in rows), default=1)
                             if fixed else 5 if column == "round trip" else None,
                             justify="right" if column in numeric else "left")
        for result, cells in zip(item.results, rows, strict=True):
            table.add_row(*(cells[index] for index in shown),
                          style="bold" if result.best else None)
        out.append(table)
    if len(report.files) > 1:
        summary = Table(title="per file: best result and entropy estimate", title_justify="left")
        for column in SUMMARY_COLUMNS:
            summary.add_column(column, justify="left" if column in ("file", "best") else "right",
                               overflow="fold")
        for cells in summary_rows(report):
            summary.add_row(*cells)
        out.append(summary)
    return out


def _markdown_table(header: Sequence[str], rows: Iterable[Sequence[str]],
                    right: Callable[[str], bool]) -> list[str]:
    def escape(cell: str) -> str:
        return cell.replace("|", "\\|")

    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join("---:" if right(name) else "---" for name in header) + "|"]
    lines += ["| " + " | ".join(escape(cell) for cell in cells) + " |" for cells in rows]
    return lines


def markdown(report: BenchReport) -> str:
    """The totals table (or the one file's), the per-file summary, and bits per byte per file
    and method with the best in bold."""

    def right(name: str) -> bool:
        return name not in ("method", "kind", "round trip", "best", "file")

    out: list[str] = []
    main = report.total if len(report.files) > 1 else report.files[0]
    out += [f"**{describe(main)}**", ""]
    rows = []
    for result in main.results:
        cells = row(result)
        if result.best:
            cells[0], cells[2] = f"**{cells[0]}**", f"**{cells[2]}**"
        rows.append(cells)
    out += _markdown_table(COLUMNS, rows, right)
    if len(report.files) > 1:
        out += ["", "Per file: the best result and the entropy estimate", ""]
        out += _markdown_table(SUMMARY_COLUMNS, summary_rows(report),
                               lambda name: name not in ("file", "best"))
        out += ["", "Bits per byte per file (best in bold)", ""]
        methods = [result.method for result in report.total.results]
        matrix = []
        for item in report.files:
            cells = [item.name, f"{item.size:,}", _fixed(item.estimate_bpc)]
            for result in item.results:
                cell = _fixed(result.bpc) if result.ok else "failed"
                cells.append(f"**{cell}**" if result.best else cell)
            matrix.append(cells)
        out += _markdown_table(["file", "bytes", "estimate", *methods], matrix,
                               lambda name: name != "file")
    out += ["", f"Best of {report.repeat} run{'s' if report.repeat != 1 else ''}. {LEGEND} "
            f"{executables_line(report)}."]
    return "\n".join(out) + "\n"


def executables_line(report: BenchReport) -> str:
    """Which archiver executables were found on PATH (and measured unless --no-external)."""
    found = ", ".join(name for name, where in report.executables.items() if where)
    missing = ", ".join(name for name, where in report.executables.items() if not where)
    return f"Executables on PATH: {found or 'none'}" + (f"; not found: {missing}" if missing
                                                          else "")


CSV_FIELDS = ("file", "original", "method", "kind", "size", "bpc", "ratio", "compress_mbps",
              "decompress_mbps", "compress_vs_zlib6", "decompress_vs_zlib6", "round_trip",
              "error", "best", "estimate_bytes", "best_over_estimate")


def to_csv(report: BenchReport) -> str:
    """One row per (file, method); the totals are left to the reader."""
    out = io.StringIO()
    writer = csv.DictWriter(out, CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    for item in report.files:
        for result in item.results:
            values = result.as_dict()
            writer.writerow({
                **{key: values[key] for key in CSV_FIELDS if key in values},
                "file": item.name, "estimate_bytes": item.estimate_bytes,
                "best_over_estimate": _finite(item.best_over_estimate) if result.best else None,
            })
    return out.getvalue()


def _label_rows(results: Sequence[Result], speed: str) -> list[tuple[Result, int]]:
    """Each point with how many text lines its label moves down so that labels of points close
    together (gzip-9 and zlib-9, say) do not overprint one another."""
    points = [(result, math.log10(getattr(result, speed)), result.bpc or 0.0)
              for result in results if getattr(result, speed)]
    if not points:
        return []
    xs, ys = [x for _, x, _ in points], [y for _, _, y in points]
    width, height = (max(xs) - min(xs)) or 1.0, (max(ys) - min(ys)) or 1.0
    placed: list[tuple[float, float]] = []
    rows = []
    for result, x, y in sorted(points, key=lambda point: (-point[2], point[1])):
        down = 0
        while any(abs(x - px) / width < 0.12 and abs(y - py - down * 0.028 * height) / height
                  < 0.028 for px, py in placed):
            down += 1
        placed.append((x, y - down * 0.028 * height))
        rows.append((result, down))
    return rows


PLOT_NEEDS = "--plot needs matplotlib (pip install 'pyarc[plot]')"


def check_plotting() -> None:
    """Raise a PyarcError naming the extra to install when matplotlib is missing."""
    try:
        importlib.import_module("matplotlib")
    except ImportError:
        raise PyarcError(PLOT_NEEDS) from None


def plot(report: BenchReport, path: str | os.PathLike[str], title: str = "") -> None:
    """Size against speed, one point per method (but `store`), over all files: bits per byte
    against compress and against decompress MB/s (log scale), written as a PNG."""
    check_plotting()
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    item = report.total if len(report.files) > 1 else report.files[0]
    # `store` (8 bits per byte at memcpy speed) would only stretch both axes.
    done = [result for result in item.results
            if result.ok and result.bpc is not None and result.method != "store"]
    colours = {PYARC_CODEC: "tab:red", PYARC_CONTAINER: "tab:purple", PYTHON: "tab:blue",
               EXECUTABLE: "tab:green"}
    figure, axes = plt.subplots(1, 2, figsize=(13, 6), sharey=True)
    for axis, label, speed in ((axes[0], "compress", "compress_mbps"),
                               (axes[1], "decompress", "decompress_mbps")):
        for kind, colour in colours.items():
            points = [(getattr(result, speed), result.bpc) for result in done
                      if result.kind == kind and getattr(result, speed)]
            if points:
                axis.scatter(*zip(*points, strict=True), c=colour, label=kind, s=36)
        for result, lines_down in _label_rows(done, speed):
            axis.annotate(result.method + (" ★" if result.best else ""),
                          (getattr(result, speed), result.bpc), textcoords="offset points",
                          xytext=(4, 3 - 9 * lines_down), fontsize=8,
                          fontweight="bold" if result.best else "normal")
        axis.set_xscale("log")
        axis.set_xlabel(f"{label} MB/s (log scale; best of {report.repeat})")
        axis.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("bits per byte (lower is better)")
    if item.estimate_bpc is not None:
        for axis in axes:
            axis.axhline(item.estimate_bpc, color="grey", linestyle="--", linewidth=1,
                         label="entropy estimate")
    axes[1].legend(loc="best", fontsize=8)
    figure.suptitle(title or f"pyarc bench: {describe(item)}", fontsize=10)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
