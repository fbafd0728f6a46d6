"""`make bench`, the tree section: `pyarc pack` against the standard archivers on real trees.

Builds the trees under build/trees/ (kept between runs), then packs each with every archiver in
the same run, one thread, and reports sizes, pack times, and pyarc's ratios to the smallest
standard archive and to 7-Zip's time:

- stdlib: the Python stdlib packages email, json, http, xml, asyncio, concurrent, logging and
  unittest of the running Python, with their `__pycache__` (compiled at optimisation levels 0,
  1 and 2 where missing);
- linux: /usr/include/linux (skipped, with the reason, where absent);
- repo: this repository's `git archive HEAD`;
- empty-10k: 10,000 empty files in 100 folders; words-10k: 10,000 files of 1 KiB of words;
- calgary: the 14 Calgary files joined into one file (when ../shared/corpus is there);
- pylib-100M: a 100 MB tar of the running Python's library folder (without site-packages).

The archivers: `7zz a -mx9 -mmt1`, `7zz a -m0=PPMd:o=8:mem=256m -mmt1`, `tar | xz -9e -T1`,
`tar | zstd -19 --long=27 -T1`, `tar | bzip2 -9`, `zpaq a -m5 -t1` (7zz and zpaq installed with
apt-get when missing and run as root, else skipped with a note), and `pyarc pack` as the command
line does it (default -j, and -j 1). For pyarc's archive it also reports `pyarc unpack` of the
whole tree (time and peak memory, default -j) and of one small file, which decodes only the
block that holds it.

    python bench/trees.py [TREE...]     # this section alone (BENCH_TREES=stdlib,linux likewise)
"""

from __future__ import annotations

import compileall
import io
import os
import random
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from archiver import grouping

ROOT = Path(__file__).resolve().parent.parent
TREES = ROOT / "build" / "trees"
CORPUS = ROOT.parent / "shared" / "corpus" / "calgary"
STDLIB_PACKAGES = ("email", "json", "http", "xml", "asyncio", "concurrent", "logging", "unittest")
BIG_TAR_BYTES = 100_000_000
#: The standard archivers whose smallest archive is the target (zpaq is reported beside them).
STANDARD = ("7zz -mx9", "7zz PPMd o8", "tar|xz -9e", "tar|zstd -19 --long", "tar|bzip2 -9")


# -- the trees -----------------------------------------------------------------------------------


def build_stdlib(dest: Path) -> str | None:
    source = Path(sysconfig.get_paths()["stdlib"])
    dest.mkdir(parents=True)
    for package in STDLIB_PACKAGES:
        shutil.copytree(source / package, dest / package)  # copy2: mtimes kept, pycs current
        compileall.compile_dir(dest / package, optimize=[0, 1, 2], quiet=2,
                               ddir=str(source / package))
    return None


def build_linux(dest: Path) -> str | None:
    source = Path("/usr/include/linux")
    if not source.is_dir():
        return "no /usr/include/linux on this machine (Debian: apt-get install linux-libc-dev)"
    shutil.copytree(source, dest, symlinks=True)
    return None


def build_repo(dest: Path) -> str | None:
    try:
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", "HEAD"], check=True,
                                 capture_output=True).stdout
    except (OSError, subprocess.CalledProcessError) as error:
        return f"git archive HEAD failed ({error})"
    dest.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(dest, filter="data")
    return None


def build_empty(dest: Path) -> str | None:
    for folder in range(100):
        (dest / f"d{folder:02}").mkdir(parents=True)
        for number in range(100):
            (dest / f"d{folder:02}" / f"f{number:02}").touch()
    return None


def vocabulary() -> list[str]:
    """Words from this repository's prose (README and docs/), for files of words."""
    text = " ".join(path.read_text() for path in [ROOT / "README.md",
                                                   *sorted((ROOT / "docs").glob("*.md"))])
    return sorted({word for word in text.split() if word.isalpha()})


def build_words(dest: Path) -> str | None:
    words = vocabulary()
    rng = random.Random(18)
    for folder in range(100):
        (dest / f"d{folder:02}").mkdir(parents=True)
        for number in range(100):
            line = bytearray()
            while len(line) < 1024:
                line += rng.choice(words).encode() + b" "
            (dest / f"d{folder:02}" / f"w{number:02}.txt").write_bytes(bytes(line[:1023]) + b"\n")
    return None


def build_calgary(dest: Path) -> str | None:
    names = ["bib", "book1", "book2", "geo", "news", "obj1", "obj2", "paper1", "paper2", "pic",
             "progc", "progl", "progp", "trans"]
    if not CORPUS.is_dir():
        return f"no Calgary corpus at {CORPUS}"
    dest.mkdir(parents=True)
    (dest / "calgary.cat").write_bytes(b"".join((CORPUS / name).read_bytes() for name in names))
    return None


