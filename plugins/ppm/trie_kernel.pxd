# C-level interface of trie_kernel.py, for model_kernel (which cimports it) and for the module
# itself: Cython takes these signatures for the methods defined in the .py file.
cimport cython


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
