# The steps that both second stages (runs_kernel, context_model_kernel) take for each decision,
# as inline functions (spec/codecs/bwt.md, sections 2 and 5): every decision is a range-coder
# bit whose probability is clamped to [32, 2**16 - 32], and a decoding loop stops once the
# range decoder has failed. Kernels running as plain Python use stage_inline.py, the same
# steps; tests/test_bwt.py checks that compiled and pure payloads agree.
#
# A stage writes its coding loop once, over a `Coder` (coding/rangecoder_inline: the fused type
# of the RangeEncoder and the RangeDecoder, so the loop is compiled once for each).
from pyarc_plugins.coding.rangecoder_inline cimport Coder, code_bit
from pyarc_plugins.coding.rangecoder_kernel cimport RangeDecoder, RangeEncoder


cdef inline unsigned int code_decision(Coder coder, unsigned int p0,
                                       unsigned int bit) noexcept nogil:
    """A decision of probability of a zero clamp(p0) / 2**16 (so it costs at most 11 bits):
    encoding, `bit` is coded and returned; decoding, the bit decoded is returned."""
    return code_bit(coder, min(max(p0, 32), (1 << 16) - 32), bit)


cdef inline void decoding_corrupt(Coder coder) noexcept nogil:
    """Mark the payload corrupt (decoding: RangeDecoder.finish then refuses it)."""
    if Coder is RangeDecoder:
        coder.corrupt = True
