"""Every snippet of docs/api.md runs, in order, in one namespace, in a folder that holds
notes.txt and a tree src/: the page cannot drift from the code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

PAGE = Path(__file__).resolve().parents[1] / "docs" / "api.md"
SNIPPETS = re.findall(r"```python\n(.*?)```", PAGE.read_text(encoding="utf-8"), re.DOTALL)


def test_the_page_has_snippets() -> None:
    assert len(SNIPPETS) >= 6


def test_every_snippet_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("fsspec", reason="the fsspec extra: pip install 'pyarc[fsspec]'")
    (tmp_path / "notes.txt").write_text("".join(f"note {n}: pyarc\n" for n in range(2000)))
    (tmp_path / "src" / "lib").mkdir(parents=True)
    (tmp_path / "src" / "a.py").write_text("print('a')\n" * 50)
    (tmp_path / "src" / "lib" / "b.py").write_text("import a\n" * 40)
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {}
    for number, snippet in enumerate(SNIPPETS, 1):
        try:
            exec(compile(snippet, f"docs/api.md, snippet {number}", "exec"), namespace)
        except Exception as error:
            raise AssertionError(f"docs/api.md snippet {number} fails: {error!r}\n{snippet}"
                                 ) from error
