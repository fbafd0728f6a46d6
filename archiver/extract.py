"""Writing archive entries to disk, safely.

Every rule of the README's "Safety when extracting" (and spec/FORMAT.md section 13) is enforced
here, whatever the format layer checked:

- paths are relative, without '.' or '..' components; anything else is an `UnsafePathError`;
- all work goes through directory file descriptors opened with O_NOFOLLOW, one component at a
  time, so a symlink on the way (already on disk, or planted meanwhile) is never traversed;
- a file is written to a temporary name next to its target and renamed into place only once all
  of its chunks arrived (the caller verifies their checksums) and its size matches the entry;
  on any error, KeyboardInterrupt included, the temporary file is removed;
- nothing is overwritten without `force`, and a directory is never replaced, even with `force`;
- symlinks are created last (so no entry is ever written through one), only when their target
  stays inside the destination, both lexically and, once all of them exist, physically; one
  that does not is left out, the rest of the archive is extracted, and then the refusal is
  reported as an `UnsafePathError`;
- with `keep_absolute_symlinks` (to restore a system tree) absolute targets are created as
  given, and the physical check is not made: a chain through an absolute link leads outside by
  design, and leads nowhere an absolute link could not. Relative targets must still stay
  inside lexically. Writing is as safe as ever: it never depends on where links point;
- directory modes and mtimes are applied at the very end, deepest first, as tar does: writing
  children changes a directory's mtime, and a read-only mode would block them. They are applied
  to the directories the unpack created; one that existed before (the home directory an
  archive is unpacked into, say) keeps its own unless `force`;
- a hard link is made (through the directory fds, never following a symlink) only to a file
  this same extraction wrote, and is checked afterwards to be that very file; to anything else
  (a symlink, a directory, a file that was already on disk, a path outside) it is refused. When
  its target is not extracted (only some entries are), the caller gives the target's entry and
  data, and the link's path gets a copy of the file;
- FIFOs, symlinks and hard links, like files, are made under a temporary name and renamed into
  place; a FIFO is never opened. A hard link or FIFO replaces an existing file only with
  `force`, and never a directory.

Modes: a file or FIFO gets its archived `mode & 0o777`, a directory `mode & 0o1777` (the sticky
bit stays: a shared 1777 directory must not become 0777), both minus the umask unless pyarc runs
as root (GNU tar's rule: root gets the modes as archived). Setuid and setgid are always dropped.
Symlinks get no mode. Directories that had to be created without an entry of their own get
0o755 minus the umask. Until `finish()` every created directory is 0o700, private to the user;
if the unpack fails (an exception, KeyboardInterrupt included), `close()` still gives the
directories it created their modes, best effort, so that none stays 0o700.

Owners, as tar restores them: when pyarc runs as root (unless `same_owner=False`), each file,
FIFO, symlink and directory gets the archived user and group, by name when this system knows
the name, else by id (`numeric_owner`: by id always); an entry without a recorded owner keeps
root's. Not as root, owners are not restored, silently: a user cannot give files away. A
refusal (a file system or user namespace that cannot hold the id) is a warning naming the
file, which is kept, owned by root. chown comes before the mode, which it would clear bits of.

Sparse files: each extent is written at its offset and the file is then extended to its size,
so holes stay holes. Extended attributes, with `xattrs` only: set on the file (by fd) or, for a
symlink or FIFO, on the name itself; one the file system refuses (trusted.* for a user, a file
system without them, a name too long) is a warning naming it, and the rest goes on.
security.capability is never set: like setuid, it would give a program from the archive
privileges.

An OSError never reaches the caller raw: it becomes a one-line `PyarcError` naming the entry.
"""

from __future__ import annotations

import contextlib
import functools
import grp
import os
import posixpath
import pwd
import stat
import warnings
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import replace
from types import TracebackType

from archiver.errors import ExistsError, FormatError, PyarcError, UnsafePathError
from archiver.format import Entry, Kind

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_TMP_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
# Open directory fds kept for reuse: enough for locality, few enough for any fd limit.
_MAX_CACHED_DIRS = 128
_IMPLICIT_DIR_MODE = 0o755  # before the umask
_NAME_MAX = 255
#: The extended attribute of file capabilities: privileges, never restored (as setuid).
_CAPABILITY = "security.capability"


