"""Turning the paths given to `pack` into archive entries and their data.

Names in the archive are the paths as given, normalised (`./a//b/` is stored as `a/b`). A path
that is absolute or climbs out with `..` is stored under its last component, and `.` stands
for its contents. Trees are walked in sorted order, so the same tree always gives the same
archive; symlinks are stored as symlinks, or followed with `dereference` (-L).

What each entry records besides its name, mode and mtime:

- its owner, for every kind: the uid and gid, and their user and group names (looked up once
  per id; '' for an id without a name), so that an unpack can restore by name or by id;
- a regular file with several links (st_nlink > 1) whose inode the walk already stored under
  another name is a HARDLINK entry naming that first name (archive order), without data; a
  link whose first name was left out (excluded, unreadable) is stored as the file instead;
- a FIFO is a FIFO entry; sockets and devices are left out with a notice;
- a sparse file (fewer blocks allocated than its size) records its data extents, found with
  SEEK_DATA and SEEK_HOLE on the open file, and only those bytes are read and stored: its
  data iterator yields `entry.data_size` bytes, the extents one after the other;
- with `xattrs`, its extended attributes, all namespaces the reader may see (never following
  a symlink, unless -L).

Reading is defensive, as tar's is, because a tree may change while it is packed:

- every path given must exist when the pack starts (a typo is an error before anything is
  written); below them, a file that vanishes, cannot be read or is replaced by something else
  is a *problem*: it is warned about, left out, and the pack goes on;
- a file is opened (never following a symlink put in its place, never blocking on a FIFO put
  in its place) before its entry is made, and its entry takes the size, mtime, owner, extents
  and extended attributes of what was opened;
- a file is read to its end: one that grew is stored with its first `size` bytes, one that
  shrank (or failed to read part-way) is padded with zeros to its size, and one whose size,
  mtime or extents differ after reading was changed while it was read. Each of these is a
  problem too: the archive stays consistent, and says what it holds;
- an extended attribute that cannot be read is a problem, and left out.

`Problems` collects them: the CLI then exits 1 with the archive complete for what it holds
(like tar's "file changed as we read it"), and `strict` turns the first into an error instead.
Leaving out a socket, a device or the archive being written is no problem: a notice only.

Standard input (`pack ARCHIVE -`) is one regular file entry of the name given (default
`stdin`; in the API, None for the unnamed entry of a single-stream archive), mode 0644, owned
by the user packing, with the time of the pack as its mtime; its data is read block by block
until the stream ends (`stream_source`), or first copied to a temporary file when the archive
goes to an output that cannot seek (`spooled_source`).
"""

from __future__ import annotations

import errno
import functools
import grp
import itertools
import os
import pwd
import shutil
import stat
import tempfile
import time
import warnings
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Any, BinaryIO

import pathspec
import xxhash

from archiver import grouping
from archiver.errors import PyarcError, UsageError
from archiver.format import Entry, Kind, is_valid_path
from archiver.writer import Source

#: A path found by the walk: its name in the archive, its path on disk, and its stat.
Found = tuple[str, str, os.stat_result]
#: The mode of the entry standard input becomes.
STDIN_MODE = 0o644


class SkippedFileWarning(UserWarning):
    """A path was left out on purpose (a socket, a device, the archive itself)."""


class InputProblemWarning(UserWarning):
    """An input could not be packed as it was on disk (unreadable, vanished, changed)."""


class Problems:
    """The problems met while packing: each is warned about as it happens; with `strict` the
    first is an error instead (the pack then writes no archive)."""

    def __init__(self, strict: bool = False) -> None:
        self.strict = strict
        self.messages: list[str] = []

    def report(self, message: str) -> None:
        if self.strict:
            raise PyarcError(f"{message} (--strict)")
        self.messages.append(message)
        warnings.warn(message, InputProblemWarning, stacklevel=2)


