"""Every reader on the test archives of every format version (spec/vectors/1.0/, frozen,
spec/vectors/2.0/, and the encrypted archives of spec/vectors/3.0/, read with their password),
as their READMEs say: each row names a vector and, for the index reader
(`open_archive`), the stream reader (`api.test`) and extraction (`api.unpack`), either `ok` or
an error class with a substring of its message (tests/vector_tables.py parses them, so the
READMEs and the tests cannot drift). What is particular to one version (its generator, its
example dump, an independent parser of its byte tables) is in test_vectors.py (2.0),
test_vectors_1.py (1.0) and test_vectors_3.py (3.0)."""

from __future__ import annotations

import importlib.util
import os
import stat
from pathlib import Path

import pytest
from vector_tables import Pipe, Vector, expect, read_all, read_table, streamed

from archiver import api
from archiver.api import unpack
from archiver.format import Kind

VECTORS = Path(__file__).resolve().parents[1] / "spec" / "vectors"
FOLDERS = [VECTORS / "1.0", VECTORS / "2.0", VECTORS / "3.0"]
if importlib.util.find_spec("cryptography") is None:  # (pip install 'pyarc[encrypt]')
    FOLDERS.remove(VECTORS / "3.0")
TABLE = [vector for folder in FOLDERS for vector in read_table(folder)]
GOOD = [v for v in TABLE if v.name.startswith("good/")]
BAD = [v for v in TABLE if v.name.startswith("bad/")]


def vector_id(vector: Vector) -> str:
    return f"{vector.folder.name}/{vector.name}"


def password(vector: Vector) -> bytes | None:
    """The password of the encrypted vectors (spec/vectors/3.0/README.md)."""
    return b"pyarc test vector" if vector.folder.name == "3.0" else None


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda folder: folder.name)
def test_table_lists_every_vector(folder: Path) -> None:
    on_disk = sorted(str(p.relative_to(folder)) for p in folder.glob("[gb]*/*.pyarc"))
    listed = sorted(v.name for v in TABLE if v.folder == folder)
    assert len(set(listed)) == len(listed), "a vector is listed twice in the README"
    assert listed == on_disk
    assert any(name.startswith("good/") for name in listed)
    assert any(name.startswith("bad/") for name in listed)


# -- good vectors ------------------------------------------------------------------------------


@pytest.mark.parametrize("vector", GOOD, ids=vector_id)
def test_good_vector_reads(vector: Vector) -> None:
    contents = read_all(vector.path, password(vector))
    stats = api.test(vector.path, password=password(vector))
    assert stats.entries == len(contents)
    # The stream reader sees the same entries and data as the index reader ...
    with open(vector.path, "rb") as stream:
        assert streamed(stream, password(vector)) == contents
    # ... also from a pipe, which cannot seek or tell its size.
    with open(vector.path, "rb") as file:
        assert streamed(Pipe(file), password(vector)) == contents
    for entry, data in contents.values():
        assert len(data) == entry.size


@pytest.mark.parametrize("vector", GOOD, ids=vector_id)
def test_good_vector_unpacks(vector: Vector, tmp_path: Path) -> None:
    contents = read_all(vector.path, password(vector))
    dest = tmp_path / "out"
    unpack(vector.path, dest, password=password(vector))
    for path, (entry, data) in contents.items():
        target = dest / (path or vector.path.name.removesuffix(".pyarc"))
        if entry.kind == Kind.FILE:
            assert target.read_bytes() == data
            assert target.stat().st_mtime_ns == entry.mtime_ns
        elif entry.kind == Kind.DIRECTORY:
            assert target.is_dir()
        elif entry.kind == Kind.SYMLINK:
            assert os.readlink(target) == entry.target
        elif entry.kind == Kind.HARDLINK:
            assert target.stat().st_ino == (dest / entry.target).stat().st_ino
        else:
            assert stat.S_ISFIFO(target.lstat().st_mode)


# -- bad vectors -------------------------------------------------------------------------------


@pytest.mark.parametrize("vector", BAD, ids=vector_id)
def test_bad_vector_open_archive(vector: Vector) -> None:
    expect(vector.open, lambda: read_all(vector.path, password(vector)))


@pytest.mark.parametrize("vector", BAD, ids=vector_id)
def test_bad_vector_stream_test(vector: Vector) -> None:
    expect(vector.test, lambda: api.test(vector.path, password=password(vector)))


@pytest.mark.parametrize("vector", BAD, ids=vector_id)
def test_bad_vector_unpack(vector: Vector, tmp_path: Path) -> None:
    # dest is two levels down, so `../../outside` from dest would land in tmp_path.
    dest = tmp_path / "a" / "out"
    expect(vector.unpack, lambda: unpack(vector.path, dest, password=password(vector)))
    # unpack opens and checks the archive before it creates the destination, so an archive
    # refused there leaves nothing at all; nothing is ever written beside the destination.
    assert sorted(p.name for p in tmp_path.iterdir()) in ([], ["a"])
    if (tmp_path / "a").exists():
        assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["out"]
    if vector.unpack.error is not None:
        for path in dest.rglob("*"):
            assert not path.is_symlink() or path.resolve().is_relative_to(dest.resolve()), path
