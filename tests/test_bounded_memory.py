"""Memory bounded by the blocks in flight, not by the archive: reading an archive of many
blocks must not keep the payloads it has passed.

Python's own allocations are measured with tracemalloc (deterministic, unlike the resident
size), while `test`, `unpack` and a stream read go through 96 stored blocks of 1 MiB."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from conftest import traced_peak

from archiver import api

BLOCK = 1 << 20
BLOCKS = 96
#: What reading may hold at once: a few blocks (those in flight and the one being written).
BOUND = 12 * BLOCK


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> Path:
    archive = tmp_path_factory.mktemp("bounded") / "stored.pyarc"
    api.pack(["-"], archive, codec="store", block_size=BLOCK,
             stdin=io.BytesIO(os.urandom(BLOCKS * BLOCK)))
    return archive


def test_testing_an_archive_holds_a_few_blocks(stored: Path) -> None:
    assert traced_peak(lambda: api.test(stored, jobs=1)) < BOUND


def test_unpacking_an_archive_holds_a_few_blocks(stored: Path, tmp_path: Path) -> None:
    assert traced_peak(lambda: api.unpack(stored, tmp_path / "out", jobs=1)) < BOUND
    assert (tmp_path / "out" / "stdin").stat().st_size == BLOCKS * BLOCK


def test_reading_a_stream_holds_a_few_blocks(stored: Path, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    class Pipe(io.RawIOBase):  # a stream that cannot seek, read in pieces
        def __init__(self, data: bytes) -> None:
            self.data, self.at = data, 0

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
            size = min(len(buffer), len(self.data) - self.at, 1 << 16)
            buffer[:size] = self.data[self.at:self.at + size]
            self.at += size
            return size

    class Counted(io.RawIOBase):  # an output that keeps nothing
        written = 0

        def writable(self) -> bool:
            return True

        def write(self, data: bytes) -> int:  # type: ignore[override]
            self.written += len(data)
            return len(data)

    blob = stored.read_bytes()
    monkeypatch.setattr(api, "_open_input", lambda archive: io.BufferedReader(Pipe(blob)))
    out = Counted()
    assert traced_peak(lambda: api.unpack_to(api.STDIO, out, jobs=1)) < BOUND
    assert out.written == BLOCKS * BLOCK
