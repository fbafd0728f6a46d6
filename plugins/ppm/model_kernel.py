"""The PPM model: coding each byte under the context trie, with escapes as binary decisions.

Every byte is predicted by the longest context (the bytes before it) that the model knows,
falling back to shorter ones ("escaping") when that context has not seen the byte, with the
bytes already refused excluded. The trie and its update rules follow Shkarin's PPMII (PPMd
var.H/I); escapes are coded as binary decisions under adaptive secondary estimates (SEE), as in
PPMZ. docs/ppm.md explains it all with a worked example. One module per idea:
- trie_kernel: the context trie (storage, memory limit, how it learns a byte; the inline
  functions of trie_kernel.pxd read its records);
- match_kernel: the match model, a feature of the estimates;
- this module: coding one byte (`Model.code_byte`, one loop for the encoder and the decoder,
  over a Coder, encoder or decoder) and the estimates of its binary decisions.

Coding a byte starts from `maxctx` (the longest context known to match): binary contexts and
escapes are binary decisions under a first estimate (a counter cell chosen by features: SEE;
in the first context tried, also "is it the most frequent state?"), refined by two more counters
and a logistic mixer unless the first estimate is confident; the byte is then coded by the
frequencies of the states not excluded, or uniformly at order -1. After each byte (`update`)
the history, the match model and the trie learn it.

The payload and every rule of the model both sides compute (the tables' indices, initial values
and rounding; the counters and the mixer are coding.md's) are specified in spec/codecs/ppm.md.
"""
from array import array

import cython

from archiver.errors import CodecError
from pyarc_plugins.coding.counters_inline import counter_rates
from pyarc_plugins.coding.mixer_inline import mix_weights, squash_table, stretch_table

if cython.compiled:
    from cython.cimports.pyarc_plugins.coding.counters_inline import counter_learn, counter_p
    from cython.cimports.pyarc_plugins.coding.mixer_inline import (
        mix_dot,
        mix_error,
        mix_learn,
        squash,
        stretch,
    )
    from cython.cimports.pyarc_plugins.coding.rangecoder_inline import (
        Coder,
        code_bit,
        code_range,
        code_size,
        code_target,
        decoding_failed,
        encoding,
    )
    from cython.cimports.pyarc_plugins.coding.rangecoder_kernel import (
        RangeDecoder,
        RangeEncoder,
    )
    from cython.cimports.pyarc_plugins.ppm.match_kernel import MatchModel
    from cython.cimports.pyarc_plugins.ppm.trie_kernel import (
        Trie,
        child,
        count,
        freq,
        order,
        prefetch_context,
        stats,
        suffix,
        summ,
        sym,
    )
else:
    from pyarc_plugins.coding.counters_inline import counter_learn, counter_p
    from pyarc_plugins.coding.mixer_inline import mix_dot, mix_error, mix_learn, squash, stretch
    from pyarc_plugins.coding.rangecoder_inline import (
        Coder,
        code_bit,
        code_range,
        code_size,
        code_target,
        decoding_failed,
        encoding,
    )
    from pyarc_plugins.coding.rangecoder_kernel import RangeDecoder, RangeEncoder
    from pyarc_plugins.ppm.match_kernel import MatchModel
    from pyarc_plugins.ppm.trie_inline import child, count, freq, order, stats, suffix, summ, sym
    from pyarc_plugins.ppm.trie_kernel import Trie

    def prefetch_context(heap, c):  # a hint to the CPU's cache; nothing to do in pure Python
        pass

