"""The default second stage: run flags for most bytes, context-modelled bits for the rest.

In the BWT output most bytes repeat the previous byte (half of them in text, 87% in an image)
or the byte before that run (move-to-front rank 1, 15% in text). So each byte is coded as a
flag "is it c1, the previous byte?", if not a flag "is it c2, the byte before c1's run?", and
if neither its 8 bits under order-0/order-1 models that exclude c1 and c2; a long run is
finished by one count of its remaining bytes. The payload is specified in spec/codecs/bwt.md
(section "Stage runs").

Speed: this stage is the codec's default. Its per-decision work compiles into this module's
coding loop, where the C compiler inlines it: the counters (coding/counters_inline) work on this
module's array and the range coder's one-bit step (coding/rangecoder_inline's code_bit, through
stage_inline's code_decision) on the coder's fields, and only a byte in or out calls the coder.
Measured on Calgary-14 and left out for speed: APMs on the flags (0.005 bpc smaller, 20% slower
to decode) and on the tree's bits (0.02 bpc, 25%), a logistic mixer for the flags (0.003 bpc,
40%). Without the exclusion of c1 and c2
in the bit tree the Calgary total was 0.06 bits per byte worse.

The sequence of decisions is written once for both directions (`code`, over a
rangecoder_inline.Coder: compiled once for the encoder and once for the decoder): the model starts
the same in both and sees the same bytes, so the decoder makes the encoder's predictions.
"""

import cython

from pyarc_plugins.coding.counters_inline import counter_rates, counter_table

if cython.compiled:
    from cython.cimports.pyarc_plugins.bwt.stage_inline import code_decision, decoding_corrupt
    from cython.cimports.pyarc_plugins.coding.counters_inline import counter_learn, counter_p
    from cython.cimports.pyarc_plugins.coding.rangecoder_inline import (
        Coder,
        decoding_failed,
        encoding,
    )
else:
    from pyarc_plugins.bwt.stage_inline import code_decision, decoding_corrupt
    from pyarc_plugins.coding.counters_inline import counter_learn, counter_p
    from pyarc_plugins.coding.rangecoder_inline import Coder, decoding_failed, encoding

BITS = cython.declare(cython.const[cython.int], 16)  # the counters' precision

# The kinds of byte, as kept in the event history (2 bits each, the latest lowest).
SAME = cython.declare(cython.const[cython.uint], 0)
SECOND = cython.declare(cython.const[cython.uint], 1)
OTHER = cython.declare(cython.const[cython.uint], 2)
EVENTS = cython.declare(cython.const[cython.uint], 256)  # the last four events
#: A run that reaches this length is finished by one count of its remaining bytes.
LONG_RUN = cython.declare(cython.const[cython.Py_ssize_t], 16)
RUN_CLASSES = cython.declare(cython.const[cython.Py_ssize_t], 6)  # run 0, 1, 2, 3, 4-7, 8-15
MAX_COUNT_BITS = cython.declare(cython.const[cython.int], 32)  # a count + 1 < 2**32
#: The decoder checks for a corrupt stream after each count and every CHECK_EVERY bytes (a
#: power of two).
CHECK_EVERY = cython.declare(cython.const[cython.Py_ssize_t], 64)

# The counters, in one table: offsets of each group, [its contexts].
SAME_EVENTS = cython.declare(cython.const[cython.Py_ssize_t], 0)  # [run class][events]
SAME_BYTE = cython.declare(cython.Py_ssize_t, SAME_EVENTS + RUN_CLASSES * EVENTS)  # [c1][run<=3]
SECOND_EVENTS = cython.declare(cython.Py_ssize_t, SAME_BYTE + 256 * 4)  # [events]
SECOND_BYTES = cython.declare(cython.Py_ssize_t, SECOND_EVENTS + EVENTS)  # [c1][c2]
ORDER0 = cython.declare(cython.Py_ssize_t, SECOND_BYTES + 256 * 256)  # [exclusion][node]
ORDER1 = cython.declare(cython.Py_ssize_t, ORDER0 + 9 * 256)  # [c1][node]
COUNT_LENGTH = cython.declare(cython.Py_ssize_t, ORDER1 + 256 * 256)  # [unary position]
COUNT_BITS = cython.declare(cython.Py_ssize_t, COUNT_LENGTH + 32)  # [bit length][bit]
COUNTERS = cython.declare(cython.Py_ssize_t, COUNT_BITS + 32 * 32)
# A counter moves 1/(n + 1.5) of the way to each bit after n bits, until n reaches its limit.
RATE_START = 3
FLAG_LIMIT = cython.declare(cython.const[cython.uint], 30)
ORDER0_LIMIT = cython.declare(cython.const[cython.uint], 4)
ORDER1_LIMIT = cython.declare(cython.const[cython.uint], 12)
MAX_LIMIT = 30

