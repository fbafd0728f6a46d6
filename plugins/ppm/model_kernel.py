"""The PPM model: a context trie in flat arrays, escapes with SEE, exclusion, inheritance.

Every byte is predicted by the longest context (the bytes before it) that the model knows,
falling back to shorter ones ("escaping") when that context has not seen the byte. The trie
and most update rules follow Shkarin's PPMII (PPMd var.H/I); escapes are coded as binary
decisions under adaptive secondary estimates (SEE), as in PPMZ. docs/ppm.md explains it all
with a worked example.

The trie lives in one int array, the *heap* (no Python objects), cut into units of two ints
(8 bytes); contexts and states are numbered by the unit where they start:
- state s (`heap[2s:2s+2]`, one unit): `sym | freq << 8`, and `child`: the context one byte
  longer (this context followed by sym) when child > 0; when child < 0, the position -child in
  the data that followed this context and byte the last time (a "lazy" child: a context seen
  once costs nothing until it is seen again, PPMd's trick); at the maximum order, the child is
  the context of the same order that follows (the suffix's child);
- context c (`heap[2c:2c+4]`, two units): its `suffix` (the context one byte shorter; the root,
  order 0, has -1), `count | order << 16 | capclass << 24` (how many states, how many bytes of
  context, the capacity 2**capclass of its block of states), then either, with two states or
  more, `stats` (the first of them) and `summ` (their frequencies' sum), or, with one, that
  state itself: state c + 1, inside the record (PPMd's "OneState"). Most contexts of the higher
  orders have one state, and reading it costs no second cache miss;
- the states of a larger context are one block of 2**capclass units; a block that fills is
  moved to one twice the size, and the old one goes on the free list of its size (linked
  through child). A context is a block of two units.

Coding a byte starts from `maxctx` (the longest context known to match): binary contexts and
escapes are binary decisions under learned estimates (SEE; in the first context tried, also "is
it the most frequent state?"), refined by an APM, a byte-pair estimate and a small mixer unless
the first estimate is confident; the byte is then coded by the frequencies of the states not
excluded, or uniformly at order -1. A match model (a hash of the last MATCH_MIN bytes) is a
feature of these estimates. After each byte (`update`) the trie learns it (frequencies,
inheritance, the next context, created lazily by `_successor`), and when the memory limit is
reached it restarts empty, at the same byte in the encoder and the decoder.

The payload, and every rule of the model both sides compute (the trie's updates, the tables'
indices, initial values and rounding, the memory accounting that triggers a restart), are
specified in spec/codecs/ppm.md.
"""
from array import array
from decimal import Context, Decimal

import cython

from archiver.errors import CodecError

if cython.compiled:
    from cython.cimports.pyarc_plugins.coding.prefetch import prefetch
    from cython.cimports.pyarc_plugins.coding.rangecoder_inline import decode_bit, encode_bit
    from cython.cimports.pyarc_plugins.coding.rangecoder_kernel import (
        RangeDecoder,
        RangeEncoder,
    )
else:
    from pyarc_plugins.coding.rangecoder_inline import decode_bit, encode_bit
    from pyarc_plugins.coding.rangecoder_kernel import RangeDecoder, RangeEncoder

    def prefetch(address):  # a hint to the CPU's cache; nothing to do in pure Python
        pass

MAX_FREQ = cython.declare(cython.const[cython.int], 124)
MAX_BIN_FREQ = cython.declare(cython.const[cython.int], 128)
#: Probabilities of escape are kept with PROB_BITS bits and coded with CODE_BITS, as the range
#: coder's encode_bit_p takes them (a binary decision needs no division).
PROB_BITS = cython.declare(cython.const[cython.int], 22)
CODE_BITS = cython.declare(cython.const[cython.int], 16)
#: An adaptive probability moves 1/(n + RATE_START) of the way to each outcome at its n-th
#: use, then 1/(LIMIT + RATE_START): fast to learn, then stable.
RATE_START = cython.declare(cython.const[cython.int], 8)
SEE_LIMIT = cython.declare(cython.const[cython.int], 255)
BIN_LIMIT = cython.declare(cython.const[cython.int], 255)
APM_LIMIT = cython.declare(cython.const[cython.int], 100)
PAIR_LIMIT = cython.declare(cython.const[cython.int], 60)
#: The second and third estimates keep probability and use count in one int (one memory
#: access): prob | uses << USES_SHIFT.
# A C constant is initialized by a literal: (1 << PROB_BITS) - 1, checked below.
PROB_MASK = cython.declare(cython.const[cython.int], (1 << 22) - 1)
USES_SHIFT = cython.declare(cython.const[cython.int], 24)
#: A decision whose first estimate of the escape (or of missing the most frequent state) is
#: below REFINE_MIN / 2**PROB_BITS (1/64) is coded with it as it is: refining such confident
#: estimates changed no total on Calgary in the fourth digit and took 2% of the instructions.
REFINE_MIN = cython.declare(cython.const[cython.int], 1 << 16)
#: The mixer: weights with 16 fractional bits, each starting at a third; a weight moves by
#: error (PROB_BITS) x input (stretch units) >> MIX_SHIFT.
MIX_ONE = cython.declare(cython.const[cython.int], 1 << 16)
MIX_SHIFT = cython.declare(cython.const[cython.int], 22)
# Weights per kind x order 0..6, 7+ x match state:
MIX_ORDERS = cython.declare(cython.const[cython.int], 8)
#: Stretch units: ln(p / (1 - p)) x 256, kept within +-STRETCH_MAX.
STRETCH_MAX = cython.declare(cython.const[cython.int], 2047)
CLASSES = cython.declare(cython.const[cython.int], 9)  # blocks of 2**k units, k = 1..8 (0 unused)
ROOT = cython.declare(cython.const[cython.int], 0)
#: Bytes of the heap's unit: a state; a context takes two (for the memory limit).
UNIT_BYTES = cython.declare(cython.const[cython.Py_ssize_t], 8)
RUN_MIN = cython.declare(cython.const[cython.int], 12)
SIZE_LENGTH_BITS = cython.declare(cython.const[cython.int], 6)
MAX_STACK = cython.declare(cython.const[cython.int], 260)  # > maximum order + 2

# Feature sizes of the adaptive tables.
BIN_FREQS = cython.declare(cython.const[cython.int], 32)
BIN_SIZE = cython.declare(cython.const[cython.Py_ssize_t], 32 * 4 * 2 * 4 * 2 * 3 * 2 * 4)
APM_LEVELS = cython.declare(cython.const[cython.Py_ssize_t], 30)
SEE_SIZE = cython.declare(cython.const[cython.Py_ssize_t], 12 * 8 * 3 * 2 * 2 * 2 * 2)
MPS_SIZE = cython.declare(cython.const[cython.Py_ssize_t], 17 * 12 * 4 * 4)
#: The match model predicts the byte that followed the last occurrence of the last MATCH_MIN
#: bytes (found by a 24-bit hash of them, 3 bits a byte); a match that has predicted twice
#: more (length MATCH_LONG) is "long". Its table has up to MATCH_SLOTS_MAX slots of 8 bytes:
#: larger tables found a little more and cost more in cache misses than they gained.
MATCH_MIN = cython.declare(cython.const[cython.int], 8)
MATCH_LONG = cython.declare(cython.const[cython.int], 10)
MATCH_MAX = cython.declare(cython.const[cython.int], 65535)
MATCH_SLOTS_MAX = cython.declare(cython.const[cython.Py_ssize_t], 1 << 16)
MATCH_HASH_MASK = cython.declare(cython.const[cython.longlong], (1 << 24) - 1)
MATCH_POS_MASK = cython.declare(cython.const[cython.longlong], (1 << 32) - 1)
# 23 bits of check: the 64-bit entries stay >= 0.
MATCH_CHECK_MASK = cython.declare(cython.const[cython.longlong], (1 << 23) - 1)
MATCH_HASH_FACTOR = cython.declare(cython.const[cython.longlong], 2654435761)  # Knuth's


