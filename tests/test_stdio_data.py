"""Data through pipes: `pyarc pack ARCHIVE -` packs standard input as one entry, streamed
block by block (its table patched once its size is known) or spooled to a temporary file
when the archive goes to a pipe; `pyarc unpack ARCHIVE -c [PATH]` writes one file's content to
standard output."""

from __future__ import annotations

import io
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import RunCli, assert_one_error_line

from archiver import api
from archiver.errors import PyarcError, UsageError
from archiver.format import Kind

#: Text-like data of several 4 KiB blocks, not a multiple of the block size.
DATA = b"".join(b"line %d of the stream: %s\n" % (n, b"abc" * (n % 7)) for n in range(3000))


def _pyarc(*args: str | os.PathLike[str], stdin: object = subprocess.DEVNULL,
           stdout: object = subprocess.PIPE) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "archiver", *map(os.fspath, args)],
                          stdin=stdin, stdout=stdout, stderr=subprocess.PIPE, timeout=120)


def _only_entry(archive: Path) -> tuple[str, int, bytes]:
    with api.open_archive(archive) as opened:
        (entry,) = opened.entries
        assert entry.kind == Kind.FILE and entry.mode == 0o644
        return entry.path, entry.size, opened.read(entry)


# -- pack from standard input ------------------------------------------------------------------


@pytest.mark.parametrize("size", [0, 1, 4096, 8192, len(DATA)])
def test_stdin_packs_as_one_streamed_entry(tmp_path: Path, run_cli: RunCli, size: int) -> None:
    archive = tmp_path / "a.pyarc"
    code, _, err = run_cli("pack", "-b", "4K", "-c", "lz77", archive, "-", stdin=DATA[:size])
    assert code == 0, err
    assert _only_entry(archive) == ("stdin", size, DATA[:size])
    code, _, err = run_cli("test", archive)  # the patched table agrees with the index
    assert code == 0, err
    code, _, err = run_cli("unpack", "-", "-C", tmp_path / "out", stdin=archive.read_bytes())
    assert code == 0, err
    assert (tmp_path / "out" / "stdin").read_bytes() == DATA[:size]


def test_name_gives_the_entry_its_path(tmp_path: Path, run_cli: RunCli) -> None:
    archive = tmp_path / "a.pyarc"
    code, _, err = run_cli("pack", archive, "-", "--name", "dumps/db.sql", stdin=DATA)
    assert code == 0, err
    assert _only_entry(archive) == ("dumps/db.sql", len(DATA), DATA)


@pytest.mark.parametrize("name", ["../up", "/abs", "a/../b", "", "."])
def test_a_name_no_archive_can_hold_is_refused(tmp_path: Path, run_cli: RunCli,
                                               name: str) -> None:
    code, _, err = run_cli("pack", tmp_path / "a.pyarc", "-", "--name", name, stdin=DATA)
    assert code == 2
    assert "--name" in assert_one_error_line(err)
    assert os.listdir(tmp_path) == []  # no archive, no temporary file left


def test_stdin_is_packed_alone(tmp_path: Path, run_cli: RunCli) -> None:
    (tmp_path / "f").write_bytes(b"x")
    code, _, err = run_cli("pack", tmp_path / "a.pyarc", "-", tmp_path / "f", stdin=DATA)
    assert code == 2
    assert "alone" in assert_one_error_line(err)
    assert not (tmp_path / "a.pyarc").exists()


def test_data_from_a_terminal_is_refused(tmp_path: Path) -> None:
    controller, terminal = pty.openpty()
    try:
        done = _pyarc("pack", tmp_path / "a.pyarc", "-", stdin=terminal)
    finally:
        os.close(controller)
        os.close(terminal)
    assert done.returncode == 2
    assert "terminal" in assert_one_error_line(done.stderr.decode())
    assert not (tmp_path / "a.pyarc").exists()


def test_stdin_to_a_pipe_is_spooled(tmp_path: Path, run_cli: RunCli) -> None:
    code, blob, err = run_cli("pack", "-b", "4K", "-", "-", stdin=DATA)
    assert code == 0, err
    (tmp_path / "a.pyarc").write_bytes(blob)
    assert _only_entry(tmp_path / "a.pyarc") == ("stdin", len(DATA), DATA)


