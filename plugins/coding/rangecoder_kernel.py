"""A range coder (arithmetic coding in integer arithmetic), after LZMA's.

The coder keeps an interval [low, low + width) inside [0, 2**32), narrowed by each coded event
in proportion to its probability. Whenever the top byte of the interval is settled (width below
2**24) that byte is shifted out, so `width` stays in [2**24, 2**32) and the precision loss is at
most 2**-8 of a probability, far below a thousandth of a bit per event in practice.

A carry out of `low` can still change bytes already shifted out; the encoder holds back the last
byte and any run of 0xFF bytes behind it (`cache`, `pending`) until the carry is known. This is
the scheme of LZMA (after Schindler); the older carry-less coders lose some of the range instead.

Four kinds of event, freely mixed in one stream:
- `encode(cum, freq, total)`: a symbol whose probability is freq/total, with cumulative count
  cum, for any model with total <= MAX_TOTAL (see frequencies_kernel);
- `encode_bit(probs, i, bit)`: one bit under the adaptive binary model probs[i] (11-bit
  probability of a zero, moved 1/32 of the way towards each coded bit), and `encode_tree`
  for an n-bit value as a walk down a binary tree of such models (LZMA's "bit tree");
- `encode_bit_p(p0, bit)`: one bit with a probability of a zero p0 / 2**16 that the caller's
  own model computed (see counters_inline), for models finer than 11 bits;
- `encode_direct(value, nbits)`: equiprobable bits.

A model that codes a sequence of decisions writes it once for both directions, over a `Coder`
(a RangeEncoder or a RangeDecoder) and the `code_*` functions of rangecoder_inline: each call
codes the value it is given when encoding and returns the value decoded when decoding.

Termination: the encoder ends with the value inside its final interval that has the most
trailing zero bytes and drops those zeros; the decoder reads zeros past the end of its input and
at the end checks that the payload is the one the encoder writes for what it decoded
(RangeDecoder.finish; the spec notes one exception, in direct bits). Nothing marks the end, so a
payload cut short, extended or changed may still be the exact payload of other data, which the
container's data hash refuses. The first byte LZMA writes is always 0 and is not stored.

The coder's arithmetic, the payload it writes and the decoder's checks are specified in
spec/codecs/coding.md, sections "Range coder" and "Adaptive bit models".
"""

import cython

from archiver.errors import CodecError

if cython.compiled:
    from cython.cimports.pyarc_plugins.coding.bitio_kernel import ByteSink
else:
    from pyarc_plugins.coding.bitio_kernel import ByteSink

TOP = cython.declare(cython.const[cython.uint], 1 << 24)
#: The largest `total` of a frequency model (keeps width // total >= 2**8).
MAX_TOTAL = cython.declare(cython.const[cython.uint], 1 << 16)
PROB_BITS = cython.declare(cython.const[cython.int], 11)
PROB_ONE = cython.declare(cython.const[cython.uint], 1 << 11)
PROB_INIT = cython.declare(cython.const[cython.uint], 1 << 10)
#: encode_bit_p's probabilities are in units of 2**-P_BITS (width >> P_BITS is at least 2**8).
P_BITS = cython.declare(cython.const[cython.int], 16)
#: A binary model moves 2**-ADAPT_SHIFT of the way towards each bit it codes.
ADAPT_SHIFT = cython.declare(cython.const[cython.int], 5)
FLUSH_BYTES = cython.declare(cython.const[cython.int], 4)
MASK32 = cython.declare(cython.const[cython.uint], 0xFFFFFFFF)
#: low >= CARRY: a carry into the bytes held back. Top byte 0xFF: it may yet receive a carry.
CARRY = cython.declare(cython.const[cython.ulonglong], 1 << 32)
TOP_BYTE_FF = cython.declare(cython.const[cython.ulonglong], 0xFF000000)


