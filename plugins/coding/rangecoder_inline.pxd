# RangeEncoder.encode_bit_p and RangeDecoder.decode_bit_p as inline functions, for kernels that
# code a binary decision in their innermost loop (ppm, bwt's runs stage): a method of another
# extension module is called through a pointer, which the C compiler cannot inline, and the step
# is a few instructions. The methods in rangecoder_kernel.py are the reference: keep the two in
# step. Kernels running as plain Python use rangecoder_inline.py, which calls the methods, so
# the tests that compare compiled and pure kernels' payloads (tests/test_ppm.py,
# tests/test_bwt.py) check that the two agree.
# (1 << 24) below is rangecoder_kernel's TOP and 16 its P_BITS: module constants of a .py kernel
# cannot be cimported.
from pyarc_plugins.coding.rangecoder_kernel cimport RangeDecoder, RangeEncoder


cdef inline void encode_bit(RangeEncoder coder, unsigned int p0, unsigned int bit) noexcept nogil:
    """Code `bit`, of probability of a zero p0 / 2**16 (0 < p0 < 2**16)."""
    cdef unsigned int bound = (coder.width >> 16) * p0
    if bit:
        coder.low += bound
        coder.width -= bound
    else:
        coder.width = bound
    if coder.width < (1 << 24):
        coder._normalize()


cdef inline unsigned int decode_bit(RangeDecoder coder, unsigned int p0) noexcept nogil:
    """The bit that encode_bit(coder, p0, bit) coded."""
    cdef unsigned int bound = (coder.width >> 16) * p0
    cdef unsigned int bit = 0
    if coder.code < bound:
        coder.width = bound
    else:
        coder.code -= bound
        coder.width -= bound
        bit = 1
    if coder.width < (1 << 24):
        coder._normalize()
    return bit
