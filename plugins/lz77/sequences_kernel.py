"""Writing and reading LZ77 sequences: each of literal length, match length and offset value
as a Huffman-coded bucket followed by extra bits, and executing them to rebuild a block.

Bucket codes grow with log2 of the value (16 codes of their own, then four per power of two,
the bits below following as extra bits), and offset values 0-2 reuse one of the last three
distances (update_repeats keeps them). The payload is specified in spec/codecs/lz77.md.

parse_kernel cimports bucket, extra_bits and update_repeats, so that the encoder prices and
tracks exactly what this module writes and reads.
"""

from array import array

import cython

if cython.compiled:
    from cython.cimports.pyarc_plugins.coding.bitio_kernel import BitReader, BitWriter
else:
    from pyarc_plugins.coding.bitio_kernel import BitReader, BitWriter

CODES = 128
DIRECT = cython.declare(cython.const[cython.uint], 16)
MIN_MATCH = cython.declare(cython.const[cython.uint], 4)
REPEATS = cython.declare(cython.const[cython.int], 3)


@cython.cfunc
@cython.nogil
@cython.exceptval(check=False)
def bucket(value: cython.uint) -> cython.uint:
    """The bucket code of a value."""
    top: cython.uint = 0  # the index of the highest set bit
    if value < DIRECT:
        return value
    while (value >> top) > 1:
        top += 1
    return DIRECT + 4 * (top - 4) + ((value >> (top - 2)) & 3)


@cython.cfunc
@cython.nogil
@cython.exceptval(check=False)
def extra_bits(code: cython.uint) -> cython.int:
    """How many extra bits follow a bucket code."""
    if code < DIRECT:
        return 0
    return cython.cast(cython.int, (code - DIRECT) >> 2) + 2  # n - 2, n = the top bit


def initial_repeats(count: int = 1):
    """The repeat offsets at the start of a block (1, 4, 8), `count` times over."""
    return array("i", [1, 4, 8]) * count


@cython.boundscheck(False)  # callers pass slots of three inside reps
@cython.wraparound(False)
@cython.cfunc
@cython.nogil
@cython.exceptval(check=False)
def update_repeats(reps: cython.int[:], source: cython.Py_ssize_t, target: cython.Py_ssize_t,
                   value: cython.Py_ssize_t) -> cython.void:
    """The repeat offsets after a match with this offset value: reps[target:target + 3] from
    reps[source:source + 3] (which may be the same three). A repeat moves to the front; a new
    distance goes in front of the others. The match's distance ends up in reps[target]."""
    r0: cython.int = reps[source]
    r1: cython.int = reps[source + 1]
    r2: cython.int = reps[source + 2]
    if value >= REPEATS:
        reps[target] = cython.cast(cython.int, value - 2)
        reps[target + 1] = r0
        reps[target + 2] = r1
    elif value == 0:
        reps[target] = r0
        reps[target + 1] = r1
        reps[target + 2] = r2
    elif value == 1:
        reps[target] = r1
        reps[target + 1] = r0
        reps[target + 2] = r2
    else:
        reps[target] = r2
        reps[target + 1] = r0
        reps[target + 2] = r1


@cython.ccall
def bucket_counts(values: cython.uint[:], minus: cython.uint = 0) -> list:
    """How often each bucket code occurs among the `values` less `minus`."""
    counts_buffer = bytearray(8 * CODES)
    counts: cython.ulonglong[:] = memoryview(counts_buffer).cast("Q")
    i: cython.Py_ssize_t
    size: cython.Py_ssize_t = len(values)
    with cython.nogil:
        for i in range(size):
            counts[bucket(values[i] - minus)] += 1
    return list(memoryview(counts_buffer).cast("Q"))


@cython.cfunc
@cython.inline
@cython.nogil
@cython.exceptval(check=False)
def _write_value(writer: BitWriter, value: cython.uint, codes: cython.uint[:],
                 lengths: cython.uchar[:]) -> cython.void:
    code: cython.uint = bucket(value)
    writer.write(codes[code], lengths[code])
    writer.write(value, extra_bits(code))


