"""`make bench`: `pyarc bench` on the Calgary corpus, and the figures of the core and of lz77.

1. `pyarc bench`'s measurement (archiver/lab/) of every pyarc codec (and each value of a
   small option, such as arithmetic's order), `auto`, `auto-sample`, Python's zlib, bz2 and
   lzma, zstandard and brotli, and the gzip, bzip2, xz, zstd and 7z executables found on PATH:
   size, bits per byte, compress and decompress MB/s and those speeds as ratios to zlib level 6
   timed in the same run (these machines are shared and noisy: quote the ratios), the best per
   file and overall, and the best against the entropy estimate. Codecs are timed as bare
   encode/decode calls, as zlib is; `auto` and `auto-sample` are the whole container.
2. Bits per byte per file of the pyarc codecs next to the order-0 entropy H0.
3. lz77's size and speed over every level, next to zlib's and lzma's.
4. The container itself: `pack`/`unpack` with `store` against a plain copy of the same tree,
   with and without encryption, and the sealing alone next to zlib; `list` on an archive of
   100,000 small files.
5. The file objects (bench/fileobjects_bench.py): `archive.open` read in 64 KiB chunks against
   `archive.read`, and `archiver.open(..., "wb")` against pack of the same data, with peak
   memory.
6. Trees (bench/trees.py): `pyarc pack` against 7-Zip, xz, zstd, bzip2 and zpaq on real trees
   built on this machine, with pyarc's unpack of the whole tree and of one file (time, peak
   memory). BENCH_TREES=stdlib,linux measures only those (BENCH_TREES=none: no tree section).

Data: the Calgary corpus in ../shared/corpus/calgary when present, else built-in demo data.
Written to build/bench.md (all of it), build/bench.png (size against speed, per method) and
build/bench.json (the raw results of 1, and of 5 under "trees"). BENCH_REPEAT=N times each
run N times (default 3).
"""

from __future__ import annotations

import io
import json
import lzma
import os
import random
import shutil
import subprocess
import sys
import tempfile
import zlib
from collections.abc import Callable
from functools import partial
from pathlib import Path

import archiver
from archiver.api import read_index
from archiver.errors import PyarcError
from archiver.lab.entropy import order0
from archiver.lab.measure import BenchReport, best_of, run, steps
from archiver.lab.methods import (
    AUTO_MODES,
    PYARC_CODEC,
    Method,
    pyarc_method,
    python_method,
    select_methods,
    standard_candidates,
)
from archiver.lab.report import executables_line, markdown, plot
from archiver.plugins import registry

sys.path.insert(0, str(Path(__file__).resolve().parent))
import trees  # noqa: E402  (bench/ is not a package)

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus" / "calgary"
CALGARY_14 = ["bib", "book1", "book2", "geo", "news", "obj1", "obj2", "paper1", "paper2",
              "pic", "progc", "progl", "progp", "trans"]
REPEATS = int(os.environ.get("BENCH_REPEAT", "3"))


def demo_data() -> dict[str, bytes]:
    """Deterministic stand-ins when the corpus is absent: source text, random bytes, runs."""
    text = b"".join(path.read_bytes() for path in sorted((ROOT / "archiver").glob("*.py")))
    rng = random.Random(1)
    return {
        "pyarc-source": text,
        "random-256k": rng.randbytes(256 * 1024),
        "runs-256k": b"".join(bytes([rng.randrange(4)]) * rng.randrange(1, 64)
                              for _ in range(8000))[: 256 * 1024],
    }


def load_data() -> tuple[str, dict[str, bytes]]:
    if CORPUS.is_dir():
        return "Calgary corpus (14 files)", {name: (CORPUS / name).read_bytes()
                                             for name in CALGARY_14}
    return "built-in demo data (../shared/corpus absent)", demo_data()


def best_time(function: Callable[[], object]) -> float:
    """Fastest of REPEATS runs: the least disturbed by other load on the machine."""
    return best_of(REPEATS, function)[1]


def bench_methods() -> list[Method]:
    """`pyarc bench`'s default methods, with every setting of codec_variants() after its codec."""
    variants = codec_variants()
    names = []
    for name in registry().names():
        names.append(name)
        default = registry().create(name).spec
        names += [spec for spec in variants if spec.partition(":")[0] == name and ":" in spec
                  and registry().create(spec).spec != default]
    names += AUTO_MODES
    names += [candidate.name for candidate in standard_candidates()
              if candidate.unavailable is None]
    return select_methods(names)


def codec_variants() -> list[str]:
    """Each installed codec with its defaults, and once per value of a small integer option
    (such as arithmetic's order) and per other choice of a named option (such as lz77's
    coder), so that every setting a user may choose is measured."""
    specs = []
    for loaded in registry():
        codec = loaded.codec
        if codec.name == "store":  # a copy: measured as the container's baseline instead
            continue
        specs.append(codec.name)
        for option in codec.option_specs:
            specs += [f"{codec.name}:{option.name}={choice}" for choice in option.choices
                      if choice != option.default]
            if option.minimum is None or option.maximum is None:
                continue
            if option.maximum - option.minimum <= 3:
                specs += [f"{codec.name}:{option.name}={value}"
                          for value in range(option.minimum, option.maximum + 1)]
    return specs


