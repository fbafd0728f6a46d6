"""Byte and bit I/O: ByteSink (a growing output buffer), BitWriter and BitReader, and the bulk
reading and writing of a static prefix code (such as a Huffman code).

Bits are written most significant first, which keeps canonical Huffman codes in numeric
order and lets a decoder peek at the next `n` bits as one integer. BitWriter.write_codes and
BitReader.read_codes write and read a prefix-coded run of bytes, optionally with the runs of
one byte written as their lengths (the symbols RUN_A and RUN_B, as bzip2 codes runs of
zeros); read_codes decodes with one lookup per symbol in a table (decode_table).

The bit order, the writer's padding, reading past the end and the run digits are specified in
spec/codecs/coding.md, sections "Bit I/O" and "Prefix codes".

The hot methods never raise and never touch Python objects, so a kernel may call them with the
GIL released. A BitReader past the end of its data reads zero bits and counts them in
`overrun_bits`; the caller decides whether that is an error (a decoder must check it).
"""

import cython

MASK64 = cython.declare(cython.const[cython.ulonglong], 0xFFFFFFFFFFFFFFFF)
#: The most bits one write() or peek() may handle (the accumulator holds up to 7 more).
MAX_BITS = cython.declare(cython.const[cython.int], 56)
RUN_A = cython.declare(cython.const[cython.uint], 256)
RUN_B = cython.declare(cython.const[cython.uint], 257)
#: Symbols of a prefix code with run digits: the 256 bytes, RUN_A and RUN_B (a Python int,
#: so that codecs can import it).
RUN_SYMBOLS = 258
#: A decoded run is at most 2**MAX_RUN_DIGITS - 1 bytes long (far above any block).
MAX_RUN_DIGITS = cython.declare(cython.const[cython.int], 40)
#: Codes in a decoding table are at most this long (entry = symbol << 4 | length).
MAX_TABLE_BITS = cython.declare(cython.const[cython.int], 15)


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


@cython.cclass
class ByteSink:
    """An output buffer of bytes that doubles its capacity when full."""

    def __init__(self, capacity: cython.Py_ssize_t = 256):
        self.buffer = bytearray(max(capacity, 16))
        self.out = self.buffer
        self.capacity = len(self.buffer)
        self.pos = 0

    @cython.boundscheck(False)  # pos < capacity: _grow() keeps it so
    @cython.wraparound(False)
    @cython.cfunc
    @cython.nogil
    @cython.exceptval(check=False)
    def put(self, byte: cython.uint) -> cython.void:
        if self.pos == self.capacity:
            with cython.gil:
                self._grow()
        self.out[self.pos] = byte & 0xFF
        self.pos += 1

    @cython.cfunc
    def _grow(self) -> cython.void:
        # A bytearray cannot be resized while a memoryview exports it: copy into a new one.
        bigger = bytearray(2 * len(self.buffer))
        bigger[: self.pos] = self.buffer[: self.pos]
        self.buffer = bigger
        self.out = self.buffer
        self.capacity = len(self.buffer)

    def written(self) -> bytes:
        """Everything written so far."""
        return bytes(memoryview(self.buffer)[: self.pos])


@cython.final
@cython.cclass
class BitWriter(ByteSink):
    """Writes bit fields most significant bit first; finish() pads the last byte with zeros."""

    def __init__(self, capacity: cython.Py_ssize_t = 256):
        ByteSink.__init__(self, capacity)
        self.acc = 0
        self.count = 0

    @cython.ccall
    @cython.nogil
    @cython.exceptval(check=False)
    def write(self, value: cython.ulonglong, nbits: cython.int) -> cython.void:
        """Append the low `nbits` bits of `value` (0 <= nbits <= 56)."""
        # Invariant: acc holds the `count` pending bits in its low bits. Whole bytes leave
        # only when the next field would not fit in 64 bits: one drain per several writes.
        if self.count + nbits > 64:
            self._drain()
        value &= (cython.cast(cython.ulonglong, 1) << nbits) - 1
        self.acc = ((self.acc << nbits) | value) & MASK64
        self.count += nbits

    @cython.boundscheck(False)  # bytes and run digits index tables checked to fit them
    @cython.wraparound(False)
    @cython.ccall
    def write_codes(self, data: cython.const[cython.uchar][:], codes: cython.uint[:],
                    lengths: cython.uchar[:], run_byte: cython.int = -1) -> cython.void:
        """Append codes[b] (lengths[b] bits) for every byte b of `data`; with a run byte
        (0..255), each run of it as its run digits (see the module docstring)."""
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
                    self.write(codes[data[i]], lengths[data[i]])
                    i += 1
                    continue
                run = _run_end(data, i, size) - i
                i += run
                while run > 0:
                    digit = _run_digit(run)
                    self.write(codes[digit], lengths[digit])
                    run = _run_rest(run)

    @cython.cfunc
    @cython.nogil
    @cython.exceptval(check=False)
    def _drain(self) -> cython.void:
        """Move the whole bytes of acc to the output, leaving count < 8."""
        while self.count >= 8:
            self.count -= 8
            self.put(cython.cast(cython.uint, (self.acc >> self.count) & 0xFF))
        self.acc &= (cython.cast(cython.ulonglong, 1) << self.count) - 1

    @cython.ccall
    def finish(self) -> bytes:
        """Pad the last byte with zero bits and return everything written."""
        self._drain()
        if self.count:
            self.put(cython.cast(cython.uint, (self.acc << (8 - self.count)) & 0xFF))
            self.acc = 0
            self.count = 0
        return self.written()


