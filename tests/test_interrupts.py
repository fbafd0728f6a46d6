"""Interrupted pack and unpack: SIGINT, SIGTERM and SIGHUP end with one line, exit 1 and no
output at all, at once even when worker threads are in the middle of big blocks; SIGKILL (no
chance to clean up) may leave a hidden temporary file, but never a file at the final path, so
nothing incomplete looks complete."""

from __future__ import annotations

import os
import random
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

import archiver

TEXT = (Path(__file__).resolve().parents[1] / "README.md").read_bytes()
SIZE = 12 << 20  # arithmetic coding takes seconds on this: time to interrupt


def start(*args: str | Path, cwd: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "archiver", *map(str, args)], cwd=cwd,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)


def wait_for_temporary(folder: Path, process: subprocess.Popen[bytes]) -> None:
    """Until a temporary file appears in folder (the write has begun)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        if any(".pyarc-tmp" in path.name for path in folder.rglob("*")):
            time.sleep(0.2)
            return
        time.sleep(0.02)
    pytest.fail("the command finished (or stalled) before its output appeared")


@pytest.fixture(scope="module")
def big_text(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("input")
    lines = TEXT.splitlines(keepends=True)
    body = b"".join(lines[(i * 7) % len(lines)] for i in range(SIZE // 40))[:SIZE]
    (folder / "big.txt").write_bytes(body)
    return folder / "big.txt"


@pytest.fixture(scope="module")
def big_archive(big_text: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    archive = tmp_path_factory.mktemp("archive") / "big.pyarc"
    archiver.pack([big_text], archive, codec="arithmetic", block_size=1 << 20, jobs=2)
    return archive


#: The signals pyarc cleans up after, and the line each gives.
STOPS = {signal.SIGINT: "pyarc: interrupted", signal.SIGTERM: "pyarc: stopped by SIGTERM",
         signal.SIGHUP: "pyarc: stopped by SIGHUP"}


@pytest.mark.parametrize("sig", [*STOPS, signal.SIGKILL], ids=lambda sig: sig.name)
def test_interrupted_pack_leaves_no_archive(sig: signal.Signals, big_text: Path,
                                            tmp_path: Path) -> None:
    process = start("pack", "-c", "arithmetic", "-j", "1", tmp_path / "out.pyarc", big_text,
                    cwd=tmp_path)
    wait_for_temporary(tmp_path, process)
    process.send_signal(sig)
    _, err = process.communicate(timeout=60)
    assert not (tmp_path / "out.pyarc").exists()
    if sig in STOPS:
        assert process.returncode == 1
        assert err.decode().strip() == STOPS[sig]
        assert list(tmp_path.iterdir()) == []  # the temporary file went too
    else:
        assert all(path.name.startswith(".") and ".pyarc-tmp" in path.name
                   for path in tmp_path.iterdir())


@pytest.mark.parametrize("sig", [*STOPS, signal.SIGKILL], ids=lambda sig: sig.name)
def test_interrupted_unpack_leaves_no_file(sig: signal.Signals, big_archive: Path,
                                           tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    process = start("unpack", big_archive, "-C", out, cwd=tmp_path)
    wait_for_temporary(out, process)
    process.send_signal(sig)
    _, err = process.communicate(timeout=60)
    assert not (out / "big.txt").exists()
    if sig in STOPS:
        assert process.returncode == 1
        assert err.decode().strip() == STOPS[sig]
        assert list(out.iterdir()) == []
    else:
        assert all(".pyarc-tmp" in path.name for path in out.iterdir())


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=lambda sig: sig.name)
def test_stopping_does_not_wait_for_the_blocks_in_progress(sig: signal.Signals,
                                                           tmp_path: Path) -> None:
    """With two threads each compressing a 16 MiB block, pyarc stops in a fraction of the time
    one block takes (it used to wait for both blocks, 11.6 s on a 100 MB input)."""
    rng = random.Random(11)
    words = [bytes(rng.choices(b"abcdefghijklmnopqrstuvwxyz", k=rng.randint(2, 9)))
             for _ in range(1000)]
    body = b" ".join(rng.choice(words) for _ in range((48 << 20) // 6))[:48 << 20]
    (tmp_path / "big.txt").write_bytes(body)
    started = time.monotonic()
    archiver.compress(body[:4 << 20], "ppm", block_size=4 << 20)
    one_block = 4 * (time.monotonic() - started)  # ppm's time grows with the data
    out = tmp_path / "out"
    out.mkdir()
    process = start("pack", "-c", "ppm", "-j", "2", "-b", "16M", out / "a.pyarc",
                    tmp_path / "big.txt", cwd=tmp_path)
    wait_for_temporary(out, process)
    stopped = _stopped_midway(process, sig, one_block)
    assert list(out.iterdir()) == []
    assert stopped < one_block / 3, (stopped, one_block)


def _stopped_midway(process: subprocess.Popen[bytes], sig: signal.Signals,
                    one_block: float) -> float:
    """Send `sig` once the workers are inside their blocks (of `one_block` seconds); check
    the exit; return the seconds pyarc took to stop."""
    time.sleep(min(0.5, one_block / 4))
    signalled = time.monotonic()
    process.send_signal(sig)
    _, err = process.communicate(timeout=120)
    stopped = time.monotonic() - signalled
    assert process.returncode == 1
    assert err.decode().strip() == STOPS[sig]
    return stopped


def test_pack_onto_an_existing_archive_needs_force(big_text: Path, tmp_path: Path) -> None:
    target = tmp_path / "a.pyarc"
    target.write_bytes(b"precious")
    done = subprocess.run([sys.executable, "-m", "archiver", "pack", target, big_text],
                          capture_output=True, stdin=subprocess.DEVNULL, timeout=60)
    assert done.returncode == 1
    assert target.read_bytes() == b"precious"


@pytest.fixture(scope="module")
def big_tree_archive(big_text: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tree/ (0o751) holding tree/sub/ (0o751) holding big.txt."""
    tree = tmp_path_factory.mktemp("tree") / "tree"
    (tree / "sub").mkdir(parents=True)
    shutil.copy(big_text, tree / "sub")
    for folder in (tree / "sub", tree):
        folder.chmod(0o751)
    archive = tree.parent / "tree.pyarc"
    archiver.pack([tree], archive, codec="arithmetic", block_size=1 << 20, jobs=2)
    return archive


