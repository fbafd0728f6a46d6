"""Archives that released pyarcs wrote stay readable: the frozen archives of pyarc 0.1.0
(spec/vectors/1.0/codecs, one per codec setting) list, test, read and unpack to exactly the
entries and bytes their manifest records."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from conftest import RunCli

import archiver

FOLDER = Path(__file__).resolve().parents[1] / "spec" / "vectors" / "1.0" / "codecs"
MANIFEST = json.loads((FOLDER / "MANIFEST.json").read_text())
ENTRIES: dict[str, dict[str, object]] = MANIFEST["entries"]


def test_the_manifest_covers_every_archive() -> None:
    assert sorted(MANIFEST["archives"]) == sorted(p.name for p in FOLDER.glob("*.pyarc"))


@pytest.mark.parametrize("name", sorted(MANIFEST["archives"]))
def test_a_0_1_0_archive_reads_back_exactly(name: str) -> None:
    archive = FOLDER / name
    with archiver.open_archive(archive) as opened:
        assert opened.format_version == "1.0"
        found = {entry.path: entry for entry in opened.entries}
        assert sorted(found) == sorted(ENTRIES)
        for path, expected in ENTRIES.items():
            entry = found[path]
            assert entry.kind.name.lower() == expected["kind"], path
            assert (entry.mode, entry.mtime_ns) == (expected["mode"], expected["mtime_ns"])
            if expected["kind"] == "file":
                data = opened.read(path)
                assert len(data) == expected["size"]
                assert hashlib.sha256(data).hexdigest() == expected["sha256"], path
            if expected["kind"] == "symlink":
                assert entry.target == expected["target"]
    assert archiver.test(archive).files == 4


@pytest.mark.parametrize("name", ["auto.pyarc", "ppm.pyarc", "bwt-stagecm.pyarc"])
def test_a_0_1_0_archive_unpacks_through_the_cli(name: str, tmp_path: Path,
                                                 run_cli: RunCli) -> None:
    for source in ("file", "stdin"):
        out = tmp_path / source
        if source == "file":
            code, _, err = run_cli("unpack", FOLDER / name, "-C", out)
        else:
            code, _, err = run_cli("unpack", "-", "-C", out, stdin=(FOLDER / name).read_bytes())
        assert code == 0, err
        for path, expected in ENTRIES.items():
            if expected["kind"] == "file":
                digest = hashlib.sha256((out / path).read_bytes()).hexdigest()
                assert digest == expected["sha256"], path
        assert (out / "tree/sub/link").readlink() == Path("../text.md")
