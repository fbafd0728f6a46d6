# BitWriter.write, BitReader.peek and BitReader.skip as inline functions, for kernels that write
# or read a field in their innermost loop (prefix_code_kernel's write_codes and read_codes): a
# method of another extension module is called through a pointer, which the C compiler cannot
# inline, and each is a few instructions. The methods in bitio_kernel.py are the reference: keep
# the two in step (bitio_inline.py, the plain-Python twin, calls them). 56 below is bitio_kernel's
# MAX_BITS: module constants of a .py kernel cannot be cimported.
# (Directives are given as `with` blocks: decorators on a function in a .pxd are ignored.)
cimport cython
from pyarc_plugins.coding.bitio_kernel cimport BitReader, BitWriter


cdef inline void write_bits(BitWriter writer, unsigned long long value, int nbits) noexcept nogil:
    """Append the low `nbits` bits of `value` (0 <= nbits <= 56): BitWriter.write."""
    if writer.count + nbits > 64:  # BitWriter._drain, here so that the loop has no call
        while writer.count >= 8:
            writer.count -= 8
            writer.put(<unsigned int>((writer.acc >> writer.count) & 0xFF))
        writer.acc &= (<unsigned long long>1 << writer.count) - 1
    writer.acc = (writer.acc << nbits) | (value & ((<unsigned long long>1 << nbits) - 1))
    writer.count += nbits


cdef inline unsigned long long peek_bits(BitReader reader, int nbits) noexcept nogil:
    """The next `nbits` bits (1 <= nbits <= 56), not consumed: BitReader.peek."""
    if reader.count < nbits:
        if reader.pos + 8 <= reader.size:  # BitReader._refill's fast path, here so that the
            while reader.count <= 56:      # loop has no call
                with cython.boundscheck(False), cython.wraparound(False):  # pos < size
                    reader.acc |= <unsigned long long>reader.data[reader.pos] << (56 - reader.count)
                reader.pos += 1
                reader.count += 8
        else:
            reader._refill()
    return reader.acc >> (64 - nbits)


cdef inline void skip_bits(BitReader reader, int nbits) noexcept nogil:
    """Consume `nbits` bits that peek_bits has made available: BitReader.skip."""
    reader.acc <<= nbits
    reader.count -= nbits
