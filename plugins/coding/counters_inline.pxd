# Counters (spec/codecs/coding.md, section "Counters") as inline functions over cells the
# caller owns: a model keeps its counters in its own array of unsigned ints, each a cell
# `p << 8 | n` (p the probability of a 0 in `bits` bits, n the bits counted, at most `limit`),
# and its rates table from counters_inline.counter_rates. Inline, because a counter's update is
# a few instructions in a model's innermost loop. Kernels running as plain Python use
# counters_inline.py, the same arithmetic; the tests that compare compiled and pure payloads
# check that the two agree.
# (Directives are given as `with` blocks: decorators on a function in a .pxd are ignored.)
cimport cython


cdef inline unsigned int counter_p(unsigned int cell) noexcept nogil:
    """The counter's probability of a 0, in units of 2**-bits."""
    return cell >> 8


cdef inline unsigned int counter_learn(unsigned int cell, unsigned int bit,
                                       const unsigned int[::1] rates, unsigned int limit,
                                       int bits) noexcept nogil:
    """The cell after counting `bit`: p moves rates[n] / 2**16 of the way towards it."""
    cdef unsigned int n = cell & 0xFF
    cdef unsigned long long p = cell >> 8
    cdef unsigned long long rate
    with cython.boundscheck(False), cython.wraparound(False):  # n <= limit < len(rates)
        rate = rates[n]
    if bit:
        p -= (p * rate) >> 16
    else:
        p += (((<unsigned long long>1 << bits) - p) * rate) >> 16
    return <unsigned int>(p << 8) | (n + (n < limit))