def _bucket_table():
    # Number of symbols -> one of 12 buckets (finer for few symbols).
    edges = [1, 2, 3, 4, 5, 7, 10, 15, 23, 37, 65, 129, 257]
    table = array("B", bytes(257))
    for b in range(12):
        for n in range(edges[b], edges[b + 1]):
            table[n] = b
    return table


_COUNT_BUCKET = _bucket_table()


def _level_table():
    # Probability >> 8 (14 bits) -> its half-octave: 2 * bit length + the bit below the top.
    table = bytearray(1 << 14)
    for x in range(1, 1 << 14):
        n = x.bit_length()
        table[x] = 2 * n + ((x >> (n - 2)) & 1 if n >= 2 else 0)
    return table


_LEVELS = _level_table()


def _squash_table():
    # x (stretch units, -2048..2047) -> 1 / (1 + e**(-x / 256)) with PROB_BITS bits. Exact
    # knots every 64 units (decimal arithmetic: the same on every platform), linear between.
    ctx = Context(prec=30)
    one = 1 << PROB_BITS
    knots = [int(ctx.divide(one, 1 + ctx.exp(Decimal(-k) / 4))) for k in range(-32, 33)]
    table = array("i", [0]) * 4096
    for x in range(-2048, 2048):
        k, r = divmod(x + 2048, 64)
        v = knots[k] + ((knots[k + 1] - knots[k]) * r >> 6)
        table[x + 2048] = min(max(v, 1), one - 1)
    return table


def _stretch_table(squash):
    # Probability >> 10 (12 bits) -> the smallest x whose squash reaches it (the inverse).
    table = array("h", [STRETCH_MAX]) * (1 << 12)
    q = 0
    for x in range(-2047, 2048):
        v = squash[x + 2048] >> 10
        while q <= v:
            table[q] = x
            q += 1
    return table


