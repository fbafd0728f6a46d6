"""Secondary estimation (an adaptive probability map, APM): a model's probability, refined.

A model's probability p is often biased in ways that depend on a context it did not see (how
long the current run is, which node of a byte it codes). An APM learns, per context, the
function from p to the probability actually observed: the range of p is cut into BUCKETS - 1
equal intervals, each end of each interval holds an adaptive estimate, and `refine` returns the
linear interpolation between the two ends around p. `update` moves both ends towards the coded
bit at the rate 2**-shift.

The map starts as the identity (it returns p until it has learned otherwise). Probabilities
are of a 0, in units of 2**-16, and the result stays in [1, 2**16 - 1] like its inputs.
One `refine` is followed by one `update` (the map remembers where it interpolated). The table
and its arithmetic are specified in spec/codecs/coding.md, section "APM".
"""

from array import array

import cython

BUCKETS = cython.declare(cython.const[cython.Py_ssize_t], 33)
STEP_BITS = cython.declare(cython.const[cython.int], 11)  # 2**16 / (BUCKETS - 1) = 2**11
ONE = cython.declare(cython.const[cython.uint], 1 << 16)


@cython.final
@cython.cclass
class Apm:
    """An identity map for each of `contexts` contexts, learning at rate 2**-shift."""

    def __init__(self, contexts: cython.Py_ssize_t, shift: cython.int):
        self.contexts = contexts
        self.shift = shift
        ramp = [min(max(k << STEP_BITS, 1), ONE - 1) for k in range(BUCKETS)]
        self.table = array("H", ramp) * contexts
        self.index = 0
        self.weight = 0

    @cython.boundscheck(False)  # context < contexts (the caller's contract), p < 2**16
    @cython.wraparound(False)
    @cython.ccall
    @cython.nogil
    @cython.exceptval(check=False)
    def refine(self, p0: cython.uint, context: cython.Py_ssize_t) -> cython.uint:
        """The refined probability of a 0 for a model's p0 (units of 2**-16) in `context`."""
        low: cython.uint
        high: cython.uint
        self.index = context * BUCKETS + (p0 >> STEP_BITS)
        self.weight = p0 & ((1 << STEP_BITS) - 1)
        low = self.table[self.index]
        high = self.table[self.index + 1]
        return (low * ((1 << STEP_BITS) - self.weight) + high * self.weight) >> STEP_BITS

    @cython.boundscheck(False)
    @cython.wraparound(False)
    @cython.ccall
    @cython.nogil
    @cython.exceptval(check=False)
    def update(self, bit: cython.uint) -> cython.void:
        """Move the two estimates used by the last refine towards `bit`."""
        target: cython.uint = 0 if bit else ONE - 1
        self._move(self.index, target)
        self._move(self.index + 1, target)

    @cython.boundscheck(False)
    @cython.wraparound(False)
    @cython.cfunc
    @cython.inline
    @cython.nogil
    @cython.exceptval(check=False)
    def _move(self, index: cython.Py_ssize_t, target: cython.uint) -> cython.void:
        value: cython.uint = self.table[index]
        if target > value:
            self.table[index] = value + ((target - value) >> self.shift)
        else:
            self.table[index] = value - ((value - target) >> self.shift)
