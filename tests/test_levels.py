"""Compression levels: `pack -0` .. `-9` (and `--level N`) choose what auto tries on each block,
0 stores, the default is level 6, a level goes with auto only, and every level round-trips."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from conftest import CALGARY_14, RunCli, assert_one_error_line, corpus_file

import archiver
from archiver import api
from archiver.codec import Codec
from archiver.errors import UsageError
from archiver.grouping import TEXT
from archiver.levels import CODED_LEVELS, DEFAULT_LEVEL, LEVELS, check_level
from archiver.plugins import RegisteredCodec, Registry, registry

README = (Path(__file__).resolve().parents[1] / "README.md").read_bytes()


def tree(root: Path) -> Path:
    """A small tree: text, and random bytes that no codec shrinks."""
    (root / "src").mkdir(parents=True)
    (root / "src" / "README.md").write_bytes(README)
    (root / "src" / "noise.bin").write_bytes(random.Random(3).randbytes(20_000))
    return root / "src"


def block_codecs(archive: Path) -> set[str]:
    return {ref.codec for ref in api.read_index(archive).catalog.blocks}


def test_level_0_stores_every_block(tmp_path: Path, run_cli: RunCli) -> None:
    source = tree(tmp_path)
    code, _, err = run_cli("pack", "-0", "stored.pyarc", source, cwd=tmp_path)
    assert code == 0, err
    assert block_codecs(tmp_path / "stored.pyarc") == {"store"}
    code, _, err = run_cli("test", "stored.pyarc", cwd=tmp_path)
    assert code == 0, err


@pytest.mark.parametrize("level", list(CODED_LEVELS))
def test_each_level_uses_only_its_candidates_and_round_trips(level: int,
                                                             tmp_path: Path) -> None:
    source = tree(tmp_path)
    archive = tmp_path / f"l{level}.pyarc"
    archiver.pack([source], archive, preset=level)
    allowed = {spec.partition(":")[0] for group_specs in registry().policy.auto[level].values()
               for spec in group_specs} | {"store"}
    assert block_codecs(archive) <= allowed
    text_codec = registry().auto_candidates(TEXT, level)[0].partition(":")[0]
    assert text_codec in block_codecs(archive)
    archiver.unpack(archive, tmp_path / f"out{level}")
    assert (tmp_path / f"out{level}" / "src" / "README.md").read_bytes() == README


def test_the_default_is_level_6_and_short_flags_are_the_long_option(tmp_path: Path,
                                                                     run_cli: RunCli) -> None:
    source = tree(tmp_path)
    for name, args in [("default", []), ("six", ["--level", "6"]), ("dash6", ["-6"]),
                       ("dash1", ["-1"]), ("one", ["--level=1"])]:
        code, _, err = run_cli("pack", *args, f"{name}.pyarc", source, cwd=tmp_path)
        assert code == 0, err
    read = {name: (tmp_path / f"{name}.pyarc").read_bytes()
            for name in ("default", "six", "dash6", "dash1", "one")}
    assert read["default"] == read["six"] == read["dash6"]
    assert read["dash1"] == read["one"] != read["default"]


def test_a_path_named_like_a_level_after_double_dash(tmp_path: Path, run_cli: RunCli) -> None:
    (tmp_path / "-1").write_bytes(b"a file named -1\n" * 50)
    code, _, err = run_cli("pack", "out.pyarc", "--", "-1", cwd=tmp_path)
    assert code == 0, err
    assert [entry.path for entry in api.read_index(tmp_path / "out.pyarc").catalog.entries] == [
        "-1"]


@pytest.mark.parametrize("args, message", [
    (["--level", "10"], "--level"),
    (["-c", "lz77", "-3"], "goes with --codec auto"),
    (["--auto-codecs", "lz77", "-3"], "give one of them"),
])
def test_bad_levels_are_one_error_line(args: list[str], message: str, tmp_path: Path,
                                       run_cli: RunCli) -> None:
    source = tree(tmp_path)
    code, _, err = run_cli("pack", *args, "bad.pyarc", source, cwd=tmp_path)
    assert code == 2
    assert message in assert_one_error_line(err)
    assert not (tmp_path / "bad.pyarc").exists()


def test_check_level() -> None:
    assert [check_level(level) for level in LEVELS] == list(range(10))
    for bad in (-1, 10, True, "3"):
        with pytest.raises(UsageError):
            check_level(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("level", list(LEVELS))
def test_compress_at_each_preset(level: int) -> None:
    """compress(preset=N) tries what pack -N tries on data of that kind, and round-trips."""
    blob = archiver.compress(README, preset=level)
    assert archiver.decompress(blob) == README
    if level == 0:
        assert README in blob  # stored as it is
    else:
        assert len(blob) < len(README) // 2


def test_a_codec_option_named_level_is_not_a_preset() -> None:
    """`level` stays free for codec options (lz77's): the compression level is `preset`."""
    blob = archiver.compress(README, "lz77", level=9)
    assert archiver.decompress(blob) == README
    with pytest.raises(UsageError, match="goes with --codec auto"):
        archiver.compress(README, "lz77", preset=9)


class _Slow(Codec):
    name = "slowcodec"
    description = "a codec auto leaves out unless asked"
    tried_by_auto = False

    def encode(self, data: bytes) -> bytes:
        return data

    def decode(self, payload: bytes, size: int) -> bytes:
        return payload


def test_a_codec_not_tried_by_auto_is_left_out_where_no_level_names_it() -> None:
    store = registry().get("store")
    reg = Registry({"store": store, "slowcodec": RegisteredCodec(_Slow, "test", "test 1")})
    assert reg.tried_by_auto() == ["store"]
    assert [c.name for c in api.make_encoder("auto", reg).candidates] == []  # store only
    assert [c.name for c in api.make_encoder("auto", reg, ["slowcodec"]).candidates] == [
        "slowcodec"]


def test_codecs_lists_the_levels(run_cli: RunCli) -> None:
    code, out, err = run_cli("codecs")
    assert code == 0, err
    text = out.decode()
    assert "compression levels" in text
    for level in LEVELS:
        assert f"\n│ {level} " in text or f"\n┃ {level} " in text, level


@pytest.mark.corpus
@pytest.mark.slow
def test_level_1_on_calgary_is_smaller_than_zlib_1(corpus_dir: Path) -> None:
    """Level 1, the fast one, still packs Calgary-14 (each file alone) smaller than zlib -1
    (its speed is measured by make bench, not asserted here)."""
    import zlib

    datas = [corpus_file(corpus_dir, name) for name in CALGARY_14]
    level_1 = sum(len(archiver.compress(data, preset=1)) for data in datas)
    assert level_1 < sum(len(zlib.compress(data, 1)) for data in datas)
    assert DEFAULT_LEVEL == 6


def test_auto_tries_cm_only_where_a_level_names_it() -> None:
    """cm, far the slowest codec, is no candidate of plain auto (compress's every-codec mode,
    or pack's default level) and the first one at level 9."""
    assert "cm" not in registry().tried_by_auto()
    assert "cm" not in {c.name for c in api.make_encoder("auto").candidates}
    for level in range(1, 9):
        assert not any(spec.startswith("cm") for group in registry().policy.auto[level].values()
                       for spec in group), level
    assert registry().auto_candidates(TEXT, 9)[0] == "cm"
    assert "cm" in {c.name for c in api.make_encoder("auto", preset=9).candidates}
