"""Import pyarc's kernels from their pure-Python sources, even where compiled ones exist.

The compiled kernels are the ones pyarc runs; the .py sources are the reference and the
fallback. Tests run a fast subset through both and check that they agree.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType


def _is_kernel(name: str) -> bool:
    return name.startswith("pyarc_plugins.") and name.endswith("_kernel")


class _SourceFirst(importlib.abc.MetaPathFinder):
    """Finds `pyarc_plugins.*_kernel` modules as .py files, ignoring extension modules."""

    def find_spec(self, fullname: str, path: Sequence[str] | None, target: object = None):
        if not _is_kernel(fullname) or not path:
            return None
        leaf = fullname.rpartition(".")[2]
        for folder in path:
            source = Path(folder) / f"{leaf}.py"
            if source.is_file():
                return importlib.util.spec_from_file_location(fullname, source)
        return None


_cache: dict[str, ModuleType] = {}


def pure(name: str) -> ModuleType:
    """The kernel module `name` (e.g. 'pyarc_plugins.coding.bitio_kernel') run as plain Python.

    Kernels it imports are pure Python too. The compiled modules in sys.modules are left as
    they were for everything else.
    """
    if name in _cache:
        return _cache[name]
    saved = {key: module for key, module in sys.modules.items() if _is_kernel(key)}
    for key in saved:
        del sys.modules[key]
    for key, module in _cache.items():
        sys.modules[key] = module
    finder = _SourceFirst()
    sys.meta_path.insert(0, finder)
    try:
        module = importlib.import_module(name)
        for key, loaded in sys.modules.items():
            if _is_kernel(key):
                _cache[key] = loaded
    finally:
        sys.meta_path.remove(finder)
        for key in [key for key in sys.modules if _is_kernel(key)]:
            del sys.modules[key]
        sys.modules.update(saved)
        # Importing a submodule also sets it as an attribute of its package: put the
        # compiled ones back, or codecs that reach their kernel through it would run pure.
        for key, original in saved.items():
            package, _, leaf = key.rpartition(".")
            if package in sys.modules:
                setattr(sys.modules[package], leaf, original)
    assert module.__file__ and module.__file__.endswith(".py"), module.__file__
    return module
