"""Output caps on unpacking, against decompression bombs and full disks.

Three caps, each with its own message, so that a user is told which one stopped them:

- the free space at the destination (measured once, at the start; unknown on file systems that
  report no size, such as /proc, where the write itself then fails);
- `--max-output`, when given;
- `--max-ratio`, the expansion over the archive's size, for what cannot be judged in advance.

An archive *file* declares every entry's size in its index, and the reader verifies each block
against it, so its declared total is checked against the first two before a byte is written,
and the ratio is not needed: a user's own archive of a sparse image, packed at 100,000 to 1,
unpacks as long as it fits. A *stream* (and `--salvage`, which cannot trust the index) is
counted as it is written and stopped at the first cap it would cross, ratio included.

Each block is also capped by the format (MAX_BLOCK_SIZE: a reader never holds more than a few
blocks' data); these caps bound the total.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass

from archiver.errors import PyarcError

#: The default expansion cap for streams and salvage: data over archive size. Real data rarely
#: passes 100:1; all zeros reach about 11,000:1 in one block of the default 4 MiB, and stay
#: under 50,000:1 over many (a block's framing, some 90 bytes, is the floor), so this lets
#: them through, while a 1 MB bomb cannot write more than 200 GB. Zeros packed in blocks of
#: 32 MiB or more can go beyond it: raise the cap for them.
DEFAULT_MAX_RATIO = 200_000
#: The ratio is judged only beyond this much output: tiny archives of tiny files have large
#: ratios (an empty file costs bytes of framing) and are no threat.
RATIO_FLOOR = 1 << 20


def free_space(dest: str | os.PathLike[str]) -> int | None:
    """Bytes free where `dest` is or would be created (its nearest existing ancestor); None
    when the file system reports no size at all (/proc, /sys) or cannot be asked."""
    path = os.path.abspath(os.fspath(dest))
    while not os.path.exists(path):
        path = os.path.dirname(path)
    try:
        usage = shutil.disk_usage(path)
    except OSError:
        return None
    return usage.free if usage.total else None


@dataclass
class OutputCap:
    """The caps of one unpack into `where`: at most `free` bytes (None: unknown), at most
    `max_output` (None: not given), and, for counted output, at most `max_ratio` times the
    archive read so far (0: no ratio cap)."""

    where: str
    free: int | None
    max_output: int | None = None
    max_ratio: int = DEFAULT_MAX_RATIO
    written: int = 0

    def check_declared(self, total: int) -> None:
        """Before writing an archive file: refuse one whose entries declare too much data."""
        if self.max_output is not None and total > self.max_output:
            raise PyarcError(f"the archive holds {total:,} bytes of data, more than "
                             f"--max-output {self.max_output:,}; nothing was written")
        if self.free is not None and total > self.free:
            raise PyarcError(f"the archive holds {total:,} bytes of data, but only "
                             f"{self.free:,} bytes are free at {self.where}; nothing was "
                             f"written")

    def check_salvage(self, total: int, archive_size: int) -> None:
        """Before salvaging: the declared check, and the ratio (the sizes of a damaged archive
        are what its frames claim)."""
        self.check_declared(total)
        self._check_ratio(total, archive_size, f"the intact entries hold {total:,} bytes",
                          "; nothing was written")

    def add(self, size: int, archive_read: int) -> None:
        """Before writing `size` more bytes of counted output, `archive_read` bytes of archive
        read so far: stop at the first cap the output would cross."""
        total = self.written + size
        stopped = f"stopped after writing {self.written:,} bytes"
        if self.max_output is not None and total > self.max_output:
            raise PyarcError(f"{stopped}: the archive holds more data than --max-output "
                             f"{self.max_output:,}")
        if self.free is not None and total > self.free:
            raise PyarcError(f"{stopped}: the archive holds more data than the "
                             f"{self.free:,} bytes free at {self.where}")
        self._check_ratio(total, archive_read, f"{stopped}: its data expands", "")
        self.written = total

    def _check_ratio(self, total: int, archive_size: int, what: str, tail: str) -> None:
        if (self.max_ratio and total > RATIO_FLOOR
                and total > self.max_ratio * max(archive_size, 1)):
            raise PyarcError(f"{what} from {archive_size:,} bytes of archive: more than "
                             f"{self.max_ratio:,} to 1 (--max-ratio; raise it if you trust "
                             f"the archive){tail}")
