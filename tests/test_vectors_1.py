"""The frozen test archives of format 1.0 (spec/vectors/1.0/): pyarc reads format 1.0 forever.
Every reader runs on them, as their README says, in test_vector_readers.py; this file checks
that FORMAT-1.0.md's example dump is an archive that reads back, and reads the good vectors
with a small independent parser written from FORMAT-1.0.md's byte tables. The vectors were
made by pyarc 0.1.0's generator and are never regenerated.
"""

from __future__ import annotations

import os
import re
import struct
from pathlib import Path

import pytest
import xxhash
from vector_tables import Vector, read_all, read_table

import archiver
import archiver.errors
from archiver.format import Kind

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "spec"
VECTORS = SPEC / "vectors" / "1.0"
README = VECTORS / "README.md"


TABLE = read_table(VECTORS)
GOOD = [v for v in TABLE if v.name.startswith("good/")]
BAD = [v for v in TABLE if v.name.startswith("bad/")]


# -- good vectors ------------------------------------------------------------------------------


def test_good_tree_contents() -> None:
    contents = read_all(VECTORS / "good/tree.pyarc")
    assert [(e.path, e.kind, e.size, e.target) for e, _ in contents.values()] == [
        ("tree", Kind.DIRECTORY, 0, ""), ("tree/hello.txt", Kind.FILE, 14, ""),
        ("tree/link-to-hello", Kind.SYMLINK, 0, "hello.txt"), ("tree/sub", Kind.DIRECTORY, 0, ""),
        ("tree/sub/empty", Kind.FILE, 0, ""),
        ("tree/sub/\u00fcnic\u00f8d\u00e9-\u00df-\u65e5\u672c.txt", Kind.FILE, 12, ""),
        ("tree/sub/up", Kind.SYMLINK, 0, "../hello.txt")]
    assert contents["tree/hello.txt"][1] == b"Hello, pyarc!\n"
    assert archiver.decompress((VECTORS / "good/unnamed.pyarc").read_bytes()) == \
        b"Hello, pyarc!\n"


# -- FORMAT.md ---------------------------------------------------------------------------------


def test_format_example_dump(tmp_path: Path) -> None:
    """The dump of FORMAT-1.0.md's example is an archive of format 1.0 that reads back."""
    text = (SPEC / "FORMAT-1.0.md").read_text(encoding="utf-8")
    dump = text.split("<!-- example-dump: begin -->")[1].split("<!-- example-dump: end -->")[0]
    data = bytearray()
    for line in dump.splitlines():
        match = re.match(r"([0-9a-f]{4})  ((?:[0-9a-f]{2} )*[0-9a-f]{2})", line)
        if match:
            assert int(match.group(1), 16) == len(data), line
            data += bytes.fromhex(match.group(2))
    (tmp_path / "hi.pyarc").write_bytes(bytes(data))
    contents = read_all(tmp_path / "hi.pyarc")
    assert [(path, data) for path, (_, data) in contents.items()] == [("hi.txt", b"hi\n")]
    assert SpecReader(bytes(data)).read()[0][0][4] == b"hi.txt"


# -- an independent reading of FORMAT-1.0.md's byte tables ------------------------------------


