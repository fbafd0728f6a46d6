"""archiver.extract: entries land where they belong, completely or not at all, and never outside."""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

from archiver.errors import ChecksumError, ExistsError, FormatError, PyarcError, UnsafePathError
from archiver.extract import Extractor
from archiver.format import Entry, Kind

MTIME = 1_600_000_000_123_456_789


def file(path: str, data: bytes = b"data", mode: int = 0o644, mtime: int = MTIME) -> Entry:
    return Entry(path, Kind.FILE, mode, mtime, size=len(data))


def directory(path: str, mode: int = 0o755, mtime: int = MTIME) -> Entry:
    return Entry(path, Kind.DIRECTORY, mode, mtime)


def symlink(path: str, target: str, mtime: int = MTIME) -> Entry:
    return Entry(path, Kind.SYMLINK, 0o777, mtime, target=target)


def unpack(
    dest: Path,
    entries: Iterable[tuple[Entry, bytes]],
    *,
    force: bool = False,
    check: bool = True,
    umask: int | None = 0,
    keep_absolute_symlinks: bool = False,
) -> None:
    """What `pyarc unpack` does: check everything, extract everything, finish.

    `umask` defaults to 0 (modes as archived) so that the tests do not depend on who runs them;
    None reads it as pyarc does."""
    entries = list(entries)
    with Extractor(
        dest, force=force, umask=umask, keep_absolute_symlinks=keep_absolute_symlinks
    ) as extractor:
        if check:
            extractor.check_conflicts(entry for entry, _ in entries)
        for entry, data in entries:
            extractor.extract(entry, [data] if data else [])
        extractor.finish()


def listing(root: Path) -> set[str]:
    return {str(path.relative_to(root)) for path in root.rglob("*")}


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


@pytest.fixture
def dest(tmp_path: Path) -> Path:
    return tmp_path / "out" / "dest"  # missing, with a missing parent: the extractor creates both


# -- the normal case -------------------------------------------------------------------------


def test_files_directories_and_symlinks_with_modes_and_mtimes(dest: Path) -> None:
    unpack(
        dest,
        [
            (directory("d", mode=0o750, mtime=MTIME + 1), b""),
            (file("d/f.txt", b"hello", mode=0o640, mtime=MTIME + 2), b"hello"),
            (file("d/sub/run.sh", b"#!/bin/sh\n", mode=0o4755), b"#!/bin/sh\n"),  # implicit parent
            (file("empty", b""), b""),
            (symlink("d/link", "f.txt", mtime=MTIME + 3), b""),
        ],
    )

    assert (dest / "d/f.txt").read_bytes() == b"hello"
    assert mode_of(dest / "d/f.txt") == 0o640
    assert (dest / "d/f.txt").stat().st_mtime_ns == MTIME + 2
    assert mode_of(dest / "d/sub/run.sh") == 0o755  # setuid dropped
    assert (dest / "empty").read_bytes() == b""
    assert mode_of(dest / "d") == 0o750
    assert (dest / "d").stat().st_mtime_ns == MTIME + 1  # applied after its children were written
    assert mode_of(dest / "d/sub") == 0o755  # created without an entry of its own
    assert os.readlink(dest / "d/link") == "f.txt"
    assert (dest / "d/link").lstat().st_mtime_ns == MTIME + 3
    assert (dest / "d/link").read_bytes() == b"hello"
    assert not [name for name in listing(dest) if "pyarc-tmp" in name]


# -- modes: the umask, the sticky bit ------------------------------------------------------------

MODES = [  # (entry, data): what the umask and the sticky bit rules are about
    (directory("d", mode=0o777), b""),
    (file("d/f", mode=0o666), b"data"),
    (file("d/run", mode=0o777), b"data"),
    (directory("tmp", mode=0o1777), b""),
    (directory("all", mode=0o7777), b""),
    (file("suid", mode=0o4755), b"data"),
    (file("sticky", mode=0o1755), b"data"),
    (file("implicit/f", mode=0o644), b"data"),
]


def modes_below(root: Path) -> dict[str, int]:
    return {name: mode_of(root / name) for name in listing(root)}


