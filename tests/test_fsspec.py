"""The fsspec file system over an archive (archiver/fsspec_fs.py), next to fsspec's own zip
file system on the same tree: the same listings, infos and bytes, over a local archive and one
on memory://, through chained URLs and storage_options; an archive read from any seekable
binary file; and errors."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

import archiver
from archiver import api
from archiver.errors import FormatError, UsageError

fsspec = pytest.importorskip("fsspec", reason="the fsspec extra: pip install 'pyarc[fsspec]'")

CSV = b"name,size\n" + b"".join(b"file%d,%d\n" % (n, n * 37) for n in range(5000))


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "data"
    (root / "tables").mkdir(parents=True)
    (root / "empty-dir").mkdir()
    (root / "tables" / "table.csv").write_bytes(CSV)
    (root / "notes.txt").write_bytes(b"first line\nsecond line\n" * 100)
    (root / "blob.bin").write_bytes(bytes(range(256)) * 1000)
    return root


@pytest.fixture
def archive(tree: Path, tmp_path: Path) -> Path:
    path = tmp_path / "backup.pyarc"
    api.pack([tree], path, block_size=64 << 10)  # several blocks
    return path


@pytest.fixture
def zipped(tree: Path, tmp_path: Path) -> Path:
    path = tmp_path / "backup.zip"
    with zipfile.ZipFile(path, "w") as out:
        for file in sorted(tree.rglob("*")):
            out.write(file, file.relative_to(tree.parent).as_posix())
    return path


def test_the_protocol_is_registered() -> None:
    from archiver.fsspec_fs import PyarcFileSystem

    assert fsspec.get_filesystem_class("pyarc") is PyarcFileSystem


def test_listings_and_bytes_are_those_of_the_zip_file_system(archive: Path,
                                                              zipped: Path) -> None:
    ours = fsspec.filesystem("pyarc", fo=str(archive))
    theirs = fsspec.filesystem("zip", fo=str(zipped))
    for path in ("", "data", "data/tables"):
        assert ours.ls(path, detail=False) == theirs.ls(path, detail=False)
    assert sorted(ours.find("")) == sorted(theirs.find(""))
    for path in theirs.find(""):
        assert ours.info(path)["size"] == theirs.info(path)["size"]
        assert ours.info(path)["type"] == theirs.info(path)["type"]
        assert ours.cat_file(path) == theirs.cat_file(path)
    assert ours.isdir("data/empty-dir") and not ours.exists("data/missing")
    with pytest.raises(FileNotFoundError):
        ours.open("data/missing")
    with pytest.raises(IsADirectoryError):
        ours.open("data/tables")


def test_chained_urls_and_storage_options(archive: Path) -> None:
    with fsspec.open(f"pyarc://data/tables/table.csv::file://{archive}") as file:
        assert file.read() == CSV
    with fsspec.open("pyarc://data/notes.txt", "rt", fo=str(archive)) as text:
        assert text.readline() == "first line\n"


def test_an_archive_on_another_backend(archive: Path) -> None:
    memory = fsspec.filesystem("memory")
    memory.pipe("/backups/backup.pyarc", archive.read_bytes())
    with fsspec.open("pyarc://data/blob.bin::memory://backups/backup.pyarc") as file:
        file.seek(1000)
        assert file.read(10) == (bytes(range(256)) * 1000)[1000:1010]
    memory.rm("/backups/backup.pyarc")


def test_pandas_reads_an_entry(archive: Path) -> None:
    pandas = pytest.importorskip("pandas", reason="pandas is not installed")
    frame = pandas.read_csv("pyarc://data/tables/table.csv",
                            storage_options={"fo": str(archive)})
    assert len(frame) == 5000 and frame["size"].iloc[-1] == 4999 * 37


def test_an_encrypted_archive_needs_its_password(tree: Path, tmp_path: Path) -> None:
    pytest.importorskip("cryptography", reason="encryption needs the cryptography package")
    from archiver.encryption import ScryptCost

    path = tmp_path / "secret.pyarc"
    api.pack([tree], path, password="pw", kdf_cost=ScryptCost(4, 8, 1))
    with fsspec.open("pyarc://data/notes.txt", fo=str(path), password="pw") as file:
        assert file.read(10) == b"first line"
    with pytest.raises(archiver.PasswordNeededError):
        fsspec.filesystem("pyarc", fo=str(path))


def test_it_is_read_only(archive: Path) -> None:
    with pytest.raises(ValueError, match="read-only"):
        fsspec.filesystem("pyarc", fo=str(archive), mode="w")
    system = fsspec.filesystem("pyarc", fo=str(archive))
    with pytest.raises(ValueError, match="read-only"):
        system.open("data/notes.txt", "wb")


def test_open_archive_reads_a_binary_file_object(archive: Path) -> None:
    blob = archive.read_bytes()
    with archiver.open_archive(io.BytesIO(blob)) as opened:
        assert opened.read("data/tables/table.csv") == CSV
    damaged = bytearray(blob)
    damaged[-30] ^= 1  # in the index's frame or the footer
    with pytest.raises(FormatError):
        archiver.open_archive(io.BytesIO(bytes(damaged)))

    class Pipe(io.RawIOBase):
        def readable(self) -> bool:
            return True

    with pytest.raises(UsageError, match="seek"):
        archiver.open_archive(Pipe())  # type: ignore[arg-type]
