"""docs/plugins.md: every code block runs. Python blocks run in order in one namespace (as a
reader would paste them), TOML blocks parse and declare the entry point, shell lines exit 0."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "plugins.md"
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def blocks(language: str) -> list[str]:
    return [code for lang, code in BLOCK.findall(GUIDE.read_text()) if lang == language]


def test_the_guide_has_every_kind_of_block() -> None:
    assert len(blocks("python")) >= 5 and blocks("toml") and blocks("sh")
    assert {lang for lang, _ in BLOCK.findall(GUIDE.read_text())} <= {"python", "toml", "sh"}


def test_python_blocks_run_in_order(capsys: pytest.CaptureFixture[str]) -> None:
    namespace: dict[str, object] = {"__name__": "guide"}
    for number, code in enumerate(blocks("python"), 1):
        try:
            exec(compile(code, f"{GUIDE.name} python block {number}", "exec"), namespace)
        except Exception as error:  # pragma: no cover - the message is the point
            pytest.fail(f"python block {number} of {GUIDE.name} failed: "
                        f"{type(error).__name__}: {error}")
    printed = capsys.readouterr().out
    assert "below the minimum 2" in printed  # the options block's output, as the guide says
    assert "wrong length" in printed  # the kit caught the careless decoder


def test_toml_blocks_declare_the_entry_point() -> None:
    for code in blocks("toml"):
        parsed = tomllib.loads(code)
        assert "pyarc.codecs" in parsed["project"]["entry-points"]


def test_shell_lines_succeed(tmp_path: Path) -> None:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    for code in blocks("sh"):
        for line in filter(None, code.splitlines()):
            done = subprocess.run(["bash", "-c", line], capture_output=True, text=True,
                                  cwd=tmp_path, env=env, timeout=120)
            assert done.returncode == 0, f"{line}: {done.stderr}"
