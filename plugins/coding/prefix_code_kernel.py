"""Static canonical prefix codes (such as Huffman codes) in a bit stream: the codes that follow
from the code lengths alone, the compact table of lengths that a payload carries instead of the
codes, the decoding table, and the bulk writing and reading of prefix-coded bytes.

Canonical codes (as in Deflate, RFC 1951 section 3.2.2): codes of equal length are consecutive
integers in symbol order, and each length starts where the shorter ones left off, shifted left.
So a decoder needs only the lengths.

The length table: the length of each symbol in turn as the Elias gamma code of
zigzag(length - previous length) + 1, previous starting at 0. Neighbouring symbols (letters,
digits, unused ranges) tend to have equal or close lengths, so most cost one to five bits.

write_codes and read_codes write and read a prefix-coded run of bytes, optionally with the runs
of one byte written as their lengths (the symbols RUN_A and RUN_B, as bzip2 codes runs of
zeros); read_codes decodes with one lookup per symbol in a table (decode_table). They step the
bit writer and reader through bitio_inline, so that the per-symbol steps are inlined.

All of it is specified in spec/codecs/coding.md (Prefix codes); prefix_code_sections.py puts
it together into the sections that codecs embed.
"""

import cython

if cython.compiled:
    from cython.cimports.pyarc_plugins.coding.bitio_inline import peek_bits, skip_bits, write_bits
    from cython.cimports.pyarc_plugins.coding.bitio_kernel import BitReader, BitWriter
    from cython.cimports.pyarc_plugins.coding.integer_codes_kernel import (
        read_gamma,
        unzigzag,
        write_gamma,
        zigzag,
    )
else:
    from pyarc_plugins.coding.bitio_inline import peek_bits, skip_bits, write_bits
    from pyarc_plugins.coding.bitio_kernel import BitReader, BitWriter
    from pyarc_plugins.coding.integer_codes_kernel import read_gamma, unzigzag, write_gamma, zigzag

#: Code lengths are below this (the decoding table allows 15 bits).
LENGTH_LIMIT = cython.declare(cython.const[cython.int], 16)
RUN_A = cython.declare(cython.const[cython.uint], 256)
RUN_B = cython.declare(cython.const[cython.uint], 257)
#: Symbols of a prefix code with run digits: the 256 bytes, RUN_A and RUN_B (a Python int,
#: so that codecs can import it).
RUN_SYMBOLS = 258
#: A decoded run is at most 2**MAX_RUN_DIGITS - 1 bytes long (far above any block).
MAX_RUN_DIGITS = cython.declare(cython.const[cython.int], 40)
#: Codes in a decoding table are at most this long (entry = symbol << 4 | length).
MAX_TABLE_BITS = cython.declare(cython.const[cython.int], 15)


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


@cython.boundscheck(False)  # start < size, and the scan stops at size
@cython.wraparound(False)
@cython.cfunc
@cython.inline
@cython.nogil
@cython.exceptval(check=False)
def _run_end(data: cython.const[cython.uchar][:], start: cython.Py_ssize_t,
             size: cython.Py_ssize_t) -> cython.Py_ssize_t:
    """Where the run of data[start] that begins at start ends."""
    end: cython.Py_ssize_t = start + 1
    while end < size and data[end] == data[start]:
        end += 1
    return end


@cython.cfunc
@cython.inline
@cython.nogil
@cython.exceptval(check=False)
def _run_digit(run: cython.Py_ssize_t) -> cython.uint:
    """The lowest digit of a run length in bijective base 2: RUN_A (1) or RUN_B (2)."""
    return RUN_A if run & 1 else RUN_B


@cython.cfunc
@cython.inline
@cython.nogil
@cython.exceptval(check=False)
def _run_rest(run: cython.Py_ssize_t) -> cython.Py_ssize_t:
    """The run length without its lowest digit (read_codes adds digits back, lowest first)."""
    return (run - 1) >> 1 if run & 1 else (run - 2) >> 1


@cython.boundscheck(False)  # i < size; symbols index the 258 counts
@cython.wraparound(False)
@cython.ccall
def symbol_counts(data: cython.const[cython.uchar][:], run_byte: cython.int = -1) -> list:
    """How often each byte occurs in `data`; with a run byte (0..255), each run of it counts
    as its run digits instead, and the list has 258 entries."""
    counts_buffer = bytearray(8 * RUN_SYMBOLS)
    counts: cython.ulonglong[:] = memoryview(counts_buffer).cast("Q")
    i: cython.Py_ssize_t = 0
    run: cython.Py_ssize_t
    size: cython.Py_ssize_t = len(data)
    with cython.nogil:
        while i < size:
            if data[i] != run_byte:
                counts[data[i]] += 1
                i += 1
                continue
            run = _run_end(data, i, size) - i
            i += run
            while run > 0:
                counts[_run_digit(run)] += 1
                run = _run_rest(run)
    return list(memoryview(counts_buffer).cast("Q"))[: RUN_SYMBOLS if run_byte >= 0 else 256]


