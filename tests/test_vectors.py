"""The test archives of format 2.0 (spec/vectors/2.0/): what only they need. Every reader runs
on them, as their README says, in test_vector_readers.py; this file checks that the generator
reproduces the committed vectors and FORMAT.md's example dump, that FORMAT.md's overhead
formulas are right, and reads the good vectors with a small independent parser written from
FORMAT.md's byte tables.
"""

from __future__ import annotations

import importlib.util
import os
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import xxhash
from vector_tables import Vector, read_all, read_table

import archiver
from archiver.format import Entry, Kind

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "spec"
VECTORS = SPEC / "vectors" / "2.0"


def _load_generator():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("make_vectors", SPEC / "make_vectors.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_vectors"] = module
    spec.loader.exec_module(module)
    return module


make_vectors = _load_generator()
TABLE = read_table(VECTORS)
GOOD = [v for v in TABLE if v.name.startswith("good/")]
BAD = [v for v in TABLE if v.name.startswith("bad/")]


def test_vectors_and_the_example_dump_are_up_to_date() -> None:
    result = subprocess.run([sys.executable, str(SPEC / "make_vectors.py"), "--check"],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr


# -- good vectors ------------------------------------------------------------------------------


def test_good_tree_contents() -> None:
    contents = read_all(VECTORS / "good/tree.pyarc")
    assert [entry for entry, _ in contents.values()] == [entry for entry, _ in make_vectors.TREE]
    assert contents["tree/hello.txt"][1] == contents["tree/hello-copy.txt"][1] == b"Hello, pyarc!\n"
    with archiver.open_archive(VECTORS / "good/tree.pyarc") as opened:
        assert opened.info().shared_bytes == 14
    assert archiver.decompress((VECTORS / "good/unnamed.pyarc").read_bytes()) == \
        b"Hello, pyarc!\n"
    (entry, data), = read_all(VECTORS / "good/sparse.pyarc").values()
    assert entry.extents == ((0, 12), (9990, 10)) and data[:12] == b"sparse start"
    assert data[12:9990] == bytes(9978) and data[9990:] == b"sparse end"


# -- FORMAT.md ---------------------------------------------------------------------------------


def _size(items: list[tuple[Entry, bytes | str | None]], block_size: int = 1024) -> int:
    return len(make_vectors.write(items, block_size))


@pytest.mark.parametrize("n", [1, 5, 255, 4095])
def test_format_overhead(n: int) -> None:
    """Section 16's formulas, with the store codec everywhere."""
    path = "/".join(["p" * 255] * 16)[:n - 1] + "q" if n > 255 else "p" * n
    assert len(path.encode()) == n
    empty = _size([])
    assert empty == 102
    for kind in (Kind.FILE, Kind.DIRECTORY):
        assert _size([(Entry(path, kind, 0o644, 0), None)]) == empty + 55 + n
    link = Entry(path, Kind.SYMLINK, 0o777, 0, target="t" * 7)
    assert _size([(link, None)]) == empty + 55 + n + 7
    for size in (1, 14, 1024, 1025, 3000):
        blocks = -(-size // 1024)
        data = bytes(size)
        assert _size([(Entry(path, Kind.FILE, 0o644, 0, size), data)]) == \
            102 + 2 * (55 + n) + 58 + 66 * blocks + 8 + 5 + size


# -- an independent reading of FORMAT.md's byte tables -------------------------------------------


class SpecReader:
    """Parses an archive of format 2 with `struct`, from FORMAT.md alone (not from archiver):
    the `store` codec only, as the vectors have it."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, fmt: str) -> tuple[Any, ...]:
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def column(self, code: str, count: int) -> tuple[int, ...]:
        return self.take(f"{count}{code}")

    def strings(self, lengths: tuple[int, ...]) -> list[bytes]:
        pieces = []
        for length in lengths:
            pieces.append(self.data[self.pos:self.pos + length])
            self.pos += length
        return pieces

    def checked(self, start: int) -> None:
        (check,) = self.take("I")
        assert check == xxhash.xxh32_intdigest(self.data[start:self.pos - 4])

    def coded(self, start: int, block: bool) -> tuple[int, bytes]:
        """A coded frame's fields and its (store) payload; (data_offset, payload)."""
        (data_offset,) = self.take("Q") if block else (0,)
        (name_length,) = self.take("B")
        codec = self.data[self.pos:self.pos + name_length]
        self.pos += name_length
        version, option_count, raw, stored, raw_hash, stored_hash = self.take("HBIIQQ")
        self.checked(start)
        payload = self.data[self.pos:self.pos + stored]
        self.pos += stored
        assert (codec, version, option_count) == (b"store", 1, 0) and raw == stored
        assert xxhash.xxh3_64_intdigest(payload) == stored_hash == raw_hash
        return data_offset, payload

    @staticmethod
    def body_entries(body: bytes, at: int) -> tuple[list[tuple[Any, ...]], int]:
        """The name table and entry columns of a body from `at`: the entries as tuples
        (kind, mode, mtime, size, data_offset, uid, gid, user, group, path, target, extents,
        xattrs), and where the body goes on."""
        reader = SpecReader(body)
        reader.pos = at
        (name_count,) = reader.take("I")
        names = reader.strings(reader.column("H", name_count))
        (count,) = reader.take("I")
        kinds, modes = reader.column("B", count), reader.column("H", count)
        deltas, sizes = reader.column("Q", count), reader.column("Q", count)
        offsets = reader.column("Q", count)
        uids, gids = reader.column("I", count), reader.column("I", count)
        users, groups = reader.column("I", count), reader.column("I", count)
        prefixes, suffix_lengths = reader.column("H", count), reader.column("H", count)
        target_lengths = reader.column("H", count)
        extent_counts, xattr_counts = reader.column("I", count), reader.column("H", count)
        suffixes, targets = reader.strings(suffix_lengths), reader.strings(target_lengths)
        extent_offsets = reader.column("Q", sum(extent_counts))
        extent_lengths = reader.column("Q", sum(extent_counts))
        name_lengths = reader.column("B", sum(xattr_counts))
        value_lengths = reader.column("I", sum(xattr_counts))
        xattr_names, xattr_values = reader.strings(name_lengths), reader.strings(value_lengths)
        none = 0xFFFFFFFF
        entries, path, mtime, extent, xattr = [], b"", 0, 0, 0
        for i in range(count):
            path = path[:prefixes[i]] + suffixes[i]
            mtime = (mtime + deltas[i]) % 2**64
            extents = tuple(zip(extent_offsets[extent:extent + extent_counts[i]],
                                extent_lengths[extent:extent + extent_counts[i]], strict=True))
            extent += extent_counts[i]
            attributes = tuple(zip(xattr_names[xattr:xattr + xattr_counts[i]],
                                   xattr_values[xattr:xattr + xattr_counts[i]], strict=True))
            xattr += xattr_counts[i]
            entries.append((kinds[i], modes[i], mtime - 2**64 if mtime >= 2**63 else mtime,
                            sizes[i], offsets[i], None if uids[i] == none else uids[i],
                            None if gids[i] == none else gids[i],
                            b"" if users[i] == none else names[users[i]],
                            b"" if groups[i] == none else names[groups[i]],
                            path, targets[i], extents, attributes))
        return entries, reader.pos

    def read(self) -> tuple[list[tuple[Any, ...]], bytes]:
        """Every entry of the index (checked against the tables), and the data stream."""
        magic, major, minor, flags, block_size = self.take("8sBBHI")
        assert (magic, major, flags) == (b"\x89PYARC\r\n", 2, 0) and block_size >= 1
        self.checked(0)
        tables, blocks, segments, stream = [], [], [], b""
        while True:
            start = self.pos
            (kind,) = self.take("c")
            if kind == b"I":
                _, body = self.coded(start, block=False)
                break
            data_offset, payload = self.coded(start, block=(kind == b"B"))
            if kind == b"T":
                segments.append([start, 0])
                tables.append(self.body_entries(payload, 0)[0])
            else:
                assert kind == b"B" and data_offset == len(stream) and segments
                segments[-1][1] += 1
                blocks.append((start, len(payload)))
                stream += payload
        index_offset = start
        reader = SpecReader(body)
        (codec_count,) = reader.take("H")
        for _ in range(codec_count):
            (length,) = reader.take("B")
            reader.pos += length + 2
        (group_count,) = reader.take("H")
        for _ in range(group_count):
            (length,) = reader.take("B")
            reader.pos += length
        entries, reader.pos = self.body_entries(body, reader.pos)
        (block_count,) = reader.take("I")
        offsets = reader.column("Q", block_count)
        raw_sizes = reader.column("I", block_count)
        reader.column("I", block_count)
        reader.column("H", block_count)
        reader.column("H", block_count)
        (segment_count,) = reader.take("I")
        segment_offsets = reader.column("Q", segment_count)
        segment_blocks = reader.column("I", segment_count)
        assert reader.pos == len(body)
        assert list(zip(offsets, raw_sizes, strict=True)) == blocks
        assert [list(pair) for pair in zip(segment_offsets, segment_blocks, strict=True)] == \
            segments
        for table in tables:  # every table's entries are the index's
            assert all(row in entries for row in table)
        footer = self.pos
        offset, size = self.take("QQ")
        self.checked(footer)
        assert self.take("4s") == (b"PYA\x1a",)
        assert (offset, size) == (index_offset, footer - index_offset)
        assert self.pos == len(self.data)
        return entries, stream


@pytest.mark.parametrize("vector", GOOD, ids=str)
def test_good_vector_matches_format_md(vector: Vector) -> None:
    entries, stream = SpecReader(vector.path.read_bytes()).read()
    contents = read_all(vector.path)
    assert [(os.fsdecode(row[9]), row[3]) for row in entries] == \
        [(entry.path, entry.size) for entry, _ in contents.values()]
    for row, (entry, data) in zip(entries, contents.values(), strict=True):
        kind, mode, mtime, size, data_offset, uid, gid, user, group, path, target, extents, \
            attributes = row
        assert (kind, mode, mtime, uid, gid, os.fsdecode(user), os.fsdecode(group)) == \
            (entry.kind, entry.mode, entry.mtime_ns, entry.uid, entry.gid, entry.user,
             entry.group)
        assert os.fsdecode(target) == entry.target
        assert (extents or None) == entry.extents if entry.kind == Kind.FILE else not extents
        assert tuple((os.fsdecode(n), v) for n, v in attributes) == entry.xattrs
        if entry.kind == Kind.FILE and entry.data_size:
            stored = stream[data_offset:data_offset + entry.data_size]
            assert stored == (data if entry.extents is None else
                              b"".join(data[o:o + n] for o, n in entry.extents))
