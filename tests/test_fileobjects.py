"""pyarc in the Python ecosystem: `Archive.open` does what `ZipFile.open` does; it is given the
same calls as its model, and must give the same answers."""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import pytest
from conftest import ROOT

import archiver
from archiver import api, blocks
from archiver.encryption import ScryptCost
from archiver.format import Kind

#: A text of many lines (mixed lengths, some long), the same on every run.
TEXT = b"".join(b"%d %s\n" % (n, b"word " * (n * 7 % 61)) for n in range(12000))
BLOCK = 64 << 10
LOW = ScryptCost(4, 8, 1)  # a key derivation that costs nothing
SEEKS = [(0, io.SEEK_SET), (5000, io.SEEK_SET), (-100, io.SEEK_CUR), (70000, io.SEEK_CUR),
         (-1, io.SEEK_END), (-BLOCK - 3, io.SEEK_END), (0, io.SEEK_END), (10, io.SEEK_END),
         (len(TEXT) // 2, io.SEEK_SET)]


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Files of every kind whose content a reader gives: one of several solid blocks, small
    ones sharing a block, an empty one, a hard link, a sparse file; and a directory."""
    root = tmp_path_factory.mktemp("tree") / "t"
    (root / "sub").mkdir(parents=True)
    (root / "big.txt").write_bytes(TEXT)
    (root / "sub" / "small.txt").write_bytes(b"a small file\nof two lines\n")
    (root / "sub" / "noeol.txt").write_bytes(b"no newline at its end")
    (root / "empty").write_bytes(b"")
    os.link(root / "big.txt", root / "link")
    with open(root / "sparse", "wb") as sparse:
        sparse.truncate(3 * BLOCK)
        sparse.seek(BLOCK + 100)
        sparse.write(TEXT[:5000])
    return root


@pytest.fixture(scope="module")
def packed(tree: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    archive = tmp_path_factory.mktemp("packed") / "t.pyarc"
    api.pack([tree], archive, codec="lz77", block_size=BLOCK)
    return archive


@pytest.fixture(scope="module")
def zipped(tree: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same files in a zip, under the same names."""
    path = tmp_path_factory.mktemp("zipped") / "t.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zipped:
        for file in sorted(tree.rglob("*")):
            if file.is_file():
                zipped.write(file, file.relative_to(tree.parent).as_posix())
    return path


def _calls(file: IO[bytes], size: int) -> list[Any]:
    """A fixed series of reads, seeks and tells, and what each answered."""
    answers: list[Any] = [file.read(0), file.read(1), file.tell(), file.readline(),
                          file.read(7), file.readline(5), file.tell()]
    for offset, whence in SEEKS:
        if (0, file.tell(), size)[whence] + offset >= 0:  # (before the start: an error)
            answers.append(file.seek(offset, whence))
        answers += [file.tell(), file.read(4096), file.readline(), file.tell()]
    file.seek(0)
    answers += [file.read(BLOCK - 1), file.read(BLOCK + 2), file.tell()]
    file.seek(3)
    answers.append(list(file)[:50])
    file.seek(0)
    answers += [file.read(), file.read(), file.tell(), file.seekable(), file.readable()]
    return answers


def _chunks(file: IO[bytes], size: int) -> Iterator[bytes]:
    while chunk := file.read(size):
        yield chunk


# -- Archive.open, as ZipFile.open -------------------------------------------------------------


@pytest.mark.parametrize("name", ["big.txt", "sub/small.txt", "sub/noeol.txt", "empty", "link",
                                  "sparse"])
def test_archive_open_answers_as_zipfile_open(packed: Path, zipped: Path, name: str) -> None:
    with archiver.open_archive(packed) as archive, zipfile.ZipFile(zipped) as zipped_file, \
            archive.open(f"t/{name}") as ours, zipped_file.open(f"t/{name}") as theirs:
        size = zipped_file.getinfo(f"t/{name}").file_size
        assert _calls(ours, size) == _calls(theirs, size)


@pytest.mark.parametrize("size", [1, 100, 4096, BLOCK - 1, BLOCK, BLOCK + 1, 1 << 20])
def test_archive_open_in_chunks_is_archive_read(packed: Path, size: int) -> None:
    with archiver.open_archive(packed) as archive:
        assert len(archive.blocks_of("t/big.txt")) > 4  # several solid blocks, past the cache
        for name in ("t/big.txt", "t/sparse", "t/link"):
            with archive.open(name) as file:
                assert b"".join(_chunks(file, size)) == archive.read(name)


@pytest.mark.parametrize("vector", sorted((ROOT / "spec" / "vectors").glob("[12].0/good/*.pyarc")),
                         ids=lambda path: f"{path.parts[-3]}/{path.stem}")
def test_archive_open_of_every_good_vector(vector: Path) -> None:
    with archiver.open_archive(vector) as archive:
        for entry in archive.entries:
            if entry.kind in (Kind.FILE, Kind.HARDLINK):
                with archive.open(entry) as file:
                    assert b"".join(_chunks(file, 3)) == archive.read(entry)
                    file.seek(entry.size // 2)
                    assert file.read() == archive.read(entry)[entry.size // 2:]


def test_archive_open_readinto_and_lines(packed: Path) -> None:
    with archiver.open_archive(packed) as archive, archive.open("t/big.txt") as file:
        buffer = bytearray(BLOCK + 5)
        assert file.readinto(buffer) == len(buffer)
        assert buffer == TEXT[:len(buffer)]
        file.seek(0)
        assert file.readlines() == TEXT.splitlines(keepends=True)
        assert file.name == "t/big.txt"


def test_archive_open_decodes_each_block_once(packed: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    decoded: list[int] = []
    decode_block = blocks.decode_block

    def counted(registry: Any, header: Any, payload: bytes, where: str) -> bytes:
        decoded.append(header.raw_size)
        return decode_block(registry, header, payload, where)

    monkeypatch.setattr(blocks, "decode_block", counted)
    with archiver.open_archive(packed) as archive, archive.open("t/big.txt") as file:
        count = len(archive.blocks_of("t/big.txt"))
        assert b"".join(_chunks(file, 1000)) == TEXT
        assert len(decoded) == count  # read on: each block once
        file.seek(-10, io.SEEK_END)
        file.seek(-BLOCK // 2, io.SEEK_CUR)
        assert file.read(100) == TEXT[-BLOCK // 2 - 10:][:100]
        assert len(decoded) == count  # back inside the block read last: nothing again
        file.seek(0)
        assert file.read(10) == TEXT[:10]
        assert len(decoded) == count + 1  # the first block, long gone from the cache: once


def test_archive_open_refuses_what_is_not_a_file(packed: Path) -> None:
    with archiver.open_archive(packed) as archive:
        with pytest.raises(archiver.UsageError, match="directory, not a file"):
            archive.open("t/sub")
        with pytest.raises(archiver.PyarcError, match="not in the archive"):
            archive.open("t/nothing")


def test_archive_open_of_an_encrypted_archive(tree: Path, tmp_path: Path) -> None:
    archive_path = tmp_path / "s.pyarc"
    api.pack([tree], archive_path, codec="lz77", block_size=BLOCK, password="pw",
             kdf_cost=LOW)
    with archiver.open_archive(archive_path, password="pw") as archive, \
            archive.open("t/big.txt") as file:
        file.seek(BLOCK * 3 + 17)
        assert file.read(BLOCK) == TEXT[BLOCK * 3 + 17:][:BLOCK]
        file.seek(0)
        assert file.read() == TEXT


def _damaged(archive: Path, block: int, tmp_path: Path) -> Path:
    """A copy of `archive` with the last byte of the payload of block number `block`
    flipped."""
    with archiver.open_archive(archive) as opened:
        catalog = opened.catalog
        frames = sorted([ref.offset for ref in catalog.blocks]
                        + [segment.offset for segment in catalog.segments]
                        + [opened.index_offset])
    end = frames[frames.index(catalog.blocks[block].offset) + 1]  # where the next frame starts
    data = bytearray(archive.read_bytes())
    data[end - 1] ^= 0x10
    damaged = tmp_path / f"damaged-{archive.name}"
    damaged.write_bytes(data)
    return damaged


def _read_until_error(read: Callable[[], bytes]) -> bytes:
    """What `read` gave before it raised FormatError (which it must)."""
    got = b""
    with pytest.raises(archiver.FormatError):
        while chunk := read():
            got += chunk
    return got


def test_archive_open_of_a_damaged_block_raises(packed: Path, tmp_path: Path) -> None:
    with archiver.open_archive(packed) as archive:
        number = archive.catalog.blocks.index(archive.blocks_of("t/big.txt")[2])
    damaged = _damaged(packed, number, tmp_path)
    with archiver.open_archive(damaged) as archive, archive.open("t/big.txt") as file:
        got = _read_until_error(lambda: file.read(4096))
        assert TEXT.startswith(got) and len(got) < len(TEXT)  # never a wrong byte
        file.seek(0)
        with pytest.raises(archiver.FormatError):
            file.read()  # and again: no bytes of the damaged block, ever


def test_archive_open_closed(packed: Path) -> None:
    with archiver.open_archive(packed) as archive:
        file = archive.open("t/big.txt")
        file.close()
        for call in (file.read, file.readline, lambda: file.seek(0), file.tell):
            with pytest.raises(ValueError):
                call()
        assert file.closed
