"""Byte and bit I/O: ByteSink (a growing output buffer), BitWriter and BitReader. They know
only bits; what the bits mean (prefix codes, integer codes) is for other modules.

Bits are written most significant first, which keeps canonical prefix codes in numeric order
and lets a decoder peek at the next `n` bits as one integer (see prefix_code_kernel, which
decodes with one table lookup per symbol). bitio_inline.pxd has write, peek and skip as inline
functions for the innermost loops of other kernels.

The bit order, the writer's padding and reading past the end are specified in
spec/codecs/coding.md, section "Bit I/O".

The hot methods never raise and never touch Python objects, so a kernel may call them with the
GIL released. A BitReader past the end of its data reads zero bits and counts them in
`overrun_bits`; the caller decides whether that is an error (a decoder must check it).
"""

import cython

MASK64 = cython.declare(cython.const[cython.ulonglong], 0xFFFFFFFFFFFFFFFF)
#: The most bits one write() or peek() may handle (the accumulator holds up to 7 more).
MAX_BITS = cython.declare(cython.const[cython.int], 56)


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