@cython.final
@cython.cclass
class BitReader:
    """Reads bit fields most significant bit first. Past the end it reads zeros (see module)."""

    def __init__(self, data):
        self.data = data
        self.size = len(data)
        self.pos = 0
        self.acc = 0
        self.count = 0

    @cython.boundscheck(False)  # pos < size is tested
    @cython.wraparound(False)
    @cython.cfunc
    @cython.inline
    @cython.nogil
    @cython.exceptval(check=False)
    def _refill(self) -> cython.void:
        # Invariant: the `count` valid bits sit at the top of acc, the rest of acc is zero.
        byte: cython.ulonglong
        if self.pos + 8 <= self.size:  # fast path: no end of data in sight
            while self.count <= MAX_BITS:
                self.acc |= cython.cast(cython.ulonglong, self.data[self.pos]) << (
                    MAX_BITS - self.count)
                self.pos += 1
                self.count += 8
            return
        while self.count <= MAX_BITS:
            byte = 0
            if self.pos < self.size:
                byte = self.data[self.pos]
            self.pos += 1
            self.acc |= byte << (MAX_BITS - self.count)
            self.count += 8

    @cython.ccall
    @cython.nogil
    @cython.exceptval(check=False)
    def peek(self, nbits: cython.int) -> cython.ulonglong:
        """The next `nbits` bits (1 <= nbits <= 56) as an integer, without consuming them."""
        if self.count < nbits:
            self._refill()
        return self.acc >> (64 - nbits)

    @cython.ccall
    @cython.nogil
    @cython.exceptval(check=False)
    def skip(self, nbits: cython.int) -> cython.void:
        """Consume `nbits` bits that peek() has made available."""
        self.acc = (self.acc << nbits) & MASK64
        self.count -= nbits

    @cython.ccall
    @cython.nogil
    @cython.exceptval(check=False)
    def read(self, nbits: cython.int) -> cython.ulonglong:
        """Consume and return the next `nbits` bits (0 <= nbits <= 56)."""
        value: cython.ulonglong
        if nbits == 0:
            return 0
        value = self.peek(nbits)
        self.skip(nbits)
        return value

    @cython.boundscheck(False)  # the table has 2**max_length entries (checked), and runs
    @cython.wraparound(False)  # are checked against the room left in the output
    @cython.ccall
    def read_codes(self, table: cython.ushort[:], max_length: cython.int,
                   size: cython.Py_ssize_t, run_byte: cython.int = -1) -> bytes:
        """Decode `size` bytes written by BitWriter.write_codes, with the same run byte.

        Returns fewer bytes if the symbols are corrupt (a run longer than the room left, too
        many run digits) and stops early once the reader runs past its data: a caller checks
        the length and overrun_bits().
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
                    entry = table[self.peek(max_length)]
                    self.skip(entry & 15)
                    data[pos] = entry >> 4
                    pos += 1
                    if (pos & 4095) == 0 and self.overrun_bits() > 0:
                        break
            else:
                while pos + run < size:
                    entry = table[self.peek(max_length)]
                    self.skip(entry & 15)
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
                    if (pos & 4095) == 0 and self.overrun_bits() > 0:
                        break
                if not corrupt and pos + run == size:
                    while run > 0:
                        data[pos] = run_byte
                        pos += 1
                        run -= 1
        return bytes(out[:pos]) if pos < size else bytes(out)

    @cython.ccall
    @cython.nogil
    @cython.exceptval(check=False)
    def bits_consumed(self) -> cython.Py_ssize_t:
        return self.pos * 8 - self.count

    @cython.ccall
    @cython.nogil
    @cython.exceptval(check=False)
    def overrun_bits(self) -> cython.Py_ssize_t:
        """How many of the consumed bits lay past the end of the data (0 for a valid read)."""
        over: cython.Py_ssize_t = self.bits_consumed() - self.size * 8
        return over if over > 0 else 0
