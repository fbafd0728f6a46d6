"""The second stage: the BWT output coded byte by byte under a small context-mixing model.

Each byte is coded as 8 binary decisions, high bit first, each predicted by an order-0 model
with a very short memory (the BWT output is locally skewed), an order-1 model under the previous
byte and the same table read under the byte before it, averaged and refined by an APM. The
payload is specified in spec/codecs/bwt.md (section "Stage cm").

The model starts the same in both directions and sees the same bytes, so the decoder makes the
encoder's predictions. This design follows Ilya Muravyov's BCM; the limits and weights were
chosen on the Calgary corpus (docs/bwt.md).
"""

import cython

if cython.compiled:
    from cython.cimports.pyarc_plugins.coding.apm_kernel import Apm
    from cython.cimports.pyarc_plugins.coding.counters_kernel import AdaptiveBits
    from cython.cimports.pyarc_plugins.coding.rangecoder_kernel import (
        RangeDecoder,
        RangeEncoder,
    )
else:
    from pyarc_plugins.coding.apm_kernel import Apm
    from pyarc_plugins.coding.counters_kernel import AdaptiveBits
    from pyarc_plugins.coding.rangecoder_kernel import RangeDecoder, RangeEncoder

MIN_P = cython.declare(cython.const[cython.uint], 32)
MAX_P = cython.declare(cython.const[cython.uint], (1 << 16) - 32)
ORDER0_LIMIT = 2
ORDER1_LIMIT = 6
APM_SHIFT = 6


@cython.final
@cython.cclass
class _Model:
    """The three models, the APM and the byte history; `p0` then `update` for each bit."""

    order0: AdaptiveBits
    order1: AdaptiveBits
    apm: Apm
    prev1: cython.Py_ssize_t  # the previous byte, times 256
    prev2: cython.Py_ssize_t  # the byte before it, times 256
    run: cython.Py_ssize_t  # how many bytes in a row have equalled the one before

    def __init__(self):
        self.order0 = AdaptiveBits(256, ORDER0_LIMIT)
        self.order1 = AdaptiveBits(256 * 256, ORDER1_LIMIT)
        self.apm = Apm(2 * 256, APM_SHIFT)
        self.prev1 = 0
        self.prev2 = 0
        self.run = 0

    @cython.cfunc
    @cython.inline
    @cython.nogil
    @cython.exceptval(check=False)
    def p0(self, node: cython.Py_ssize_t) -> cython.uint:
        """The probability (units of 2**-16) that the decision at `node` is a 0."""
        mixed: cython.uint = ((self.order0.p0(node) + self.order1.p0(self.prev1 + node)) * 7
                              + 2 * self.order1.p0(self.prev2 + node)) >> 4
        refined: cython.uint = self.apm.refine(mixed, (self.run > 2) * 256 + node)
        mixed = (mixed + 3 * refined) >> 2
        return min(max(mixed, MIN_P), MAX_P)

    @cython.cfunc
    @cython.inline
    @cython.nogil
    @cython.exceptval(check=False)
    def update(self, node: cython.Py_ssize_t, bit: cython.uint) -> cython.void:
        self.order0.update(node, bit)
        self.order1.update(self.prev1 + node, bit)
        self.apm.update(bit)

    @cython.cfunc
    @cython.inline
    @cython.nogil
    @cython.exceptval(check=False)
    def push(self, byte: cython.Py_ssize_t) -> cython.void:
        """Enter a coded byte into the history."""
        if byte * 256 == self.prev1:
            self.run += 1
        else:
            self.run = 0
        self.prev2 = self.prev1
        self.prev1 = byte * 256


@cython.ccall
def encode(data: cython.const[cython.uchar][:]) -> bytes:
    """Code the bytes; the decoder needs their number."""
    size: cython.Py_ssize_t = len(data)
    model: _Model = _Model()
    coder: RangeEncoder = RangeEncoder(size // 3 + 64)
    i: cython.Py_ssize_t
    byte: cython.uint
    bit: cython.uint
    node: cython.Py_ssize_t
    k: cython.int
    with cython.nogil:
        for i in range(size):
            byte = data[i]
            node = 1
            for k in range(7, -1, -1):
                bit = (byte >> k) & 1
                coder.encode_bit_p(model.p0(node), bit)
                model.update(node, bit)
                node = 2 * node + bit
            model.push(byte)
    return coder.finish()


@cython.ccall
def decode(payload: cython.const[cython.uchar][:], size: cython.Py_ssize_t) -> bytes:
    """The `size` bytes that encode coded; CodecError if the payload does not end with them."""
    out = bytearray(size)
    data: cython.uchar[:] = out
    model: _Model = _Model()
    coder: RangeDecoder = RangeDecoder(payload)
    i: cython.Py_ssize_t
    bit: cython.uint
    node: cython.Py_ssize_t
    with cython.nogil:
        for i in range(size):
            node = 1
            while node < 256:
                bit = coder.decode_bit_p(model.p0(node))
                model.update(node, bit)
                node = 2 * node + bit
            data[i] = node - 256
            model.push(node - 256)
            if coder.failed():
                break
    coder.finish()  # raises CodecError unless the payload ended exactly after the last byte
    return bytes(out)