def build_big_tar(dest: Path) -> str | None:
    library = Path(sysconfig.get_paths()["stdlib"])
    dest.mkdir(parents=True)
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for folder, dirs, names in os.walk(library):
            dirs[:] = sorted(d for d in dirs if d != "site-packages")
            for name in sorted(names):
                path = Path(folder, name)
                if not path.is_symlink() and path.is_file():
                    tar.add(path, arcname=str(path.relative_to(library)), recursive=False)
                if out.tell() >= BIG_TAR_BYTES:
                    break
            if out.tell() >= BIG_TAR_BYTES:
                break
    (dest / "pylib.tar").write_bytes(out.getvalue()[:BIG_TAR_BYTES])
    return None


BUILDERS: dict[str, Callable[[Path], str | None]] = {
    "stdlib": build_stdlib, "linux": build_linux, "repo": build_repo, "empty-10k": build_empty,
    "words-10k": build_words, "calgary": build_calgary, "pylib-100M": build_big_tar,
}


def tree(name: str) -> tuple[Path, str | None]:
    """The tree's folder (built when missing) and why it is skipped, if it is."""
    dest = TREES / name
    if not dest.exists():
        scratch = TREES / f".{name}.tmp"
        shutil.rmtree(scratch, ignore_errors=True)
        reason = BUILDERS[name](scratch)
        if reason:
            shutil.rmtree(scratch, ignore_errors=True)
            return dest, reason
        scratch.rename(dest)
    return dest, None


def tree_bytes(root: Path) -> tuple[int, int]:
    files = [path for path in root.rglob("*") if path.is_file() and not path.is_symlink()]
    return len(files), sum(path.stat().st_size for path in files)


# -- the archivers -------------------------------------------------------------------------------


