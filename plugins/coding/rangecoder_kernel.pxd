# C-level interface of rangecoder_kernel.py, for kernels that cimport it.
cimport cython
from pyarc_plugins.coding.bitio_kernel cimport ByteSink


@cython.final
cdef class RangeEncoder(ByteSink):
    cdef unsigned long long low
    cdef unsigned int width
    cdef unsigned int cache
    cdef Py_ssize_t pending
    cdef void _shift_low(self) noexcept nogil
    cdef inline void _normalize(self) noexcept nogil
    cdef inline void _encode_bound(self, unsigned int bound, unsigned int bit) noexcept nogil
    cpdef void encode(self, unsigned int cum, unsigned int freq, unsigned int total) noexcept nogil
    cpdef void encode_bit(self, unsigned short[:] probs, Py_ssize_t index, unsigned int bit) noexcept nogil
    cpdef void encode_bit_p(self, unsigned int p0, unsigned int bit) noexcept nogil
    cpdef void encode_tree(self, unsigned short[:] probs, Py_ssize_t base, int nbits, unsigned int value) noexcept nogil
    cpdef void encode_direct(self, unsigned int value, int nbits) noexcept nogil
    cpdef bytes finish(self)


@cython.final
cdef class RangeDecoder:
    cdef const unsigned char[:] data
    cdef Py_ssize_t size
    cdef Py_ssize_t pos
    cdef public bint corrupt
    cdef unsigned int width
    cdef unsigned int code
    cdef unsigned int step
    cdef inline unsigned int _next_byte(self) noexcept nogil
    cdef inline void _normalize(self) noexcept nogil
    cdef inline unsigned int _decode_bound(self, unsigned int bound) noexcept nogil
    cpdef unsigned int decode_target(self, unsigned int total) noexcept nogil
    cpdef void decode_consume(self, unsigned int cum, unsigned int freq) noexcept nogil
    cpdef unsigned int decode_bit(self, unsigned short[:] probs, Py_ssize_t index) noexcept nogil
    cpdef unsigned int decode_bit_p(self, unsigned int p0) noexcept nogil
    cpdef unsigned int decode_tree(self, unsigned short[:] probs, Py_ssize_t base, int nbits) noexcept nogil
    cpdef unsigned int decode_direct(self, int nbits) noexcept nogil
    cpdef bint failed(self) noexcept nogil
