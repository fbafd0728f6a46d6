"""The metadata a backup needs (issue 18, item 8): owners, hard links, sparse files, FIFOs and
extended attributes, collected by `pack` (archiver/sources.py) and restored by `unpack`
(archiver/extract.py).

Most tests go through `Selection.sources()` for packing and `Extractor` for unpacking, which
is what `pack` and `unpack` do around the format; the last ones go through a real archive.
"""

from __future__ import annotations

import errno
import os
import socket
import stat
import traceback
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest
from conftest import NOBODY

import archiver
import archiver.api
import archiver.cli
from archiver.extract import Extractor, MetadataWarning
from archiver.format import Entry, Kind
from archiver.sources import InputProblemWarning, Problems, Selection, SkippedFileWarning

MiB = 1 << 20
MTIME = 1_600_000_000_123_456_789
IS_ROOT = os.geteuid() == 0
needs_root = pytest.mark.skipif(not IS_ROOT, reason="only root can give files away")


def packed(*paths: Path, block_size: int = MiB, **options: Any) -> list[tuple[Entry, bytes | None]]:
    """Every entry `pack` would store for `paths`, with its data (None: an entry without, or
    a copy of an earlier file)."""
    selection = Selection([str(path) for path in paths], **options)
    return [(source.entry, None if source.data is None else b"".join(source.data))
            for source in selection.sources(block_size, Problems())]


def only(selection: Selection, block_size: int,
         problems: Problems) -> tuple[Entry, Iterable[bytes] | None]:
    """The one entry a selection gives, with its data not yet read."""
    [source] = selection.sources(block_size, problems)
    return source.entry, source.data


def by_name(sources: list[tuple[Entry, bytes | None]]) -> dict[str, Entry]:
    return {entry.path: entry for entry, _ in sources}


def round_trip(source: Path, dest: Path, **options: Any) -> None:
    """Pack `source` and unpack it into `dest` as `pyarc unpack` will: check, extract, finish."""
    entries = packed(source, xattrs=options.get("xattrs", False))
    with Extractor(dest, umask=0, **options) as extractor:
        extractor.check_conflicts(entry for entry, _ in entries)
        for entry, data in entries:
            extractor.extract(entry, [data] if data else [])
        extractor.finish()


def user_xattrs_or_skip(path: Path) -> None:
    """Skip, with the reason, where this file system keeps no user extended attributes."""
    try:
        os.setxattr(path, "user.probe", b"1")
        os.removexattr(path, "user.probe")
    except OSError as error:
        pytest.skip(f"no user extended attributes on the file system of {path}: "
                    f"{error.strerror}")


def as_nobody(work: Callable[[], None]) -> None:
    """Run `work` as an unprivileged user: in a child process as nobody when the tests run as
    root (everything is imported already), else here. A failure in the child fails the test
    with its traceback."""
    if not IS_ROOT:
        work()
        return
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        status = 1
        try:
            os.close(read)
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            work()
            status = 0
        except BaseException:
            os.write(write, traceback.format_exc().encode())
        finally:
            os._exit(status)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        report = pipe.read().decode()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, report


# -- owners ----------------------------------------------------------------------------------


@pytest.fixture
def owned_tree(tmp_path: Path) -> Path:
    """A file, a folder, a symlink and a FIFO, all owned by nobody:nogroup (as root), and a
    file owned by ids that have no name here."""
    root = tmp_path / "tree"
    (root / "dir").mkdir(parents=True)
    (root / "dir" / "file").write_bytes(b"data")
    (root / "link").symlink_to("dir/file")
    os.mkfifo(root / "pipe", 0o640)
    (root / "nameless").write_bytes(b"who")
    if IS_ROOT:
        for path in (root, root / "dir", root / "dir" / "file", root / "link", root / "pipe"):
            os.chown(path, NOBODY, NOBODY, follow_symlinks=False)
        os.chown(root / "nameless", 4242, 4343)
    return root