@pytest.mark.parametrize("mode", ["wb", "ab"])
def test_stdin_to_redirected_stdout(tmp_path: Path, mode: str) -> None:
    # `> file` can seek (the table is patched there); `>> file` cannot write where it seeks.
    archive = tmp_path / "a.pyarc"
    with open(archive, mode) as out:
        done = subprocess.run([sys.executable, "-m", "archiver", "pack", "-b", "4K", "-", "-"],
                              input=DATA, stdout=out, stderr=subprocess.PIPE, timeout=120)
    assert done.returncode == 0, done.stderr
    assert _only_entry(archive) == ("stdin", len(DATA), DATA)
    assert _pyarc("test", archive).returncode == 0


class _FailingStream(io.RawIOBase):
    """A stream that gives `good` bytes, then fails as a broken device would."""

    def __init__(self, good: bytes) -> None:
        self.left = good

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
        if not self.left:
            raise OSError(5, "Input/output error")
        size = min(len(buffer), len(self.left))
        buffer[:size], self.left = self.left[:size], self.left[size:]
        return size


@pytest.mark.parametrize("target", ["file", "pipe"])
def test_a_read_error_leaves_no_archive(tmp_path: Path, target: str) -> None:
    archive = tmp_path / "a.pyarc"
    archive.write_bytes(b"an older archive, kept")
    stream = io.BufferedReader(_FailingStream(DATA[:10000]))
    if target == "pipe":  # api.pack to "-" writes to sys.stdout: a spooled read fails first
        with pytest.raises(PyarcError, match="standard input"):
            api.pack(["-"], api.STDIO, block_size=4096, stdin=stream)
    else:
        with pytest.raises(PyarcError, match="cannot read standard input: Input/output error"):
            api.pack(["-"], archive, block_size=4096, stdin=stream, force=True)
    assert archive.read_bytes() == b"an older archive, kept"
    assert os.listdir(tmp_path) == ["a.pyarc"]


def test_a_streamed_pack_is_the_pack_of_the_same_file_but_its_table(tmp_path: Path) -> None:
    # Same blocks, same index; only the stdin entry's table is stored, not compressed.
    data_file = tmp_path / "stdin"
    data_file.write_bytes(DATA)
    os.utime(data_file, ns=(0, 0))
    api.pack([data_file], tmp_path / "file.pyarc", codec="lz77", block_size=4096)
    api.pack(["-"], tmp_path / "pipe.pyarc", codec="lz77", block_size=4096,
             stdin=io.BytesIO(DATA))
    with api.open_archive(tmp_path / "file.pyarc") as a, \
            api.open_archive(tmp_path / "pipe.pyarc") as b:
        assert [ref.stored_size for ref in a.blocks_of("stdin")] == \
            [ref.stored_size for ref in b.blocks_of("stdin")]
        assert a.read("stdin") == b.read("stdin") == DATA