def per_file_table(report: BenchReport) -> list[str]:
    """Bits per byte of each pyarc codec setting on each file (from the bench's results), next
    to the order-0 entropy H0 and the entropy estimate."""
    specs = [result.method for result in report.total.results
             if result.kind == PYARC_CODEC]
    lines = ["| file | bytes | H0 | estimate | " + " | ".join(specs) + " |",
             "|---|---:|---:|---:|" + "---:|" * len(specs)]
    for item, original in zip(report.files, DATA.values(), strict=True):
        bound = order0(original)
        found = {result.method: result for result in item.results}
        cells = [f"{found[spec].bpc:.3f}" if found[spec].ok else "failed" for spec in specs]
        lines.append(f"| {item.name} | {item.size:,} | {bound:.3f} | "
                     f"{item.estimate_bpc or 0:.3f} | " + " | ".join(cells) + " |")
    return lines


def curve_table(data: dict[str, bytes]) -> list[str]:
    """Size against speed over every level: lz77 1-9 (Huffman-coded tokens to 7, range coded
    at 8 and 9, and each level with the other coder) next to zlib 1-9 and lzma presets 0-9,
    measured as `pyarc bench` measures (round trips checked, speeds as ratios to zlib-6)."""
    curve = [pyarc_method(f"lz77:level={level}" + (f",coder={coder}" if coder != "auto" else ""))
             for level in range(1, 10) for coder in ("auto", "range" if level < 8 else "huffman")]
    curve += [python_method(f"zlib-{level}", partial(zlib.compress, level=level),
                            zlib.decompress) for level in range(1, 10)]
    curve += [python_method(f"lzma-{preset}", partial(lzma.compress, preset=preset),
                            lzma.decompress) for preset in range(10)]
    report = run(list(data.items()), curve, REPEATS, entropy=False)
    lines = ["| method | bpc | compress ÷ zlib-6 | decompress ÷ zlib-6 |", "|---|---:|---:|---:|"]
    for result in report.total.results:
        name = f"pyarc {result.method}" if result.kind == PYARC_CODEC else result.method
        if not result.ok:
            lines.append(f"| {name} | failed ({result.error}) | - | - |")
            continue
        lines.append(f"| {name} | {result.bpc:.3f} | {result.compress_vs_reference:.2f} | "
                     f"{result.decompress_vs_reference:.2f} |")
    return lines


def pyarc_cli(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "archiver", *args], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def container_table(data: dict[str, bytes]) -> list[str]:
    lines = ["| operation | MB/s | ÷ plain copy |", "|---|---:|---:|"]
    with tempfile.TemporaryDirectory() as scratch:
        tree = Path(scratch, "tree")
        tree.mkdir()
        for name, blob in data.items():
            (tree / name).write_bytes(blob)
        total = sum(map(len, data.values()))
        archive = Path(scratch, "tree.pyarc")

        def copy() -> None:
            shutil.rmtree(Path(scratch, "copy"), ignore_errors=True)
            shutil.copytree(tree, Path(scratch, "copy"))

        def pack() -> None:
            archiver.pack([str(tree)], archive, codec="store", force=True)

        def unpack() -> None:
            shutil.rmtree(Path(scratch, "out"), ignore_errors=True)
            archiver.unpack(archive, Path(scratch, "out"))

        copy_speed = total / best_time(copy) / 1e6
        lines.append(f"| plain copy (shutil.copytree) | {copy_speed:.0f} | 1.00 |")
        for label, action in (("pack --codec store", pack), ("unpack (store)", unpack)):
            speed = total / best_time(action) / 1e6
            lines.append(f"| {label} | {speed:.0f} | {speed / copy_speed:.2f} |")
        lines += encrypted_rows(tree, Path(scratch, "sealed.pyarc"), Path(scratch, "out"),
                                total, copy_speed)

        small = Path(scratch, "small")
        for number in range(100_000):  # the size issue 17 asks `list` to take in 1.5 s
            folder = small / f"d{number // 1000:03}"
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"f{number:05}.txt").write_bytes(b"x" * (number % 100))
        many = Path(scratch, "many.pyarc")
        archiver.pack([str(small)], many, codec="store")
        in_process = best_time(lambda: read_index(many))
        command = best_time(lambda: pyarc_cli("list", str(many)))
        lines.append("")
        lines.append(f"`pyarc list` of 100,000 small files in 100 folders "
                     f"({many.stat().st_size:,} bytes): {command:.2f} s for the command, "
                     f"{in_process:.2f} s to read the index.")
        empty = archiver.compress(b"", "store")
        one = archiver.compress(b"x", "store")
        two = archiver.compress(b"x" * 2048, "store", block_size=1024)
        lines.append(f"Overhead: empty archive with one unnamed empty file {len(empty)} bytes; "
                     f"each further block {len(two) - 2048 - (len(one) - 1)} bytes.")
    return lines


