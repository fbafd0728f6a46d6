"""`ArchiveFile`: a pyarc archive in the manner of zipfile.ZipFile and tarfile.TarFile.

    with archiver.ArchiveFile("out.pyarc", "w") as archive:
        archive.write("notes.txt")            # a file (a folder: its entry alone, as zipfile)
        archive.add("src")                    # a tree, as `pyarc pack out.pyarc src` stores it
        archive.writestr("VERSION", b"1.0\\n")
    with archiver.ArchiveFile("out.pyarc") as archive:
        archive.namelist(), archive.read("VERSION"), archive.extractall("restore")

Writing is pack's. Nothing is written before close() (or the end of the `with` block): it
walks the trees given, and hands every member to archiver.writer in one pass, so that the
archive is what `pyarc pack` makes of the same files: similar files side by side in solid
blocks, identical contents stored once, hard links as links. Memory stays as pack's: of a path
only its name is kept until close(), which walks it and reads its data from disk; the bytes
given to writestr() are held until then (zipfile compresses them at once and keeps only the result),
so large data is better written from a file. An archive written to a path appears there only
once complete (archiver/atomic.py): an exception in the `with` block, or a close() that fails,
leaves nothing at the path, and a file already there untouched. A file that cannot be read, or
changes while it is read, is an error, as for zipfile and tarfile (`pack --strict`).

Names are those of the format (format.is_valid_path): relative, '/'-separated, without empty,
'.' or '..' components. Any other name is refused with a UsageError, where zipfile would
rewrite it quietly. As in zipfile, a directory's name ends with '/' in namelist() and
MemberInfo.filename, and a name given to writestr() that ends with '/' is a directory.

Reading goes through the index (archiver/reader.py): listing decodes no data, read() decodes
only the blocks that hold the member and checks every checksum, and extract() and extractall()
are `pyarc unpack`'s extraction (api.extract_entries, archiver/extract.py): nothing is written
outside the destination or through a symlink, and nothing is overwritten unless `force`.
"""

from __future__ import annotations

import bisect
import io
import os
import stat
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from types import TracebackType
from typing import IO

from archiver import grouping
from archiver.api import AUTO, check_block_size, extract_entries, make_encoder, write_sources
from archiver.atomic import AtomicOutput
from archiver.encryption import Password, ScryptCost
from archiver.errors import ExistsError, PyarcError, UsageError
from archiver.executors import check_workers
from archiver.format import (
    DEFAULT_BLOCK_SIZE,
    DEFAULT_UNSOLID_BLOCK_SIZE,
    Entry,
    Kind,
    entry_problem,
    is_valid_path,
)
from archiver.reader import Archive, open_archive
from archiver.sources import Found, Problems, Selection, archive_name, sources_of, user_entry
from archiver.writer import Source

__all__ = ["ArchiveFile", "EntryFilter", "MemberInfo", "member_name"]

#: Changes an entry's metadata (mode, mtime, owner, xattrs) before it is stored: add()'s filter.
EntryFilter = Callable[[Entry], Entry]
#: The modes of what writestr() stores under a name alone (tar's and pack's stdin's).
FILE_MODE, DIRECTORY_MODE = 0o644, 0o755