@cython.boundscheck(False)  # every index is in range by construction (the layout above)
@cython.wraparound(False)
@cython.initializedcheck(False)
@cython.final
@cython.cclass
class _Model:
    """The counters, and the history that selects them. Each code_* method codes one decision
    (or a byte's, or a count's) through the coder and learns it, in either direction: encoding,
    it codes the value given and returns it; decoding, it returns the value decoded."""

    counters: cython.uint[::1]  # counter cells (coding/counters_inline), in the layout above
    rates: cython.uint[::1]  # the counters' steps, up to the largest limit
    c1: cython.Py_ssize_t  # the previous byte
    c2: cython.Py_ssize_t  # the byte before c1's run (not c1, unless the payload is corrupt)
    run: cython.Py_ssize_t  # bytes in a row that equalled the one before
    events: cython.uint  # the kinds of the last four bytes

    def __init__(self):
        self.counters = counter_table(COUNTERS, BITS)
        self.rates = counter_rates(RATE_START, MAX_LIMIT)
        self.c1 = 0  # as if the block followed 1, 0 (move-to-front's initial order)
        self.c2 = 1
        self.run = 0
        self.events = 0

    @cython.cfunc
    @cython.inline
    @cython.nogil
    @cython.exceptval(check=False)
    def learn(self, index: cython.Py_ssize_t, bit: cython.uint, limit: cython.uint) -> cython.void:
        """Move counter `index` towards `bit` at its current rate, then count the bit."""
        self.counters[index] = counter_learn(self.counters[index], bit, self.rates, limit, BITS)

    @cython.cfunc
    @cython.inline
    @cython.nogil
    @cython.exceptval(check=False)
    def code_flag(self, coder: Coder, context0: cython.Py_ssize_t,
                  context1: cython.Py_ssize_t, bit: cython.uint) -> cython.uint:
        """A flag (same? or second?) under the average of two counters, which learn it; with
        context0 = context1, under one counter (a count's bits)."""
        p0: cython.uint = (counter_p(self.counters[context0])
                           + counter_p(self.counters[context1])) >> 1
        bit = code_decision(coder, p0, bit)
        self.learn(context0, bit, FLAG_LIMIT)
        if context1 != context0:
            self.learn(context1, bit, FLAG_LIMIT)
        return bit

    @cython.cfunc
    @cython.inline
    @cython.nogil
    @cython.exceptval(check=False)
    def code_same(self, coder: Coder, bit: cython.uint) -> cython.uint:
        """The flag same?: 0 if the byte is c1, 1 if not."""
        run_class: cython.Py_ssize_t = self.run
        if self.run >= 4:
            run_class = 4 if self.run < 8 else 5  # (run < LONG_RUN here)
        return self.code_flag(coder, SAME_EVENTS + run_class * EVENTS + self.events,
                              SAME_BYTE + self.c1 * 4 + min(self.run, 3), bit)

    @cython.cfunc
    @cython.inline
    @cython.nogil
    @cython.exceptval(check=False)
    def code_second(self, coder: Coder, bit: cython.uint) -> cython.uint:
        """The flag second?: 0 if the byte (not c1) is c2, 1 if not."""
        return self.code_flag(coder, SECOND_EVENTS + self.events,
                              SECOND_BYTES + self.c1 * 256 + self.c2, bit)

    @cython.cfunc
    @cython.inline
    @cython.nogil
    @cython.exceptval(check=False)
    def exclusion(self, node: cython.Py_ssize_t, k: cython.int) -> cython.Py_ssize_t:
        """Where c1 and c2, which the byte is not, lie below `node` (the byte's bits above bit
        k): 3 * side(c1) + side(c2), a side being 0 if not below node, else 1 + its bit k."""
        side1: cython.Py_ssize_t = 0
        side2: cython.Py_ssize_t = 0
        if (self.c1 | 256) >> (k + 1) == node:
            side1 = 1 + ((self.c1 >> k) & 1)
        if (self.c2 | 256) >> (k + 1) == node:
            side2 = 1 + ((self.c2 >> k) & 1)
        return 3 * side1 + side2

    @cython.cfunc
    @cython.inline
    @cython.nogil
    @cython.exceptval(check=False)
    def code_byte(self, coder: Coder, byte: cython.Py_ssize_t) -> cython.Py_ssize_t:
        """A byte that is neither c1 nor c2, down the bit tree with exclusion."""
        node: cython.Py_ssize_t = 1
        k: cython.int
        exclusion: cython.Py_ssize_t
        order0: cython.Py_ssize_t
        order1: cython.Py_ssize_t
        p0: cython.uint
        bit: cython.uint
        for k in range(7, -1, -1):
            exclusion = self.exclusion(node, k)
            if k > 0 or exclusion == 0:
                order0 = ORDER0 + exclusion * 256 + node
                order1 = ORDER1 + self.c1 * 256 + node
                p0 = (7 * counter_p(self.counters[order0]) + 6 * counter_p(self.counters[order1])
                      + 3 * counter_p(self.counters[ORDER1 + self.c2 * 256 + node])) >> 4
                bit = code_decision(coder, p0, (byte >> k) & 1)
                self.learn(order0, bit, ORDER0_LIMIT)
                self.learn(order1, bit, ORDER1_LIMIT)
            elif exclusion >= 3:  # c1 is the other leaf: the bit leads away from it
                bit = 2 - exclusion // 3
            else:  # c2 is
                bit = 2 - exclusion
            node = 2 * node + bit
        return node - 256

    @cython.cfunc
    @cython.inline
    @cython.nogil
    @cython.exceptval(check=False)
    def code_count(self, coder: Coder, count: cython.Py_ssize_t) -> cython.Py_ssize_t:
        """A count >= 0 (Elias gamma, with adaptive models): the bit length of count + 1 in
        unary (ones ended by a 0), then its bits below the top one, high first. Decoding, -1
        for a length of MAX_COUNT_BITS, which no encoder writes (a count is below 2**26) and
        whose bits the table has no row for."""
        value: cython.Py_ssize_t = count + 1  # (decoding: not known yet, and not used)
        length: cython.int = 1
        j: cython.int
        while length < MAX_COUNT_BITS:
            if self.code_flag(coder, COUNT_LENGTH + length, COUNT_LENGTH + length,
                              (value >> length) != 0) == 0:
                break
            length += 1
        if length == MAX_COUNT_BITS:
            return -1
        count = 1
        for j in range(length - 2, -1, -1):
            count = 2 * count + self.code_flag(coder, COUNT_BITS + length * 32 + j,
                                               COUNT_BITS + length * 32 + j, (value >> j) & 1)
        return count - 1

    @cython.cfunc
    @cython.inline
    @cython.nogil
    @cython.exceptval(check=False)
    def push(self, byte: cython.Py_ssize_t, event: cython.uint) -> cython.void:
        """Enter a coded byte, of kind `event`, into the history."""
        self.events = ((self.events << 2) | event) & (EVENTS - 1)
        if event == SAME:
            self.run += 1
        else:
            self.run = 0
            self.c2 = self.c1
            self.c1 = byte


