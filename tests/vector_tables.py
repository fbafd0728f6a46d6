"""What the vector tests of both format versions share: the README tables of spec/vectors/*/
as expectations (each row: a vector, and for the index reader, the stream reader and unpack
either `ok` or an error class with a substring of its message), and the readers they apply."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

import archiver
import archiver.errors
from archiver.format import Entry, Kind
from archiver.reader import StreamReader
from archiver.restore import Copy


@dataclass(frozen=True)
class Outcome:
    """`ok`, or an error class with a substring of its message."""

    error: type[Exception] | None = None
    substring: str = ""

    @classmethod
    def parse(cls, cell: str) -> Outcome:
        if cell == "ok":
            return cls()
        match = re.fullmatch(r'(\w+): "(.*)"', cell)
        assert match, f"README cell not understood: {cell!r}"
        error = getattr(archiver.errors, match.group(1))
        return cls(error, match.group(2))


@dataclass(frozen=True)
class Vector:
    folder: Path
    name: str
    what: str
    open: Outcome
    test: Outcome
    unpack: Outcome

    @property
    def path(self) -> Path:
        return self.folder / self.name

    def __str__(self) -> str:
        return self.name


def read_table(folder: Path) -> list[Vector]:
    """The vectors the README of `folder` lists, with what each reader must do."""
    vectors = []
    for line in (folder / "README.md").read_text(encoding="utf-8").splitlines():
        if not re.match(r"\| `(good|bad)/", line):
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split(" | ")]
        assert len(cells) == 5, f"README row needs 5 cells: {line}"
        name, what, opened, tested, unpacked = cells
        open_outcome = Outcome.parse(opened)
        vectors.append(Vector(folder, name.strip("`"), what, open_outcome,
                              Outcome.parse(tested), open_outcome if unpacked == "as open"
                              else Outcome.parse(unpacked)))
    return vectors


def expect(outcome: Outcome, action: Callable[[], object]) -> None:
    if outcome.error is None:
        action()
        return
    with pytest.raises(archiver.PyarcError) as caught:
        action()
    assert isinstance(caught.value, outcome.error), (
        f"expected {outcome.error.__name__}, got {type(caught.value).__name__}: {caught.value}"
    )
    assert outcome.substring in str(caught.value)


def read_all(path: Path, password: bytes | None = None) -> dict[str, tuple[Entry, bytes]]:
    """Every entry with its content, through the index."""
    with archiver.open_archive(path, password=password) as opened:
        return {entry.path: (entry, opened.read(entry) if entry.kind == Kind.FILE else b"")
                for entry in opened.entries}


def streamed(stream: object, password: bytes | None = None) -> dict[str, tuple[Entry, bytes]]:
    """What the stream reader hands out, by path, with what read_all gives (a copy of an earlier
    file's data gets that data; a sparse file's extents are put in place)."""
    reader = StreamReader(stream, password=password)  # type: ignore[arg-type]
    data: dict[str, bytes] = {}
    for job, chunks in reader.deliveries():
        data[job.entry.path] = (data[chunks.source.entry.path] if isinstance(chunks, Copy)
                                else b"".join(chunks))
    assert reader.catalog is not None
    contents = {}
    for entry in reader.catalog.entries:
        content = data.get(entry.path, b"")
        if entry.extents is not None:
            whole = bytearray(entry.size)
            position = 0
            for offset, length in entry.extents:
                whole[offset:offset + length] = content[position:position + length]
                position += length
            content = bytes(whole)
        contents[entry.path] = (entry, content)
    return contents


class Pipe(io.RawIOBase):
    """A forward-only stream, like standard input."""

    def __init__(self, file: io.BufferedReader) -> None:
        self._file = file

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        data = self._file.read(min(len(buffer), 7))  # short reads, as from a pipe
        buffer[:len(data)] = data
        return len(data)
