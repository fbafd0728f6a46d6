"""The default second stage: run flags for most bytes, context-modelled bits for the rest.

In the BWT output most bytes repeat the previous byte (half of them in text, 87% in an image)
or the byte before that run (move-to-front rank 1, 15% in text). So each byte is coded as a
flag "is it c1, the previous byte?", if not a flag "is it c2, the byte before c1's run?", and
if neither its 8 bits under order-0/order-1 models that exclude c1 and c2; a long run is
finished by one count of its remaining bytes. The payload is specified in spec/codecs/bwt.md
(section "Stage runs").

Speed: this stage is the codec's default. Its per-decision work is in this module, where the C
compiler inlines it: the counters and the range coder's one-bit step (RangeEncoder.encode_bit_p,
RangeDecoder.decode_bit_p: the same arithmetic) work on this module's arrays and the coder's
fields, and only a byte in or out calls the coder. Measured on Calgary-14 and left out for
speed: APMs on the flags (0.005 bpc smaller, 20% slower to decode) and on the tree's bits (0.02
bpc, 25%), a logistic mixer for the flags (0.003 bpc, 40%). Without the exclusion of c1 and c2
in the bit tree the Calgary total was 0.06 bits per byte worse.

The model starts the same in both directions and sees the same bytes, so the decoder makes the
encoder's predictions.
"""

from array import array

import cython

if cython.compiled:
    from cython.cimports.pyarc_plugins.coding.rangecoder_inline import decode_bit, encode_bit
    from cython.cimports.pyarc_plugins.coding.rangecoder_kernel import (
        RangeDecoder,
        RangeEncoder,
    )
else:
    from pyarc_plugins.coding.rangecoder_inline import decode_bit, encode_bit
    from pyarc_plugins.coding.rangecoder_kernel import RangeDecoder, RangeEncoder

