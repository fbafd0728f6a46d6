# Reading the context trie's records (layout in trie_kernel.py) as inline functions over its
# heap: the coding loop (model_kernel) and the trie's updates (trie_kernel) read them in their
# innermost loops, where a call to another module could not be inlined. Kernels running as
# plain Python use trie_inline.py, the same functions; the tests that compare compiled and pure
# payloads check that the two agree.
# cython: boundscheck=False, wraparound=False
from pyarc_plugins.coding.prefetch cimport prefetch


# Contexts: suffix, count | order << 16 | capclass << 24, then stats and summ (or the one state)

cdef inline int suffix(const int[::1] heap, int c) noexcept nogil:
    return heap[2 * c]


cdef inline int count(const int[::1] heap, int c) noexcept nogil:
    return heap[2 * c + 1] & 0xFFFF


cdef inline int order(const int[::1] heap, int c) noexcept nogil:
    return (heap[2 * c + 1] >> 16) & 0xFF


cdef inline int capclass(const int[::1] heap, int c) noexcept nogil:
    return (heap[2 * c + 1] >> 24) & 0xFF


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
