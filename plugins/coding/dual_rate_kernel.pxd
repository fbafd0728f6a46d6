# C-level interface of dual_rate_kernel.py, for kernels that cimport it.
cimport cython
from pyarc_plugins.coding.rangecoder_kernel cimport RangeDecoder, RangeEncoder


@cython.final
cdef class DualRateModels:
    cdef public Py_ssize_t count
    cdef unsigned short[:] probs
    cpdef unsigned int p0(self, Py_ssize_t index) noexcept nogil
    cpdef void update(self, Py_ssize_t index, unsigned int bit) noexcept nogil
    cpdef void encode(self, RangeEncoder coder, Py_ssize_t index, unsigned int bit) noexcept nogil
    cpdef unsigned int decode(self, RangeDecoder coder, Py_ssize_t index) noexcept nogil
