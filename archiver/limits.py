"""Output caps on unpacking, against decompression bombs: an archive that would write more than
the destination can hold, or expands far more than real data does, is refused before a byte is
written when its size is known (a file: the index declares every entry's size), and stopped as
soon as it crosses the cap when it is not (a stream).

Each block is also capped by the format (MAX_BLOCK_SIZE: a reader never holds more than one
block's data); these caps bound the total.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass

from archiver.errors import PyarcError

#: The default expansion cap: total data over archive size. Real data rarely passes 100:1;
#: all zeros reach about 14,000:1 at the default block size (the block framing is the floor),
#: so this lets them through, while a 1 MB bomb cannot write more than 20 GB. Zeros packed in
#: 64 MiB blocks go beyond it: raise the cap for them.
DEFAULT_MAX_RATIO = 20_000
#: The ratio is judged only beyond this much output: tiny archives of tiny files have large
#: ratios (an empty file costs bytes of framing) and are no threat.
RATIO_FLOOR = 1 << 20


def free_space(dest: str | os.PathLike[str]) -> int:
    """Bytes free where `dest` is or would be created (its nearest existing ancestor)."""
    path = os.path.abspath(os.fspath(dest))
    while not os.path.exists(path):
        path = os.path.dirname(path)
    return shutil.disk_usage(path).free


@dataclass
class OutputCap:
    """The caps of one unpack: at most `max_output` bytes, and at most `max_ratio` times the
    archive's size (0: no ratio cap). `where` names the destination for messages."""

    max_output: int
    max_ratio: int
    where: str
    written: int = 0

    def check_declared(self, total: int, archive_size: int) -> None:
        """Before writing: refuse an archive that declares too much data."""
        self._check(total, archive_size, "declares")

    def add(self, size: int, archive_read: int) -> None:
        """While writing: count `size` more bytes, `archive_read` bytes of archive read so far."""
        self.written += size
        self._check(self.written, archive_read, "has written")

    def _check(self, total: int, archive_size: int, verb: str) -> None:
        if total > self.max_output:
            raise PyarcError(f"the archive {verb} {total:,} bytes of data, more than the "
                             f"{self.max_output:,} allowed at {self.where} (--max-output)")
        if (self.max_ratio and total > RATIO_FLOOR
                and total > self.max_ratio * max(archive_size, 1)):
            raise PyarcError(f"the archive {verb} {total:,} bytes of data from "
                             f"{archive_size:,} bytes: more than {self.max_ratio:,} to 1 "
                             f"(--max-ratio; raise it if you trust the archive)")
