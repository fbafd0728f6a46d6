"""Solid archives end to end: what shares a block, identical files stored once, the solid size
and `--solid off`, and reading only the blocks that hold what is wanted, each once."""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import RunCli, assert_one_error_line, tree_snapshot

import archiver
import archiver.writer
from archiver import api
from archiver.blocks import EncodedBlock
from archiver.catalog import Catalog
from archiver.format import Entry
from archiver.format2 import Records
from archiver.testing import edited_copies

BLOCK = 4096
WORDS = b"alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu".split()


def text(seed: int, size: int) -> bytes:
    rng = random.Random(seed)
    return b" ".join(rng.choice(WORDS) for _ in range(size))[:size] + b"\n"


def binary(seed: int, size: int) -> bytes:
    """Bytes with NULs and structure: binary, but not incompressible."""
    rng = random.Random(seed)
    return bytes(rng.choice((0, 0, 1, 7, 255, rng.randrange(256))) for _ in range(size))


@pytest.fixture
def mixed(tmp_path: Path) -> Path:
    """src/root: six small texts and a copy of one, a binary file larger than three solid
    blocks and a small one, an empty file, a symlink, and 300 empty files in three folders."""
    root = tmp_path / "src" / "root"
    (root / "docs").mkdir(parents=True)
    for number in range(6):
        (root / "docs" / f"{'abcdef'[number]}.txt").write_bytes(text(number, 300 + 90 * number))
    (root / "docs" / "copy.txt").write_bytes((root / "docs" / "a.txt").read_bytes())
    (root / "bin").mkdir()
    (root / "bin" / "blob.dat").write_bytes(binary(1, 3 * BLOCK + 100))
    (root / "bin" / "small.dat").write_bytes(binary(2, 200))
    (root / "empty").touch()
    (root / "link").symlink_to("docs/a.txt")
    for folder in range(3):
        (root / "many" / str(folder)).mkdir(parents=True)
        for number in range(100):
            (root / "many" / str(folder) / f"{number:03}").touch()
    return root


def catalog_of(archive: Path) -> Catalog:
    return api.read_index(archive).catalog


