"""pyarc in the Python ecosystem: `Archive.open` does what `ZipFile.open` does, `archiver.open`
what `lzma.open` does, and `Compressor`/`Decompressor` what lzma's compressor and decompressor
objects do; each is given the same calls as its model, and must give the same answers."""

from __future__ import annotations

import gc
import io
import lzma
import os
import random
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import pytest
import xxhash
from conftest import ROOT, traced_peak

import archiver
from archiver import api, blocks
from archiver.encryption import ScryptCost
from archiver.format import Kind
from archiver.reader import StreamReader

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


# -- archiver.open, as lzma.open ---------------------------------------------------------------


WRITES = [b"", b"x", TEXT[:10], TEXT[:BLOCK * 2 + 3], b"y" * 100, TEXT[5:70000]]


def _write_both(tmp_path: Path, **settings: Any) -> tuple[Path, Path]:
    """The same writes through lzma.open and archiver.open, as xz and pyarc files."""
    paths = tmp_path / "w.xz", tmp_path / "w.pyarc"
    for opener, path, extra in ((lzma.open, paths[0], {}), (archiver.open, paths[1], settings)):
        with opener(path, "wb", **extra) as file:  # type: ignore[operator]
            for data in WRITES:
                assert file.write(data) == len(data)
            assert file.tell() == sum(map(len, WRITES))
    return paths


def test_writing_and_reading_back_answers_as_lzma(tmp_path: Path) -> None:
    xz_path, ours = _write_both(tmp_path, codec="lz77", block_size=BLOCK)
    size = sum(map(len, WRITES))
    with lzma.open(xz_path) as theirs_file, archiver.open(ours) as ours_file:
        assert _calls(ours_file, size) == _calls(theirs_file, size)
    assert archiver.decompress(ours.read_bytes()) == b"".join(WRITES)


@pytest.mark.parametrize("mode", ["r", "rb"])
def test_archiver_open_of_a_stream_answers_as_lzma(tmp_path: Path, mode: str) -> None:
    blob = archiver.compress(TEXT, "store", block_size=BLOCK)
    with lzma.open(io.BytesIO(lzma.compress(TEXT)), mode) as theirs, \
            archiver.open(io.BytesIO(blob), mode) as ours:
        assert _calls(ours, len(TEXT)) == _calls(theirs, len(TEXT))


def test_archiver_open_reads_a_pipe() -> None:
    blob = archiver.compress(TEXT, "lz77", block_size=BLOCK)
    read_end, write_end = os.pipe()

    def feed() -> None:
        with open(write_end, "wb") as pipe:
            pipe.write(blob)

    feeder = threading.Thread(target=feed)
    feeder.start()
    with open(read_end, "rb") as pipe, archiver.open(pipe) as file:
        assert not file.seekable()
        assert file.readline() == TEXT[:TEXT.index(b"\n") + 1]
        assert b"".join(_chunks(file, 1000)) == TEXT[TEXT.index(b"\n") + 1:]
        with pytest.raises(io.UnsupportedOperation):
            file.seek(0)
    feeder.join()


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16-le", "latin-1"])
@pytest.mark.parametrize("newline", [None, "", "\r\n"])
def test_text_mode_answers_as_lzma(tmp_path: Path, encoding: str, newline: str | None) -> None:
    text = "première ligne\nzweite Zeile\r\ndritte\rend" * 300
    results = []
    for opener, name in ((lzma.open, "t.xz"), (archiver.open, "t.pyarc")):
        with opener(tmp_path / name, "wt", encoding=encoding,  # type: ignore[operator]
                    newline=newline) as file:
            file.write(text)
        with opener(tmp_path / name, "rt", encoding=encoding,  # type: ignore[operator]
                    newline=newline) as file:
            results.append((file.readline(), file.read(50), file.readlines()[:20],
                            file.read()))
        with opener(tmp_path / name, "rb") as file:  # type: ignore[operator]
            results.append(file.read())
    assert results[:2] == results[2:]


def test_exclusive_mode(tmp_path: Path) -> None:
    with archiver.open(tmp_path / "x.pyarc", "xb") as file:
        file.write(b"data")
    with pytest.raises(FileExistsError):
        archiver.open(tmp_path / "x.pyarc", "x")
    with archiver.open(tmp_path / "x.pyarc", "w") as file:  # "w" replaces it
        file.write(b"other")
    assert archiver.decompress((tmp_path / "x.pyarc").read_bytes()) == b"other"


@pytest.mark.parametrize("mode", ["a", "ab", "rw", "r+b", "rbt", "wbt", "U", "", "br"])
def test_unknown_modes_are_refused(tmp_path: Path, mode: str) -> None:
    with pytest.raises(ValueError, match="mode"):
        archiver.open(tmp_path / "a.pyarc", mode)
    assert not (tmp_path / "a.pyarc").exists()


