"""The range coder's one-bit steps as functions, for kernels running as plain Python.

Compiled kernels cimport the inline C versions from rangecoder_inline.pxd instead (see there);
these call the methods they mirror.
"""


def encode_bit(coder, p0, bit):
    """Code `bit`, of probability of a zero p0 / 2**16: RangeEncoder.encode_bit_p."""
    coder.encode_bit_p(p0, bit)


def decode_bit(coder, p0):
    """The bit that encode_bit(coder, p0, bit) coded: RangeDecoder.decode_bit_p."""
    return coder.decode_bit_p(p0)
