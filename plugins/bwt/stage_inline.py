"""The steps that both second stages take for each decision (spec/codecs/bwt.md, sections 2
and 5): every decision is a range-coder bit whose probability of a 0 is clamped to
[MIN_P, MAX_P] (in units of 2**-16, so a decision costs at most 11 bits), and a decoding loop
stops once the range decoder has failed.

A stage writes its coding loop once, over a `Coder`: a RangeEncoder or a RangeDecoder (compiled,
their fused type: see stage_inline.pxd). Compiled kernels cimport the inline C versions from
stage_inline.pxd; these are the same steps for kernels running as plain Python.
"""

MIN_P = 32
MAX_P = (1 << 16) - 32

Coder = object  # (compiled: the fused type of RangeEncoder and RangeDecoder)


def encoding(coder):
    return hasattr(coder, "encode_bit_p")


def code_decision(coder, p0, bit):
    p0 = min(max(p0, MIN_P), MAX_P)
    if encoding(coder):
        coder.encode_bit_p(p0, bit)
        return bit
    return coder.decode_bit_p(p0)


def decoding_failed(coder):
    return not encoding(coder) and coder.failed()


def decoding_corrupt(coder):
    if not encoding(coder):
        coder.corrupt = True
