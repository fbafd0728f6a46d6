"""Measuring: each method on each input, timed and its round trip checked, in one way for
`pyarc bench`, `make bench` and whatever else times pyarc.

Each method runs on each file `repeat` times; the fastest run counts (the least disturbed by other
load). Every round trip is checked; a method that fails or does not give back the data is
reported as failed, never dropped. Speeds are MB/s of original data (MB = 10**6 bytes) and, since
shared machines are noisy, also ratios to zlib level 6 timed in the same run on the same file.
Per file, the best (smallest) result is compared with `entropy.estimate(data).achievable_bytes`.

The measurements are *cells*: a method on a file, the reference on a file, a file's entropy
estimate. They run one after the other here, or, given Workers (archiver/executors.py), on
worker processes or a Dask cluster: each cell then goes to a worker as the method's name and
the file's bytes, and is timed there (so the ratios to zlib-6 compare cells timed on different
workers: use identical machines, one worker per core). With a results file (`--resume`), each
cell's result is appended to it as a JSON line as soon as it is measured, and the cells it
already holds are not measured again: a long run that dies keeps what it measured.
"""

from __future__ import annotations

import functools
import json
import math
import os
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, TypeVar

import xxhash

from archiver.errors import PyarcError
from archiver.executors import Workers, completed_map
from archiver.lab.entropy import estimate
from archiver.lab.methods import (
    PYTHON,
    Method,
    found_executables,
    select_methods,
    standard_candidates,
)

T = TypeVar("T")

LEGEND = (
    "bytes: compressed size; bpc: bits per byte (8 × compressed ÷ original); ratio: compressed ÷ "
    "original; MB/s: of original data (10**6 bytes), best of the runs; ÷ zlib-6: speed as a "
    "ratio to Python's zlib level 6 timed in the same run (quote these, the machine is noisy). "
    "pyarc codecs are bare encode/decode calls at their default settings (no container); "
    "`auto` and `auto-sample` are the whole archive through archiver.compress/decompress (every "
    "codec tried on each block, or on a sample of it; one thread); executables run on "
    "stdin/stdout, so their times include starting a process. best ÷ estimate: the best size "
    "over the entropy estimate of the achievable size (archiver.lab.entropy; below 1 means a "
    "method beat the estimate)."
)

#: The yardstick of the speed ratios; always timed, shown only when selected.
REFERENCE = "zlib-6"


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
                    bpc=finite(self.bpc), ratio=finite(self.ratio),
                    compress_seconds=self.compress_seconds,
                    decompress_seconds=self.decompress_seconds,
                    compress_mbps=finite(self.compress_mbps),
                    decompress_mbps=finite(self.decompress_mbps),
                    compress_vs_zlib6=finite(self.compress_vs_reference),
                    decompress_vs_zlib6=finite(self.decompress_vs_reference),
                    round_trip=self.round_trip, error=self.error, best=self.best)

    @classmethod
    def measured(cls, fields: dict[str, Any]) -> Result:
        """A result as `as_dict` gave it, with what was measured (not what _rank adds)."""
        return cls(str(fields["method"]), str(fields["kind"]), int(fields["original"]),
                   None if fields["size"] is None else int(fields["size"]),
                   fields["compress_seconds"], fields["decompress_seconds"],
                   bool(fields["round_trip"]),
                   None if fields["error"] is None else str(fields["error"]))


def _speed(size: int, seconds: float | None) -> float | None:
    if seconds is None or not size:
        return None
    return size / max(seconds, 1e-9) / 1e6


def finite(value: float | None) -> float | None:
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
                    estimate_bpc=finite(self.estimate_bpc),
                    best=best.method if best else None,
                    best_size=best.size if best else None,
                    best_over_estimate=finite(self.best_over_estimate),
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


def best_of(repeat: int, function: Callable[[], T]) -> tuple[T, float]:
    """The output of the first run and the shortest time of `repeat` runs (at least one): the
    laboratory's one way of timing anything."""
    start = time.perf_counter()
    output = function()
    fastest = time.perf_counter() - start
    for _ in range(repeat - 1):
        start = time.perf_counter()
        function()
        fastest = min(fastest, time.perf_counter() - start)
    return output, fastest


