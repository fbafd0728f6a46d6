"""Turning the paths given to `pack` into archive entries and their data.

Names in the archive are the paths as given, normalised (`./a//b/` is stored as `a/b`). A path
that is absolute or climbs out with `..` is stored under its last component, and `.` stands
for its contents. Trees are walked in sorted order without following symlinks, so the same
tree always gives the same archive.
"""

from __future__ import annotations

import os
import stat
import warnings
from collections.abc import Callable, Iterator

from archiver.errors import PyarcError, UsageError
from archiver.format import Entry, Kind
from archiver.writer import Source


class SkippedFileWarning(UserWarning):
    """A path was left out of the archive (a socket, a device, the archive itself)."""


def archive_name(path: str) -> str:
    """The name under which a path given on the command line is stored ('' for its contents)."""
    normal = os.path.normpath(path).replace(os.sep, "/")
    if normal == ".":
        return ""
    if os.path.isabs(normal) or normal == ".." or normal.startswith("../"):
        return os.path.basename(os.path.abspath(path))
    return normal


def _cannot(action: str, path: str, error: OSError) -> PyarcError:
    return PyarcError(f"cannot {action} {path!r}: {error.strerror or error}")


def _entry_for(name: str, path: str, info: os.stat_result) -> Entry | None:
    mode = stat.S_IMODE(info.st_mode)
    if stat.S_ISREG(info.st_mode):
        return Entry(name, Kind.FILE, mode, info.st_mtime_ns, info.st_size)
    if stat.S_ISDIR(info.st_mode):
        return Entry(name, Kind.DIRECTORY, mode, info.st_mtime_ns)
    if stat.S_ISLNK(info.st_mode):
        try:
            target = os.readlink(path)
        except OSError as error:
            raise _cannot("read link", path, error) from None
        return Entry(name, Kind.SYMLINK, mode, info.st_mtime_ns, target=target)
    warnings.warn(f"skipping {path!r}: not a regular file, directory or symlink",
                  SkippedFileWarning, stacklevel=2)
    return None


def read_blocks(path: str, size: int, block_size: int) -> Iterator[bytes]:
    """The first `size` bytes of a file in blocks; never follows a symlink put in its place."""
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError as error:
        raise _cannot("read", path, error) from None
    with os.fdopen(descriptor, "rb", buffering=0) as file:
        left = size
        while left > 0:
            try:
                block = file.read(min(block_size, left))
            except OSError as error:
                raise _cannot("read", path, error) from None
            if not block:
                return  # the writer reports the shortfall
            left -= len(block)
            # A raw read may return less than asked; top the block up to the full size.
            while left > 0 and len(block) < block_size:
                more = file.read(min(block_size - len(block), left))
                if not more:
                    break
                block += more
                left -= len(more)
            yield block


def collect(
    paths: list[str],
    block_size: int,
    exclude: Callable[[os.stat_result], bool] = lambda info: False,
) -> Iterator[Source]:
    """Entries for every path and everything below it, each file once.

    Two different files that would be stored under one name (`/a/data` and `/b/data` both
    become `data`) are an error: one of them would be lost.
    """
    seen: dict[str, tuple[str, int, int]] = {}  # name -> (path, device, inode)

    def visit(name: str, path: str, info: os.stat_result) -> Iterator[Source]:
        if exclude(info):
            warnings.warn(f"skipping {path!r}: it is the archive being written",
                          SkippedFileWarning, stacklevel=2)
            return
        if name in seen:
            first, device, inode = seen[name]
            if (device, inode) != (info.st_dev, info.st_ino):
                raise UsageError(f"{path!r} and {first!r} would both be stored as {name!r}; "
                                 f"pack them from a common parent folder")
        elif name:
            entry = _entry_for(name, path, info)
            if entry is None:
                return
            seen[name] = (path, info.st_dev, info.st_ino)
            data = read_blocks(path, entry.size, block_size) if entry.kind == Kind.FILE else None
            yield entry, data
        if stat.S_ISDIR(info.st_mode):
            try:
                children = sorted(os.scandir(path), key=lambda child: child.name)
            except OSError as error:
                raise _cannot("list", path, error) from None
            for child in children:
                child_name = f"{name}/{child.name}" if name else child.name
                try:
                    child_info = child.stat(follow_symlinks=False)
                except OSError as error:
                    raise _cannot("read", child.path, error) from None
                yield from visit(child_name, child.path, child_info)

    for path in paths:
        try:
            info = os.lstat(path)
        except OSError as error:
            raise _cannot("read", path, error) from None
        yield from visit(archive_name(path), path, info)
