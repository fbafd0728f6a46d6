"""Zeroed memory for a model's large tables, on huge pages where the system grants them.

A context-mixing model looks its hash table up at random: nearly every look-up touches another
4 KiB page, so with ordinary pages most of them also miss the TLB (the CPU's cache of page
addresses) and wait for a page walk. With 2 MiB pages a 64 MiB table needs 32 TLB entries and
the walks disappear: cm codes Calgary's book1 about 8% faster at its default 64 MiB.

On Linux an anonymous private mapping advised MADV_HUGEPAGE gets transparent huge pages when
the system's setting is `madvise` or `always` (a shared mapping, `mmap.mmap(-1, n)`'s
default, never does). Elsewhere, or for tables too small to fill a huge page, a bytearray:
the same zeroed bytes, only slower to look up. Which one a model got never changes what it
computes.
"""
from __future__ import annotations

import mmap
from contextlib import suppress
from typing import Literal

#: Below this many bytes a table cannot fill one huge page: a bytearray serves.
HUGE_PAGE = 2 << 20


def zeroed(nbytes: int, item: Literal["B", "H", "I"] = "B") -> memoryview:
    """A writable, zeroed buffer of `nbytes` bytes, viewed as items of struct format `item`
    (bytes, unsigned shorts or unsigned ints); `nbytes` must be a multiple of the item's
    size."""
    return memoryview(_zeroed_bytes(nbytes)).cast(item)


def _zeroed_bytes(nbytes: int) -> bytearray | mmap.mmap:
    advice = getattr(mmap, "MADV_HUGEPAGE", None)
    anonymous = getattr(mmap, "MAP_ANONYMOUS", None)
    if nbytes < HUGE_PAGE or advice is None or anonymous is None:
        return bytearray(nbytes)
    try:
        table = mmap.mmap(-1, nbytes, flags=mmap.MAP_PRIVATE | anonymous)
    except OSError:  # no address space for a mapping: let the allocator say so
        return bytearray(nbytes)
    with suppress(OSError):  # a kernel without transparent huge pages: ordinary pages, still zeroed
        table.madvise(advice)
    return table