@needs_root
def test_pack_records_owners_by_id_and_name_for_every_kind(owned_tree: Path) -> None:
    entries = by_name(packed(owned_tree))
    assert [entries[name].kind for name in ("tree", "tree/dir", "tree/dir/file", "tree/link",
                                            "tree/pipe")] == [
        Kind.DIRECTORY, Kind.DIRECTORY, Kind.FILE, Kind.SYMLINK, Kind.FIFO]
    for name in ("tree", "tree/dir", "tree/dir/file", "tree/link", "tree/pipe"):
        entry = entries[name]
        assert (entry.uid, entry.gid, entry.user, entry.group) == (
            NOBODY, NOBODY, "nobody", "nogroup"), name
    nameless = entries["tree/nameless"]
    assert (nameless.uid, nameless.gid, nameless.user, nameless.group) == (4242, 4343, "", "")


@needs_root
def test_owners_are_restored_as_root(owned_tree: Path, tmp_path: Path) -> None:
    dest = tmp_path / "out"
    round_trip(owned_tree, dest)
    for name in ("tree", "tree/dir", "tree/dir/file", "tree/link", "tree/pipe"):
        info = (dest / name).lstat()
        assert (info.st_uid, info.st_gid) == (NOBODY, NOBODY), name
    info = (dest / "tree" / "nameless").stat()
    assert (info.st_uid, info.st_gid) == (4242, 4343)  # no name here: by id
    assert stat.S_IMODE((dest / "tree" / "pipe").lstat().st_mode) == 0o640


@needs_root
def test_no_same_owner_leaves_everything_to_root(owned_tree: Path, tmp_path: Path) -> None:
    dest = tmp_path / "out"
    round_trip(owned_tree, dest, same_owner=False)
    for path in (dest / "tree", *(dest / "tree").rglob("*")):
        info = path.lstat()
        assert (info.st_uid, info.st_gid) == (0, 0), path


@needs_root
@pytest.mark.parametrize(("numeric", "expected"), [(False, (NOBODY, NOBODY)), (True, (4242, 4343))])
def test_names_win_over_ids_unless_numeric_owner(numeric: bool, expected: tuple[int, int],
                                                 tmp_path: Path) -> None:
    """As tar: by name where this system knows the name, by id with --numeric-owner; an
    unknown name falls back to the id."""
    entries = [
        Entry("known", Kind.FILE, 0o644, MTIME, 1, uid=4242, gid=4343, user="nobody",
              group="nogroup"),
        Entry("unknown", Kind.FILE, 0o644, MTIME, 1, uid=4242, gid=4343,
              user="no-such-user-here", group="no-such-group-here"),
        Entry("unrecorded", Kind.FILE, 0o644, MTIME, 1),
    ]
    with Extractor(tmp_path / "out", numeric_owner=numeric) as extractor:
        for entry in entries:
            extractor.extract(entry, [b"x"])
        extractor.finish()
    known = (tmp_path / "out" / "known").stat()
    assert (known.st_uid, known.st_gid) == expected
    unknown = (tmp_path / "out" / "unknown").stat()
    assert (unknown.st_uid, unknown.st_gid) == (4242, 4343)
    unrecorded = (tmp_path / "out" / "unrecorded").stat()
    assert (unrecorded.st_uid, unrecorded.st_gid) == (0, 0)


def test_owners_are_not_restored_by_a_user(shared_tmp: Path) -> None:
    """Not as root, the archived owner is ignored, silently (tar's rule): the files belong to
    whoever unpacks them."""
    dest = shared_tmp / "out"
    entries = [
        (Entry("dir", Kind.DIRECTORY, 0o755, MTIME, uid=0, gid=0, user="root", group="root"),
         b""),
        (Entry("dir/file", Kind.FILE, 0o644, MTIME, 4, uid=0, gid=0, user="root",
               group="root"), b"data"),
        (Entry("dir/pipe", Kind.FIFO, 0o600, MTIME, uid=0, gid=0), b""),
        (Entry("dir/link", Kind.SYMLINK, 0o777, MTIME, target="file", uid=0, gid=0), b""),
    ]

    def unpack() -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a warning would fail the child
            with Extractor(dest) as extractor:
                for entry, data in entries:
                    extractor.extract(entry, [data] if data else [])
                extractor.finish()

    as_nobody(unpack)
    me = NOBODY if IS_ROOT else os.geteuid()
    for name in ("dir", "dir/file", "dir/pipe", "dir/link"):
        assert (dest / name).lstat().st_uid == me, name
    assert (dest / "dir" / "file").read_bytes() == b"data"


