# The logistic mixer (spec/codecs/coding.md, section "Mixer") as inline functions over arrays
# the caller owns: its squash and stretch tables (mixer_inline.squash_table / stretch_table), its
# weights (WEIGHT_BITS fractional bits, a set of n for each context the caller tells apart) and
# the n inputs of the decision being coded. Inline, because mixing is a few multiplications in a
# model's innermost loop. Kernels running as plain Python use mixer_inline.py, the same
# arithmetic; the tests that compare compiled and pure payloads check that the two agree.
#
# 2047 below is mixer_inline's STRETCH_MAX and 16 its WEIGHT_BITS (the .py module's constants
# cannot be cimported).
# cython: boundscheck=False, wraparound=False


cdef inline int stretch(const short[::1] table, unsigned int p, int bits) noexcept nogil:
    """ln(p / (1 - p)), in 1/256 units, of a probability p / 2**bits (its top 12 bits)."""
    return table[p >> (bits - 12)]


cdef inline int squash(const int[::1] table, long long x) noexcept nogil:
    """The probability (in the table's bits) whose stretch is x, -2047 <= x <= 2047."""
    return table[x + 2048]


cdef inline long long mix_dot(const long long[::1] weights, Py_ssize_t base,
                              const int[::1] inputs, int n) noexcept nogil:
    """The weights base .. base + n - 1 applied to the n inputs: their sum (in stretch units),
    clamped to the squash table's domain."""
    cdef long long x = 0
    cdef int i
    for i in range(n):
        x += weights[base + i] * inputs[i]
    x >>= 16
    if x > 2047:
        return 2047
    if x < -2047:
        return -2047
    return x


cdef inline long long mix_error(unsigned int p, unsigned int bit, int bits) noexcept nogil:
    """How far the mixed probability of a 0, p / 2**bits, was from the bit coded."""
    return ((<long long>(bit == 0)) << bits) - p


cdef inline void mix_learn(long long[::1] weights, Py_ssize_t base, const int[::1] inputs,
                           int n, long long err, int shift) noexcept nogil:
    """Move each weight of the set by err x its input >> shift (gradient descent on coding
    cost)."""
    cdef int i
    for i in range(n):
        weights[base + i] += (err * inputs[i]) >> shift
