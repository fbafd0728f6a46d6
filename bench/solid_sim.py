"""A simulation of solid archives, to measure grouping and codec choices before format 2 exists.

The stream is what format 2 packs: the data of a tree's regular files, each distinct content
once (deduplication), in `grouping.data_order`, cut where the group changes and every
`solid_size` bytes. Each group's data is compressed with `archiver.compress(..., block_size=
solid_size)`, `auto` over that group's candidates. The index of the real format is estimated
as the names, sizes, modes and mtimes written as text and compressed with ppm.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import archiver
from archiver import grouping
from archiver.format import DEFAULT_BLOCK_SIZE
from archiver.levels import DEFAULT_LEVEL
from archiver.plugins import registry

MiB = 1 << 20
#: The solid size and per-group candidates of the simulation, unless a run says otherwise.
SOLID_SIZE = DEFAULT_BLOCK_SIZE
CANDIDATES = registry().policy.auto[DEFAULT_LEVEL]

OrderKey = Callable[[str, str], tuple]


@dataclass
class TreeFile:
    name: str
    path: Path
    size: int
    kind: str


@dataclass
class SimResult:
    size: int = 0
    seconds: float = 0.0
    index: int = 0
    groups: dict[str, tuple[int, int]] = field(default_factory=dict)  # raw, stored
    duplicates: int = 0  # bytes stored once instead of again


def tree_files(root: Path) -> list[TreeFile]:
    """The regular files below root (symlinks left out), with their kinds."""
    found = []
    for folder, dirs, names in os.walk(root):
        dirs.sort()
        for name in sorted(names):
            path = Path(folder, name)
            if path.is_symlink() or not path.is_file():
                continue
            with open(path, "rb") as file:
                head = file.read(grouping.HEAD_SIZE)
            relative = path.relative_to(root).as_posix()
            found.append(TreeFile(relative, path, path.stat().st_size,
                                  grouping.kind_of(relative, head)))
    return found


def index_estimate(root: Path) -> int:
    """What an index of every entry could cost: names, sizes, modes and mtimes as text, ppm."""
    lines = []
    for folder, dirs, names in os.walk(root):
        dirs.sort()
        for name in sorted([*dirs, *names]):
            path = Path(folder, name)
            info = path.lstat()
            lines.append(f"{path.relative_to(root).as_posix()}\t{info.st_size}\t"
                         f"{info.st_mode:o}\t{info.st_mtime_ns}")
    text = "\n".join(lines).encode()
    return len(archiver.compress(text, "ppm", block_size=max(len(text), 1 << 10)))


def simulate(root: Path, solid_size: int = SOLID_SIZE,
             candidates: Mapping[str, Sequence[str]] | None = None,
             order: OrderKey = grouping.data_order, jobs: int = 0) -> SimResult:
    """Pack `root` as a solid archive would; sizes in bytes, the time is all of it."""
    candidates = candidates or CANDIDATES
    start = time.perf_counter()
    result = SimResult()
    files = sorted(tree_files(root), key=lambda f: order(f.name, f.kind))
    seen: set[bytes] = set()
    streams: dict[str, list[bytes]] = {}
    for file in files:
        data = file.path.read_bytes()
        digest = hashlib.sha256(data).digest()
        if digest in seen:
            result.duplicates += len(data)
            continue
        seen.add(digest)
        streams.setdefault(grouping.group_of(file.kind), []).append(data)
    for group, parts in streams.items():
        data = b"".join(parts)
        if not data:
            continue
        suited = list(candidates.get(group, ())) or None
        packed = archiver.compress(data, "auto", auto_codecs=suited,
                                   block_size=min(solid_size, max(len(data), 1 << 10)),
                                   jobs=jobs)
        result.groups[group] = (len(data), len(packed))
        result.size += len(packed)
    result.index = index_estimate(root)
    result.size += result.index
    result.seconds = time.perf_counter() - start
    return result
