# The steps that both second stages (runs_kernel, context_model_kernel) take for each decision,
# as inline functions (spec/codecs/bwt.md, sections 2 and 5): every decision is a range-coder
# bit whose probability is clamped to [32, 2**16 - 32], and a decoding loop stops once the
# range decoder has failed. Kernels running as plain Python use stage_inline.py, the same
# steps; tests/test_bwt.py checks that compiled and pure payloads agree.
from pyarc_plugins.coding.rangecoder_inline cimport code_bit
from pyarc_plugins.coding.rangecoder_kernel cimport RangeCoder


cdef inline unsigned int code_decision(RangeCoder coder, unsigned int p0,
                                       unsigned int bit) noexcept nogil:
    """A decision of probability of a zero clamp(p0) / 2**16 (so it costs at most 11 bits):
    encoding, `bit` is coded and returned; decoding, the bit decoded is returned."""
    return code_bit(coder, min(max(p0, 32), (1 << 16) - 32), bit)


cdef inline bint decoding_failed(RangeCoder coder) noexcept nogil:
    """True once a decoder has proved its payload corrupt (never when encoding)."""
    return not coder.encoding and coder.decoder.failed()
