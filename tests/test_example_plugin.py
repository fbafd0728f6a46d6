"""The example third-party plugin (examples/pyarc-delta) end to end: installed with pip into a
fresh virtual environment, it is found through its entry point, listed by `pyarc codecs`,
used by `pack --codec`, considered by auto, passes its own tests (the conformance kit); and
without it, an archive that needs it fails with one clear line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from conftest import assert_one_error_line

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "pyarc-delta"


@pytest.fixture(scope="module")
def fresh_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment that sees this pyarc (a .pth file adds the test
    environment's site-packages, so nothing is rebuilt) and has the plugin installed by its
    own pip; returns its python. The test environment itself stays without the plugin."""
    root = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", str(root)], check=True, timeout=300)
    python = root / "bin" / "python"
    fresh_site = Path(subprocess.check_output(
        [python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        text=True).strip())
    # An `import` line in a .pth runs at start-up: addsitedir also reads the .pth files of
    # the test environment, which is how its editable pyarc is found.
    (fresh_site / "pyarc-under-test.pth").write_text(
        f"import site; site.addsitedir({sysconfig.get_path('purelib')!r})\n")
    done = subprocess.run(
        [python, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
         "--no-cache-dir", str(EXAMPLE)],
        capture_output=True, text=True, timeout=300, cwd=root,
        env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"})
    assert done.returncode == 0, done.stderr
    return python


def run(*args: str | Path, python: Path | str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    return subprocess.run([str(python), *map(str, args)], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=300, stdin=subprocess.DEVNULL)


def test_listed_used_and_considered_by_auto(fresh_python: Path, tmp_path: Path) -> None:
    listed = run("-m", "archiver", "codecs", "--json", python=fresh_python, cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    delta = [row for row in json.loads(listed.stdout) if row["name"] == "delta"]
    assert delta and delta[0]["distribution"] == "pyarc-delta 1.0.0"

    samples = bytes((i // 5) % 256 for i in range(100_000))
    (tmp_path / "ramp.raw").write_bytes(samples)
    packed = run("-m", "archiver", "pack", "--codec", "delta:distance=1,then=huffman",
                 "a.pyarc", "ramp.raw", python=fresh_python, cwd=tmp_path)
    assert packed.returncode == 0, packed.stderr
    unpacked = run("-m", "archiver", "unpack", "a.pyarc", "-C", "out", python=fresh_python,
                   cwd=tmp_path)
    assert unpacked.returncode == 0, unpacked.stderr
    assert (tmp_path / "out" / "ramp.raw").read_bytes() == samples

    auto = run("-c", "from archiver.api import make_encoder; "
                     "print(' '.join(c.name for c in make_encoder('auto').candidates))",
               python=fresh_python, cwd=tmp_path)
    assert "delta" in auto.stdout.split(), auto.stderr

    # Without the plugin the archive cannot be read: one line naming the codec, exit 1.
    missing = run("-m", "archiver", "unpack", "a.pyarc", "-C", "out2", python=sys.executable,
                  cwd=tmp_path)
    assert missing.returncode == 1
    assert "'delta'" in assert_one_error_line(missing.stderr)
    assert not (tmp_path / "out2").exists() or not any((tmp_path / "out2").iterdir())


def test_disabled_by_environment(fresh_python: Path, tmp_path: Path) -> None:
    """PYARC_DISABLE_PLUGINS=third-party (or =delta) hides the plugin."""
    for value in ("third-party", "delta"):
        env_run = subprocess.run(
            [fresh_python, "-m", "archiver", "codecs", "--json"], capture_output=True,
            text=True, cwd=tmp_path, timeout=120,
            env={**os.environ, "PYARC_DISABLE_PLUGINS": value})
        assert env_run.returncode == 0, env_run.stderr
        names = [row["name"] for row in json.loads(env_run.stdout)]
        assert "delta" not in names and "lz77" in names


def test_plugin_passes_its_own_tests(fresh_python: Path, tmp_path: Path) -> None:
    """The example's tests run the conformance kit on it."""
    done = run("-m", "pytest", "-q", "-p", "no:cacheprovider", EXAMPLE / "tests",
               python=fresh_python, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