def blocks_of(catalog: Catalog, path: str) -> list[int]:
    """The numbers of the blocks that hold any byte of entry `path`."""
    number = next(n for n, entry in enumerate(catalog.entries) if entry.path == path)
    starts = [ref.data_offset for ref in catalog.blocks]
    return [starts.index(ref.data_offset)
            for ref in catalog.blocks_in(*catalog.data_range(number))]


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The data offsets of the blocks decoded from now on, in order (tables and the index are
    decoded elsewhere)."""
    seen: list[int] = []
    lock = threading.Lock()
    decode = EncodedBlock.decode

    def counted(self: EncodedBlock, registry: object) -> object:
        with lock:
            seen.append(self.data_offset)
        return decode(self, registry)  # type: ignore[arg-type]

    monkeypatch.setattr(EncodedBlock, "decode", counted)
    return seen


@pytest.fixture
def packed(mixed: Path, tmp_path: Path) -> Path:
    archive = tmp_path / "mixed.pyarc"
    archiver.pack([mixed], archive, codec="store", block_size=BLOCK)
    return archive


def test_a_group_shares_blocks_and_a_new_group_starts_a_block(packed: Path) -> None:
    catalog = catalog_of(packed)
    texts = [f"root/docs/{name}.txt" for name in "abcdef"]
    assert {tuple(blocks_of(catalog, path)) for path in texts} == {(0,)}  # one block
    binaries = blocks_of(catalog, "root/bin/blob.dat") + blocks_of(catalog, "root/bin/small.dat")
    assert sorted(set(binaries)) == [1, 2, 3, 4]  # 3 blocks + 100 bytes, then 200 more
    assert [ref.group for ref in catalog.blocks] == ["text"] + ["binary"] * 4
    assert catalog.blocks[0].raw_size < BLOCK  # cut where the group changes, not when full


def test_list_keeps_the_order_of_the_names(packed: Path, run_cli: RunCli) -> None:
    """The data is in the order of kinds; the entries stay in the order of the walk."""
    code, out, err = run_cli("list", "--json", packed)
    assert code == 0, err
    paths = [row["path"] for row in json.loads(out)]
    assert paths[:4] == ["root", "root/bin", "root/bin/blob.dat", "root/bin/small.dat"]
    catalog = catalog_of(packed)
    offsets = {entry.path: offset for entry, offset in zip(catalog.entries,
                                                           catalog.data_offsets, strict=True)}
    assert offsets["root/docs/a.txt"] < offsets["root/bin/blob.dat"]  # text before binary


def test_identical_files_are_stored_once(packed: Path, mixed: Path, tmp_path: Path,
                                         run_cli: RunCli) -> None:
    catalog = catalog_of(packed)
    number = {entry.path: n for n, entry in enumerate(catalog.entries)}
    original = catalog.data_range(number["root/docs/a.txt"])
    assert catalog.data_range(number["root/docs/copy.txt"]) == original
    assert catalog.shared_bytes() == original[1] - original[0]
    code, out, err = run_cli("info", packed)
    assert code == 0, err
    assert f"stored once     {original[1] - original[0]:,} bytes".encode() in out, out
    # Read front to back, the copy comes from the file that got the bytes.
    code, _, err = run_cli("unpack", "-", "-C", tmp_path / "stream", stdin=packed.read_bytes())
    assert code == 0, err
    assert tree_snapshot(tmp_path / "stream") == tree_snapshot(mixed.parent)


@pytest.fixture
def spanning(tmp_path: Path) -> Path:
    """tree/src/: a small file, then a file over three blocks long and two copies of it, which
    the writer meets after the original's last block: their table is a later one than the
    original's."""
    root = tmp_path / "tree" / "src"
    root.mkdir(parents=True)
    (root / "0.dat").write_bytes(binary(4, 100))
    data = binary(3, 3 * BLOCK + 500)
    for name in ("a.dat", "b.dat", "c.dat"):
        (root / name).write_bytes(data)
    return root


def test_copies_of_a_file_over_several_blocks_read_back(spanning: Path, tmp_path: Path,
                                                        run_cli: RunCli) -> None:
    """Archives like this one were written, and no reader took them (the tables were
    required to list every copy in its original's table)."""
    archive = tmp_path / "copies.pyarc"
    archiver.pack([spanning], archive, codec="store", block_size=BLOCK)
    assert len(catalog_of(archive).segments) == 2  # the copies are listed in a later table
    for command in (["test", archive], ["unpack", archive, "-C", tmp_path / "index"]):
        code, _, err = run_cli(*command)
        assert code == 0, err
    code, _, err = run_cli("unpack", "-", "-C", tmp_path / "stream", stdin=archive.read_bytes())
    assert code == 0, err
    code, out, err = run_cli("unpack", archive, "-c", "src/c.dat")
    assert code == 0, err
    assert out == (spanning / "a.dat").read_bytes()
    for where in ("index", "stream"):
        assert tree_snapshot(tmp_path / where) == tree_snapshot(spanning.parent)


def _pack_with_tables_edited(monkeypatch: pytest.MonkeyPatch, source: Path, archive: Path,
                             edit: Callable[[Records], Records]) -> None:
    """Pack `source`, each table's records passed through `edit` (the index is left as the
    writer made it): a crafted archive whose tables and index disagree."""
    build = archiver.writer.build_table_body
    monkeypatch.setattr(archiver.writer, "build_table_body",
                        lambda records: build(edit(records)))
    archiver.pack([source], archive, codec="store", block_size=BLOCK)
    monkeypatch.undo()


def _without(path: str) -> Callable[[Records], Records]:
    def edit(records: Records) -> Records:
        kept = [n for n, entry in enumerate(records.entries) if entry.path != path]
        return Records([records.entries[n] for n in kept],
                       [records.data_offsets[n] for n in kept])
    return edit