def test_memory_stays_flat_for_a_long_stream(tmp_path: Path) -> None:
    # 160 MiB from a generator: the pack must hold a few blocks, not the stream.
    script = """
import io, resource, sys
from archiver import api

class Zeros(io.RawIOBase):
    left = 160 << 20
    def readable(self): return True
    def readinto(self, buffer):
        size = min(len(buffer), self.left)
        buffer[:size] = bytes(size)
        self.left -= size
        return size

before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
api.pack(["-"], sys.argv[1], codec="lz77:level=1", block_size=1 << 20,
         stdin=io.BufferedReader(Zeros(), 1 << 16))
print(before, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path / "z.pyarc")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    before, after = map(int, done.stdout.split())  # KiB
    assert after - before < 64 * 1024, (before, after)
    assert _only_entry(tmp_path / "z.pyarc")[1] == 160 << 20


# -- unpack one file to standard output ----------------------------------------------------------


@pytest.fixture
def tree_archive(tmp_path: Path) -> tuple[Path, Path]:
    tree = tmp_path / "t"
    (tree / "sub").mkdir(parents=True)
    (tree / "big").write_bytes(DATA * 3)
    (tree / "sub" / "small").write_bytes(b"small file\n")
    (tree / "empty").write_bytes(b"")
    os.link(tree / "big", tree / "link")
    with open(tree / "sparse", "wb") as sparse:
        sparse.truncate(3 << 20)
        sparse.seek(1 << 20)
        sparse.write(b"in the middle")
    archive = tmp_path / "t.pyarc"
    api.pack([tree], archive, block_size=4096)
    return tree, archive


@pytest.mark.parametrize("name", ["big", "sub/small", "empty", "link", "sparse"])
def test_stdout_gives_one_file(tree_archive: tuple[Path, Path], run_cli: RunCli,
                               name: str) -> None:
    tree, archive = tree_archive
    code, out, err = run_cli("unpack", archive, "-c", f"t/{name}")
    assert code == 0, err
    assert out == (tree / name).read_bytes()


@pytest.mark.parametrize("name", ["big", "sub/small", "empty", "sparse"])
def test_stdout_from_a_stream(tree_archive: tuple[Path, Path], run_cli: RunCli,
                              name: str) -> None:
    tree, archive = tree_archive
    code, out, err = run_cli("unpack", "-", "--stdout", f"t/{name}", stdin=archive.read_bytes())
    assert code == 0, err
    assert out == (tree / name).read_bytes()


@pytest.mark.parametrize(("args", "code", "words"), [
    (["t/sub"], 2, "directory"),
    (["t/missing"], 1, "not in the archive"),
    ([], 2, "name the one"),
    (["t/big", "t/sub/small"], 2, "one PATH"),
    (["--salvage", "t/big"], 2, "--salvage"),
])
def test_stdout_refuses_what_is_not_one_file(tree_archive: tuple[Path, Path], run_cli: RunCli,
                                             args: list[str], code: int, words: str) -> None:
    _, archive = tree_archive
    got, out, err = run_cli("unpack", archive, "-c", *args)
    assert got == code
    assert words in assert_one_error_line(err)
    assert out == b""


def test_stdout_from_a_stream_refuses_a_hard_link(tree_archive: tuple[Path, Path],
                                                  run_cli: RunCli) -> None:
    _, archive = tree_archive
    code, out, err = run_cli("unpack", "-", "-c", "t/link", stdin=archive.read_bytes())
    assert code == 1
    assert "hard link" in assert_one_error_line(err) and out == b""


def test_stdout_of_a_single_file_archive_needs_no_name(tmp_path: Path, run_cli: RunCli) -> None:
    archive = tmp_path / "a.pyarc"
    api.pack(["-"], archive, stdin=io.BytesIO(DATA))
    for source, stdin in ((archive, None), ("-", archive.read_bytes())):
        code, out, err = run_cli("unpack", source, "-c", stdin=stdin)
        assert code == 0, err
        assert out == DATA
    blob = api.compress(DATA)  # the unnamed entry of a single-stream archive
    code, out, err = run_cli("unpack", "-", "-c", stdin=blob)
    assert (code, out) == (0, DATA), err


def test_stdout_of_a_damaged_archive_fails(tree_archive: tuple[Path, Path], tmp_path: Path,
                                           run_cli: RunCli) -> None:
    _, archive = tree_archive
    blob = bytearray(archive.read_bytes())
    with api.open_archive(archive) as opened:
        ref = opened.blocks_of("t/big")[1]
    blob[ref.offset + 60] ^= 0xFF  # inside the second block of t/big
    damaged = tmp_path / "damaged.pyarc"
    damaged.write_bytes(bytes(blob))
    code, out, err = run_cli("unpack", damaged, "-c", "t/big")
    assert code == 1
    assert_one_error_line(err)
    assert len(out) < len(DATA * 3)


def test_stdout_honours_max_output(tree_archive: tuple[Path, Path], run_cli: RunCli) -> None:
    _, archive = tree_archive
    code, out, err = run_cli("unpack", archive, "-c", "t/big", "--max-output", "10K")
    assert code == 1
    assert "--max-output" in assert_one_error_line(err)
    assert len(out) <= 10 * 1024


def test_stdout_into_a_closed_pipe_is_quiet(tree_archive: tuple[Path, Path]) -> None:
    _, archive = tree_archive
    reader = subprocess.Popen([sys.executable, "-m", "archiver", "unpack", archive, "-c",
                               "t/big"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert reader.stdout is not None and reader.stderr is not None
    reader.stdout.read(10)
    reader.stdout.close()
    err = reader.stderr.read().decode()
    reader.wait(timeout=60)
    assert "Traceback" not in err


def test_unpack_to_api_checks_its_path(tree_archive: tuple[Path, Path]) -> None:
    _, archive = tree_archive
    out = io.BytesIO()
    with pytest.raises(UsageError, match="directory"):
        api.unpack_to(archive, out, "t/sub")
    assert out.getvalue() == b""
    api.unpack_to(archive, out, "t/sub/small")
    assert out.getvalue() == b"small file\n"
