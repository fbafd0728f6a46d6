"""The range coder's steps as functions, for kernels running as plain Python.

Compiled kernels cimport the inline C versions from rangecoder_inline.pxd instead (see there
for what each does); these call the methods they mirror. A `Coder` is a RangeEncoder or a
RangeDecoder (compiled, their fused type).
"""

Coder = object  # (compiled: the fused type of RangeEncoder and RangeDecoder)


def encoding(coder):
    return hasattr(coder, "encode_bit_p")


def decoding_failed(coder):
    return not encoding(coder) and coder.failed()


def encode_bit(coder, p0, bit):
    """Code `bit`, of probability of a zero p0 / 2**16: RangeEncoder.encode_bit_p."""
    coder.encode_bit_p(p0, bit)


def decode_bit(coder, p0):
    """The bit that encode_bit(coder, p0, bit) coded: RangeDecoder.decode_bit_p."""
    return coder.decode_bit_p(p0)


def code_bit(coder, p0, bit):
    if encoding(coder):
        coder.encode_bit_p(p0, bit)
        return bit
    return coder.decode_bit_p(p0)


def code_model_bit(coder, probs, index, bit):
    if encoding(coder):
        coder.encode_bit(probs, index, bit)
        return bit
    return coder.decode_bit(probs, index)


def code_tree(coder, probs, base, nbits, value):
    if encoding(coder):
        coder.encode_tree(probs, base, nbits, value)
        return value
    return coder.decode_tree(probs, base, nbits)


def code_direct(coder, value, nbits):
    if encoding(coder):
        coder.encode_direct(value, nbits)
        return value
    return coder.decode_direct(nbits)


def code_size(coder, size, length_bits):
    length = 0
    high = 0
    while (size >> length) != 0:
        length += 1
    length = code_direct(coder, length, length_bits)
    if length > 32:
        high = code_direct(coder, (size >> 32) & 0xFFFFFFFF, length - 32)
        length = 32
    return (high << length) | code_direct(coder, size & 0xFFFFFFFF, length)


def code_target(coder, total):
    return 0 if encoding(coder) else coder.decode_target(total)


def code_range(coder, cum, freq, total):
    if encoding(coder):
        coder.encode(cum, freq, total)
    else:
        coder.decode_consume(cum, freq)