@cython.boundscheck(False)  # i < size = len(data), count <= size - i; the model's indices are
@cython.wraparound(False)  # in range by construction
@cython.ccall
def code(coder: Coder, data: cython.uchar[::1]) -> cython.void:
    """Code the bytes of `data` with `coder`, a RangeEncoder (data is the input; each byte is
    written back as it was) or a RangeDecoder (data is filled in; the caller then finishes it).
    Decoding stops early once the range decoder has failed (checked every CHECK_EVERY bytes and
    after each count), a count too large for the bytes left setting it corrupt."""
    size: cython.Py_ssize_t = len(data)
    model: _Model = _Model()
    i: cython.Py_ssize_t = 0
    j: cython.Py_ssize_t
    count: cython.Py_ssize_t
    byte: cython.Py_ssize_t
    event: cython.uint
    after_run: cython.bint = False  # the byte follows a counted run: it is not c1
    with cython.nogil:
        while i < size:
            byte = data[i]  # (decoding: not known yet, and not used)
            if not after_run and model.code_same(coder, byte != model.c1) == 0:
                byte = model.c1
                event = SAME
            else:
                after_run = False
                if model.code_second(coder, byte != model.c2) == 0:
                    byte = model.c2
                    event = SECOND
                else:
                    byte = model.code_byte(coder, byte)
                    event = OTHER
            data[i] = byte
            i += 1
            model.push(byte, event)
            if (i & (CHECK_EVERY - 1)) == 0 and decoding_failed(coder):
                break  # (garbage stops soon)
            if model.run == LONG_RUN and event == SAME:
                count = 0
                while encoding(coder) and i + count < size and data[i + count] == byte:
                    count += 1
                count = model.code_count(coder, count)
                if count < 0 or count > size - i or decoding_failed(coder):
                    decoding_corrupt(coder)  # (decoding: an encoder's count fits)
                    break
                for j in range(i, i + count):
                    data[j] = byte
                i += count
                after_run = True