@pytest.mark.parametrize(("left_out", "stream_error", "index_error"), [
    ("src/a.dat", "entry 'src/b.dat' has data before this segment that no earlier entry has",
     "the table does not list 'src/a.dat', whose data begins in its blocks"),
    ("src/b.dat", "no table lists 'src/b.dat'", None),  # a copy: the index still has its data
])
def test_a_table_that_leaves_out_an_entry_is_refused(
        left_out: str, stream_error: str, index_error: str | None, spanning: Path,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, run_cli: RunCli) -> None:
    archive = tmp_path / "crafted.pyarc"
    _pack_with_tables_edited(monkeypatch, spanning, archive, _without(left_out))
    code, _, err = run_cli("test", archive)
    assert code != 0
    assert stream_error in assert_one_error_line(err)
    code, _, err = run_cli("unpack", archive, "-C", tmp_path / "out")
    if index_error is None:
        assert code == 0, err  # through the index the copy's data is where the index says
        assert tree_snapshot(tmp_path / "out") == tree_snapshot(spanning.parent)
    else:
        assert code != 0
        assert index_error in assert_one_error_line(err)


def test_an_entry_two_tables_list_is_refused(spanning: Path, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch,
                                             run_cli: RunCli) -> None:
    archive = tmp_path / "crafted.pyarc"
    first: list[Entry] = []

    def repeat_first(records: Records) -> Records:
        """The first table's first entry (0.dat) is listed again by the second table."""
        if not first:
            first.append(records.entries[0])
            return records
        entries = [first[0], *records.entries]
        return Records(entries, [0, *records.data_offsets])

    _pack_with_tables_edited(monkeypatch, spanning, archive, repeat_first)
    code, _, err = run_cli("test", archive)
    assert code != 0
    assert "entry 'src/0.dat' is listed by two tables" in assert_one_error_line(err)


def test_round_trip_through_the_index_and_the_stream(packed: Path, mixed: Path,
                                                    tmp_path: Path, run_cli: RunCli) -> None:
    archiver.unpack(packed, tmp_path / "api")
    assert tree_snapshot(tmp_path / "api") == tree_snapshot(mixed.parent)
    code, _, err = run_cli("test", packed)
    assert code == 0, err


def test_one_file_decodes_only_its_block(packed: Path, tmp_path: Path,
                                         decodes: list[int]) -> None:
    archiver.unpack(packed, tmp_path / "one", paths=["root/docs/c.txt"])
    assert decodes == [0]
    out = tmp_path / "one" / "root"
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*")) == ["docs",
                                                                             "docs/c.txt"]
    assert (out / "docs" / "c.txt").read_bytes() == text(2, 480)


def test_many_files_of_a_block_decode_it_once(packed: Path, tmp_path: Path,
                                              decodes: list[int]) -> None:
    archiver.unpack(packed, tmp_path / "docs", paths=["root/docs"], jobs=2)
    assert decodes == [0]
    decodes.clear()
    archiver.unpack(packed, tmp_path / "all", jobs=2)
    assert sorted(decodes) == [ref.data_offset for ref in catalog_of(packed).blocks]


def test_reading_every_file_decodes_each_block_once(packed: Path, mixed: Path,
                                                    decodes: list[int]) -> None:
    with archiver.open_archive(packed) as opened:
        for entry in opened.entries:
            if entry.kind.name == "FILE":
                relative = entry.path.removeprefix("root/")
                assert opened.read(entry) == (mixed / relative).read_bytes(), entry.path
        assert sorted(decodes) == [ref.data_offset for ref in opened.catalog.blocks]


def test_unpack_one_file_from_the_cli(packed: Path, tmp_path: Path, run_cli: RunCli) -> None:
    code, _, err = run_cli("unpack", packed, "root/bin/blob.dat", "-C", tmp_path / "out")
    assert code == 0, err
    assert (tmp_path / "out" / "root" / "bin" / "blob.dat").read_bytes() == binary(
        1, 3 * BLOCK + 100)
    assert not (tmp_path / "out" / "root" / "docs").exists()


