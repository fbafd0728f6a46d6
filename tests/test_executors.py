"""--executor: blocks compressed and decoded on threads, worker processes or a Dask cluster
(archiver/executors.py), with archives byte-identical whatever runs them.

The Dask tests start a real scheduler and two workers on localhost (`dask scheduler`,
`dask worker`, as subprocesses, stopped at the end); they skip where `distributed` (the extra
pyarc[dask], which `make test` installs) is missing."""

from __future__ import annotations

import os
import pickle
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from conftest import RunCli, assert_one_error_line, tree_snapshot

from archiver import api
from archiver.blocks import BlockEncoder
from archiver.codec import Codec
from archiver.errors import PyarcError, UsageError
from archiver.executors import ExecutorSpec, parse_executor
from archiver.plugins import RegisteredCodec, Registry, registry
from archiver.process_pool import RespawningPool

BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """About 600 KB of text and binary data: a few dozen blocks of 16 KiB."""
    root = tmp_path_factory.mktemp("tree") / "t"
    (root / "sub").mkdir(parents=True)
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_bytes()
    for n in range(6):
        (root / f"text{n}.md").write_bytes(readme[n * 9000:] + readme[: n * 9000])
        (root / "sub" / f"bin{n}").write_bytes(bytes((i * (n + 3)) % 251 for i in range(40000)))
    return root


def _pack(tree: Path, archive: Path, **options: object) -> bytes:
    api.pack([tree], archive, block_size=16 << 10, force=True, **options)  # type: ignore[arg-type]
    return archive.read_bytes()


# -- specs -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "spec"), [
    ("threads", ExecutorSpec("threads")),
    ("threads:3", ExecutorSpec("threads", 3)),
    ("processes:2", ExecutorSpec("processes", 2)),
    ("dask", ExecutorSpec("dask")),
    ("dask:4", ExecutorSpec("dask", 4)),
    ("dask://10.0.0.1:8786", ExecutorSpec("dask", address="tcp://10.0.0.1:8786")),
    ("tcp://host:1", ExecutorSpec("dask", address="tcp://host:1")),
])
def test_executor_specs(text: str, spec: ExecutorSpec) -> None:
    assert parse_executor(text) == spec


@pytest.mark.parametrize("text", ["", "thread", "threads:0", "threads:x", "processes:-1",
                                  "dask://", "threads:2000", "mpi"])
def test_bad_executor_specs(text: str) -> None:
    with pytest.raises(UsageError, match="--executor"):
        parse_executor(text)


def test_jobs_and_an_executor_are_not_both_given(tree: Path, tmp_path: Path,
                                                 run_cli: RunCli) -> None:
    code, _, err = run_cli("pack", "-j", "2", "--executor", "processes", tmp_path / "a.pyarc",
                           tree)
    assert code == 2
    assert "not both" in assert_one_error_line(err)
    assert not (tmp_path / "a.pyarc").exists()


# -- what travels to workers ---------------------------------------------------------------------


def test_an_encoder_pickles_as_its_specs() -> None:
    encoder = api.make_encoder("auto", auto_codecs=["lz77:level=4", "bwt:stage=cm"])
    again = pickle.loads(pickle.dumps(encoder))
    assert isinstance(again, BlockEncoder)
    data = b"some data to compress, " * 400
    assert again.encode(data) == encoder.encode(data)
    assert pickle.loads(pickle.dumps(registry())) is registry()  # a worker's own registry


# -- processes -------------------------------------------------------------------------------------


@pytest.mark.parametrize("codec", ["lz77", "ppm", "auto"])
def test_processes_write_the_same_archive(tree: Path, tmp_path: Path, codec: str) -> None:
    reference = _pack(tree, tmp_path / "threads.pyarc", codec=codec, jobs=1)
    assert _pack(tree, tmp_path / "processes.pyarc", codec=codec,
                 executor="processes:2") == reference


def test_test_and_unpack_through_processes(tree: Path, tmp_path: Path, run_cli: RunCli) -> None:
    archive = tmp_path / "a.pyarc"
    _pack(tree, archive, codec="lz77")
    code, _, err = run_cli("test", "--executor", "processes:2", archive)
    assert code == 0, err
    code, _, err = run_cli("unpack", "-e", "processes:2", archive, "-C", tmp_path / "out")
    assert code == 0, err
    assert tree_snapshot(tmp_path / "out" / "t") == tree_snapshot(tree)
    code, _, err = run_cli("unpack", "-e", "processes:2", "-", "-C", tmp_path / "out2",
                           stdin=archive.read_bytes())
    assert code == 0, err
    assert tree_snapshot(tmp_path / "out2" / "t") == tree_snapshot(tree)


