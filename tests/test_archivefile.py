"""archiver.ArchiveFile and the "pyarc" format of shutil: the same calls on zipfile, tarfile
and pyarc give the same names, data and extracted trees; errors are refused as loudly, and
extraction is pyarc's own, safe one."""

from __future__ import annotations

import io
import os
import pwd
import shutil
import subprocess
import sys
import tarfile
import time
import zipfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

import archiver
from archiver import shutil_formats
from archiver.api import make_encoder
from archiver.encryption import ScryptCost
from archiver.errors import (
    ExistsError,
    FormatError,
    PasswordNeededError,
    PyarcError,
    UnsafePathError,
    UsageError,
)
from archiver.format import Entry, Kind
from archiver.writer import Source, write_archive

MTIME = 1_600_000_000  # an even second: zip keeps mtimes to 2 seconds
FAST = dict(codec="store")


def make_tree(root: Path) -> Path:
    """A small tree: text, binary, an identical copy, an empty file, an empty folder."""
    (root / "docs" / "deep").mkdir(parents=True)
    (root / "empty-dir").mkdir()
    (root / "a.txt").write_bytes(b"alpha\n" * 100)
    (root / "docs" / "b.md").write_bytes(b"# bee\n" * 50)
    (root / "docs" / "deep" / "copy.txt").write_bytes(b"alpha\n" * 100)
    (root / "docs" / "deep" / "blob.bin").write_bytes(bytes(range(256)) * 8)
    (root / "empty").write_bytes(b"")
    for path in [root, *root.rglob("*")]:
        os.utime(path, (MTIME, MTIME))
    return root


def snapshot(root: Path) -> dict[str, bytes | str | None]:
    """Each path below `root`: a file's bytes, a symlink's '-> target', None for a folder."""
    found: dict[str, bytes | str | None] = {}
    for path in sorted(root.rglob("*")):
        name = path.relative_to(root).as_posix()
        if path.is_symlink():
            found[name] = f"-> {os.readlink(path)}"
        else:
            found[name] = None if path.is_dir() else path.read_bytes()
    return found


def walk_calls(root: Path) -> Callable[[Any], None]:
    """The same write() of every path of a tree (relative to the working directory), as one
    would write a tree with zipfile: directories first, in sorted order."""

    def write_all(archive: Any) -> None:
        for path in [root, *sorted(root.rglob("*"))]:
            archive.write(os.path.relpath(path))

    return write_all


def both(tmp_path: Path, calls: Callable[[Any], None]) -> tuple[Path, Path]:
    """The zip and the pyarc archive that `calls` writes."""
    with zipfile.ZipFile(tmp_path / "z.zip", "w") as zipped:
        calls(zipped)
    with archiver.ArchiveFile(tmp_path / "p.pyarc", "w", **FAST) as packed:
        calls(packed)
    return tmp_path / "z.zip", tmp_path / "p.pyarc"


# -- writing, read back as zipfile does -----------------------------------------------------


