"""The context-mixing model: every byte coded bit by bit, each bit predicted by many context
models whose estimates a gated logistic mixer combines and APMs refine.

In the lineage of lpaq1 (Mahoney) and zpaq's ICM chains; spec/codecs/cm.md states every rule
both sides compute, docs/cm.md explains them. One byte is coded as 8 binary decisions, high
bit first; `c0` is the part of the byte coded so far, with a leading 1 (1 .. 255).

- Context models (orders 1-6, words, sparse and record contexts, per `level`): each keeps one
  bit history (coding.md, "Bit histories") per context and node of the byte, in a hash table
  of 16-byte slots, one slot per context and nibble (a check byte and the 15 histories of the
  nibble's binary tree), three slots to a 64-byte group; orders 0 and 1 index their histories
  directly. A table of counters per model turns each history into a probability (indirect
  modelling: what did a context with this history see next, over the whole block?).
- The match model: the byte that followed the last occurrence of the last MATCH_MIN bytes,
  found by a hash and checked byte by byte, predicts each bit while it holds, with a counter
  per length bucket and predicted bit.
- The mixer (coding.md, "Mixer") weighs the stretched estimates with a weight set chosen by
  the match state and c0; APMs refine its output.

Two payload versions, one code path: version 1 mixes with 64-bit weights and refines with two
APMs (by order 1, by a 6-bit hash of order 3); version 2 mixes with 16-bit weights (a few SIMD
instructions a bit, and it learns at a quarter of the rate, which compresses better), refines
with the order-1 APM alone, weighted 3 to 1 against the mixer's output, and caps its hash
table at 8 bytes per byte of the block and hashed model instead of 32 (a table that stays
closer to the cache).

Both directions run the same code: `code_byte` over a Coder (encoder or decoder); `update`
then moves the contexts on. The decoder's data is its output buffer, written byte by byte.
"""
from array import array

import cython

from archiver.errors import CodecError
from pyarc_plugins.coding.apm_inline import apm_table
from pyarc_plugins.coding.bithistory_inline import STATES, history_tables
from pyarc_plugins.coding.counters_inline import counter_rates
from pyarc_plugins.coding.large_tables import zeroed
from pyarc_plugins.coding.mixer_inline import (
    mix16_weights,
    mix16_width,
    mix_weights,
    squash_table,
    stretch_table,
)

if cython.compiled:
    from cython.cimports.pyarc_plugins.coding.apm_inline import apm_learn, apm_refine, apm_slot
    from cython.cimports.pyarc_plugins.coding.bithistory_inline import history_next
    from cython.cimports.pyarc_plugins.coding.counters_inline import counter_learn, counter_p
    from cython.cimports.pyarc_plugins.coding.mixer_inline import (
        mix16_dot,
        mix16_learn,
        mix_dot,
        mix_error,
        mix_learn,
        squash,
        stretch,
    )
    from cython.cimports.pyarc_plugins.coding.prefetch import prefetch
    from cython.cimports.pyarc_plugins.coding.rangecoder_inline import (
        Coder,
        code_bit,
        code_size,
        decoding_failed,
        encoding,
    )
    from cython.cimports.pyarc_plugins.coding.rangecoder_kernel import (
        RangeDecoder,
        RangeEncoder,
    )
else:
    from pyarc_plugins.coding.apm_inline import apm_learn, apm_refine, apm_slot
    from pyarc_plugins.coding.bithistory_inline import history_next
    from pyarc_plugins.coding.counters_inline import counter_learn, counter_p
    from pyarc_plugins.coding.mixer_inline import (
        mix16_dot,
        mix16_learn,
        mix_dot,
        mix_error,
        mix_learn,
        squash,
        stretch,
    )
    from pyarc_plugins.coding.rangecoder_inline import (
        Coder,
        code_bit,
        code_size,
        decoding_failed,
        encoding,
    )
    from pyarc_plugins.coding.rangecoder_kernel import RangeDecoder, RangeEncoder

    def prefetch(address):  # a hint to the CPU's cache; nothing to do in pure Python
        pass