def test_umask_is_applied_to_files_and_directories(dest: Path) -> None:
    unpack(dest, MODES, umask=0o077)  # a normal user with umask 077, as GNU tar does
    assert modes_below(dest) == {
        "d": 0o700, "d/f": 0o600, "d/run": 0o700,
        "tmp": 0o1700, "all": 0o1700,  # the sticky bit stays, minus the umask's bits
        "suid": 0o700, "sticky": 0o700,
        "implicit": 0o700,  # no entry of its own: 0o755 minus the umask
        "implicit/f": 0o600,
    }


def test_without_umask_modes_are_as_archived_but_setuid_setgid(dest: Path) -> None:
    unpack(dest, MODES, umask=0)
    assert modes_below(dest) == {
        "d": 0o777, "d/f": 0o666, "d/run": 0o777,
        "tmp": 0o1777, "all": 0o1777,  # setuid and setgid dropped, sticky kept
        "suid": 0o755, "sticky": 0o755,  # a file never gets the sticky bit
        "implicit": 0o755, "implicit/f": 0o644,
    }


def test_the_umask_is_the_process_umask_unless_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    entries = [(directory("d", mode=0o777), b""), (file("d/f", mode=0o666), b"data")]
    before = os.umask(0o027)
    try:
        monkeypatch.setattr(os, "geteuid", lambda: 1000)
        unpack(tmp_path / "user", entries, umask=None)
        assert os.umask(0o027) == 0o027  # read, and put back
        assert modes_below(tmp_path / "user") == {"d": 0o750, "d/f": 0o640}
        monkeypatch.setattr(os, "geteuid", lambda: 0)
        unpack(tmp_path / "root", entries, umask=None)
        assert modes_below(tmp_path / "root") == {"d": 0o777, "d/f": 0o666}
    finally:
        os.umask(before)


def test_read_only_directory_gets_its_children_first(dest: Path) -> None:
    unpack(
        dest,
        [
            (directory("ro", mode=0o500), b""),
            (directory("ro/inner", mode=0o500), b""),
            (file("ro/inner/f", b"x", mode=0o400), b"x"),
            (symlink("ro/l", "inner/f"), b""),
        ],
    )
    try:
        assert (dest / "ro/inner/f").read_bytes() == b"x"
        assert mode_of(dest / "ro") == 0o500
        assert mode_of(dest / "ro/inner") == 0o500
        assert (dest / "ro").stat().st_mtime_ns == MTIME
    finally:
        (dest / "ro").chmod(0o700)
        (dest / "ro/inner").chmod(0o700)


def test_unicode_and_long_names(dest: Path) -> None:
    long_name = "é" * 127  # 254 bytes: the temporary name must not exceed the 255-byte limit
    names = ["данные/文件.txt", "emoji/🗜️ archive.bin", f"long/{long_name}"]
    unpack(dest, [(file(name, name.encode()), name.encode()) for name in names])
    for name in names:
        assert (dest / name).read_bytes() == name.encode()


def test_existing_directory_is_fine_without_force(dest: Path) -> None:
    (dest / "d").mkdir(parents=True)
    (dest / "d/keep").write_bytes(b"k")
    (dest / "d").chmod(0o750)
    unpack(dest, [(directory("d", mode=0o777), b""), (file("d/new"), b"data")])
    assert (dest / "d/keep").read_bytes() == b"k"
    assert (dest / "d/new").read_bytes() == b"data"
    assert mode_of(dest / "d") == 0o750  # not the archive's: the directory was there before


OLD = 1_500_000_000_000_000_000


def test_existing_directories_keep_mode_and_mtime_unless_forced(tmp_path: Path) -> None:
    entries = [
        (directory("home", mode=0o777, mtime=MTIME), b""),
        (directory("home/new", mode=0o751, mtime=MTIME), b""),
        (file("home/new/f"), b"data"),
        (file("home/old/f"), b"data"),  # 'home/old' exists, with no entry of its own
    ]
    for force in (False, True):
        dest = tmp_path / f"force={force}"
        (dest / "home/old").mkdir(parents=True)
        for name in ("home", "home/old"):
            (dest / name).chmod(0o700)
            os.utime(dest / name, ns=(OLD, OLD))
        unpack(dest, entries, force=force)
        assert mode_of(dest / "home/new") == 0o751  # created by the unpack: as archived
        assert (dest / "home/new").stat().st_mtime_ns == MTIME
        assert mode_of(dest / "home/old") == 0o700  # no entry: untouched even when forced
        if force:
            assert mode_of(dest / "home") == 0o777
            assert (dest / "home").stat().st_mtime_ns == MTIME
        else:
            assert mode_of(dest / "home") == 0o700
            assert (dest / "home").stat().st_mtime_ns != MTIME  # now: 'new' was made in it