assert PROB_MASK == (1 << PROB_BITS) - 1
_RATES = array("i", [(1 << 16) // (n + RATE_START) for n in range(256)])
_SQUASH = _squash_table()
_STRETCH = _stretch_table(_SQUASH)


def _extended(a, length):
    """A copy of the int array `a`, zero-filled to `length` items (no other temporary)."""
    grown = array("i", [0]) * length
    memoryview(grown)[: len(a)] = memoryview(a)
    return grown


@cython.cfunc
@cython.inline
@cython.nogil
@cython.exceptval(check=False)
def _boost(f: cython.int) -> cython.int:
    return (5 * f + 2) // 4


@cython.boundscheck(False)
@cython.wraparound(False)
@cython.cdivision(True)
@cython.initializedcheck(False)
@cython.final
@cython.cclass
class Model:
    # Parameters and limits
    max_order: cython.int
    size: cython.Py_ssize_t
    data: cython.const[cython.uchar][:]
    # The heap of contexts and states, in units of two ints
    heap: cython.int[::1]
    heap_array: object  # the array that owns the heap's memory
    nunits: cython.Py_ssize_t
    unit_capacity: cython.Py_ssize_t
    max_units: cython.Py_ssize_t
    free_head: cython.int[::1]
    # Adaptive escape estimates: probability (PROB_BITS) and use count
    bin_prob: cython.int[::1]
    bin_uses: cython.uchar[::1]
    see_prob: cython.int[::1]
    see_uses: cython.uchar[::1]
    apm: cython.int[::1]
    apm_idx: cython.Py_ssize_t
    pair: cython.int[::1]
    pair_idx: cython.Py_ssize_t
    mix_w: cython.longlong[::1]
    mix_idx: cython.Py_ssize_t
    mix_in0: cython.int
    mix_in1: cython.int
    mix_in2: cython.int
    mix_p: cython.int
    refined: cython.bint  # whether the last decision went through _refine's estimates
    squash: cython.int[::1]
    rate: cython.int[::1]
    stretch: cython.short[::1]
    mps_prob: cython.int[::1]
    mps_uses: cython.uchar[::1]
    level: cython.uchar[::1]
    bucket: cython.uchar[::1]
    # Exclusion: sym is masked while mask[sym] == stamp
    mask: cython.uint[::1]
    stamp: cython.uint
    # Coding state
    maxctx: cython.int
    prev_sym: cython.int
    prev_sym2: cython.int
    prev_success: cython.int
    match_table: cython.longlong[::1]
    match_mask: cython.Py_ssize_t
    match_hash: cython.longlong
    match_ptr: cython.Py_ssize_t
    match_len: cython.int
    match_sym: cython.int
    run: cython.int
    restarts: cython.Py_ssize_t
    failed: cython.bint
    stack_c: cython.int[::1]
    stack_s: cython.int[::1]
    # Results of the last coded byte, for _update
    found_ctx: cython.int
    found_state: cython.int
    escaped_from: cython.int

    def __init__(self, data, max_order: cython.int, memory: cython.Py_ssize_t):
        self.data = data
        self.size = len(data)
        self.max_order = max_order
        # Two thirds of the budget: while the heap doubles (its old and new copies side by
        # side, 1.5 times its final size) the total stays within `memory`.
        self.max_units = max(memory * 2 // 3 // UNIT_BYTES, 1024)
        self.bin_prob = array("i", [0]) * BIN_SIZE
        self.bin_uses = bytearray(BIN_SIZE)
        self.see_prob = array("i", [0]) * SEE_SIZE
        self.see_uses = bytearray(SEE_SIZE)
        self.apm = array("i", [0]) * (3 * 256 * APM_LEVELS)
        self.pair = array("i", [0]) * (2 * 256 * 256)
        self.mix_w = array("q", [MIX_ONE // 3]) * (3 * MIX_ORDERS * 3 * 3)
        self.mix_in0 = self.mix_in1 = self.mix_in2 = 0
        self.squash = _SQUASH
        self.rate = _RATES
        self.stretch = _STRETCH
        self.mps_prob = array("i", [0]) * MPS_SIZE
        self.mps_uses = bytearray(MPS_SIZE)
        self.level = _LEVELS
        self.bucket = _COUNT_BUCKET
        self.mask = array("I", [0]) * 256
        self.stamp = 0
        self.stack_c = array("i", [0]) * MAX_STACK
        self.stack_s = array("i", [0]) * MAX_STACK
        self.free_head = array("i", [-1]) * CLASSES
        self.restarts = 0
        self.failed = False
        self.prev_sym = 0
        self.prev_sym2 = 0
        self.prev_success = 0
        self.run = 0
        slots: cython.Py_ssize_t = 1024
        while slots < MATCH_SLOTS_MAX and slots < self.size // 2:
            slots *= 2
        self.match_table = array("q", [0]) * slots
        self.match_mask = slots - 1
        self.match_hash = 0
        self.match_ptr = 0
        self.match_len = 0
        self.match_sym = -1
        # Start small and grow by doubling up to the limit: small blocks stay cheap.
        self.heap_array = array("i", [0]) * (2 * min(self.max_units, 16384))
        self._view_heap()
        self._restart()

    # -----------------------------------------------------------------------------------------
    # Memory

    def _view_heap(self):
        # The typed view the hot code uses, onto the array that owns the memory.
        self.heap = memoryview(self.heap_array)
        self.unit_capacity = len(self.heap_array) // 2

    def _grow_heap(self) -> cython.bint:
        """Double the heap (within the limit); False when at the limit."""
        new: cython.Py_ssize_t = min(2 * self.unit_capacity, self.max_units)
        if new <= self.unit_capacity:
            return False
        self.heap_array = _extended(self.heap_array, 2 * new)
        self._view_heap()
        return True

    @cython.cfunc
    @cython.nogil
    @cython.exceptval(check=False)
    def _restart(self) -> cython.void:
        """Empty the trie: only the root, with no symbols (order -1 codes the first bytes)."""
        k: cython.int
        self.nunits = 0
        for k in range(CLASSES):
            self.free_head[k] = -1
        self.maxctx = self._new_context(0, -1)  # ROOT: the heap holds at least 2 units

    @cython.cfunc
    @cython.nogil
    @cython.exceptval(check=False)
    def _alloc_states(self, k: cython.int) -> cython.int:
        """A free block of 2**k units, or -1 when the heap is full."""
        block: cython.int = self.free_head[k]
        grew: cython.bint
        if block >= 0:
            self.free_head[k] = self._child(block)
            return block
        while self.nunits + (1 << k) > self.unit_capacity:
            with cython.gil:
                grew = self._grow_heap()
            if not grew:
                return -1
        block = cython.cast(cython.int, self.nunits)
        self.nunits += 1 << k
        return block

    @cython.cfunc
    @cython.inline
    @cython.nogil
    @cython.exceptval(check=False)
    def _free_states(self, block: cython.int, k: cython.int) -> cython.void:
        self._set_child(block, self.free_head[k])
        self.free_head[k] = block

    @cython.cfunc
    @cython.nogil
    @cython.exceptval(check=False)
    def _new_context(self, order: cython.int, suffix: cython.int) -> cython.int:
        """A context without states (its first goes in its record), or -1 when memory is
        full."""
        c: cython.int = self._alloc_states(1)
        if c >= 0:
            self.heap[2 * c] = suffix
            self.heap[2 * c + 1] = order << 16
            self.heap[2 * c + 2] = 0
            self.heap[2 * c + 3] = 0
        return c

    @cython.cfunc
    @cython.nogil
    @cython.exceptval(check=False)
    def _add_state(self, c: cython.int, symbol: cython.int, f: cython.int,
                   child: cython.int) -> cython.int:
        """Add a state to context c (moving its states to a larger block when full); its
        index, or -1 when memory is full."""
        n: cython.int = self._count(c)
        k: cython.int
        old: cython.int
        block: cython.int
        i: cython.int
        f1: cython.int
        s: cython.int
        if n == 0:  # the first state lives in the record
            s = c + 1
        elif n == 1:  # a binary context gets a block of two; its hits count 2 each from now
            block = self._alloc_states(1)
            if block < 0:
                return -1
            f1 = self._freq(c + 1)
            f1 = 2 * f1 if f1 < MAX_FREQ // 4 - 1 else MAX_FREQ - 4
            self.heap[2 * block] = self._sym(c + 1) | f1 << 8
            self.heap[2 * block + 1] = self._child(c + 1)
            self.heap[2 * c + 2] = block  # stats
            self.heap[2 * c + 3] = f1  # summ
            self._set_capclass(c, 1)
            s = block + 1
        else:
            k = self._capclass(c)
            old = self.heap[2 * c + 2]
            if n >= (1 << k):
                block = self._alloc_states(k + 1)
                if block < 0:
                    return -1
                for i in range(2 * n):
                    self.heap[2 * block + i] = self.heap[2 * old + i]
                self._free_states(old, k)
                self.heap[2 * c + 2] = block
                self._set_capclass(c, k + 1)
                old = block
            s = old + n
        self.heap[2 * s] = symbol | f << 8
        self.heap[2 * s + 1] = child
        self._set_count(c, n + 1)
        if n > 0:
            self._set_summ(c, self._summ(c) + f)
        return s

    # -----------------------------------------------------------------------------------------
    # Contexts: suffix, count | order << 16 | capclass << 24, then stats and summ (or the one
    # state)

    @cython.cfunc
    @cython.inline
    @cython.nogil
    @cython.exceptval(check=False)
    def _prefetch_context(self, c: cython.int) -> cython.void:
        """Ask the CPU for context c's record (with its state, if it has one), when c > 0
        (not the root, which stays in the cache, nor a lazy child)."""
        if c > 0:
            prefetch(cython.address(self.heap[2 * c]))

    @cython.cfunc
    @cython.inline
    @cython.nogil
    @cython.exceptval(check=False)
    def _suffix(self, c: cython.int) -> cython.int:
        return self.heap[2 * c]

    @cython.cfunc
    @cython.inline
    @cython.nogil
    @cython.exceptval(check=False)
    def _stats(self, c: cython.int) -> cython.int:
        """The first state of c: in the record when c has one (or none yet)."""
        return c + 1 if self._count(c) <= 1 else self.heap[2 * c + 2]

    @cython.cfunc
    @cython.inline
    @cython.nogil
    @cython.exceptval(check=False)
    def _summ(self, c: cython.int) -> cython.int:
        return self.heap[2 * c + 3]

    @cython.cfunc
    @cython.inline
    @cython.nogil
    @cython.exceptval(check=False)
    def _set_summ(self, c: cython.int, value: cython.int) -> cython.void:
        self.heap[2 * c + 3] = value

    @cython.cfunc
    @cython.inline
    @cython.nogil
    @cython.exceptval(check=False)
    def _count(self, c: cython.int) -> cython.int:
        return self.heap[2 * c + 1] & 0xFFFF

    @cython.cfunc
    @cython.inline
    @cython.nogil
    @cython.exceptval(check=False)
    def _order(self, c: cython.int) -> cython.int:
        return (self.heap[2 * c + 1] >> 16) & 0xFF

    @cython.cfunc
    @cython.inline
    @cython.nogil
    @cython.exceptval(check=False)
    def _capclass(self, c: cython.int) -> cython.int:
        return (self.heap[2 * c + 1] >> 24) & 0xFF

    @cython.cfunc
    @cython.inline
    @cython.nogil
    @cython.exceptval(check=False)
    def _set_count(self, c: cython.int, value: cython.int) -> cython.void:
        self.heap[2 * c + 1] = (self.heap[2 * c + 1] & ~0xFFFF) | value

    @cython.cfunc
    @cython.inline
    @cython.nogil
    @cython.exceptval(check=False)
    def _set_capclass(self, c: cython.int, value: cython.int) -> cython.void:
        self.heap[2 * c + 1] = (self.heap[2 * c + 1] & 0xFFFFFF) | (value << 24)

    # -----------------------------------------------------------------------------------------
    # States: two ints each, side by side (one cache line holds eight): sym | freq << 8, child

    @cython.cfunc
    @cython.inline
    @cython.nogil
    @cython.exceptval(check=False)
    def _sym(self, s: cython.int) -> cython.int:
        return self.heap[2 * s] & 0xFF

    @cython.cfunc
    @cython.inline
    @cython.nogil
    @cython.exceptval(check=False)
    def _freq(self, s: cython.int) -> cython.int:
        return self.heap[2 * s] >> 8

    @cython.cfunc
    @cython.inline
    @cython.nogil
    @cython.exceptval(check=False)
    def _child(self, s: cython.int) -> cython.int:
        return self.heap[2 * s + 1]

    @cython.cfunc
    @cython.inline
    @cython.nogil
    @cython.exceptval(check=False)
    def _set_sym(self, s: cython.int, symbol: cython.int) -> cython.void:
        self.heap[2 * s] = (self.heap[2 * s] & ~0xFF) | symbol

    @cython.cfunc
    @cython.inline
    @cython.nogil
    @cython.exceptval(check=False)
    def _set_freq(self, s: cython.int, f: cython.int) -> cython.void:
        self.heap[2 * s] = (self.heap[2 * s] & 0xFF) | (f << 8)

    @cython.cfunc
    @cython.inline
    @cython.nogil
    @cython.exceptval(check=False)
    def _set_child(self, s: cython.int, child: cython.int) -> cython.void:
        self.heap[2 * s + 1] = child

    # -----------------------------------------------------------------------------------------
    # Adaptive probabilities

    @cython.cfunc
    @cython.inline
    @cython.nogil
    @cython.exceptval(check=False)
    def _adapt(self, prob: cython.int, uses: cython.int, escape: cython.int) -> cython.int:
        # Move 1/(uses + RATE_START) of the way, by a multiplication (a division is slow).
        rate: cython.longlong = self.rate[uses]
        if escape:
            return prob + cython.cast(cython.int, (((1 << PROB_BITS) - prob) * rate) >> 16)
        return prob - cython.cast(cython.int, (prob * rate) >> 16)

    @cython.cfunc
    @cython.inline
    @cython.nogil
    @cython.exceptval(check=False)
    def _adapt_packed(self, cell: cython.int, escape: cython.int,
                      limit: cython.int) -> cython.int:
        """_adapt for a cell holding prob | uses << USES_SHIFT; uses stop at `limit`."""
        uses: cython.int = cell >> USES_SHIFT
        return self._adapt(cell & PROB_MASK, uses, escape) | (
            (uses + (uses < limit)) << USES_SHIFT)

    @cython.cfunc
    @cython.nogil
    @cython.exceptval(check=False)
    def _refine(self, prob: cython.int, kind: cython.int, byte: cython.int,
                c: cython.int) -> cython.int:
        """The final estimate of a binary decision of `kind` (0: binary context, 1: escape,
        2: most frequent state) whose first estimate is `prob`. Two more estimates are
        learned: for `byte` and `prob` on a log scale (half-octave steps), and for `byte`
        and the byte before it (for escapes, `byte` is the previous byte: then the two
        previous bytes); a small mixer (per kind, order of the context c and state of the
        match model: none, short, long) weighs the three in the logistic domain and learns
        the weights as it goes. A confident first estimate (below REFINE_MIN) stays as it is."""
        idx: cython.Py_ssize_t
        pair: cython.Py_ssize_t
        w: cython.Py_ssize_t
        x: cython.longlong
        self.refined = prob >= REFINE_MIN
        if not self.refined:
            # At least one unit of the coder's probability (_code_prob): the adaptive tables
            # never go that low, but a zero would break the range coder.
            return max(prob, 1 << (PROB_BITS - CODE_BITS))
        idx = (kind * 256 + byte) * APM_LEVELS + self.level[prob >> 8]
        pair = ((kind == 1) * 256 + byte) * 256 + (self.prev_sym2 if kind == 1 else self.prev_sym)
        w = ((kind * MIX_ORDERS + min(self._order(c), MIX_ORDERS - 1)) * 3
             + (self.match_len > 0) + (self.match_len >= MATCH_LONG)) * 3
        self.apm_idx = idx
        if self.apm[idx] == 0:
            self.apm[idx] = prob
        self.pair_idx = pair
        if self.pair[pair] == 0:
            self.pair[pair] = prob
        self.mix_idx = w
        self.mix_in0 = self.stretch[prob >> 10]
        self.mix_in1 = self.stretch[(self.apm[idx] & PROB_MASK) >> 10]
        self.mix_in2 = self.stretch[(self.pair[pair] & PROB_MASK) >> 10]
        x = (self.mix_w[w] * self.mix_in0 + self.mix_w[w + 1] * self.mix_in1
             + self.mix_w[w + 2] * self.mix_in2) >> 16
        if x > STRETCH_MAX:
            x = STRETCH_MAX
        elif x < -STRETCH_MAX:
            x = -STRETCH_MAX
        self.mix_p = self.squash[x + 2048]
        return self.mix_p

    @cython.cfunc
    @cython.inline
    @cython.nogil
    @cython.exceptval(check=False)
    def _learn_refined(self, escape: cython.int) -> cython.void:
        """Teach the estimates and the mixer of the last _refine the outcome."""
        err: cython.longlong
        if not self.refined:
            return
        err = (escape << PROB_BITS) - self.mix_p
        self.apm[self.apm_idx] = self._adapt_packed(self.apm[self.apm_idx], escape, APM_LIMIT)
        self.pair[self.pair_idx] = self._adapt_packed(self.pair[self.pair_idx], escape,
                                                      PAIR_LIMIT)
        # Each step is below 2**12: 64-bit weights cannot overflow on any input.
        self.mix_w[self.mix_idx] += (err * self.mix_in0) >> MIX_SHIFT
        self.mix_w[self.mix_idx + 1] += (err * self.mix_in1) >> MIX_SHIFT
        self.mix_w[self.mix_idx + 2] += (err * self.mix_in2) >> MIX_SHIFT

    @cython.cfunc
    @cython.inline
    @cython.nogil
    @cython.exceptval(check=False)
    def _code_prob(self, prob: cython.int) -> cython.uint:
        """The escape probability in CODE_BITS bits, for encode_bit (an escape is its 0).
        `prob` comes from the squash table at +-STRETCH_MAX at most (21 to 65513), or is a
        confident first estimate, 1 to 1023: never 0 or all, without a clamp."""
        return prob >> (PROB_BITS - CODE_BITS)

    @cython.cfunc
    @cython.inline
    @cython.nogil
    @cython.exceptval(check=False)
    def _match_feature(self, sym: cython.int) -> cython.int:
        """What the match model says of sym: 0 nothing (no match), 1 or 2 it predicts sym
        (after a short or a long match), 3 it predicts another byte."""
        if self.match_len == 0:
            return 0
        if self.match_sym != sym:
            return 3
        return 1 + (self.match_len >= MATCH_LONG)

    # The match model's table, by a hash of MATCH_MIN bytes: where they occurred last (low 32
    # bits), the byte that followed them (8 bits) and 23 bits of the hash (to tell most
    # collisions apart). A position is entered one byte late, once its next byte is known, so
    # that a lookup finds the predicted byte in the table without a read far back in the data.

    @cython.cfunc
    @cython.inline
    @cython.nogil
    @cython.exceptval(check=False)
    def _match_slot(self, h: cython.longlong) -> cython.Py_ssize_t:
        return ((h * MATCH_HASH_FACTOR) >> 16) & self.match_mask

    @cython.cfunc
    @cython.nogil
    @cython.exceptval(check=False)
    def _match_start(self, symbol: cython.int, pos: cython.Py_ssize_t) -> cython.void:
        """First half of the match model's update for data[pos] == symbol: follow the match
        (a wrong prediction ends it), enter the MATCH_MIN bytes before pos with pos and symbol,
        and, without a match, ask the CPU for the slot that _match_finish will read after the
        trie's update: the work between hides the cache miss."""
        if self.match_len > 0:
            if self.match_sym == symbol:
                if self.match_len < MATCH_MAX:
                    self.match_len += 1
                self.match_sym = self.data[self.match_ptr]
                self.match_ptr += 1  # <= pos + 1: the next byte read is known by then
                if self.match_ptr < self.size:
                    prefetch(cython.address(self.data[self.match_ptr]))
            else:
                self.match_len = 0
        if pos >= MATCH_MIN:
            self.match_table[self._match_slot(self.match_hash)] = (
                pos | cython.cast(cython.longlong, symbol) << 32
                | (self.match_hash & MATCH_CHECK_MASK) << 40)
        # Three bits of each byte: the hash depends on the last MATCH_MIN bytes only.
        self.match_hash = (((self.match_hash << 3) ^ symbol) & MATCH_HASH_MASK)
        if self.match_len == 0:
            prefetch(cython.address(self.match_table[self._match_slot(self.match_hash)]))

    @cython.cfunc
    @cython.nogil
    @cython.exceptval(check=False)
    def _match_finish(self, pos: cython.Py_ssize_t) -> cython.void:
        """Second half: without a match, look the bytes up to pos up."""
        entry: cython.longlong
        if self.match_len > 0 or pos + 1 < MATCH_MIN:
            return
        entry = self.match_table[self._match_slot(self.match_hash)]
        if entry != 0 and (entry >> 40) == (self.match_hash & MATCH_CHECK_MASK):
            self.match_sym = (entry >> 32) & 0xFF
            self.match_ptr = (entry & MATCH_POS_MASK) + 1
            self.match_len = MATCH_MIN
            if self.match_ptr < self.size:
                prefetch(cython.address(self.data[self.match_ptr]))

    @cython.cfunc
    @cython.nogil
    @cython.exceptval(check=False)
    def _bin_index(self, c: cython.int, s: cython.int, masked: cython.int) -> cython.Py_ssize_t:
        f: cython.int = self._freq(s)
        sc: cython.int = self._suffix(c)
        ns: cython.int = self._count(sc) if sc >= 0 else 0
        nb: cython.int
        ob: cython.int
        o: cython.int = self._order(c)
        i: cython.Py_ssize_t
        if f > BIN_FREQS:
            f = BIN_FREQS
        elif f < 1:
            f = 1
        nb = 0 if ns <= 1 else (1 if ns == 2 else (2 if ns < 12 else 3))
        ob = 0 if o <= 2 else (1 if o <= 4 else 2)
        i = f - 1
        i = i * 4 + nb
        i = i * 2 + self.prev_success
        i = i * 4 + (self._sym(s) >= 0x40) * 2 + (self.prev_sym >= 0x40)
        i = i * 2 + masked
        i = i * 3 + ob
        i = i * 2 + (self.run >= RUN_MIN)
        i = i * 4 + self._match_feature(self._sym(s))
        return i

    @cython.cfunc
    @cython.nogil
    @cython.exceptval(check=False)
    def _see_index(self, c: cython.int, d: cython.int, total: cython.int,
                   masked: cython.int) -> cython.Py_ssize_t:
        mb: cython.int = 0
        sc: cython.int
        o: cython.int = self._order(c)
        i: cython.Py_ssize_t
        # The octave of the mean frequency total / d (0 to 7), without a division.
        while mb < 7 and (d << (mb + 1)) <= total:
            mb += 1
        i = self.bucket[d]
        i = i * 8 + mb
        i = i * 3 + (o if o < 2 else 2)
        i = i * 2 + (masked > 0)
        i = i * 2 + (masked > d)
        i = i * 2 + (self.prev_sym >= 0x40)
        sc = self._suffix(c)
        i = i * 2 + (sc >= 0 and d < self._count(sc) - self._count(c))
        return i

    @cython.cfunc
    @cython.nogil
    @cython.exceptval(check=False)
    def _mps_index(self, c: cython.int, d: cython.int, f1: cython.int,
                   total: cython.int) -> cython.Py_ssize_t:
        """The cell of the estimate that the byte is not the context's first (most frequent)
        state, by that state's share and count and the number of states (more features, such
        as the order, measured worse: the cells learn too slowly)."""
        r: cython.int = (f1 * 16) // total
        i: cython.Py_ssize_t
        i = r * 12 + self.bucket[d]
        i = i * 4 + (f1 >= 8) + (f1 >= 24) + (f1 >= 64)
        i = i * 4 + self._match_feature(self._sym(self._stats(c)))
        if self.mps_uses[i] == 0 and self.mps_prob[i] == 0:
            self.mps_prob[i] = cython.cast(cython.int, (cython.cast(cython.longlong, total - f1)
                                                        << PROB_BITS) // total)
        return i

    @cython.cfunc
    @cython.inline
    @cython.nogil
    @cython.exceptval(check=False)
    def _learn_mps(self, idx: cython.Py_ssize_t, miss: cython.int) -> cython.void:
        uses: cython.int = self.mps_uses[idx]
        self._learn_refined(miss)
        self.mps_prob[idx] = self._adapt(self.mps_prob[idx], uses, miss)
        if uses < SEE_LIMIT:
            self.mps_uses[idx] = uses + 1

    # -----------------------------------------------------------------------------------------
    # Coding one byte

    @cython.cfunc
    @cython.nogil
    @cython.exceptval(check=False)
    def encode_byte(self, coder: RangeEncoder, symbol: cython.int) -> cython.void:
        c: cython.int = self.maxctx
        n: cython.int
        s: cython.int
        first: cython.int
        d: cython.int
        total: cython.int
        cum: cython.int
        target_cum: cython.int
        target_freq: cython.int
        masked: cython.int = 0
        esc: cython.uint
        idx: cython.Py_ssize_t
        j: cython.int
        f1: cython.int
        stamp: cython.uint
        self.stamp += 1
        if self.stamp == 0:  # wrapped: clear the mask once every 2**32 bytes
            for j in range(256):
                self.mask[j] = 0
            self.stamp = 1
        stamp = self.stamp
        self.escaped_from = c
        self.found_ctx = -1
        self.found_state = -1
        while c >= 0:
            self._prefetch_context(self._suffix(c))  # the escape features read it
            n = self._count(c)
            first = self._stats(c)
            if n == 1:
                if self.mask[self._sym(first)] != stamp:
                    idx = self._bin_index(c, first, masked > 0)
                    self._init_bin(idx, first)
                    esc = self._code_prob(self._refine(self.bin_prob[idx], 0, self._sym(first), c))
                    if self._sym(first) == symbol:
                        encode_bit(coder, esc, 1)
                        self._learn_bin(idx, 0)
                        self.found_ctx = c
                        self.found_state = first
                        return
                    encode_bit(coder, esc, 0)
                    self._learn_bin(idx, 1)
                    self.mask[self._sym(first)] = stamp
                    masked += 1
            elif n > 1:
                target_cum = -1
                target_freq = 0
                if masked == 0:  # nothing excluded yet: the totals are known, stop at the byte
                    d = n
                    total = self._summ(c)
                    cum = 0
                    for s in range(first, first + n):
                        if self._sym(s) == symbol:
                            target_cum = cum
                            target_freq = self._freq(s)
                            self.found_state = s
                            break
                        cum += self._freq(s)
                else:
                    d = 0
                    total = 0
                    for s in range(first, first + n):
                        if self.mask[self._sym(s)] != stamp:
                            if self._sym(s) == symbol:
                                target_cum = total
                                target_freq = self._freq(s)
                                self.found_state = s
                            d += 1
                            total += self._freq(s)
                if d > 0:
                    idx = self._see_index(c, d, total, masked)
                    self._init_see(idx, d, total)
                    esc = self._code_prob(self._refine(self.see_prob[idx], 1, self.prev_sym, c))
                    if target_cum >= 0:
                        encode_bit(coder, esc, 1)
                        self._learn_see(idx, 0)
                        if masked == 0:  # first, is it the most frequent state?
                            f1 = self._freq(first)
                            idx = self._mps_index(c, d, f1, total)
                            esc = self._code_prob(
                                self._refine(self.mps_prob[idx], 2, self._sym(first), c))
                            if self.found_state == first:
                                encode_bit(coder, esc, 1)
                                self._learn_mps(idx, 0)
                            else:
                                encode_bit(coder, esc, 0)
                                self._learn_mps(idx, 1)
                                coder.encode(target_cum - f1, target_freq, total - f1)
                        else:
                            coder.encode(target_cum, target_freq, total)
                        self.found_ctx = c
                        return
                    encode_bit(coder, esc, 0)
                    self._learn_see(idx, 1)
                    for s in range(first, first + n):
                        self.mask[self._sym(s)] = stamp
                    masked += d
            c = self._suffix(c)
        # Order -1: every byte value not excluded, equally likely.
        cum = 0
        for j in range(symbol):
            cum += self.mask[j] != stamp
        coder.encode(cum, 1, 256 - masked)

    @cython.cfunc
    @cython.nogil
    @cython.exceptval(check=False)
    def decode_byte(self, coder: RangeDecoder) -> cython.int:
        """The next byte, or -1 when the payload proves corrupt."""
        c: cython.int = self.maxctx
        n: cython.int
        s: cython.int
        first: cython.int
        d: cython.int
        total: cython.int
        cum: cython.int
        masked: cython.int = 0
        esc: cython.uint
        target: cython.uint
        idx: cython.Py_ssize_t
        j: cython.int
        f1: cython.int
        stamp: cython.uint
        self.stamp += 1
        if self.stamp == 0:
            for j in range(256):
                self.mask[j] = 0
            self.stamp = 1
        stamp = self.stamp
        self.escaped_from = c
        self.found_ctx = -1
        self.found_state = -1
        while c >= 0:
            self._prefetch_context(self._suffix(c))  # the escape features read it
            n = self._count(c)
            first = self._stats(c)
            if n == 1:
                if self.mask[self._sym(first)] != stamp:
                    idx = self._bin_index(c, first, masked > 0)
                    self._init_bin(idx, first)
                    esc = self._code_prob(self._refine(self.bin_prob[idx], 0, self._sym(first), c))
                    if decode_bit(coder, esc):
                        self._learn_bin(idx, 0)
                        self.found_ctx = c
                        self.found_state = first
                        return self._sym(first)
                    self._learn_bin(idx, 1)
                    self.mask[self._sym(first)] = stamp
                    masked += 1
            elif n > 1:
                if masked == 0:
                    d = n
                    total = self._summ(c)
                else:
                    d = 0
                    total = 0
                    for s in range(first, first + n):
                        if self.mask[self._sym(s)] != stamp:
                            d += 1
                            total += self._freq(s)
                if d > 0:
                    idx = self._see_index(c, d, total, masked)
                    self._init_see(idx, d, total)
                    esc = self._code_prob(self._refine(self.see_prob[idx], 1, self.prev_sym, c))
                    if decode_bit(coder, esc):
                        self._learn_see(idx, 0)
                        if masked == 0:  # first, is it the most frequent state?
                            f1 = self._freq(first)
                            idx = self._mps_index(c, d, f1, total)
                            esc = self._code_prob(
                                self._refine(self.mps_prob[idx], 2, self._sym(first), c))
                            if decode_bit(coder, esc):
                                self._learn_mps(idx, 0)
                                s = first
                            else:
                                self._learn_mps(idx, 1)
                                target = coder.decode_target(total - f1)
                                cum = 0
                                for s in range(first + 1, first + n):
                                    if cum + self._freq(s) > target:
                                        break
                                    cum += self._freq(s)
                                coder.decode_consume(cum, self._freq(s))
                        else:
                            target = coder.decode_target(total)
                            cum = 0
                            for s in range(first, first + n):
                                if self.mask[self._sym(s)] != stamp:
                                    if cum + self._freq(s) > target:
                                        break
                                    cum += self._freq(s)
                            coder.decode_consume(cum, self._freq(s))
                        self.found_ctx = c
                        self.found_state = s
                        return self._sym(s)
                    self._learn_see(idx, 1)
                    for s in range(first, first + n):
                        self.mask[self._sym(s)] = stamp
                    masked += d
            c = self._suffix(c)
        if masked >= 256:  # every byte excluded: no encoder writes this
            return -1
        target = coder.decode_target(256 - masked)
        cum = 0
        for j in range(256):
            if self.mask[j] != stamp:
                if cum == cython.cast(cython.int, target):
                    break
                cum += 1
        coder.decode_consume(cum, 1)
        return j

    @cython.cfunc
    @cython.inline
    @cython.nogil
    @cython.exceptval(check=False)
    def _init_bin(self, idx: cython.Py_ssize_t, s: cython.int) -> cython.void:
        # First use of this feature cell: start from 2 / (freq + 2).
        if self.bin_uses[idx] == 0 and self.bin_prob[idx] == 0:
            self.bin_prob[idx] = (2 << PROB_BITS) // (self._freq(s) + 2)

    @cython.cfunc
    @cython.inline
    @cython.nogil
    @cython.exceptval(check=False)
    def _learn_bin(self, idx: cython.Py_ssize_t, escape: cython.int) -> cython.void:
        uses: cython.int = self.bin_uses[idx]
        self._learn_refined(escape)
        self.bin_prob[idx] = self._adapt(self.bin_prob[idx], uses, escape)
        if uses < BIN_LIMIT:
            self.bin_uses[idx] = uses + 1

    @cython.cfunc
    @cython.inline
    @cython.nogil
    @cython.exceptval(check=False)
    def _init_see(self, idx: cython.Py_ssize_t, d: cython.int, total: cython.int) -> cython.void:
        # First use: start from 3d / (total + 3d), method C's estimate with each new symbol
        # counted thrice (measured: new feature cells are met early, when escapes abound).
        if self.see_uses[idx] == 0 and self.see_prob[idx] == 0:
            self.see_prob[idx] = cython.cast(cython.int, (cython.cast(cython.longlong, 3 * d)
                                                          << PROB_BITS) // (total + 3 * d))

    @cython.cfunc
    @cython.inline
    @cython.nogil
    @cython.exceptval(check=False)
    def _learn_see(self, idx: cython.Py_ssize_t, escape: cython.int) -> cython.void:
        uses: cython.int = self.see_uses[idx]
        self._learn_refined(escape)
        self.see_prob[idx] = self._adapt(self.see_prob[idx], uses, escape)
        if uses < SEE_LIMIT:
            self.see_uses[idx] = uses + 1

    # -----------------------------------------------------------------------------------------
    # Updating after a byte

    @cython.cfunc
    @cython.nogil
    @cython.exceptval(check=False)
    def update(self, symbol: cython.int, pos: cython.Py_ssize_t) -> cython.void:
        """Learn data[pos] == symbol (just coded) and move to the context of pos + 1."""
        if self.found_state >= 0:  # fetch the next context while the update works
            self._prefetch_context(self._child(self.found_state))
        self._match_start(symbol, pos)
        self._update_trie(symbol, pos)
        self._match_finish(pos)

    @cython.cfunc
    @cython.nogil
    @cython.exceptval(check=False)
    def _update_trie(self, symbol: cython.int, pos: cython.Py_ssize_t) -> cython.void:
        c: cython.int
        fc: cython.int = self.found_ctx
        fs: cython.int = self.found_state
        f: cython.int
        nxt: cython.int
        suffix_state: cython.int = -1  # the byte's state in the suffix of fc, when known
        self.prev_success = fc == self.escaped_from
        if self.prev_success:
            self.run += 1
        else:
            self.run = 0
        self.prev_sym2 = self.prev_sym
        self.prev_sym = symbol
        if fc >= 0:
            fs = self._reward(fc, fs, fc == self.escaped_from and self._order(fc) == self.max_order)
            if self._freq(fs) < MAX_FREQ // 4 and self._suffix(fc) >= 0:
                suffix_state = self._suffix_bonus(self._suffix(fc), symbol)
        # The byte is new in every context that escaped: add it, inheriting its frequency.
        c = self.escaped_from
        while c != fc:
            f = self._inherit(c, fc, fs)
            if self._add_state(c, symbol, f, -cython.cast(cython.int, pos + 1)) < 0:
                self._memory_full()
                return
            c = self._suffix(c)
        if fc < 0:
            self.maxctx = ROOT
            return
        nxt = self._successor(fc, fs, suffix_state, pos)
        if nxt < 0:
            self._memory_full()
            return
        self.maxctx = nxt

    @cython.cfunc
    @cython.nogil
    @cython.exceptval(check=False)
    def _memory_full(self) -> cython.void:
        self.restarts += 1
        self._restart()

    @cython.cfunc
    @cython.nogil
    @cython.exceptval(check=False)
    def _reward(self, c: cython.int, s: cython.int, drop: cython.bint) -> cython.int:
        """Count one more occurrence of state s in context c; return where s now is."""
        first: cython.int = self._stats(c)
        if self._count(c) == 1:
            if self._freq(s) < MAX_BIN_FREQ:
                self._set_freq(s, self._freq(s) + 1)
            return s
        self._set_freq(s, self._freq(s) + 4)
        self._set_summ(c, self._summ(c) + 4)
        # Keep states roughly sorted by frequency: frequent ones are found sooner.
        if s > first and self._freq(s) > self._freq(s - 1):
            self._swap_states(s, s - 1)
            s -= 1
        if self._freq(s) > MAX_FREQ:
            s = self._rescale(c, s, drop)
        return s

    @cython.cfunc
    @cython.inline
    @cython.nogil
    @cython.exceptval(check=False)
    def _swap_states(self, a: cython.int, b: cython.int) -> cython.void:
        t0: cython.int = self.heap[2 * a]
        t1: cython.int = self.heap[2 * a + 1]
        self.heap[2 * a] = self.heap[2 * b]
        self.heap[2 * a + 1] = self.heap[2 * b + 1]
        self.heap[2 * b] = t0
        self.heap[2 * b + 1] = t1

    @cython.cfunc
    @cython.nogil
    @cython.exceptval(check=False)
    def _suffix_bonus(self, c: cython.int, symbol: cython.int) -> cython.int:
        """A byte found in a young state also gains a little in the shorter context c, and
        moves one place toward the front there (PPMd). Return its state in c, or -1."""
        s: cython.int = self._find(c, symbol)
        if s < 0:
            return -1
        if self._count(c) == 1:
            if self._freq(s) < 32:
                self._set_freq(s, self._freq(s) + 1)
            return s
        if s > self._stats(c) and self._freq(s) >= self._freq(s - 1):
            self._swap_states(s, s - 1)
            s -= 1
        if self._freq(s) < MAX_FREQ - 9:
            self._set_freq(s, self._freq(s) + 2)
            self._set_summ(c, self._summ(c) + 2)
        return s

    @cython.cfunc
    @cython.nogil
    @cython.exceptval(check=False)
    def _rescale(self, c: cython.int, s: cython.int, drop: cython.bint) -> cython.int:
        """Halve every frequency of context c: old statistics fade and totals stay small. With
        `drop`, states that fall to 0 are removed (rare bytes of a context that predicts well);
        the found state s (frequency > MAX_FREQ) stays. Return where s now is."""
        first: cython.int = self._stats(c)
        keep: cython.int = first
        total: cython.int = 0
        i: cython.int
        f: cython.int
        found: cython.int = s
        for i in range(first, first + self._count(c)):
            f = (self._freq(i) + (not drop)) >> 1
            if f > 0:
                if i == s:
                    found = keep
                self._set_sym(keep, self._sym(i))
                self._set_freq(keep, f)
                self._set_child(keep, self._child(i))
                keep += 1
                total += f
        self._set_count(c, keep - first)
        self._set_summ(c, total)
        if keep - first == 1:  # now a binary context: its state moves into the record, and
            # its frequency counts hits
            self.heap[2 * c + 2] = self._sym(first) | ((self._freq(first) + 3) >> 2) << 8
            self.heap[2 * c + 3] = self._child(first)
            self._free_states(first, self._capclass(c))
            self._set_capclass(c, 0)
            found = c + 1
        return found

    @cython.cfunc
    @cython.nogil
    @cython.exceptval(check=False)
    def _inherit(self, c: cython.int, fc: cython.int, fs: cython.int) -> cython.int:
        """Initial frequency of a byte new in context c, found in the shorter context fc as fs.

        PPMII's rule: the byte gets about the share it has in fc, scaled to c's total (then
        a quarter more, which measured better with this model's escape estimates)."""
        fsum: cython.int
        cf: cython.int
        sf: cython.int
        csum: cython.int
        if fc < 0:
            return 1
        if self._count(fc) == 1:
            return _boost(1 + (self._freq(fs) > 8) + (self._freq(fs) > 32))
        fsum = self._summ(fc) - self._freq(fs)
        csum = self._summ(c) if self._count(c) > 1 else 2 * self._freq(self._stats(c))
        cf = 2 * self._freq(fs) * (csum + 6)
        sf = fsum + csum
        if cf < 6 * sf:
            return _boost(1 + (cf > sf) + (cf >= 4 * sf))
        return _boost(4 + (cf >= 9 * sf) + (cf >= 12 * sf) + (cf >= 15 * sf))

    @cython.cfunc
    @cython.nogil
    @cython.exceptval(check=False)
    def _find(self, c: cython.int, symbol: cython.int) -> cython.int:
        first: cython.int = self._stats(c)
        s: cython.int
        for s in range(first, first + self._count(c)):
            if self._sym(s) == symbol:
                return s
        return -1

    @cython.cfunc
    @cython.nogil
    @cython.exceptval(check=False)
    def _successor(self, c: cython.int, s: cython.int, suffix_state: cython.int,
                   pos: cython.Py_ssize_t) -> cython.int:
        """The context that follows context c and its state s (c + sym[s]), creating it and the
        missing shorter ones below it if they were lazy. -1 when memory is full. suffix_state
        is the byte's state in c's suffix when the caller knows it, else -1.

        A lazy child -t says: at position t - 1 this context and byte occurred, and data[t]
        followed. The new contexts (c + sym, suffix(c) + sym, ...) each start with that one
        byte, their own lazy child t + 1, and a frequency inherited from the shorter context.
        """
        symbol: cython.int = self._sym(s)
        n: cython.int = 0
        cc: cython.int = c
        ss: cython.int = s
        base: cython.int
        text: cython.Py_ssize_t = -1
        nxt: cython.int
        nb: cython.int
        f: cython.int
        fsum: cython.int
        up: cython.int
        while True:
            if self._child(ss) > 0:
                base = self._child(ss)
                break
            if text < 0:
                text = -self._child(ss)
            if n >= MAX_STACK:
                return -1
            self.stack_c[n] = cc
            self.stack_s[n] = ss
            n += 1
            if cc == ROOT:
                base = ROOT
                break
            cc = self._suffix(cc)
            ss = suffix_state if n == 1 and suffix_state >= 0 else self._find(cc, symbol)
            if ss < 0:  # the shorter context lost it to a restart or never had it
                ss = self._add_state(cc, symbol, 1, -cython.cast(cython.int, text))
                if ss < 0:
                    return -1
        if n == 0:
            return base
        if text <= 0 or text > pos:  # cannot happen: lazy children point behind pos
            text = pos
        up = self.data[text]
        while n > 0:
            n -= 1
            cc = self.stack_c[n]
            ss = self.stack_s[n]
            if self._order(cc) >= self.max_order:
                self._set_child(ss, base)  # at the top order: the suffix's child
                continue
            # Inherit the first frequency from how `up` fares in the shorter context `base`.
            f = 1
            if base != ROOT or self._count(base) > 0:
                nb = self._find(base, up)
                if nb >= 0:
                    if self._count(base) == 1:
                        f = self._freq(nb)
                    else:
                        fsum = self._summ(base) - self._count(base) - (self._freq(nb) - 1)
                        f = self._freq(nb) - 1
                        if fsum < 1:
                            fsum = 1
                        if 2 * f <= fsum:
                            f = 1 + (5 * f > fsum)
                        else:
                            f = 1 + (2 * f + 3 * fsum - 1) // (2 * fsum)
                        if f > MAX_BIN_FREQ // 4:
                            f = MAX_BIN_FREQ // 4
            nxt = self._new_context(self._order(cc) + 1, base)
            if nxt < 0:
                return -1
            # A fresh context: its first state goes in its record, _add_state cannot fail.
            self._add_state(nxt, up, f, -cython.cast(cython.int, text + 1))
            self._set_child(self.stack_s[n], nxt)
            base = nxt
        return base


def _code_size(coder: RangeEncoder, size: cython.Py_ssize_t) -> None:
    # The block size opens the stream (its bit length in 6 bits, then its bits), so that a
    # payload decoded against another size is refused instead of read on into zeros.
    length: cython.int = size.bit_length() if size > 0 else 0
    coder.encode_direct(length, SIZE_LENGTH_BITS)
    if length > 32:
        coder.encode_direct(cython.cast(cython.uint, size >> 32), length - 32)
        length = 32
    coder.encode_direct(cython.cast(cython.uint, size & 0xFFFFFFFF), length)


def _decode_size(coder: RangeDecoder) -> cython.Py_ssize_t:
    length: cython.int = coder.decode_direct(SIZE_LENGTH_BITS)
    size: cython.Py_ssize_t = 0
    if length > 32:
        size = coder.decode_direct(length - 32)
        length = 32
    return (size << length) | coder.decode_direct(length)


@cython.ccall
def encode(data: cython.const[cython.uchar][:], max_order: cython.int,
           memory: cython.Py_ssize_t) -> bytes:
    """Code every byte of `data` with the PPM model of `max_order` and `memory` bytes."""
    size: cython.Py_ssize_t = len(data)
    model: Model = Model(data, max_order, memory)
    coder: RangeEncoder = RangeEncoder(size // 2 + 64)
    i: cython.Py_ssize_t
    symbol: cython.int
    _code_size(coder, size)
    with cython.nogil:
        for i in range(size):
            symbol = data[i]
            model.encode_byte(coder, symbol)
            model.update(symbol, i)
    return coder.finish()


def statistics(data, max_order: cython.int, memory: cython.Py_ssize_t) -> dict:
    """Code `data` as encode() does and report the model's size: contexts, state slots, the
    bytes their arrays hold, and how often the model restarted because memory was full."""
    model: Model = Model(data, max_order, memory)
    coder: RangeEncoder = RangeEncoder(len(data) // 2 + 64)
    i: cython.Py_ssize_t
    for i in range(len(data)):
        model.encode_byte(coder, data[i])
        model.update(data[i], i)
    return {"units": model.nunits, "restarts": model.restarts,
            "array_bytes": model.unit_capacity * UNIT_BYTES,
            "payload_bytes": len(coder.finish())}


@cython.ccall
def decode(payload: cython.const[cython.uchar][:], size: cython.Py_ssize_t,
           max_order: cython.int, memory: cython.Py_ssize_t) -> bytes:
    """The inverse of encode: `size` bytes, or CodecError."""
    out = bytearray(size)
    data: cython.uchar[:] = out
    model: Model = Model(out, max_order, memory)
    coder: RangeDecoder = RangeDecoder(payload)
    i: cython.Py_ssize_t
    symbol: cython.int
    if _decode_size(coder) != size:
        raise CodecError(f"ppm: the payload codes a block of another size than {size}")
    with cython.nogil:
        for i in range(size):
            symbol = model.decode_byte(coder)
            if symbol < 0 or coder.failed():
                coder.corrupt = True
                break
            data[i] = symbol
            model.update(symbol, i)
    coder.finish()  # raises CodecError unless the payload ended exactly after the last byte
    return bytes(out)