@dataclass(frozen=True)
class MemberInfo:
    """A member of an archive read: zipfile.ZipInfo's names for what the two share, and the
    pyarc `entry` for the rest (kind, mode, mtime_ns, owner, symlink target, ...)."""

    entry: Entry
    #: The stored bytes of its data: its share of the (solid) blocks that hold it.
    compress_size: int

    @property
    def filename(self) -> str:
        return member_name(self.entry)

    @property
    def file_size(self) -> int:
        return self.entry.size

    @property
    def date_time(self) -> tuple[int, ...]:
        """(year, month, day, hour, minute, second), local time, as zipfile gives it."""
        return tuple(time.localtime(self.entry.mtime_ns // 1_000_000_000)[:6])

    def is_dir(self) -> bool:
        return self.entry.kind == Kind.DIRECTORY


def member_name(entry: Entry) -> str:
    """An entry's name as zipfile names members: a directory's ends with '/'."""
    return entry.path + "/" if entry.kind == Kind.DIRECTORY else entry.path


@dataclass(frozen=True)
class _Given:
    """A path given to write() or add(), stored as `name`: alone, or with everything below it
    (`tree`). What is there is looked at again at close(), when it is stored."""

    name: str
    path: str
    tree: bool
    filter: EntryFilter | None


@dataclass(frozen=True)
class _Held:
    """An entry given to writestr(), with its data."""

    entry: Entry
    data: bytes


class ArchiveFile:
    """A pyarc archive opened to read ("r", the default), to write ("w": replacing any file at
    the path) or to create ("x": ExistsError if the path exists); see the module docstring.

    `file` is a path, or for writing a binary file object, which gets the archive at close()
    and is not closed (reading a file object comes with the streaming reader). For writing,
    `codec`, `preset`, `block_size`, `solid`, `jobs` and `password` (with `kdf_cost`) are
    pack's; for reading, `password` opens an encrypted archive."""

    def __init__(self, file: str | os.PathLike[str] | IO[bytes], mode: str = "r", *,
                 codec: str = AUTO, preset: int | None = None, block_size: int | None = None,
                 solid: bool = True, jobs: int = 1, password: Password | None = None,
                 kdf_cost: ScryptCost | None = None) -> None:
        if mode not in ("r", "w", "x"):
            raise ValueError(f"ArchiveFile requires mode 'r', 'w' or 'x', not {mode!r}")
        self.mode = mode
        self._closed = False
        self._fileobj: IO[bytes] | None = None
        if isinstance(file, str | os.PathLike):
            self.filename: str | None = os.fspath(file)
        else:
            self._fileobj = file
            self.filename = getattr(file, "name", None)
        if mode == "r":
            if self._fileobj is not None:
                raise UsageError("ArchiveFile reads an archive from a path, not yet from a "
                                 "file object")
            assert self.filename is not None
            self._archive: Archive = open_archive(self.filename, password=password)
            return
        self._codec, self._preset, self._solid, self._jobs = codec, preset, solid, jobs
        self._password, self._kdf_cost = password, kdf_cost
        self._encoder = make_encoder(codec, preset=preset)
        if block_size is None:
            block_size = DEFAULT_BLOCK_SIZE if solid else DEFAULT_UNSOLID_BLOCK_SIZE
        check_block_size(block_size)
        self._block_size = block_size
        check_workers(None, jobs)
        if self._fileobj is None:
            assert self.filename is not None
            if os.path.isdir(self.filename):
                raise UsageError(f"the archive {self.filename!r} is a directory")
            if mode == "x" and os.path.lexists(self.filename):
                raise ExistsError(f"refusing to overwrite existing {self.filename!r} "
                                  f"(mode 'x'; 'w' replaces it)")
        self._items: list[_Given | _Held] = []

    # -- writing ---------------------------------------------------------------------------

    def write(self, filename: str | os.PathLike[str], arcname: str | None = None) -> None:
        """Add the file, symlink or FIFO at `filename` (a directory: its entry alone, as
        zipfile does; add() takes a tree), stored under `arcname`, by default the name pack
        gives the path. Its data is read at close()."""
        self._check_writing("write")
        self._items.append(_given(os.fspath(filename), arcname, tree=False))

    def add(self, name: str | os.PathLike[str], arcname: str | None = None,
            recursive: bool = True, *, filter: EntryFilter | None = None) -> None:
        """Add the path `name` and, if it is a directory and `recursive`, everything below it,
        walked at close(): the entries `pyarc pack ARCHIVE name` stores, with `name` stored as
        `arcname` (by default as pack names it; '' stores a directory's contents alone, as
        pack does with '.'). `filter`, as tarfile's, is given each entry and returns it as it
        is to be stored: with another mode, mtime, owner or xattrs, but the same name, kind,
        size and target (unlike tarfile's, it cannot leave an entry out)."""
        self._check_writing("add")
        self._items.append(_given(os.fspath(name), arcname, tree=recursive, filter=filter))

    def writestr(self, name_or_info: str | MemberInfo | Entry, data: bytes | str) -> None:
        """Add `data` (str: its UTF-8) as a file named `name_or_info` (a name ending with '/':
        a directory, without data), or as the entry of a MemberInfo or Entry, which keeps its
        mode, mtime and owner (a directory, symlink or FIFO takes no data). A file of a name
        alone is owned by the user, dated now, with mode 0644 (directories 0755). The bytes
        are held until close()."""
        self._check_writing("writestr")
        content = data.encode() if isinstance(data, str) else bytes(data)
        if isinstance(name_or_info, str):
            is_dir = name_or_info.endswith("/")
            path = _stored_name(name_or_info)
            entry = (user_entry(path, Kind.DIRECTORY, DIRECTORY_MODE) if is_dir
                     else user_entry(path, Kind.FILE, FILE_MODE, len(content)))
        else:
            given = name_or_info.entry if isinstance(name_or_info, MemberInfo) else name_or_info
            entry = _held_entry(given, content)
        if content and entry.kind != Kind.FILE:
            raise UsageError(f"{member_name(entry)!r} is a {entry.kind.name.lower()}: it takes "
                             f"no data")
        self._items.append(_Held(entry, content))

    def _check_writing(self, method: str) -> None:
        self._check_open()
        if self.mode == "r":
            raise ValueError(f"{method}() requires mode 'w' or 'x'")

    def _write(self) -> None:
        """Write the archive of every member given, to the file object or atomically to the
        path."""
        if self._fileobj is not None:
            self._write_to(self._fileobj, _identities(self._fileobj))
            return
        assert self.filename is not None
        skip = _identities(self.filename)  # a file there now, to be replaced
        output = AtomicOutput(self.filename, force=self.mode == "w")
        skip |= _identities(output.file)
        try:
            self._write_to(output.file, skip)
            output.commit()
        except OSError as error:
            output.discard()
            raise PyarcError(f"cannot write {self.filename!r}: "
                             f"{error.strerror or error}") from None
        except BaseException:
            output.discard()
            raise

    def _write_to(self, out: IO[bytes], skip: set[tuple[int, int]]) -> None:
        write_sources(out, self._sources(skip), self._encoder, self._block_size,
                      codec=self._codec, registry=None, auto_codecs=None, preset=self._preset,
                      solid=self._solid, jobs=self._jobs, password=self._password,
                      kdf_cost=self._kdf_cost)

    def _sources(self, skip: set[tuple[int, int]]) -> Iterator[Source]:
        """Every member as a source for the writer, in the order of their data: the paths as
        pack has them (sources_of, which puts the data of all of them in its order), then the
        bytes held. Members are numbered in the order they were given; the paths below the
        archive being written (`skip`) are left out, and a name given twice is an error."""
        problems = Problems(strict=True)
        names: set[str] = set()
        starts: list[int] = []  # the number of each item's first member
        held: list[tuple[int, _Held]] = []

        def named(name: str) -> None:
            if name in names:
                raise UsageError(f"{name!r} is in the archive twice: give it once")
            names.add(name)

        def numbered() -> Iterator[tuple[int, Found]]:
            order = 0
            for item in self._items:
                starts.append(order)
                if isinstance(item, _Held):
                    named(item.entry.path)
                    held.append((order, item))
                    order += 1
                    continue
                info = _lstat(item.path)
                if (info.st_dev, info.st_ino) in skip:
                    raise UsageError(f"refusing to write {item.path!r} into itself: it is the "
                                     f"archive being written")
                found: Iterable[Found] = [(item.name, item.path, info)]
                if item.tree:
                    found = Selection([item.path], names=[item.name]).walk(problems, skip)
                for path_found in found:
                    named(path_found[0])
                    yield order, path_found
                    order += 1

        for source in sources_of(numbered(), self._block_size, problems):
            item = self._items[bisect.bisect_right(starts, source.order) - 1]
            assert isinstance(item, _Given)
            yield (source if item.filter is None
                   else replace(source, entry=_filtered(item.filter, source.entry)))
        # sources_of has been through numbered(): `held` is complete.
        yield from _held_sources(held, self._block_size)

    # -- reading ---------------------------------------------------------------------------

    def namelist(self) -> list[str]:
        """The members' names, in archive order (directories with a trailing '/')."""
        self._check_reading("namelist")
        return [member_name(entry) for entry in self._archive.entries]

    def infolist(self) -> list[MemberInfo]:
        self._check_reading("infolist")
        return [self._info(entry) for entry in self._archive.entries]

    def getinfo(self, name: str) -> MemberInfo:
        """The member named `name` (a directory's with or without its '/'); KeyError if there
        is none, as zipfile."""
        return self._info(self._entry(name, "getinfo"))

    def __iter__(self) -> Iterator[MemberInfo]:
        return iter(self.infolist())

    def read(self, member: str | MemberInfo) -> bytes:
        """The content of a file (a hard link: its file's), every checksum verified, and the
        frames that describe it checked against the index, as unpack does; b'' for other
        kinds (a symlink's target is `getinfo(name).entry.target`)."""
        entry = self._entry(member, "read")
        self._archive.verify([entry])
        return self._archive.read(entry)

    def open(self, member: str | MemberInfo) -> IO[bytes]:
        """The content of a member as a binary file, read and verified block by block
        (Archive.open), its frames checked against the index first, as read() does; an empty
        file for other kinds, as read()'s b''."""
        entry = self._entry(member, "open")
        if entry.kind not in (Kind.FILE, Kind.HARDLINK):
            return io.BytesIO(b"")
        self._archive.verify([entry])
        return self._archive.open(entry)

    def extract(self, member: str | MemberInfo, path: str | os.PathLike[str] | None = None,
                *, force: bool = False) -> str:
        """Extract one member (a directory: its entry alone, as zipfile) into `path` (default:
        the current directory) as `pyarc unpack` would; returns the path written."""
        entry = self._entry(member, "extract")
        dest = os.getcwd() if path is None else os.fspath(path)
        written: list[Entry] = []
        extract_entries(self._archive, [self._archive.number(entry)], dest, force=force,
                        on_entry=written.append)
        return os.path.join(dest, written[0].path)

    def extractall(self, path: str | os.PathLike[str] | None = None,
                   members: Iterable[str | MemberInfo] | None = None, *,
                   force: bool = False) -> None:
        """Extract every member (or exactly `members`) into `path` (default: the current
        directory) as `pyarc unpack` does: each file verified before it is renamed into
        place, nothing outside `path` or through a symlink, no file overwritten unless
        `force`."""
        self._check_reading("extractall")
        numbers: Iterable[int] = range(len(self._archive.entries))
        if members is not None:
            numbers = [self._archive.number(self._entry(member, "extractall"))
                       for member in members]
        extract_entries(self._archive, numbers, os.getcwd() if path is None else path,
                        force=force)

    def _entry(self, member: str | MemberInfo, method: str) -> Entry:
        self._check_reading(method)
        name = member.filename if isinstance(member, MemberInfo) else member
        path = name[:-1] if name.endswith("/") else name
        try:
            entry = self._archive.entries[self._archive.number(path)]
        except PyarcError:
            raise KeyError(f"there is no member named {name!r} in the archive") from None
        if name.endswith("/") and entry.kind != Kind.DIRECTORY:
            raise KeyError(f"there is no member named {name!r} in the archive")
        return entry

    def _info(self, entry: Entry) -> MemberInfo:
        return MemberInfo(entry, self._archive.stored_size(entry))

    def _check_reading(self, method: str) -> None:
        self._check_open()
        if self.mode != "r":
            raise ValueError(f"{method}() requires mode 'r'")

    # -- closing ---------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise ValueError("attempt to use a pyarc archive that was already closed")

    def close(self) -> None:
        """Write the archive (modes 'w' and 'x'), or let the archive file go (mode 'r'). Once
        closed, whatever happened, an ArchiveFile is closed for good."""
        if self._closed:
            return
        self._closed = True
        if self.mode == "r":
            self._archive.close()
        else:
            self._write()

    def __enter__(self) -> ArchiveFile:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc_type is not None and self.mode != "r":
            self._closed = True  # an archive the block did not finish is not written
            return
        self.close()


def _given(path: str, arcname: str | None, tree: bool,
           filter: EntryFilter | None = None) -> _Given:
    """A path to store under `arcname` (by default the name pack gives it), which must exist
    now: what can be refused before close() is refused here."""
    info = _lstat(path)
    name = _stored_name(archive_name(path) if arcname is None else arcname, contents=tree)
    if not name and not stat.S_ISDIR(info.st_mode):
        raise UsageError(f"{path!r} is not a directory: it needs a name in the archive")
    return _Given(name, path, tree, filter)


def _lstat(path: str) -> os.stat_result:
    try:
        return os.lstat(path)
    except OSError as error:
        raise PyarcError(f"cannot read {path!r}: {error.strerror}") from None


def _stored_name(name: str, contents: bool = False) -> str:
    """An arcname as the archive stores it: without the trailing '/' a directory may be given
    with; refused unless the format allows it ('' too, if `contents`)."""
    stored = name[:-1] if name.endswith("/") else name
    if not (contents and stored == ""):
        _check_name(stored)
    return stored


def _check_name(name: str) -> None:
    if not is_valid_path(os.fsencode(name)):
        raise UsageError(f"{name!r} is not a name an archive can hold: a relative path "
                         f"with '/' between its parts, none of them empty, '.' or '..'")


def _held_entry(given: Entry, content: bytes) -> Entry:
    """The entry writestr() stores for an entry given with its data: a file takes the data's
    size (and no holes); anything else must be a valid entry of a kind that takes no data."""
    _check_name(given.path)
    if given.kind == Kind.HARDLINK:
        raise UsageError(f"{given.path!r} is a hard link: write its file's data under its "
                         f"name instead")
    entry = replace(given, size=len(content), extents=None) if given.kind == Kind.FILE else given
    problem = _problem(entry)
    if problem is not None:
        raise UsageError(problem)
    return entry


def _problem(entry: Entry) -> str | None:
    """What the format finds wrong with an entry (format.entry_problem), or None."""
    return entry_problem(entry.kind, entry.mode, entry.size, os.fsencode(entry.path),
                         os.fsencode(entry.target), extents=entry.extents,
                         xattr_names=tuple(os.fsencode(name) for name, _ in entry.xattrs),
                         xattr_sizes=tuple(len(value) for _, value in entry.xattrs))


def _filtered(entry_filter: EntryFilter, entry: Entry) -> Entry:
    """An entry as add()'s filter changes it: its metadata only, and still valid."""
    changed = entry_filter(entry)
    if not isinstance(changed, Entry):
        raise UsageError(f"add()'s filter gave {changed!r} for {entry.path!r}, not an Entry "
                         f"(it changes entries; it does not leave them out)")
    kept = ("path", "kind", "size", "target", "extents")
    if any(getattr(changed, field) != getattr(entry, field) for field in kept):
        raise UsageError(f"add()'s filter changed the name, kind, size or target of "
                         f"{entry.path!r}: it may change the mode, mtime, owner and xattrs")
    problem = _problem(changed)
    if problem is not None:
        raise UsageError(f"add()'s filter: {problem}")
    return changed


def _held_sources(held: list[tuple[int, _Held]], block_size: int) -> Iterator[Source]:
    """The entries given to writestr() as sources, their data in the order pack gives files
    (by kind group, then side by side by name: archiver/grouping.py), identical data stored
    once."""
    kinds = {order: grouping.kind_of(item.entry.path, item.data[:grouping.HEAD_SIZE])
             for order, item in held}
    first: dict[bytes, int] = {}  # data -> the member that stores it
    for order, item in sorted(held, key=lambda pair: (
            grouping.data_order(pair[1].entry.path, kinds[pair[0]]), pair[0])):
        if item.data in first:
            yield Source(order, item.entry, same_as=first[item.data])
            continue
        if item.data:
            first[item.data] = order
        yield Source(order, item.entry, _blocks(item.data, block_size),
                     grouping.group_of(kinds[order]))


def _blocks(data: bytes, block_size: int) -> Iterator[bytes]:
    view = memoryview(data)
    for start in range(0, len(data), block_size):
        yield bytes(view[start:start + block_size])


def _identities(where: str | IO[bytes]) -> set[tuple[int, int]]:
    """The (device, inode) of the regular file at a path or behind a file object, if any: the
    archive, which is never packed into itself."""
    try:
        info = os.stat(where) if isinstance(where, str) else os.fstat(where.fileno())
    except (OSError, AttributeError, ValueError, io.UnsupportedOperation):
        return set()
    return {(info.st_dev, info.st_ino)} if stat.S_ISREG(info.st_mode) else set()

