"""Shared fixtures: the shared test corpus, and running the `pyarc` CLI in a subprocess."""

from __future__ import annotations

import functools
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
CALGARY = ROOT.parent / "shared" / "corpus" / "calgary"
#: Every file of the corpus, and the usual 14 whose totals ../shared/corpus/ANCHORS.md quotes.
CALGARY_FILES = ["bib", "book1", "book2", "geo", "news", "obj1", "obj2", "paper1", "paper2",
                 "paper3", "paper4", "paper5", "paper6", "pic", "progc", "progl", "progp",
                 "trans"]
CALGARY_14 = ["bib", "book1", "book2", "geo", "news", "obj1", "obj2", "paper1", "paper2", "pic",
              "progc", "progl", "progp", "trans"]

#: (returncode, stdout bytes, stderr text)
CliResult = tuple[int, bytes, str]
RunCli = Callable[..., CliResult]


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    """The Calgary corpus (../shared/corpus/calgary from the repo root); skips when absent."""
    if not CALGARY.is_dir() or not any(CALGARY.iterdir()):
        pytest.skip(f"the Calgary corpus is not available at {CALGARY}")
    return CALGARY


@functools.cache
def corpus_file(directory: Path, name: str) -> bytes:
    """One corpus file (from the corpus_dir fixture), read once per session."""
    path = directory / name
    assert path.is_file(), f"{path} is missing from the corpus"
    return path.read_bytes()


def _run_cli(
    *args: str | os.PathLike[str],
    cwd: str | os.PathLike[str] | None = None,
    stdin: bytes | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 120,
) -> CliResult:
    """Run `python -m archiver ARGS...`; return (returncode, stdout bytes, stderr text).

    `stdin` is fed to the process (empty when None); stdout and stderr are pipes, so neither is
    a terminal. `env` entries are added to (not substituted for) the current environment.
    """
    full_env = {k: v for k, v in os.environ.items() if k != "PYARC_DEBUG"}
    full_env.update(env or {})
    done = subprocess.run(
        [sys.executable, "-m", "archiver", *map(os.fspath, args)],
        cwd=cwd,
        input=stdin if stdin is not None else b"",
        capture_output=True,
        env=full_env,
        timeout=timeout,
    )
    return done.returncode, done.stdout, done.stderr.decode("utf-8", "replace")


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder outside any destination, holding a file no extraction may touch."""
    path = tmp_path / "outside"
    path.mkdir()
    (path / "secret").write_bytes(b"untouched")
    return path


@pytest.fixture
def run_cli() -> RunCli:
    """`run_cli(*args, cwd=None, stdin=None, env=None)` -> (returncode, stdout bytes, stderr)."""
    return _run_cli


def traced_peak(work: Callable[[], object]) -> int:
    """The most memory Python held at once (tracemalloc) while `work()` ran."""
    tracemalloc.start()
    try:
        work()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def assert_one_error_line(stderr: str) -> str:
    """The CLI's error contract: exactly one line on stderr, `pyarc: error: ...`, no traceback."""
    lines = stderr.splitlines()
    assert len(lines) == 1, f"expected one stderr line, got {stderr!r}"
    assert lines[0].startswith("pyarc: error: "), stderr
    assert "Traceback" not in stderr
    return lines[0]


def tree_snapshot(root: Path, *, mtimes: bool = True) -> dict[str, tuple[object, ...]]:
    """Every path below `root` (relative, POSIX) -> (kind, mode, data or target[, mtime_ns]).

    Symlinks are never followed. Compare two snapshots to check a round trip.
    """
    result: dict[str, tuple[object, ...]] = {}
    for path in sorted(root.rglob("*")):
        info = path.lstat()
        rel = path.relative_to(root).as_posix()
        if stat.S_ISLNK(info.st_mode):
            item: tuple[object, ...] = ("symlink", None, os.readlink(path))
        elif stat.S_ISDIR(info.st_mode):
            item = ("dir", stat.S_IMODE(info.st_mode), None)
        else:
            item = ("file", stat.S_IMODE(info.st_mode), path.read_bytes())
        if mtimes and not stat.S_ISLNK(info.st_mode):
            item += (info.st_mtime_ns,)
        result[rel] = item
    return result


def calgary_bpc(corpus_dir: Path, codec: Any) -> float:
    """A codec's Calgary-14 total in bits per byte (each file one encode call), after checking
    that every file round-trips."""
    total = packed = 0
    for name in CALGARY_14:
        data = corpus_file(corpus_dir, name)
        payload = codec.encode(data)
        assert codec.decode(payload, len(data)) == data, name
        total += len(data)
        packed += len(payload)
    return 8 * packed / total


def assert_cli_codec(run_cli: RunCli, tmp_path: Path, good: str,
                     bad: dict[str, str]) -> None:
    """`pyarc pack --codec GOOD` round-trips a small tree through unpack; each BAD spec is a
    usage error (exit 2) whose one error line names the given word."""
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "a.txt").write_bytes((Path(__file__).resolve().parents[1] / "README.md")
                                 .read_bytes()[:20000])
    (tree / "b.bin").write_bytes(b"abc" * 3000 + bytes(range(256)))
    code, _, err = run_cli("pack", "--codec", good, tmp_path / "t.pyarc", tree)
    assert code == 0, err
    code, _, err = run_cli("unpack", tmp_path / "t.pyarc", "-C", tmp_path / "out")
    assert code == 0, err
    assert tree_snapshot(tmp_path / "out" / "tree") == tree_snapshot(tree)
    for number, (spec, word) in enumerate(bad.items()):
        code, _, err = run_cli("pack", "--codec", spec, tmp_path / f"bad{number}.pyarc", tree)
        assert code == 2, spec
        assert word in assert_one_error_line(err)


# -- hostile conditions: another user, a small disk ------------------------------------------

#: The unprivileged user that tests run pyarc as when they run as root.
NOBODY = 65534


@pytest.fixture
def shared_tmp() -> Iterator[Path]:
    """A scratch folder that an unprivileged child can write (pytest's tmp_path lies below
    folders only root may enter)."""
    folder = Path(tempfile.mkdtemp(prefix="pyarc-shared-"))
    folder.chmod(0o777)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def run_cli_unprivileged(*args: str | os.PathLike[str], umask: int = 0o022,
                         cwd: str | os.PathLike[str] | None = None, stdin: bytes = b"",
                         timeout: float = 120) -> CliResult:
    """`run_cli` as an unprivileged user with `umask`: as `nobody` when the tests run as root
    (tests/as_user.py), as the current user otherwise."""
    env = {k: v for k, v in os.environ.items() if k != "PYARC_DEBUG"}
    uid = NOBODY if os.geteuid() == 0 else os.geteuid()
    done = subprocess.run([sys.executable, str(ROOT / "tests" / "as_user.py"), str(uid),
                           f"{umask:o}", *map(os.fspath, args)], cwd=cwd, input=stdin,
                          capture_output=True, env=env, timeout=timeout)
    return done.returncode, done.stdout, done.stderr.decode("utf-8", "replace")


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MiB file system (tmpfs), mounted for the test; skips where mounting is not allowed
    (not root, or no mount namespace rights)."""
    mount_point = tmp_path / "small-disk"
    mount_point.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount_point)],
                          capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], capture_output=True)
