"""Salvage: `pyarc test` lists every damaged block and entry, not only the first, and
`pyarc unpack --salvage` extracts every intact entry of a damaged archive, even one whose index
and footer are gone (bzip2recover is the anchor). A damaged solid block loses exactly the files
that have bytes in it."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from conftest import RunCli, assert_one_error_line

import archiver
from archiver import api, format2
from archiver.catalog import Catalog
from archiver.salvage import scan

BLOCK = 1024
V1_ARCHIVE = Path(__file__).resolve().parents[1] / "spec" / "vectors" / "1.0" / "codecs" / \
    "lz77.pyarc"


@pytest.fixture()
def packed(tmp_path: Path) -> tuple[Path, dict[str, bytes]]:
    """An archive of five 6 KB files in solid blocks of 1 KiB, lz77-coded: each file's data
    spans six or seven blocks, and a block at a boundary holds the end of one file and the
    start of the next."""
    tree = tmp_path / "t"
    tree.mkdir()
    files = {}
    for i in range(5):
        data = random.Random(i).randbytes(3000) + bytes([65 + i]) * 3000
        (tree / f"f{i}").write_bytes(data)
        files[f"t/f{i}"] = data
    archive = tmp_path / "a.pyarc"
    archiver.pack([tree], archive, codec="lz77", block_size=BLOCK)
    return archive, files


def catalog_of(archive: Path) -> Catalog:
    return api.read_index(archive).catalog


def own_blocks(archive: Path, path: str) -> list[int]:
    """The offsets of the blocks that hold data of `path` and of no other file."""
    catalog = catalog_of(archive)
    number = [entry.path for entry in catalog.entries].index(path)
    start, end = catalog.data_range(number)
    return [ref.offset for ref in catalog.blocks_in(start, end)
            if start <= ref.data_offset and ref.data_end <= end]


def payload_byte(archive: Path, frame_offset: int) -> int:
    """An offset inside the payload of the frame at frame_offset (its third-last byte):
    damage there fails the payload checksum, not the frame's."""
    with open(archive, "rb") as file:
        file.seek(frame_offset)
        frame = format2.parse_frame(file, frame_offset)
        assert frame.header.stored_size >= 3
        return file.tell() - 3


def damage(archive: Path, *offsets: int) -> None:
    blob = bytearray(archive.read_bytes())
    for offset in offsets:
        blob[offset] ^= 0x20
    archive.write_bytes(bytes(blob))


def test_intact_archive_scans_clean(packed: tuple[Path, dict[str, bytes]]) -> None:
    archive, files = packed
    found = scan(archive)
    assert found.damage == []
    assert sorted(s.entry.path for s in found.intact) == ["t", *files]


def test_test_lists_every_damaged_block_and_entry(packed: tuple[Path, dict[str, bytes]],
                                                  run_cli: RunCli) -> None:
    """Two blocks of f1 and one of f3 damaged (payload bytes): all three and both entries are
    listed on stdout; stderr has one line; exit 1."""
    archive, _ = packed
    f1, f3 = own_blocks(archive, "t/f1"), own_blocks(archive, "t/f3")
    hit = (f1[0], f1[-1], f3[1])
    damage(archive, *(payload_byte(archive, offset) for offset in hit))
    code, out, err = run_cli("test", archive)
    assert code == 1
    line = assert_one_error_line(err)
    assert "3 damaged places" in line and "2 of 6 entries" in line
    text = out.decode()
    for offset in hit:
        assert f"offset {offset}:" in text
    assert "damaged entry  t/f1" in text and "damaged entry  t/f3" in text
    assert "t/f0" not in text


def test_a_damaged_solid_block_loses_the_files_that_have_bytes_in_it(
        packed: tuple[Path, dict[str, bytes]], tmp_path: Path, run_cli: RunCli) -> None:
    """The block where f2's data ends and f3's begins: both are lost, named; the rest is
    extracted."""
    archive, files = packed
    catalog = catalog_of(archive)
    numbers = {entry.path: n for n, entry in enumerate(catalog.entries)}
    boundary = catalog.data_range(numbers["t/f3"])[0]
    [shared] = [ref for ref in catalog.blocks if ref.data_offset < boundary < ref.data_end]
    damage(archive, payload_byte(archive, shared.offset))
    out = tmp_path / "out"
    code, stdout, err = run_cli("unpack", "--salvage", archive, "-C", out)
    assert code == 1
    line = assert_one_error_line(err)
    assert "salvaged 4 entries" in line and "2 of 6 entries not extracted" in line
    assert b"damaged entry  t/f2" in stdout and b"damaged entry  t/f3" in stdout
    for path, data in files.items():
        target = out / path
        if path in ("t/f2", "t/f3"):
            assert not target.exists()
            assert not [p for p in target.parent.iterdir() if p.name.startswith(".")]
        else:
            assert target.read_bytes() == data