def test_any_executor_through_the_api(tree: Path, tmp_path: Path) -> None:
    reference = _pack(tree, tmp_path / "threads.pyarc", codec="lz77", jobs=1)
    with ThreadPoolExecutor(3) as pool:
        assert _pack(tree, tmp_path / "given.pyarc", codec="lz77", executor=pool) == reference
        assert api.test(tmp_path / "given.pyarc", executor=pool).bytes > 0
        assert pool.submit(int, "7").result() == 7  # pyarc did not stop it


def _die_once(marker: str) -> int:
    """Kill the worker process it runs in the first time (marker absent), else return 42."""
    if not os.path.exists(marker):
        Path(marker).touch()
        os._exit(1)
    return 42


def _die() -> None:
    os._exit(1)


def test_a_process_pool_runs_again_what_a_dead_worker_lost(tmp_path: Path) -> None:
    """A worker that dies breaks its ProcessPoolExecutor; RespawningPool starts another and
    runs the lost task again. A task that kills every worker it runs on fails after the
    retries, as one clear PyarcError."""
    pool = RespawningPool(2, retries=2)
    try:
        assert pool.submit(_die_once, str(tmp_path / "marker")).result(timeout=120) == 42
        assert pool.submit(int, "7").result(timeout=60) == 7
        with pytest.raises(PyarcError, match="died on each of 3 attempts"):
            pool.submit(_die).result(timeout=120)
    finally:
        pool.shutdown()


