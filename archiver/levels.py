"""Compression levels, `pyarc pack -0` .. `-9`, as xz, zstd and 7-Zip users know them.

A level chooses what `auto` tries on each block. Level 0 stores every block. Levels 1 to 9 are
what the plugins answer to the auto_candidates hook for that level (pyarc's own answers are in
plugins/policy.py: 1 the fastest codec that still compresses, 9 everything, the slowest codecs
included); without a level, `auto` runs at DEFAULT_LEVEL. The core names no codec for any
level: it only knows that level 0 means "store".
"""

from __future__ import annotations

from archiver.errors import UsageError

LEVELS = range(10)
#: Every block stored: the level that asks the plugins nothing.
STORE_LEVEL = 0
#: What `auto` means when no level is given (gzip's and xz's default too).
DEFAULT_LEVEL = 6
#: The levels the plugins answer for.
CODED_LEVELS = range(1, 10)


def check_level(level: int) -> int:
    """The level, or UsageError when it is not one of LEVELS."""
    if not isinstance(level, int) or isinstance(level, bool) or level not in LEVELS:
        raise UsageError(f"level {level!r} is not one of {LEVELS.start}..{LEVELS.stop - 1}")
    return level