def archive_name(path: str) -> str:
    """The name under which a path given on the command line is stored ('' for its contents)."""
    normal = os.path.normpath(path).replace(os.sep, "/")
    if normal == ".":
        return ""
    if os.path.isabs(normal) or normal == ".." or normal.startswith("../"):
        return os.path.basename(os.path.abspath(path))
    return normal


def _reason(error: OSError) -> str:
    return error.strerror or str(error)


def _user_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return ""


def _group_name(gid: int) -> str:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return ""


class _Metadata:
    """What every entry records besides its kind, mode and mtime: its owner (ids, and their
    names looked up once per id) and, with `xattrs`, its extended attributes."""

    def __init__(self, xattrs: bool, follow: bool, problems: Problems) -> None:
        self.xattrs = xattrs
        self.follow = follow
        self.problems = problems
        self.user = functools.cache(_user_name)
        self.group = functools.cache(_group_name)

    def of(self, where: int | str, path: str, info: os.stat_result) -> dict[str, Any]:
        """The Entry fields of what `info` describes: `where` is its open fd, or its `path`."""
        return dict(uid=info.st_uid, gid=info.st_gid, user=self.user(info.st_uid),
                    group=self.group(info.st_gid),
                    xattrs=self.read_xattrs(where, path) if self.xattrs else ())

    def read_xattrs(self, where: int | str, path: str) -> tuple[tuple[str, bytes], ...]:
        """The extended attributes, sorted by name (as bytes); one that cannot be read is a
        problem, and left out."""
        follow = self.follow or isinstance(where, int)  # an fd is the file itself
        try:
            names = os.listxattr(where, follow_symlinks=follow)
        except OSError as error:
            if error.errno == errno.ENOTSUP:  # a file system without extended attributes
                return ()
            self.problems.report(f"cannot list the extended attributes of {path!r}: "
                                 f"{_reason(error)}; they are not packed")
            return ()
        found = []
        for name in sorted(names, key=os.fsencode):
            try:
                found.append((name, os.getxattr(where, name, follow_symlinks=follow)))
            except OSError as error:
                if error.errno == errno.ENODATA:  # removed since it was listed
                    continue
                self.problems.report(f"cannot read extended attribute {name!r} of {path!r}: "
                                     f"{_reason(error)}; it is not packed")
        return tuple(found)


def _entry_for(name: str, path: str, info: os.stat_result, metadata: _Metadata) -> Entry | None:
    """The entry of a directory, symlink or FIFO; None (with a notice) for what pyarc cannot
    store."""
    mode = stat.S_IMODE(info.st_mode)
    if stat.S_ISDIR(info.st_mode):
        kind, target = Kind.DIRECTORY, ""
    elif stat.S_ISLNK(info.st_mode):
        try:
            kind, target = Kind.SYMLINK, os.readlink(path)
        except OSError as error:
            metadata.problems.report(f"cannot read symlink {path!r}: {_reason(error)}; skipped")
            return None
    elif stat.S_ISFIFO(info.st_mode):
        kind, target = Kind.FIFO, ""
    else:
        warnings.warn(f"skipping {path!r}: not a regular file, directory, symlink or FIFO",
                      SkippedFileWarning, stacklevel=2)
        return None
    return Entry(name, kind, mode, info.st_mtime_ns, target=target,
                 **metadata.of(path, path, info))