#: Probabilities of escape are kept with PROB_BITS bits and coded with CODE_BITS, as the range
#: coder's code_bit takes them (a binary decision needs no division).
PROB_BITS = cython.declare(cython.const[cython.int], 22)
CODE_BITS = cython.declare(cython.const[cython.int], 16)
#: Every estimate is a counter (coding.md, "Counters") of start 16: it moves 1/(n + 8) of the
#: way to each outcome at its n-th use, then 1/(LIMIT + 8): fast to learn, then stable.
RATE_START = cython.declare(cython.const[cython.int], 16)
SEE_LIMIT = cython.declare(cython.const[cython.int], 255)  # also the BIN and MPS cells'
APM_LIMIT = cython.declare(cython.const[cython.int], 100)
PAIR_LIMIT = cython.declare(cython.const[cython.int], 60)
#: A decision whose first estimate of the escape (or of missing the most frequent state) is
#: below REFINE_MIN / 2**PROB_BITS (1/64) is coded with it as it is: refining such confident
#: estimates changed no total on Calgary in the fourth digit and took 2% of the instructions.
REFINE_MIN = cython.declare(cython.const[cython.int], 1 << 16)
#: The mixer (coding.md, "Mixer") of three inputs; a weight moves by error (PROB_BITS) x input
#: (stretch units) >> MIX_SHIFT. A set of weights per kind x order 0..6, 7+ x match state.
MIX_INPUTS = cython.declare(cython.const[cython.int], 3)
MIX_SHIFT = cython.declare(cython.const[cython.int], 22)
MIX_ORDERS = cython.declare(cython.const[cython.int], 8)
RUN_MIN = cython.declare(cython.const[cython.int], 12)
SIZE_LENGTH_BITS = cython.declare(cython.const[cython.int], 6)
MATCH_LONG = cython.declare(cython.const[cython.int], 10)  # match_kernel's MATCH_MIN + 2

# The first estimates' cells, one counter table: BIN (binary contexts), SEE (escapes from
# contexts with several states), MPS (the most frequent state), their feature sizes below.
BIN_FREQS = cython.declare(cython.const[cython.int], 32)
BIN_SIZE = cython.declare(cython.const[cython.Py_ssize_t], 32 * 4 * 2 * 4 * 2 * 3 * 2 * 4)
SEE_SIZE = cython.declare(cython.const[cython.Py_ssize_t], 12 * 8 * 3 * 2 * 2 * 2 * 2)
MPS_SIZE = cython.declare(cython.const[cython.Py_ssize_t], 17 * 12 * 4 * 4)
SEE_BASE = cython.declare(cython.const[cython.Py_ssize_t], 32 * 4 * 2 * 4 * 2 * 3 * 2 * 4)
MPS_BASE = cython.declare(cython.const[cython.Py_ssize_t],
                          32 * 4 * 2 * 4 * 2 * 3 * 2 * 4 + 12 * 8 * 3 * 2 * 2 * 2 * 2)
APM_LEVELS = cython.declare(cython.const[cython.Py_ssize_t], 30)


def _bucket_table():
    # Number of symbols -> one of 12 buckets (finer for few symbols).
    edges = [1, 2, 3, 4, 5, 7, 10, 15, 23, 37, 65, 129, 257]
    table = array("B", bytes(257))
    for b in range(12):
        for n in range(edges[b], edges[b + 1]):
            table[n] = b
    return table


def _level_table():
    # Probability >> 8 (14 bits) -> its half-octave: 2 * bit length + the bit below the top.
    table = bytearray(1 << 14)
    for x in range(1, 1 << 14):
        n = x.bit_length()
        table[x] = 2 * n + ((x >> (n - 2)) & 1 if n >= 2 else 0)
    return table


assert SEE_BASE == BIN_SIZE and MPS_BASE == BIN_SIZE + SEE_SIZE
_COUNT_BUCKET = _bucket_table()
_LEVELS = _level_table()
_RATES = counter_rates(RATE_START, SEE_LIMIT)
_SQUASH = squash_table(PROB_BITS)
_STRETCH = stretch_table(_SQUASH, PROB_BITS)