class MetadataWarning(UserWarning):
    """An owner or extended attribute could not be restored; the entry was extracted."""


class Extractor:
    """Writes archive entries under `dest` safely.

    Call `check_conflicts()` with every entry first (it writes nothing), then `extract()` for each
    entry in archive order (a hard link after its target), then `finish()`, which creates the
    symlinks and applies directory owners, modes and mtimes.
    `close()` (or leaving a `with` block) releases the directory fds, and after a failure
    gives the directories created so far their modes.
    """

    def __init__(
        self,
        dest: str | os.PathLike[str],
        *,
        force: bool = False,
        keep_absolute_symlinks: bool = False,
        umask: int | None = None,
        same_owner: bool = True,
        numeric_owner: bool = False,
        xattrs: bool = False,
    ) -> None:
        """`keep_absolute_symlinks`: create symlinks with absolute targets as given (to
        restore a system tree) instead of refusing them. `umask`: the permission bits to clear
        from every archived mode; by default none for root and the process's umask for anyone
        else (see `_umask_to_apply`). `same_owner`: restore owners when running as root;
        `numeric_owner`: by their ids, ignoring names. `xattrs`: restore extended
        attributes."""
        self._force = force
        self._keep_absolute = keep_absolute_symlinks
        self._umask = _umask_to_apply() if umask is None else umask
        self._same_owner = same_owner and os.geteuid() == 0  # tar's rule: only root gives away
        self._numeric_owner = numeric_owner
        self._xattrs = xattrs
        self._uid_named = functools.cache(uid_named)
        self._gid_named = functools.cache(gid_named)
        self._dirs: OrderedDict[str, int] = OrderedDict()  # "a/b" -> open fd, least recent first
        self._created: set[str] = set()  # the directories this unpack made
        # "a/b" -> (mode, entry) for finish(): each created directory (entry None when it has
        # none in the archive), and with `force` each existing one that has an entry
        self._dir_meta: dict[str, tuple[int, Entry | None]] = {}
        # The files this unpack wrote, which hard links may name: archive path -> (path on
        # disk, device, inode); the path differs for a copy made for a link (see _make_link).
        self._written: dict[str, tuple[str, int, int]] = {}
        self._links: list[Entry] = []
        self._tmp: tuple[int, str] | None = None  # the temporary file being written
        dest = os.fspath(dest)
        self._dest_fd = _open_destination(dest)
        self._dest_real = os.path.realpath(dest)

    def __enter__(self) -> Extractor:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- the public steps ----------------------------------------------------------------------

    def check_conflicts(self, entries: Iterable[Entry]) -> None:
        """Raise the error that extracting `entries` would raise, before anything is written.

        Checks the paths and symlink targets, entries that the archive itself makes collide
        ('l' a symlink and 'l/x' a file), and what is already on disk. Never follows a symlink.
        `extract()` checks again, since the disk may change in between.
        """
        entries = list(entries)
        kinds: dict[str, Kind] = {}
        ancestors: set[str] = set()
        for entry in entries:
            _split(entry.path)
            kinds[entry.path] = entry.kind
            parent = posixpath.dirname(entry.path)
            while parent and parent not in ancestors:
                ancestors.add(parent)
                parent = posixpath.dirname(parent)
        for path, kind in kinds.items():
            if kind is Kind.SYMLINK and path in ancestors:
                raise UnsafePathError(f"refusing entries below symlink {path!r}: they would "
                                      f"be written through it")
            if kind is not Kind.DIRECTORY and path in ancestors:
                raise ExistsError(f"{_kind_name(kind)} {path!r} conflicts with directory {path!r}")
        for entry in entries:
            if entry.kind is Kind.HARDLINK:
                _check_link_target(entry)
                if kinds.get(entry.target, Kind.FILE) is not Kind.FILE:
                    raise UnsafePathError(_not_a_file(entry))

        modes: dict[str, int | None] = {}  # relative path -> lstat mode, None when missing

        def lstat_mode(path: str) -> int | None:
            if path not in modes:
                try:
                    modes[path] = os.stat(path, dir_fd=self._dest_fd, follow_symlinks=False).st_mode
                except FileNotFoundError:
                    modes[path] = None
            return modes[path]

        for entry in entries:
            with _reporting(entry.path):
                parts = entry.path.split("/")
                prefix = ""
                for name in parts[:-1]:
                    prefix = f"{prefix}/{name}" if prefix else name
                    mode = lstat_mode(prefix)
                    if mode is None:
                        break  # nothing below a missing directory can be in the way
                    error = _parent_error(entry.path, prefix, mode)
                    if error:
                        raise error
                else:
                    mode = lstat_mode(entry.path)
                    if mode is not None:
                        error = _target_error(entry.path, entry.kind, mode, self._force)
                        if error:
                            raise error

    def extract(self, entry: Entry, chunks: Iterable[bytes] = (), *,
                linked: Entry | None = None) -> None:
        """Write one entry. For a file, `chunks` yields its data (`entry.data_size` bytes: a
        sparse file's extents one after the other); any error it raises is re-raised
        unchanged once the temporary file is gone. Symlinks are only queued, and a
        directory's owner, mode and mtime are only recorded: `finish()` applies them.

        A hard link is linked to its target, which this extraction must have written (as a
        file) before; `chunks` is then not read. When it was not, `linked` is the target's
        entry and `chunks` its data, and the link's path gets a copy of the file (later links
        to the same target are linked to the copy); without `linked` that is an error."""
        parts = _split(entry.path)
        with _reporting(entry.path):
            if entry.kind is Kind.FILE:
                self._written[entry.path] = (entry.path, *self._write_file(entry, parts, chunks))
            elif entry.kind is Kind.DIRECTORY:
                self._open_dir(entry.path, parts)
                # A directory that was there before keeps its metadata, unless forced.
                if entry.path in self._created or self._force:
                    self._dir_meta[entry.path] = (self._mode(entry.kind, entry.mode), entry)
            elif entry.kind is Kind.SYMLINK:
                self._links.append(entry)
            elif entry.kind is Kind.HARDLINK:
                self._make_link(entry, parts, chunks, linked)
            elif entry.kind is Kind.FIFO:
                self._make_fifo(entry, parts)
            else:
                raise FormatError(f"entry {entry.path!r} has an unknown kind {entry.kind!r}")

    def finish(self) -> None:
        """Create the queued symlinks, check where they lead, then apply directory metadata.

        A symlink that points outside the destination is not created (or is removed again),
        everything else is finished, and then one UnsafePathError names what was refused.
        """
        links, self._links = self._links, []
        refused = [entry for entry in links if _link_escapes(entry, self._keep_absolute)]
        created = [entry for entry in links if entry not in refused]
        for entry in created:
            with _reporting(entry.path):
                self._make_symlink(entry)
        # With absolute links kept, a link may lead anywhere by design, and so may a chain
        # through one: the check on the finished tree would refuse what was asked for.
        if not self._keep_absolute:
            refused += self._remove_escaping_links(created)
        for path in self._deepest_first():
            mode, archived = self._dir_meta[path]
            with _reporting(path):
                fd = self._open_dir(path, path.split("/"), create=False)
                if archived is not None:
                    self._restore_owner(archived, functools.partial(os.fchown, fd))
                os.fchmod(fd, mode)
                if archived is not None:
                    self._restore_xattrs(archived, functools.partial(os.setxattr, fd))
                    os.utime(fd, ns=(archived.mtime_ns, archived.mtime_ns))
            del self._dir_meta[path]  # done: close() must not touch it again
        if refused:
            first = refused[0]
            more = f" (and {len(refused) - 1} more)" if len(refused) > 1 else ""
            hint = ""
            if any(entry.target.startswith("/") for entry in refused):
                hint = " (--keep-absolute-symlinks keeps absolute targets)"
            raise UnsafePathError(
                f"refused symlink {first.path!r} -> {first.target!r}{more}: it points outside "
                f"the destination{hint}; everything else was extracted"
            )

    def close(self) -> None:
        """Remove a temporary file left behind, if any, give the directories this unpack
        created their modes if `finish()` did not, and close every directory fd."""
        if self._tmp is not None:
            dir_fd, tmp = self._tmp
            self._tmp = None
            with contextlib.suppress(OSError):
                os.unlink(tmp, dir_fd=dir_fd)
        self._restore_created_modes()
        while self._dirs:
            os.close(self._dirs.popitem()[1])
        if self._dest_fd >= 0:
            os.close(self._dest_fd)
            self._dest_fd = -1

    def _mode(self, kind: Kind, archived: int) -> int:
        """The mode a file, FIFO or directory gets on disk: its archived permission bits,
        minus the umask. Setuid and setgid are dropped: they would make a program from the
        archive run with the rights of its owner, which is whoever unpacks it, or, as root,
        whoever the archive says. The sticky bit stays on a directory: a shared directory
        (like /tmp, 1777) without it lets anyone delete anyone's files. A file never gets it
        (Linux ignores it on files)."""
        kept = 0o1777 if kind is Kind.DIRECTORY else 0o777
        return archived & kept & ~self._umask

    def _restore_owner(self, entry: Entry, chown: Callable[[int, int], None]) -> None:
        """Give what was written for `entry` its owner with `chown(uid, gid)`, when owners are
        restored; a refusal is a warning. -1 keeps the id an entry does not record."""
        if not self._same_owner:
            return
        uid = self._owner_id(entry.user, entry.uid, self._uid_named)
        gid = self._owner_id(entry.group, entry.gid, self._gid_named)
        if uid == gid == -1:
            return
        try:
            chown(uid, gid)
        except (OSError, OverflowError) as error:  # OverflowError: an id beyond 32 bits
            reason = getattr(error, "strerror", None) or str(error)
            warnings.warn(f"cannot give {entry.path!r} its owner {uid}:{gid}: {reason}; it "
                          f"keeps root's", MetadataWarning, stacklevel=2)

    def _owner_id(self, name: str, number: int | None,
                  named: Callable[[str], int | None]) -> int:
        """The id of the user or group `name` on this system if it has one (unless
        `numeric_owner`), else the archived `number`; -1 when neither is known."""
        if name and not self._numeric_owner:
            found = named(name)
            if found is not None:
                return found
        return -1 if number is None else number

    def _restore_xattrs(self, entry: Entry, setxattr: Callable[[str, bytes], None]) -> None:
        """Set the entry's extended attributes with `setxattr(name, value)`, when they are
        restored; one the file system refuses is a warning."""
        if not self._xattrs:
            return
        for name, value in entry.xattrs:
            if name == _CAPABILITY:  # privileges: never restored
                continue
            try:
                setxattr(name, value)
            except (OSError, ValueError) as error:  # ValueError: a NUL in the name
                reason = getattr(error, "strerror", None) or str(error)
                warnings.warn(f"cannot restore extended attribute {name!r} of {entry.path!r}: "
                              f"{reason}; left out", MetadataWarning, stacklevel=2)

    def _deepest_first(self) -> list[str]:
        """The directories waiting for their metadata, children before their parents: every
        ancestor is still searchable (0o700) while a directory is reached."""
        return sorted(self._dir_meta, key=lambda path: path.count("/"), reverse=True)

    def _restore_created_modes(self) -> None:
        """After a failure (`finish()` did not run, or stopped half-way): give each directory
        this unpack created the mode `finish()` would have, so that none is left at 0o700.

        Never a directory that was there before, even with `force`. Mtimes are left as they
        are: the tree is incomplete. Best effort, and quiet: the error that stopped the unpack
        is the one to report.
        """
        for path in self._deepest_first():
            if path in self._created:
                with contextlib.suppress(OSError, PyarcError):
                    fd = self._open_dir(path, path.split("/"), create=False)
                    os.fchmod(fd, self._dir_meta[path][0])
        self._dir_meta = {}

    # -- files, FIFOs and hard links --------------------------------------------------------

    def _place(self, entry: Entry, dir_fd: int, name: str, make: Callable[[str], None]) -> None:
        """Make `entry` with `make(tmp)` under a temporary name beside `name`, then rename it
        into place. On any error, KeyboardInterrupt included, the temporary name is removed."""
        self._check_existing(dir_fd, name, entry)
        tmp = _temp_name(name)
        self._tmp = (dir_fd, tmp)
        try:
            make(tmp)
            self._check_existing(dir_fd, name, entry)  # again: the disk may have changed
            os.rename(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
            # rename() does nothing when both names are links to one file (a forced unpack of
            # a hard link that is there already): the temporary name is then still there.
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp, dir_fd=dir_fd)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp, dir_fd=dir_fd)
            raise
        finally:
            self._tmp = None

    def _write_file(self, entry: Entry, parts: Sequence[str],
                    chunks: Iterable[bytes]) -> tuple[int, int]:
        """Write a file from its data; return its device and inode."""
        extents = _extents(entry)
        dir_fd = self._open_dir(entry.path, parts[:-1])
        identity = (0, 0)

        def make(tmp: str) -> None:
            nonlocal identity
            fd = os.open(tmp, _TMP_FLAGS, 0o600, dir_fd=dir_fd)
            try:
                _write_extents(fd, entry, extents, chunks)
                os.ftruncate(fd, entry.size)  # a hole up to the size, after the last extent
                self._restore_owner(entry, functools.partial(os.fchown, fd))
                os.fchmod(fd, self._mode(Kind.FILE, entry.mode))
                self._restore_xattrs(entry, functools.partial(os.setxattr, fd))
                os.utime(fd, ns=(entry.mtime_ns, entry.mtime_ns))
                written = os.fstat(fd)
                identity = (written.st_dev, written.st_ino)
            finally:
                os.close(fd)

        self._place(entry, dir_fd, parts[-1], make)
        return identity

    def _make_fifo(self, entry: Entry, parts: Sequence[str]) -> None:
        dir_fd = self._open_dir(entry.path, parts[:-1])

        def make(tmp: str) -> None:
            os.mkfifo(tmp, 0o600, dir_fd=dir_fd)
            self._restore_name_metadata(entry, dir_fd, tmp)
            os.chmod(tmp, self._mode(Kind.FIFO, entry.mode), dir_fd=dir_fd,
                     follow_symlinks=False)
            os.utime(tmp, ns=(entry.mtime_ns, entry.mtime_ns), dir_fd=dir_fd,
                     follow_symlinks=False)

        self._place(entry, dir_fd, parts[-1], make)

    def _restore_name_metadata(self, entry: Entry, dir_fd: int, name: str) -> None:
        """The owner and extended attributes of a symlink or FIFO, set on the name itself (it
        has no fd): through the directory fd, never following a symlink."""
        self._restore_owner(entry, lambda uid, gid: os.chown(
            name, uid, gid, dir_fd=dir_fd, follow_symlinks=False))
        # os.setxattr takes no dir_fd: /proc/self/fd/N is the directory of fd N, as tar does.
        self._restore_xattrs(entry, lambda key, value: os.setxattr(
            f"/proc/self/fd/{dir_fd}/{name}", key, value, follow_symlinks=False))

    def _make_link(self, entry: Entry, parts: Sequence[str], chunks: Iterable[bytes],
                   linked: Entry | None) -> None:
        """A hard link to a file this extraction wrote, or a copy of the file from `linked`
        and `chunks` when it did not write it."""
        _check_link_target(entry)
        written = self._written.get(entry.target)
        if written is None:
            if linked is None:
                raise UnsafePathError(_not_a_file(entry))
            if linked.kind is not Kind.FILE or linked.path != entry.target:
                raise PyarcError(f"hard link {entry.path!r} -> {entry.target!r} was given the "
                                 f"data of {linked.path!r}")
            copy = replace(linked, path=entry.path)
            self._written[entry.target] = (entry.path, *self._write_file(copy, parts, chunks))
            return
        source, device, inode = written
        source_parts = source.split("/")
        source_dir = self._open_dir(source, source_parts[:-1], create=False)
        dir_fd = self._open_dir(entry.path, parts[:-1])

        def make(tmp: str) -> None:
            os.link(source_parts[-1], tmp, src_dir_fd=source_dir, dst_dir_fd=dir_fd,
                    follow_symlinks=False)
            # The link is checked, not the target before it: whatever was swapped in meanwhile,
            # only the very file this unpack wrote is ever linked. A regular file, too: the
            # inode number of a deleted file is soon another's, a symlink's say.
            made = os.stat(tmp, dir_fd=dir_fd, follow_symlinks=False)
            if not stat.S_ISREG(made.st_mode) or (made.st_dev, made.st_ino) != (device, inode):
                raise UnsafePathError(f"refusing hard link {entry.path!r}: {entry.target!r} is "
                                      f"no longer the file this unpack wrote")

        self._place(entry, dir_fd, parts[-1], make)

    def _check_existing(self, dir_fd: int, name: str, entry: Entry) -> None:
        """Raise if `name` exists and may not be replaced by `entry`."""
        try:
            mode = os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode
        except FileNotFoundError:
            return
        error = _target_error(entry.path, entry.kind, mode, self._force)
        if error:
            raise error

    def read_back(self, entry: Entry) -> Iterator[bytes]:
        """The bytes of a file this extraction wrote, read back (a file of identical contents
        is written as a copy of it), through the same directory fds, never following a
        symlink."""
        parts = _split(entry.path)
        with _reporting(entry.path):
            dir_fd = self._open_dir(entry.path, parts[:-1], create=False)
            fd = os.open(parts[-1], os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dir_fd)
        with os.fdopen(fd, "rb") as file:
            while chunk := file.read(1 << 20):
                yield chunk

    # -- symlinks ------------------------------------------------------------------------------

    def _make_symlink(self, entry: Entry) -> None:
        parts = entry.path.split("/")
        dir_fd = self._open_dir(entry.path, parts[:-1])

        def make(tmp: str) -> None:
            os.symlink(entry.target, tmp, dir_fd=dir_fd)
            self._restore_name_metadata(entry, dir_fd, tmp)
            # Not every platform can set a symlink's own mtime; it is not worth failing for.
            with contextlib.suppress(NotImplementedError, OSError):
                os.utime(tmp, ns=(entry.mtime_ns, entry.mtime_ns), dir_fd=dir_fd,
                         follow_symlinks=False)

        self._place(entry, dir_fd, parts[-1], make)

    def _remove_escaping_links(self, links: Sequence[Entry]) -> list[Entry]:
        """Remove, and return, every symlink that resolves outside the destination on disk.

        The lexical check cannot see chains such as 'a' -> 'b/..' with 'b' -> '.', nor links
        that lead through a symlink which was already in the destination.
        """
        escaping = [
            entry
            for entry in links
            if not _is_inside(
                os.path.realpath(os.path.join(self._dest_real, entry.path)), self._dest_real
            )
        ]
        for entry in escaping:
            with _reporting(entry.path):
                parts = entry.path.split("/")
                os.unlink(parts[-1], dir_fd=self._open_dir(entry.path, parts[:-1], create=False))
        return escaping

    # -- directories ---------------------------------------------------------------------------

    def _open_dir(self, path: str, parts: Sequence[str], *, create: bool = True) -> int:
        """Return an fd of the directory dest/parts, without ever following a symlink.

        Missing directories are created when `create` is true. `path` is the entry the walk is
        for, named in errors. The fd stays owned by the cache.
        """
        if not parts:
            return self._dest_fd
        cached = self._dirs.get("/".join(parts))
        if cached is not None:
            self._dirs.move_to_end("/".join(parts))
            return cached
        parent = self._dest_fd
        prefix = ""
        for name in parts:
            prefix = f"{prefix}/{name}" if prefix else name
            fd = self._dirs.get(prefix)
            if fd is None:
                fd = self._open_child(path, prefix, parent, name, create)
                # The parent was used last, so eviction never closes it under our feet.
                self._dirs[prefix] = fd
                if len(self._dirs) > _MAX_CACHED_DIRS:
                    os.close(self._dirs.popitem(last=False)[1])
            else:
                self._dirs.move_to_end(prefix)
            parent = fd
        return parent

    def _open_child(self, path: str, prefix: str, parent: int, name: str, create: bool) -> int:
        try:
            try:
                return os.open(name, _DIR_FLAGS, dir_fd=parent)
            except FileNotFoundError:
                if not create:
                    raise
            try:
                os.mkdir(name, 0o700, dir_fd=parent)
                self._created.add(prefix)
                self._dir_meta.setdefault(
                    prefix, (self._mode(Kind.DIRECTORY, _IMPLICIT_DIR_MODE), None)
                )
            except FileExistsError:
                pass  # created meanwhile: the open below finds out what it is
            return os.open(name, _DIR_FLAGS, dir_fd=parent)
        except OSError as error:
            blocked = self._blocked(path, prefix, parent, name)
            if blocked is None:
                raise
            raise blocked from error

    def _blocked(self, path: str, prefix: str, parent: int, name: str) -> PyarcError | None:
        """Explain why `prefix` could not be opened as a directory, if something is in the way:
        a symlink or a non-directory (O_NOFOLLOW gives ELOOP, or EMLINK on some BSDs)."""
        try:
            mode = os.stat(name, dir_fd=parent, follow_symlinks=False).st_mode
        except OSError:
            return None
        if prefix == path:  # the walk is creating the directory entry itself
            return _target_error(path, Kind.DIRECTORY, mode, self._force)
        return _parent_error(path, prefix, mode)