def _error_text(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0]}" if text else type(error).__name__


def measure(method: Method, data: bytes, repeat: int = 1) -> Result:
    """Compress and decompress `data` with `method`, `repeat` times each; check the round trip.
    Never raises for a failing method: the failure is in the result."""
    result = Result(method.name, method.kind, len(data))
    try:
        packed, result.compress_seconds = best_of(repeat, lambda: method.compress(data))
        result.size = len(packed)
        restored, result.decompress_seconds = best_of(
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


def steps(files: int, methods: Sequence[Method]) -> int:
    """How many times `run` calls its progress callback: once a cell, for each file its
    entropy estimate, the methods and the reference (unless it is one of them)."""
    return files * (1 + len(methods) + (REFERENCE not in {method.name for method in methods}))


#: The cell of a file's entropy estimate (the others are named by their method).
ENTROPY = "entropy estimate"
#: A cell's outcome: a method's Result, or the estimate's achievable bytes.
Outcome = Result | int
#: An input: its name, and its contents or the file that holds them (read when measured).
Input = tuple[str, bytes | Path]


def run(data: Sequence[Input], methods: Sequence[Method], repeat: int = 1,
        on_step: Progress | None = None, entropy: bool = True, workers: Workers | None = None,
        results: ResultsFile | None = None) -> BenchReport:
    """Measure every method on every (name, data) pair: here, one cell after the other, or on
    `workers`; with `results`, keeping each cell's result there (see the module's docstring)."""
    advance = on_step or (lambda label: None)
    by_name = {method.name: method for method in methods}
    reference_method = by_name.get(REFERENCE) or next(
        candidate.build() for candidate in standard_candidates() if candidate.name == REFERENCE)
    local = {**by_name, REFERENCE: reference_method}
    cells = [(index, what) for index in range(len(data))
             for what in [*([ENTROPY] if entropy else []), *by_name,
                          *([] if REFERENCE in by_name else [REFERENCE])]]
    outcomes: dict[tuple[int, str], Outcome] = {}
    for position, outcome in _outcomes(cells, data, local, repeat, workers, results):
        index, what = cells[position]
        advance(f"{data[index][0]}: {what}" + (" (yardstick)" if what == REFERENCE
                                                and REFERENCE not in by_name else ""))
        outcomes[index, what] = outcome
    files: list[FileReport] = []
    for index, (name, _) in enumerate(data):
        bound = outcomes[index, ENTROPY] if entropy else None
        reference = _result(outcomes[index, REFERENCE])
        report = FileReport(name, reference.original, bound if isinstance(bound, int) else None)
        report.results = [_result(outcomes[index, method.name]) for method in methods]
        report.reference = reference
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


def _result(outcome: Outcome) -> Result:
    if not isinstance(outcome, Result):
        raise PyarcError("internal: a method's cell holds an entropy estimate")
    return outcome


def _outcomes(cells: list[tuple[int, str]], data: Sequence[Input], local: dict[str, Method],
              repeat: int, workers: Workers | None,
              results: ResultsFile | None) -> Iterator[tuple[int, Outcome]]:
    """Each cell's outcome, with the cell's position: from `results` when it holds it, else
    measured (here with the `local` methods, in order; or on `workers` by name, as they
    finish) and added to `results`. A file's contents are read when its first cell comes and
    let go after its last: the inputs are never all in memory, only the cells in flight (2 x
    the workers)."""
    keys: list[str] = []

    @functools.lru_cache(maxsize=1)  # the file at hand: its cells come one after the other
    def contents(index: int) -> tuple[bytes, str]:
        blob = _read_input(data[index])
        return blob, xxhash.xxh3_64_hexdigest(blob)

    def todo() -> Iterator[tuple[int, tuple[str, bytes]]]:
        """The cells to measure, with their positions; the others' outcomes go out at once."""
        for position, (index, what) in enumerate(cells):
            blob, digest = contents(index)
            keys.append(json.dumps([data[index][0], len(blob), digest, what, repeat]))
            known = results.get(keys[-1]) if results is not None else None
            if known is not None:
                done.append((position, known))
            else:
                yield position, (what, blob)

    done: deque[tuple[int, Outcome]] = deque()
    if workers is None:
        measured: Iterator[tuple[int, Outcome]] = (
            (position, _cell(local.get(item[0]), repeat, item)) for position, item in todo())
    else:
        measured = completed_map(functools.partial(_cell, None, repeat), todo(), workers)
    for position, outcome in measured:
        while done:
            yield done.popleft()
        if results is not None:
            results.put(keys[position], outcome)
        yield position, outcome
    while done:
        yield done.popleft()


def _read_input(item: Input) -> bytes:
    name, contents = item
    if isinstance(contents, bytes):
        return contents
    try:
        return contents.read_bytes()
    except OSError as error:
        raise PyarcError(f"cannot read {name!r}: {error.strerror}") from None


def _cell(method: Method | None, repeat: int, item: tuple[str, bytes]) -> Outcome:
    """One cell: (what, blob), `what` a method's name or ENTROPY, measured with `method` or,
    on a worker, with the method of that name built there."""
    what, blob = item
    if what == ENTROPY:
        return estimate(blob).achievable_bytes
    return measure(method or _method_named(what), blob, repeat)


@functools.cache
def _method_named(name: str) -> Method:
    (method,) = select_methods([name])
    return method


class ResultsFile:
    """`pyarc bench --resume FILE`: JSON lines, one a cell, {"cell": key, "result": ...}, read
    when the run starts (a line a dying run left incomplete is ignored) and appended to as
    each cell is measured."""

    def __init__(self, path: str) -> None:
        self._known: dict[str, Outcome] = {}
        ended = True  # the file ends with a whole line (or is empty, or new)
        try:
            with open(path, encoding="utf-8") as kept:
                for line in kept:
                    self._read(line)
                    ended = line.endswith("\n")
        except FileNotFoundError:
            pass
        except (OSError, UnicodeDecodeError) as error:
            reason = error.strerror if isinstance(error, OSError) else error
            raise PyarcError(f"--resume: cannot read {path!r}: {reason}") from None
        try:
            self._file: IO[str] = open(path, "a", encoding="utf-8")  # noqa: SIM115 (close())
        except OSError as error:
            raise PyarcError(f"--resume: cannot write {path!r}: {error.strerror}") from None
        if not ended:  # a line a dying run left half-written: the next starts on its own
            self._file.write("\n")

    def _read(self, line: str) -> None:
        try:
            record = json.loads(line)
            value = record["result"]
            self._known[str(record["cell"])] = (value if isinstance(value, int)
                                                else Result.measured(value))
        except (ValueError, KeyError, TypeError):
            return  # (the last line of a run that died mid-write, or not ours)

    def get(self, key: str) -> Outcome | None:
        return self._known.get(key)

    def put(self, key: str, outcome: Outcome) -> None:
        value = outcome if isinstance(outcome, int) else outcome.as_dict()
        self._file.write(json.dumps({"cell": key, "result": value}) + "\n")
        self._file.flush()
        self._known[key] = outcome

    def close(self) -> None:
        self._file.close()


# -- inputs ------------------------------------------------------------------------------------


def read_inputs(paths: Sequence[str]) -> list[Input]:
    """Each file named, and every regular file below each folder named (sorted, symlinks not
    followed), as (name, path): `run` reads each when it measures it. A folder's files are
    named folder/relative/path."""
    found: list[Input] = []
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
                found.append((f"{label}/{full.relative_to(path).as_posix()}", full))
        elif path.is_file():
            found.append((text, path))
        else:
            raise PyarcError(f"{text!r} is not a regular file or a folder")
    if not found:
        raise PyarcError(f"no files to measure in {', '.join(map(repr, paths))}")
    return found
