"""What the laboratory measures: *methods*, each a name and two functions,
`compress(data) -> packed` and `decompress(packed, size) -> data`, of four kinds:

- `pyarc codec`: a bare `encode`/`decode` of `registry().create(spec)` (default settings unless
  the spec gives options), timed as zlib is, without the container;
- `pyarc container`: `level-0` .. `level-9` (what `pack -N` tries on a file of that content),
  `auto` and `auto-sample` through `api.compress`/`api.decompress`, the whole archive
  (framing, checksums, every codec tried on every block, or on a sample of it), one thread;
- `python`: the standard library's zlib, bz2 and lzma, and the `zstandard` and `brotli` packages
  when they are installed (`pip install 'pyarc[archivers]'`);
- `executable`: gzip, bzip2, xz, zstd and 7z when they are on PATH, run on stdin/stdout (7z on
  temporary files), so their times include starting a process.

archiver.lab.measure times them; nothing here measures.
"""

from __future__ import annotations

import bz2
import functools
import importlib
import importlib.util
import lzma
import shutil
import subprocess
import tempfile
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from archiver import api
from archiver.codec import split_codec_specs
from archiver.errors import PyarcError, UsageError
from archiver.levels import LEVELS
from archiver.plugins import Registry
from archiver.plugins import registry as default_registry

Compress = Callable[[bytes], bytes]
Decompress = Callable[[bytes, int], bytes]

PYARC_CODEC = "pyarc codec"
PYARC_CONTAINER = "pyarc container"
PYTHON = "python"
EXECUTABLE = "executable"


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


def python_method(name: str, compress: Compress,
                  decompress: Callable[[bytes], bytes]) -> Method:
    """A Python library's pair of functions (whose decompress needs no size) as a method."""
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
    return python_method("zstandard-19", zstandard.ZstdCompressor(level=19).compress,
                   lambda packed: zstandard.ZstdDecompressor().decompress(packed))


def _brotli() -> Method:
    brotli = importlib.import_module("brotli")
    return python_method("brotli-11", lambda data: brotli.compress(data, quality=11),
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
                  lambda: python_method("zlib-6", lambda d: zlib.compress(d, 6), zlib.decompress)),
        Candidate("zlib-9", PYTHON, None,
                  lambda: python_method("zlib-9", lambda d: zlib.compress(d, 9), zlib.decompress)),
        Candidate("bz2-9", PYTHON, None,
                  lambda: python_method("bz2-9", lambda d: bz2.compress(d, 9), bz2.decompress)),
        Candidate("lzma-9e", PYTHON, None, lambda: python_method(
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


#: The container's automatic modes, measured as whole archives: auto at each level (what
#: `pack -N` tries on a file of that content), auto over every codec, auto-sample.
LEVEL_MODES = {f"level-{level}": level for level in LEVELS}
AUTO_MODES = (*LEVEL_MODES, api.AUTO, api.AUTO_SAMPLE)


def pyarc_method(spec: str, registry: Registry | None = None) -> Method:
    """A pyarc codec spec (`lz77`, `arithmetic:order=1`) as a bare encode/decode, or `level-N`,
    `auto` or `auto-sample` as the whole container."""
    registry = registry or default_registry()
    if spec in AUTO_MODES:
        mode, level = (api.AUTO, LEVEL_MODES[spec]) if spec in LEVEL_MODES else (spec, None)
        return Method(spec, PYARC_CONTAINER,
                      lambda data: api.compress(data, mode, jobs=1, preset=level,
                                                registry=registry),
                      lambda packed, size: api.decompress(packed, registry=registry))
    codec = registry.create(spec)
    return Method(spec.strip(), PYARC_CODEC, codec.encode, codec.decode)


def default_methods(external: bool = True, registry: Registry | None = None) -> list[Method]:
    """Every installed pyarc codec at its defaults, every level, `auto` and `auto-sample`, and
    every standard archiver available here (the executables only when `external`)."""
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