class Selection:
    """What `pack` is asked to pack: the paths given, the `exclude` patterns (gitignore-style,
    matched against archive names; a directory matched is not entered), `dereference`
    (follow symlinks, -L) and `xattrs` (record extended attributes). Creating one checks the
    paths and patterns. Each path is stored under `archive_name(path)`, or under the name
    `names` gives it (ArchiveFile.add's arcname; '' for a folder's contents)."""

    def __init__(self, paths: Sequence[str], exclude: Sequence[str] = (),
                 dereference: bool = False, xattrs: bool = False,
                 names: Sequence[str] | None = None) -> None:
        if not paths:
            raise UsageError("nothing to pack: give at least one path")
        self.paths = list(paths)
        self.dereference = dereference
        self.xattrs = xattrs
        self._stat = os.stat if dereference else os.lstat
        try:
            self._exclude = pathspec.GitIgnoreSpec.from_lines(exclude)
        except (ValueError, TypeError) as error:
            raise UsageError(f"--exclude: {error}") from None
        self._operands: list[tuple[str, str, os.stat_result]] = []
        named: dict[str, tuple[str, tuple[int, int]]] = {}
        for number, path in enumerate(self.paths):
            try:
                info = self._stat(path)
            except OSError as error:
                raise PyarcError(f"cannot read {path!r}: {_reason(error)}") from None
            name = archive_name(path) if names is None else names[number]
            identity = (info.st_dev, info.st_ino)
            first = named.setdefault(name, (path, identity))
            if first[1] != identity:
                raise UsageError(f"{path!r} and {first[0]!r} would both be stored as {name!r}; "
                                 f"pack them from a common parent folder")
            self._operands.append((name, path, info))

    def refuse(self, identities: set[tuple[int, int]], archive: str) -> None:
        """An error if a path given is the archive itself (it would be destroyed)."""
        for _, path, info in self._operands:
            if (info.st_dev, info.st_ino) in identities:
                raise UsageError(f"refusing to pack {path!r} into itself: it is the archive "
                                 f"{archive!r} (name the archive first: pyarc pack ARCHIVE "
                                 f"PATH...)")

    def excluded(self, name: str, is_dir: bool) -> bool:
        return bool(name) and self._exclude.match_file(name + "/" if is_dir else name)

    def total_size(self) -> int:
        """The bytes of all regular files to pack, for a progress bar (a walk without notices)."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return sum(info.st_size for _, _, info in self.walk(Problems())
                       if stat.S_ISREG(info.st_mode))

    def walk(self, problems: Problems,
             skip: set[tuple[int, int]] | frozenset[tuple[int, int]] = frozenset()
             ) -> Iterator[Found]:
        """Every path to pack, each once, in archive order: the paths given and everything
        below them, without what is excluded or in `skip` (device and inode: the archive)."""
        seen: dict[str, tuple[str, int, int]] = {}  # name -> (path, device, inode)

        def visit(name: str, path: str, info: os.stat_result,
                  ancestors: frozenset[tuple[int, int]]) -> Iterator[Found]:
            identity = (info.st_dev, info.st_ino)
            is_dir = stat.S_ISDIR(info.st_mode)
            if identity in skip:
                warnings.warn(f"skipping {path!r}: it is the archive being written",
                              SkippedFileWarning, stacklevel=2)
                return
            if self.excluded(name, is_dir):
                return
            if name in seen:
                first, device, inode = seen[name]
                if (device, inode) != identity:
                    raise UsageError(f"{path!r} and {first!r} would both be stored as "
                                     f"{name!r}; pack them from a common parent folder")
                return
            if name:
                seen[name] = (path, *identity)
                yield name, path, info
            if not is_dir:
                return
            if identity in ancestors:  # only with -L: a symlink back up the tree
                problems.report(f"{path!r} leads back to a folder above it (a symlink loop); "
                                f"its contents are not packed again")
                return
            try:
                children = sorted(os.scandir(path), key=lambda child: child.name)
            except OSError as error:
                problems.report(f"cannot list {path!r}: {_reason(error)}; its contents are "
                                f"not packed")
                return
            inside = ancestors | {identity}
            for child in children:
                child_name = f"{name}/{child.name}" if name else child.name
                try:
                    child_info = self._stat(child.path)
                except FileNotFoundError:
                    broken = self.dereference and os.path.islink(child.path)
                    problems.report(f"{child.path!r} is a broken symlink; skipped" if broken
                                    else f"{child.path!r} vanished while packing; skipped")
                    continue
                except OSError as error:
                    problems.report(f"cannot read {child.path!r}: {_reason(error)}; skipped")
                    continue
                yield from visit(child_name, child.path, child_info, inside)

        for name, path, info in self._operands:
            yield from visit(name, path, info, frozenset())

    def sources(self, block_size: int, problems: Problems,
                skip: set[tuple[int, int]] | frozenset[tuple[int, int]] = frozenset()
                ) -> Iterator[Source]:
        """What to pack, for the writer: the sources of the walk (sources_of), numbered in
        archive order."""
        return sources_of(enumerate(self.walk(problems, skip)), block_size, problems,
                          dereference=self.dereference, xattrs=self.xattrs)


def sources_of(numbered: Iterable[tuple[int, Found]], block_size: int, problems: Problems, *,
               dereference: bool = False, xattrs: bool = False) -> Iterator[Source]:
    """The paths found (each `numbered` with its place in the archive order) as sources for
    the writer (archiver/writer.py): first the entries without data (directories, symlinks,
    FIFOs), then the regular files in the order their data takes in the archive, each with its
    data in chunks of at most `block_size`, a file whose contents equal an earlier one's (size,
    then hash, then every byte) as a copy of it, and last the hard links to the files stored."""
    metadata = _Metadata(xattrs, dereference, problems)
    files: list[_Found] = []
    links: list[tuple[_Found, os.stat_result]] = []  # rare: they keep their whole stat
    first: set[tuple[int, int]] = set()  # the inodes with several names, seen once
    for order, (name, path, info) in numbered:
        if not stat.S_ISREG(info.st_mode):
            entry = _entry_for(name, path, info, metadata)
            if entry is not None:
                yield Source(order, entry)
            continue
        found = _Found.of(order, name, path, info)
        if info.st_nlink > 1 and found.identity in first:
            links.append((found, info))
            continue
        if info.st_nlink > 1:
            first.add(found.identity)
        files.append(found)
    stored: dict[tuple[int, int], str] = {}  # (device, inode) -> the name stored
    linked = {found.order: found.identity for found in files if found.identity in first}
    for source in _deduplicated(files, block_size, metadata):
        yield source
        if source.order in linked:
            stored.setdefault(linked[source.order], source.entry.path)
    for found, info in links:
        if found.identity in stored:
            yield Source(found.order, Entry(
                found.name, Kind.HARDLINK, stat.S_IMODE(info.st_mode), info.st_mtime_ns,
                target=stored[found.identity], **metadata.of(found.path, found.path, info)))
            continue
        # Its first name was left out (unreadable, vanished): this one is stored instead.
        for source in _deduplicated([found], block_size, metadata):
            yield source
            stored[found.identity] = source.entry.path


@dataclass(frozen=True, slots=True)
class _Found:
    """A regular file the walk found: its place in the archive order, its name in the
    archive, its path, and what lstat (or stat, with -L) said of it that packing needs.
    Only these few fields are kept (not the whole os.stat_result, six times their size):
    a tree of a million files holds a million of them until its data is packed."""

    order: int
    name: str
    path: str
    size: int
    sparse: bool  # fewer blocks on disk than its size needs: it has holes
    device: int
    inode: int

    @classmethod
    def of(cls, order: int, name: str, path: str, info: os.stat_result) -> _Found:
        return cls(order, name, path, info.st_size, info.st_blocks * 512 < info.st_size,
                   info.st_dev, info.st_ino)

    @property
    def identity(self) -> tuple[int, int]:
        return self.device, self.inode


def _deduplicated(files: list[_Found], block_size: int,
                  metadata: _Metadata) -> Iterator[Source]:
    """The files as sources in data order (archiver/grouping.py: by kind group, then a module's
    files side by side), a file with the same contents as an earlier one right after it and as
    a copy of it.

    The first HEAD_SIZE bytes of every file are read for its kind. Only files that share their
    size with another one can be equal; those are hashed first (xxh3-128), and a candidate is
    a copy only if, when its turn comes, its bytes equal those of the file it would copy, which
    must still hash as what was stored (a file that changed in between is stored on its own).
    Sparse files are stored on their own: a copy shares the data of its original exactly,
    extents included.
    """
    follow = metadata.follow
    kinds = {found.order: grouping.kind_of(found.name, _head(found.path, follow))
             for found in files}
    files = sorted(files, key=lambda found: (grouping.data_order(found.name,
                                                                 kinds[found.order]),
                                             found.order))
    sizes = Counter(found.size for found in files)
    twins: dict[tuple[int, bytes], list[_Found]] = {}  # (size, hash) -> files, in data order
    key_of: dict[int, tuple[int, bytes]] = {}  # order -> its key in twins
    for found in files:
        if found.size and sizes[found.size] > 1 and not found.sparse:
            digest = _digest(found.path, follow)
            if digest is not None:
                key = (found.size, digest)
                twins.setdefault(key, []).append(found)
                key_of[found.order] = key
    placed: set[int] = set()
    for found in files:
        if found.order in placed:
            continue
        members = twins[key_of[found.order]] if found.order in key_of else [found]
        original: tuple[_Found, bytes] | None = None  # the first stored, and its hash
        group = grouping.group_of(kinds[found.order])
        for member in members:
            placed.add(member.order)
            opened = _open_entry(member, metadata)
            if opened is None:
                continue
            entry, file = opened
            if (original is not None and entry.extents is None
                    and _same_contents(member, original, follow)):
                file.close()
                yield Source(member.order, entry, same_as=original[0].order)
                continue
            hasher = xxhash.xxh3_128()
            yield Source(member.order, entry,
                         _hashing(_read_blocks(file, member.path, entry, block_size,
                                               metadata.problems), hasher), group)
            # The writer has read the data before it asks for the next source: the hash is
            # that of what was stored.
            if original is None and len(members) > 1 and entry.extents is None:
                original = (member, hasher.digest())


def _head(path: str, follow: bool) -> bytes:
    """The first bytes of a file, for its kind (b"" if it cannot be read: the data pass then
    reports it)."""
    try:
        with _open_quietly(path, follow) as file:
            return file.read(grouping.HEAD_SIZE)
    except OSError:
        return b""


def _hashing(data: Iterator[bytes], hasher: Any) -> Iterator[bytes]:
    for chunk in data:
        hasher.update(chunk)
        yield chunk


def _digest(path: str, follow: bool) -> bytes | None:
    """The xxh3-128 of a file's contents, or None if it cannot be read (the data pass then
    reports it)."""
    hasher = xxhash.xxh3_128()
    try:
        with _open_quietly(path, follow) as file:
            while chunk := file.read(1 << 20):
                hasher.update(chunk)
    except OSError:
        return None
    return hasher.digest()


def _same_contents(member: _Found, original: tuple[_Found, bytes], follow: bool) -> bool:
    """Whether a file's bytes are, now, those stored for `original`: every byte equal to the
    original's on disk, which still hashes as what was stored."""
    hasher = xxhash.xxh3_128()
    try:
        with _open_quietly(member.path, follow) as mine, \
                _open_quietly(original[0].path, follow) as theirs:
            while True:
                chunk, other = mine.read(1 << 20), theirs.read(1 << 20)
                if chunk != other:
                    return False
                if not chunk:
                    break
                hasher.update(chunk)
    except OSError:
        return False
    return hasher.digest() == original[1]