def test_write_of_every_path_reads_back_as_zipfile(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    make_tree(tmp_path / "tree")
    monkeypatch.chdir(tmp_path)
    zipped, packed = both(tmp_path, walk_calls(Path("tree")))
    with zipfile.ZipFile(zipped) as z, archiver.ArchiveFile(packed) as p:
        assert p.namelist() == z.namelist()
        assert "tree/docs/" in p.namelist()  # a directory ends with '/', as zipfile's
        for name in z.namelist():
            assert p.read(name) == z.read(name)
            assert p.open(name).read() == z.open(name).read()
            ours, theirs = p.getinfo(name), z.getinfo(name)
            assert (ours.filename, ours.file_size, ours.is_dir(), ours.date_time) == (
                theirs.filename, theirs.file_size, theirs.is_dir(), theirs.date_time)
        assert [info.filename for info in p] == [info.filename for info in z.infolist()]
        assert [info.filename for info in p.infolist()] == p.namelist()
        z.extractall(tmp_path / "from-zip")
        p.extractall(tmp_path / "from-pyarc")
    assert snapshot(tmp_path / "from-pyarc") == snapshot(tmp_path / "from-zip")
    assert snapshot(tmp_path / "from-pyarc")["tree/docs/deep/copy.txt"] == b"alpha\n" * 100


def test_write_of_a_folder_stores_its_entry_alone(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    make_tree(tmp_path / "tree")
    monkeypatch.chdir(tmp_path)
    zipped, packed = both(tmp_path, lambda archive: archive.write("tree/docs", "renamed"))
    with zipfile.ZipFile(zipped) as z, archiver.ArchiveFile(packed) as p:
        assert p.namelist() == z.namelist() == ["renamed/"]


def test_writestr_reads_back_as_zipfile(tmp_path: Path) -> None:
    def calls(archive: Any) -> None:
        archive.writestr("a/b.txt", b"bytes")
        archive.writestr("text.txt", "and text, as UTF-8: \u00e9")
        archive.writestr("folder/", b"")
        archive.writestr("same.txt", b"bytes")
        archive.writestr("empty", b"")

    zipped, packed = both(tmp_path, calls)
    with zipfile.ZipFile(zipped) as z, archiver.ArchiveFile(packed) as p:
        assert p.namelist() == z.namelist()
        assert [p.read(name) for name in p.namelist()] == [z.read(n) for n in z.namelist()]
        assert [(i.file_size, i.is_dir()) for i in p] == [(i.file_size, i.is_dir())
                                                          for i in z.infolist()]
        z.extractall(tmp_path / "from-zip")
        p.extractall(tmp_path / "from-pyarc")
    assert snapshot(tmp_path / "from-pyarc") == snapshot(tmp_path / "from-zip")


def test_writestr_of_an_entry_keeps_its_metadata(tmp_path: Path) -> None:
    """As zipfile's writestr(ZipInfo): copying the members of one archive into another."""
    source = tmp_path / "source.pyarc"
    with archiver.ArchiveFile(source, "w", **FAST) as archive:
        archive.writestr(Entry("run.sh", Kind.FILE, 0o755, MTIME * 10**9), b"#!/bin/sh\n")
        archive.writestr(Entry("link", Kind.SYMLINK, 0o777, MTIME * 10**9, target="run.sh"), b"")
        archive.writestr(Entry("d", Kind.DIRECTORY, 0o700, MTIME * 10**9), b"")
    with archiver.ArchiveFile(source) as old, \
            archiver.ArchiveFile(tmp_path / "copy.pyarc", "w", **FAST) as new:
        for info in old:
            new.writestr(info, old.read(info))
    with archiver.ArchiveFile(source) as old, archiver.ArchiveFile(tmp_path / "copy.pyarc") as new:
        assert [info.entry for info in new] == [info.entry for info in old]
        assert new.getinfo("run.sh").entry.mode == 0o755
        assert new.getinfo("link").entry.target == "run.sh"


def test_add_is_pack(tmp_path: Path) -> None:
    """add(tree) stores what `pyarc pack` stores, byte for byte: solid, deduplicated."""
    tree = make_tree(tmp_path / "tree")
    os.link(tree / "a.txt", tree / "hard")
    (tree / "link").symlink_to("a.txt")
    archiver.pack([tree], tmp_path / "packed.pyarc")
    with archiver.ArchiveFile(tmp_path / "added.pyarc", "w") as archive:
        archive.add(tree)
    assert (tmp_path / "added.pyarc").read_bytes() == (tmp_path / "packed.pyarc").read_bytes()
    with archiver.open_archive(tmp_path / "added.pyarc") as opened:
        info = opened.info()
        assert info.shared_bytes == 600 and info.blocks == 2  # copy.txt; text and binary
        assert opened.entries[opened.number("tree/hard")].kind == Kind.HARDLINK


def test_add_names_as_tarfile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_tree(tmp_path / "tree")
    monkeypatch.chdir(tmp_path)
    for arcname in [None, "renamed", "a/b"]:
        with tarfile.open(tmp_path / "t.tar", "w") as tar:
            tar.add("tree", arcname)
        with archiver.ArchiveFile(tmp_path / "p.pyarc", "w", **FAST) as archive:
            archive.add("tree", arcname)
        with tarfile.open(tmp_path / "t.tar") as tar, \
                archiver.ArchiveFile(tmp_path / "p.pyarc") as archive:
            assert [info.entry.path for info in archive] == tar.getnames()
    with archiver.ArchiveFile(tmp_path / "p.pyarc", "w", **FAST) as archive:
        archive.add("tree", "")  # the folder's contents, as pack does with '.'
        archive.add("tree/docs", "d", recursive=False)
    with archiver.ArchiveFile(tmp_path / "p.pyarc") as archive:
        assert archive.namelist()[:3] == ["a.txt", "docs/", "docs/b.md"]
        assert archive.namelist()[-1] == "d/"


def test_members_of_all_calls_share_blocks_and_contents(tmp_path: Path) -> None:
    tree = make_tree(tmp_path / "tree")
    with archiver.ArchiveFile(tmp_path / "p.pyarc", "w") as archive:
        archive.write(tree / "a.txt", "one")
        archive.add(tree / "docs", "two")
        archive.writestr("three", b"held " * 20)
        archive.writestr("four", b"held " * 20)
        archive.write(tree / "a.txt", "five")
    with archiver.open_archive(tmp_path / "p.pyarc") as opened:
        assert [entry.path for entry in opened.entries] == [
            "one", "two", "two/b.md", "two/deep", "two/deep/blob.bin", "two/deep/copy.txt",
            "three", "four", "five"]
        info = opened.info()
        assert info.shared_bytes == 2 * 600 + 100  # copy.txt, five; four
        assert info.blocks == 3  # text from paths, binary, text from bytes


def test_add_filter_changes_metadata_only(tmp_path: Path) -> None:
    tree = make_tree(tmp_path / "tree")
    with archiver.ArchiveFile(tmp_path / "p.pyarc", "w", **FAST) as archive:
        archive.add(tree, filter=lambda entry: replace(entry, mode=0o700, uid=0, user="x"))
    with archiver.ArchiveFile(tmp_path / "p.pyarc") as archive:
        assert {(info.entry.mode, info.entry.user) for info in archive} == {(0o700, "x")}
    for bad in [lambda entry: replace(entry, path="elsewhere"), lambda entry: None]:
        with pytest.raises(UsageError, match="filter"), \
                archiver.ArchiveFile(tmp_path / "bad.pyarc", "w", **FAST) as archive:
            archive.add(tree, filter=bad)
        assert not (tmp_path / "bad.pyarc").exists()


def test_a_file_object_gets_the_archive_and_stays_open(tmp_path: Path) -> None:
    out = io.BytesIO()
    with archiver.ArchiveFile(out, "w", **FAST) as archive:
        archive.writestr("x", b"data")
    assert not out.closed
    (tmp_path / "x.pyarc").write_bytes(out.getvalue())
    with archiver.ArchiveFile(tmp_path / "x.pyarc") as archive:
        assert archive.read("x") == b"data"
    with pytest.raises(UsageError, match="path"):
        archiver.ArchiveFile(io.BytesIO(out.getvalue()))


def test_an_encrypted_archive(tmp_path: Path) -> None:
    path = tmp_path / "secret.pyarc"
    with archiver.ArchiveFile(path, "w", password="pw", kdf_cost=ScryptCost(4, 8, 1),
                              **FAST) as archive:
        archive.writestr("x", b"hidden")
    with pytest.raises(PasswordNeededError):
        archiver.ArchiveFile(path)
    with archiver.ArchiveFile(path, password="pw") as archive:
        assert archive.read("x") == b"hidden"
        archive.extractall(tmp_path / "out")
    assert (tmp_path / "out" / "x").read_bytes() == b"hidden"


def test_an_empty_archive_is_one(tmp_path: Path) -> None:
    with zipfile.ZipFile(tmp_path / "z.zip", "w"), \
            archiver.ArchiveFile(tmp_path / "p.pyarc", "w", **FAST):
        pass
    with zipfile.ZipFile(tmp_path / "z.zip") as z, archiver.ArchiveFile(tmp_path / "p.pyarc") as p:
        assert p.namelist() == z.namelist() == []


def test_x_mode_creates_only(tmp_path: Path) -> None:
    path = tmp_path / "p.pyarc"
    with archiver.ArchiveFile(path, "x", **FAST) as archive:
        archive.writestr("x", b"first")
    with pytest.raises(ExistsError):
        archiver.ArchiveFile(path, "x")
    with archiver.ArchiveFile(path, "w", **FAST) as archive:
        archive.writestr("x", b"second")
    with archiver.ArchiveFile(path) as archive:
        assert archive.read("x") == b"second"


def test_the_archive_is_never_packed_into_itself(tmp_path: Path) -> None:
    tree = make_tree(tmp_path / "tree")
    path = tree / "p.pyarc"
    for _ in range(2):  # and again, over the first
        with pytest.warns(UserWarning, match="archive being written"), \
                archiver.ArchiveFile(path, "w", **FAST) as archive:
            archive.add(tree)
    with archiver.ArchiveFile(path) as archive:
        assert not [name for name in archive.namelist() if "pyarc" in name]
    with pytest.raises(UsageError, match="into itself"), \
            archiver.ArchiveFile(path, "w", **FAST) as archive:
        archive.write(path)
    assert path.exists()  # the last complete archive stays


# -- errors, as zipfile raises them ----------------------------------------------------------


def test_a_corrupt_archive_never_gives_wrong_bytes(tmp_path: Path) -> None:
    data = {"a.txt": b"first file " * 20, "b.txt": b"second " * 30}
    path = tmp_path / "p.pyarc"
    with archiver.ArchiveFile(path, "w", **FAST) as archive:
        for name, content in data.items():
            archive.writestr(name, content)
    good = path.read_bytes()
    damaged = tmp_path / "damaged.pyarc"
    damaged.write_bytes(good.replace(b"first file first", b"first file First"))
    with archiver.ArchiveFile(damaged) as archive:
        with pytest.raises(FormatError):  # the block's checksum
            archive.read("a.txt")
        with pytest.raises(FormatError):
            archive.extractall(tmp_path / "out")
        with archive.open("a.txt") as member, pytest.raises(FormatError):  # block by block
            member.read(10)
    assert not (tmp_path / "out" / "a.txt").exists()
    for offset in range(len(good)):  # any byte: an error, or the right bytes
        blob = bytearray(good)
        blob[offset] ^= 0x20
        damaged.write_bytes(bytes(blob))
        try:
            with archiver.ArchiveFile(damaged) as archive:
                assert {name: archive.read(name) for name in archive.namelist()} == data
        except PyarcError:
            pass
        try:
            with archiver.ArchiveFile(damaged) as archive:
                for name, content in data.items():
                    with archive.open(name) as member:
                        assert member.read(7) + member.read() == content
        except PyarcError:
            pass


def test_a_closed_archive_refuses_everything(tmp_path: Path) -> None:
    path = tmp_path / "p.pyarc"
    writing = archiver.ArchiveFile(path, "w", **FAST)
    writing.writestr("x", b"data")
    writing.close()
    writing.close()  # twice is fine, as zipfile
    for call in [lambda: writing.writestr("y", b""), lambda: writing.write(path),
                 lambda: writing.add(path)]:
        with pytest.raises(ValueError, match="closed"):
            call()
    with archiver.ArchiveFile(path) as reading:
        pass
    for method, args in [("read", ["x"]), ("open", ["x"]), ("getinfo", ["x"]),
                         ("namelist", []), ("infolist", []), ("extract", ["x", tmp_path]),
                         ("extractall", [tmp_path])]:
        with pytest.raises(ValueError, match="closed"):
            getattr(reading, method)(*args)
    with pytest.raises(ValueError, match="closed"):
        list(reading)
    with zipfile.ZipFile(tmp_path / "z.zip", "w") as zipped:
        zipped.writestr("x", b"data")
    with pytest.raises(ValueError):  # zipfile's own
        zipped.read("x")


def test_each_mode_refuses_the_others_methods(tmp_path: Path) -> None:
    with archiver.ArchiveFile(tmp_path / "p.pyarc", "w", **FAST) as archive:
        for call in [archive.namelist, lambda: archive.read("x")]:
            with pytest.raises(ValueError, match="requires mode 'r'"):
                call()
    with archiver.ArchiveFile(tmp_path / "p.pyarc") as archive:
        for call in [lambda: archive.writestr("x", b""), lambda: archive.add(tmp_path)]:
            with pytest.raises(ValueError, match="requires mode 'w' or 'x'"):
                call()
    with zipfile.ZipFile(tmp_path / "z.zip", "w"):
        pass
    with zipfile.ZipFile(tmp_path / "z.zip") as zipped, \
            pytest.raises(ValueError, match="requires mode"):  # zipfile's own
        zipped.writestr("x", b"")
    with pytest.raises(ValueError, match="mode"):
        archiver.ArchiveFile(tmp_path / "p.pyarc", "a")
    with pytest.raises(UsageError, match="is a directory"):
        archiver.ArchiveFile(tmp_path, "w")


def test_a_missing_member_is_a_key_error(tmp_path: Path) -> None:
    with zipfile.ZipFile(tmp_path / "z.zip", "w") as zipped, \
            archiver.ArchiveFile(tmp_path / "p.pyarc", "w", **FAST) as packed:
        for archive in (zipped, packed):
            archive.writestr("file", b"data")
            archive.writestr("dir/", b"")
    with zipfile.ZipFile(tmp_path / "z.zip") as z, archiver.ArchiveFile(tmp_path / "p.pyarc") as p:
        for archive in (z, p):
            for call in (archive.getinfo, archive.read):
                with pytest.raises(KeyError):
                    call("missing")
            with pytest.raises(KeyError):
                archive.getinfo("file/")
        assert p.getinfo("dir").filename == p.getinfo("dir/").filename == "dir/"


UNSAFE = ["../up", "/absolute", "a/../b", "./a", "a//b", "", "nul\0byte", "a/./b", ".."]


@pytest.mark.parametrize("name", UNSAFE)
def test_unsafe_names_are_refused_and_nothing_is_written(name: str, tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"data")
    path = tmp_path / "p.pyarc"
    for call in [lambda a: a.writestr(name, b"data"), lambda a: a.write(tmp_path / "f", name),
                 lambda a: a.writestr(Entry(name, Kind.FILE, 0o644, 0), b"data"),
                 lambda a: a.add(tmp_path / "f", name, recursive=False)]:
        with pytest.raises(UsageError, match="not a name an archive can hold"), \
                archiver.ArchiveFile(path, "w", **FAST) as archive:
            archive.writestr("fine", b"")
            call(archive)
        assert not path.exists()
    assert os.listdir(tmp_path) == ["f"]


def test_what_the_format_refuses_is_refused_when_given(tmp_path: Path) -> None:
    with archiver.ArchiveFile(tmp_path / "p.pyarc", "w", **FAST) as archive:
        for entry, data, message in [
                (Entry("d", Kind.DIRECTORY, 0o755, 0), b"x", "takes no data"),
                (Entry("l", Kind.SYMLINK, 0o777, 0, target=""), b"", "malformed target"),
                (Entry("h", Kind.HARDLINK, 0o644, 0, target="d"), b"", "hard link"),
                (Entry("m", Kind.FILE, 0o17777, 0), b"", "mode")]:
            with pytest.raises(UsageError, match=message):
                archive.writestr(entry, data)
        with pytest.raises(UsageError, match="takes no data"):
            archive.writestr("dir/", b"data")


def test_a_name_given_twice_is_refused_at_close(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"data")
    archive = archiver.ArchiveFile(tmp_path / "p.pyarc", "w", **FAST)
    archive.write(tmp_path / "f", "x")
    archive.writestr("x", b"other")
    with pytest.raises(UsageError, match="twice"):
        archive.close()
    assert not (tmp_path / "p.pyarc").exists()
    with pytest.raises(ValueError, match="closed"):
        archive.writestr("y", b"")


def test_an_exception_in_the_with_block_leaves_no_archive(tmp_path: Path) -> None:
    path = tmp_path / "p.pyarc"
    with pytest.raises(RuntimeError), archiver.ArchiveFile(path, "w", **FAST) as archive:
        archive.writestr("x", b"data")
        raise RuntimeError("stop")
    assert os.listdir(tmp_path) == []
    path.write_bytes(b"what was there")
    with pytest.raises(RuntimeError), archiver.ArchiveFile(path, "w", **FAST) as archive:
        archive.writestr("x", b"data")
        raise RuntimeError("stop")
    assert path.read_bytes() == b"what was there"
    assert os.listdir(tmp_path) == ["p.pyarc"]


def test_a_file_that_vanishes_before_close_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"data")
    with pytest.raises(PyarcError, match="cannot read .*f'"), \
            archiver.ArchiveFile(tmp_path / "p.pyarc", "w", **FAST) as archive:
        archive.write(tmp_path / "f", "f")
        (tmp_path / "f").unlink()
    assert os.listdir(tmp_path) == []


# -- extraction: pyarc unpack's, safe -----------------------------------------------------------


def test_extract_one_member_as_zipfile(tmp_path: Path) -> None:
    def calls(archive: Any) -> None:
        archive.writestr("a/b/c.txt", b"deep")
        archive.writestr("a/other", b"not extracted")
        archive.writestr("d/", b"")

    zipped, packed = both(tmp_path, calls)
    with zipfile.ZipFile(zipped) as z, archiver.ArchiveFile(packed) as p:
        for name in ["a/b/c.txt", "d/"]:
            assert (p.extract(name, tmp_path / "from-pyarc")
                    == z.extract(name, tmp_path / "from-zip").replace("from-zip", "from-pyarc"))
        z.extractall(tmp_path / "some-zip", members=["a/other"])
        p.extractall(tmp_path / "some-pyarc", members=[p.getinfo("a/other")])
    assert snapshot(tmp_path / "from-pyarc") == snapshot(tmp_path / "from-zip")
    assert snapshot(tmp_path / "some-pyarc") == snapshot(tmp_path / "some-zip")


def test_extract_refuses_to_overwrite_unless_forced(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    with archiver.ArchiveFile(tmp_path / "p.pyarc", "w", **FAST) as archive:
        archive.writestr("x", b"archived")
    monkeypatch.chdir(tmp_path)
    Path("x").write_bytes(b"mine")
    with archiver.ArchiveFile(tmp_path / "p.pyarc") as archive:
        with pytest.raises(ExistsError):
            archive.extract("x")
        with pytest.raises(ExistsError):
            archive.extractall()
        assert Path("x").read_bytes() == b"mine"
        assert archive.extract("x", force=True) == str(tmp_path / "x")
    assert Path("x").read_bytes() == b"archived"


def crafted(path: Path, items: list[tuple[Entry, bytes]]) -> Path:
    """An archive of exactly these entries, whatever a writer would allow (as in
    test_unpack_safety)."""
    out = io.BytesIO()
    write_archive(out, [Source(order, entry, [data] if data else None)
                        for order, (entry, data) in enumerate(items)],
                  make_encoder("store"), 4096)
    path.write_bytes(out.getvalue())
    return path


def test_extract_never_writes_outside_the_destination(tmp_path: Path, outside: Path) -> None:
    escape = Entry("escape", Kind.SYMLINK, 0o777, 0, target=os.path.relpath(outside,
                                                                            tmp_path / "dest"))
    archive_path = crafted(tmp_path / "evil.pyarc", [
        (Entry("fine", Kind.FILE, 0o644, 0, 4), b"fine"), (escape, b""),
        (Entry("escape/secret", Kind.FILE, 0o644, 0, 5), b"owned")])
    with archiver.ArchiveFile(archive_path) as archive:
        with pytest.raises(UnsafePathError):
            archive.extractall(tmp_path / "dest")
        with pytest.raises(UnsafePathError):
            archive.extract("escape", tmp_path / "dest")
        assert archive.read("escape/secret") == b"owned"  # reading is harmless
    assert (outside / "secret").read_bytes() == b"untouched"
    assert not (tmp_path / "dest" / "escape").exists()
    crafted(tmp_path / "up.pyarc", [(Entry("../up", Kind.FILE, 0o644, 0, 2), b"up")])
    with pytest.raises(FormatError, match="unsafe"):
        archiver.ArchiveFile(tmp_path / "up.pyarc")
    assert not (tmp_path / "up").exists()


# -- shutil ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("root_dir", "base_dir"), [
    ("tree", None), (".", "tree"), (".", "tree/docs"), ("tree", "docs/deep"), (None, "tree")])