@cython.boundscheck(False)
@cython.wraparound(False)
@cython.cdivision(True)
@cython.initializedcheck(False)
@cython.final
@cython.cclass
class Model:
    size: cython.Py_ssize_t
    data: cython.const[cython.uchar][:]
    trie: Trie
    heap: cython.int[::1]  # the trie's heap (a copy of the view, one load less in the hot loops)
    match: MatchModel
    # Estimates: counter cells (coding.md, "Counters") and their rates
    cells: cython.uint[::1]  # the first estimates: BIN, SEE, MPS
    apm: cython.uint[::1]  # by kind, byte and the first estimate's level
    pair: cython.uint[::1]  # by kind, byte and the byte before it
    rates: cython.uint[::1]
    level: cython.uchar[::1]
    bucket: cython.uchar[::1]
    # The mixer of the last refined decision: its weight set, inputs and output
    mix_w: cython.longlong[::1]
    mix_in: cython.int[::1]
    squash_table: cython.int[::1]
    stretch_table: cython.short[::1]
    apm_idx: cython.Py_ssize_t
    pair_idx: cython.Py_ssize_t
    mix_idx: cython.Py_ssize_t
    mix_p: cython.int
    refined: cython.bint  # whether the last decision went through _refine's estimates
    # Exclusion: sym is masked while mask[sym] == stamp
    mask: cython.uint[::1]
    stamp: cython.uint
    # History
    maxctx: cython.int
    prev_sym: cython.int
    prev_sym2: cython.int
    prev_success: cython.int
    run: cython.int
    # Results of the last coded byte, for update
    first_ctx: cython.int
    found_ctx: cython.int
    found_state: cython.int

    def __init__(self, data, max_order: cython.int, memory: cython.Py_ssize_t):
        self.data = data
        self.size = len(data)
        self.trie = Trie(data, max_order, memory)
        self.heap = self.trie.heap
        self.match = MatchModel(data)
        self.cells = array("I", [0]) * (BIN_SIZE + SEE_SIZE + MPS_SIZE)
        self.apm = array("I", [0]) * (3 * 256 * APM_LEVELS)
        self.pair = array("I", [0]) * (2 * 256 * 256)
        self.rates = _RATES
        self.level = _LEVELS
        self.bucket = _COUNT_BUCKET
        self.mix_w = mix_weights(3 * MIX_ORDERS * 3, MIX_INPUTS)
        self.mix_in = array("i", [0]) * MIX_INPUTS
        self.squash_table = _SQUASH
        self.stretch_table = _STRETCH
        self.mask = array("I", [0]) * 256
        self.stamp = 0
        self.maxctx = 0  # the root
        self.prev_sym = 0
        self.prev_sym2 = 0
        self.prev_success = 0
        self.run = 0

    # -----------------------------------------------------------------------------------------
    # The estimates of a binary decision

    @cython.cfunc
    @cython.inline
    @cython.nogil
    @cython.exceptval(check=False)
    def _decide(self, coder: Coder, cell: cython.Py_ssize_t, kind: cython.int,
                byte: cython.int, c: cython.int, bit: cython.uint) -> cython.uint:
        """Code a decision of `kind` in context c (bit 0: the escape, or the miss of the most
        frequent state) under the first estimate `cells[cell]`, refined, and teach the
        estimates the outcome. Return the bit (when decoding, the bit decoded)."""
        p: cython.uint = self._refine(counter_p(self.cells[cell]), kind, byte, c)
        bit = code_bit(coder, p >> (PROB_BITS - CODE_BITS), bit)
        if self.refined:
            self.apm[self.apm_idx] = counter_learn(self.apm[self.apm_idx], bit, self.rates,
                                                   APM_LIMIT, PROB_BITS)
            self.pair[self.pair_idx] = counter_learn(self.pair[self.pair_idx], bit, self.rates,
                                                     PAIR_LIMIT, PROB_BITS)
            mix_learn(self.mix_w, self.mix_idx, self.mix_in, MIX_INPUTS,
                      mix_error(self.mix_p, bit, PROB_BITS), MIX_SHIFT)
        self.cells[cell] = counter_learn(self.cells[cell], bit, self.rates, SEE_LIMIT, PROB_BITS)
        return bit

    @cython.cfunc
    @cython.nogil
    @cython.exceptval(check=False)
    def _refine(self, p: cython.uint, kind: cython.int, byte: cython.int,
                c: cython.int) -> cython.uint:
        """The final estimate of a decision of `kind` (0: binary context, 1: escape, 2: most
        frequent state) whose first estimate is `p`. Two more counters learn: for `byte` and
        `p` on a log scale (half-octave steps), and for `byte` and the byte before it (for
        escapes, `byte` is the previous byte: then the two previous bytes); the mixer (a weight
        set per kind, order of the context c and state of the match model: none, short, long)
        weighs the three. A confident first estimate (below REFINE_MIN) stays as it is."""
        a: cython.Py_ssize_t
        q: cython.Py_ssize_t
        w: cython.Py_ssize_t
        self.refined = p >= REFINE_MIN
        if not self.refined:
            # At least one unit of the coder's probability: the counters never go that low,
            # but a zero would break the range coder.
            return max(p, 1 << (PROB_BITS - CODE_BITS))
        a = (kind * 256 + byte) * APM_LEVELS + self.level[p >> 8]
        q = ((kind == 1) * 256 + byte) * 256 + (self.prev_sym2 if kind == 1 else self.prev_sym)
        w = ((kind * MIX_ORDERS + min(order(self.heap, c), MIX_ORDERS - 1)) * 3
             + (self.match.length > 0) + (self.match.length >= MATCH_LONG)) * MIX_INPUTS
        if self.apm[a] == 0:  # a fresh cell starts at the first estimate, n = 0
            self.apm[a] = p << 8
        if self.pair[q] == 0:
            self.pair[q] = p << 8
        self.apm_idx = a
        self.pair_idx = q
        self.mix_idx = w
        self.mix_in[0] = stretch(self.stretch_table, p, PROB_BITS)
        self.mix_in[1] = stretch(self.stretch_table, counter_p(self.apm[a]), PROB_BITS)
        self.mix_in[2] = stretch(self.stretch_table, counter_p(self.pair[q]), PROB_BITS)
        self.mix_p = squash(self.squash_table, mix_dot(self.mix_w, w, self.mix_in, MIX_INPUTS))
        return self.mix_p

    @cython.cfunc
    @cython.inline
    @cython.nogil
    @cython.exceptval(check=False)
    def _match_feature(self, byte: cython.int) -> cython.int:
        """What the match model says of `byte`: 0 nothing (no match), 1 or 2 it predicts it
        (after a short or a long match), 3 it predicts another byte."""
        if self.match.length == 0:
            return 0
        if self.match.sym != byte:
            return 3
        return 1 + (self.match.length >= MATCH_LONG)

    # The first estimates' cells, by features of the context and the history. A fresh cell
    # (0: no counter learns to p = 0) starts at a probability that the context's own counts
    # suggest.

    @cython.cfunc
    @cython.nogil
    @cython.exceptval(check=False)
    def _bin_cell(self, c: cython.int, s: cython.int, masked: cython.int) -> cython.Py_ssize_t:
        """The cell of the escape from binary context c (its state s)."""
        f: cython.int = min(max(freq(self.heap, s), 1), BIN_FREQS)
        sc: cython.int = suffix(self.heap, c)
        ns: cython.int = count(self.heap, sc) if sc >= 0 else 0
        o: cython.int = order(self.heap, c)
        i: cython.Py_ssize_t = f - 1
        i = i * 4 + (0 if ns <= 1 else (1 if ns == 2 else (2 if ns < 12 else 3)))
        i = i * 2 + self.prev_success
        i = i * 4 + (sym(self.heap, s) >= 0x40) * 2 + (self.prev_sym >= 0x40)
        i = i * 2 + masked
        i = i * 3 + (0 if o <= 2 else (1 if o <= 4 else 2))
        i = i * 2 + (self.run >= RUN_MIN)
        i = i * 4 + self._match_feature(sym(self.heap, s))
        if self.cells[i] == 0:  # 2 / (freq + 2)
            self.cells[i] = ((2 << PROB_BITS) // (freq(self.heap, s) + 2)) << 8
        return i

    @cython.cfunc
    @cython.nogil
    @cython.exceptval(check=False)
    def _see_cell(self, c: cython.int, d: cython.int, total: cython.int,
                  masked: cython.int) -> cython.Py_ssize_t:
        """The cell of the escape from context c, where d states not excluded have `total`."""
        mb: cython.int = 0
        sc: cython.int = suffix(self.heap, c)
        i: cython.Py_ssize_t
        # The octave of the mean frequency total / d (0 to 7), without a division.
        while mb < 7 and (d << (mb + 1)) <= total:
            mb += 1
        i = self.bucket[d]
        i = i * 8 + mb
        i = i * 3 + min(order(self.heap, c), 2)
        i = i * 2 + (masked > 0)
        i = i * 2 + (masked > d)
        i = i * 2 + (self.prev_sym >= 0x40)
        i = i * 2 + (sc >= 0 and d < count(self.heap, sc) - count(self.heap, c))
        i += SEE_BASE
        if self.cells[i] == 0:
            # 3d / (total + 3d): method C's estimate with each new symbol counted thrice
            # (measured: new feature cells are met early, when escapes abound).
            self.cells[i] = cython.cast(cython.uint, (cython.cast(cython.longlong, 3 * d)
                                                      << PROB_BITS) // (total + 3 * d)) << 8
        return i

    @cython.cfunc
    @cython.nogil
    @cython.exceptval(check=False)
    def _mps_cell(self, c: cython.int, d: cython.int, f1: cython.int,
                  total: cython.int) -> cython.Py_ssize_t:
        """The cell of the estimate that the byte is not the context's first (most frequent)
        state, by that state's share and count and the number of states (more features, such
        as the order, measured worse: the cells learn too slowly)."""
        i: cython.Py_ssize_t = ((f1 * 16) // total) * 12 + self.bucket[d]
        i = i * 4 + (f1 >= 8) + (f1 >= 24) + (f1 >= 64)
        i = i * 4 + self._match_feature(sym(self.heap, stats(self.heap, c)))
        i += MPS_BASE
        if self.cells[i] == 0:  # the other states' share
            self.cells[i] = cython.cast(cython.uint, (cython.cast(cython.longlong, total - f1)
                                                      << PROB_BITS) // total) << 8
        return i

    # -----------------------------------------------------------------------------------------
    # Coding one byte

    @cython.cfunc
    @cython.nogil
    @cython.exceptval(check=False)
    def code_byte(self, coder: Coder, symbol: cython.int) -> cython.int:
        """Encoding: code `symbol` and return it. Decoding: return the byte decoded (`symbol`
        is not read), or -1 when the payload proves corrupt (every byte value excluded)."""
        c: cython.int = self.maxctx
        n: cython.int
        s: cython.int
        first: cython.int
        d: cython.int
        total: cython.int
        cum: cython.int
        masked: cython.int = 0
        j: cython.int
        f1: cython.int
        target: cython.uint
        stamp: cython.uint
        encoder: cython.bint = encoding(coder)
        if not encoder:
            symbol = -1  # no state matches it: the decisions decide
        self.stamp += 1
        if self.stamp == 0:  # wrapped: clear the mask once every 2**32 bytes
            for j in range(256):
                self.mask[j] = 0
            self.stamp = 1
        stamp = self.stamp
        self.first_ctx = c
        self.found_ctx = -1
        self.found_state = -1  # encoding, set as soon as the byte's state is seen
        while c >= 0:
            prefetch_context(self.heap, suffix(self.heap, c))  # the escape features read it
            n = count(self.heap, c)
            first = stats(self.heap, c)
            if n == 1:
                if self.mask[sym(self.heap, first)] != stamp:
                    if self._decide(coder, self._bin_cell(c, first, masked > 0), 0,
                                    sym(self.heap, first), c, sym(self.heap, first) == symbol):
                        self.found_ctx = c
                        self.found_state = first
                        return sym(self.heap, first)
                    self.mask[sym(self.heap, first)] = stamp
                    masked += 1
            elif n > 1:
                # The d states not excluded and their total; the encoder also finds its byte's
                # state and where its interval starts (cum).
                cum = 0
                if masked == 0:  # nothing excluded yet: the totals are known
                    d = n
                    total = summ(self.heap, c)
                    if encoder:
                        for s in range(first, first + n):
                            if sym(self.heap, s) == symbol:
                                self.found_state = s
                                break
                            cum += freq(self.heap, s)
                else:
                    d = 0
                    total = 0
                    for s in range(first, first + n):
                        if self.mask[sym(self.heap, s)] != stamp:
                            if sym(self.heap, s) == symbol:
                                cum = total
                                self.found_state = s
                            d += 1
                            total += freq(self.heap, s)
                if d > 0:
                    if self._decide(coder, self._see_cell(c, d, total, masked), 1,
                                    self.prev_sym, c, self.found_state >= 0):
                        s = self.found_state
                        if masked == 0:  # first, is it the most frequent state?
                            f1 = freq(self.heap, first)
                            if self._decide(coder, self._mps_cell(c, d, f1, total), 2,
                                            sym(self.heap, first), c, s == first):
                                s = first
                            else:
                                s = self._code_freq(coder, s, cum - f1, first + 1, first + n,
                                                    total - f1, stamp)
                        else:
                            s = self._code_freq(coder, s, cum, first, first + n, total, stamp)
                        self.found_ctx = c
                        self.found_state = s
                        return sym(self.heap, s)
                    for s in range(first, first + n):
                        self.mask[sym(self.heap, s)] = stamp
                    masked += d
            c = suffix(self.heap, c)
        # Order -1: every byte value not excluded, equally likely.
        if masked >= 256:  # every byte excluded: no encoder writes this
            return -1
        target = code_target(coder, 256 - masked)
        cum = 0
        for j in range(256):
            if self.mask[j] != stamp:
                if (j == symbol) if encoder else (cum == cython.cast(cython.int, target)):
                    break
                cum += 1
        code_range(coder, cum, 1, 256 - masked)
        return j

    @cython.cfunc
    @cython.nogil
    @cython.exceptval(check=False)
    def _code_freq(self, coder: Coder, s: cython.int, cum: cython.int, lo: cython.int,
                   hi: cython.int, total: cython.int, stamp: cython.uint) -> cython.int:
        """Code the state s, whose interval among the states lo .. hi - 1 not excluded starts
        at cum, of `total`. Decoding (s and cum unknown), find the state whose interval holds
        the value decoded. Return the state."""
        target: cython.uint = code_target(coder, total)
        if not encoding(coder):
            cum = 0
            for s in range(lo, hi):
                if self.mask[sym(self.heap, s)] != stamp:
                    if cum + freq(self.heap, s) > target:
                        break
                    cum += freq(self.heap, s)
        code_range(coder, cum, freq(self.heap, s), total)
        return s

    @cython.cfunc
    @cython.nogil
    @cython.exceptval(check=False)
    def update(self, symbol: cython.int, pos: cython.Py_ssize_t) -> cython.void:
        """Learn data[pos] == symbol (just coded) and move to the context of pos + 1."""
        if self.found_state >= 0:  # fetch the next context while the update works
            prefetch_context(self.heap, child(self.heap, self.found_state))
        self.match.start(symbol, pos)
        self.prev_success = self.found_ctx == self.first_ctx
        self.run = self.run + 1 if self.prev_success else 0
        self.prev_sym2 = self.prev_sym
        self.prev_sym = symbol
        self.maxctx = self.trie.learn(symbol, pos, self.first_ctx, self.found_ctx,
                                      self.found_state)
        if self.heap.shape[0] != self.trie.heap.shape[0]:  # the trie moved to a larger heap
            self.heap = self.trie.heap
        self.match.finish(pos)


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
            symbol = model.code_byte(coder, model.data[i])
            if not encoding(coder):
                if symbol < 0 or decoding_failed(coder):
                    coded = i
                    break
                out[i] = symbol
            model.update(symbol, i)
    return coded


@cython.ccall
def encode(data: cython.const[cython.uchar][:], max_order: cython.int,
           memory: cython.Py_ssize_t) -> bytes:
    """Code every byte of `data` with the PPM model of `max_order` and `memory` bytes."""
    coder: RangeEncoder = RangeEncoder(len(data) // 2 + 64)
    model: Model = Model(data, max_order, memory)
    unused: cython.uchar[:] = bytearray()  # an encoder writes no bytes out
    code_size(coder, len(data), SIZE_LENGTH_BITS)
    _code_block(coder, model, unused)
    return coder.finish()


def statistics(data, max_order: cython.int, memory: cython.Py_ssize_t) -> dict:
    """Code `data` as encode() does and report the model's size: contexts, state slots, the
    bytes their arrays hold, and how often the model restarted because memory was full."""
    model: Model = Model(data, max_order, memory)
    coder: RangeEncoder = RangeEncoder(len(data) // 2 + 64)
    unused: cython.uchar[:] = bytearray()
    _code_block(coder, model, unused)
    return {"units": model.trie.nunits, "restarts": model.trie.restarts,
            "array_bytes": model.trie.unit_capacity * 8,
            "payload_bytes": len(coder.finish())}


@cython.ccall
def decode(payload: cython.const[cython.uchar][:], size: cython.Py_ssize_t,
           max_order: cython.int, memory: cython.Py_ssize_t) -> bytes:
    """The inverse of encode: `size` bytes, or CodecError."""
    out = bytearray(size)
    written: cython.uchar[:] = out
    coder: RangeDecoder = RangeDecoder(payload)
    model: Model
    if code_size(coder, 0, SIZE_LENGTH_BITS) != size:
        raise CodecError(f"ppm: the payload codes a block of another size than {size}")
    model = Model(out, max_order, memory)
    if _code_block(coder, model, written) < size:
        coder.corrupt = True
    coder.finish()  # raises CodecError unless the payload ended exactly after the last
    return bytes(out)
