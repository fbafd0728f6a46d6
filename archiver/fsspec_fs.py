"""A read-only fsspec file system over the entries of a pyarc archive, protocol "pyarc", in the
manner of fsspec's zip and tar file systems: registered through fsspec's entry point group
(`fsspec.specs`), so that

    fsspec.open("pyarc://data/table.csv::file://backup.pyarc")
    pandas.read_csv("pyarc://table.csv", storage_options={"fo": "backup.pyarc"})

read one entry from inside an archive that lies on any fsspec backend (a local file, memory://,
s3://...). Files are read through the archive's index, block by block (`Archive.open`), so an
entry never has to fit in memory. Needs the `fsspec` extra: pip install 'pyarc[fsspec]'.
"""

from __future__ import annotations

from typing import Any

import fsspec
from fsspec.archive import AbstractArchiveFileSystem

from archiver.encryption import Password
from archiver.format import Kind
from archiver.reader import Archive


class PyarcFileSystem(AbstractArchiveFileSystem):
    """The entries of the pyarc archive `fo` (a path or URL opened with fsspec, with
    `target_protocol` and `target_options`, or an open binary file that can seek) as a
    read-only file system; an encrypted archive needs `password`."""

    protocol = "pyarc"
    root_marker = ""
    cachable = False

    def __init__(self, fo: Any = "", mode: str = "r", target_protocol: str | None = None,
                 target_options: dict[str, Any] | None = None,
                 password: Password | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if mode != "r":
            raise ValueError("a pyarc file system is read-only: mode must be 'r'")
        if isinstance(fo, str):
            fo = fsspec.open(fo, mode="rb", protocol=target_protocol, **(target_options or {}))
        self.of = fo
        self.fo = fo.__enter__() if hasattr(fo, "__enter__") else fo  # kept open, as zip's
        self.archive = Archive(self.fo, password=password)
        self.dir_cache: dict[str, dict[str, Any]] | None = None

    @classmethod
    def _strip_protocol(cls, path: str) -> str:
        # Paths are relative to the archive's root.
        return super()._strip_protocol(path).lstrip("/")

    def close(self) -> None:
        self.archive.close()
        if hasattr(self.of, "__exit__"):
            self.of.__exit__(None, None, None)

    def _get_dirs(self) -> None:
        if self.dir_cache is not None:
            return
        entries = self.archive.entries
        self.dir_cache = {
            name: {"name": name, "size": 0, "type": "directory"}
            for name in self._all_dirnames([entry.path for entry in entries])}
        for entry in entries:
            is_dir = entry.kind == Kind.DIRECTORY
            self.dir_cache[entry.path] = {
                "name": entry.path, "type": "directory" if is_dir else "file",
                "size": self._content(entry).size, "kind": entry.kind.name.lower(),
                "mode": entry.mode, "mtime": entry.mtime_ns / 1e9,
                "target": entry.target or None}

    def _content(self, entry: Any) -> Any:
        """The entry whose data a file entry reads: a hard link's file."""
        if entry.kind == Kind.HARDLINK:
            return self.archive.entries[self.archive.number(entry.target)]
        return entry

    def _open(self, path: str, mode: str = "rb", block_size: int | None = None,
              autocommit: bool = True, cache_options: Any = None, **kwargs: Any) -> Any:
        if mode != "rb":
            raise ValueError("a pyarc file system is read-only: open files with mode 'rb'")
        path = self._strip_protocol(path)
        info = self.info(path)
        if info["type"] != "file" or info["kind"] not in ("file", "hardlink"):
            raise IsADirectoryError(path) if info["type"] == "directory" else \
                FileNotFoundError(f"{path} is a {info['kind']}, not a file")
        return self.archive.open(path)