def _open_quietly(path: str, follow: bool) -> BinaryIO:
    """A regular file opened for reading, never following a symlink put in its place (unless
    `follow`) nor blocking on a FIFO; OSError if it is anything else."""
    descriptor = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK
                         | (0 if follow else os.O_NOFOLLOW))
    file = os.fdopen(descriptor, "rb")
    if not stat.S_ISREG(os.fstat(descriptor).st_mode):
        file.close()
        raise OSError(f"{path!r} is not a regular file")
    return file


def _open_entry(found: _Found, metadata: _Metadata) -> tuple[Entry, BinaryIO] | None:
    """The entry of a regular file and the file, opened now: None (a problem reported) when
    it cannot be opened or is no longer the file the walk found. A file with holes records
    its extents, and only their data is read."""
    problems, path = metadata.problems, found.path
    flags = os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK | (0 if metadata.follow else os.O_NOFOLLOW)
    try:
        descriptor = os.open(path, flags)
    except FileNotFoundError:
        problems.report(f"{path!r} vanished while packing; skipped")
        return None
    except OSError as error:
        problems.report(f"cannot read {path!r}: {_reason(error)}; skipped")
        return None
    file = os.fdopen(descriptor, "rb", buffering=0)  # closed by _read_blocks, or when dropped
    opened = os.fstat(descriptor)
    if not stat.S_ISREG(opened.st_mode) or (opened.st_dev, opened.st_ino) != found.identity:
        file.close()
        problems.report(f"{path!r} was replaced while packing; skipped")
        return None
    os.set_blocking(descriptor, True)
    extents = None
    if opened.st_blocks * 512 < opened.st_size:  # fewer blocks than bytes: holes
        extents = _data_extents(descriptor, opened.st_size)
    entry = Entry(found.name, Kind.FILE, stat.S_IMODE(opened.st_mode), opened.st_mtime_ns,
                  opened.st_size, extents=extents, **metadata.of(descriptor, path, opened))
    return entry, file