def ensure_tools() -> list[str]:
    """Install 7zz and zpaq with apt-get when missing and root; the notes of what is not there."""
    wanted = {"7zz": "7zip", "zpaq": "zpaq"}
    missing = [package for program, package in wanted.items() if not shutil.which(program)]
    if missing and os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(["apt-get", "install", "-y", "-q", *missing], check=False,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return [f"{program} not found (apt-get install {package}): its rows are skipped"
            for program, package in wanted.items() if not shutil.which(program)]


@dataclass
class Row:
    method: str
    size: int | None = None
    seconds: float | None = None
    note: str = ""


def shell(command: str, cwd: Path) -> tuple[float, int]:
    """Run `command`; its seconds and the peak resident memory in bytes of its largest process
    (wait4 reports the child with the descendants it waited for)."""
    start = time.perf_counter()
    process = subprocess.Popen(["bash", "-o", "pipefail", "-c", command], cwd=cwd,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert process.stderr is not None
    errors = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise subprocess.CalledProcessError(process.returncode, command, stderr=errors)
    return seconds, usage.ru_maxrss * 1024


def archiver_commands(name: str) -> list[tuple[str, str | None, str]]:
    """(method, program it needs, command run in the tree's parent writing to $OUT)."""
    tar = f"tar cf - {name}"
    pyarc = f"{sys.executable} -m archiver pack"
    return [
        ("7zz -mx9", "7zz", f"7zz a -mx9 -mmt1 -bd -y \"$OUT\" {name}"),
        ("7zz PPMd o8", "7zz", f"7zz a -m0=PPMd:o=8:mem=256m -mmt1 -bd -y \"$OUT\" {name}"),
        ("tar|xz -9e", "xz", f"{tar} | xz -9e -T1 > \"$OUT\""),
        ("tar|zstd -19 --long", "zstd", f"{tar} | zstd -19 --long=27 -T1 -q -c > \"$OUT\""),
        ("tar|bzip2 -9", "bzip2", f"{tar} | bzip2 -9 > \"$OUT\""),
        ("zpaq -m5", "zpaq", f"zpaq a \"$OUT\" {name} -m5 -t1"),
        ("pyarc pack", None, f"{pyarc} \"$OUT\" {name}"),
        ("pyarc pack -j 1", None, f"{pyarc} -j 1 \"$OUT\" {name}"),
    ]


def _failed(error: subprocess.CalledProcessError) -> str:
    message = (error.stderr or b"").decode("utf-8", "replace").strip().splitlines()
    return "failed: " + (message[-1] if message else "")


def smallest_file(root: Path) -> str:
    """The name (with the tree's own folder) of its smallest file, non-empty if it has one."""
    files = [path for path in sorted(root.rglob("*")) if path.is_file() and not path.is_symlink()]
    smallest = min(files, key=lambda path: (path.stat().st_size == 0, path.stat().st_size))
    return smallest.relative_to(root.parent).as_posix()


def measure_unpack(name: str, root: Path, archive: Path) -> list[Row]:
    """pyarc's archive unpacked whole, then one small file of it."""
    rows = []
    one = smallest_file(root)
    pyarc = f"{sys.executable} -m archiver unpack"
    for method, command in (("pyarc unpack (all)", f"{pyarc} {archive} -C $DEST"),
                            (f"pyarc unpack {one}", f"{pyarc} {archive} {one} -C $DEST")):
        dest = TREES / f".unpack-{name}"
        shutil.rmtree(dest, ignore_errors=True)
        try:
            seconds, memory = shell(command.replace("$DEST", str(dest)), root.parent)
            rows.append(Row(method, seconds=seconds, note=f"peak memory {memory / 2**20:.0f} MiB"))
        except subprocess.CalledProcessError as error:
            rows.append(Row(method, note=_failed(error)))
        shutil.rmtree(dest, ignore_errors=True)
    return rows


def measure_tree(name: str, root: Path) -> list[Row]:
    rows = []
    kept = TREES / f".out-{name}.pyarc"  # the default pack's archive, for the unpack rows
    for method, program, command in archiver_commands(name):
        if program and not shutil.which(program):
            rows.append(Row(method, note=f"no {program}"))
            continue
        out = TREES / f".out-{name}{'.7z' if program == '7zz' else ''}"
        out.unlink(missing_ok=True)
        try:
            seconds, memory = shell(command.replace("$OUT", str(out)), root.parent)
            pyarc = method.startswith("pyarc")
            rows.append(Row(method, out.stat().st_size, seconds,
                            f"peak memory {memory / 2**20:.0f} MiB" if pyarc else ""))
            if method == "pyarc pack":
                out.replace(kept)
        except subprocess.CalledProcessError as error:
            rows.append(Row(method, note=_failed(error)))
        out.unlink(missing_ok=True)
        print(f"  {name}: {method}: {rows[-1].size}", file=sys.stderr, flush=True)
    if kept.exists():
        rows += measure_unpack(name, root, kept)
        kept.unlink()
    return rows


def grouping_speed(files: int = 100_000) -> float:
    """Seconds to classify and sort `files` files from the heads of the repository's files."""
    heads = []
    for path in sorted(ROOT.rglob("*")):
        if path.is_file() and ".venv" not in path.parts and ".git" not in path.parts:
            with open(path, "rb") as file:
                heads.append((path.relative_to(ROOT).as_posix(), file.read(grouping.HEAD_SIZE)))
    rng = random.Random(1)
    sample = [(f"{i}/{name}", head) for i, (name, head) in
              enumerate(rng.choice(heads) for _ in range(files))]
    start = time.perf_counter()
    sorted(sample, key=lambda item: grouping.data_order(item[0],
                                                         grouping.kind_of(item[0], item[1])))
    return time.perf_counter() - start


# -- the report ----------------------------------------------------------------------------------


def _figure(value: float | None, text: str) -> str:
    return text.format(value) if value is not None else "—"


def section(names: Sequence[str]) -> tuple[list[str], dict[str, object]]:
    """The markdown lines of the tree section and its raw results."""
    notes = ensure_tools()
    lines = ["Sizes in bytes, pack times in seconds, one run each; ÷ best is pyarc's size over the "
             "smallest of " + ", ".join(STANDARD) + "; ÷ 7z its time over `7zz -mx9`'s.", ""]
    lines += [f"- {note}" for note in notes]
    raw: dict[str, object] = {}
    for name in names:
        root, skipped = tree(name)
        if skipped:
            lines.append(f"- {name}: skipped: {skipped}")
            raw[name] = {"skipped": skipped}
            continue
        count, size = tree_bytes(root)
        rows = measure_tree(name, root)
        sizes = [row.size for row in rows if row.method in STANDARD and row.size]
        best = min(sizes) if sizes else None
        seven = next((row.seconds for row in rows if row.method == "7zz -mx9" and row.seconds),
                     None)
        lines += ["", f"### {name}: {count:,} files, {size:,} bytes", "",
                  "| method | bytes | seconds | ÷ best | ÷ 7z time | note |",
                  "|---|---:|---:|---:|---:|---|"]
        for row in rows:
            pyarc = row.method.startswith("pyarc")
            ratio = row.size / best if pyarc and best and row.size else None
            packed = row.method.startswith("pyarc pack")
            speed = row.seconds / seven if packed and seven and row.seconds else None
            lines.append(f"| {row.method} | {_figure(row.size, '{:,}')} | "
                         f"{_figure(row.seconds, '{:.2f}')} | {_figure(ratio, '{:.3f}')} | "
                         f"{_figure(speed, '{:.2f}')} | {row.note} |")
        raw[name] = {"files": count, "bytes": size, "best_standard": best,
                     "rows": [row.__dict__ for row in rows]}
    seconds = grouping_speed()
    lines += ["", f"Grouping 100,000 files (kind_of on 4 KiB heads, then sorting by data_order): "
              f"{seconds:.2f} s."]
    raw["grouping_100k_seconds"] = seconds
    return lines, raw


def selected(arguments: Sequence[str] = ()) -> list[str]:
    """The trees asked for: the arguments, else BENCH_TREES (comma-separated), else all."""
    chosen = list(arguments) or [name for name in os.environ.get("BENCH_TREES", "").split(",")
                                 if name]
    unknown = sorted(set(chosen) - {*BUILDERS, "none"})
    if unknown:
        raise SystemExit(f"unknown tree {unknown[0]!r}: choose from {', '.join(BUILDERS)}")
    return chosen or list(BUILDERS)


if __name__ == "__main__":
    text, _ = section(selected(sys.argv[1:]))
    print("\n".join(text))