@cython.cfunc
@cython.inline
@cython.nogil
@cython.exceptval(check=False)
def _learned(prob: cython.uint, bit: cython.uint) -> cython.ushort:
    """An adaptive model's probability of a zero after it codes `bit`: 1/32 of the way on."""
    if bit:
        return prob - (prob >> ADAPT_SHIFT)
    return prob + ((PROB_ONE - prob) >> ADAPT_SHIFT)


def bit_models(count: int):
    """`count` adaptive binary models, each at probability 1/2, for encode_bit/decode_bit."""
    from array import array

    return array("H", [PROB_INIT]) * count


@cython.final
@cython.cclass
class RangeEncoder(ByteSink):

    def __init__(self, capacity: cython.Py_ssize_t = 256):
        ByteSink.__init__(self, capacity)
        self.low = 0
        self.width = MASK32
        self.cache = 0
        self.pending = 1

    @cython.cfunc
    @cython.nogil
    @cython.exceptval(check=False)
    def _shift_low(self) -> cython.void:
        # Emit the top byte of low (33 bits: bit 32 is a carry into the bytes held back).
        carry: cython.uint
        byte: cython.uint
        if self.low < TOP_BYTE_FF or self.low >= CARRY:
            carry = cython.cast(cython.uint, self.low >> 32)
            byte = self.cache
            while True:
                self.put((byte + carry) & 0xFF)
                byte = 0xFF
                self.pending -= 1
                if self.pending == 0:
                    break
            self.cache = cython.cast(cython.uint, (self.low >> 24) & 0xFF)
        self.pending += 1
        self.low = (self.low & 0x00FFFFFF) << 8

    @cython.cfunc
    @cython.inline
    @cython.nogil
    @cython.exceptval(check=False)
    def _normalize(self) -> cython.void:
        # Keep width in [2**24, 2**32): shift out each settled top byte.
        while self.width < TOP:
            self.width <<= 8
            self._shift_low()

    @cython.ccall
    @cython.nogil
    @cython.exceptval(check=False)
    def encode(self, cum: cython.uint, freq: cython.uint, total: cython.uint) -> cython.void:
        """Code a symbol of probability freq/total (0 < freq, cum + freq <= total <= MAX_TOTAL)."""
        step: cython.uint = self.width // total
        self.low += cython.cast(cython.ulonglong, step) * cum
        self.width = step * freq
        self._normalize()

    @cython.cfunc
    @cython.inline
    @cython.nogil
    @cython.exceptval(check=False)
    def _encode_bound(self, bound: cython.uint, bit: cython.uint) -> cython.void:
        # A bit whose zero takes the first `bound` of the width.
        if bit == 0:
            self.width = bound
        else:
            self.low += bound
            self.width -= bound
        self._normalize()

    @cython.ccall
    @cython.nogil
    @cython.exceptval(check=False)
    def encode_bit(self, probs: cython.ushort[:], index: cython.Py_ssize_t,
                   bit: cython.uint) -> cython.void:
        """Code one bit with the adaptive model probs[index], then update the model."""
        prob: cython.uint = probs[index]
        self._encode_bound((self.width >> PROB_BITS) * prob, bit)
        probs[index] = _learned(prob, bit)

    @cython.ccall
    @cython.nogil
    @cython.exceptval(check=False)
    def encode_bit_p(self, p0: cython.uint, bit: cython.uint) -> cython.void:
        """Code one bit whose probability of being 0 is p0 / 2**16 (0 < p0 < 2**16).

        rangecoder_inline.pxd has this step, decode_bit_p's and the adaptive models' as inline
        functions, for kernels that code a bit in their innermost loop: keep them in step."""
        self._encode_bound((self.width >> P_BITS) * p0, bit)

    @cython.ccall
    @cython.nogil
    @cython.exceptval(check=False)
    def encode_tree(self, probs: cython.ushort[:], base: cython.Py_ssize_t, nbits: cython.int,
                    value: cython.uint) -> cython.void:
        """Code the `nbits`-bit `value`, high bit first, with the 2**nbits models at
        probs[base:]."""
        node: cython.uint = 1
        bit: cython.uint
        i: cython.int
        for i in range(nbits - 1, -1, -1):
            bit = (value >> i) & 1
            self.encode_bit(probs, base + node, bit)
            node = (node << 1) | bit

    @cython.ccall
    @cython.nogil
    @cython.exceptval(check=False)
    def encode_direct(self, value: cython.uint, nbits: cython.int) -> cython.void:
        """Code the low `nbits` bits of `value` (nbits <= 32), each with probability 1/2."""
        i: cython.int
        for i in range(nbits - 1, -1, -1):
            self.width >>= 1
            if (value >> i) & 1:
                self.low += self.width
            self._normalize()

    @cython.ccall
    def finish(self) -> bytes:
        """End the stream (see the module's note on termination) and return the payload."""
        zero_bytes: cython.int
        unit: cython.ulonglong
        value: cython.ulonglong
        for zero_bytes in range(FLUSH_BYTES, 0, -1):
            unit = cython.cast(cython.ulonglong, 1) << (8 * zero_bytes)
            value = (self.low + unit - 1) & ~(unit - 1)  # low rounded up to a multiple of unit
            if value < self.low + self.width:
                self.low = value
                break
        else:
            zero_bytes = 0
        for _ in range(FLUSH_BYTES + 1):
            self._shift_low()
        return bytes(memoryview(self.buffer)[1 : self.pos - zero_bytes])