def test_an_existing_directory_with_nothing_new_keeps_its_mtime(dest: Path) -> None:
    (dest / "d").mkdir(parents=True)
    os.utime(dest / "d", ns=(OLD, OLD))
    unpack(dest, [(directory("d", mtime=MTIME), b"")])
    assert (dest / "d").stat().st_mtime_ns == OLD


def test_many_small_files(dest: Path) -> None:
    # More directories than the fd cache holds, so cached fds get evicted and reopened.
    entries = [(file(f"dir{i % 300}/f{i}", b"%d" % i), b"%d" % i) for i in range(2000)]
    fds_before = len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else None
    unpack(dest, entries)
    assert (dest / "dir7/f1807").read_bytes() == b"1807"
    assert sum(1 for path in dest.rglob("*") if path.is_file()) == 2000
    if fds_before is not None:
        assert len(os.listdir("/proc/self/fd")) == fds_before  # close() released every fd


# -- nothing incomplete is ever left behind ------------------------------------------------------


def failing_chunks(exc: BaseException) -> Iterator[bytes]:
    yield b"first block "
    raise exc


@pytest.mark.parametrize(
    "exc", [ChecksumError("block 1 of 'f': checksum mismatch"), KeyboardInterrupt()]
)
def test_chunk_error_removes_the_temporary_file(dest: Path, exc: BaseException) -> None:
    with Extractor(dest) as extractor:
        with pytest.raises(type(exc)) as raised:
            extractor.extract(file("d/f", b"x" * 100), failing_chunks(exc))
        assert raised.value is exc  # re-raised unchanged
    assert listing(dest) == {"d"}


@pytest.mark.parametrize(
    "exc", [ChecksumError("block 1 of 'f': checksum mismatch"), KeyboardInterrupt()]
)
def test_failed_unpack_gives_created_directories_their_modes(
    dest: Path, exc: BaseException
) -> None:
    """Not 0o700 as while they were being filled: what they would have got."""
    (dest / "old").mkdir(parents=True)
    (dest / "old").chmod(0o750)
    with pytest.raises(type(exc)) as raised, Extractor(dest, force=True, umask=0o022) as extractor:
        extractor.extract(directory("d", mode=0o777))
        extractor.extract(directory("old", mode=0o777))  # was there: not changed on failure
        extractor.extract(directory("d/ro", mode=0o555))
        extractor.extract(file("d/sub/f", b"x" * 100), failing_chunks(exc))
    assert raised.value is exc
    assert modes_below(dest) == {"d": 0o755, "d/ro": 0o555, "d/sub": 0o755, "old": 0o750}


def test_failure_in_finish_gives_created_directories_their_modes(dest: Path) -> None:
    entries = [(directory("d", mode=0o751), b""), (file("f"), b"data"), (symlink("f/x", "y"), b"")]
    with pytest.raises(ExistsError, match="'f' exists and is not a directory"):
        unpack(dest, entries, check=False)  # the symlink fails, before the directories' turn
    assert modes_below(dest) == {"d": 0o751, "f": 0o644}