# Probabilities are of a 0, in units of 2**-16
ONE = cython.declare(cython.const[cython.uint], 1 << 16)
# Coded probabilities: a surprise costs <= 11 bits
MIN_P = cython.declare(cython.const[cython.uint], 32)
MAX_P = cython.declare(cython.const[cython.uint], (1 << 16) - 32)

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
    """The counters, and the history that selects them."""

    counters: cython.uint[::1]  # each counter: its probability of a 0 << 8 | the bits seen
    rates: cython.uint[::1]  # rates[n] = 2**16 / (n + 1.5)
    context0: cython.Py_ssize_t  # the two counters of the current flag
    context1: cython.Py_ssize_t
    c1: cython.Py_ssize_t  # the previous byte
    c2: cython.Py_ssize_t  # the byte before c1's run (not c1, unless the payload is corrupt)
    run: cython.Py_ssize_t  # bytes in a row that equalled the one before
    events: cython.uint  # the kinds of the last four bytes

    def __init__(self):
        self.counters = array("I", [ONE // 2 << 8]) * COUNTERS
        self.rates = array("I", [2 * ONE // (2 * n + 3) for n in range(MAX_LIMIT + 1)])
        self.context0 = 0
        self.context1 = 0
        self.c1 = 0  # as if the block followed 1, 0 (move-to-front's initial order)
        self.c2 = 1
        self.run = 0
        self.events = 0

    # -- counters ---------------------------------------------------------------------------

    @cython.cfunc
    @cython.inline
    @cython.nogil
    @cython.exceptval(check=False)
    def prob(self, index: cython.Py_ssize_t) -> cython.uint:
        """Counter `index`'s probability of a 0, in [1, 2**16 - 1]."""
        return self.counters[index] >> 8

    @cython.cfunc
    @cython.inline
    @cython.nogil
    @cython.exceptval(check=False)
    def learn(self, index: cython.Py_ssize_t, bit: cython.uint, limit: cython.uint) -> cython.void:
        """Move counter `index` towards `bit` at its current rate, then count the bit."""
        n: cython.uint = self.counters[index] & 0xFF
        prob: cython.uint = self.counters[index] >> 8
        rate: cython.uint = self.rates[n]
        if bit:
            prob -= (prob * rate) >> 16
        else:
            prob += ((ONE - prob) * rate) >> 16
        self.counters[index] = prob << 8 | (n + (n < limit))

    @cython.cfunc
    @cython.inline
    @cython.nogil
    @cython.exceptval(check=False)
    def p(self, index: cython.Py_ssize_t) -> cython.uint:
        """Counter `index` alone, as a probability to code with."""
        return min(max(self.prob(index), MIN_P), MAX_P)

    # -- the decisions ----------------------------------------------------------------------

    @cython.cfunc
    @cython.inline
    @cython.nogil
    @cython.exceptval(check=False)
    def p_same(self) -> cython.uint:
        """The probability that the byte is c1 (a 0: the flag is 1 for a byte that is not)."""
        run_class: cython.Py_ssize_t = self.run
        if self.run >= 4:
            run_class = 4 if self.run < 8 else 5  # (run < LONG_RUN here)
        self.context0 = SAME_EVENTS + run_class * EVENTS + self.events
        self.context1 = SAME_BYTE + self.c1 * 4 + min(self.run, 3)
        return self.average()

    @cython.cfunc
    @cython.inline
    @cython.nogil
    @cython.exceptval(check=False)
    def p_second(self) -> cython.uint:
        """The probability that the byte (not c1) is c2 (a 0)."""
        self.context0 = SECOND_EVENTS + self.events
        self.context1 = SECOND_BYTES + self.c1 * 256 + self.c2
        return self.average()

    @cython.cfunc
    @cython.inline
    @cython.nogil
    @cython.exceptval(check=False)
    def average(self) -> cython.uint:
        """The average of the current flag's two counters, as a probability to code with."""
        return min(max((self.prob(self.context0) + self.prob(self.context1)) >> 1, MIN_P), MAX_P)

    @cython.cfunc
    @cython.inline
    @cython.nogil
    @cython.exceptval(check=False)
    def learn_flag(self, bit: cython.uint) -> cython.void:
        """Update the models of the flag just coded (same? or second?)."""
        self.learn(self.context0, bit, FLAG_LIMIT)
        self.learn(self.context1, bit, FLAG_LIMIT)

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
    def p_bit(self, node: cython.Py_ssize_t, exclusion: cython.Py_ssize_t) -> cython.uint:
        """The probability that the decision at `node` of the byte's tree is a 0."""
        mixed: cython.uint = (7 * self.prob(ORDER0 + exclusion * 256 + node)
                              + 6 * self.prob(ORDER1 + self.c1 * 256 + node)
                              + 3 * self.prob(ORDER1 + self.c2 * 256 + node)) >> 4
        return min(max(mixed, MIN_P), MAX_P)

    @cython.cfunc
    @cython.inline
    @cython.nogil
    @cython.exceptval(check=False)
    def learn_bit(self, node: cython.Py_ssize_t, exclusion: cython.Py_ssize_t,
                  bit: cython.uint) -> cython.void:
        self.learn(ORDER0 + exclusion * 256 + node, bit, ORDER0_LIMIT)
        self.learn(ORDER1 + self.c1 * 256 + node, bit, ORDER1_LIMIT)

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


@cython.cfunc
@cython.inline
@cython.nogil
@cython.exceptval(check=False)
def _encode_count(coder: RangeEncoder, model: _Model, count: cython.Py_ssize_t) -> cython.void:
    """Code count >= 0 (Elias gamma, with adaptive models): the bit length of count + 1 in
    unary, then its bits below the top one, high first."""
    value: cython.Py_ssize_t = count + 1
    length: cython.int = 1
    j: cython.int
    bit: cython.uint
    while value >> length:
        length += 1
    for j in range(1, length):
        encode_bit(coder, model.p(COUNT_LENGTH + j), 1)
        model.learn(COUNT_LENGTH + j, 1, FLAG_LIMIT)
    if length < MAX_COUNT_BITS:
        encode_bit(coder, model.p(COUNT_LENGTH + length), 0)
        model.learn(COUNT_LENGTH + length, 0, FLAG_LIMIT)
    for j in range(length - 2, -1, -1):
        bit = (value >> j) & 1
        encode_bit(coder, model.p(COUNT_BITS + length * 32 + j), bit)
        model.learn(COUNT_BITS + length * 32 + j, bit, FLAG_LIMIT)


@cython.cfunc
@cython.inline
@cython.nogil
@cython.exceptval(check=False)
def _decode_count(coder: RangeDecoder, model: _Model) -> cython.Py_ssize_t:
    """The count that _encode_count coded."""
    value: cython.Py_ssize_t = 1
    length: cython.int = 1
    j: cython.int
    bit: cython.uint
    while length < MAX_COUNT_BITS:
        bit = decode_bit(coder, model.p(COUNT_LENGTH + length))
        model.learn(COUNT_LENGTH + length, bit, FLAG_LIMIT)
        if bit == 0:
            break
        length += 1
    if length == MAX_COUNT_BITS:  # no encoder writes it (a count is below 2**26), and the
        coder.corrupt = True      # table has no row for it: stop before reading past its end
        return 0
    for j in range(length - 2, -1, -1):
        bit = decode_bit(coder, model.p(COUNT_BITS + length * 32 + j))
        model.learn(COUNT_BITS + length * 32 + j, bit, FLAG_LIMIT)
        value = 2 * value + bit
    return value - 1


@cython.boundscheck(False)  # i < size; the model's indices are in range by construction
@cython.wraparound(False)
@cython.ccall
def encode(data: cython.const[cython.uchar][:]) -> bytes:
    """Code the bytes; the decoder needs their number."""
    size: cython.Py_ssize_t = len(data)
    model: _Model = _Model()
    coder: RangeEncoder = RangeEncoder(size // 3 + 64)
    i: cython.Py_ssize_t = 0
    count: cython.Py_ssize_t
    byte: cython.Py_ssize_t
    bit: cython.uint
    node: cython.Py_ssize_t
    k: cython.int
    exclusion: cython.Py_ssize_t
    after_run: cython.bint = False  # the byte follows a counted run: it is not c1
    with cython.nogil:
        while i < size:
            byte = data[i]
            i += 1
            if not after_run:
                bit = byte != model.c1
                encode_bit(coder, model.p_same(), bit)
                model.learn_flag(bit)
                if bit == 0:
                    model.push(byte, SAME)
                    if model.run == LONG_RUN:
                        count = 0
                        while i + count < size and data[i + count] == byte:
                            count += 1
                        _encode_count(coder, model, count)
                        i += count
                        after_run = True
                    continue
            after_run = False
            bit = byte != model.c2
            encode_bit(coder, model.p_second(), bit)
            model.learn_flag(bit)
            if bit == 0:
                model.push(byte, SECOND)
                continue
            node = 1
            for k in range(7, -1, -1):
                bit = (byte >> k) & 1
                exclusion = model.exclusion(node, k)
                if k > 0 or exclusion == 0:  # (else c1 or c2 is the other leaf: bit is known)
                    encode_bit(coder, model.p_bit(node, exclusion), bit)
                    model.learn_bit(node, exclusion, bit)
                node = 2 * node + bit
            model.push(byte, OTHER)
    return coder.finish()


@cython.boundscheck(False)  # i < size = len(out), count <= size - i; the model's indices
@cython.wraparound(False)  # are in range by construction
@cython.ccall
def decode(payload: cython.const[cython.uchar][:], size: cython.Py_ssize_t) -> bytes:
    """The `size` bytes that encode coded; CodecError if the payload does not end with them."""
    out = bytearray(size)
    data: cython.uchar[::1] = out
    model: _Model = _Model()
    coder: RangeDecoder = RangeDecoder(payload)
    i: cython.Py_ssize_t = 0
    j: cython.Py_ssize_t
    count: cython.Py_ssize_t
    byte: cython.Py_ssize_t
    event: cython.uint
    bit: cython.uint
    k: cython.int
    exclusion: cython.Py_ssize_t
    after_run: cython.bint = False
    with cython.nogil:
        while i < size:
            if not after_run and decode_bit(coder, model.p_same()) == 0:
                model.learn_flag(0)
                byte = model.c1
                event = SAME
            else:
                if not after_run:
                    model.learn_flag(1)
                after_run = False
                if decode_bit(coder, model.p_second()) == 0:
                    model.learn_flag(0)
                    byte = model.c2
                    event = SECOND
                else:
                    model.learn_flag(1)
                    byte = 1
                    for k in range(7, -1, -1):
                        exclusion = model.exclusion(byte, k)
                        if k > 0 or exclusion == 0:
                            bit = decode_bit(coder, model.p_bit(byte, exclusion))
                            model.learn_bit(byte, exclusion, bit)
                        elif exclusion >= 3:  # the leaf that is not c1
                            bit = 2 - exclusion // 3
                        else:  # the leaf that is not c2
                            bit = 2 - exclusion
                        byte = 2 * byte + bit
                    byte -= 256
                    event = OTHER
            data[i] = byte
            i += 1
            model.push(byte, event)
            if (i & (CHECK_EVERY - 1)) == 0 and coder.failed():  # garbage stops soon
                break
            if model.run == LONG_RUN and event == SAME:
                count = _decode_count(coder, model)
                if count > size - i or coder.failed():
                    coder.corrupt = True
                    break
                for j in range(i, i + count):
                    data[j] = byte
                i += count
                after_run = True
    coder.finish()  # raises CodecError unless the payload ended exactly after the last byte
    return bytes(out)
