# APM (spec/codecs/coding.md, section "APM") as inline functions over a table the caller owns:
# a model keeps its APM's entries in its own array of unsigned shorts (apm_inline.apm_table
# builds it, 33 entries a context) and, from refining a probability until it learns the bit
# coded with it, the slot it refined in (apm_slot). Inline, because a refine and a learn are a
# few instructions in a model's innermost loop. Kernels running as plain Python use
# apm_inline.py, the same arithmetic; the tests that compare compiled and pure payloads
# (tests/test_bwt.py, tests/test_codec_vectors.py) check that the two agree.
# 33 is apm_inline's BUCKETS, 11 its STEP_BITS: module constants of a .py cannot be cimported.
# The caller passes a slot from apm_slot with a context below the table's, so bounds are not
# checked (directives as `with` blocks: decorators on a function in a .pxd are ignored).
cimport cython


cdef inline Py_ssize_t apm_slot(unsigned int p0, Py_ssize_t context) noexcept nogil:
    """Where p0 (of a 0, units of 2**-16) falls in `context`: the lower of its two entries."""
    return context * 33 + (p0 >> 11)


cdef inline unsigned int apm_refine(const unsigned short[::1] table, Py_ssize_t slot,
                                    unsigned int p0) noexcept nogil:
    """The refined probability of a 0: the entries at slot and slot + 1, interpolated at p0."""
    cdef unsigned int weight = p0 & ((1 << 11) - 1)
    with cython.boundscheck(False), cython.wraparound(False):
        return (table[slot] * ((1 << 11) - weight) + table[slot + 1] * weight) >> 11


cdef inline unsigned short _apm_moved(unsigned int value, unsigned int target,
                                      int shift) noexcept nogil:
    if target > value:
        return value + ((target - value) >> shift)
    return value - ((value - target) >> shift)


cdef inline void apm_learn(unsigned short[::1] table, Py_ssize_t slot, unsigned int bit,
                           int shift) noexcept nogil:
    """Move the entries at slot and slot + 1 2**-shift of the way towards the bit coded."""
    cdef unsigned int target = 0 if bit else 65535
    with cython.boundscheck(False), cython.wraparound(False):
        table[slot] = _apm_moved(table[slot], target, shift)
        table[slot + 1] = _apm_moved(table[slot + 1], target, shift)