def encrypted_rows(tree: Path, archive: Path, out: Path, total: int,
                   copy_speed: float) -> list[str]:
    """`store` packed and unpacked encrypted (a scrypt of trivial cost, so that the rows show
    what encryption costs per byte: pyarc's 0.5 s derivation is given apart), then sealing and
    opening alone, on 32 MiB, next to zlib -6 on the same bytes."""
    from archiver.encryption import ScryptCost, SealedReader, SealedWriter, unseal

    cheap = ScryptCost(1, 1, 1)
    password = "bench"

    def pack() -> None:
        archiver.pack([str(tree)], archive, codec="store", force=True, password=password,
                      kdf_cost=cheap)

    def unpack() -> None:
        shutil.rmtree(out, ignore_errors=True)
        archiver.unpack(archive, out, password=password)

    lines = []
    for label, action in (("pack --codec store --encrypt", pack),
                          ("unpack (store, encrypted)", unpack)):
        speed = total / best_time(action) / 1e6
        lines.append(f"| {label} | {speed:.0f} | {speed / copy_speed:.2f} |")

    class Discard:
        def write(self, data: bytes) -> int:
            return len(data)

    text = b"".join(DATA.values()) or b"x"
    data = (text * (32 * 2**20 // len(text) + 1))[:32 * 2**20]
    sealed = io.BytesIO()
    writer = SealedWriter(sealed, password, 1 << 20, cheap)
    writer.write(data)
    writer.finish()

    def seal() -> None:
        writer = SealedWriter(Discard(), password, 1 << 20, cheap)  # type: ignore[arg-type]
        for at in range(0, len(data), 1 << 20):  # in pieces, as the archive writer writes
            writer.write(data[at:at + (1 << 20)])
        writer.finish()

    def open_all() -> None:
        sealed.seek(0)
        reader, _ = unseal(sealed, password)
        assert isinstance(reader, SealedReader)
        while reader.read(1 << 20):
            pass

    zlib_speed = len(data) / best_time(lambda: zlib.compress(data, 6)) / 1e6
    seal_speed = len(data) / best_time(seal) / 1e6
    open_speed = len(data) / best_time(open_all) / 1e6
    default = best_time(lambda: SealedWriter(Discard(), password, 1 << 20))  # type: ignore[arg-type]
    lines += ["", f"Encryption alone, on 32 MiB: sealing {seal_speed:.0f} MB/s, opening "
                  f"{open_speed:.0f} MB/s (zlib -6 compresses the same bytes at "
                  f"{zlib_speed:.0f} MB/s: sealing ÷ zlib-6 {seal_speed / zlib_speed:.1f}); "
                  f"the key derivation at pyarc's costs (scrypt N=2^17, r=8, p=1) takes "
                  f"{default:.2f} s per archive opened or written (the rows above use a "
                  f"trivial cost)."]
    return lines


DATA: dict[str, bytes] = {}


def main() -> None:
    label, data = load_data()
    DATA.update(data)
    methods = bench_methods()
    total = steps(len(data), methods)
    done = 0

    def step(what: str) -> None:
        nonlocal done
        done += 1
        print(f"\r[{done}/{total}] {what:<60}", end="", file=sys.stderr, flush=True)

    report = run(list(data.items()), methods, REPEATS, step)
    print(file=sys.stderr)
    out = [f"# pyarc bench — {label}, {sum(map(len, data.values())):,} bytes", "",
           f"Best of {REPEATS} run{'s' if REPEATS != 1 else ''}, one thread, "
           f"Python {sys.version.split()[0]}, {os.cpu_count()} cores. "
           f"{executables_line(report)}.", "",
           "## Codecs and archivers (`pyarc bench`)", "", "![size against speed](bench.png)",
           ""]
    out += markdown(report).splitlines()
    out += ["", "## Bits per byte, per file (codec payloads)", ""]
    out += per_file_table(report)
    out += ["", "## Size and speed over every level", ""]
    out += curve_table(data)
    out += ["", "## Container", ""]
    out += container_table(data)
    out += ["", "## File objects", ""]
    out += subprocess.run([sys.executable, str(ROOT / "bench" / "fileobjects_bench.py"),
                           "--store-mib", "64", "--auto-mib", "4", "--repeat", str(REPEATS)],
                          capture_output=True, text=True, check=True).stdout.splitlines()
    tree_results: dict[str, object] = {}
    if trees.selected() != ["none"]:
        lines, tree_results = trees.section(trees.selected())
        out += ["", "## Trees", ""] + lines
    text = "\n".join(out) + "\n"
    print(text)
    build = ROOT / "build"
    build.mkdir(exist_ok=True)
    (build / "bench.md").write_text(text)
    results = {**report.as_dict(), "trees": tree_results}
    (build / "bench.json").write_text(json.dumps(results, indent=1) + "\n")
    written = ["build/bench.md", "build/bench.json"]
    try:
        plot(report, build / "bench.png", f"pyarc bench — {label}: bits per byte "
             f"against speed, best of {REPEATS}")
        written.append("build/bench.png")
    except PyarcError as error:  # matplotlib missing: the tables are still worth having
        print(f"no chart: {error}", file=sys.stderr)
    print(f"written to {', '.join(written)}")


if __name__ == "__main__":
    main()
