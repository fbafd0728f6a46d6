# The steps that both second stages (runs_kernel, context_model_kernel) take for each decision,
# as inline functions (spec/codecs/bwt.md, sections 2 and 5): every decision is a range-coder
# bit whose probability is clamped to [32, 2**16 - 32], and a decoding loop stops once the
# range decoder has failed. Kernels running as plain Python use stage_inline.py, the same
# steps; tests/test_bwt.py checks that compiled and pure payloads agree.
#
# A stage writes its coding loop once, over a `Coder`: the fused type of the RangeEncoder and
# the RangeDecoder. Cython compiles the loop once for each, so the direction is settled when
# compiling (`Coder is RangeEncoder` is a constant in each version) and no decision pays for a
# test of it. (Through a RangeCoder, which holds either and tests which at every bit, the runs
# stage's encoding loop took about 6% longer than without that test, on seven Calgary files.)
from pyarc_plugins.coding.rangecoder_inline cimport decode_bit, encode_bit
from pyarc_plugins.coding.rangecoder_kernel cimport RangeDecoder, RangeEncoder


ctypedef fused Coder:
    RangeEncoder
    RangeDecoder


cdef inline bint encoding(Coder coder) noexcept nogil:
    """True when the loop encodes (compiled: a constant)."""
    return Coder is RangeEncoder


cdef inline unsigned int code_decision(Coder coder, unsigned int p0,
                                       unsigned int bit) noexcept nogil:
    """A decision of probability of a zero clamp(p0) / 2**16 (so it costs at most 11 bits):
    encoding, `bit` is coded and returned; decoding, the bit decoded is returned."""
    p0 = min(max(p0, 32), (1 << 16) - 32)
    if Coder is RangeEncoder:
        encode_bit(coder, p0, bit)
        return bit
    else:
        return decode_bit(coder, p0)


cdef inline bint decoding_failed(Coder coder) noexcept nogil:
    """True once a decoder has proved its payload corrupt (never when encoding)."""
    if Coder is RangeEncoder:
        return False
    else:
        return coder.failed()


cdef inline void decoding_corrupt(Coder coder) noexcept nogil:
    """Mark the payload corrupt (decoding: RangeDecoder.finish then refuses it)."""
    if Coder is RangeDecoder:
        coder.corrupt = True
