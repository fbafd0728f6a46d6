"""Round trips: bytes through compress/decompress, files and trees through pack/unpack, by the
Python API and by the `pyarc` command line, on the Calgary corpus and on generated edge cases."""

from __future__ import annotations

import os
import random
import stat
from pathlib import Path

import pytest
from conftest import RunCli, tree_snapshot

import archiver
from archiver import api
from archiver.errors import UsageError
from archiver.format import DEFAULT_BLOCK_SIZE

BLOCK = 4096
# 2020-09-13, with nanoseconds that a float round trip would lose.
MTIME = 1_600_000_000_123_456_789
SIZES = {"empty": 0, "one-byte": 1, "one-block": BLOCK, "one-block-plus-one": BLOCK + 1}
BLOCKS = {"empty": 0, "one-byte": 1, "one-block": 1, "one-block-plus-one": 2}


def data_of(size: int, seed: int = 1) -> bytes:
    return random.Random(seed).randbytes(size)


def blocks_of(archive: Path) -> list[int]:
    """The number of blocks each entry's data touches, from the index."""
    return [len(refs) for refs in api.read_index(archive).catalog.entry_blocks()]


def make_tree(root: Path) -> Path:
    """A tree with every kind of entry the format holds; returns `root`.

    tree/
      bin/run.sh       0o755
      bin/tool -> run.sh
      secret.txt       0o600
      empty/           (an empty directory)
      a/b/c/deep.txt   (nested directories)
      a/b/up -> ../../secret.txt
      a/dirlink -> b
      dangling -> missing/file
      naïve café.txt
      日本語/ファイル
    """
    tree = root / "tree"
    files = {
        "bin/run.sh": (b"#!/bin/sh\necho hi\n", 0o755),
        "secret.txt": (b"secret\n", 0o600),
        "a/b/c/deep.txt": (b"deep\n" * 1000, 0o644),
        "naïve café.txt": ("naïve café\n".encode(), 0o644),
        "日本語/ファイル": ("日本語\n".encode(), 0o640),
        "zero": (b"", 0o644),
    }
    for name, (data, mode) in files.items():
        path = tree / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        path.chmod(mode)
    (tree / "empty").mkdir()
    (tree / "a" / "empty2").mkdir()
    (tree / "bin" / "tool").symlink_to("run.sh")
    (tree / "a" / "b" / "up").symlink_to("../../secret.txt")
    (tree / "a" / "dirlink").symlink_to("b")
    (tree / "dangling").symlink_to("missing/file")
    (tree / "日本語").chmod(0o750)
    # Distinct mtimes, set last (deepest first) so that writing children does not move them.
    paths = sorted(tree.rglob("*"), key=lambda p: len(p.parts), reverse=True) + [tree]
    for number, path in enumerate(paths):
        if not path.is_symlink():
            os.utime(path, ns=(MTIME + number * 1_000_000_007, MTIME + number * 1_000_000_007))
    return tree


def assert_same_tree(original: Path, copy: Path) -> None:
    """Same entries, kinds, modes, contents, symlink targets and mtimes (directories too)."""
    assert tree_snapshot(copy) == tree_snapshot(original)
    # The root directory's own metadata.
    assert copy.stat().st_mtime_ns == original.stat().st_mtime_ns
    assert stat.S_IMODE(copy.stat().st_mode) == stat.S_IMODE(original.stat().st_mode)


# -- the Calgary corpus ------------------------------------------------------------------------


def test_corpus_compress_roundtrip(corpus_dir: Path) -> None:
    for path in sorted(corpus_dir.iterdir()):
        data = path.read_bytes()
        blob = archiver.compress(data, "store")
        assert archiver.decompress(blob) == data, path.name


def test_corpus_pack_unpack_api(corpus_dir: Path, tmp_path: Path) -> None:
    archive = tmp_path / "calgary.pyarc"
    stats = archiver.pack([corpus_dir], archive, codec="store")
    names = sorted(p.name for p in corpus_dir.iterdir())
    assert stats.entries == len(names) + 1  # the folder itself
    assert archiver.test(archive).files == len(names)
    archiver.unpack(archive, tmp_path / "out")
    out = tmp_path / "out" / "calgary"
    assert sorted(p.name for p in out.iterdir()) == names
    for name in names:
        assert (out / name).read_bytes() == (corpus_dir / name).read_bytes(), name


