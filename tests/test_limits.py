"""Output caps on unpack: a decompression bomb is refused before it writes (a file: sizes
from the index) or stopped as soon as it crosses the cap (a stream), with one error line and
nothing left behind; the caps can be raised."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import RunCli, assert_one_error_line

import archiver
from archiver import api
from archiver.errors import PyarcError
from archiver.limits import RATIO_FLOOR

ZEROS = 8 << 20  # 8 MiB of zeros pack into about 600 bytes: a ratio near 14,000


@pytest.fixture(scope="module")
def bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("bomb")
    (folder / "zeros").write_bytes(bytes(ZEROS))
    archive = folder / "bomb.pyarc"
    archiver.pack([folder / "zeros"], archive)
    assert archive.stat().st_size < ZEROS // 5000
    return archive


def test_ratio_cap_refuses_before_writing(bomb: Path, tmp_path: Path, run_cli: RunCli) -> None:
    out = tmp_path / "out"
    code, _, err = run_cli("unpack", "--max-ratio", "1000", bomb, "-C", out)
    assert code == 1
    assert "--max-ratio" in assert_one_error_line(err)
    assert not out.exists() or list(out.iterdir()) == []
    code, _, err = run_cli("unpack", bomb, "-C", out)  # the default lets zeros through
    assert code == 0, err
    assert (out / "zeros").stat().st_size == ZEROS


def test_output_cap_refuses_before_writing(bomb: Path, tmp_path: Path, run_cli: RunCli) -> None:
    out = tmp_path / "out"
    code, _, err = run_cli("unpack", "--max-output", "4M", bomb, "-C", out)
    assert code == 1
    assert "--max-output" in assert_one_error_line(err)
    assert not out.exists() or list(out.iterdir()) == []
    code, _, err = run_cli("unpack", "--max-output", "8M", bomb, "-C", out)
    assert code == 0, err
    code, _, err = run_cli("unpack", "--max-output", "lots", bomb, "-C", out)
    assert code == 2
    assert "--max-output" in assert_one_error_line(err)


def test_stream_is_stopped_at_the_cap(bomb: Path, tmp_path: Path, run_cli: RunCli) -> None:
    """From a pipe the sizes come as the data does: the cap stops it mid-file, and the
    partial file is removed."""
    out = tmp_path / "out"
    for option in (["--max-output", "2M"], ["--max-ratio", "100"]):
        code, _, err = run_cli("unpack", *option, "-", "-C", out, stdin=bomb.read_bytes())
        assert code == 1
        assert option[0] in assert_one_error_line(err)
        assert not out.exists() or list(out.iterdir()) == []


def test_free_space_is_the_default_cap(bomb: Path, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """With less free space at the destination than the archive declares, nothing is
    written: the disk is not filled."""
    monkeypatch.setattr(api, "free_space", lambda dest: ZEROS - 1)
    with pytest.raises(PyarcError, match="--max-output"):
        api.unpack(bomb, tmp_path / "out")
    assert not (tmp_path / "out" / "zeros").exists()


def test_small_archives_are_not_judged_by_ratio(tmp_path: Path) -> None:
    """Under RATIO_FLOOR bytes of output the ratio cap does not apply (an empty file costs
    more framing than data)."""
    (tmp_path / "z").write_bytes(bytes(RATIO_FLOOR))
    archiver.pack([tmp_path / "z"], tmp_path / "a.pyarc")
    api.unpack(tmp_path / "a.pyarc", tmp_path / "out", max_ratio=2)
    assert (tmp_path / "out" / "z").stat().st_size == RATIO_FLOOR
