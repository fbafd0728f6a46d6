"""Adaptive binary models that learn at two rates at once, for the range coder's encode_bit_p.

Each model holds two estimates of the probability that its next bit is 0, in units of 2**-16:
a fast one that moves 2**-FAST_SHIFT of the way towards each coded bit, and a slow one that
moves 2**-SLOW_SHIFT. A bit is coded with their average. The fast estimate follows a context
whose statistics change (as they do along a Burrows-Wheeler transform, from one run of similar
contexts to the next) and learns a new context in a few bits; the slow one gives a precise
estimate in a stable context. Their average is never worse than the worse of the two and in
practice codes better than either.

Invariant: both estimates stay within (0, 2**16), so every bit keeps a nonzero probability:
p + ((2**16 - p) >> s) < 2**16 and p - (p >> s) >= 2**s - 1 > 0 for p >= 2**s - 1 (start 2**15).

Callers pass an index below the count they asked for: the kernels compute indices from
contexts that are in range by construction, so bounds are not checked here.
"""

from array import array

import cython

if cython.compiled:
    from cython.cimports.pyarc_plugins.coding.rangecoder_kernel import (
        RangeDecoder,
        RangeEncoder,
    )
else:
    from pyarc_plugins.coding.rangecoder_kernel import RangeDecoder, RangeEncoder

FAST_SHIFT = cython.declare(cython.int, 4)
SLOW_SHIFT = cython.declare(cython.int, 7)
ONE = cython.declare(cython.uint, 1 << 16)
HALF = cython.declare(cython.uint, 1 << 15)


@cython.final
@cython.cclass
class DualRateModels:
    """`count` binary models, each starting at probability 1/2."""

    def __init__(self, count: cython.Py_ssize_t):
        self.count = count
        self.probs = array("H", [HALF]) * (2 * count)

    @cython.boundscheck(False)
    @cython.wraparound(False)
    @cython.ccall
    @cython.nogil
    @cython.exceptval(check=False)
    def p0(self, index: cython.Py_ssize_t) -> cython.uint:
        """The probability (units of 2**-16) that model `index` gives to a 0."""
        return (cython.cast(cython.uint, self.probs[2 * index])
                + self.probs[2 * index + 1]) >> 1

    @cython.boundscheck(False)
    @cython.wraparound(False)
    @cython.ccall
    @cython.nogil
    @cython.exceptval(check=False)
    def update(self, index: cython.Py_ssize_t, bit: cython.uint) -> cython.void:
        """Move both estimates of model `index` towards `bit`."""
        fast: cython.uint = self.probs[2 * index]
        slow: cython.uint = self.probs[2 * index + 1]
        if bit == 0:
            self.probs[2 * index] = fast + ((ONE - fast) >> FAST_SHIFT)
            self.probs[2 * index + 1] = slow + ((ONE - slow) >> SLOW_SHIFT)
        else:
            self.probs[2 * index] = fast - (fast >> FAST_SHIFT)
            self.probs[2 * index + 1] = slow - (slow >> SLOW_SHIFT)

    @cython.ccall
    @cython.nogil
    @cython.exceptval(check=False)
    def encode(self, coder: RangeEncoder, index: cython.Py_ssize_t,
               bit: cython.uint) -> cython.void:
        """Code `bit` with model `index`, then update it."""
        coder.encode_bit_p(self.p0(index), bit)
        self.update(index, bit)

    @cython.ccall
    @cython.nogil
    @cython.exceptval(check=False)
    def decode(self, coder: RangeDecoder, index: cython.Py_ssize_t) -> cython.uint:
        """Decode a bit coded with encode(coder, index, bit), then update the model."""
        bit: cython.uint = coder.decode_bit_p(self.p0(index))
        self.update(index, bit)
        return bit