def test_corpus_cli(corpus_dir: Path, tmp_path: Path, run_cli: RunCli) -> None:
    archive = tmp_path / "calgary.pyarc"
    names = sorted(p.name for p in corpus_dir.iterdir())
    code, _, err = run_cli("pack", "--codec", "store", archive, corpus_dir)
    assert code == 0, err
    code, _, err = run_cli("test", archive)
    assert code == 0, err
    code, out, err = run_cli("list", archive)
    assert code == 0, err
    listed = out.decode().splitlines()
    assert len(listed) == len(names) + 1
    for name in names:
        assert any(line.endswith(f" calgary/{name}") for line in listed), name
    code, _, err = run_cli("unpack", archive, "-C", tmp_path / "out")
    assert code == 0, err
    out_dir = tmp_path / "out" / "calgary"
    assert sorted(p.name for p in out_dir.iterdir()) == names
    for name in names:
        assert (out_dir / name).read_bytes() == (corpus_dir / name).read_bytes(), name


# -- generated edge cases: sizes ---------------------------------------------------------------


@pytest.mark.parametrize("case", SIZES)
def test_sizes_compress(case: str) -> None:
    data = data_of(SIZES[case])
    blob = archiver.compress(data, "store", block_size=BLOCK)
    assert archiver.decompress(blob) == data


@pytest.mark.parametrize("case", SIZES)
def test_sizes_pack_unpack_api(case: str, tmp_path: Path) -> None:
    data = data_of(SIZES[case])
    (tmp_path / "in").mkdir()
    source = tmp_path / "in" / case
    source.write_bytes(data)
    archive = tmp_path / "a.pyarc"
    archiver.pack([source], archive, codec="store", block_size=BLOCK)
    assert blocks_of(archive) == [BLOCKS[case]]
    archiver.unpack(archive, tmp_path / "out")
    assert (tmp_path / "out" / case).read_bytes() == data


def test_sizes_cli(tmp_path: Path, run_cli: RunCli) -> None:
    """All four sizes in one archive (one process per step keeps this fast)."""
    source = tmp_path / "in"
    source.mkdir()
    for case, size in SIZES.items():
        (source / case).write_bytes(data_of(size))
    archive = tmp_path / "a.pyarc"
    code, _, err = run_cli("pack", "--block-size", "4K", "--solid", "off", "--codec", "store",
                           archive, ".", cwd=source)
    assert code == 0, err
    listing = api.read_index(archive)
    catalog, block_size = listing.catalog, listing.block_size
    assert block_size == BLOCK
    assert {e.path: len(r) for e, r in zip(catalog.entries, catalog.entry_blocks(),
                                           strict=True)} == BLOCKS
    code, _, err = run_cli("test", archive)
    assert code == 0, err
    code, _, err = run_cli("unpack", archive, "-C", tmp_path / "out")
    assert code == 0, err
    for case, size in SIZES.items():
        assert (tmp_path / "out" / case).read_bytes() == data_of(size), case


# -- 10 MB of random data ----------------------------------------------------------------------

TEN_MB = 10 * 1024 * 1024


@pytest.fixture(scope="module")
def ten_mb() -> bytes:
    return random.Random(20240610).randbytes(TEN_MB)


def test_ten_mb_compress(ten_mb: bytes) -> None:
    blob = archiver.compress(ten_mb, "store", jobs=2)
    assert archiver.decompress(blob) == ten_mb


