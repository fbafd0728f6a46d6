"""Choosing the entries that `unpack` extracts from the names given on its command line.

A name selects the entry of that name and everything below it; it is normalised as the
archive stores names (`./src//a/` selects `src/a`). A name with a wildcard (`*`, `?`, `[`) is
a gitignore-style pattern, as `pack --exclude` takes: `*.py` selects every `.py` entry at any
depth, `src/*.py` those directly in `src`, `src/**/*.py` those anywhere below it; a directory
it matches brings everything below it. No names selects every entry.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterable, Sequence

import pathspec

from archiver.errors import PyarcError, UsageError

WILDCARDS = frozenset("*?[")


def normalise(name: str) -> str:
    """`./a//b/` -> `a/b`: a name as the archive stores it."""
    normal = posixpath.normpath(name)
    return "" if normal in (".", "/", "//") else normal.lstrip("/")


def _ancestors(path: str) -> Iterable[str]:
    """'a/b/c' -> 'a/', 'a/b/' (the folders above an entry, as a pattern matches folders)."""
    parts = path.split("/")
    return ("/".join(parts[:depth]) + "/" for depth in range(1, len(parts)))


def _matcher(given: str) -> Callable[[str], bool]:
    if WILDCARDS.isdisjoint(given):
        wanted = normalise(given)
        if not wanted:
            return lambda path: True
        return lambda path: path == wanted or path.startswith(wanted + "/")
    try:
        pattern = pathspec.GitIgnoreSpec.from_lines([given])
    except (ValueError, TypeError) as error:
        raise UsageError(f"bad pattern {given!r}: {error}") from None
    return lambda path: bool(path) and (pattern.match_file(path)
                                        or any(map(pattern.match_file, _ancestors(path))))


class Members:
    """The selection made by the names given to `unpack` (all entries if none)."""

    def __init__(self, names: Sequence[str]) -> None:
        self.names = list(names)
        self._matchers = [(given, _matcher(given)) for given in self.names]

    def __call__(self, path: str) -> bool:
        return not self._matchers or any(match(path) for _, match in self._matchers)

    def check_all_found(self, paths: Iterable[str]) -> None:
        """An error naming the first name given that selects none of `paths`."""
        missing = dict(self._matchers)
        for path in paths:
            for given, match in list(missing.items()):
                if match(path):
                    del missing[given]
            if not missing:
                return
        if missing:
            first = next(iter(missing))
            raise PyarcError(f"{first!r} is not in the archive" if WILDCARDS.isdisjoint(first)
                             else f"no entry of the archive matches {first!r}")