def test_a_worker_process_killed_mid_pack_still_gives_the_archive(tree: Path,
                                                                  tmp_path: Path) -> None:
    # cm is slow (about 1 MB/s): 3 MB take the two workers over a second, and one dies
    # within it (they start when the first blocks are submitted).
    big = tmp_path / "big"
    big.mkdir()
    for n in range(5):
        (big / f"part{n}").write_bytes(b"".join(
            path.read_bytes() for path in sorted(tree.rglob("*")) if path.is_file())[n * 7:])
    reference = _pack(big, tmp_path / "threads.pyarc", codec="cm", jobs=1)
    archive = tmp_path / "processes.pyarc"
    pack = subprocess.Popen([sys.executable, "-m", "archiver", "pack", "-q", "-c", "cm",
                             "-b", "16K", "-e", "processes:2", archive, big],
                            stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while len(workers := _pool_workers(pack.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert workers, "the pack started no worker process"
    time.sleep(0.2)
    os.kill(workers[0], signal.SIGKILL)
    _, err = pack.communicate(timeout=300)
    assert pack.returncode == 0, err
    assert archive.read_bytes() == reference


def _pool_workers(pid: int) -> list[int]:
    """The pids of the spawned worker processes of process `pid` (not its resource tracker)."""
    import psutil

    return [child.pid for child in psutil.Process(pid).children(recursive=True)
            if "spawn_main" in " ".join(child.cmdline())]


class _OnlyHere(Codec):
    """A codec this process has and no worker process does."""

    name = "only-here"

    def encode(self, data: bytes) -> bytes:
        return bytes(data)

    def decode(self, payload: bytes, size: int) -> bytes:
        return bytes(payload)


def test_a_worker_without_the_codec_fails_the_job_naming_it(tree: Path, tmp_path: Path) -> None:
    own = registry()
    mine = Registry({"store": own.get("store"),
                     "only-here": RegisteredCodec(_OnlyHere, "only-here", "tests 0")})
    with pytest.raises(UsageError, match="only-here"):
        api.pack([tree], tmp_path / "a.pyarc", codec="only-here", registry=mine,
                 executor="processes:1")
    assert not (tmp_path / "a.pyarc").exists()


# -- Dask ------------------------------------------------------------------------------------------

dask_missing = shutil.which("dask", path=str(BIN)) is None
needs_dask = pytest.mark.skipif(dask_missing, reason="Dask distributed is not installed "
                                "(pip install 'pyarc[dask]')")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class _Cluster:
    """A scheduler and workers, each its own process, on localhost."""

    def __init__(self, workers: int) -> None:
        self.address = f"tcp://127.0.0.1:{_free_port()}"
        host, port = self.address[len("tcp://"):].split(":")
        quiet = dict(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.scheduler = subprocess.Popen([BIN / "dask", "scheduler", "--host", host,
                                           "--port", port, "--no-dashboard"], **quiet)
        self.workers = [subprocess.Popen([BIN / "dask", "worker", self.address, "--nthreads",
                                          "1", "--no-dashboard"], **quiet)
                        for _ in range(workers)]
        self.wait_for(workers)

    def wait_for(self, count: int) -> None:
        from distributed import Client

        with Client(self.address, timeout=60) as client:
            client.wait_for_workers(count, timeout=60)

    def stop(self) -> None:
        for process in [*self.workers, self.scheduler]:
            process.terminate()
        for process in [*self.workers, self.scheduler]:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.fixture(scope="module")
def cluster() -> Iterator[_Cluster]:
    if dask_missing:
        pytest.skip("Dask distributed is not installed (pip install 'pyarc[dask]')")
    started = _Cluster(2)
    try:
        yield started
    finally:
        started.stop()


@needs_dask
def test_pack_test_unpack_through_a_dask_scheduler(tree: Path, tmp_path: Path, run_cli: RunCli,
                                                   cluster: _Cluster) -> None:
    reference = _pack(tree, tmp_path / "threads.pyarc", codec="ppm", jobs=1)
    archive = tmp_path / "dask.pyarc"
    code, _, err = run_cli("pack", "-c", "ppm", "-b", "16K", "-e",
                           cluster.address.replace("tcp://", "dask://"), archive, tree)
    assert code == 0, err
    assert archive.read_bytes() == reference
    code, _, err = run_cli("test", "-e", cluster.address, archive)
    assert code == 0, err
    code, _, err = run_cli("unpack", "-e", cluster.address, archive, "-C", tmp_path / "out")
    assert code == 0, err
    assert tree_snapshot(tmp_path / "out" / "t") == tree_snapshot(tree)


@needs_dask
def test_a_local_dask_cluster(tree: Path, tmp_path: Path) -> None:
    reference = _pack(tree, tmp_path / "threads.pyarc", codec="auto", jobs=1)
    assert _pack(tree, tmp_path / "dask.pyarc", codec="auto", executor="dask:2") == reference


@needs_dask
def test_no_scheduler_is_one_clear_error(tree: Path, tmp_path: Path, run_cli: RunCli) -> None:
    code, _, err = run_cli("pack", "-e", f"dask://127.0.0.1:{_free_port()}",
                           tmp_path / "a.pyarc", tree)
    assert code == 2
    assert "no Dask scheduler answers" in assert_one_error_line(err)
    assert not (tmp_path / "a.pyarc").exists()


@needs_dask
def test_a_worker_killed_mid_pack_still_gives_the_archive(tree: Path, tmp_path: Path) -> None:
    # cm is slow (about 1 MB/s): the pack takes some seconds, and a worker dies within them.
    reference = _pack(tree, tmp_path / "threads.pyarc", codec="cm", jobs=1)
    killed = _Cluster(2)
    try:
        archive = tmp_path / "dask.pyarc"
        pack = subprocess.Popen([sys.executable, "-m", "archiver", "pack", "-q", "-c", "cm",
                                 "-b", "16K", "-e", killed.address, archive, tree],
                                stderr=subprocess.PIPE)
        time.sleep(1.5)
        os.kill(killed.workers[0].pid, signal.SIGKILL)
        _, err = pack.communicate(timeout=300)
        assert pack.returncode == 0, err
        assert archive.read_bytes() == reference
    finally:
        killed.stop()


@needs_dask
def test_bench_through_a_dask_scheduler(tree: Path, run_cli: RunCli, cluster: _Cluster) -> None:
    import json

    methods = "lz77,ppm,zlib-6"
    code, here, err = run_cli("bench", "--codecs", methods, "--json", tree / "sub")
    assert code == 0, err
    code, there, err = run_cli("bench", "--codecs", methods, "--json", "-e", cluster.address,
                               tree / "sub")
    assert code == 0, err

    def sizes(text: bytes) -> list[object]:
        return [(result["method"], result["size"]) for file in json.loads(text)["files"]
                for result in file["results"]]

    assert sizes(there) == sizes(here)
