# C-level interface of counters_kernel.py, for kernels that cimport it.
cimport cython


@cython.final
cdef class AdaptiveBits:
    cdef public Py_ssize_t count
    cdef public int limit
    cdef unsigned short[:] probs
    cdef unsigned char[:] seen
    cdef unsigned int[:] rates
    cpdef unsigned int p0(self, Py_ssize_t index) noexcept nogil
    cpdef void update(self, Py_ssize_t index, unsigned int bit) noexcept nogil
