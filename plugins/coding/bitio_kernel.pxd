# C-level interface of bitio_kernel.py, for kernels that cimport it.
cimport cython


cdef class ByteSink:
    cdef object buffer
    cdef unsigned char[:] out
    cdef Py_ssize_t capacity
    cdef public Py_ssize_t pos
    cdef void put(self, unsigned int byte) noexcept nogil
    cdef void _grow(self)


@cython.final
cdef class BitWriter(ByteSink):
    cdef unsigned long long acc
    cdef int count
    cpdef void write(self, unsigned long long value, int nbits) noexcept nogil
    cdef void _drain(self) noexcept nogil
    cpdef bytes finish(self)


@cython.final
cdef class BitReader:
    cdef const unsigned char[:] data
    cdef Py_ssize_t size
    cdef Py_ssize_t pos
    cdef unsigned long long acc
    cdef int count
    cdef inline void _refill(self) noexcept nogil
    cpdef unsigned long long peek(self, int nbits) noexcept nogil
    cpdef void skip(self, int nbits) noexcept nogil
    cpdef unsigned long long read(self, int nbits) noexcept nogil
    cpdef Py_ssize_t bits_consumed(self) noexcept nogil
    cpdef Py_ssize_t overrun_bits(self) noexcept nogil
