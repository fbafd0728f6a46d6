# The range coder's steps as inline functions, for kernels that code decisions in their
# innermost loop (ppm, bwt's runs stage, lz77's range-coded tokens): a method of another
# extension module is called through a pointer, which the C compiler cannot inline, and a step
# is a few instructions. The methods in rangecoder_kernel.py are the reference: keep the two in
# step. Kernels running as plain Python use rangecoder_inline.py, which calls the methods, so
# the tests that compare compiled and pure kernels' payloads (tests/test_ppm.py,
# tests/test_bwt.py, tests/test_codec_vectors.py) check that the two agree.
#
# encode_bit / decode_bit are the two directions of one step. The code_* functions take a
# `Coder`, the fused type of RangeEncoder and RangeDecoder, and do what its direction needs, so
# that a model writes each decision once: encoding, they code the value given and return it;
# decoding, they ignore it and return the value decoded. A loop over a Coder is compiled once
# for each type, so the direction is settled when compiling (`Coder is RangeEncoder` is a
# constant in each version) and no decision pays for a test of it. (A wrapper that held either
# and tested which at every bit made bwt's runs stage encode about 6% slower.)
# (1 << 24) below is rangecoder_kernel's TOP, 16 its P_BITS, 11 its PROB_BITS and 5 its
# ADAPT_SHIFT: module constants of a .py kernel cannot be cimported.
from pyarc_plugins.coding.rangecoder_kernel cimport RangeDecoder, RangeEncoder


ctypedef fused Coder:
    RangeEncoder
    RangeDecoder


cdef inline bint encoding(Coder coder) noexcept nogil:
    """True when the loop encodes (compiled: a constant)."""
    return Coder is RangeEncoder


cdef inline bint decoding_failed(Coder coder) noexcept nogil:
    """True once a decoder has proved its payload corrupt (never when encoding)."""
    if Coder is RangeEncoder:
        return False
    else:
        return coder.failed()


cdef inline void _encode_bound(RangeEncoder coder, unsigned int bound, unsigned int bit) noexcept nogil:
    """Code `bit`, whose zero takes the first `bound` of the coder's width."""
    if bit:
        coder.low += bound
        coder.width -= bound
    else:
        coder.width = bound
    if coder.width < (1 << 24):
        coder._normalize()


cdef inline unsigned int _decode_bound(RangeDecoder coder, unsigned int bound) noexcept nogil:
    """The bit that _encode_bound(coder, bound, bit) coded."""
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


cdef inline void encode_bit(RangeEncoder coder, unsigned int p0, unsigned int bit) noexcept nogil:
    """Code `bit`, of probability of a zero p0 / 2**16 (0 < p0 < 2**16)."""
    _encode_bound(coder, (coder.width >> 16) * p0, bit)


cdef inline unsigned int decode_bit(RangeDecoder coder, unsigned int p0) noexcept nogil:
    """The bit that encode_bit(coder, p0, bit) coded."""
    return _decode_bound(coder, (coder.width >> 16) * p0)


cdef inline unsigned int code_bit(Coder coder, unsigned int p0, unsigned int bit) noexcept nogil:
    """A bit of probability of a zero p0 / 2**16 (encode_bit_p / decode_bit_p)."""
    if Coder is RangeEncoder:
        encode_bit(coder, p0, bit)
        return bit
    else:
        return decode_bit(coder, p0)


cdef inline unsigned int code_model_bit(Coder coder, unsigned short[:] probs, Py_ssize_t index,
                                        unsigned int bit) noexcept nogil:
    """A bit under the adaptive model probs[index], which learns it (encode_bit / decode_bit,
    whose probabilities are 11-bit and which move 1/32 of the way towards each bit)."""
    cdef unsigned int prob = probs[index]
    if Coder is RangeEncoder:
        _encode_bound(coder, (coder.width >> 11) * prob, bit)
    else:
        bit = _decode_bound(coder, (coder.width >> 11) * prob)
    if bit:
        probs[index] = prob - (prob >> 5)
    else:
        probs[index] = prob + (((1 << 11) - prob) >> 5)
    return bit


cdef inline unsigned int code_tree(Coder coder, unsigned short[:] probs, Py_ssize_t base,
                                   int nbits, unsigned int value) noexcept nogil:
    """An `nbits`-bit value down a tree of models, high bit first (encode_tree / decode_tree)."""
    cdef unsigned int node = 1
    cdef int i
    for i in range(nbits - 1, -1, -1):
        node = (node << 1) | code_model_bit(coder, probs, base + node, (value >> i) & 1)
    return node - (<unsigned int>1 << nbits)


cdef inline unsigned int code_direct(Coder coder, unsigned int value, int nbits) noexcept nogil:
    """`nbits` equiprobable bits (encode_direct / decode_direct)."""
    if Coder is RangeEncoder:
        coder.encode_direct(value, nbits)
        return value
    else:
        return coder.decode_direct(nbits)


cdef inline Py_ssize_t code_size(Coder coder, Py_ssize_t size, int length_bits) noexcept nogil:
    """A block's size, which opens a stream so that a payload decoded against another size is
    refused instead of read on into zeros: its bit length in `length_bits` direct bits, then
    its bits (above 32, the high ones first). Encoding, code `size`; decoding, return the size
    coded."""
    cdef int length = 0
    cdef Py_ssize_t high = 0
    while (size >> length) != 0:
        length += 1
    length = code_direct(coder, length, length_bits)
    if length > 32:
        high = code_direct(coder, <unsigned int>(size >> 32), length - 32)
        length = 32
    return (high << length) | code_direct(coder, <unsigned int>size, length)  # (its low 32 bits)


cdef inline unsigned int code_target(Coder coder, unsigned int total) noexcept nogil:
    """Decoding: the cumulative count (< total) that the next symbol's interval holds
    (decode_target); the caller finds that symbol, then calls code_range. Encoding: 0 (the
    caller finds its symbol by value)."""
    if Coder is RangeEncoder:
        return 0
    else:
        return coder.decode_target(total)


cdef inline void code_range(Coder coder, unsigned int cum, unsigned int freq,
                            unsigned int total) noexcept nogil:
    """The symbol whose interval is [cum, cum + freq) of total (encode / decode_consume)."""
    if Coder is RangeEncoder:
        coder.encode(cum, freq, total)
    else:
        coder.decode_consume(cum, freq)