@needs_root
def test_an_owner_that_cannot_be_given_is_a_warning(tmp_path: Path) -> None:
    """An id beyond what chown takes (as one a user namespace cannot map): the file is
    extracted, owned by root, with a warning naming it."""
    entry = Entry("f", Kind.FILE, 0o644, MTIME, 1, uid=1 << 40, gid=0)
    with Extractor(tmp_path / "out") as extractor, pytest.warns(MetadataWarning, match="'f'"):
        extractor.extract(entry, [b"x"])
    assert (tmp_path / "out" / "f").stat().st_uid == 0


def test_setuid_is_dropped_even_when_the_owner_is_restored(tmp_path: Path) -> None:
    entry = Entry("run", Kind.FILE, 0o6755, MTIME, 1, uid=NOBODY, gid=NOBODY)
    with Extractor(tmp_path / "out", umask=0) as extractor:
        extractor.extract(entry, [b"x"])
    assert stat.S_IMODE((tmp_path / "out" / "run").stat().st_mode) == 0o755


# -- hard links ------------------------------------------------------------------------------


@pytest.fixture
def linked_tree(tmp_path: Path) -> Path:
    root = tmp_path / "tree"
    (root / "a").mkdir(parents=True)
    (root / "z").mkdir()
    (root / "a" / "first").write_bytes(b"shared data")
    os.link(root / "a" / "first", root / "a" / "second")
    os.link(root / "a" / "first", root / "z" / "third")
    (root / "a" / "single").write_bytes(b"alone")
    return root


def test_pack_stores_later_names_of_a_file_as_hard_links(linked_tree: Path) -> None:
    sources = packed(linked_tree)
    entries = {entry.path: (entry, data) for entry, data in sources}
    first, data = entries["tree/a/first"]
    assert first.kind is Kind.FILE and data == b"shared data"
    for name in ("tree/a/second", "tree/z/third"):
        link, data = entries[name]
        assert (link.kind, link.target, link.size, data) == (Kind.HARDLINK, "tree/a/first", 0,
                                                             None)
        assert (link.mode, link.mtime_ns) == (first.mode, first.mtime_ns)
    assert entries["tree/a/single"][0].kind is Kind.FILE


def test_a_hard_link_whose_first_name_is_left_out_is_stored_as_the_file(
        linked_tree: Path) -> None:
    entries = by_name(packed(linked_tree, exclude=["first"]))
    assert entries["tree/a/second"].kind is Kind.FILE
    assert (entries["tree/z/third"].kind, entries["tree/z/third"].target) == (Kind.HARDLINK,
                                                                               "tree/a/second")


def test_hard_links_come_back_as_links(linked_tree: Path, tmp_path: Path) -> None:
    dest = tmp_path / "out"
    round_trip(linked_tree, dest)
    names = [dest / "tree" / "a" / "first", dest / "tree" / "a" / "second",
             dest / "tree" / "z" / "third"]
    inodes = {path.stat().st_ino for path in names}
    assert len(inodes) == 1
    assert names[0].stat().st_nlink == 3
    assert names[2].read_bytes() == b"shared data"
    assert (dest / "tree" / "a" / "single").stat().st_nlink == 1


# -- sparse files ----------------------------------------------------------------------------


def sparse_file(path: Path, size: int, runs: dict[int, bytes]) -> Path:
    """A file of `size` bytes, all holes but `runs` (offset -> data)."""
    with open(path, "wb") as file:
        file.truncate(size)
        for offset, data in runs.items():
            file.seek(offset)
            file.write(data)
    if path.stat().st_blocks * 512 >= size:
        pytest.skip(f"the file system of {path} does not keep holes")
    return path


@pytest.fixture
def image(tmp_path: Path) -> Path:
    """A 50 MB disk image holding 4 KiB of data."""
    return sparse_file(tmp_path / "disk.img", 50 * MiB, {30 * MiB: os.urandom(4096)})