def test_arguments_that_do_not_go_with_the_mode(tmp_path: Path) -> None:
    path = tmp_path / "a.pyarc"
    with pytest.raises(ValueError):
        archiver.open(path, "wb", encoding="utf-8")
    with pytest.raises(ValueError):
        archiver.open(path, "rb", codec="store")
    with pytest.raises(archiver.UsageError, match="encrypted"):
        archiver.open(path, "wb", password="pw")
    with pytest.raises(archiver.UsageError):
        archiver.open(path, "wb", codec="no-such-codec")  # a bad setting: at once
    with pytest.raises(TypeError):
        archiver.open(42.0, "rb")  # type: ignore[arg-type]


def test_archiver_open_closed(tmp_path: Path) -> None:
    with archiver.open(tmp_path / "a.pyarc", "wb") as file:
        file.write(b"data")
    with pytest.raises(ValueError):
        file.write(b"more")
    with pytest.raises(ValueError):
        file.tell()
    file.close()  # again: nothing
    for mode in ("rb", "rt"):
        reading = archiver.open(tmp_path / "a.pyarc", mode)
        reading.close()
        with pytest.raises(ValueError):
            reading.read()
    text = archiver.open(tmp_path / "b.pyarc", "wt")
    text.close()
    with pytest.raises(ValueError):
        text.write("more")


def test_an_archive_of_several_files_is_refused(packed: Path) -> None:
    with archiver.open(packed) as file, pytest.raises(archiver.PyarcError,
                                                      match="more than one file"):
        file.read()


def test_an_archive_of_a_folder_and_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "f").write_bytes(b"data")
    api.pack([tmp_path / "d"], tmp_path / "d.pyarc")
    with archiver.open(tmp_path / "d.pyarc") as file, \
            pytest.raises(archiver.PyarcError, match="2 entries, not a single file"):
        file.read()


def test_a_damaged_archive_raises_from_read(tmp_path: Path) -> None:
    path = tmp_path / "a.pyarc"
    with archiver.open(path, "wb", codec="lz77", block_size=BLOCK) as file:
        file.write(TEXT)
    damaged = _damaged(path, 3, tmp_path)
    with archiver.open(damaged) as file:
        got = _read_until_error(lambda: file.read(BLOCK))
        assert TEXT.startswith(got) and len(got) < len(TEXT)
        with pytest.raises(archiver.FormatError):
            file.read()  # and again, not an end


def test_a_sparse_single_file_reads_with_its_holes(tree: Path, tmp_path: Path) -> None:
    api.pack([tree / "sparse"], tmp_path / "s.pyarc", codec="store")
    content = (tree / "sparse").read_bytes()
    with archiver.open(tmp_path / "s.pyarc") as file:
        assert file.read() == content
    assert archiver.decompress((tmp_path / "s.pyarc").read_bytes()) == content


def test_an_encrypted_single_file(tree: Path, tmp_path: Path) -> None:
    api.pack([tree / "big.txt"], tmp_path / "s.pyarc", codec="lz77", block_size=BLOCK,
             password="pw", kdf_cost=LOW)
    with archiver.open(tmp_path / "s.pyarc", password="pw") as file:
        file.seek(BLOCK * 2)
        assert file.read(10) == TEXT[BLOCK * 2:][:10]
        file.seek(5)  # back: read again from the start, the password asked again
        assert file.read() == TEXT[5:]
    with pytest.raises(archiver.PasswordNeededError):
        archiver.open(tmp_path / "s.pyarc")


class _Unseekable(io.RawIOBase):
    """A binary output that cannot seek (a pipe, a socket): it keeps what it is given."""

    def __init__(self) -> None:
        super().__init__()
        self.data = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.data += data
        return len(data)


@pytest.mark.parametrize("settings", [
    dict(codec="store"),
    dict(codec="lz77", block_size=BLOCK),
    dict(codec="huffman", block_size=1024),
    dict(preset=1),
    dict(),  # the default: auto, at level 6
])
def test_writing_gives_the_archive_pack_gives(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              settings: dict[str, Any]) -> None:
    monkeypatch.setattr(time, "time_ns", lambda: 1_700_000_000_123_456_789)  # the entry's date
    data = TEXT[:200_000]
    api.pack(["-"], tmp_path / "packed.pyarc", stdin=io.BytesIO(data), stdin_name=None,
             **settings)
    with archiver.open(tmp_path / "opened.pyarc", "wb", **settings) as file:
        for start in range(0, len(data), 10_000):
            file.write(data[start:start + 10_000])
    assert (tmp_path / "opened.pyarc").read_bytes() == (tmp_path / "packed.pyarc").read_bytes()
    in_memory = io.BytesIO()  # a file object that seeks, as a path's does
    with archiver.open(in_memory, "wb", **settings) as file:
        file.write(data)
    assert in_memory.getvalue() == (tmp_path / "packed.pyarc").read_bytes()
    # To an output that cannot seek, pack spools its input; so does archiver.open.
    packed_out, opened_out = _Unseekable(), _Unseekable()
    api.pack(["-"], packed_out, stdin=io.BytesIO(data), stdin_name=None, **settings)
    with archiver.open(opened_out, "wb", **settings) as file:
        file.write(data)
    assert opened_out.data == packed_out.data
    assert archiver.decompress(bytes(opened_out.data)) == data


