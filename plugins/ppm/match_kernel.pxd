# C-level interface of match_kernel.py, for model_kernel (which cimports it) and for the module
# itself: Cython takes these signatures for the methods defined in the .py file.
cimport cython


@cython.final
cdef class MatchModel:
    cdef const unsigned char[:] data
    cdef Py_ssize_t size
    cdef long long[::1] table
    cdef Py_ssize_t mask
    cdef long long hash
    cdef Py_ssize_t ptr
    cdef int length
    cdef int sym
    cdef inline Py_ssize_t _slot(self, long long h) noexcept nogil
    cdef void start(self, int symbol, Py_ssize_t pos) noexcept nogil
    cdef void finish(self, Py_ssize_t pos) noexcept nogil