# -- setting up ---------------------------------------------------------------------------------


def _open_destination(dest: str) -> int:
    """Create `dest` if missing (with its parents, as mkdir -p) and open it. A symlink there is
    followed: the user named it. Any failure is one line naming `dest` and the reason."""
    try:
        os.makedirs(dest, exist_ok=True)
        return os.open(dest, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError as error:
        reason = error.strerror or str(error)
        if os.path.lexists(dest) and not os.path.isdir(dest):
            reason = "it is not a directory"  # makedirs would say "File exists"
        raise PyarcError(f"cannot extract into {dest!r}: {reason}") from error


def _umask_to_apply() -> int:
    """The bits to clear from archived modes: none for root, who gets the modes as archived (as
    with GNU tar), and the process's umask for anyone else, so that an archive cannot make
    their files more open than they allow."""
    if os.geteuid() == 0:
        return 0
    # os.umask() reads the mask only by setting one: set the strictest for that instant, so
    # that a file another thread creates meanwhile is never more open than it should be.
    umask = os.umask(0o777)
    os.umask(umask)
    return umask


def uid_named(name: str) -> int | None:
    """The id of the user of this name on this system, or None."""
    try:
        return pwd.getpwnam(name).pw_uid
    except KeyError:
        return None


def gid_named(name: str) -> int | None:
    """The id of the group of this name on this system, or None."""
    try:
        return grp.getgrnam(name).gr_gid
    except KeyError:
        return None


# -- data -----------------------------------------------------------------------------------------


def _extents(entry: Entry) -> tuple[tuple[int, int], ...]:
    """Where a file's data goes: its extents, checked to be in order, apart, not empty and
    within its size; the whole file when it has none."""
    if entry.extents is None:
        return ((0, entry.size),)
    end = 0
    for offset, length in entry.extents:
        if offset < end or length <= 0 or offset + length > entry.size:
            raise FormatError(f"{entry.path!r} has a malformed extent ({offset}, {length})")
        end = offset + length
    return entry.extents


def _write_extents(fd: int, entry: Entry, extents: Sequence[tuple[int, int]],
                   chunks: Iterable[bytes]) -> None:
    """Write the data in `chunks` into `extents` one after the other (the holes between them
    are left unwritten); refuse more or less data than the entry declares."""
    declared = entry.data_size
    places = iter(extents)
    offset = end = total = 0
    for chunk in chunks:
        total += len(chunk)
        if total > declared:  # stop before a lying archive fills the disk
            raise FormatError(f"{entry.path!r} has more data than its declared {declared} bytes")
        view = memoryview(chunk)
        while view:
            if offset == end:
                offset, length = next(places)  # there is one: total <= declared
                end = offset + length
            done = os.pwrite(fd, view[: end - offset], offset)
            view = view[done:]
            offset += done
    if total != declared:
        raise FormatError(f"{entry.path!r} has {total} bytes of data, but declares {declared}")


# -- checks shared by check_conflicts() and the extraction itself -------------------------------


def _split(path: str) -> list[str]:
    """The components of a safe relative path, or UnsafePathError."""
    parts = path.split("/")
    if "\0" in path or any(part in ("", ".", "..") for part in parts):
        raise UnsafePathError(
            f"refusing unsafe path {path!r}: it must be relative, without '.' or '..' components"
        )
    return parts


def _check_link_target(entry: Entry) -> None:
    """Refuse a hard link whose target is not a safe path in the archive."""
    try:
        _split(entry.target)
    except UnsafePathError:
        raise UnsafePathError(f"refusing hard link {entry.path!r} -> {entry.target!r}: its "
                              f"target must be relative, without '.' or '..' components") from None


def _link_escapes(entry: Entry, keep_absolute: bool) -> bool:
    """True if a symlink's target is malformed, absolute (unless kept), or relative and
    lexically leaves the destination: '../x' has no meaning inside an archive, even one of a
    system tree (at '/', '..' is '/' itself)."""
    target = entry.target
    if not target or "\0" in target:
        return True
    if target.startswith("/"):
        return not keep_absolute
    resolved = posixpath.normpath(posixpath.join(posixpath.dirname(entry.path), target))
    return resolved == ".." or resolved.startswith("../")


def _parent_error(path: str, prefix: str, mode: int) -> PyarcError | None:
    """The error for an existing `prefix` on the way to `path`, if it is not a directory."""
    if stat.S_ISLNK(mode):
        return UnsafePathError(f"refusing to write {path!r} through symlink {prefix!r}")
    if not stat.S_ISDIR(mode):
        return ExistsError(f"cannot write {path!r}: {prefix!r} exists and is not a directory")
    return None


def _target_error(path: str, kind: Kind, mode: int, force: bool) -> PyarcError | None:
    """The error for an entry whose path exists on disk with `mode`, if it may not be replaced.

    A directory entry accepts an existing directory. A file or symlink replaces an existing
    file or symlink only with `force`, and never a directory.
    """
    if kind is Kind.DIRECTORY:
        if stat.S_ISDIR(mode):
            return None
        if stat.S_ISLNK(mode):
            return UnsafePathError(f"refusing to replace symlink {path!r} with a directory")
        return ExistsError(f"refusing to replace existing {path!r} with a directory")
    if stat.S_ISDIR(mode):
        return ExistsError(f"{_kind_name(kind)} {path!r} conflicts with directory {path!r}")
    if not force:
        return ExistsError(f"refusing to overwrite existing {path!r} (use --force)")
    return None


def _kind_name(kind: Kind) -> str:
    return "hard link" if kind is Kind.HARDLINK else kind.name.lower()


def _not_a_file(entry: Entry) -> str:
    return (f"refusing hard link {entry.path!r} -> {entry.target!r}: its target is not a file "
            f"this unpack extracts before it (a hard link is extracted with its target)")


def _temp_name(name: str) -> str:
    """A fresh temporary name beside `name`, within the 255-byte limit of a component."""
    token = os.urandom(6).hex()
    tmp = f".{name}.pyarc-tmp-{token}"
    return tmp if len(os.fsencode(tmp)) <= _NAME_MAX else f".pyarc-tmp-{token}"


def _is_inside(real: str, root: str) -> bool:
    return real == root or real.startswith(root.rstrip("/") + "/")


@contextlib.contextmanager
def _reporting(path: str) -> Iterator[None]:
    """Turn an OSError into one line naming `path` (cleanup has already run by then)."""
    try:
        yield
    except OSError as error:
        reason = error.strerror or str(error)
        raise PyarcError(f"cannot write {path!r}: {reason}") from error
