"""What `pack` does with its inputs when they are not what a careful user would give: the
archive itself, nothing at all, files that change, grow, shrink, vanish or cannot be read
while they are packed, a terminal as output; and --exclude, -L, --strict.

Changes while packing are made by a second process while pyarc reads a file slowly (it
compresses each block with `arithmetic` between reads, and reads at most a few blocks ahead).
"""

from __future__ import annotations

import os
import pty
import random
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import (
    RunCli,
    assert_one_error_line,
    run_cli_unprivileged,
    tree_snapshot,
)

import archiver
import archiver.writer
from archiver import api
from archiver.errors import PyarcError

#: Coding in 1 MiB blocks reads this over a second or more: time for a change (the writer reads
#: at most a few blocks ahead of the coder).
SLOW = 8 << 20


def error_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("pyarc: error:")]


def warning_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("pyarc: warning:")]


def names(archive: Path) -> list[str]:
    return [entry.path for entry in api.read_index(archive).catalog.entries]


def text(size: int, seed: int = 1) -> bytes:
    """Text of a thousand made-up words: slow enough for ppm (about 2 MB/s)."""
    rng = random.Random(seed)
    words = [bytes(rng.choices(b"abcdefghijklmnopqrstuvwxyz", k=rng.randint(2, 9)))
             for _ in range(1000)]
    return b" ".join(rng.choice(words) for _ in range(size // 5))[:size]


def start_pack(*args: str | Path, cwd: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "archiver", "pack", *map(str, args)],
                            cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)


def wait_until_writing(folder: Path, process: subprocess.Popen[bytes]) -> None:
    """Until the archive's temporary file exists and a little more: the pack has opened its
    first input and is reading it, one block per coded block (ppm takes about 0.2 s for each
    of its 1 MiB blocks)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        if any(".pyarc-tmp" in path.name for path in folder.iterdir()):
            time.sleep(0.4)
            return
        time.sleep(0.01)
    pytest.fail("the pack finished (or stalled) before it began writing")


# -- the archive among its inputs ----------------------------------------------------------------


@pytest.mark.parametrize("spelling", ["precious.txt", "./precious.txt", "{abs}"])
def test_an_input_that_is_the_archive_is_refused(spelling: str, tmp_path: Path,
                                                 run_cli: RunCli) -> None:
    precious = tmp_path / "precious.txt"
    precious.write_bytes(b"the only copy")
    code, _, err = run_cli("pack", "-f", "precious.txt", spelling.format(abs=precious),
                           cwd=tmp_path)
    assert code == 2
    assert "into itself" in assert_one_error_line(err)
    assert precious.read_bytes() == b"the only copy"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["precious.txt"]


def test_the_output_of_pack_to_stdout_among_its_inputs_is_refused(tmp_path: Path) -> None:
    precious = tmp_path / "precious.txt"
    precious.write_bytes(b"the only copy")
    with open(precious, "ab") as out:  # appending: the shell's >> keeps the data
        done = subprocess.run([sys.executable, "-m", "archiver", "pack", "-", precious],
                              stdout=out, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    assert done.returncode == 2
    assert "into itself" in assert_one_error_line(done.stderr.decode())
    assert precious.read_bytes() == b"the only copy"


def _socket_in(folder: Path) -> socket.socket:
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(folder / "sock"))
    return listener


@pytest.mark.parametrize("how", ["all skipped", "all excluded"])
def test_a_pack_that_stores_nothing_fails_and_keeps_the_old_archive(how: str, tmp_path: Path,
                                                                   run_cli: RunCli) -> None:
    old = tmp_path / "old.pyarc"
    (tmp_path / "keep.txt").write_bytes(b"keep")
    archiver.pack([tmp_path / "keep.txt"], old)
    before = old.read_bytes()
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    with _socket_in(inputs):
        args = ([inputs / "sock"] if how == "all skipped"
                else ["--exclude", "*.txt", tmp_path / "keep.txt"])
        code, _, err = run_cli("pack", "-f", old, *args)
    assert code == 1
    assert "nothing to pack" in error_lines(err)[0]
    assert len(error_lines(err)) == 1
    assert old.read_bytes() == before
    assert not any(".pyarc-tmp" in path.name for path in tmp_path.iterdir())
    code, out, err = run_cli("pack", "-", tmp_path / "keep.txt", "-x", "keep.txt")
    assert code == 1 and out == b""  # not even a header went to the pipe


def test_pack_into_a_directory_says_so(tmp_path: Path, run_cli: RunCli) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "f1").write_bytes(b"x")
    code, _, err = run_cli("pack", "d", "f1", cwd=tmp_path)
    assert code == 2
    line = assert_one_error_line(err)
    assert "is a directory" in line and "--force" not in line
    code, _, err = run_cli("pack", "-f", "d", "f1", cwd=tmp_path)
    assert code == 2 and "is a directory" in assert_one_error_line(err)
    assert list((tmp_path / "d").iterdir()) == []


# -- files that change while they are packed ------------------------------------------------


def _changer(script: str, path: Path) -> subprocess.Popen[bytes]:
    """A process that keeps changing `path` until it is killed."""
    return subprocess.Popen([sys.executable, "-c", script, str(path)])


GROW = """
import sys, time
with open(sys.argv[1], "ab", buffering=0) as file:
    while True:
        file.write(b"more " * 100)
        time.sleep(0.001)
"""

REWRITE = """
import os, sys, time
fd = os.open(sys.argv[1], os.O_WRONLY)
size = os.fstat(fd).st_size - 8
n = 0
while True:
    n += 1
    os.pwrite(fd, b"%08d" % n, (n * 65537) % size)
    time.sleep(0.001)
"""


@pytest.mark.parametrize("change", ["grows", "is rewritten"])
def test_a_file_that_changes_while_packed_is_reported(change: str, tmp_path: Path,
                                                      run_cli: RunCli) -> None:
    target = tmp_path / "log.txt"
    target.write_bytes(text(SLOW))
    (tmp_path / "other.txt").write_bytes(b"other")
    changer = _changer(GROW if change == "grows" else REWRITE, target)
    try:
        time.sleep(0.2)  # it has begun
        code, _, err = run_cli("pack", "-c", "arithmetic", "-j", "1", "-b", "1M",
                               tmp_path / "a.pyarc", target, tmp_path / "other.txt")
    finally:
        changer.kill()
        changer.wait()
    assert code == 1, err
    warned = warning_lines(err)
    assert len(warned) == 1 and "log.txt" in warned[0], err
    assert ("grew while it was read" if change == "grows"
            else "changed while it was read") in warned[0]
    assert len(error_lines(err)) == 1
    # The archive is complete and consistent for what it holds.
    assert archiver.test(tmp_path / "a.pyarc").files == 2
    assert names(tmp_path / "a.pyarc") == ["log.txt", "other.txt"]


def test_a_file_that_shrinks_is_padded_and_the_rest_is_packed(tmp_path: Path) -> None:
    target = tmp_path / "big.txt"
    target.write_bytes(text(SLOW))
    (tmp_path / "z.txt").write_bytes(b"last")
    process = start_pack("-c", "ppm", "-j", "1", "-b", "1M", "a.pyarc", "big.txt",
                         "z.txt", cwd=tmp_path)
    wait_until_writing(tmp_path, process)
    os.truncate(target, 1 << 20)
    _, err = (part.decode() for part in process.communicate(timeout=120))
    assert process.returncode == 1, err
    warned = warning_lines(err)
    assert len(warned) == 1 and "big.txt" in warned[0] and "shrank" in warned[0], err
    with archiver.open_archive(tmp_path / "a.pyarc") as opened:
        data = opened.read("big.txt")
        assert opened.read("z.txt") == b"last"
    assert len(data) == SLOW and data[:1 << 20] == text(SLOW)[:1 << 20]
    assert data.rstrip(b"\0") == data[:len(data.rstrip(b"\0"))]  # zeros after what was read


@pytest.mark.parametrize("strict", [False, True])
def test_a_file_that_vanishes_is_left_out(strict: bool, tmp_path: Path) -> None:
    """... and, with --strict, is an error that leaves no archive."""
    (tmp_path / "a-big.txt").write_bytes(text(SLOW))
    (tmp_path / "b-gone.txt").write_bytes(b"gone soon")
    (tmp_path / "c-last.txt").write_bytes(b"last")
    process = start_pack(*(["--strict"] if strict else []), "-c", "ppm", "-j", "1",
                         "-b", "1M", "out.pyarc", "a-big.txt", "b-gone.txt", "c-last.txt",
                         cwd=tmp_path)
    wait_until_writing(tmp_path, process)
    (tmp_path / "b-gone.txt").unlink()
    _, err = (part.decode() for part in process.communicate(timeout=120))
    assert process.returncode == 1, err
    if strict:
        assert "b-gone.txt" in assert_one_error_line(err) and "--strict" in err
        assert sorted(path.name for path in tmp_path.iterdir()) == ["a-big.txt", "c-last.txt"]
        return
    warned = warning_lines(err)
    assert len(warned) == 1 and "b-gone.txt" in warned[0] and "vanished" in warned[0], err
    assert names(tmp_path / "out.pyarc") == ["a-big.txt", "c-last.txt"]
    assert archiver.test(tmp_path / "out.pyarc").files == 2


# -- files that cannot be read -------------------------------------------------------------------


@pytest.fixture
def guarded_tree(shared_tmp: Path) -> Path:
    """A tree where an unprivileged user can read everything but one file and one folder."""
    root = shared_tmp / "tree"
    (root / "locked").mkdir(parents=True)
    (root / "locked" / "inside.txt").write_bytes(b"hidden")
    (root / "a.txt").write_bytes(b"alpha")
    (root / "secret.txt").write_bytes(b"secret")
    (root / "z.txt").write_bytes(b"zeta")
    for path in (root, *root.rglob("*")):
        os.chmod(path, 0o777 if path.is_dir() else 0o644)
    (root / "secret.txt").chmod(0o000)
    (root / "locked").chmod(0o000)
    return root


def test_an_unreadable_file_is_warned_about_and_the_rest_is_packed(guarded_tree: Path,
                                                                   shared_tmp: Path) -> None:
    archive = shared_tmp / "out.pyarc"
    code, _, err = run_cli_unprivileged("pack", archive, guarded_tree, cwd=shared_tmp)
    assert code == 1, err
    warned = warning_lines(err)
    assert len(warned) == 2, err
    assert "secret.txt" in warned[1] and "Permission denied" in warned[1]
    assert "locked" in warned[0] and "cannot list" in warned[0]
    assert len(error_lines(err)) == 1 and "2 files were not packed" in err
    assert names(archive) == ["tree", "tree/a.txt", "tree/locked", "tree/z.txt"]
    assert archiver.test(archive).files == 2


def test_strict_refuses_an_unreadable_file(guarded_tree: Path, shared_tmp: Path) -> None:
    archive = shared_tmp / "out.pyarc"
    code, _, err = run_cli_unprivileged("pack", "--strict", archive, guarded_tree,
                              cwd=shared_tmp)
    assert code == 1
    assert "--strict" in assert_one_error_line(err)
    assert not archive.exists()
    assert not any(".pyarc-tmp" in path.name for path in shared_tmp.iterdir())


# -- --exclude and --dereference ---------------------------------------------------------------


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    for name in ("src/a.py", "src/__pycache__/a.cpython-311.pyc", "src/deep/b.py",
                 "build/out.o", "docs/x.png", "docs/img/y.png", "top.txt", "src/top.txt"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(name.encode())
    return root


@pytest.mark.parametrize(("patterns", "left_out"), [
    (["__pycache__/"], {"src/__pycache__", "src/__pycache__/a.cpython-311.pyc"}),
    (["*.pyc"], {"src/__pycache__/a.cpython-311.pyc"}),
    (["/proj/build"], {"build", "build/out.o"}),
    (["proj/docs/**/*.png"], {"docs/x.png", "docs/img/y.png"}),
    (["top.txt"], {"top.txt", "src/top.txt"}),
    (["/proj/top.txt", "*.py"], {"top.txt", "src/a.py", "src/deep/b.py"}),
])
def test_exclude_takes_gitignore_patterns(patterns: list[str], left_out: set[str],
                                          project: Path, tmp_path: Path,
                                          run_cli: RunCli) -> None:
    everything = set(tree_snapshot(project))
    options = [item for pattern in patterns for item in ("--exclude", pattern)]
    code, _, err = run_cli("pack", *options, "a.pyarc", "proj", cwd=tmp_path)
    assert code == 0, err
    stored = {name.removeprefix("proj/") for name in names(tmp_path / "a.pyarc")} - {"proj"}
    assert stored == everything - left_out


def test_dereference_follows_symlinks(tmp_path: Path, run_cli: RunCli) -> None:
    root = tmp_path / "root"
    (root / "real").mkdir(parents=True)
    (root / "real" / "f.txt").write_bytes(b"data")
    (root / "file-link").symlink_to("real/f.txt")
    (root / "dir-link").symlink_to("real")
    (root / "real" / "loop").symlink_to("..")
    code, _, err = run_cli("pack", "a.pyarc", "root", cwd=tmp_path)
    assert code == 0, err
    kinds = {entry.path: entry.kind.name for entry in api.read_index(tmp_path / "a.pyarc")
             .catalog.entries}
    assert kinds["root/file-link"] == "SYMLINK" and kinds["root/dir-link"] == "SYMLINK"
    code, _, err = run_cli("pack", "-L", "b.pyarc", "root", cwd=tmp_path)
    assert code == 1, err  # the loop is reported, everything else is packed
    assert "symlink loop" in warning_lines(err)[0]
    with archiver.open_archive(tmp_path / "b.pyarc") as opened:
        kinds = {entry.path: entry.kind.name for entry in opened.entries}
        assert kinds["root/file-link"] == "FILE" and opened.read("root/file-link") == b"data"
        assert kinds["root/dir-link"] == "DIRECTORY"
        assert opened.read("root/dir-link/f.txt") == b"data"
        assert kinds["root/real/loop"] == "DIRECTORY"
        assert not any(path.startswith("root/real/loop/") for path in kinds)
    (root / "broken").symlink_to("nowhere")
    code, _, err = run_cli("pack", "-L", "c.pyarc", "root/broken", "root/real", cwd=tmp_path)
    assert code == 1 and "cannot read 'root/broken'" in assert_one_error_line(err)


# -- a terminal is no place for an archive -------------------------------------------------------


def test_pack_to_a_terminal_is_refused(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"data")
    controller, terminal = pty.openpty()
    try:
        done = subprocess.run([sys.executable, "-m", "archiver", "pack", "-", "f"],
                              cwd=tmp_path, stdout=terminal, stderr=subprocess.PIPE,
                              stdin=subprocess.DEVNULL, timeout=60)
        os.set_blocking(controller, False)
        try:
            shown = os.read(controller, 1 << 16)
        except BlockingIOError:
            shown = b""
    finally:
        os.close(controller)
        os.close(terminal)
    assert done.returncode == 2
    assert "terminal" in assert_one_error_line(done.stderr.decode())
    assert b"PYARC" not in shown


def test_reading_an_archive_from_a_terminal_is_refused(tmp_path: Path) -> None:
    controller, terminal = pty.openpty()
    try:
        for command in (["unpack", "-", "-C", str(tmp_path / "out")], ["list", "-"],
                        ["test", "-"]):
            done = subprocess.run([sys.executable, "-m", "archiver", *command],
                                  stdin=terminal, capture_output=True, timeout=60)
            assert done.returncode == 2, command
            assert "terminal" in assert_one_error_line(done.stderr.decode())
    finally:
        os.close(controller)
        os.close(terminal)
    assert not (tmp_path / "out").exists()


# -- more than one index holds ------------------------------------------------------------------


@pytest.fixture
def ten_files(tmp_path: Path) -> Path:
    root = tmp_path / "ten"
    root.mkdir()
    for number in range(10):
        (root / f"{number}.txt").write_text(f"file {number}\n")
    return root


@pytest.mark.parametrize(("limit", "message"), [
    ("MAX_ENTRIES", "more than 5 entries, the most one archive's index holds: pack the tree "
                    "in parts"),
    ("MAX_INDEX_SIZE", "the index of these 11 entries takes 0 MiB, more than the 0 MiB one "
                       "archive's index may: pack the tree in parts"),
])
def test_a_tree_more_than_one_index_holds_is_refused_cleanly(
        limit: str, message: str, ten_files: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """With the format's limits made small: a clear error (it was construct's "invalid value"
    as an internal error, after all the data was packed), and no archive left."""
    monkeypatch.setattr(archiver.writer, limit, 5 if limit == "MAX_ENTRIES" else 100)
    archive = tmp_path / "ten.pyarc"
    with pytest.raises(PyarcError) as raised:
        api.pack([ten_files], archive)
    assert str(raised.value) == message
    assert not archive.exists()
    assert os.listdir(tmp_path) == ["ten"]
