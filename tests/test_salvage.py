"""Salvage: `pyarc test` lists every damaged block and entry, not only the first, and
`pyarc unpack --salvage` extracts every intact entry of a damaged archive, even one whose index
and footer are gone (bzip2recover is the anchor)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from conftest import RunCli, assert_one_error_line

import archiver
from archiver import api
from archiver.format import parse_frame
from archiver.salvage import scan

BLOCK = 1024


@pytest.fixture()
def packed(tmp_path: Path) -> tuple[Path, dict[str, bytes]]:
    """An archive of five 6 KB files, 6 blocks each, lz77-coded."""
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


def block_offsets(archive: Path, path: str) -> list[int]:
    index = api.read_index(archive).index
    position = [entry.path for entry in index.entries].index(path)
    return [ref.offset for ref in index.blocks[position]]


def payload_byte(archive: Path, block_offset: int) -> int:
    """An offset inside the payload of the block frame at block_offset (its third-last
    byte): damage there fails the payload checksum, not the frame's."""
    with open(archive, "rb") as file:
        file.seek(block_offset)
        frame = parse_frame(file, block_offset)
        assert frame.block is not None and frame.block.stored_size >= 3
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
    assert [s.entry.path for s in found.intact] == ["t", *files]


def test_test_lists_every_damaged_block_and_entry(packed: tuple[Path, dict[str, bytes]],
                                                  run_cli: RunCli) -> None:
    """Two blocks of f1 and one of f3 damaged (payload bytes): all three and both entries are
    listed on stdout; stderr has one line; exit 1."""
    archive, _ = packed
    f1, f3 = block_offsets(archive, "t/f1"), block_offsets(archive, "t/f3")
    damage(archive, *(payload_byte(archive, offset) for offset in (f1[1], f1[4], f3[2])))
    code, out, err = run_cli("test", archive)
    assert code == 1
    line = assert_one_error_line(err)
    assert "3 damaged places" in line and "2 of 6 entries" in line
    text = out.decode()
    for offset in (f1[1], f1[4], f3[2]):
        assert f"offset {offset}:" in text
    assert "damaged entry  t/f1" in text and "damaged entry  t/f3" in text
    assert "t/f0" not in text


def test_unpack_salvage_extracts_the_intact_entries(packed: tuple[Path, dict[str, bytes]],
                                                   tmp_path: Path, run_cli: RunCli) -> None:
    archive, files = packed
    damage(archive, payload_byte(archive, block_offsets(archive, "t/f2")[3]))
    out = tmp_path / "out"
    code, stdout, err = run_cli("unpack", "--salvage", archive, "-C", out)
    assert code == 1
    line = assert_one_error_line(err)
    assert "salvaged 5 entries" in line and "1 of 6 entries not extracted" in line
    assert b"damaged entry  t/f2" in stdout
    for path, data in files.items():
        target = out / path
        if path == "t/f2":
            assert not target.exists()
            assert not [p for p in target.parent.iterdir() if p.name.startswith(".")]
        else:
            assert target.read_bytes() == data


def test_salvage_without_index_or_footer(packed: tuple[Path, dict[str, bytes]],
                                         tmp_path: Path, run_cli: RunCli) -> None:
    """The archive cut off inside its index: plain unpack fails; --salvage recovers all."""
    archive, files = packed
    index_offset = max(block_offsets(archive, "t/f4")) + 200
    archive.write_bytes(archive.read_bytes()[:index_offset])
    code, _, err = run_cli("unpack", archive, "-C", tmp_path / "plain")
    assert code == 1
    assert_one_error_line(err)
    code, _, err = run_cli("unpack", "--salvage", archive, "-C", tmp_path / "out")
    assert code == 1  # the index is damage too
    assert "salvaged 6 entries" in assert_one_error_line(err)
    for path, data in files.items():
        assert (tmp_path / "out" / path).read_bytes() == data


def test_lost_entry_frame_orphans_its_blocks(packed: tuple[Path, dict[str, bytes]]) -> None:
    """Damage to an entry frame loses that entry (its blocks are reported as blocks without
    an entry); the scan resynchronises and every other entry is intact."""
    archive, files = packed
    first_block = block_offsets(archive, "t/f1")[0]
    damage(archive, first_block - 8)  # inside f1's entry frame, just before its first block
    found = scan(archive)
    assert [s.entry.path for s in found.intact] == ["t", "t/f0", "t/f2", "t/f3", "t/f4"]
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