class SpecReader:
    """Parses an archive with `struct`, from FORMAT-1.0.md alone (not from archiver)."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, fmt: str) -> tuple:  # type: ignore[type-arg]
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def string(self, length_fmt: str) -> bytes:
        (length,) = self.take(length_fmt)
        value = self.data[self.pos:self.pos + length]
        self.pos += length
        return value

    def split(self, lengths: tuple[int, ...]) -> list[bytes]:
        """Consecutive byte strings of the given lengths, stored back to back."""
        pieces = []
        for length in lengths:
            pieces.append(self.data[self.pos:self.pos + length])
            self.pos += length
        return pieces

    def checked(self, start: int) -> None:
        (check,) = self.take("I")
        assert check == xxhash.xxh32_intdigest(self.data[start:self.pos - 4])

    def entry_fields(self) -> tuple:  # type: ignore[type-arg]
        kind, mode, mtime, size = self.take("BHqQ")
        return kind, mode, mtime, size, self.string("H"), self.string("H")

    def read(self) -> tuple[list, list]:  # type: ignore[type-arg]
        magic, major, minor, flags, block_size = self.take("8sBBHI")
        assert (magic, major, flags) == (b"\x89PYARC\r\n", 1, 0) and block_size >= 1
        self.checked(0)
        entries, blocks = [], []
        while True:
            start = self.pos
            (kind,) = self.take("c")
            if kind == b"E":
                entries.append(self.entry_fields())
                self.checked(start)
            elif kind == b"B":
                codec = self.string("B").decode("ascii")
                (version, option_count) = self.take("HB")
                options = [(self.string("B"), self.string("B")) for _ in range(option_count)]
                raw_size, stored_size, raw_hash, stored_hash = self.take("IIQQ")
                self.checked(start)
                payload = self.data[self.pos:self.pos + stored_size]
                self.pos += stored_size
                assert raw_size >= 1 and stored_size <= raw_size
                assert xxhash.xxh3_64_intdigest(payload) == stored_hash
                assert codec == "store" and version == 1 and not options
                assert xxhash.xxh3_64_intdigest(payload) == raw_hash  # store: payload = data
                blocks.append((start, raw_size, stored_size, codec, version))
            else:
                assert kind == b"I"
                break
        index_offset = start
        (codec_count,) = self.take("H")
        codecs = [(self.string("B").decode("ascii"), self.take("H")[0])
                  for _ in range(codec_count)]
        entry_count, block_count = self.take("II")
        # Column by column: every entry field for all entries, then every block field.
        kinds = self.take(f"{entry_count}B")
        modes = self.take(f"{entry_count}H")
        mtimes = self.take(f"{entry_count}q")
        sizes = self.take(f"{entry_count}Q")
        block_counts = self.take(f"{entry_count}I")
        path_lengths = self.take(f"{entry_count}H")
        target_lengths = self.take(f"{entry_count}H")
        paths, targets = self.split(path_lengths), self.split(target_lengths)
        offsets = self.take(f"{block_count}Q")
        raw_sizes = self.take(f"{block_count}I")
        stored_sizes = self.take(f"{block_count}I")
        codec_refs = self.take(f"{block_count}H")
        self.checked(index_offset)
        records = list(zip(kinds, modes, mtimes, sizes, paths, targets, strict=True))
        refs = [(offset, raw, stored) + codecs[codec]
                for offset, raw, stored, codec in zip(offsets, raw_sizes, stored_sizes,
                                                      codec_refs, strict=True)]
        assert records == entries
        assert refs == blocks
        assert sum(block_counts) == block_count
        # Entry i owns the next block_counts[i] blocks, and they hold exactly its size.
        first = 0
        for (_, _, _, size, _, _), count in zip(records, block_counts, strict=True):
            assert sum(raw_sizes[first:first + count]) == size
            first += count
        footer = self.pos
        offset, size = self.take("QQ")
        self.checked(footer)
        assert self.take("4s") == (b"PYA\x1a",)
        assert (offset, size) == (index_offset, footer - index_offset)
        assert self.pos == len(self.data)
        return entries, blocks


@pytest.mark.parametrize("vector", GOOD, ids=str)
def test_good_vector_matches_format_md(vector: Vector) -> None:
    entries, blocks = SpecReader(vector.path.read_bytes()).read()
    contents = read_all(vector.path)
    assert [(os.fsdecode(fields[4]), fields[3]) for fields in entries] == \
        [(entry.path, entry.size) for entry, _ in contents.values()]
    assert sum(raw for _, raw, _, _, _ in blocks) == sum(len(d) for _, d in contents.values())