#: Counters of the histories: 22-bit probabilities, rates 1 / (n + 1.5) until n = SM_LIMIT.
PROB_BITS = cython.declare(cython.const[cython.int], 22)
CODE_BITS = cython.declare(cython.const[cython.int], 16)
RATE_START = cython.declare(cython.const[cython.int], 3)
SM_LIMIT = cython.declare(cython.const[cython.int], 255)
MATCH_LIMIT = cython.declare(cython.const[cython.int], 255)
#: The mixer, version 1: weights move by error (16 bits) x input >> MIX_SHIFT. Version 2: by
#: round(input x (error >> MIX16_ERROR_SHIFT) / 2**17), in 16-bit weights of 14 fraction bits.
MIX_SHIFT = cython.declare(cython.const[cython.int], 14)
MIX16_ERROR_SHIFT = cython.declare(cython.const[cython.int], 1)
MAX_INPUTS = cython.declare(cython.const[cython.int], 24)
APM_SHIFT = cython.declare(cython.const[cython.int], 7)
APM_CONTEXTS = cython.declare(cython.const[cython.Py_ssize_t], 1 << 16)
#: The second APM: 64 hashes of order 3, by c0 (a table that stays in the L2 cache).
APM2_HASH_BITS = cython.declare(cython.const[cython.int], 6)
APM2_CONTEXTS = cython.declare(cython.const[cython.Py_ssize_t], 1 << 14)  # (6 + 8 bits)
#: The hashed context models of each level (level 1 has the first LEVEL1, and so on).
LEVEL1 = cython.declare(cython.const[cython.int], 6)
LEVEL2 = cython.declare(cython.const[cython.int], 8)
LEVEL3 = cython.declare(cython.const[cython.int], 13)
#: Inputs besides the hashed models: order 0, order 1, the match model (2), the bias.
DIRECT = cython.declare(cython.const[cython.int], 2)
EXTRA = cython.declare(cython.const[cython.int], 3)
BIAS = cython.declare(cython.const[cython.int], 256)
#: The match model.
MATCH_MIN = cython.declare(cython.const[cython.int], 6)
MATCH_VERIFY = cython.declare(cython.const[cython.int], 32)
MATCH_MAX = cython.declare(cython.const[cython.int], 65535)
MATCH_BUCKETS = cython.declare(cython.const[cython.int], 32)
#: The record model: a period is adopted once seen RECORD_MIN times.
RECORD_MIN = cython.declare(cython.const[cython.int], 16)
SIZE_LENGTH_BITS = cython.declare(cython.const[cython.int], 6)
SLOT = cython.declare(cython.const[cython.Py_ssize_t], 16)
GROUP = cython.declare(cython.const[cython.Py_ssize_t], 64)
MASK32 = cython.declare(cython.const[cython.ulonglong], 0xFFFFFFFF)
#: The bytes of c4 (the last four bytes, the latest lowest) that a sparse context keeps.
BYTES_34 = cython.declare(cython.const[cython.ulonglong], 0xFFFF0000)
#: Multipliers of the hashes (odd 32-bit constants).
K1 = cython.declare(cython.const[cython.ulonglong], 0x9E3779B1)
K2 = cython.declare(cython.const[cython.ulonglong], 0x85EBCA77)
K3 = cython.declare(cython.const[cython.ulonglong], 0xC2B2AE3D)
#: Bytes of hash table per byte of the block and hashed model, at most, by payload version.
TABLE_CAP = (0, 32, 8)
MIB = 1 << 20

_NEXT, _HISTORY_P0 = history_tables()
_RATES = counter_rates(RATE_START, SM_LIMIT)
_SQUASH = squash_table(CODE_BITS)
_STRETCH = stretch_table(_SQUASH, CODE_BITS)


def hashed_models(level: int) -> int:
    return (LEVEL1, LEVEL2, LEVEL3)[level - 1]


