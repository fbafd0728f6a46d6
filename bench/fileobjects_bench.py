"""What the file objects cost (archiver/fileobjects.py): `archive.open` read in 64 KiB chunks
against `archive.read` of the same entry, and `archiver.open(..., "wb")` written in 64 KiB
pieces against `pack(["-"], ...)` of the same data read from a file, into a path (as the CLI
does: a temporary name, fsync'ed, renamed) and into an open file (as archiver.open does);
with `store` and with the default codec (auto at level 6), on text: the Calgary corpus's text
files, their lines shuffled anew for each copy, to the size asked for.

    python bench/fileobjects_bench.py [--store-mib 256] [--auto-mib 16] [--repeat 3]

Each measurement runs in a process of its own, so that its peak resident memory is its own
(VmHWM, with the interpreter and pyarc's imports: the "idle" row); times are the best of
`--repeat` runs, one thread each (the file objects' default), and are quoted as ratios, since
these machines are shared and noisy.
"""

from __future__ import annotations

import argparse
import io
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import archiver
from archiver import api

CHUNK = 64 << 10
CALGARY = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "calgary"
TEXTS = ["bib", "book1", "book2", "news", "paper1", "paper2", "progc", "progl", "progp",
         "trans"]
#: Each operation, by name, for a child process: (data file, archive, codec) -> None.
OPERATIONS = ("idle", "read", "open-read", "pack", "pack-to-file", "open-write")


def text(size: int) -> bytes:
    """`size` bytes of text: the corpus's lines (or generated ones), shuffled for each copy."""
    if CALGARY.is_dir():
        lines = b"".join((CALGARY / name).read_bytes() for name in TEXTS).splitlines(True)
    else:
        lines = [b"%d %s\n" % (n, b"word " * (n * 7 % 61)) for n in range(20000)]
    out = bytearray()
    chosen = random.Random(1)
    while len(out) < size:
        chosen.shuffle(lines)
        out += b"".join(lines)
    return bytes(out[:size])


def run(operation: str, data: Path, archive: Path, codec: str) -> None:
    """One operation, in this process (the child's side)."""
    if operation == "read":
        with archiver.open_archive(archive) as opened:
            assert len(opened.read("")) == data.stat().st_size
    elif operation == "open-read":
        size = 0
        with archiver.open_archive(archive) as opened, opened.open("") as file:
            while chunk := file.read(CHUNK):
                size += len(chunk)
        assert size == data.stat().st_size
    elif operation == "pack":
        with open(data, "rb") as stream:
            api.pack(["-"], archive, stdin=stream, stdin_name=None, codec=codec, force=True)
    elif operation == "pack-to-file":
        with open(data, "rb") as stream, open(archive, "wb") as out:
            api.pack(["-"], out, stdin=stream, stdin_name=None, codec=codec)
    elif operation == "open-write":
        with open(data, "rb") as stream, archiver.open(archive, "wb", codec=codec) as file:
            while chunk := stream.read(CHUNK):
                file.write(chunk)


def peak_rss() -> int:
    """This process's peak resident bytes: VmHWM, which (unlike ru_maxrss) does not keep the
    peak of the process that started this one."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc/self/status (this measures on Linux only)")


def measure(operation: str, data: Path, archive: Path, codec: str) -> tuple[float, int]:
    """Seconds and peak resident bytes of one operation, in a child process."""
    done = subprocess.run([sys.executable, __file__, "--run", operation, str(data),
                           str(archive), codec], capture_output=True, text=True, check=True)
    seconds, peak = done.stdout.split()
    return float(seconds), int(peak)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store-mib", type=int, default=256)
    parser.add_argument("--auto-mib", type=int, default=16)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--run", nargs=4, metavar=("OPERATION", "DATA", "ARCHIVE", "CODEC"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        operation, data, archive, codec = args.run
        started = time.perf_counter()
        if operation != "idle":
            run(operation, Path(data), Path(archive), codec)
        print(time.perf_counter() - started, peak_rss())
        return
    print("| codec | data | operation | seconds (best) | ratio | peak RSS |")
    print("|---|---:|---|---:|---:|---:|")
    with tempfile.TemporaryDirectory(prefix="pyarc-fileobjects-bench-") as folder:
        for codec, mib in (("store", args.store_mib), ("auto", args.auto_mib)):
            data = Path(folder) / "data"
            data.write_bytes(text(mib << 20))
            archive = Path(folder) / "data.pyarc"
            api.pack(["-"], archive, stdin=io.BytesIO(data.read_bytes()), stdin_name=None,
                     codec=codec, force=True)
            written = Path(folder) / "written.pyarc"
            results = {}
            for operation in OPERATIONS:
                target = archive if operation.endswith("read") else written
                runs = [measure(operation, data, target, codec) for _ in range(args.repeat)]
                results[operation] = min(seconds for seconds, _ in runs), max(
                    peak for _, peak in runs)
            for operation, against in (("idle", None), ("read", None), ("open-read", "read"),
                                       ("pack", None), ("pack-to-file", "pack"),
                                       ("open-write", "pack"), ("open-write", "pack-to-file")):
                seconds, peak = results[operation]
                ratio = f"{seconds / results[against][0]:.2f} x {against}" if against else ""
                print(f"| {codec} | {mib} MiB | {operation} | {seconds:.2f} | {ratio} | "
                      f"{peak / 1e6:.0f} MB |")


if __name__ == "__main__":
    main()
