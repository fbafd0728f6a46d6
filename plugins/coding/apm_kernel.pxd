# C-level interface of apm_kernel.py, for kernels that cimport it.
cimport cython


@cython.final
cdef class Apm:
    cdef public Py_ssize_t contexts
    cdef public int shift
    cdef unsigned short[:] table
    cdef Py_ssize_t index
    cdef unsigned int weight
    cpdef unsigned int refine(self, unsigned int p0, Py_ssize_t context) noexcept nogil
    cpdef void update(self, unsigned int bit) noexcept nogil
    cdef inline void _move(self, Py_ssize_t index, unsigned int target) noexcept nogil