@cython.ccall
def write_sequences(writer: BitWriter, literal_lengths: cython.uint[:],
                    match_lengths: cython.uint[:], offset_values: cython.uint[:],
                    ll_codes: cython.uint[:], ll_lengths: cython.uchar[:],
                    ml_codes: cython.uint[:], ml_lengths: cython.uchar[:],
                    of_codes: cython.uint[:], of_lengths: cython.uchar[:]) -> cython.void:
    """Append every sequence: literal length, match length - MIN_MATCH, offset value."""
    i: cython.Py_ssize_t
    count: cython.Py_ssize_t = len(literal_lengths)
    with cython.nogil:
        for i in range(count):
            _write_value(writer, literal_lengths[i], ll_codes, ll_lengths)
            _write_value(writer, match_lengths[i] - MIN_MATCH, ml_codes, ml_lengths)
            _write_value(writer, offset_values[i], of_codes, of_lengths)


@cython.cfunc
@cython.inline
@cython.nogil
@cython.exceptval(check=False)
def _read_value(reader: BitReader, table: cython.ushort[:],
                max_length: cython.int) -> cython.longlong:
    entry: cython.ushort = table[reader.peek(max_length)]
    code: cython.uint = entry >> 4
    extra: cython.int = extra_bits(code)
    reader.skip(entry & 15)
    if code < DIRECT:
        return code
    if extra > 26:
        return -1  # beyond any block: corrupt
    return ((cython.cast(cython.longlong, 4 | ((code - DIRECT) & 3)) << extra)
            | cython.cast(cython.longlong, reader.read(extra)))


@cython.boundscheck(False)  # every copy is checked against what exists before it is made
@cython.wraparound(False)
@cython.ccall
def execute(reader: BitReader, sequences: cython.Py_ssize_t,
            literals: cython.const[cython.uchar][:], size: cython.Py_ssize_t,
            ll_table: cython.ushort[:], ll_max: cython.int,
            ml_table: cython.ushort[:], ml_max: cython.int,
            of_table: cython.ushort[:], of_max: cython.int) -> bytes:
    """Read `sequences` sequences and rebuild the block from them and the literals.

    Returns fewer than `size` bytes if a sequence is impossible (more literals than there are,
    an offset before the start of the block, output beyond `size`), if the literals left after
    the last sequence do not fill the block exactly, or if the reader ran past its data; the
    caller checks. (A block that is full before every sequence and literal is used is such a
    failure too: the bytes it holds are returned one short.)
    """
    out = bytearray(size)
    data: cython.uchar[:] = out
    pos: cython.Py_ssize_t = 0
    used: cython.Py_ssize_t = 0  # literals consumed
    available: cython.Py_ssize_t = len(literals)
    reps: cython.int[:] = initial_repeats()
    _sequence: cython.Py_ssize_t
    k: cython.Py_ssize_t
    literal_length: cython.longlong
    match_length: cython.longlong
    value: cython.longlong
    distance: cython.longlong
    ok: cython.bint = True
    if (len(ll_table) < (1 << ll_max) or len(ml_table) < (1 << ml_max)
            or len(of_table) < (1 << of_max)):
        raise ValueError("a decoding table does not match its max_length")
    with cython.nogil:
        for _sequence in range(sequences):
            literal_length = _read_value(reader, ll_table, ll_max)
            match_length = _read_value(reader, ml_table, ml_max) + MIN_MATCH
            value = _read_value(reader, of_table, of_max)
            if (literal_length < 0 or match_length < MIN_MATCH or value < 0
                    or literal_length > available - used or literal_length > size - pos
                    or reader.overrun_bits() > 0):
                ok = False
                break
            for k in range(literal_length):
                data[pos + k] = literals[used + k]
            pos += literal_length
            used += literal_length
            update_repeats(reps, 0, 0, value)
            distance = reps[0]
            if distance > pos or match_length > size - pos:
                ok = False
                break
            for k in range(match_length):  # byte by byte: the source may overlap the copy
                data[pos + k] = data[pos - distance + k]
            pos += match_length
        if ok and available - used == size - pos:  # the literals after the last match
            for k in range(available - used):
                data[pos + k] = literals[used + k]
            pos += available - used
        else:
            ok = False
    return bytes(out) if ok else bytes(out[:min(pos, size - 1)])
