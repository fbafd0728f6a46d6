"""Output caps on unpack (archiver/limits.py): the free space and --max-output refuse an archive
file before it writes, whatever its ratio; a stream and --salvage are counted as they are
written and also stopped by --max-ratio. Each cap says which it is, with the bytes actually
written, in one error line, and nothing is left behind."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from conftest import RunCli, assert_one_error_line

import archiver
from archiver import api
from archiver.errors import PyarcError
from archiver.limits import RATIO_FLOOR

ZEROS = 8 << 20  # 8 MiB of zeros pack into about 470 bytes (two blocks): a ratio near 18,000


@pytest.fixture(scope="module")
def bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("bomb")
    (folder / "zeros").write_bytes(bytes(ZEROS))
    archive = folder / "bomb.pyarc"
    archiver.pack([folder / "zeros"], archive)
    assert archive.stat().st_size < ZEROS // 5000
    return archive


def nothing_in(folder: Path) -> bool:
    return not folder.exists() or list(folder.iterdir()) == []


def written(line: str) -> int:
    """The byte count in 'stopped after writing N bytes'."""
    found = re.search(r"stopped after writing ([\d,]+) bytes", line)
    assert found, line
    return int(found.group(1).replace(",", ""))


def test_a_file_archive_is_not_judged_by_its_ratio(tmp_path: Path, run_cli: RunCli) -> None:
    """A user's own sparse image packs at far more than any ratio cap; it fits the disk, so it
    unpacks without an override."""
    image = tmp_path / "disk.img"
    with open(image, "wb") as file:
        file.truncate(50 << 20)
        file.seek(30 << 20)
        file.write(b"a boot sector, say")
    code, _, err = run_cli("pack", "-c", "huffman", "-b", "16M", tmp_path / "img.pyarc", image)
    assert code == 0, err
    assert (tmp_path / "img.pyarc").stat().st_size * 20_000 < 50 << 20
    code, _, err = run_cli("unpack", tmp_path / "img.pyarc", "-C", tmp_path / "out")
    assert code == 0, err
    assert (tmp_path / "out" / "disk.img").read_bytes() == image.read_bytes()


def test_output_cap_refuses_a_file_archive_before_writing(bomb: Path, tmp_path: Path,
                                                          run_cli: RunCli) -> None:
    out = tmp_path / "out"
    code, _, err = run_cli("unpack", "--max-output", "4M", bomb, "-C", out)
    assert code == 1
    line = assert_one_error_line(err)
    assert "--max-output" in line and "8,388,608" in line and "nothing was written" in line
    assert nothing_in(out)
    code, _, err = run_cli("unpack", "--max-output", "8M", bomb, "-C", out)
    assert code == 0, err
    code, _, err = run_cli("unpack", "--max-output", "lots", bomb, "-C", out)
    assert code == 2
    assert "--max-output" in assert_one_error_line(err)


@pytest.mark.parametrize(("option", "word"), [(["--max-output", "2M"], "--max-output"),
                                              (["--max-ratio", "100"], "--max-ratio")])
def test_a_stream_is_stopped_at_the_cap(option: list[str], word: str, bomb: Path,
                                        tmp_path: Path, run_cli: RunCli) -> None:
    """From a pipe the sizes come as the data does: the cap stops it mid-file, the message
    says how much was really written, and the partial file is removed."""
    out = tmp_path / "out"
    code, _, err = run_cli("unpack", *option, "-", "-C", out, stdin=bomb.read_bytes())
    assert code == 1
    line = assert_one_error_line(err)
    assert word in line
    assert written(line) <= (2 << 20 if word == "--max-output" else 100 * bomb.stat().st_size
                             + (1 << 20))
    assert nothing_in(out)


@pytest.mark.parametrize(("option", "word"), [(["--max-output", "4M"], "--max-output"),
                                              (["--max-ratio", "1000"], "--max-ratio")])
def test_salvage_obeys_the_caps(option: list[str], word: str, bomb: Path, tmp_path: Path,
                                run_cli: RunCli) -> None:
    """Salvage cannot trust the index, but it does not escape the caps of unpack."""
    out = tmp_path / "out"
    code, _, err = run_cli("unpack", "--salvage", *option, bomb, "-C", out)
    assert code == 1
    assert word in assert_one_error_line(err)
    assert nothing_in(out)
    code, _, err = run_cli("unpack", "--salvage", bomb, "-C", out)  # the defaults let it be
    assert code == 0, err
    assert (out / "zeros").stat().st_size == ZEROS


def test_a_full_disk_is_named_as_such_and_nothing_is_written(bomb: Path, small_disk: Path,
                                                            run_cli: RunCli) -> None:
    """8 MiB declared, 4 MiB free: refused before writing, for what it is (not --max-output),
    by unpack and by salvage; a stream is stopped where the space ends."""
    for args in ([bomb], ["--salvage", bomb]):
        code, _, err = run_cli("unpack", *args, "-C", small_disk / "out")
        assert code == 1
        line = assert_one_error_line(err)
        assert "free at" in line and "--max-output" not in line, line
        assert nothing_in(small_disk / "out")
    code, _, err = run_cli("unpack", "-", "-C", small_disk / "out", stdin=bomb.read_bytes())
    assert code == 1
    line = assert_one_error_line(err)
    assert "free at" in line and written(line) <= 4 << 20
    assert nothing_in(small_disk / "out")


def test_free_space_is_the_default_cap(bomb: Path, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """With less free space at the destination than the archive declares, nothing is
    written: the disk is not filled (the API, where no small disk can be mounted)."""
    monkeypatch.setattr(api, "free_space", lambda dest: ZEROS - 1)
    with pytest.raises(PyarcError, match="bytes are free at"):
        api.unpack(bomb, tmp_path / "out")
    assert not (tmp_path / "out" / "zeros").exists()


def test_a_file_system_without_a_size_is_not_a_cap_of_zero(bomb: Path,
                                                           run_cli: RunCli) -> None:
    """/proc reports no free space at all: the error is that nothing can be created there."""
    code, _, err = run_cli("unpack", bomb, "-C", "/proc/pyarc-test")
    assert code == 1
    line = assert_one_error_line(err)
    assert "allowed" not in line and "free" not in line and "/proc/pyarc-test" in line
    assert not os.path.exists("/proc/pyarc-test")


def test_small_streams_are_not_judged_by_ratio(tmp_path: Path, run_cli: RunCli) -> None:
    """Under RATIO_FLOOR bytes of output the ratio cap does not apply (an empty file costs
    more framing than data)."""
    (tmp_path / "z").write_bytes(bytes(RATIO_FLOOR))
    archiver.pack([tmp_path / "z"], tmp_path / "a.pyarc")
    code, _, err = run_cli("unpack", "--max-ratio", "2", "-", "-C", tmp_path / "out",
                           stdin=(tmp_path / "a.pyarc").read_bytes())
    assert code == 0, err
    assert (tmp_path / "out" / "z").stat().st_size == RATIO_FLOOR
