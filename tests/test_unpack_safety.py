"""`pyarc unpack` through the CLI, the way a careless user and an attacker use it: modes for a
normal user and for root, directories that were there before, failures half-way."""

from __future__ import annotations

import io
import os
import random
import resource
import signal
import stat
import subprocess
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest
from conftest import CliResult, assert_one_error_line, run_cli_unprivileged

from archiver.api import make_encoder
from archiver.format import Entry, Kind
from archiver.writer import Source, write_archive

MTIME = 1_600_000_000_123_456_789
BLOCK = 4096


def write(archive: Path, items: Iterable[tuple[Entry, bytes]]) -> Path:
    """An archive of exactly these entries (store codec), whatever the disk holds."""
    out = io.BytesIO()
    sources = [Source(order, entry, [data[i:i + BLOCK] for i in range(0, len(data), BLOCK)])
               for order, (entry, data) in enumerate(items)]
    write_archive(out, sources, make_encoder("store"), BLOCK)
    archive.write_bytes(out.getvalue())
    return archive


def file(path: str, data: bytes = b"data", mode: int = 0o644) -> tuple[Entry, bytes]:
    return Entry(path, Kind.FILE, mode, MTIME, size=len(data)), data


def directory(path: str, mode: int = 0o755) -> tuple[Entry, bytes]:
    return Entry(path, Kind.DIRECTORY, mode, MTIME), b""


def symlink(path: str, target: str) -> tuple[Entry, bytes]:
    return Entry(path, Kind.SYMLINK, 0o777, MTIME, target=target), b""


PYARC = [sys.executable, "-m", "archiver"]


def run_pyarc(*args: str | os.PathLike[str], umask: int = 0o022, cwd: Path | None = None,
              preexec: Callable[[], None] | None = None, command: list[str] = PYARC) -> CliResult:
    """`python -m archiver ARGS` (or `command ARGS`) with a chosen umask, and whatever else
    `preexec` sets up in the child."""

    def setup() -> None:
        if preexec is not None:
            preexec()
        os.umask(umask)

    done = subprocess.run([*command, *map(os.fspath, args)],
                          capture_output=True, stdin=subprocess.DEVNULL, cwd=cwd,
                          preexec_fn=setup, timeout=120)
    return done.returncode, done.stdout, done.stderr.decode("utf-8", "replace")


def modes_below(root: Path) -> dict[str, int]:
    return {path.relative_to(root).as_posix(): stat.S_IMODE(path.lstat().st_mode)
            for path in root.rglob("*")}


# -- a normal user, and root -----------------------------------------------------------------

MODES = [
    directory("d", mode=0o777),
    file("d/f", mode=0o666),
    file("d/run", mode=0o777),
    directory("tmp", mode=0o1777),
    file("suid", mode=0o4755),
    file("implicit/f", mode=0o644),
]


def test_a_normal_user_gets_the_umask_applied(shared_tmp: Path) -> None:
    archive = write(shared_tmp / "modes.pyarc", MODES)
    archive.chmod(0o644)
    out = shared_tmp / "out"
    code, _, err = run_cli_unprivileged("unpack", archive, "-C", out, umask=0o077,
                                        cwd=shared_tmp)
    assert code == 0, err
    assert modes_below(out) == {
        "d": 0o700, "d/f": 0o600, "d/run": 0o700,
        "tmp": 0o1700,  # sticky kept, minus the umask
        "suid": 0o700,  # setuid dropped
        "implicit": 0o700, "implicit/f": 0o600,
    }


@pytest.mark.skipif(os.geteuid() != 0, reason="root's rule (modes as archived) needs root")
def test_root_gets_the_archived_modes_whatever_the_umask(tmp_path: Path) -> None:
    archive = write(tmp_path / "modes.pyarc", MODES)
    code, _, err = run_pyarc("unpack", archive, "-C", tmp_path / "out", umask=0o077)
    assert code == 0, err
    assert modes_below(tmp_path / "out") == {
        "d": 0o777, "d/f": 0o666, "d/run": 0o777,
        "tmp": 0o1777,
        "suid": 0o755,  # setuid dropped, even for root
        "implicit": 0o755, "implicit/f": 0o644,
    }


