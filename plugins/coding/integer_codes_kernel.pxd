# C-level interface of integer_codes_kernel.py, for kernels that cimport it.
from pyarc_plugins.coding.bitio_kernel cimport BitReader, BitWriter

cpdef int bit_length(unsigned long long value) noexcept nogil
cpdef void write_gamma(BitWriter writer, unsigned long long value) noexcept nogil
cpdef unsigned long long read_gamma(BitReader reader) noexcept nogil
cpdef void write_delta(BitWriter writer, unsigned long long value) noexcept nogil
cpdef unsigned long long read_delta(BitReader reader) noexcept nogil
cpdef unsigned long long zigzag(long long value) noexcept nogil
cpdef long long unzigzag(unsigned long long value) noexcept nogil