@cython.boundscheck(False)  # symbol and index ranges are checked
@cython.wraparound(False)
@cython.ccall
def decode_table(lengths: cython.uchar[:], codes: cython.uint[:], max_length: cython.int):
    """The table read_codes decodes with: for every value v of the next max_length bits,
    table[v] = symbol << 4 | code length, the symbol whose code v starts with.

    The code must be complete (Kraft sum exactly 1) for every entry to be set: a decoder
    checks that before it builds the table.
    """
    if not 1 <= max_length <= MAX_TABLE_BITS or len(lengths) > RUN_SYMBOLS:
        raise ValueError("codes of 1 to 15 bits for at most 258 symbols")
    if len(codes) < len(lengths):
        raise ValueError("a code for every length is needed")
    table_buffer = bytearray(2 << max_length)
    table: cython.ushort[:] = memoryview(table_buffer).cast("H")
    symbol: cython.int
    length: cython.int
    first: cython.Py_ssize_t
    index: cython.Py_ssize_t
    for symbol in range(len(lengths)):
        length = lengths[symbol]
        if length == 0:
            continue
        if length > max_length or codes[symbol] >> length:
            raise ValueError(f"symbol {symbol}: code does not fit its length")
        first = cython.cast(cython.Py_ssize_t, codes[symbol]) << (max_length - length)
        for index in range(first, first + (cython.cast(cython.Py_ssize_t, 1)
                                           << (max_length - length))):
            table[index] = (symbol << 4) | length
    return memoryview(table_buffer).cast("H")


@cython.boundscheck(False)  # bytes and run digits index tables checked to fit them
@cython.wraparound(False)
@cython.ccall
def write_codes(writer: BitWriter, data: cython.const[cython.uchar][:], codes: cython.uint[:],
                lengths: cython.uchar[:], run_byte: cython.int = -1) -> cython.void:
    """Append codes[b] (lengths[b] bits) for every byte b of `data` to `writer`; with a run
    byte (0..255), each run of it as its run digits (see the module docstring)."""
    i: cython.Py_ssize_t = 0
    run: cython.Py_ssize_t
    digit: cython.uint
    size: cython.Py_ssize_t = len(data)
    symbols: cython.int = RUN_SYMBOLS if run_byte >= 0 else 256
    if len(codes) < symbols or len(lengths) < symbols:
        raise ValueError(f"codes and lengths need {symbols} entries")
    with cython.nogil:
        while i < size:
            if data[i] != run_byte:
                write_bits(writer, codes[data[i]], lengths[data[i]])
                i += 1
                continue
            run = _run_end(data, i, size) - i
            i += run
            while run > 0:
                digit = _run_digit(run)
                write_bits(writer, codes[digit], lengths[digit])
                run = _run_rest(run)


@cython.boundscheck(False)  # the table has 2**max_length entries (checked), and runs
@cython.wraparound(False)  # are checked against the room left in the output
@cython.ccall
def read_codes(reader: BitReader, table: cython.ushort[:], max_length: cython.int,
               size: cython.Py_ssize_t, run_byte: cython.int = -1) -> bytes:
    """Decode `size` bytes written by write_codes, with the same run byte.

    Returns fewer bytes if the symbols are corrupt (a run longer than the room left, too
    many run digits) and stops early once the reader runs past its data: a caller checks
    the length and reader.overrun_bits().
    """
    out = bytearray(size)
    data: cython.uchar[:] = out
    pos: cython.Py_ssize_t = 0
    run: cython.Py_ssize_t = 0  # the length of the pending run, from its digits so far
    digits: cython.int = 0
    entry: cython.ushort
    symbol: cython.uint
    corrupt: cython.bint = False
    if not 1 <= max_length <= MAX_TABLE_BITS or len(table) < (1 << max_length):
        raise ValueError("the decoding table does not match max_length")
    with cython.nogil:
        if run_byte < 0:  # no runs: the tightest loop, one lookup per byte
            while pos < size:
                entry = table[peek_bits(reader, max_length)]
                skip_bits(reader, entry & 15)
                data[pos] = entry >> 4
                pos += 1
                if (pos & 4095) == 0 and reader.overrun_bits() > 0:
                    break
        else:
            while pos + run < size:
                entry = table[peek_bits(reader, max_length)]
                skip_bits(reader, entry & 15)
                symbol = entry >> 4
                if symbol >= RUN_A:
                    if digits == MAX_RUN_DIGITS:
                        corrupt = True
                        break
                    run += cython.cast(cython.Py_ssize_t, symbol - RUN_A + 1) << digits
                    digits += 1
                    continue
                while run > 0:
                    data[pos] = run_byte
                    pos += 1
                    run -= 1
                digits = 0
                data[pos] = symbol
                pos += 1
                if (pos & 4095) == 0 and reader.overrun_bits() > 0:
                    break
            if not corrupt and pos + run == size:
                while run > 0:
                    data[pos] = run_byte
                    pos += 1
                    run -= 1
    return bytes(out[:pos]) if pos < size else bytes(out)