# -- directories that were there before ------------------------------------------------------

OLD = 1_500_000_000_000_000_000


def test_existing_directories_are_left_alone_unless_forced(tmp_path: Path) -> None:
    """`pyarc unpack -C ~ home.pyarc` must not open up ~ because the archive says 0777."""
    archive = write(tmp_path / "a.pyarc", [directory("home", mode=0o777), directory("home/d")])
    home = tmp_path / "out" / "home"
    home.mkdir(parents=True)
    home.chmod(0o700)
    os.utime(home, ns=(OLD, OLD))
    code, _, err = run_pyarc("unpack", archive, "-C", tmp_path / "out", umask=0)
    assert code == 0, err
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    assert home.stat().st_mtime_ns != MTIME
    code, _, err = run_pyarc("unpack", "--force", archive, "-C", tmp_path / "out", umask=0)
    assert code == 0, err
    assert stat.S_IMODE(home.stat().st_mode) == 0o777
    assert home.stat().st_mtime_ns == MTIME


# -- failures half-way -------------------------------------------------------------------------


def _corrupt(archive: Path, data: bytes) -> None:
    """Flip a byte of `data`, stored as is (store codec, within one block) in `archive`."""
    blob = bytearray(archive.read_bytes())
    at = blob.index(data) + len(data) // 2
    blob[at] ^= 0xFF
    archive.write_bytes(bytes(blob))


def _file_size_limit(limit: int) -> Callable[[], None]:
    """Every write beyond `limit` bytes fails (EFBIG), as on a full disk (ENOSPC)."""

    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


