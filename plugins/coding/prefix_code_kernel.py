"""Canonical prefix codes: the codes that follow from the code lengths alone, and the compact
table of lengths that a payload carries instead of the codes.

Canonical codes (as in Deflate, RFC 1951 section 3.2.2): codes of equal length are consecutive
integers in symbol order, and each length starts where the shorter ones left off, shifted left.
So a decoder needs only the lengths.

The length table: the length of each symbol in turn as the Elias gamma code of
zigzag(length - previous length) + 1, previous starting at 0. Neighbouring symbols (letters,
digits, unused ranges) tend to have equal or close lengths, so most cost one to five bits.

Both are specified in spec/codecs/coding.md (Prefix codes).
"""

import cython

if cython.compiled:
    from cython.cimports.pyarc_plugins.coding.bitio_kernel import BitReader, BitWriter
    from cython.cimports.pyarc_plugins.coding.integer_codes_kernel import (
        read_gamma,
        unzigzag,
        write_gamma,
        zigzag,
    )
else:
    from pyarc_plugins.coding.bitio_kernel import BitReader, BitWriter
    from pyarc_plugins.coding.integer_codes_kernel import read_gamma, unzigzag, write_gamma, zigzag

#: Code lengths are below this (the decoding table allows 15 bits).
LENGTH_LIMIT = cython.declare(cython.const[cython.int], 16)


@cython.ccall
def canonical_codes(lengths) -> list:
    """The canonical code of each symbol (0 where its length is 0)."""
    symbols: cython.Py_ssize_t = len(lengths)
    count_of_length = [0] * LENGTH_LIMIT
    next_code = [0] * LENGTH_LIMIT
    codes = [0] * symbols
    length: cython.int
    code: cython.ulonglong = 0
    symbol: cython.Py_ssize_t
    for symbol in range(symbols):
        count_of_length[lengths[symbol]] += 1
    count_of_length[0] = 0
    for length in range(1, LENGTH_LIMIT):
        code = (code + count_of_length[length - 1]) << 1
        next_code[length] = code
    for symbol in range(symbols):
        length = lengths[symbol]
        if length:
            codes[symbol] = next_code[length]
            next_code[length] += 1
    return codes


@cython.ccall
def write_code_lengths(writer: BitWriter, lengths) -> cython.void:
    """Append the length table (see the module docstring)."""
    previous: cython.longlong = 0
    length: cython.longlong
    for length in lengths:
        write_gamma(writer, zigzag(length - previous) + 1)
        previous = length


@cython.ccall
def length_table_bits(lengths) -> cython.Py_ssize_t:
    """How many bits write_code_lengths writes for these lengths."""
    bits: cython.Py_ssize_t = 0
    previous: cython.longlong = 0
    length: cython.longlong
    value: cython.ulonglong
    for length in lengths:
        value = zigzag(length - previous) + 1
        while value:  # a gamma code has 2 * bit_length - 1 bits
            bits += 2
            value >>= 1
        bits -= 1
        previous = length
    return bits


@cython.ccall
def read_code_lengths(reader: BitReader, symbols: cython.int, max_length: cython.int):
    """Read the lengths of `symbols` symbols, each 0..max_length; None if the table is
    malformed. (Whether the lengths form a complete code is for the caller to check.)"""
    lengths = bytearray(symbols)
    previous: cython.longlong = 0
    length: cython.longlong
    code: cython.ulonglong
    symbol: cython.int
    for symbol in range(symbols):
        code = read_gamma(reader)
        if code == 0:
            return None
        length = previous + unzigzag(code - 1)
        if length < 0 or length > max_length:
            return None
        lengths[symbol] = length
        previous = length
    return lengths