def _data_extents(descriptor: int, size: int) -> tuple[tuple[int, int], ...] | None:
    """The (offset, length) of each run of data in the first `size` bytes of an open file, in
    order; None when it has no holes after all (a compressed file system allocates fewer
    blocks, say) or when the file system cannot tell."""
    extents = []
    offset = 0
    try:
        while offset < size:
            start = os.lseek(descriptor, offset, os.SEEK_DATA)
            if start >= size:
                break
            offset = min(os.lseek(descriptor, start, os.SEEK_HOLE), size)
            extents.append((start, offset - start))
    except OSError as error:
        if error.errno != errno.ENXIO:  # ENXIO: no data after `offset`, a hole to the end
            return None
    return None if extents == [(0, size)] else tuple(extents)


def _read_blocks(file: BinaryIO, path: str, entry: Entry, block_size: int,
                 problems: Problems) -> Iterator[bytes]:
    """Exactly `entry.data_size` bytes of an open file, in blocks of `block_size`: the data of
    its extents one after the other (the whole file when it has none)."""
    with file:
        yield from _joined(_read_extents(file.fileno(), path, entry, block_size, problems),
                           block_size)


def _read_extents(descriptor: int, path: str, entry: Entry, block_size: int,
                  problems: Problems) -> Iterator[bytes]:
    """The data of each extent of an open file, in pieces that end at every multiple of
    `block_size` of the data, reporting a file that shrinks (the rest: zeros), grows (the
    rest: left out), fails to read, or changes (its size, mtime or extents)."""
    extents = ((0, entry.size),) if entry.extents is None else entry.extents
    done = 0  # bytes of data read so far
    failed = False
    for start, length in extents:
        offset, end = start, start + length
        while offset < end:
            wanted = min(block_size - done % block_size, end - offset)
            piece = b""
            if not failed:
                try:
                    piece = _read_at(descriptor, wanted, offset)
                except OSError as error:
                    failed = True
                    problems.report(f"cannot read {path!r} after byte {offset:,}: "
                                    f"{_reason(error)}; the rest is stored as zeros")
                if len(piece) < wanted and not failed:
                    failed = True
                    problems.report(f"{path!r} shrank while it was read ({offset + len(piece):,} "
                                    f"of {entry.size:,} bytes); the rest is stored as zeros")
            offset += wanted
            done += wanted
            yield piece + bytes(wanted - len(piece))
    if failed:
        return
    try:
        grew = bool(os.pread(descriptor, 1, entry.size))
        after = os.fstat(descriptor)
        moved = entry.extents is not None and _data_extents(descriptor,
                                                            entry.size) != entry.extents
    except OSError as error:
        problems.report(f"cannot read {path!r}: {_reason(error)}")
        return
    if grew:
        problems.report(f"{path!r} grew while it was read; only its first {entry.size:,} "
                        f"bytes are stored")
    elif (after.st_size, after.st_mtime_ns) != (entry.size, entry.mtime_ns) or moved:
        problems.report(f"{path!r} changed while it was read; the stored copy may mix "
                        f"old and new data")