def test_solid_off_gives_each_file_its_own_blocks(mixed: Path, tmp_path: Path,
                                                  run_cli: RunCli) -> None:
    archive = tmp_path / "off.pyarc"
    code, _, err = run_cli("pack", "-c", "store", "-b", "4K", "--solid", "off", archive, mixed)
    assert code == 0, err
    catalog = catalog_of(archive)
    owners: dict[int, set[tuple[int, int]]] = {}
    for number, entry in enumerate(catalog.entries):
        if entry.data_size:
            for block in blocks_of(catalog, entry.path):
                owners.setdefault(block, set()).add(catalog.data_range(number))
    assert all(len(ranges) == 1 for ranges in owners.values())  # a block, one file's data
    distinct = {catalog.data_range(number) for number, entry in enumerate(catalog.entries)
                if entry.data_size}
    assert len(catalog.segments) == len(distinct)  # and a table before each file's blocks


@pytest.mark.parametrize(("option", "size"), [("--solid", "8K"), ("-b", "8K"),
                                              ("--block-size", "8K")])
def test_solid_size_is_the_block_size(option: str, size: str, mixed: Path, tmp_path: Path,
                                      run_cli: RunCli) -> None:
    archive = tmp_path / "sized.pyarc"
    code, _, err = run_cli("pack", "-c", "store", option, size, archive, mixed)
    assert code == 0, err
    listing = api.read_index(archive)
    assert listing.block_size == 8192
    assert max(ref.raw_size for ref in listing.catalog.blocks) == 8192


@pytest.mark.parametrize("value", ["bogus", "0", "-1", "100G"])
def test_a_bad_solid_value_is_a_usage_error(value: str, mixed: Path, tmp_path: Path,
                                            run_cli: RunCli) -> None:
    archive = tmp_path / "bad.pyarc"
    code, _, err = run_cli("pack", "--solid", value, archive, mixed)
    assert code == 2, err
    assert err.count("\n") == 1 and err.startswith("pyarc: error:"), err
    assert not archive.exists()


def test_jobs_give_identical_solid_archives(mixed: Path, tmp_path: Path) -> None:
    blobs = []
    for jobs in (1, 2, 3):
        archive = tmp_path / f"j{jobs}.pyarc"
        archiver.pack([mixed], archive, codec="auto", block_size=BLOCK, jobs=jobs)
        blobs.append(archive.read_bytes())
    assert blobs[0] == blobs[1] == blobs[2]
    assert len(catalog_of(tmp_path / "j1.pyarc").blocks) > 2


def test_auto_tries_each_group_s_codecs(tmp_path: Path) -> None:
    """Default pack: text goes to rep (ppm), object-code-like data of an executable to lz77's
    optimal parse (half of rep's size on it), each block tagged with its group."""
    root = tmp_path / "t"
    root.mkdir()
    (root / "notes.txt").write_bytes(text(1, 60_000))
    code = edited_copies(random.Random(2), 150_000, 16384, (30, 300), (4, 16))
    (root / "lib.so").write_bytes(b"\x7fELF\x02\x01\x01" + bytes(57) + code)
    archive = tmp_path / "t.pyarc"
    archiver.pack([root], archive)
    assert [(ref.group, ref.codec) for ref in catalog_of(archive).blocks] == [
        ("text", "rep"), ("executable", "lz77")]
    archiver.unpack(archive, tmp_path / "out")
    assert tree_snapshot(tmp_path / "out" / "t") == tree_snapshot(root)


def test_empty_files_cost_a_few_bytes_each(tmp_path: Path) -> None:
    """The index is compressed: 2,000 empty files in 20 folders take under 2 bytes each."""
    root = tmp_path / "e"
    for folder in range(20):
        (root / f"d{folder:02}").mkdir(parents=True)
        for number in range(100):
            (root / f"d{folder:02}" / f"f{number:02}").touch()
    archive = tmp_path / "e.pyarc"
    archiver.pack([root], archive)
    assert archive.stat().st_size < 2 * 2000
    archiver.unpack(archive, tmp_path / "out")
    assert tree_snapshot(tmp_path / "out" / "e") == tree_snapshot(root)
