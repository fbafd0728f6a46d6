# C-level interface of trie_kernel.py, for model_kernel (which cimports it) and for the module
# itself: Cython takes these signatures for the methods defined in the .py file.
#
# The functions that read the records (their layout is in trie_kernel.py) are inline, here: the
# coding loop (model_kernel) and the trie's updates read them in their innermost loops, where a
# call to another module could not be inlined. Kernels running as plain Python use
# trie_inline.py, the same functions; the tests that compare compiled and pure payloads check
# that the two agree.
# cython: boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
cimport cython
from pyarc_plugins.coding.prefetch cimport prefetch

# Contexts: suffix, count | order << 16 | capclass << 24, then stats and summ (or the one state)

cdef inline int suffix(const int[::1] heap, int c) noexcept nogil:
    return heap[2 * c]


cdef inline int count(const int[::1] heap, int c) noexcept nogil:
    return heap[2 * c + 1] & 0xFFFF


cdef inline int order(const int[::1] heap, int c) noexcept nogil:
    return (heap[2 * c + 1] >> 16) & 0xFF


cdef inline int stats(const int[::1] heap, int c) noexcept nogil:
    """The first state of c: in the record when c has one (or none yet)."""
    return c + 1 if count(heap, c) <= 1 else heap[2 * c + 2]


cdef inline int summ(const int[::1] heap, int c) noexcept nogil:
    return heap[2 * c + 3]


# States: sym | freq << 8, then child

cdef inline int sym(const int[::1] heap, int s) noexcept nogil:
    return heap[2 * s] & 0xFF


cdef inline int freq(const int[::1] heap, int s) noexcept nogil:
    return heap[2 * s] >> 8


cdef inline int child(const int[::1] heap, int s) noexcept nogil:
    return heap[2 * s + 1]


cdef inline void prefetch_context(const int[::1] heap, int c) noexcept nogil:
    """Ask the CPU for context c's record (with its state, if it has one), when c > 0 (not the
    root, which stays in the cache, nor a lazy child)."""
    if c > 0:
        prefetch(&heap[2 * c])


cdef inline int _boost(int f) noexcept nogil


@cython.final
cdef class Trie:
    cdef const unsigned char[:] data
    cdef int max_order
    cdef int[::1] heap
    cdef object heap_array
    cdef readonly Py_ssize_t nunits
    cdef readonly Py_ssize_t unit_capacity
    cdef Py_ssize_t max_units
    cdef int[::1] free_head
    cdef int[::1] stack_c
    cdef int[::1] stack_s
    cdef readonly Py_ssize_t restarts
    cdef int restart(self) noexcept nogil
    cdef int _alloc(self, int k) noexcept nogil
    cdef inline void _free(self, int block, int k) noexcept nogil
    cdef int _new_context(self, int length, int shorter) noexcept nogil
    cdef int _add_state(self, int c, int symbol, int f, int next_context) noexcept nogil
    cdef inline void _set_freq(self, int s, int f) noexcept nogil
    cdef inline void _add_freq(self, int c, int s, int f) noexcept nogil
    cdef inline void _set_count(self, int c, int n) noexcept nogil
    cdef inline int _capclass(self, int c) noexcept nogil
    cdef inline void _set_capclass(self, int c, int k) noexcept nogil
    cdef inline void _swap_states(self, int a, int b) noexcept nogil
    cdef int learn(self, int symbol, Py_ssize_t pos, int first_ctx, int fc, int fs) noexcept nogil
    cdef int _reward(self, int c, int s, bint drop) noexcept nogil
    cdef int _suffix_bonus(self, int c, int symbol) noexcept nogil
    cdef int _rescale(self, int c, int s, bint drop) noexcept nogil
    cdef int _inherit(self, int c, int fc, int fs) noexcept nogil
    cdef int _find(self, int c, int symbol) noexcept nogil
    cdef int _successor(self, int c, int s, int suffix_state, Py_ssize_t pos) noexcept nogil
    cdef int _first_freq(self, int base, int up) noexcept nogil