def test_the_archive_written_unpacks_under_its_own_name(tmp_path: Path) -> None:
    with archiver.open(tmp_path / "notes.txt.pyarc", "wt", encoding="utf-8") as file:
        file.write("some notes\n")
    api.unpack(tmp_path / "notes.txt.pyarc", tmp_path / "out")
    assert (tmp_path / "out" / "notes.txt").read_text() == "some notes\n"
    (entry,) = api.read_index(tmp_path / "notes.txt.pyarc").catalog.entries
    assert entry.path == "" and abs(entry.mtime_ns - time.time_ns()) < 60 * 10**9


def test_a_writer_dropped_unclosed_ends_its_archive(tmp_path: Path) -> None:
    file = archiver.open(tmp_path / "a.pyarc", "wb", codec="store")
    file.write(b"data")
    del file  # (its thread holds no reference to it)
    gc.collect()
    assert archiver.decompress((tmp_path / "a.pyarc").read_bytes()) == b"data"


def test_a_failed_pack_raises_from_write_and_close(tmp_path: Path) -> None:
    class Full(_Unseekable):  # (seekable: its archive is written as the data comes)
        def seekable(self) -> bool:
            return True

        def write(self, data: Any) -> int:
            raise OSError(28, "No space left on device")

    file = archiver.open(Full(), "wb", codec="store", block_size=1024)
    with pytest.raises(OSError, match="No space"):
        for _ in range(100):  # (the failure comes once a block is written)
            file.write(bytes(1000))
    with pytest.raises(OSError, match="No space"):
        file.close()
    assert file.closed


# -- Compressor and Decompressor, as lzma's ----------------------------------------------------


def _pieces(data: bytes, seed: int, most: int) -> Iterator[bytes]:
    """`data` cut at random places into pieces of 0 to `most` bytes."""
    chosen = random.Random(seed)
    at = 0
    while at < len(data):
        size = chosen.randint(0, most)
        yield data[at:at + size]
        at += size


@pytest.mark.parametrize("settings", [dict(codec="store"), dict(codec="lz77", block_size=BLOCK),
                                      dict(preset=1, block_size=BLOCK), dict(codec="huffman")])
@pytest.mark.parametrize("data", [b"", b"x", TEXT])
def test_compressor_gives_what_compress_gives(settings: dict[str, Any], data: bytes) -> None:
    ours = archiver.Compressor(**settings)
    theirs = lzma.LZMACompressor()
    pieces = list(_pieces(data, 1, 20_000))
    blob = b"".join(ours.compress(piece) for piece in pieces) + ours.flush()
    xz = b"".join(theirs.compress(piece) for piece in pieces) + theirs.flush()
    assert blob == archiver.compress(data, **settings)
    assert archiver.decompress(blob) == lzma.decompress(xz) == data
    for done in (ours, theirs):
        with pytest.raises(ValueError):
            done.compress(b"more")
        with pytest.raises(ValueError):
            done.flush()


def test_compressor_refuses_bad_settings_at_once() -> None:
    with pytest.raises(archiver.UsageError):
        archiver.Compressor("no-such-codec")
    with pytest.raises(archiver.UsageError):
        archiver.Compressor("store", preset=3)  # a level goes with auto only
    with pytest.raises(archiver.UsageError):
        archiver.Compressor(block_size=10)


@pytest.mark.parametrize("most", [1, 7, 5000, 1 << 20])
def test_decompressor_answers_as_lzma(most: int) -> None:
    blob = archiver.compress(TEXT[:150_000], "lz77", block_size=16 << 10)
    xz = lzma.compress(TEXT[:150_000])
    answers = []
    for decompressor, data in ((archiver.Decompressor(), blob),
                               (lzma.LZMADecompressor(), xz)):
        out, given = b"", 0
        for piece in _pieces(data + b"TRAILING", 2, most):
            if decompressor.eof:
                break
            out += decompressor.decompress(piece)
            given += len(piece)
        rest = (data + b"TRAILING")[given:]  # not given: what a caller has left over
        answers.append((out, decompressor.eof, decompressor.unused_data + rest))
        with pytest.raises(EOFError):
            decompressor.decompress(b"more")
    assert answers[0] == answers[1] == (TEXT[:150_000], True, b"TRAILING")