@pytest.mark.parametrize("failure", ["corrupt block", "full disk"])
def test_a_failed_unpack_gives_created_directories_their_modes(failure: str,
                                                               tmp_path: Path) -> None:
    data = random.Random(7).randbytes(64 * BLOCK)
    archive = write(tmp_path / "a.pyarc", [
        directory("d", mode=0o751), directory("d/ro", mode=0o555), file("d/sub/big", data)])
    limit = None
    if failure == "corrupt block":
        _corrupt(archive, data[40 * BLOCK:41 * BLOCK])
    else:
        limit = _file_size_limit(len(data) // 2)
    out = tmp_path / "out"
    code, _, err = run_pyarc("unpack", archive, "-C", out, preexec=limit)
    assert code == 1
    assert "d/sub/big" in assert_one_error_line(err)
    assert modes_below(out) == {"d": 0o751, "d/ro": 0o555, "d/sub": 0o755}  # no file, not 0o700


# -- absolute symlinks -------------------------------------------------------------------------


def test_absolute_symlinks_are_left_out_unless_kept(tmp_path: Path, outside: Path) -> None:
    archive = write(tmp_path / "etc.pyarc", [
        directory("etc"), file("etc/passwd"), symlink("etc/x", str(outside)),
        symlink("etc/y", "x/secret")])
    code, _, err = run_pyarc("unpack", archive, "-C", tmp_path / "default")
    assert code == 1
    line = assert_one_error_line(err)
    assert "'etc/x'" in line and "--keep-absolute-symlinks" in line
    assert sorted(os.listdir(tmp_path / "default/etc")) == ["passwd", "y"]  # y: dangling
    for how in (["unpack"], ["unpack", "--salvage"]):
        out = tmp_path / "-".join(how)
        code, _, err = run_pyarc(*how, "--keep-absolute-symlinks", archive, "-C", out)
        assert code == 0, err
        assert os.readlink(out / "etc/x") == str(outside)
        assert (out / "etc/y").read_bytes() == b"untouched"  # through the kept link, by design


def _unpack_kept(archive: Path, out: Path, *, stream: bool) -> subprocess.CompletedProcess[bytes]:
    args = ["unpack", "--force", "--keep-absolute-symlinks", "-" if stream else archive, "-C", out]
    return subprocess.run([*PYARC, *map(os.fspath, args)], capture_output=True, timeout=120,
                          input=archive.read_bytes() if stream else b"")


@pytest.mark.parametrize("stream", [False, True])  # True: from stdin, checked as it comes
def test_a_kept_absolute_link_is_never_written_through(tmp_path: Path, outside: Path,
                                                       stream: bool) -> None:
    link = symlink("etc/x", str(outside))
    evil = [file("etc/x/evil"), file("etc/x/secret", b"overwritten")]
    # An archive with entries below its own absolute link.
    done = _unpack_kept(write(tmp_path / "below.pyarc", [link, *evil]), tmp_path / "below",
                        stream=stream)
    assert done.returncode == 1
    assert "symlink 'etc/x'" in assert_one_error_line(done.stderr.decode())
    # A later unpack over a kept link already on disk.
    over = tmp_path / "over"
    assert _unpack_kept(write(tmp_path / "link.pyarc", [link]), over, stream=False).returncode == 0
    done = _unpack_kept(write(tmp_path / "over.pyarc", evil), over, stream=stream)
    assert done.returncode == 1
    assert "through symlink 'etc/x'" in assert_one_error_line(done.stderr.decode())
    assert os.readlink(over / "etc/x") == str(outside)

    assert sorted(os.listdir(outside)) == ["secret"]
    assert (outside / "secret").read_bytes() == b"untouched"


# -- the destination itself --------------------------------------------------------------------


@pytest.fixture
def small_archive(tmp_path: Path) -> Path:
    return write(tmp_path / "a.pyarc", [directory("d"), file("d/f", b"x" * 10_000)])


@pytest.mark.parametrize("how", ["file", "stream", "salvage"])
def test_unpack_into_a_file_says_it_is_not_a_directory(how: str, small_archive: Path,
                                                       tmp_path: Path) -> None:
    target = tmp_path / "FILE"
    target.write_bytes(b"precious")
    args = {"file": [small_archive], "stream": ["-"], "salvage": ["--salvage", small_archive]}
    done = subprocess.run([*PYARC, "unpack", *map(os.fspath, args[how]), "-C", target],
                          input=small_archive.read_bytes(), capture_output=True, timeout=120)
    assert done.returncode == 1
    assert assert_one_error_line(done.stderr.decode()) == (
        f"pyarc: error: cannot extract into '{target}': it is not a directory")
    assert target.read_bytes() == b"precious"
    assert sorted(os.listdir(tmp_path)) == ["FILE", "a.pyarc"]


def test_unpack_below_a_file_names_the_destination_and_the_reason(small_archive: Path,
                                                                  tmp_path: Path) -> None:
    (tmp_path / "FILE").write_bytes(b"precious")
    code, _, err = run_pyarc("unpack", small_archive, "-C", tmp_path / "FILE/sub")
    assert code == 1
    assert assert_one_error_line(err) == (
        f"pyarc: error: cannot extract into '{tmp_path / 'FILE/sub'}': Not a directory")
    assert sorted(os.listdir(tmp_path)) == ["FILE", "a.pyarc"]


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs /proc (procfs) mounted")
def test_unpack_where_nothing_can_be_created_names_the_destination(small_archive: Path) -> None:
    """/proc has no free space either: the destination is the error to report first."""
    code, _, err = run_pyarc("unpack", small_archive, "-C", "/proc/pyarc-test/out")
    assert code == 1
    line = assert_one_error_line(err)
    assert line.startswith("pyarc: error: cannot extract into '/proc/pyarc-test/out': "), line
    assert line.endswith(": No such file or directory"), line
