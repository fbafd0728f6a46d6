"""The steps that both second stages take for each decision (spec/codecs/bwt.md, sections 2
and 5): every decision is a range-coder bit whose probability of a 0 is clamped to
[MIN_P, MAX_P] (in units of 2**-16, so a decision costs at most 11 bits).

A stage writes its coding loop once, over a `Coder`: a RangeEncoder or a RangeDecoder (see
coding/rangecoder_inline). Compiled kernels cimport the inline C versions from
stage_inline.pxd; these are the same steps for kernels running as plain Python.
"""

from pyarc_plugins.coding.rangecoder_inline import code_bit, encoding

MIN_P = 32
MAX_P = (1 << 16) - 32


def code_decision(coder, p0, bit):
    return code_bit(coder, min(max(p0, MIN_P), MAX_P), bit)


def decoding_corrupt(coder):
    if not encoding(coder):
        coder.corrupt = True
