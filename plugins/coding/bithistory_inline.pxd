# Bit histories (spec/codecs/coding.md, section "Bit histories") as an inline function over the
# table bithistory_inline.history_tables builds: a model keeps one history byte per context and
# node, and moves it on with each bit coded. Inline, because it is one load in a model's
# innermost loop. Kernels running as plain Python use bithistory_inline.py; the tests that
# compare compiled and pure payloads check that the two agree.
# The table has 2 entries per state and a state is a byte below its length: bounds are not
# checked (directives as `with` blocks: decorators on a function in a .pxd are ignored).
cimport cython


cdef inline unsigned char history_next(const unsigned char[::1] table, unsigned int state,
                                       unsigned int bit) noexcept nogil:
    """The history after `bit`."""
    with cython.boundscheck(False), cython.wraparound(False):
        return table[2 * state + bit]