def test_make_archive_stores_what_tar_and_zip_store(root_dir: str | None, base_dir: str | None,
                                                    tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    make_tree(tmp_path / "tree")
    (tmp_path / "tree" / "link").symlink_to("a.txt")
    monkeypatch.chdir(tmp_path)
    trees = {}
    for kind in ["tar", "zip", "pyarc"]:
        made = shutil.make_archive(f"out/{kind}", kind, root_dir, base_dir)
        assert made == shutil.make_archive(f"again/{kind}", kind, root_dir, base_dir,
                                           dry_run=True).replace("again", "out")
        assert Path(made).name == f"{kind}.{kind}"
        shutil.unpack_archive(made, f"unpacked-{kind}", **({"filter": "data"}
                                                          if kind == "tar" else {}))
        trees[kind] = snapshot(tmp_path / f"unpacked-{kind}")
    assert not Path("again").exists()
    assert trees["pyarc"] == trees["tar"]
    assert ({name: data for name, data in trees["pyarc"].items() if "link" not in name}
            == {name: data for name, data in trees["zip"].items() if "link" not in name})
    # (zip stores the file a symlink points to)


@pytest.mark.parametrize(("root_dir", "base_dir"), [("tree", "."), (".", "tree/docs")])
def test_make_archive_given_root_dir_as_python_3_12_gives_it(
        root_dir: str, base_dir: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Python 3.12 passes root_dir to a format that supports it, rather than chdir into it."""
    make_tree(tmp_path / "tree")
    monkeypatch.chdir(tmp_path)
    ours = shutil_formats.make_archive("out/p", base_dir, root_dir=root_dir)
    theirs = shutil._make_tarball("out/t", base_dir, compress=None,  # type: ignore[attr-defined]
                                  root_dir=root_dir)
    assert ours == theirs.replace("t.tar", "p.pyarc")
    shutil.unpack_archive(ours, "from-pyarc")
    shutil.unpack_archive(theirs, "from-tar", filter="data")
    assert snapshot(tmp_path / "from-pyarc") == snapshot(tmp_path / "from-tar")


def test_make_archive_sets_the_owner_as_tar_does(tmp_path: Path) -> None:
    make_tree(tmp_path / "tree")
    me = pwd.getpwuid(os.getuid()).pw_name
    for owner, group in [(me, None), ("no-such-user-here", None), (None, "root")]:
        tar = shutil.make_archive(str(tmp_path / "t"), "tar", tmp_path, "tree",
                                  owner=owner, group=group)
        ours = shutil.make_archive(str(tmp_path / "p"), "pyarc", tmp_path, "tree",
                                   owner=owner, group=group)
        with tarfile.open(tar) as t, archiver.ArchiveFile(ours) as p:
            assert [(m.uid, m.gid, m.uname, m.gname) for m in t.getmembers()] == [
                (i.entry.uid, i.entry.gid, i.entry.user, i.entry.group) for i in p]


def test_make_archive_logs_and_creates_the_folder_as_tar_does(tmp_path: Path) -> None:
    make_tree(tmp_path / "tree")
    logged: list[str] = []

    class Logger:
        def info(self, message: str, *args: Any) -> None:
            logged.append(message % args)

        debug = info

    messages = {}
    for kind in ["tar", "pyarc"]:
        shutil.make_archive(str(tmp_path / kind / "x"), kind, tmp_path, "tree",
                            logger=Logger())
        # (shutil says where it changes directories to for formats not given root_dir)
        messages[kind] = [message.replace(str(tmp_path / kind), "FOLDER").replace(kind, "KIND")
                          for message in logged if not message.startswith("changing")]
        logged.clear()
    assert messages["pyarc"] == messages["tar"] == ["creating FOLDER", "Creating KIND archive"]
    assert (tmp_path / "pyarc" / "x.pyarc").is_file()


def test_unpack_archive_refuses_what_is_not_a_pyarc_archive(tmp_path: Path) -> None:
    (tmp_path / "fake.pyarc").write_bytes(b"PK\x03\x04 not at all")
    with pytest.raises(shutil.ReadError, match="not a readable pyarc archive"):
        shutil.unpack_archive(tmp_path / "fake.pyarc", tmp_path / "out")
    with archiver.ArchiveFile(tmp_path / "x.pyarc", "w", **FAST) as archive:
        archive.writestr("x", b"data")
    with pytest.raises(ValueError, match="filter"):
        shutil.unpack_archive(tmp_path / "x.pyarc", tmp_path / "out", filter="data")
    shutil.unpack_archive(tmp_path / "x.pyarc", tmp_path / "out", format="pyarc")
    with pytest.raises(ExistsError):  # unlike tar and zip, which overwrite
        shutil.unpack_archive(tmp_path / "x.pyarc", tmp_path / "out")
    assert (tmp_path / "out" / "x").read_bytes() == b"data"


def run_python(code: str) -> None:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr


def test_import_archiver_registers_shutil_formats_and_imports_nothing_else() -> None:
    run_python(
        "import shutil, sys\n"
        "import archiver\n"
        "loaded = sorted(name for name in sys.modules if name.startswith('archiver.'))\n"
        "assert not loaded, loaded\n"
        "assert 'pyarc' in dict(shutil.get_archive_formats())\n"
        "assert ['.pyarc'] in [exts for _, exts, _ in shutil.get_unpack_formats()]\n"
        "assert archiver.ArchiveFile.__module__ == 'archiver.archivefile'\n")


def test_a_pyarc_format_registered_before_is_kept() -> None:
    run_python(
        "import importlib, shutil\n"
        "mine = lambda *args, **kwargs: None\n"
        "shutil.register_archive_format('pyarc', mine)\n"
        "shutil.register_unpack_format('mine', ['.pyarc'], mine)\n"
        "import archiver\n"
        "importlib.reload(archiver)\n"
        "assert shutil._ARCHIVE_FORMATS['pyarc'][0] is mine\n"
        "assert [name for name, _, _ in shutil.get_unpack_formats()].count('pyarc') == 0\n")


def test_the_format_is_registered_once_however_often_archiver_is_loaded() -> None:
    run_python(
        "import importlib, shutil\n"
        "import archiver\n"
        "first = shutil._UNPACK_FORMATS['pyarc']\n"
        "importlib.reload(archiver)\n"
        "assert shutil._UNPACK_FORMATS['pyarc'] is first\n")


def test_member_info_has_zipfiles_names(tmp_path: Path) -> None:
    with archiver.ArchiveFile(tmp_path / "p.pyarc", "w") as archive:
        archive.writestr("x", b"abc" * 1000)
    with archiver.ArchiveFile(tmp_path / "p.pyarc") as archive:
        info = archive.getinfo("x")
        with archiver.open_archive(tmp_path / "p.pyarc") as opened:
            assert info.compress_size == opened.stored_size("x") < info.file_size == 3000
        assert info.date_time == time.localtime(info.entry.mtime_ns // 10**9)[:6]
        assert isinstance(info, archiver.MemberInfo)
