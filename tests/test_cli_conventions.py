"""What users of tar, xz and zstd expect of a command line: --version, -v and -q, completion,
-j checked and bounded, help that reads as words, names given to unpack as they would type
them (./a/b, globs), unpack and test on several threads, and `test` telling a missing codec
from damage."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import threading
import zlib
from pathlib import Path

import pytest
import typer
from conftest import RunCli, assert_one_error_line, tree_snapshot

import archiver
from archiver import api
from archiver.cli import app
from archiver.codec import Codec
from archiver.plugins import RegisteredCodec, Registry
from archiver.plugins import registry as installed


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    rng = random.Random(9)
    for name in ("src/a.py", "src/b.py", "src/deep/c.py", "src/deep/d.txt", "docs/e.txt",
                 "f.py"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(name.encode() * 50 + rng.randbytes(3000))
    return root


@pytest.fixture
def archive(tree: Path, tmp_path: Path) -> Path:
    path = tmp_path / "proj.pyarc"
    archiver.pack([tree], path, codec="store", block_size=1024)
    return path


def files_below(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


# -- --version, completion, help --------------------------------------------------------------


def test_version(run_cli: RunCli) -> None:
    code, out, err = run_cli("--version")
    assert code == 0, err
    assert out.decode().strip() == f"pyarc {archiver.__version__}"


def test_shell_completion_is_offered(run_cli: RunCli) -> None:
    code, out, _ = run_cli("--help")
    assert b"--install-completion" in out
    # typer detects the shell from the parent processes; its test switch takes it as given.
    code, out, err = run_cli("--show-completion", "bash",
                             env={"_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"})
    assert code == 0, err
    assert b"complete" in out and b"pyarc" in out.lower()


COMMANDS = ["pack", "unpack", "list", "test", "info", "entropy", "codecs", "bench"]


@pytest.mark.parametrize("command", ["", *COMMANDS])
def test_help_shows_words_not_python_types(command: str, run_cli: RunCli) -> None:
    code, out, err = run_cli(*([command] if command else []), "--help",
                             env={"COLUMNS": "200"})
    assert code == 0, err
    for python_type in (b"<bool>", b"<str>", b"<int>", b"<list", b"[str]"):
        assert python_type not in out, (command, out.decode())


def test_help_texts_are_not_hard_wrapped() -> None:
    """Each paragraph of a command's help is one line in the source, so that the terminal,
    not the source file, decides where lines break (a newline inside a paragraph shows)."""
    for info in app.registered_commands:
        help_text = info.help or (info.callback.__doc__ if info.callback else "") or ""
        for paragraph in help_text.strip().split("\n\n"):
            assert "\n" not in paragraph.strip(), (info.callback, paragraph)


def test_no_two_options_of_a_command_share_a_name() -> None:
    """A short option given twice (pack's -e was both --executor and --encrypt) silently
    means the last one declared."""
    group = typer.main.get_group(app)
    for name, command in group.commands.items():
        names = [option for param in command.params for option in param.opts
                 if option.startswith("-")]
        assert len(names) == len(set(names)), (name, sorted(names))


# -- -v and -q ---------------------------------------------------------------------------------


def test_verbose_lists_each_entry_and_quiet_prints_nothing(tree: Path, tmp_path: Path,
                                                           run_cli: RunCli) -> None:
    expected = ["proj/", "proj/docs/", "proj/docs/e.txt", "proj/f.py", "proj/src/",
                "proj/src/a.py", "proj/src/b.py", "proj/src/deep/", "proj/src/deep/c.py",
                "proj/src/deep/d.txt"]
    # (each entry once, in the order it is processed: pack and unpack take the files in the
    # order of their data, test lists them in archive order)
    code, out, err = run_cli("pack", "-v", "a.pyarc", "proj", cwd=tree.parent)
    assert code == 0, err
    assert sorted(out.decode().splitlines()) == expected
    code, out, err = run_cli("pack", "-v", "-", "proj", cwd=tree.parent)
    assert code == 0
    assert sorted(err.splitlines()[:len(expected)]) == expected  # stdout carries the archive
    assert out.startswith(b"\x89PYARC")
    for command in (["test", "-v", "a.pyarc"], ["unpack", "-v", "a.pyarc", "-C", "out"]):
        code, out, err = run_cli(*command, cwd=tree.parent)
        assert code == 0, err
        assert sorted(out.decode().splitlines()) == expected, command
    for command in (["pack", "-q", "b.pyarc", "proj"], ["test", "-q", "b.pyarc"],
                    ["unpack", "-q", "b.pyarc", "-C", "out2"]):
        code, out, err = run_cli(*command, cwd=tree.parent)
        assert (code, out, err) == (0, b"", ""), command
    code, _, err = run_cli("pack", "-v", "-q", "c.pyarc", "proj", cwd=tree.parent)
    assert code == 2 and "--verbose" in assert_one_error_line(err)


def test_quiet_hides_warnings_but_not_the_error(tmp_path: Path, run_cli: RunCli) -> None:
    (tmp_path / "a.txt").write_bytes(b"a")
    (tmp_path / "link").symlink_to("nowhere")
    code, _, err = run_cli("pack", "-q", "-L", "x.pyarc", "a.txt", ".", cwd=tmp_path)
    assert code == 1
    line = assert_one_error_line(err)
    assert "not packed" in line and "'./link' is a broken symlink" in line


# -- -j, and bad codec specs ------------------------------------------------------------------


@pytest.mark.parametrize("jobs", ["-1", "-5", str(10**30), "1025"])
def test_out_of_range_jobs_are_usage_errors(jobs: str, tree: Path, archive: Path,
                                            tmp_path: Path, run_cli: RunCli) -> None:
    for command in (["pack", f"--jobs={jobs}", tmp_path / "x.pyarc", tree],
                    ["unpack", f"--jobs={jobs}", archive, "-C", tmp_path / "out"],
                    ["test", f"--jobs={jobs}", archive]):
        code, _, err = run_cli(*command)
        assert code == 2, (command, err)
        assert "jobs" in assert_one_error_line(err)
    assert not (tmp_path / "x.pyarc").exists() and not (tmp_path / "out").exists()


#: Runs a command and prints its peak RSS in KiB. A small process of its own starts it: a
#: child's ru_maxrss counts the memory of the process it was forked from (here, pytest's).
PEAK_RSS = """
import resource, subprocess, sys
done = subprocess.run(sys.argv[1:], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
assert done.returncode == 0, done
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def _peak_rss_kib(*args: str | Path) -> int:
    done = subprocess.run([sys.executable, "-c", PEAK_RSS, sys.executable, "-m", "archiver",
                           *map(str, args)], capture_output=True, check=True)
    return int(done.stdout)


def test_many_jobs_do_not_hold_more_blocks(tmp_path: Path) -> None:
    """-j 1000 used to keep 2,000 blocks in flight (155 MB for a 100 MB store pack): threads
    beyond the cores are not started, so memory does not grow with -j."""
    (tmp_path / "data").write_bytes(random.Random(1).randbytes(96 << 20))
    one = _peak_rss_kib("pack", "-c", "store", "-b", "1M", "-j", "1", tmp_path / "a.pyarc",
                        tmp_path / "data")
    many = _peak_rss_kib("pack", "-c", "store", "-b", "1M", "-j", "1000", tmp_path / "b.pyarc",
                         tmp_path / "data")
    assert (tmp_path / "a.pyarc").read_bytes() == (tmp_path / "b.pyarc").read_bytes()
    assert many < one + 24 * 1024, (one, many)  # KiB: a few 1 MiB blocks per core at most


@pytest.mark.parametrize("args", [["--codec", "lz77:"], ["--codec", "lz77: "],
                                  ["--auto-codecs", ""], ["--auto-codecs", ","]])
def test_empty_codec_specs_are_usage_errors(args: list[str], tree: Path, tmp_path: Path,
                                            run_cli: RunCli) -> None:
    code, _, err = run_cli("pack", *args, tmp_path / "x.pyarc", tree)
    assert code == 2, err
    assert_one_error_line(err)
    assert not (tmp_path / "x.pyarc").exists()


# -- names given to unpack ---------------------------------------------------------------------


@pytest.mark.parametrize(("names", "expected"), [
    (["./proj/src/deep/"], ["proj/src/deep/c.py", "proj/src/deep/d.txt"]),
    (["proj//docs"], ["proj/docs/e.txt"]),
    (["*.py"], ["proj/f.py", "proj/src/a.py", "proj/src/b.py", "proj/src/deep/c.py"]),
    (["proj/src/*.py"], ["proj/src/a.py", "proj/src/b.py"]),
    (["proj/src/**/*.txt", "proj/f.?y"], ["proj/f.py", "proj/src/deep/d.txt"]),
    (["proj/s*"], ["proj/src/a.py", "proj/src/b.py", "proj/src/deep/c.py",
                   "proj/src/deep/d.txt"]),
])
@pytest.mark.parametrize("source", ["file", "stdin"])
def test_unpack_takes_names_as_typed_and_globs(names: list[str], expected: list[str],
                                               source: str, archive: Path, tmp_path: Path,
                                               run_cli: RunCli) -> None:
    out = tmp_path / "out"
    if source == "file":
        code, _, err = run_cli("unpack", archive, *names, "-C", out)
    else:
        code, _, err = run_cli("unpack", "-", *names, "-C", out, stdin=archive.read_bytes())
    assert code == 0, err
    assert files_below(out) == expected


def test_a_pattern_that_matches_nothing_is_an_error(archive: Path, tmp_path: Path,
                                                    run_cli: RunCli) -> None:
    code, _, err = run_cli("unpack", archive, "*.rs", "-C", tmp_path / "out")
    assert code == 1
    assert "*.rs" in assert_one_error_line(err)
    assert not (tmp_path / "out").exists()


# -- unpack and test on several threads ------------------------------------------------------------


def test_unpack_and_test_on_threads_give_the_same_output(tree: Path, tmp_path: Path,
                                                         run_cli: RunCli) -> None:
    archiver.pack([tree], tmp_path / "auto.pyarc", block_size=4096)
    for jobs in ("1", "2", "0"):
        code, _, err = run_cli("unpack", "-j", jobs, tmp_path / "auto.pyarc", "-C",
                               tmp_path / f"out{jobs}")
        assert code == 0, err
        assert tree_snapshot(tmp_path / f"out{jobs}" / "proj") == tree_snapshot(tree)
        code, _, err = run_cli("unpack", "-j", jobs, "-", "-C", tmp_path / f"in{jobs}",
                               stdin=(tmp_path / "auto.pyarc").read_bytes())
        assert code == 0, err
        assert tree_snapshot(tmp_path / f"in{jobs}" / "proj") == tree_snapshot(tree)
        code, _, err = run_cli("test", "-j", jobs, tmp_path / "auto.pyarc")
        assert code == 0, err


class _Watched(Codec):
    """zlib, recording the threads that decode."""

    name = "watched"
    threads: set[int] = set()
    lock = threading.Lock()

    def encode(self, data: bytes) -> bytes:
        return zlib.compress(data)

    def decode(self, payload: bytes, size: int) -> bytes:
        with self.lock:
            self.threads.add(threading.get_ident())
        threading.Event().wait(0.005)  # long enough for the other thread to take a block
        return zlib.decompress(payload)


def test_unpack_decodes_on_worker_threads(tmp_path: Path) -> None:
    found = {item.codec.name: item for item in installed()}
    found["watched"] = RegisteredCodec(_Watched, "tests", "watched")
    registry = Registry(found)
    (tmp_path / "f").write_bytes(b"".join(b"line %d\n" % i for i in range(10_000)))
    api.pack([tmp_path / "f"], tmp_path / "a.pyarc", codec="watched", block_size=1024,
             registry=registry)
    api.unpack(tmp_path / "a.pyarc", tmp_path / "out", jobs=2, registry=registry)
    assert (tmp_path / "out" / "f").read_bytes() == (tmp_path / "f").read_bytes()
    assert threading.get_ident() not in _Watched.threads
    if os.cpu_count() and os.cpu_count() > 1:  # type: ignore[operator]
        assert len(_Watched.threads) == 2


# -- test: a missing codec is not damage ----------------------------------------------------------


def test_test_tells_a_missing_codec_from_damage(tree: Path, tmp_path: Path,
                                                run_cli: RunCli) -> None:
    archiver.pack([tree], tmp_path / "lzw.pyarc", codec="lzw", block_size=1024)
    code, out, err = run_cli("test", tmp_path / "lzw.pyarc", env={"PYARC_DISABLE_PLUGINS": "lzw"})
    assert code == 1
    line = assert_one_error_line(err)
    assert "'lzw'" in line and "no damage found" in line
    assert b"damaged" not in out
