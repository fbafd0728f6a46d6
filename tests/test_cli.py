"""The `pyarc` command line: streaming, selective extraction, JSON output, exit codes and the
one-line error contract (cli.py's docstring: 0 ok, 1 data or file error, 2 usage error)."""

from __future__ import annotations

import io
import json
import os
import random
import re
import resource
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import RunCli, assert_one_error_line, tree_snapshot

import archiver
from archiver import api, cli, format1
from archiver.format import HEADER_SIZE, Entry

BLOCK = 4096
V1_ARCHIVES = Path(__file__).resolve().parents[1] / "spec" / "vectors" / "1.0" / "codecs"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """src/d: a small tree with a multi-block file, a nested dir, an empty dir and a symlink."""
    root = tmp_path / "src" / "d"
    (root / "sub" / "deeper").mkdir(parents=True)
    (root / "empty").mkdir()
    (root / "a.txt").write_bytes(b"alpha\n")
    (root / "a.txt").chmod(0o600)
    (root / "sub" / "b.txt").write_bytes(b"beta\n" * 100)
    (root / "sub" / "deeper" / "c.bin").write_bytes(random.Random(5).randbytes(3 * BLOCK + 7))
    (root / "link").symlink_to("sub/b.txt")
    return root


@pytest.fixture
def archive(tree: Path, tmp_path: Path) -> Path:
    path = tmp_path / "d.pyarc"
    archiver.pack([tree], path, codec="store", block_size=BLOCK)
    return path


