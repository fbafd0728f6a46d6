# C-level interface of frequencies_kernel.py, for kernels that cimport it.
cimport cython
from pyarc_plugins.coding.rangecoder_kernel cimport RangeDecoder, RangeEncoder


@cython.final
cdef class AdaptiveFrequencies:
    cdef readonly Py_ssize_t contexts
    cdef readonly Py_ssize_t slots
    cdef readonly unsigned int symbols
    cdef readonly unsigned int increment
    cdef readonly Py_ssize_t used
    cdef readonly Py_ssize_t allocated
    cdef int[:] slot_of
    cdef unsigned short[:] tree
    cdef unsigned int[:] totals
    cdef unsigned short[:] fresh
    cdef public unsigned int found_cumulative
    cpdef Py_ssize_t table(self, Py_ssize_t context) noexcept nogil
    cpdef void encode(self, RangeEncoder coder, Py_ssize_t context, unsigned int symbol) noexcept nogil
    cpdef unsigned int decode(self, RangeDecoder coder, Py_ssize_t context) noexcept nogil
    cpdef unsigned int total(self, Py_ssize_t slot) noexcept nogil
    cpdef unsigned int cumulative(self, Py_ssize_t slot, unsigned int symbol) noexcept nogil
    cpdef unsigned int count(self, Py_ssize_t slot, unsigned int symbol) noexcept nogil
    cpdef unsigned int find(self, Py_ssize_t slot, unsigned int target) noexcept nogil
    cpdef void update(self, Py_ssize_t slot, unsigned int symbol) noexcept nogil
    cdef void _halve(self, Py_ssize_t slot) noexcept nogil