def test_decompressor_gives_each_block_once_it_is_complete() -> None:
    data = TEXT[:100_000]
    blob = archiver.compress(data, "lz77", block_size=16 << 10)
    decompressor = archiver.Decompressor()
    out = [len(decompressor.decompress(blob[at:at + 1])) for at in range(len(blob))]
    given = [sum(out[:at + 1]) for at in range(len(out))]
    reader = io.BytesIO(blob)
    stream = StreamReader(reader)
    ends = []  # where each block frame ends, and the data up to its end
    for item in stream.items():
        if isinstance(item, blocks.EncodedBlock):
            ends.append((reader.tell(), item.data_offset + item.header.raw_size))
    for end, data_end in ends:
        assert given[end - 1] == data_end  # the byte that completes a block brings its data
        assert end < 2 or given[end - 2] < data_end
    assert decompressor.eof and given[-1] == len(data)


def test_decompressor_of_a_damaged_archive_raises() -> None:
    blob = bytearray(archiver.compress(TEXT, "lz77", block_size=BLOCK))
    blob[len(blob) // 2] ^= 1
    decompressor = archiver.Decompressor()
    got = b""
    with pytest.raises(archiver.FormatError):
        for at in range(0, len(blob), 4096):
            got += decompressor.decompress(blob[at:at + 4096])
    assert TEXT.startswith(got) and len(got) < len(TEXT)
    with pytest.raises(archiver.FormatError):
        decompressor.decompress(b"")  # and again
    assert not decompressor.eof


def test_decompressor_of_what_is_no_single_file(packed: Path) -> None:
    with pytest.raises(archiver.FormatError, match="magic"):
        archiver.Decompressor().decompress(b"not an archive at all, no")
    with pytest.raises(archiver.PyarcError, match="more than one file"):
        archiver.Decompressor().decompress(packed.read_bytes())


# -- memory: a few blocks, whatever the size of the data ---------------------------------------


BIG = 64 << 20
MEMORY_BLOCK = 1 << 20
#: What each may hold at once: the blocks in flight, the one read from, the cache (4 blocks).
BOUND = 12 * MEMORY_BLOCK


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, Path]:
    data = random.Random(3).randbytes(BIG)
    path = tmp_path_factory.mktemp("big") / "big.pyarc"
    api.pack(["-"], path, codec="store", block_size=MEMORY_BLOCK, stdin=io.BytesIO(data))
    return data, path


def test_reading_an_entry_in_chunks_holds_a_few_blocks(big: tuple[bytes, Path]) -> None:
    data, path = big
    hasher = _Hash()

    def read() -> None:
        with archiver.open_archive(path) as archive, archive.open("stdin") as file:
            for chunk in _chunks(file, 64 << 10):
                hasher.update(chunk)

    assert traced_peak(read) < BOUND
    assert hasher.digest() == _Hash(data).digest()


def test_reading_and_decompressing_a_stream_hold_a_few_blocks(big: tuple[bytes, Path]) -> None:
    data, path = big
    read, decompressed = _Hash(), _Hash()

    def stream() -> None:
        with archiver.open(path) as file:
            for chunk in _chunks(file, 64 << 10):
                read.update(chunk)

    def pieces() -> None:
        decompressor = archiver.Decompressor()
        with open(path, "rb") as file:
            for piece in _chunks(file, 64 << 10):
                decompressed.update(decompressor.decompress(piece))
        assert decompressor.eof

    assert traced_peak(stream) < BOUND
    assert traced_peak(pieces) < BOUND
    assert read.digest() == decompressed.digest() == _Hash(data).digest()


def test_writing_in_chunks_holds_a_few_blocks(big: tuple[bytes, Path], tmp_path: Path) -> None:
    data, _ = big
    view = memoryview(data)

    def write() -> None:
        with archiver.open(tmp_path / "w.pyarc", "wb", codec="store",
                           block_size=MEMORY_BLOCK) as file:
            for start in range(0, len(data), 64 << 10):
                file.write(view[start:start + (64 << 10)])

    def compress() -> None:
        compressor = archiver.Compressor("store", block_size=MEMORY_BLOCK)
        for start in range(0, len(data), 64 << 10):
            assert compressor.compress(view[start:start + (64 << 10)]) == b""

    assert traced_peak(write) < BOUND
    assert traced_peak(compress) < BOUND  # (the spool is a file; the archive comes at flush)
    with archiver.open(tmp_path / "w.pyarc") as file:
        assert _Hash(file.read()).digest() == _Hash(data).digest()


class _Hash:
    """xxh3 of the bytes given: the data checked without keeping it."""

    def __init__(self, data: bytes = b"") -> None:
        self._hasher = xxhash.xxh3_64(data)

    def update(self, data: bytes) -> None:
        self._hasher.update(data)

    def digest(self) -> int:
        return self._hasher.intdigest()