def _joined(pieces: Iterable[bytes], block_size: int) -> Iterator[bytes]:
    """`pieces`, none crossing a multiple of `block_size`, joined into blocks of `block_size`
    (the last may be shorter). A piece that is a whole block passes as it is."""
    block = bytearray()
    for piece in pieces:
        if not block and len(piece) == block_size:
            yield piece
            continue
        block += piece
        if len(block) == block_size:
            yield bytes(block)
            block.clear()
    if block:
        yield bytes(block)


def _read_at(descriptor: int, size: int, offset: int) -> bytes:
    """Up to `size` bytes from `offset`: fewer only at the end of the file (a read may return
    less)."""
    parts = []
    while size > 0:
        part = os.pread(descriptor, size, offset)
        if not part:
            break
        parts.append(part)
        size -= len(part)
        offset += len(part)
    return b"".join(parts)


# -- standard input --------------------------------------------------------------------------


def _stream_entry(name: str | None, size: int) -> Entry:
    """The entry of a data stream stored as `name` (an error if no archive could hold it;
    None: the unnamed entry)."""
    if name is not None and not is_valid_path(os.fsencode(name)):
        raise UsageError(f"--name {name!r}: not a name an archive can hold (a relative path "
                         f"without '.' or '..' components)")
    return user_entry(name or "", Kind.FILE, STDIN_MODE, size)