def names_below(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*"))


# -- basics ------------------------------------------------------------------------------------


def test_module_help(run_cli: RunCli) -> None:
    code, out, err = run_cli("--help")
    assert code == 0, err
    assert b"pack" in out and b"unpack" in out


def test_no_progress_codes_when_stderr_is_not_a_terminal(
    tree: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    archive = tmp_path / "p.pyarc"
    errs = []
    for args in (("pack", "-b", "4K", archive, tree), ("test", archive),
                 ("unpack", archive, "-C", tmp_path / "out")):
        code, _, err = run_cli(*args)
        assert code == 0, err
        errs.append(err)
    for err in errs:
        assert "\x1b" not in err and "\r" not in err, err


# -- streaming ---------------------------------------------------------------------------------


def test_pack_to_stdout_unpack_from_stdin(tree: Path, tmp_path: Path, run_cli: RunCli) -> None:
    code, stream, err = run_cli("pack", "-b", "4K", "-", "d", cwd=tree.parent)
    assert code == 0, err
    assert stream.startswith(b"\x89PYARC")
    out = tmp_path / "out"
    code, _, err = run_cli("unpack", "-", "-C", out, stdin=stream)
    assert code == 0, err
    assert tree_snapshot(out / "d") == tree_snapshot(tree)


def test_list_and_test_from_stdin(archive: Path, run_cli: RunCli) -> None:
    blob = archive.read_bytes()
    code, from_file, err = run_cli("list", "--json", archive)
    assert code == 0, err
    code, from_stdin, err = run_cli("list", "--json", "-", stdin=blob)
    assert code == 0, err
    assert json.loads(from_stdin) == json.loads(from_file)
    code, plain, err = run_cli("list", "-", stdin=blob)
    assert code == 0, err
    assert b"d/sub/deeper/c.bin" in plain
    code, _, err = run_cli("test", "-", stdin=blob)
    assert code == 0, err
    code, _, err = run_cli("test", "-", stdin=blob[:-10])
    assert code == 1
    assert_one_error_line(err)


# -- selective extraction ----------------------------------------------------------------------


def test_unpack_named_entries(archive: Path, tmp_path: Path, run_cli: RunCli) -> None:
    out = tmp_path / "out"
    code, _, err = run_cli("unpack", archive, "d/a.txt", "d/sub", "-C", out)
    assert code == 0, err
    assert names_below(out) == ["d", "d/a.txt", "d/sub", "d/sub/b.txt", "d/sub/deeper",
                                "d/sub/deeper/c.bin"]
    assert (out / "d" / "a.txt").read_bytes() == b"alpha\n"


def test_unpack_named_entries_from_stdin(archive: Path, tmp_path: Path, run_cli: RunCli) -> None:
    out = tmp_path / "out"
    code, _, err = run_cli("unpack", "-", "d/sub/deeper", "-C", out, stdin=archive.read_bytes())
    assert code == 0, err
    assert names_below(out) == ["d", "d/sub", "d/sub/deeper", "d/sub/deeper/c.bin"]


@pytest.mark.parametrize("source", ["file", "stdin"])
def test_unpack_missing_entry(source: str, archive: Path, tmp_path: Path,
                              run_cli: RunCli) -> None:
    out = tmp_path / "out"
    if source == "file":
        code, _, err = run_cli("unpack", archive, "d/a.txt", "d/nope", "-C", out)
    else:
        code, _, err = run_cli("unpack", "-", "d/a.txt", "d/nope", "-C", out,
                               stdin=archive.read_bytes())
    assert code == 1
    assert "d/nope" in assert_one_error_line(err)


def test_unnamed_entry_gets_archive_name(tmp_path: Path, run_cli: RunCli) -> None:
    (tmp_path / "x.pyarc").write_bytes(archiver.compress(b"hello"))
    code, _, err = run_cli("unpack", "x.pyarc", "-C", "out", cwd=tmp_path)
    assert code == 0, err
    assert names_below(tmp_path / "out") == ["x"]
    assert (tmp_path / "out" / "x").read_bytes() == b"hello"


# -- JSON output -------------------------------------------------------------------------------


def test_list_json(archive: Path, tree: Path, run_cli: RunCli) -> None:
    code, out, err = run_cli("list", "--json", archive)
    assert code == 0, err
    rows = {row["path"]: row for row in json.loads(out)}
    assert sorted(rows) == ["d"] + [f"d/{name}" for name in names_below(tree)]
    big = rows["d/sub/deeper/c.bin"]
    assert big["type"] == "file"
    assert big["size"] == 3 * BLOCK + 7
    assert big["blocks"] == 4
    assert big["codecs"] == ["store"]
    assert big["stored"] == big["size"]
    info = (tree / "sub" / "deeper" / "c.bin").stat()
    assert big["mode"] == f"{info.st_mode & 0o777:04o}"
    assert big["mtime_ns"] == info.st_mtime_ns
    assert rows["d/a.txt"]["mode"] == "0600"
    assert rows["d/link"]["type"] == "symlink"
    assert rows["d/link"]["target"] == "sub/b.txt"
    assert rows["d/empty"]["type"] == "directory"
    assert rows["d/empty"]["blocks"] == 0
    # Written row by row, it is what json.dumps of all the rows at once would print.
    assert out.decode() == json.dumps(json.loads(out), indent=1) + "\n"


def test_list_is_written_in_pieces_with_columns_as_wide_as_the_widest(
        tmp_path: Path, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch) -> None:
    """More entries than LIST_CHUNK: every line, whichever piece it is written in, has its
    columns aligned to the widest value of the whole archive."""
    root = tmp_path / "many"
    root.mkdir()
    for number in range(30):
        (root / f"{number:02}").write_bytes(b"x" * number ** 3)
    archive = tmp_path / "many.pyarc"
    archiver.pack([root], archive, codec="store")
    monkeypatch.setattr(cli, "LIST_CHUNK", 7)
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    cli.list_(archive)
    lines = out.getvalue().splitlines()
    assert len(lines) == 31
    sizes = [line.split()[1] for line in lines]
    assert sizes[-1] == str(29 ** 3)
    assert {line.index(" many/") for line in lines[1:]} == {lines[1].index(" many/")}


def strict_json(out: bytes) -> object:
    """JSON as a strict parser reads it: UTF-8 text whose strings hold no lone surrogate
    (Python's json.loads accepts a "\\udcff" escape; dumping the result back to UTF-8 does
    not)."""
    value = json.loads(out.decode("utf-8"))
    json.dumps(value, ensure_ascii=False).encode("utf-8")
    return value


def test_list_json_names_that_are_not_utf8(tmp_path: Path, run_cli: RunCli) -> None:
    """`path` and `target` are valid Unicode (U+FFFD for bytes that are not UTF-8), and only
    then `path_bytes` and `target_bytes` give the stored bytes, in hex."""
    src = tmp_path / "src"
    src.mkdir()
    name = b"caf\xe9-\xff.bin"  # Latin-1, and a byte that is never UTF-8
    (src / os.fsdecode(name)).write_bytes(b"latin-1")
    (src / "link").symlink_to(os.fsdecode(name))
    (src / "café.txt").write_bytes(b"utf-8")
    archive = tmp_path / "n.pyarc"
    archiver.pack([src], archive, codec="store")
    code, out, err = run_cli("list", "--json", archive)
    assert code == 0, err
    rows = {row["path"]: row for row in strict_json(out)}
    assert sorted(rows) == sorted(["src", "src/caf\ufffd-\ufffd.bin", "src/café.txt",
                                   "src/link"])
    odd = rows["src/caf\ufffd-\ufffd.bin"]
    assert bytes.fromhex(odd["path_bytes"]) == b"src/" + name
    link = rows["src/link"]
    assert link["target"] == "caf\ufffd-\ufffd.bin"
    assert bytes.fromhex(link["target_bytes"]) == name
    assert "path_bytes" not in link
    for plain in ("src", "src/café.txt"):
        assert "path_bytes" not in rows[plain] and "target" not in rows[plain]
    code, from_stdin, err = run_cli("list", "--json", "-", stdin=archive.read_bytes())
    assert code == 0, err
    assert strict_json(from_stdin) == strict_json(out)


LIST_LINE = re.compile(r"(?P<mode>[-dl][-rwxsStT]{9}) +(?P<size>\d+) +(?P<stored>\d+) "
                       r"(?P<codecs>\S+) +(?P<date>\d{4}-\d\d-\d\d \d\d:\d\d) (?P<name>.+)")


def test_list_lines(archive: Path, tree: Path, run_cli: RunCli) -> None:
    code, out, err = run_cli("list", archive)
    assert code == 0, err
    lines = {match["name"]: match for match in map(LIST_LINE.fullmatch, out.decode().splitlines())}
    assert sorted(lines) == sorted(["d", "d/link -> sub/b.txt"] + [
        f"d/{name}" for name in names_below(tree) if name != "link"])
    small = lines["d/a.txt"]
    assert (small["mode"], small["size"], small["stored"], small["codecs"]) == (
        "-rw-------", "6", "6", "store")
    assert lines["d/sub"]["mode"] == "drwxr-xr-x" and lines["d/sub"]["codecs"] == "-"
    assert lines["d/link -> sub/b.txt"]["mode"] == "lrwxrwxrwx"


def test_list_columns_stay_aligned(tmp_path: Path, run_cli: RunCli) -> None:
    """Column widths follow the rows: a codecs cell of two codecs does not shift the dates."""
    src = tmp_path / "mixed"
    src.mkdir()
    # A text block that huffman shrinks, then a random one that is stored as it is.
    (src / "both.bin").write_bytes(b"abcd" * (BLOCK // 4) + random.Random(1).randbytes(BLOCK))
    (src / "tiny.txt").write_bytes(b"tiny")
    archive = tmp_path / "m.pyarc"
    code, _, err = run_cli("pack", "-c", "huffman", "-b", "4K", archive, src)
    assert code == 0, err
    code, out, err = run_cli("list", archive)
    assert code == 0, err
    matches = [LIST_LINE.fullmatch(line) for line in out.decode().splitlines()]
    assert all(matches), out
    assert [m["codecs"] for m in matches] == ["-", "huffman,store", "store"]  # type: ignore[index]
    for column in ("size", "stored"):  # right-aligned
        assert len({m.end(column) for m in matches}) == 1, out  # type: ignore[union-attr]
    for column in ("codecs", "date", "name"):  # left-aligned
        assert len({m.start(column) for m in matches}) == 1, out  # type: ignore[union-attr]


def test_info_json(archive: Path, run_cli: RunCli) -> None:
    code, out, err = run_cli("info", "--json", archive)
    assert code == 0, err
    info = json.loads(out)
    assert info["format_version"] == "2.0"
    assert info["block_size"] == BLOCK
    assert info["archive_size"] == archive.stat().st_size
    assert info["entries"] == {"directory": 4, "file": 3, "symlink": 1}
    raw = 6 + 500 + 3 * BLOCK + 7
    assert info["raw_bytes"] == raw
    # Solid: the text files share one block; the random c.bin (kind "compressed") starts a
    # block of its own where the group changes.
    assert info["blocks"] == 1 + -(-(3 * BLOCK + 7) // BLOCK)
    assert {name: usage["blocks"] for name, usage in info["groups"].items()} == {
        "text": 1, "compressed": 4}
    assert info["codecs"] == {"store": {"blocks": info["blocks"], "raw_bytes": raw,
                                        "stored_bytes": raw}}
    assert info["ratio"] == pytest.approx(archive.stat().st_size / raw)


def test_codecs_json(run_cli: RunCli) -> None:
    code, out, err = run_cli("codecs", "--json")
    assert code == 0, err
    rows = {row["name"]: row for row in json.loads(out)}
    store = rows["store"]
    assert store["distribution"] == "pyarc 0.1.0"
    assert store["kernels"] == "none"
    assert store["version"] == 1 and store["reads"] == [1]
    assert {"plugin", "description", "options"} <= set(store)


# -- errors: exit codes and the one-line contract ---------------------------------------------


def test_pack_missing_input(tmp_path: Path, run_cli: RunCli) -> None:
    code, _, err = run_cli("pack", tmp_path / "a.pyarc", tmp_path / "nope")
    assert code == 1
    assert "nope" in assert_one_error_line(err)
    assert not (tmp_path / "a.pyarc").exists()


@pytest.mark.parametrize("command", ["list", "test", "info", "unpack"])
def test_archive_not_found(command: str, tmp_path: Path, run_cli: RunCli) -> None:
    code, _, err = run_cli(command, tmp_path / "nope.pyarc", cwd=tmp_path)
    assert code == 1
    assert "nope.pyarc" in assert_one_error_line(err)


@pytest.mark.parametrize("command", ["list", "test", "info", "unpack"])
def test_not_an_archive(command: str, tmp_path: Path, run_cli: RunCli) -> None:
    junk = tmp_path / "junk.pyarc"
    junk.write_bytes(random.Random(7).randbytes(5000))
    code, _, err = run_cli(command, junk, cwd=tmp_path)
    assert code == 1
    assert_one_error_line(err)
    assert [p.name for p in tmp_path.iterdir()] == ["junk.pyarc"]


@pytest.mark.parametrize(("command", "keep"), [
    ("list", 0.5), ("list", -1), ("test", 30), ("test", 0.5), ("unpack", 0.5), ("unpack", -1),
])
def test_truncated_archive(command: str, keep: float, archive: Path, tmp_path: Path,
                           run_cli: RunCli) -> None:
    blob = archive.read_bytes()
    end = int(len(blob) * keep) if isinstance(keep, float) else keep % len(blob)
    cut = tmp_path / "cut.pyarc"
    cut.write_bytes(blob[:end])
    out = tmp_path / "out"
    code, _, err = run_cli(command, cut, *(["-C", out] if command == "unpack" else []))
    assert code == 1
    assert_one_error_line(err)
    if command == "unpack":
        assert not out.exists() or names_below(out) == []


@pytest.mark.parametrize("args", [
    ["--codec", "nope"],
    ["--codec", "store:x"],
    ["--codec", "store:level=3"],
    ["--block-size", "512"],
    ["--block-size", "1023"],
    ["--block-size", "65M"],
], ids=lambda args: " ".join(args))
def test_usage_errors(args: list[str], tree: Path, tmp_path: Path, run_cli: RunCli) -> None:
    code, _, err = run_cli("pack", *args, tmp_path / "a.pyarc", tree)
    assert code == 2, err
    assert_one_error_line(err)
    assert not (tmp_path / "a.pyarc").exists()


@pytest.mark.parametrize("args", [
    ["pack", "--block-size", "abc", "a.pyarc", "."],
    ["pack", "--bogus", "a.pyarc", "."],
    ["pack", "a.pyarc"],
    ["frobnicate"],
], ids=lambda args: " ".join(args))
def test_click_usage_errors_are_one_line(args: list[str], tmp_path: Path,
                                         run_cli: RunCli) -> None:
    code, _, err = run_cli(*args, cwd=tmp_path)
    assert code == 2
    assert_one_error_line(err)


def test_block_size_bounds_accepted(tree: Path, tmp_path: Path, run_cli: RunCli) -> None:
    for text, size in (("1K", 1024), ("64M", 64 << 20)):
        code, _, err = run_cli("pack", "-b", text, tmp_path / f"{text}.pyarc", tree)
        assert code == 0, err
        assert api.read_index(tmp_path / f"{text}.pyarc").block_size == size


def test_pack_refuses_existing_archive_then_force(tree: Path, tmp_path: Path,
                                                  run_cli: RunCli) -> None:
    target = tmp_path / "a.pyarc"
    target.write_bytes(b"precious")
    code, _, err = run_cli("pack", target, tree)
    assert code == 1
    assert "a.pyarc" in assert_one_error_line(err)
    assert target.read_bytes() == b"precious"
    code, _, err = run_cli("pack", "--force", target, tree)
    assert code == 0, err
    assert archiver.test(target).files == 3


def test_unpack_refuses_existing_file_then_force(archive: Path, tmp_path: Path,
                                                 run_cli: RunCli) -> None:
    out = tmp_path / "out"
    (out / "d").mkdir(parents=True)
    (out / "d" / "a.txt").write_bytes(b"mine")
    code, _, err = run_cli("unpack", archive, "-C", out)
    assert code == 1
    assert "a.txt" in assert_one_error_line(err)
    assert (out / "d" / "a.txt").read_bytes() == b"mine"
    code, _, err = run_cli("unpack", "-f", archive, "-C", out)
    assert code == 0, err
    assert (out / "d" / "a.txt").read_bytes() == b"alpha\n"


def test_failed_pack_leaves_nothing(tree: Path, tmp_path: Path, run_cli: RunCli) -> None:
    target_dir = tmp_path / "target"
    target_dir.mkdir()
    code, _, err = run_cli("pack", "-b", "4K", target_dir / "a.pyarc", tree,
                           tmp_path / "missing")
    assert code == 1
    assert "missing" in assert_one_error_line(err)
    assert list(target_dir.iterdir()) == []


def test_failed_forced_pack_keeps_old_archive(archive: Path, tree: Path, tmp_path: Path,
                                              run_cli: RunCli) -> None:
    before = archive.read_bytes()
    code, _, err = run_cli("pack", "-f", archive, tree, tmp_path / "missing")
    assert code == 1
    assert_one_error_line(err)
    assert archive.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.pyarc", "src"]


# -- list reads the index only; test reads everything -----------------------------------------


def test_list_uses_index_only_while_test_checks_data(archive: Path, tree: Path, tmp_path: Path,
                                                     run_cli: RunCli) -> None:
    data = (tree / "sub" / "deeper" / "c.bin").read_bytes()
    catalog = api.read_index(archive).catalog
    paths = [entry.path for entry in catalog.entries]
    refs = catalog.entry_blocks()[paths.index("d/sub/deeper/c.bin")]
    blob = bytearray(archive.read_bytes())
    # store keeps the data as is: damage the middle of a block that holds c.bin's alone.
    damaged = refs[2]
    assert damaged.data_end - damaged.data_offset == BLOCK and data
    middle = damaged.offset + BLOCK // 2
    blob[middle:middle + 16] = bytes(b ^ 0xFF for b in blob[middle:middle + 16])
    archive.write_bytes(bytes(blob))

    code, out, err = run_cli("list", archive)
    assert code == 0, err
    assert b"d/sub/deeper/c.bin" in out
    code, _, err = run_cli("info", "--json", archive)
    assert code == 0, err

    code, _, err = run_cli("test", archive)
    assert code == 1
    line = assert_one_error_line(err)
    assert str(damaged.offset) in line and "d/sub/deeper/c.bin" in line

    out_dir = tmp_path / "out"
    code, _, err = run_cli("unpack", archive, "-C", out_dir)
    assert code == 1
    assert "d/sub/deeper/c.bin" in assert_one_error_line(err)
    assert not (out_dir / "d" / "sub" / "deeper" / "c.bin").exists()
    leftovers = [p for p in out_dir.rglob("*") if "pyarc-tmp" in p.name]
    assert leftovers == []


# -- unpack checks the frames that describe what it extracts -----------------------------------


def table_of(archive: Path, path: str) -> int:
    """The offset of the table frame that lists `path` (the table of the segment its data
    begins in)."""
    catalog = api.read_index(archive).catalog
    number = [entry.path for entry in catalog.entries].index(path)
    start = catalog.data_offsets[number]
    block = next(n for n, ref in enumerate(catalog.blocks) if ref.data_end > start)
    return catalog.segments[catalog.segment_of(block)].offset


def refused_by_unpack(archive: Path, path: str, out_dir: Path, run_cli: RunCli) -> str:
    """Damage the index does not show: list still names `path` (it reads the index only),
    test and unpack exit 1, and unpack writes nothing; its one error line."""
    code, out, err = run_cli("list", archive)
    assert code == 0, err
    assert path.encode() in out
    code, _, err = run_cli("test", archive)
    assert code == 1
    code, _, err = run_cli("unpack", archive, "-C", out_dir)
    assert code == 1
    assert not out_dir.exists()
    return assert_one_error_line(err)


@pytest.mark.parametrize("path", ["d/a.txt", "d/sub/deeper/c.bin"])
def test_unpack_checks_the_tables(path: str, archive: Path, tmp_path: Path,
                                  run_cli: RunCli) -> None:
    """A table damaged where the index is intact: list still works (it reads the index only),
    but unpack refuses the archive before writing anything, as test does."""
    offset = table_of(archive, path)
    blob = bytearray(archive.read_bytes())
    blob[offset + 3] ^= 0x01  # in the codec's name: the frame's checksum no longer holds
    archive.write_bytes(bytes(blob))
    line = refused_by_unpack(archive, path, tmp_path / "out", run_cli)
    assert f"table at offset {offset}: " in line and "checksum mismatch" in line, line


def test_unpack_of_other_entries_does_not_read_a_damaged_table(tree: Path, tmp_path: Path,
                                                               run_cli: RunCli) -> None:
    """Only the tables of the blocks extracted are checked; test checks them all."""
    archive = tmp_path / "off.pyarc"
    archiver.pack([tree], archive, codec="store", solid=False)  # a segment per file
    offset = table_of(archive, "d/a.txt")
    blob = bytearray(archive.read_bytes())
    blob[offset + 3] ^= 0x01
    archive.write_bytes(bytes(blob))
    out = tmp_path / "out"
    code, _, err = run_cli("unpack", archive, "d/sub", "-C", out)
    assert code == 0, err
    assert "d/sub/deeper/c.bin" in names_below(out)
    code, _, err = run_cli("unpack", archive, "d/a.txt", "-C", tmp_path / "out2")
    assert code == 1
    assert f"table at offset {offset}" in assert_one_error_line(err)


def entry_frames(blob: bytes) -> dict[str, tuple[int, Entry]]:
    """Each entry's path -> (offset of its entry frame, the entry), read front to back
    (format 1.0)."""
    stream = io.BytesIO(blob)
    stream.seek(HEADER_SIZE)
    found = {}
    while True:
        offset = stream.tell()
        frame = format1.parse_frame(stream, offset)
        if frame.index is not None:
            return found
        if frame.entry is not None:
            found[frame.entry.path] = (offset, frame.entry)


@pytest.mark.parametrize("damage", ["flipped", "rewritten"])
@pytest.mark.parametrize("path", ["tree/text.md", "tree/empty", "tree/sub/link"])
def test_unpack_checks_the_entry_frames_of_format_1(damage: str, path: str, tmp_path: Path,
                                                    run_cli: RunCli) -> None:
    """An archive of pyarc 0.1.0 whose entry frame is damaged where the index is intact: list
    works, unpack refuses it before writing anything. A file's frame lies before its first
    block; one without blocks (tree/empty, the link) before the next frame."""
    archive = tmp_path / "old.pyarc"
    blob = bytearray((V1_ARCHIVES / "store.pyarc").read_bytes())
    offset, entry = entry_frames(bytes(blob))[path]
    if damage == "flipped":
        blob[offset + 3] ^= 0x01  # the mode's high byte: the frame's checksum no longer holds
    else:  # a valid frame, checksum and all, that disagrees with the index
        frame = format1.build_entry_frame(replace(entry, mode=entry.mode ^ 0o001,
                                                  mtime_ns=entry.mtime_ns + 1))
        blob[offset:offset + len(frame)] = frame
    archive.write_bytes(bytes(blob))
    line = refused_by_unpack(archive, path, tmp_path / "out", run_cli)
    assert f"frame at offset {offset} of {path!r}: " in line, line
    if damage == "flipped":
        assert "checksum mismatch" in line, line
    else:
        assert "disagrees with the index (mode, mtime_ns)" in line, line


# -- the archive inside the tree being packed ------------------------------------------------


@pytest.mark.parametrize("how", ["named", "dot"])
def test_pack_skips_its_own_archive(how: str, tree: Path, tmp_path: Path,
                                    run_cli: RunCli) -> None:
    if how == "named":
        code, _, err = run_cli("pack", "-b", "4K", tree / "self.pyarc", tree)
        stored = "d/self.pyarc"
        prefix = "d/"
    else:
        code, _, err = run_cli("pack", "-b", "4K", "self.pyarc", ".", cwd=tree)
        stored = "self.pyarc"
        prefix = ""
    assert code == 0, err
    warnings = [line for line in err.splitlines() if line.startswith("pyarc: warning:")]
    assert len(warnings) == 1 and "self.pyarc" in warnings[0], err
    assert "Traceback" not in err
    archive = tree / "self.pyarc"
    names = [entry.path for entry in api.read_index(archive).catalog.entries]
    assert stored not in names
    assert not any("pyarc-tmp" in name for name in names)
    assert f"{prefix}sub/deeper/c.bin" in names

    out = tmp_path / "out"
    code, _, err = run_cli("unpack", archive, "-C", out)
    assert code == 0, err
    unpacked = out / "d" if how == "named" else out
    expected = {k: v for k, v in tree_snapshot(tree, mtimes=False).items() if k != "self.pyarc"}
    assert tree_snapshot(unpacked, mtimes=False) == expected


def test_pack_to_stdout_redirected_into_the_tree(tree: Path, tmp_path: Path) -> None:
    target = tree / "self.pyarc"
    with open(target, "wb") as out:
        done = subprocess.run([sys.executable, "-m", "archiver", "pack", "-", "."], cwd=tree,
                              stdout=out, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                              timeout=60)
    assert done.returncode == 0, done.stderr
    names = [entry.path for entry in api.read_index(target).catalog.entries]
    assert "self.pyarc" not in names
    assert "a.txt" in names


# -- a full disk ---------------------------------------------------------------------------------


def _limited_file_size(limit: int) -> Callable[[], None]:
    """A preexec_fn making every write beyond `limit` bytes fail with EFBIG, as a full disk
    makes it fail with ENOSPC (SIGXFSZ is ignored so that the write returns the error)."""

    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def _run_limited(limit: int, *args: str | Path) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "archiver", *map(str, args)],
                          capture_output=True, stdin=subprocess.DEVNULL,
                          preexec_fn=_limited_file_size(limit))


def test_pack_onto_a_full_disk_leaves_nothing(tmp_path: Path) -> None:
    (tmp_path / "big").write_bytes(random.Random(3).randbytes(1 << 20))
    out = tmp_path / "out"
    out.mkdir()
    done = _run_limited(256 * 1024, "pack", "-c", "store", out / "a.pyarc", tmp_path / "big")
    assert done.returncode == 1
    assert_one_error_line(done.stderr.decode())
    assert "a.pyarc" in done.stderr.decode()
    assert list(out.iterdir()) == []  # neither the archive nor its temporary file


def test_unpack_onto_a_full_disk_leaves_no_partial_file(tmp_path: Path) -> None:
    (tmp_path / "big").write_bytes(random.Random(4).randbytes(1 << 20))
    archiver.pack([tmp_path / "big"], tmp_path / "a.pyarc", codec="store")
    done = _run_limited(256 * 1024, "unpack", tmp_path / "a.pyarc", "-C", tmp_path / "out")
    assert done.returncode == 1
    assert_one_error_line(done.stderr.decode())
    assert "big" in done.stderr.decode()
    assert list((tmp_path / "out").iterdir()) == []


def test_two_paths_stored_under_one_name_are_refused(tmp_path: Path, run_cli: RunCli) -> None:
    for folder in ("a", "b"):
        (tmp_path / folder / "data").mkdir(parents=True)
        (tmp_path / folder / "data" / "x").write_text(folder)
    code, _, err = run_cli("pack", tmp_path / "out.pyarc", tmp_path / "a" / "data",
                           tmp_path / "b" / "data")
    assert code == 2
    assert_one_error_line(err)
    assert "would both be stored as 'data'" in err
    assert not (tmp_path / "out.pyarc").exists()
    # The same folder given twice (or a folder and something inside it) is packed once.
    code, _, err = run_cli("pack", "out.pyarc", "a", "a/data", "a", cwd=tmp_path)
    assert code == 0, err
    assert [entry.path for entry in api.read_index(tmp_path / "out.pyarc").catalog.entries] == [
        "a", "a/data", "a/data/x"]


def test_unpack_of_a_stream_that_is_no_archive_creates_nothing(tmp_path: Path,
                                                                run_cli: RunCli) -> None:
    code, _, err = run_cli("unpack", "-", "-C", tmp_path / "out", stdin=b"not an archive" * 9)
    assert code == 1
    assert_one_error_line(err)
    assert not (tmp_path / "out").exists()


#: What the reading commands must not import, and why: each costs a noticeable share of
#: start-up, and none is needed to read an archive.
NOT_FOR_READING = {
    "numpy": "entropy, bench, bwt's suffix sorter",
    "matplotlib": "bench --plot",
    "pydantic": "typer's value checks, of values that need none",
    "pathspec": "pack --exclude, the patterns of unpack (which imports it)",
    "archiver.lab": "entropy and bench only",
    "archiver.writer": "pack only",
    "archiver.sources": "pack only",
    "pyarc_plugins.ppm": "a codec the archive does not use",
    "importlib.metadata": "the installed distributions' entry points (pyarc's own codecs load "
                          "by name)",
}


@pytest.mark.parametrize("command", ["list", "unpack", "test", "info"])
def test_reading_commands_start_without_numpy(command: str, tmp_path: Path) -> None:
    """numpy (entropy, bench, and the suffix sorter of bwt's encoder) costs a tenth of a
    second to import: commands that only read an archive do without it, and without the
    other heavy modules of NOT_FOR_READING (`list` without rich too: it prints plain text)."""
    (tmp_path / "a.txt").write_bytes(b"numpy-free " * 500)
    archive = tmp_path / "a.pyarc"
    archiver.pack([tmp_path / "a.txt"], archive, codec="bwt")
    args = [command, str(archive)] + (["-C", str(tmp_path / "out")] if command == "unpack"
                                     else [])
    heavy = [name for name in NOT_FOR_READING if name != "pathspec" or command != "unpack"]
    heavy += ["rich"] if command == "list" else []
    probe = ("import sys\nfrom archiver.cli import main\n"
             f"sys.argv = ['pyarc', *{args!r}]\n"
             "try:\n    main()\nexcept SystemExit as done:\n    assert not done.code, done\n"
             f"heavy = {heavy!r}\n"
             "imported = [name for name in heavy if name in sys.modules]\n"
             "assert not imported, f'imported: {imported}'\n")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_the_core_does_not_import_the_laboratory() -> None:
    """archiver/lab/ is imported by the CLI's entropy and bench commands only, inside them."""
    import ast

    root = Path(archiver.__file__).parent
    for path in root.rglob("*.py"):
        if path.parent.name == "lab":
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            if any(name.startswith("archiver.lab") for name in names):
                assert path.name == "cli.py", f"{path} imports the laboratory"
                assert node.col_offset > 0, f"{path} imports the laboratory at module level"