def test_salvage_without_index_or_footer(packed: tuple[Path, dict[str, bytes]],
                                         tmp_path: Path, run_cli: RunCli) -> None:
    """The archive cut off inside its index: plain unpack fails; --salvage recovers every
    file (the directory `t` lived in the index only, and is made as the files need it)."""
    archive, files = packed
    blob = archive.read_bytes()
    listing = api.read_index(archive)
    index_offset = listing.archive_size - 24 - (listing.archive_size - 24 - max(
        ref.offset for ref in listing.catalog.blocks)) // 2
    archive.write_bytes(blob[:index_offset])
    code, _, err = run_cli("unpack", archive, "-C", tmp_path / "plain")
    assert code == 1
    assert_one_error_line(err)
    code, _, err = run_cli("unpack", "--salvage", archive, "-C", tmp_path / "out")
    assert code == 1  # the index is damage too
    assert "salvaged 5 entries" in assert_one_error_line(err)
    for path, data in files.items():
        assert (tmp_path / "out" / path).read_bytes() == data


def test_a_lost_table_is_made_good_by_the_index_or_orphans_its_blocks(
        packed: tuple[Path, dict[str, bytes]]) -> None:
    """Damage to a table: with the index intact, its files are still known and intact;
    without the index, they are lost and their blocks reported as blocks without an entry,
    and every other file is intact."""
    archive, files = packed
    catalog = catalog_of(archive)
    table = catalog.segments[1].offset
    damage(archive, table + 4)  # in the table's frame header
    found = scan(archive)
    assert sorted(s.entry.path for s in found.intact) == ["t", *files]
    assert any(f"offset {table}" in f"offset {d.offset}" for d in found.damage)
    blob = archive.read_bytes()
    archive.write_bytes(blob[:-40])  # the footer and the index's end
    found = scan(archive)
    lost = {s.entry.path for s in found.entries} ^ set(files)
    assert lost and lost <= set(files)
    assert sorted(s.entry.path for s in found.intact) == sorted(set(files) - lost)
    assert any("without its entry" in d.message for d in found.damage)


def test_salvage_of_a_good_archive_and_of_a_stream(packed: tuple[Path, dict[str, bytes]],
                                                   tmp_path: Path, run_cli: RunCli) -> None:
    archive, files = packed
    code, _, err = run_cli("unpack", "--salvage", archive, "-C", tmp_path / "out")
    assert code == 0, err
    assert all((tmp_path / "out" / p).read_bytes() == d for p, d in files.items())
    code, _, err = run_cli("unpack", "--salvage", "-", "-C", tmp_path / "x",
                           stdin=archive.read_bytes())
    assert code == 2
    assert "stream" in assert_one_error_line(err)


def test_salvage_of_a_damaged_archive_of_format_1(tmp_path: Path, run_cli: RunCli) -> None:
    """pyarc 0.1.0's archives are salvaged too: a damaged block of text.md loses that file."""
    archive = tmp_path / "old.pyarc"
    blob = bytearray(V1_ARCHIVE.read_bytes())
    at = blob.index(b"tree/text.md") + 200  # inside its first block's payload
    blob[at] ^= 0x20
    archive.write_bytes(bytes(blob))
    code, stdout, err = run_cli("unpack", "--salvage", archive, "-C", tmp_path / "out")
    assert code == 1
    assert "1 of 7 entries not extracted" in assert_one_error_line(err)
    assert b"damaged entry  tree/text.md" in stdout
    assert not (tmp_path / "out" / "tree" / "text.md").exists()
    assert (tmp_path / "out" / "tree" / "runs.txt").stat().st_size == 5000 + 4000 + 3000
    assert (tmp_path / "out" / "tree" / "sub" / "link").is_symlink()