@cython.final
@cython.cclass
class RangeDecoder:
    """Decodes what RangeEncoder wrote, call for call.

    The decoding methods never raise. On a corrupt payload they set `corrupt` (a code value no
    encoder can produce) or read more than FLUSH_BYTES past the end (`overrun()`); a decoding
    loop checks `failed()` as often as it likes and `finish()` once at the end.
    """

    def __init__(self, data):
        self.data = data
        self.size = len(data)
        self.pos = 0
        self.corrupt = False
        self.width = MASK32
        self.code = 0
        for _ in range(FLUSH_BYTES):
            self.code = (self.code << 8) | self._next_byte()

    @cython.boundscheck(False)  # pos < size is tested
    @cython.wraparound(False)
    @cython.cfunc
    @cython.inline
    @cython.nogil
    @cython.exceptval(check=False)
    def _next_byte(self) -> cython.uint:
        byte: cython.uint = 0
        if self.pos < self.size:
            byte = self.data[self.pos]
        self.pos += 1
        return byte

    @cython.cfunc
    @cython.inline
    @cython.nogil
    @cython.exceptval(check=False)
    def _normalize(self) -> cython.void:
        while self.width < TOP:
            self.width <<= 8
            self.code = ((self.code << 8) | self._next_byte()) & MASK32

    @cython.ccall
    @cython.nogil
    @cython.exceptval(check=False)
    def decode_target(self, total: cython.uint) -> cython.uint:
        """The cumulative count (< total) that the next symbol's interval contains.

        Find the symbol whose [cum, cum + freq) holds it, then call decode_consume(cum, freq).
        """
        target: cython.uint
        self.step = self.width // total
        target = self.code // self.step
        if target >= total:
            self.corrupt = True
            target = total - 1
        return target

    @cython.ccall
    @cython.nogil
    @cython.exceptval(check=False)
    def decode_consume(self, cum: cython.uint, freq: cython.uint) -> cython.void:
        """Remove the symbol found after decode_target from the stream."""
        self.code -= self.step * cum
        self.width = self.step * freq
        self._normalize()

    @cython.cfunc
    @cython.inline
    @cython.nogil
    @cython.exceptval(check=False)
    def _decode_bound(self, bound: cython.uint) -> cython.uint:
        # The bit that _encode_bound(bound, bit) coded.
        bit: cython.uint = 0
        if self.code < bound:
            self.width = bound
        else:
            self.code -= bound
            self.width -= bound
            bit = 1
        self._normalize()
        return bit

    @cython.ccall
    @cython.nogil
    @cython.exceptval(check=False)
    def decode_bit(self, probs: cython.ushort[:], index: cython.Py_ssize_t) -> cython.uint:
        """Decode one bit with the adaptive model probs[index], then update the model."""
        prob: cython.uint = probs[index]
        bit: cython.uint = self._decode_bound((self.width >> PROB_BITS) * prob)
        probs[index] = _learned(prob, bit)
        return bit

    @cython.ccall
    @cython.nogil
    @cython.exceptval(check=False)
    def decode_bit_p(self, p0: cython.uint) -> cython.uint:
        """Decode one bit coded with encode_bit_p(p0, bit)."""
        return self._decode_bound((self.width >> P_BITS) * p0)

    @cython.ccall
    @cython.nogil
    @cython.exceptval(check=False)
    def decode_tree(self, probs: cython.ushort[:], base: cython.Py_ssize_t,
                    nbits: cython.int) -> cython.uint:
        """Decode an `nbits`-bit value coded with encode_tree."""
        node: cython.uint = 1
        _bit: cython.int
        for _bit in range(nbits):
            node = (node << 1) | self.decode_bit(probs, base + node)
        return node - (cython.cast(cython.uint, 1) << nbits)

    @cython.ccall
    @cython.nogil
    @cython.exceptval(check=False)
    def decode_direct(self, nbits: cython.int) -> cython.uint:
        """Decode `nbits` equiprobable bits coded with encode_direct."""
        value: cython.uint = 0
        _bit: cython.int
        for _bit in range(nbits):
            self.width >>= 1
            if self.code >= self.width:
                self.code -= self.width
                value = (value << 1) | 1
            else:
                value <<= 1
            self._normalize()
        return value

    @cython.ccall
    @cython.nogil
    @cython.exceptval(check=False)
    def failed(self) -> cython.bint:
        """True once the payload has proved corrupt (cheap: call it in decoding loops)."""
        return self.corrupt or self.pos > self.size + FLUSH_BYTES

    def finish(self) -> None:
        """Check that the stream ended exactly at the end of the payload; raise CodecError if not.

        The encoder ended on the first value from low that is a multiple of 256**z, for the
        largest z its final interval allows, and dropped those z zero bytes; the decoder read
        that many implicit zeros. From the last FLUSH_BYTES bytes read (that value) and `code`
        (the value minus low) the decoder recomputes the encoder's choice and demands exactly
        it: so it accepts only the payload the encoder writes for the symbols decoded (which
        may be the payload of other data, if this one was damaged; see spec/codecs/coding.md,
        "The end check").
        """
        if self.corrupt:
            raise CodecError("range decoder: the payload is corrupt (impossible code value)")
        if self.pos < self.size:
            raise CodecError(f"range decoder: {self.size - self.pos} bytes left over after the "
                             f"last symbol")
        implicit = self.pos - self.size
        if implicit > FLUSH_BYTES:
            raise CodecError(f"range decoder: the payload ends {implicit} bytes early")
        value = 0
        for index in range(self.pos - FLUSH_BYTES, self.pos):
            value = (value << 8) | (self.data[index] if index < self.size else 0)
        low = (value - self.code) & MASK32
        dropped = 0
        for zero_bytes in range(FLUSH_BYTES, 0, -1):  # the encoder's choice, as in finish()
            if -low % (1 << (8 * zero_bytes)) < self.width:
                dropped = zero_bytes
                break
        # ... and the encoder's value was the first multiple of 256**dropped from low.
        if implicit != dropped or self.code >= 1 << (8 * dropped):
            raise CodecError("range decoder: the payload does not end where its last symbol "
                             "does")