def test_interrupted_unpack_gives_created_directories_their_modes(big_tree_archive: Path,
                                                                  tmp_path: Path) -> None:
    """Not 0o700, as while they were being filled (the umask 022 leaves 0o751 as it is)."""
    out = tmp_path / "out"
    out.mkdir()
    process = start("unpack", big_tree_archive, "-C", out, cwd=tmp_path)
    wait_for_temporary(out, process)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 1
    assert err.decode().strip() == "pyarc: interrupted"
    assert not (out / "tree/sub/big.txt").exists()
    for folder in (out / "tree", out / "tree/sub"):
        assert stat.S_IMODE(os.stat(folder).st_mode) == 0o751 & ~_umask_applied()


def _umask_applied() -> int:
    """What pyarc clears from archived modes here: root gets them as archived."""
    umask = os.umask(0o077)
    os.umask(umask)
    return 0 if os.geteuid() == 0 else umask


def _children(pid: int) -> set[int]:
    """The processes `pid` started (Linux: /proc/PID/task/*/children)."""
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found.update(int(child) for child in (task / "children").read_text().split())
    return found


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux's /proc")
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=lambda sig: sig.name)
def test_an_interrupted_pack_stops_its_worker_processes(sig: signal.Signals, big_text: Path,
                                                        tmp_path: Path) -> None:
    """Only pyarc gets the signal (not its process group): it stops its worker processes
    itself, at once, not after the 2 MiB cm blocks they are compressing (it used to)."""
    started = time.monotonic()
    archiver.compress(big_text.read_bytes()[:2 << 20], "cm", block_size=2 << 20)
    one_block = time.monotonic() - started
    process = start("pack", "-c", "cm", "-b", "2M", "-e", "processes:2",
                    tmp_path / "out.pyarc", big_text, cwd=tmp_path)
    wait_for_temporary(tmp_path, process)
    deadline = time.monotonic() + 60
    while len(workers := _children(process.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    stopped = _stopped_midway(process, sig, one_block)
    assert not (tmp_path / "out.pyarc").exists()
    assert stopped < one_block / 3, (stopped, one_block)
    # The workers are gone, not finishing their blocks as orphans (the other child, the
    # resource tracker of multiprocessing, leaves when it sees pyarc gone).
    deadline = time.monotonic() + one_block / 3
    while any(_alive(worker) for worker in workers) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not any(_alive(worker) for worker in workers), workers


def _alive(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status")
    try:
        return "State:\tZ" not in status.read_text()
    except FileNotFoundError:
        return False