def user_entry(name: str, kind: Kind, mode: int, size: int = 0) -> Entry:
    """The entry of data that has no file on disk (standard input, the bytes given to
    ArchiveFile.writestr): owned by the user packing, dated now."""
    uid, gid = os.getuid(), os.getgid()
    return Entry(name, kind, mode, time.time_ns(), size, uid=uid, gid=gid,
                 user=_user_name(uid), group=_group_name(gid))


def _blocks_of(stream: IO[bytes], block_size: int) -> Iterator[bytes]:
    """The stream's bytes in blocks of `block_size` (the last may be shorter), to its end."""
    try:
        while block := stream.read(block_size):
            yield block
    except OSError as error:
        raise PyarcError(f"cannot read standard input: {_reason(error)}") from None


def stream_source(stream: IO[bytes], name: str | None, block_size: int) -> Source:
    """A stream (standard input) as one file entry `name` (None: the unnamed entry), read
    block by block while it is packed: its size is known at its end only (a streamed Source,
    archiver/writer.py), and its kind group comes from its first block."""
    entry = _stream_entry(name, 0)
    blocks = _blocks_of(stream, block_size)
    first = next(blocks, b"")
    group = grouping.group_of(grouping.kind_of(entry.path, first[:grouping.HEAD_SIZE]))
    return Source(0, entry, itertools.chain([first], blocks), group, streamed=True)


def spooled_source(stream: IO[bytes], name: str | None, block_size: int) -> Source:
    """As stream_source, for an archive written where it cannot seek back (a pipe): the stream
    is first copied to a temporary file (in $TMPDIR), whose size the entry then has."""
    spool = tempfile.TemporaryFile(prefix="pyarc-stdin-")  # noqa: SIM115 (closed by data())
    try:
        shutil.copyfileobj(stream, spool, block_size)
    except OSError as error:
        spool.close()
        raise PyarcError(f"cannot copy standard input to a temporary file: "
                         f"{_reason(error)}") from None
    entry = _stream_entry(name, spool.tell())
    spool.seek(0)
    first = spool.read(grouping.HEAD_SIZE)
    spool.seek(0)

    def data() -> Iterator[bytes]:
        with spool:
            yield from _blocks_of(spool, block_size)

    group = grouping.group_of(grouping.kind_of(entry.path, first))
    return Source(0, entry, data(), group)