def test_pack_reads_only_the_data_of_a_sparse_file(image: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    read = 0
    pread = os.pread

    def counted(fd: int, size: int, offset: int) -> bytes:
        nonlocal read
        data = pread(fd, size, offset)
        read += len(data)
        return data

    monkeypatch.setattr(os, "pread", counted)
    [(entry, data)] = packed(image)
    assert entry.size == 50 * MiB and entry.extents == ((30 * MiB, 4096),)
    assert entry.data_size == 4096 and data is not None and len(data) == 4096
    with open(image, "rb") as file:
        file.seek(30 * MiB)
        assert data == file.read(4096)
    assert read == 4096


def test_a_sparse_file_comes_back_with_its_holes(image: Path, tmp_path: Path) -> None:
    dest = tmp_path / "out"
    round_trip(image, dest)
    restored = dest / "disk.img"
    assert restored.stat().st_size == 50 * MiB
    assert restored.stat().st_blocks * 512 <= 64 << 10  # 4 KiB of data, not 50 MB
    assert restored.read_bytes() == image.read_bytes()


def test_extents_are_cut_into_whole_blocks(tmp_path: Path) -> None:
    """Several extents and a block size smaller than they are: every block but the last is
    whole, and the blocks are the extents' data one after the other."""
    path = sparse_file(tmp_path / "runs", 9 * MiB, {
        0: os.urandom(10_000), 3 * MiB: os.urandom(5_000), 9 * MiB - 100: os.urandom(100)})
    selection = Selection([str(path)])
    entry, data = only(selection, 3000, Problems())
    blocks = list(data or ())
    assert entry.extents is not None and len(entry.extents) == 3
    assert all(len(block) == 3000 for block in blocks[:-1]) and 0 < len(blocks[-1]) <= 3000
    content = path.read_bytes()
    assert b"".join(blocks) == b"".join(content[offset:offset + length]
                                        for offset, length in entry.extents)
    dest = tmp_path / "out"
    with Extractor(dest) as extractor:
        extractor.extract(entry, blocks)
    assert (dest / "runs").read_bytes() == content


def test_a_file_of_holes_only_stores_no_data(tmp_path: Path) -> None:
    path = tmp_path / "empty.img"
    with open(path, "wb") as file:
        file.truncate(10 * MiB)
    [(entry, data)] = packed(path)
    assert (entry.size, entry.extents, entry.data_size, data) == (10 * MiB, (), 0, b"")
    with Extractor(tmp_path / "out") as extractor:
        extractor.extract(entry, [])
    restored = tmp_path / "out" / "empty.img"
    assert restored.stat().st_size == 10 * MiB and restored.stat().st_blocks == 0


def test_a_file_without_holes_is_stored_whole(tmp_path: Path) -> None:
    (tmp_path / "full").write_bytes(os.urandom(100_000))
    [(entry, data)] = packed(tmp_path / "full")
    assert entry.extents is None and data == (tmp_path / "full").read_bytes()


@pytest.mark.parametrize("change", ["data in a hole", "data in a hole, mtime put back",
                                    "shrinks", "grows"])
def test_a_sparse_file_that_changes_while_read_is_reported(change: str, tmp_path: Path) -> None:
    path = sparse_file(tmp_path / "img", 8 * MiB, {MiB: b"a" * 4096, 6 * MiB: b"b" * 4096})
    problems = Problems()
    entry, data = only(Selection([str(path)]), MiB, problems)
    before = path.stat()
    with open(path, "r+b") as file:
        if change.startswith("data in a hole"):
            file.seek(3 * MiB)
            file.write(b"new")
        elif change == "shrinks":
            file.truncate(2 * MiB)
        else:
            file.seek(0, os.SEEK_END)
            file.write(b"more")
    if change.endswith("mtime put back"):
        os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    with pytest.warns(InputProblemWarning) as warned:
        blocks = list(data or ())
    assert len(warned) == 1
    message = str(warned[0].message)
    word = {"shrinks": "shrank", "grows": "grew"}.get(change, "changed while it was read")
    assert word in message and "'" + str(path) + "'" in message
    stored = b"".join(blocks)
    assert len(stored) == entry.data_size == 8192  # the extents as opened, whatever happened
    if change == "shrinks":
        assert stored == b"a" * 4096 + bytes(4096)  # the rest: zeros
    assert problems.messages == [message]


def test_fifos_are_entries_and_come_back_unopened(tmp_path: Path) -> None:
    """A FIFO is stored without being opened (nothing writes to it: an open would block) and
    restored as one."""
    source = tmp_path / "src"
    source.mkdir()
    os.mkfifo(source / "pipe")
    os.chmod(source / "pipe", 0o620)
    os.utime(source / "pipe", ns=(MTIME, MTIME))
    [_, (entry, data)] = packed(source)
    assert (entry.kind, entry.mode, entry.mtime_ns, data) == (Kind.FIFO, 0o620, MTIME, None)
    dest = tmp_path / "out"
    round_trip(source, dest)
    info = (dest / "src" / "pipe").lstat()
    assert stat.S_ISFIFO(info.st_mode) and stat.S_IMODE(info.st_mode) == 0o620
    assert info.st_mtime_ns == MTIME


def test_sockets_are_still_skipped_with_a_notice(tmp_path: Path) -> None:
    listener = socket.socket(socket.AF_UNIX)
    try:
        listener.bind(str(tmp_path / "sock"))
        (tmp_path / "f").write_bytes(b"f")
        with pytest.warns(SkippedFileWarning, match="sock"):
            names = [entry.path for entry, _ in packed(tmp_path / "sock", tmp_path / "f")]
    finally:
        listener.close()
    assert names == ["f"]


# -- extended attributes ---------------------------------------------------------------------


@pytest.fixture
def attributed(tmp_path: Path) -> Path:
    root = tmp_path / "tree"
    root.mkdir()
    user_xattrs_or_skip(root)
    (root / "f").write_bytes(b"data")
    os.setxattr(root / "f", "user.zeta", b"last")
    os.setxattr(root / "f", "user.alpha", b"\x00binary\xff")
    os.setxattr(root, "user.folder", b"yes")
    return root


def test_xattrs_are_recorded_only_when_asked(attributed: Path) -> None:
    entries = by_name(packed(attributed, xattrs=True))
    assert entries["tree/f"].xattrs == (("user.alpha", b"\x00binary\xff"),
                                        ("user.zeta", b"last"))
    assert ("user.folder", b"yes") in entries["tree"].xattrs
    assert all(entry.xattrs == () for entry in by_name(packed(attributed)).values())


def test_an_unreadable_xattr_is_a_problem_and_left_out(attributed: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    getxattr = os.getxattr

    def refuse_zeta(where: Any, name: str, **options: Any) -> bytes:
        if name == "user.zeta":
            raise OSError(errno.EACCES, os.strerror(errno.EACCES))
        return getxattr(where, name, **options)

    monkeypatch.setattr(os, "getxattr", refuse_zeta)
    problems = Problems()
    with pytest.warns(InputProblemWarning, match="user.zeta") as warned:
        entry, data = only(Selection([str(attributed / "f")], xattrs=True), MiB, problems)
        assert b"".join(data or ()) == b"data"
    assert len(warned) == 1 and "Permission denied" in problems.messages[0]
    assert entry.xattrs == (("user.alpha", b"\x00binary\xff"),)


def test_xattrs_are_restored_only_when_asked(attributed: Path, tmp_path: Path) -> None:
    round_trip(attributed, tmp_path / "with", xattrs=True)
    restored = tmp_path / "with" / "tree"
    assert os.getxattr(restored / "f", "user.alpha") == b"\x00binary\xff"
    assert os.getxattr(restored / "f", "user.zeta") == b"last"
    assert os.getxattr(restored, "user.folder") == b"yes"
    entries = packed(attributed, xattrs=True)
    with Extractor(tmp_path / "without") as extractor:
        for entry, data in entries:
            extractor.extract(entry, [data] if data else [])
        extractor.finish()
    assert os.listxattr(tmp_path / "without" / "tree" / "f") == []


def test_an_xattr_the_file_system_refuses_is_a_warning(tmp_path: Path) -> None:
    """A namespace no file system knows: the file is extracted with the rest of its
    attributes, and the refused one is named."""
    user_xattrs_or_skip(tmp_path)
    entry = Entry("f", Kind.FILE, 0o644, MTIME, 1,
                  xattrs=(("nonsense.x", b"1"), ("user.ok", b"2")))
    with Extractor(tmp_path / "out", xattrs=True) as extractor, pytest.warns(
            MetadataWarning, match="'nonsense.x' of 'f'"):
        extractor.extract(entry, [b"x"])
    assert os.getxattr(tmp_path / "out" / "f", "user.ok") == b"2"


def test_trusted_xattrs_are_refused_to_a_user_with_a_warning(shared_tmp: Path) -> None:
    user_xattrs_or_skip(shared_tmp)
    dest = shared_tmp / "out"
    entry = Entry("f", Kind.FILE, 0o644, MTIME, 1,
                  xattrs=(("trusted.secret", b"1"), ("user.ok", b"2")))

    def unpack() -> None:
        with Extractor(dest, xattrs=True) as extractor, warnings.catch_warnings(
                record=True) as warned:
            warnings.simplefilter("always")
            extractor.extract(entry, [b"x"])
        assert [str(w.message) for w in warned if "trusted.secret" in str(w.message)], warned

    as_nobody(unpack)
    assert os.getxattr(dest / "f", "user.ok") == b"2"
    assert "trusted.secret" not in os.listxattr(dest / "f")


def test_file_capabilities_are_never_restored(tmp_path: Path) -> None:
    """security.capability gives a program privileges, as setuid does: dropped as it is."""
    capability = bytes.fromhex("0000000200200000000000000000000000000000")  # cap_net_raw
    entry = Entry("ping", Kind.FILE, 0o755, MTIME, 1,
                  xattrs=(("security.capability", capability),))
    with Extractor(tmp_path / "out", xattrs=True) as extractor:
        extractor.extract(entry, [b"x"])
    assert "security.capability" not in os.listxattr(tmp_path / "out" / "ping")


def test_xattrs_of_symlinks_and_fifos_are_set_on_the_name(tmp_path: Path) -> None:
    """Neither has an fd: the attributes go on the name itself (never on what a symlink
    points to). user.* is refused on both by Linux, so trusted.* (root) shows it."""
    if not IS_ROOT:
        pytest.skip("trusted.* attributes need root")
    user_xattrs_or_skip(tmp_path)
    target = tmp_path / "out" / "target"
    entries = [
        Entry("target", Kind.FILE, 0o644, MTIME, 1),
        Entry("link", Kind.SYMLINK, 0o777, MTIME, target="target",
              xattrs=(("trusted.mark", b"link"),)),
        Entry("pipe", Kind.FIFO, 0o644, MTIME, xattrs=(("trusted.mark", b"pipe"),)),
    ]
    with Extractor(tmp_path / "out", xattrs=True) as extractor:
        extractor.extract(entries[0], [b"x"])
        for entry in entries[1:]:
            extractor.extract(entry)
        extractor.finish()
    out = tmp_path / "out"
    assert os.getxattr(out / "link", "trusted.mark", follow_symlinks=False) == b"link"
    assert os.getxattr(out / "pipe", "trusted.mark") == b"pipe"
    assert os.listxattr(target) == []


# -- the options, from the command line to the Extractor ---------------------------------------


@pytest.mark.parametrize(("argv", "expected"), [
    ([], dict(same_owner=True, numeric_owner=False, xattrs=False)),
    (["--no-same-owner", "--numeric-owner", "--xattrs"],
     dict(same_owner=False, numeric_owner=True, xattrs=True)),
])
@pytest.mark.parametrize("salvage", [False, True])
def test_unpack_passes_the_owner_and_xattr_options_to_the_extractor(
        argv: list[str], expected: dict[str, bool], salvage: bool, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "f").write_bytes(b"data")
    archive = tmp_path / "a.pyarc"
    archiver.pack([tmp_path / "f"], archive)
    given: list[dict[str, Any]] = []

    def recording(dest: Path, **options: Any) -> Extractor:
        given.append(options)
        return Extractor(dest, **options)

    monkeypatch.setattr(archiver.extract, "Extractor", recording)
    salvaging = ["--salvage"] if salvage else []
    code = archiver.cli.main(["unpack", "-q", *salvaging, *argv, str(archive), "-C",
                              str(tmp_path / "out")])
    assert code == 0
    assert [{key: options[key] for key in expected} for options in given] == [expected]
    assert (tmp_path / "out" / "f").read_bytes() == b"data"


@pytest.mark.parametrize("xattrs", [False, True])
def test_pack_passes_xattrs_to_the_selection(xattrs: bool, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "f").write_bytes(b"data")
    given: list[bool] = []

    class Recording(Selection):
        def __init__(self, *args: Any, **options: Any) -> None:
            super().__init__(*args, **options)
            given.append(self.xattrs)

    monkeypatch.setattr(archiver.sources, "Selection", Recording)
    code = archiver.cli.main(["pack", "-q", *(["--xattrs"] if xattrs else []),
                              str(tmp_path / "a.pyarc"), str(tmp_path / "f")])
    assert code == 0 and given == [xattrs]
