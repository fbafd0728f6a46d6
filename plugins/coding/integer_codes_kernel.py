"""Universal codes for positive integers (Elias gamma and delta) and the zigzag map for signed ones.

Gamma codes (2 log2 n + 1 bits) suit small numbers, delta codes (about log2 n + 2 log2 log2 n
bits) large ones; both are prefix codes, so they mix freely with other fields of a bit stream.
The readers return 0 (never a valid value) for a malformed code. The codes, and what is
malformed, are specified in spec/codecs/coding.md, section "Elias codes".
"""

import cython

if cython.compiled:
    from cython.cimports.pyarc_plugins.coding.bitio_kernel import BitReader, BitWriter
else:
    from pyarc_plugins.coding.bitio_kernel import BitReader, BitWriter

#: The largest bit length a code may carry (values below 2**MAX_CODE_BITS).
MAX_CODE_BITS = cython.declare(cython.const[cython.int], 56)


@cython.ccall
@cython.nogil
@cython.exceptval(check=False)
def bit_length(value: cython.ulonglong) -> cython.int:
    """Number of bits needed to write `value` (0 for 0)."""
    length: cython.int = 0
    while value:
        value >>= 1
        length += 1
    return length


@cython.ccall
@cython.nogil
@cython.exceptval(check=False)
def write_gamma(writer: BitWriter, value: cython.ulonglong) -> cython.void:
    """Elias gamma code of 1 <= value < 2**56."""
    length: cython.int = bit_length(value)
    writer.write(0, length - 1)
    writer.write(value, length)


@cython.ccall
@cython.nogil
@cython.exceptval(check=False)
def read_gamma(reader: BitReader) -> cython.ulonglong:
    """Read an Elias gamma code; 0 if it is malformed."""
    zeros: cython.int = 0
    while reader.read(1) == 0:
        zeros += 1
        if zeros >= MAX_CODE_BITS:
            return 0
    return (cython.cast(cython.ulonglong, 1) << zeros) | reader.read(zeros)


@cython.ccall
@cython.nogil
@cython.exceptval(check=False)
def write_delta(writer: BitWriter, value: cython.ulonglong) -> cython.void:
    """Elias delta code of 1 <= value < 2**56."""
    length: cython.int = bit_length(value)
    write_gamma(writer, length)
    writer.write(value, length - 1)  # the bits below the leading one


@cython.ccall
@cython.nogil
@cython.exceptval(check=False)
def read_delta(reader: BitReader) -> cython.ulonglong:
    """Read an Elias delta code; 0 if it is malformed."""
    length: cython.ulonglong = read_gamma(reader)
    if length == 0 or length > MAX_CODE_BITS:
        return 0
    return (cython.cast(cython.ulonglong, 1) << (length - 1)) | reader.read(
        cython.cast(cython.int, length - 1))


@cython.ccall
@cython.nogil
@cython.exceptval(check=False)
def zigzag(value: cython.longlong) -> cython.ulonglong:
    """Map signed to unsigned so that small magnitudes stay small: 0, -1, 1, -2 -> 0, 1, 2, 3."""
    if value >= 0:
        return cython.cast(cython.ulonglong, value) << 1
    return (cython.cast(cython.ulonglong, -(value + 1)) << 1) | 1


@cython.ccall
@cython.nogil
@cython.exceptval(check=False)
def unzigzag(value: cython.ulonglong) -> cython.longlong:
    """The inverse of zigzag."""
    if value & 1:
        return -cython.cast(cython.longlong, value >> 1) - 1
    return cython.cast(cython.longlong, value >> 1)
