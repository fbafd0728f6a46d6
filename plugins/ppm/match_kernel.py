# cython: boundscheck=False, wraparound=False, initializedcheck=False
"""The PPM model's match model: the byte that followed the last occurrence of the last
MATCH_MIN bytes, a feature of the escape estimates (spec/codecs/ppm.md, sections 3.3 and 5.6).

The last occurrence is found by a 24-bit hash of those bytes (3 bits a byte) in a table of up
to MATCH_SLOTS_MAX slots of 8 bytes (larger tables found a little more and cost more in cache
misses than they gained); the match then follows the data while it predicts right, and a match
that has predicted twice more (length MATCH_LONG) is "long". The model (model_kernel) reads
`length` and `sym`. The C types and signatures are declared in match_kernel.pxd.
"""
from array import array

import cython

if cython.compiled:
    from cython.cimports.pyarc_plugins.coding.prefetch import prefetch
else:
    def prefetch(address):  # a hint to the CPU's cache; nothing to do in pure Python
        pass

MATCH_MIN = cython.declare(cython.const[cython.int], 8)
MATCH_MAX = cython.declare(cython.const[cython.int], 65535)
MATCH_SLOTS_MAX = cython.declare(cython.const[cython.Py_ssize_t], 1 << 16)
MATCH_HASH_MASK = cython.declare(cython.const[cython.longlong], (1 << 24) - 1)
MATCH_POS_MASK = cython.declare(cython.const[cython.longlong], (1 << 32) - 1)
# 23 bits of check: the 64-bit entries stay >= 0.
MATCH_CHECK_MASK = cython.declare(cython.const[cython.longlong], (1 << 23) - 1)
MATCH_HASH_FACTOR = cython.declare(cython.const[cython.longlong], 2654435761)  # Knuth's


class MatchModel:
    """No match yet, over `data` (coded so far up to the position given to start)."""

    def __init__(self, data):
        slots: cython.Py_ssize_t = 1024
        self.data = data
        self.size = len(data)
        while slots < MATCH_SLOTS_MAX and slots < self.size // 2:
            slots *= 2
        self.table = array("q", [0]) * slots
        self.mask = slots - 1
        self.hash = 0
        self.ptr = 0
        self.length = 0  # 0: no match
        self.sym = -1  # the byte predicted, when length > 0

    # The table, by a hash of MATCH_MIN bytes: where they occurred last (low 32 bits), the byte
    # that followed them (8 bits) and 23 bits of the hash (to tell most collisions apart). A
    # position is entered one byte late, once its next byte is known, so that a lookup finds
    # the predicted byte in the table without a read far back in the data.

    def _slot(self, h: cython.longlong) -> cython.Py_ssize_t:
        return ((h * MATCH_HASH_FACTOR) >> 16) & self.mask

    def start(self, symbol: cython.int, pos: cython.Py_ssize_t) -> cython.void:
        """First half of the update for data[pos] == symbol: follow the match (a wrong
        prediction ends it), enter the MATCH_MIN bytes before pos with pos and symbol, and,
        without a match, ask the CPU for the slot that `finish` will read after the trie's
        update: the work between hides the cache miss."""
        if self.length > 0:
            if self.sym == symbol:
                if self.length < MATCH_MAX:
                    self.length += 1
                self.sym = self.data[self.ptr]
                self.ptr += 1  # <= pos + 1: the next byte read is known by then
                if self.ptr < self.size:
                    prefetch(cython.address(self.data[self.ptr]))
            else:
                self.length = 0
        if pos >= MATCH_MIN:
            self.table[self._slot(self.hash)] = (
                pos | cython.cast(cython.longlong, symbol) << 32
                | (self.hash & MATCH_CHECK_MASK) << 40)
        # Three bits of each byte: the hash depends on the last MATCH_MIN bytes only.
        self.hash = (((self.hash << 3) ^ symbol) & MATCH_HASH_MASK)
        if self.length == 0:
            prefetch(cython.address(self.table[self._slot(self.hash)]))

    def finish(self, pos: cython.Py_ssize_t) -> cython.void:
        """Second half: without a match, look the bytes up to pos up."""
        entry: cython.longlong
        if self.length > 0 or pos + 1 < MATCH_MIN:
            return
        entry = self.table[self._slot(self.hash)]
        if entry != 0 and (entry >> 40) == (self.hash & MATCH_CHECK_MASK):
            self.sym = (entry >> 32) & 0xFF
            self.ptr = (entry & MATCH_POS_MASK) + 1
            self.length = MATCH_MIN
            if self.ptr < self.size:
                prefetch(cython.address(self.data[self.ptr]))