def test_ten_mb_pack_unpack_api_and_cli(ten_mb: bytes, tmp_path: Path, run_cli: RunCli) -> None:
    source = tmp_path / "big.bin"
    source.write_bytes(ten_mb)
    archive = tmp_path / "api.pyarc"
    archiver.pack([source], archive, codec="store", jobs=2)
    assert blocks_of(archive) == [-(-TEN_MB // DEFAULT_BLOCK_SIZE)]  # solid blocks, 4 MiB
    archiver.unpack(archive, tmp_path / "api")
    assert (tmp_path / "api" / "big.bin").read_bytes() == ten_mb

    cli_archive = tmp_path / "cli.pyarc"
    code, _, err = run_cli("pack", "-c", "store", "-b", "1M", cli_archive, "big.bin",
                           cwd=tmp_path)
    assert code == 0, err
    assert blocks_of(cli_archive) == [10]
    code, _, err = run_cli("unpack", cli_archive, "-C", tmp_path / "cli")
    assert code == 0, err
    assert (tmp_path / "cli" / "big.bin").read_bytes() == ten_mb


# -- trees: empty and nested directories, symlinks, unicode names, modes, mtimes -------------


def test_tree_api(tmp_path: Path) -> None:
    tree = make_tree(tmp_path / "src")
    archive = tmp_path / "t.pyarc"
    archiver.pack([tree], archive, codec="store", block_size=BLOCK)
    archiver.test(archive)
    archiver.unpack(archive, tmp_path / "out")
    assert_same_tree(tree, tmp_path / "out" / "tree")


def test_tree_cli(tmp_path: Path, run_cli: RunCli) -> None:
    tree = make_tree(tmp_path / "src")
    archive = tmp_path / "t.pyarc"
    code, _, err = run_cli("pack", "-b", "4K", archive, "tree", cwd=tmp_path / "src")
    assert code == 0, err
    code, _, err = run_cli("unpack", archive, "-C", tmp_path / "out")
    assert code == 0, err
    assert_same_tree(tree, tmp_path / "out" / "tree")


def test_tree_entries_as_stored(tmp_path: Path) -> None:
    """Kinds, targets and modes as the index records them (dangling link kept as is)."""
    tree = make_tree(tmp_path / "src")
    archive = tmp_path / "t.pyarc"
    archiver.pack([tree], archive)
    with archiver.open_archive(archive) as opened:
        entries = {entry.path: entry for entry in opened.entries}
        assert opened.read("tree/naïve café.txt") == "naïve café\n".encode()
    assert entries["tree/dangling"].kind == archiver.api.Kind.SYMLINK
    assert entries["tree/dangling"].target == "missing/file"
    assert entries["tree/a/b/up"].target == "../../secret.txt"
    assert entries["tree/empty"].kind == archiver.api.Kind.DIRECTORY
    assert entries["tree/bin/run.sh"].mode == 0o755
    assert entries["tree/secret.txt"].mode == 0o600
    assert entries["tree/secret.txt"].mtime_ns == (tree / "secret.txt").stat().st_mtime_ns
    assert "tree/日本語/ファイル" in entries


# -- the API's own contracts -------------------------------------------------------------------


def test_compress_default_codec_is_auto() -> None:
    data = b"hello, world\n" * 500
    blob = archiver.compress(data)
    assert archiver.decompress(blob) == data
    # auto is the default: an explicit "auto" gives the same bytes.
    assert archiver.compress(data, "auto") == blob


def test_decompress_refuses_two_entries(tmp_path: Path) -> None:
    (tmp_path / "one").write_bytes(b"1")
    (tmp_path / "two").write_bytes(b"2")
    archive = tmp_path / "two.pyarc"
    archiver.pack([tmp_path / "one", tmp_path / "two"], archive)
    with pytest.raises(UsageError):
        archiver.decompress(archive.read_bytes())


def test_compress_same_for_any_jobs() -> None:
    data = data_of(100 * BLOCK + 17, seed=3)
    one = archiver.compress(data, "store", block_size=BLOCK, jobs=1)
    four = archiver.compress(data, "store", block_size=BLOCK, jobs=4)
    assert one == four
    assert archiver.compress(data, block_size=BLOCK, jobs=4) == archiver.compress(
        data, block_size=BLOCK, jobs=1)


def test_pack_same_for_any_jobs(tmp_path: Path) -> None:
    tree = make_tree(tmp_path / "src")
    (tree / "multi.bin").write_bytes(data_of(40 * BLOCK + 5))
    one, four = tmp_path / "j1.pyarc", tmp_path / "j4.pyarc"
    archiver.pack([tree], one, block_size=BLOCK, jobs=1)
    archiver.pack([tree], four, block_size=BLOCK, jobs=4)
    assert one.read_bytes() == four.read_bytes()


def test_pack_same_for_any_jobs_cli(tmp_path: Path, run_cli: RunCli) -> None:
    tree = make_tree(tmp_path / "src")
    (tree / "multi.bin").write_bytes(data_of(40 * BLOCK + 5))
    for jobs in ("1", "4"):
        code, _, err = run_cli("pack", "-j", jobs, "-b", "4K", tmp_path / f"j{jobs}.pyarc",
                               "tree", cwd=tree.parent)
        assert code == 0, err
    assert (tmp_path / "j1.pyarc").read_bytes() == (tmp_path / "j4.pyarc").read_bytes()


def test_non_utf8_file_name(tmp_path: Path) -> None:
    """A name that is not UTF-8 (bytes 0xFF) survives the round trip byte for byte."""
    src = tmp_path / "src"
    src.mkdir()
    name = os.fsdecode(b"caf\xe9-\xff.bin")
    (src / name).write_bytes(b"latin-1")
    archive = tmp_path / "n.pyarc"
    archiver.pack([src], archive)
    archiver.unpack(archive, tmp_path / "out")
    assert os.listdir(os.fsencode(tmp_path / "out" / "src")) == [b"caf\xe9-\xff.bin"]
    assert (tmp_path / "out" / "src" / name).read_bytes() == b"latin-1"