def test_errors_while_restoring_modes_do_not_hide_the_failure(
    dest: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_fchmod = os.fchmod
    calls = []

    def fchmod_failing_first(fd: int, mode: int) -> None:
        calls.append(mode)
        if len(calls) == 1:
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        real_fchmod(fd, mode)

    with pytest.raises(KeyboardInterrupt), Extractor(dest, umask=0) as extractor:
        extractor.extract(directory("a", mode=0o751))
        extractor.extract(directory("a/b", mode=0o751))
        monkeypatch.setattr(os, "fchmod", fchmod_failing_first)
        raise KeyboardInterrupt
    monkeypatch.undo()
    assert calls == [0o751, 0o751]  # 'a/b' failed (deepest first), 'a' was still done
    assert modes_below(dest) == {"a": 0o751, "a/b": 0o700}


def test_restoring_modes_after_a_failure_never_follows_a_symlink(
    dest: Path, outside: Path
) -> None:
    outside.chmod(0o700)
    with pytest.raises(KeyboardInterrupt), Extractor(dest, umask=0) as extractor:
        extractor.extract(directory("a", mode=0o777))
        extractor.extract(directory("a/b", mode=0o777))
        for i in range(200):  # more than the fd cache holds: 'a/b' must be opened again
            extractor.extract(directory(f"x/{i}"))
        (dest / "a/b").rename(dest / "a/moved")
        (dest / "a/b").symlink_to(outside)
        raise KeyboardInterrupt
    assert mode_of(outside) == 0o700
    assert mode_of(dest / "a") == 0o777


@pytest.mark.parametrize("data", [b"short", b"much too long for it"])
def test_size_mismatch_is_refused_and_leaves_nothing(dest: Path, data: bytes) -> None:
    with Extractor(dest) as extractor, pytest.raises(FormatError, match="'f'"):
        extractor.extract(Entry("f", Kind.FILE, 0o644, MTIME, size=10), [data])
    assert listing(dest) == set()


def test_os_error_becomes_one_line_and_cleans_up(
    dest: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_full(fd: int, data: bytes, offset: int) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with Extractor(dest) as extractor:
        monkeypatch.setattr(os, "pwrite", disk_full)
        with pytest.raises(PyarcError) as raised:
            extractor.extract(file("x"), [b"data"])
        monkeypatch.undo()
    assert str(raised.value) == "cannot write 'x': No space left on device"
    assert listing(dest) == set()


# -- overwriting -----------------------------------------------------------------------------


def test_no_overwrite_without_force(dest: Path) -> None:
    dest.mkdir(parents=True)
    (dest / "f").write_bytes(b"old")
    entries = [(file("new"), b"data"), (file("f"), b"data")]

    with pytest.raises(ExistsError) as raised:
        unpack(dest, entries)
    assert str(raised.value) == "refusing to overwrite existing 'f' (use --force)"
    assert listing(dest) == {"f"}  # refused up front: 'new' was never written

    with Extractor(dest) as extractor, pytest.raises(ExistsError):
        extractor.extract(file("f"), [b"data"])  # extract() checks again
    assert (dest / "f").read_bytes() == b"old"
    assert listing(dest) == {"f"}


def test_force_replaces_a_file(dest: Path) -> None:
    dest.mkdir(parents=True)
    (dest / "f").write_bytes(b"old")
    unpack(dest, [(file("f", b"new"), b"new")], force=True)
    assert (dest / "f").read_bytes() == b"new"


def test_force_replaces_a_symlink_without_touching_its_target(dest: Path, outside: Path) -> None:
    dest.mkdir(parents=True)
    (dest / "f").symlink_to(outside / "secret")
    (dest / "l").symlink_to(outside / "secret")
    unpack(dest, [(file("f", b"new"), b"new"), (symlink("l", "f"), b"")], force=True)
    assert not (dest / "f").is_symlink()
    assert (dest / "f").read_bytes() == b"new"
    assert os.readlink(dest / "l") == "f"
    assert (outside / "secret").read_bytes() == b"untouched"


@pytest.mark.parametrize("entry", [file("d"), symlink("d", "x")])
def test_force_never_replaces_a_directory(dest: Path, entry: Entry) -> None:
    (dest / "d").mkdir(parents=True)
    (dest / "d/keep").write_bytes(b"k")
    with pytest.raises(ExistsError, match="conflicts with directory 'd'"):
        unpack(dest, [(entry, b"data" if entry.kind is Kind.FILE else b"")], force=True)
    with pytest.raises(ExistsError):
        unpack(
            dest, [(entry, b"data" if entry.kind is Kind.FILE else b"")], force=True, check=False
        )
    assert (dest / "d/keep").read_bytes() == b"k"


def test_directory_entry_refuses_a_file_or_symlink_in_its_place(dest: Path, outside: Path) -> None:
    dest.mkdir(parents=True)
    (dest / "f").write_bytes(b"old")
    (dest / "l").symlink_to(outside)
    for path, error in [("f", ExistsError), ("l", UnsafePathError)]:
        for check in (True, False):
            with pytest.raises(error, match=f"'{path}'"):
                unpack(dest, [(directory(path), b"")], force=True, check=check)
    assert (dest / "f").read_bytes() == b"old"
    assert (dest / "l").is_symlink()


def test_symlink_entry_conflicting_with_a_directory_of_the_archive(dest: Path) -> None:
    entries = [(file("l/x"), b"data"), (symlink("l", "elsewhere"), b"")]
    with pytest.raises(UnsafePathError, match="entries below symlink 'l'"):
        unpack(dest, entries)
    assert not dest.exists() or listing(dest) == set()  # refused up front
    with pytest.raises(ExistsError, match="symlink 'l' conflicts with directory 'l'"):
        unpack(dest, entries, check=False)  # too late to refuse up front, but still refused


# -- never outside the destination -------------------------------------------------------------


@pytest.mark.parametrize("path", ["evil/x", "evil/sub/x", "d/evil/x"])
def test_never_writes_through_an_existing_symlink(dest: Path, outside: Path, path: str) -> None:
    (dest / "d").mkdir(parents=True)
    (dest / "evil").symlink_to(outside)
    (dest / "d/evil").symlink_to(outside)
    for check in (True, False):
        with pytest.raises(UnsafePathError, match="through symlink"):
            unpack(dest, [(file(path), b"data")], force=True, check=check)
    assert sorted(os.listdir(outside)) == ["secret"]


def test_never_writes_through_a_symlink_swapped_in_after_the_check(
    dest: Path, outside: Path
) -> None:
    dest.mkdir(parents=True)
    with Extractor(dest) as extractor:
        extractor.check_conflicts([file("evil/x")])
        (dest / "evil").symlink_to(outside)
        with pytest.raises(UnsafePathError):
            extractor.extract(file("evil/x"), [b"data"])
    assert sorted(os.listdir(outside)) == ["secret"]


@pytest.mark.parametrize(
    "path", ["../x", "/etc/passwd", "a/../../x", "a/./b", "./a", "a//b", "a/", "", "a\0b", ".."]
)
def test_unsafe_paths_are_refused(dest: Path, path: str) -> None:
    for kind in Kind:
        entry = Entry(path, kind, 0o644, MTIME, target="t")
        with Extractor(dest) as extractor:
            with pytest.raises(UnsafePathError, match="refusing unsafe path"):
                extractor.check_conflicts([entry])
            with pytest.raises(UnsafePathError, match="refusing unsafe path"):
                extractor.extract(entry)
    assert listing(dest) == set()


@pytest.mark.parametrize(
    "path, target",
    [
        ("l", "/etc"),
        ("l", ".."),
        ("a/l", "../.."),
        ("a/l", "b/../../../x"),
        ("l", ""),
        ("l", "a\0b"),
    ],
)
def test_escaping_symlink_targets_are_refused(dest: Path, path: str, target: str) -> None:
    # The symlink is left out, the rest is extracted, and then the refusal is reported.
    with Extractor(dest) as extractor:
        extractor.check_conflicts([symlink(path, target), file("kept")])
        extractor.extract(symlink(path, target))
        extractor.extract(file("kept"), [b"data"])
        with pytest.raises(UnsafePathError, match="refused symlink .* outside the destination"):
            extractor.finish()
    assert listing(dest) == {"kept"}


def test_symlinks_inside_are_allowed(dest: Path) -> None:
    unpack(
        dest,
        [
            (symlink("a/up", ".."), b""),
            (symlink("a/b/deep", "../../a"), b""),
            (symlink("self", "."), b""),
        ],
    )
    assert os.readlink(dest / "a/up") == ".."
    assert os.readlink(dest / "a/b/deep") == "../../a"


def test_symlink_chain_escaping_physically_is_removed(dest: Path) -> None:
    # Each target stays inside lexically, but 'a' -> 'b/..' with 'b' -> '.' is dest/..
    with pytest.raises(UnsafePathError, match="'a' -> 'b/..'"):
        unpack(dest, [(symlink("a", "b/.."), b""), (symlink("b", "."), b"")])
    assert listing(dest) == {"b"}


def test_symlink_through_an_existing_outside_symlink_is_removed(dest: Path, outside: Path) -> None:
    dest.mkdir(parents=True)
    (dest / "out").symlink_to(outside)
    with pytest.raises(UnsafePathError, match="outside the destination"):
        unpack(dest, [(symlink("l", "out/secret"), b"")])
    assert listing(dest) == {"out"}
    assert (outside / "secret").read_bytes() == b"untouched"


def test_an_absolute_symlink_is_refused_with_a_hint(dest: Path) -> None:
    with pytest.raises(UnsafePathError, match="'l' -> '/etc'.*--keep-absolute-symlinks"):
        unpack(dest, [(symlink("l", "/etc"), b"")])


# -- absolute symlinks kept, for restoring a system tree ---------------------------------------


def test_absolute_symlinks_are_kept_when_asked(dest: Path, outside: Path) -> None:
    unpack(
        dest,
        [
            (file("etc/passwd"), b"data"),
            (symlink("etc/x", str(outside)), b""),
            (symlink("etc/secret", str(outside / "secret")), b""),
            # Through a kept absolute link it resolves outside, as the link itself does: the
            # check on the finished tree is not made when absolute links are kept.
            (symlink("etc/y", "x/secret"), b""),
        ],
        keep_absolute_symlinks=True,
    )
    assert os.readlink(dest / "etc/x") == str(outside)
    assert os.readlink(dest / "etc/secret") == str(outside / "secret")
    assert os.readlink(dest / "etc/y") == "x/secret"
    assert (outside / "secret").read_bytes() == b"untouched"


@pytest.mark.parametrize(
    "path, target", [("l", ".."), ("a/l", "../.."), ("a/l", "b/../../../x"), ("l", ""),
                     ("l", "a\0b")]
)
def test_kept_absolute_links_still_refuse_relative_escapes(
    dest: Path, path: str, target: str
) -> None:
    with pytest.raises(UnsafePathError, match="refused symlink .* outside the destination"):
        unpack(dest, [(symlink(path, target), b""), (file("kept"), b"data")],
               keep_absolute_symlinks=True)
    assert listing(dest) == {"kept"}


@pytest.mark.parametrize("check", [True, False])  # False: a stream, checked as it comes
def test_an_entry_below_a_kept_absolute_link_is_never_written_through(
    dest: Path, outside: Path, check: bool
) -> None:
    for below in (file("etc/x/evil"), directory("etc/x/evil"), symlink("etc/x/evil", "y")):
        for entries in ([(symlink("etc/x", str(outside)), b""), (below, b"data")],
                        [(below, b"data"), (symlink("etc/x", str(outside)), b"")]):
            with pytest.raises((UnsafePathError, ExistsError)):
                unpack(dest, entries, force=True, check=check, keep_absolute_symlinks=True)
            assert sorted(os.listdir(outside)) == ["secret"]
            assert not (dest / "etc/x").is_symlink()  # refused, or in the way of a real directory


def test_a_later_unpack_never_writes_through_a_kept_absolute_link(
    dest: Path, outside: Path
) -> None:
    unpack(dest, [(symlink("etc/x", str(outside)), b"")], keep_absolute_symlinks=True)
    for entry in (file("etc/x/evil"), directory("etc/x/evil"), file("etc/x/secret"),
                  symlink("etc/x/evil", "y"), directory("etc/x")):
        for check in (True, False):
            with pytest.raises(UnsafePathError, match="symlink 'etc/x'"):
                unpack(dest, [(entry, b"data" if entry.kind is Kind.FILE else b"")],
                       force=True, check=check, keep_absolute_symlinks=True)
    assert sorted(os.listdir(outside)) == ["secret"]
    assert (outside / "secret").read_bytes() == b"untouched"
    assert os.readlink(dest / "etc/x") == str(outside)


# -- the destination itself -------------------------------------------------------------------


def test_a_destination_that_is_a_file_is_refused_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "file").write_bytes(b"precious")
    (tmp_path / "link").symlink_to("file")
    for name in ("file", "link"):
        with pytest.raises(PyarcError) as raised:
            Extractor(tmp_path / name)
        assert str(raised.value) == (
            f"cannot extract into '{tmp_path / name}': it is not a directory"
        )
    with pytest.raises(PyarcError) as raised:
        Extractor(tmp_path / "file/sub")
    assert str(raised.value) == f"cannot extract into '{tmp_path / 'file/sub'}': Not a directory"
    assert (tmp_path / "file").read_bytes() == b"precious"
    assert sorted(os.listdir(tmp_path)) == ["file", "link"]


def test_close_is_idempotent_and_releases_the_destination(dest: Path) -> None:
    extractor = Extractor(dest)
    extractor.extract(file("f"), [b"data"])
    extractor.close()
    extractor.close()
    assert listing(dest) == {"f"}


# -- hard links, FIFOs and sparse files ----------------------------------------------------------


def hardlink(path: str, target: str) -> Entry:
    return Entry(path, Kind.HARDLINK, 0o644, MTIME, target=target)


def fifo(path: str, mode: int = 0o640) -> Entry:
    return Entry(path, Kind.FIFO, mode, MTIME)


def test_a_hard_link_is_linked_to_the_file_written_before_it(dest: Path) -> None:
    unpack(dest, [(file("a", b"shared"), b"shared"), (hardlink("d/b", "a"), b"")])
    assert (dest / "d/b").stat().st_ino == (dest / "a").stat().st_ino
    assert (dest / "a").stat().st_nlink == 2
    assert listing(dest) == {"a", "d", "d/b"}  # no temporary name left


@pytest.mark.parametrize("case", ["a symlink of the archive", "a directory of the archive",
                                  "outside, absolute", "outside, with ..", "missing", "itself"])
def test_a_hard_link_to_anything_but_a_file_it_wrote_is_refused(case: str, dest: Path,
                                                                outside: Path) -> None:
    before = [(file("f"), b"data")]
    target, extra = {
        "a symlink of the archive": ("l", [(symlink("l", "f"), b"")]),
        "a directory of the archive": ("d", [(directory("d"), b"")]),
        "outside, absolute": (str(outside / "secret"), []),
        "outside, with ..": ("../../outside/secret", []),
        "missing": ("nowhere", []),
        "itself": ("h", []),
    }[case]
    for check in (True, False):
        with pytest.raises(UnsafePathError, match="refusing hard link 'h'"):
            unpack(dest, [*before, *extra, (hardlink("h", target), b"")], check=check,
                   force=True)
        assert not os.path.lexists(dest / "h")
    assert (outside / "secret").read_bytes() == b"untouched"
    assert (outside / "secret").stat().st_nlink == 1


@pytest.mark.parametrize("kind", ["hard link to outside", "symlink to outside"])
def test_a_hard_link_never_links_what_was_on_disk_before(kind: str, dest: Path,
                                                         outside: Path) -> None:
    """'a' in the destination is no file of this unpack: a link to it could reach anything."""
    dest.mkdir(parents=True)
    if kind == "symlink to outside":
        (dest / "a").symlink_to(outside / "secret")
    else:
        os.link(outside / "secret", dest / "a")
    with pytest.raises(UnsafePathError, match="refusing hard link 'h' -> 'a'"):
        unpack(dest, [(hardlink("h", "a"), b"")])
    assert listing(dest) == {"a"}
    assert (outside / "secret").stat().st_nlink == (1 if kind == "symlink to outside" else 2)


@pytest.mark.parametrize("swap", ["symlink to outside", "hard link to outside"])
def test_a_hard_link_to_a_file_swapped_meanwhile_is_refused(swap: str, dest: Path,
                                                            outside: Path) -> None:
    with Extractor(dest) as extractor:
        extractor.extract(file("a"), [b"data"])
        (dest / "a").unlink()
        if swap == "symlink to outside":  # it may well get the inode number 'a' had
            (dest / "a").symlink_to(outside / "secret")
        else:
            os.link(outside / "secret", dest / "a")
        with pytest.raises(UnsafePathError, match="no longer the file this unpack wrote"):
            extractor.extract(hardlink("h", "a"))
    assert listing(dest) == {"a"}
    assert (outside / "secret").read_bytes() == b"untouched"


@pytest.mark.parametrize("entry", [hardlink("b", "a"), fifo("b")], ids=["hard link", "fifo"])
def test_a_hard_link_or_fifo_replaces_a_file_only_with_force(entry: Entry, dest: Path,
                                                             outside: Path) -> None:
    dest.mkdir(parents=True)
    os.link(outside / "secret", dest / "b")  # replacing the name must not touch the file
    entries = [(file("a", b"new"), b"new"), (entry, b"")]
    for check in (True, False):
        with pytest.raises(ExistsError, match="refusing to overwrite existing 'b'"):
            unpack(dest, entries, check=check)
        assert (dest / "b").stat().st_ino == (outside / "secret").stat().st_ino
    unpack(dest, entries, force=True)
    replaced = (dest / "b").lstat()
    if entry.kind is Kind.FIFO:
        assert stat.S_ISFIFO(replaced.st_mode)
    else:
        assert replaced.st_ino == (dest / "a").stat().st_ino
    assert (outside / "secret").read_bytes() == b"untouched"
    assert (outside / "secret").stat().st_nlink == 1
    assert listing(dest) == {"a", "b"}


@pytest.mark.parametrize("entry", [hardlink("d", "a"), fifo("d")], ids=["hard link", "fifo"])
def test_a_hard_link_or_fifo_never_replaces_a_directory(entry: Entry, dest: Path) -> None:
    (dest / "d").mkdir(parents=True)
    (dest / "d/keep").write_bytes(b"k")
    for check in (True, False):
        with pytest.raises(ExistsError, match="conflicts with directory 'd'"):
            unpack(dest, [(file("a"), b"data"), (entry, b"")], force=True, check=check)
    assert (dest / "d/keep").read_bytes() == b"k"


def test_a_forced_unpack_over_its_own_hard_links_leaves_no_temporary_name(dest: Path) -> None:
    """rename() of one link of a file onto another does nothing (POSIX)."""
    entries = [(file("a"), b"data"), (hardlink("b", "a"), b""), (hardlink("b", "a"), b"")]
    unpack(dest, entries, force=True, check=False)
    assert listing(dest) == {"a", "b"}
    assert (dest / "b").stat().st_ino == (dest / "a").stat().st_ino


def test_a_hard_link_whose_target_is_not_extracted_gets_a_copy(dest: Path) -> None:
    """A selective unpack: the caller gives the target's entry and data; a later link to the
    same target is linked to that copy."""
    target = file("a", b"shared", mode=0o600)
    with Extractor(dest, umask=0) as extractor:
        extractor.extract(hardlink("b", "a"), [b"shared"], linked=target)
        extractor.extract(hardlink("c", "a"))
        with pytest.raises(PyarcError, match="given the data of 'x'"):
            extractor.extract(hardlink("d", "a2"), [b"x"], linked=file("x", b"x"))
        extractor.finish()
    assert listing(dest) == {"b", "c"}
    assert (dest / "b").read_bytes() == b"shared" and mode_of(dest / "b") == 0o600
    assert (dest / "b").stat().st_mtime_ns == MTIME
    assert (dest / "c").stat().st_ino == (dest / "b").stat().st_ino


def test_a_fifo_is_made_under_a_temporary_name(dest: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    with Extractor(dest, umask=0) as extractor:
        monkeypatch.setattr(os, "rename", interrupted)
        with pytest.raises(KeyboardInterrupt):
            extractor.extract(fifo("p"))
        monkeypatch.undo()
        assert listing(dest) == set()
        extractor.extract(fifo("p", mode=0o604))
    assert stat.S_ISFIFO((dest / "p").lstat().st_mode) and mode_of(dest / "p") == 0o604


def sparse(path: str, size: int, extents: tuple[tuple[int, int], ...]) -> Entry:
    return Entry(path, Kind.FILE, 0o644, MTIME, size=size, extents=extents)


def test_a_sparse_file_is_written_at_its_extents(dest: Path) -> None:
    entry = sparse("s", 1 << 20, ((4096, 3), (65536, 2)))
    unpack(dest, [(entry, b"abcde")])
    data = (dest / "s").read_bytes()
    assert len(data) == 1 << 20
    assert data[4096:4099] == b"abc" and data[65536:65538] == b"de"
    assert data.count(0) == len(data) - 5
    assert (dest / "s").stat().st_blocks * 512 < 64 << 10


@pytest.mark.parametrize("extents", [((0, 10), (5, 10)), ((50, 10), (0, 10)), ((95, 10),),
                                     ((10, 0),), ((-1, 5),)],
                         ids=["overlapping", "out of order", "beyond the size", "empty",
                              "negative"])
def test_malformed_extents_are_refused_and_leave_nothing(extents: tuple[tuple[int, int], ...],
                                                         dest: Path) -> None:
    entry = sparse("s", 100, extents)
    with Extractor(dest) as extractor, pytest.raises(FormatError, match="malformed extent"):
        extractor.extract(entry, [bytes(sum(length for _, length in extents))])
    assert listing(dest) == set()


@pytest.mark.parametrize("data", [b"abcd", b"abcdef"])
def test_a_sparse_file_with_other_than_its_data_is_refused(data: bytes, dest: Path) -> None:
    entry = sparse("s", 1000, ((0, 2), (500, 3)))
    with Extractor(dest) as extractor, pytest.raises(FormatError, match="'s'"):
        extractor.extract(entry, [data])
    assert listing(dest) == set()