def table_sizes(size: int, level: int, memory: int, version: int) -> tuple[int, int]:
    """(hash table bytes, match table entries) for a block of `size` bytes under `memory`
    bytes: spec/codecs/cm.md, section "Memory"."""
    if version == 1:
        fixed = (APM_CONTEXTS + APM2_CONTEXTS) * 33 * 2 + 65536 + 256 + 3 * 256 * MAX_INPUTS * 8
    else:
        fixed = APM_CONTEXTS * 33 * 2 + 65536 + 256 + 3 * 256 * MAX_INPUTS * 2
    budget = max(memory - fixed, 1 << 16)
    entries = 1 << 10
    while entries * 4 * 2 <= min(budget // 8, 4 * size):
        entries *= 2
    groups = (budget - entries * 4) // GROUP
    cap = (size * TABLE_CAP[version] * hashed_models(level) + (1 << 16)) // GROUP
    return max(min(groups, cap), 16) * GROUP, entries


@cython.cfunc
@cython.inline
@cython.nogil
@cython.exceptval(check=False)
def _hash(a: cython.ulonglong, b: cython.ulonglong) -> cython.ulonglong:
    """A 32-bit hash of two 32-bit values."""
    h: cython.ulonglong = ((a & MASK32) * K1 + (b & MASK32) * K2 + 1) & MASK32
    h ^= h >> 15
    h = (h * K3) & MASK32
    h ^= h >> 13
    return h


@cython.boundscheck(False)
@cython.wraparound(False)
@cython.cdivision(True)
@cython.initializedcheck(False)
@cython.final
@cython.cclass
class Model:
    size: cython.Py_ssize_t
    data: cython.const[cython.uchar][:]
    version: cython.int  # of the payload: 1 or 2
    nh: cython.int  # hashed models
    nin: cython.int  # mixer inputs
    # Histories: the hash table, orders 0 and 1 direct, the transitions
    table: cython.uchar[::1]
    groups: cython.Py_ssize_t
    order0: cython.uchar[::1]
    order1: cython.uchar[::1]
    nxt: cython.uchar[::1]
    keys: cython.ulonglong[::1]  # each hashed model's context hash, per byte
    slots: cython.longlong[::1]  # each hashed model's slot for the current nibble
    # Counters: per model and history, the match model's, and their rates
    sm: cython.uint[::1]
    msm: cython.uint[::1]
    rates: cython.uint[::1]
    # Mixer and APMs
    mix_w: cython.longlong[::1]  # version 1
    mix_w16: cython.short[::1]  # version 2
    mix_width: cython.Py_ssize_t  # weights a set: nin (version 1), mix16_width(nin) (2)
    mix_in: cython.int[::1]
    squash_t: cython.int[::1]
    stretch_t: cython.short[::1]
    mix_base: cython.Py_ssize_t
    mix_p: cython.uint
    apm1: cython.ushort[::1]
    apm2: cython.ushort[::1]
    apm_ctx2: cython.Py_ssize_t
    # The match model
    mtable: cython.uint[::1]
    mmask: cython.Py_ssize_t
    mptr: cython.Py_ssize_t
    mlen: cython.int
    mbyte: cython.int
    mcell: cython.Py_ssize_t
    # The record model
    cpos: cython.longlong[::1]  # the last 3 positions of each byte value
    rlen: cython.Py_ssize_t
    rlen1: cython.Py_ssize_t
    rlen2: cython.Py_ssize_t
    rcount1: cython.int
    rcount2: cython.int
    # History of the block
    c0: cython.uint
    bitpos: cython.int
    c4: cython.ulonglong
    c8: cython.ulonglong
    word: cython.ulonglong
    word1: cython.ulonglong
    mix_shift: cython.int
    apm_shift: cython.int
    sm_limit: cython.int

    def __init__(self, data, level: cython.int, memory: cython.Py_ssize_t, version: cython.int):
        hbytes: cython.Py_ssize_t
        entries: cython.Py_ssize_t
        self.data = data
        self.size = len(data)
        self.version = version
        self.nh = hashed_models(level)
        self.nin = DIRECT + self.nh + EXTRA
        hbytes, entries = table_sizes(self.size, level, memory, version)
        self.table = zeroed(hbytes)
        self.groups = hbytes // GROUP
        self.order0 = bytearray(256)
        self.order1 = bytearray(65536)
        self.nxt = _NEXT
        self.keys = array("Q", [0]) * self.nh
        self.slots = array("q", [0]) * self.nh
        cells = array("I", [p << 8 for p in _HISTORY_P0] + [0] * (256 - STATES))
        self.sm = cells * (DIRECT + self.nh)
        self.msm = array("I", [1 << (PROB_BITS - 1) << 8]) * (2 * MATCH_BUCKETS)
        self.rates = _RATES
        if version == 1:
            self.mix_w = mix_weights(3 * 256, self.nin)
            self.mix_width = self.nin
            self.apm2 = apm_table(APM2_CONTEXTS)
        else:
            self.mix_w16 = mix16_weights(3 * 256, self.nin)
            self.mix_width = mix16_width(self.nin)
        self.mix_in = array("i", [0]) * MAX_INPUTS  # (0 past nin: the 16-bit sets' padding)
        self.squash_t = _SQUASH
        self.stretch_t = _STRETCH
        self.apm1 = apm_table(APM_CONTEXTS)
        self.mtable = zeroed(4 * entries, "I")
        self.mmask = entries - 1
        self.mptr = 0
        self.mlen = 0
        self.mbyte = 0
        self.cpos = array("q", [0]) * (3 * 256)
        self.rlen = 0
        self.rlen1 = 0
        self.rlen2 = 0
        self.rcount1 = 0
        self.rcount2 = 0
        self.c0 = 1
        self.bitpos = 0
        self.c4 = 0
        self.c8 = 0
        self.word = 0
        self.word1 = 0
        self.mix_shift = MIX_SHIFT
        self.apm_shift = APM_SHIFT
        self.sm_limit = SM_LIMIT
        self.apm_ctx2 = 0
        self.mcell = 0
        self.mix_base = 0
        self.mix_p = 0
        self._contexts(0)

    # -----------------------------------------------------------------------------------------
    # The hash table

    @cython.cfunc
    @cython.inline
    @cython.nogil
    @cython.exceptval(check=False)
    def _group(self, key: cython.ulonglong) -> cython.Py_ssize_t:
        """Where the 64-byte group of context `key` (32 bits) starts: key x groups / 2**32."""
        return cython.cast(cython.Py_ssize_t, (key * self.groups) >> 32) * GROUP

    @cython.cfunc
    @cython.nogil
    @cython.exceptval(check=False)
    def _slot(self, key: cython.ulonglong) -> cython.Py_ssize_t:
        """The slot of context `key` for the current nibble: of the three slots `first`,
        `first ^ 1`, `first ^ 2` of its 64-byte group, the first whose check byte matches,
        else the first whose first history is the least (emptied and claimed)."""
        g: cython.Py_ssize_t = self._group(key)
        first: cython.Py_ssize_t = (key >> 8) & 3
        check: cython.uchar = key & 0xFF
        i: cython.Py_ssize_t
        best: cython.Py_ssize_t = g + first * SLOT
        j: cython.int
        for j in range(3):
            i = g + (first ^ j) * SLOT
            if self.table[i] == check:
                return i
        for j in range(1, 3):
            i = g + (first ^ j) * SLOT
            if self.table[i + 1] < self.table[best + 1]:
                best = i
        for j in range(1, SLOT):
            self.table[best + j] = 0
        self.table[best] = check
        return best

    @cython.cfunc
    @cython.nogil
    @cython.exceptval(check=False)
    def _nibble(self) -> cython.void:
        """At the first and fifth bit of a byte: each hashed model's slot for the nibble."""
        i: cython.int
        key: cython.ulonglong
        for i in range(self.nh):
            key = self.keys[i]
            if self.bitpos == 4:
                key = _hash(key, self.c0)
            self.keys[i] = key  # (restored at the byte's end)
            prefetch(cython.address(self.table[self._group(key)]))
        for i in range(self.nh):
            self.slots[i] = self._slot(self.keys[i])

    # -----------------------------------------------------------------------------------------
    # Coding one bit

    @cython.cfunc
    @cython.nogil
    @cython.exceptval(check=False)
    def _code_bit(self, coder: Coder, bit: cython.uint) -> cython.uint:
        """Predict, code and learn one bit of the byte (decoding, `bit` is not read)."""
        i: cython.int
        n: cython.int = self.nh
        node: cython.Py_ssize_t
        s: cython.uint
        p: cython.uint
        pa: cython.uint
        pb: cython.uint
        slot1: cython.Py_ssize_t
        slot2: cython.Py_ssize_t
        expected: cython.int = 0
        c0: cython.uint = self.c0
        i1: cython.Py_ssize_t = ((self.c4 & 0xFF) << 8) | c0
        # Node of the nibble's tree: 1, then 2-3, 4-7, 8-15.
        node = (c0 if self.bitpos < 4
                else (c0 & ((1 << (self.bitpos - 4)) - 1)) | (1 << (self.bitpos - 4)))
        # Inputs
        s = self.order0[c0]
        self.mix_in[0] = stretch(self.stretch_t, counter_p(self.sm[s]), PROB_BITS)
        s = self.order1[i1]
        self.mix_in[1] = stretch(self.stretch_t, counter_p(self.sm[256 + s]), PROB_BITS)
        for i in range(n):
            s = self.table[self.slots[i] + node]
            self.mix_in[DIRECT + i] = stretch(self.stretch_t,
                                              counter_p(self.sm[(DIRECT + i) * 256 + s]),
                                              PROB_BITS)
        if self.mlen > 0 and ((self.mbyte | 256) >> (8 - self.bitpos)) == c0:
            expected = (self.mbyte >> (7 - self.bitpos)) & 1
            self.mcell = min(self.mlen if self.mlen < 16 else 12 + (self.mlen >> 2),
                             MATCH_BUCKETS - 1) * 2 + expected
            self.mix_in[DIRECT + n] = stretch(self.stretch_t, counter_p(self.msm[self.mcell]),
                                              PROB_BITS)
            self.mix_in[DIRECT + n + 1] = (1 - 2 * expected) * min(self.mlen, 32) * 16
        else:
            self.mlen = 0
            self.mix_in[DIRECT + n] = 0
            self.mix_in[DIRECT + n + 1] = 0
        self.mix_in[DIRECT + n + 2] = BIAS
        # Mix and refine
        self.mix_base = ((0 if self.mlen == 0 else (1 if self.mlen < 16 else 2)) * 256
                         + c0) * self.mix_width
        if self.version == 1:
            self.mix_p = squash(self.squash_t, mix_dot(self.mix_w, self.mix_base, self.mix_in,
                                                        self.nin))
        else:
            self.mix_p = squash(self.squash_t, mix16_dot(self.mix_w16, self.mix_base,
                                                          self.mix_in, self.mix_width))
        slot1 = apm_slot(self.mix_p, i1)
        pa = apm_refine(self.apm1, slot1, self.mix_p)
        if self.version == 1:
            slot2 = apm_slot(self.mix_p, self.apm_ctx2 | c0)
            pb = apm_refine(self.apm2, slot2, self.mix_p)
            p = (2 * self.mix_p + pa + pb + 2) >> 2
        else:
            slot2 = 0
            p = (self.mix_p + 3 * pa + 2) >> 2
        bit = code_bit(coder, p, bit)
        # Learn
        if self.version == 1:
            mix_learn(self.mix_w, self.mix_base, self.mix_in, self.nin,
                      mix_error(self.mix_p, bit, CODE_BITS), self.mix_shift)
        else:
            mix16_learn(self.mix_w16, self.mix_base, self.mix_in, self.mix_width,
                        cython.cast(cython.int, mix_error(self.mix_p, bit, CODE_BITS)
                                    >> MIX16_ERROR_SHIFT))
        apm_learn(self.apm1, slot1, bit, self.apm_shift)
        if self.version == 1:
            apm_learn(self.apm2, slot2, bit, self.apm_shift)
        s = self.order0[c0]
        self.sm[s] = counter_learn(self.sm[s], bit, self.rates, self.sm_limit, PROB_BITS)
        self.order0[c0] = history_next(self.nxt, s, bit)
        s = self.order1[i1]
        self.sm[256 + s] = counter_learn(self.sm[256 + s], bit, self.rates, self.sm_limit,
                                         PROB_BITS)
        self.order1[i1] = history_next(self.nxt, s, bit)
        for i in range(n):
            s = self.table[self.slots[i] + node]
            self.sm[(DIRECT + i) * 256 + s] = counter_learn(
                self.sm[(DIRECT + i) * 256 + s], bit, self.rates, self.sm_limit, PROB_BITS)
            self.table[self.slots[i] + node] = history_next(self.nxt, s, bit)
        if self.mlen > 0:
            self.msm[self.mcell] = counter_learn(self.msm[self.mcell], bit, self.rates,
                                                 MATCH_LIMIT, PROB_BITS)
        self.c0 = (c0 << 1) | bit
        self.bitpos += 1
        if self.bitpos == 4:
            self._nibble()
        self._prefetch_apms()
        return bit

    @cython.cfunc
    @cython.inline
    @cython.nogil
    @cython.exceptval(check=False)
    def _prefetch_apms(self) -> cython.void:
        """Ask the CPU for the APMs' rows (66 bytes each) of the bit after the next (its two
        possible c0, adjacent): the next bit's were asked for a bit ago, and the work of a bit
        hides the cache misses. At a byte's start, those of its first bit too."""
        a: cython.Py_ssize_t = ((self.c4 & 0xFF) << 8) * 33
        b: cython.Py_ssize_t = self.apm_ctx2 * 33
        j: cython.Py_ssize_t
        k: cython.Py_ssize_t = self.c0 * 2 * 33
        if self.bitpos == 0:
            for j in range(0, 3 * 33, 32):
                prefetch(cython.address(self.apm1[a + 33 + j]))
                if self.version == 1:
                    prefetch(cython.address(self.apm2[b + 33 + j]))
        if self.bitpos < 7:
            for j in range(0, 66, 32):
                prefetch(cython.address(self.apm1[a + k + j]))
                if self.version == 1:
                    prefetch(cython.address(self.apm2[b + k + j]))
            prefetch(cython.address(self.apm1[a + k + 65]))
            if self.version == 1:
                prefetch(cython.address(self.apm2[b + k + 65]))

    @cython.cfunc
    @cython.nogil
    @cython.exceptval(check=False)
    def code_byte(self, coder: Coder, symbol: cython.int) -> cython.int:
        """Encoding: code `symbol` and return it. Decoding: return the byte decoded."""
        k: cython.int
        for k in range(7, -1, -1):
            self._code_bit(coder, (symbol >> k) & 1)
        return self.c0 & 0xFF

    # -----------------------------------------------------------------------------------------
    # After a byte

    @cython.cfunc
    @cython.nogil
    @cython.exceptval(check=False)
    def update(self, c: cython.int, pos: cython.Py_ssize_t) -> cython.void:
        """Learn data[pos] == c (just coded, and in data) and move to the contexts of pos + 1."""
        p: cython.Py_ssize_t = pos + 1
        r: cython.Py_ssize_t
        n: cython.int
        h: cython.ulonglong
        cand: cython.Py_ssize_t
        lc: cython.int
        self.c8 = ((self.c8 << 8) | (self.c4 >> 24)) & MASK32
        self.c4 = ((self.c4 << 8) | c) & MASK32
        self.c0 = 1
        self.bitpos = 0
        # Words: letters, case folded, hashed; a non-letter ends the word.
        lc = c + 32 if 65 <= c <= 90 else c
        if 97 <= lc <= 122 or c >= 128:
            self.word = _hash(self.word, lc)
        elif self.word != 0:
            self.word1 = self.word
            self.word = 0
        # Records: a byte value seen at 3 equal distances suggests that period.
        r = p - self.cpos[c]
        if (r > 1 and r == self.cpos[c] - self.cpos[256 + c]
                and r == self.cpos[256 + c] - self.cpos[512 + c]):
            if r == self.rlen1:
                self.rcount1 += 1
            elif r == self.rlen2:
                self.rcount2 += 1
            elif self.rcount1 > self.rcount2:
                self.rlen2 = r
                self.rcount2 = 1
            else:
                self.rlen1 = r
                self.rcount1 = 1
        if self.rcount1 > RECORD_MIN and self.rlen != self.rlen1:
            self.rlen = self.rlen1
            self.rcount1 = 0
            self.rcount2 = 0
        if self.rcount2 > RECORD_MIN and self.rlen != self.rlen2:
            self.rlen = self.rlen2
            self.rcount1 = 0
            self.rcount2 = 0
        self.cpos[512 + c] = self.cpos[256 + c]
        self.cpos[256 + c] = self.cpos[c]
        self.cpos[c] = p
        # The match model.
        if self.mlen > 0:  # the whole byte was predicted (else mlen is 0 by now)
            self.mlen = min(self.mlen + 1, MATCH_MAX)
            self.mptr += 1
        h = _hash(self.c4, self.c8 & 0xFFFF) & self.mmask
        if self.mlen == 0 and p >= MATCH_MIN:
            cand = self.mtable[h]
            if cand > 0:
                n = 0
                while (n < MATCH_VERIFY and n < cand
                       and self.data[cand - 1 - n] == self.data[p - 1 - n]):
                    n += 1
                if n >= MATCH_MIN:
                    self.mlen = n
                    self.mptr = cand
        if p >= MATCH_MIN:
            self.mtable[h] = p
        if self.mlen > 0:
            self.mbyte = self.data[self.mptr]
        self._contexts(p)

    @cython.cfunc
    @cython.nogil
    @cython.exceptval(check=False)
    def _contexts(self, p: cython.Py_ssize_t) -> cython.void:
        """The contexts of the hashed models and of the second APM for the byte at p."""
        above: cython.ulonglong
        above2: cython.ulonglong
        above = self.data[p - self.rlen] if 0 < self.rlen <= p else 0
        above2 = self.data[p - 2 * self.rlen] if 0 < 2 * self.rlen <= p else 0
        self.keys[0] = _hash(1, self.c4 & 0xFFFF)
        self.keys[1] = _hash(2, self.c4 & 0xFFFFFF)
        self.keys[2] = _hash(3, self.c4)
        self.keys[3] = _hash(_hash(4, self.c4), self.c8 & 0xFFFF)
        self.keys[4] = _hash(_hash(5, self.word), self.c4 & 0xFF)
        self.keys[5] = _hash(_hash(6, self.word), self.word1)
        if self.nh > LEVEL1:
            self.keys[6] = _hash(7, (self.c4 >> 8) & 0xFFFF)
            self.keys[7] = _hash(_hash(10, self.rlen), above | (above2 << 8))
        if self.nh > LEVEL2:
            self.keys[8] = _hash(_hash(11, self.rlen), above | ((self.c4 & 0xFF) << 8))
            self.keys[9] = _hash(_hash(13, self.c4), self.c8)
            self.keys[10] = _hash(14, self.c4 & BYTES_34)
            self.keys[11] = _hash(_hash(15, self.word), self.c4 & 0xFFFF)
            self.keys[12] = _hash(_hash(16, self.rlen),
                                  (p % self.rlen) if self.rlen > 0 else 0)
        if self.version == 1:
            self.apm_ctx2 = cython.cast(
                cython.Py_ssize_t, (_hash(17, self.c4 & 0xFFFFFF) >> (32 - APM2_HASH_BITS)) << 8)
        self._nibble()
        self._prefetch_apms()


@cython.boundscheck(False)
@cython.wraparound(False)
@cython.cfunc
def _code_block(coder: Coder, model: Model, out: cython.uchar[:]) -> cython.Py_ssize_t:
    """Code the model's data byte by byte, one loop for both directions: encoding, the bytes it
    holds; decoding, the bytes decoded, written to `out` (the buffer the model's data views).
    Return how many bytes were coded: fewer than the size only when the payload is corrupt."""
    i: cython.Py_ssize_t
    symbol: cython.int
    coded: cython.Py_ssize_t = model.size
    with cython.nogil:
        for i in range(model.size):
            symbol = model.code_byte(coder, model.data[i] if encoding(coder) else 0)
            if not encoding(coder):
                if decoding_failed(coder):
                    coded = i
                    break
                out[i] = symbol
            model.update(symbol, i)
    return coded


@cython.ccall
def encode(data: cython.const[cython.uchar][:], level: cython.int,
           memory: cython.Py_ssize_t, version: cython.int) -> bytes:
    """Code every byte of `data` with the model of `level` in `memory` bytes, as payload
    `version` (1 or 2) codes it."""
    coder: RangeEncoder = RangeEncoder(len(data) // 2 + 64)
    model: Model = Model(data, level, memory, version)
    unused: cython.uchar[:] = bytearray()  # an encoder writes no bytes out
    code_size(coder, len(data), SIZE_LENGTH_BITS)
    _code_block(coder, model, unused)
    return coder.finish()


@cython.ccall
def decode(payload: cython.const[cython.uchar][:], size: cython.Py_ssize_t,
           level: cython.int, memory: cython.Py_ssize_t, version: cython.int) -> bytes:
    """The inverse of encode: `size` bytes, or CodecError."""
    out = bytearray(size)
    written: cython.uchar[:] = out
    coder: RangeDecoder = RangeDecoder(payload)
    model: Model
    if code_size(coder, 0, SIZE_LENGTH_BITS) != size:
        raise CodecError(f"cm: the payload codes a block of another size than {size}")
    model = Model(out, level, memory, version)
    if _code_block(coder, model, written) < size:
        coder.corrupt = True
    coder.finish()  # raises CodecError unless the payload ended exactly after the last
    return bytes(out)
