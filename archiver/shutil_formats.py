"""pyarc as an archive format of shutil, registered as "pyarc" when archiver is imported
(archiver/__init__.py registers the two functions here, imported when first called):

    shutil.make_archive("backup", "pyarc", root_dir="/home/me", base_dir="src")  # backup.pyarc
    shutil.unpack_archive("backup.pyarc", "restore")

make_archive stores the entries shutil's "tar" format stores, under the same names (`base_dir`
and everything below it, as `pyarc pack` walks it; a `base_dir` of '.' is the contents of
`root_dir`), and takes root_dir, dry_run, logger, owner and group as the tar format does. The
archive is made by ArchiveFile with pack's defaults, and appears only once complete.

unpack_archive extracts as `pyarc unpack` does (archiver/extract.py). Unlike shutil's tar and
zip formats, it refuses to overwrite an existing file, and its safety rules are its own:
tarfile's extraction `filter` is refused rather than half honoured. A file that is not a pyarc
archive (or whose index is unreadable) is a shutil.ReadError, as shutil asks of an unpacker.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import replace
from typing import Any

from archiver.archivefile import ArchiveFile, EntryFilter
from archiver.errors import FormatError
from archiver.extract import gid_named, uid_named
from archiver.sources import archive_name


def make_archive(base_name: str, base_dir: str, verbose: int = 0, dry_run: int = 0,
                 owner: str | None = None, group: str | None = None, logger: Any = None,
                 root_dir: str | None = None) -> str:
    """`base_name`.pyarc of `base_dir` (under `root_dir`, if given), as shutil's tar format
    makes `base_name`.tar (`verbose` is ignored, as there); returns the archive's name."""
    archive = os.fspath(base_name) + ".pyarc"
    archive_dir = os.path.dirname(archive)
    if archive_dir and not os.path.exists(archive_dir):
        if logger is not None:
            logger.info("creating %s", archive_dir)
        if not dry_run:
            os.makedirs(archive_dir)
    if logger is not None:
        logger.info("Creating pyarc archive")
    if not dry_run:
        path = base_dir if root_dir is None else os.path.join(root_dir, base_dir)
        with ArchiveFile(archive, "w") as written:
            # tar stores base_dir under its own name: '.' and './x', extracted as x.
            written.add(path, archive_name(base_dir), filter=_owner_filter(owner, group))
    return os.path.abspath(archive) if root_dir is not None else archive


def unpack_archive(filename: str, extract_dir: str, *, filter: Any = None) -> None:
    """Extract every entry of the pyarc archive `filename` into `extract_dir`."""
    if filter is not None:
        raise ValueError(f"filter={filter!r}: a pyarc archive is extracted by pyarc's own "
                         f"safety rules; shutil's filter is tarfile's")
    try:
        archive = ArchiveFile(filename)
    except FormatError as error:
        raise shutil.ReadError(f"{filename} is not a readable pyarc archive: {error}") from error
    with archive:
        archive.extractall(extract_dir)


def _owner_filter(owner: str | None, group: str | None) -> EntryFilter | None:
    """What shutil's tar format does with `owner` and `group`: every entry gets the user and
    group of those names, when this system knows them (otherwise they are ignored)."""
    changes: dict[str, Any] = {}
    if owner is not None and (uid := uid_named(owner)) is not None:
        changes.update(uid=uid, user=owner)
    if group is not None and (gid := gid_named(group)) is not None:
        changes.update(gid=gid, group=group)
    if not changes:
        return None
    return lambda entry: replace(entry, **changes)
