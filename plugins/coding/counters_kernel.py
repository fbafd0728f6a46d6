"""Adaptive binary models whose learning rate starts fast and settles (a counter with state).

Each model holds a probability that its next bit is 0 (units of 2**-16) and the number n of
bits it has seen, up to a `limit`. A coded bit moves the probability 1/(n + 1.5) of the way
towards it: the first bits of a fresh context count almost as a frequency count would (the
estimate after a few bits is close to the Krichevsky-Trofimov one), and once n reaches the limit
the model forgets at a fixed rate, 1/(limit + 1.5), so it follows statistics that drift. A small
limit suits models that should track only recent bits (the order-0 model of a BWT output, whose
statistics change from one run of similar contexts to the next); a larger one suits sparse
contexts seen rarely.

Invariant: the probability stays in [1, 2**16 - 1]: each step moves a fraction < 1 of the way
to 0 or 2**16 and rounds towards where it was. The rates and the update are specified in
spec/codecs/coding.md, section "Counters".

Callers pass an index below the count they asked for (their contexts are in range by
construction), so bounds are not checked here.
"""

from array import array

import cython

ONE = cython.declare(cython.const[cython.uint], 1 << 16)
HALF = cython.declare(cython.const[cython.uint], 1 << 15)
MAX_LIMIT = 255


@cython.final
@cython.cclass
class AdaptiveBits:
    """`count` binary models at probability 1/2 that have seen nothing."""

    def __init__(self, count: cython.Py_ssize_t, limit: cython.int):
        if not 0 <= limit <= MAX_LIMIT:
            raise ValueError(f"limit {limit} is outside 0..{MAX_LIMIT}")
        self.count = count
        self.limit = limit
        self.probs = array("H", [HALF]) * count
        self.seen = bytearray(count)
        # rates[n] = 2**16 / (n + 1.5): the step, in units of 2**-16, after n bits.
        self.rates = array("I", [int(2 * ONE // (2 * n + 3)) for n in range(limit + 1)])

    @cython.boundscheck(False)
    @cython.wraparound(False)
    @cython.ccall
    @cython.nogil
    @cython.exceptval(check=False)
    def p0(self, index: cython.Py_ssize_t) -> cython.uint:
        """The probability (units of 2**-16) that model `index` gives to a 0."""
        return self.probs[index]

    @cython.boundscheck(False)
    @cython.wraparound(False)
    @cython.ccall
    @cython.nogil
    @cython.exceptval(check=False)
    def update(self, index: cython.Py_ssize_t, bit: cython.uint) -> cython.void:
        """Move model `index` towards `bit` at its current rate, then count the bit."""
        n: cython.uint = self.seen[index]
        prob: cython.uint = self.probs[index]
        rate: cython.uint = self.rates[n]
        if bit == 0:
            self.probs[index] = prob + (((ONE - prob) * rate) >> 16)
        else:
            self.probs[index] = prob - ((prob * rate) >> 16)
        if n < self.limit:
            self.seen[index] = n + 1
