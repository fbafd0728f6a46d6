# BitWriter.write, BitReader.peek and BitReader.skip as inline functions, for kernels that write
# or read a field in their innermost loop (prefix_code_kernel's write_codes and read_codes): a
# method of another extension module is called through a pointer, which the C compiler cannot
# inline, and each is a few instructions. The methods in bitio_kernel.py are the reference: keep
# the two in step (bitio_inline.py, the plain-Python twin, calls them). 56 below is bitio_kernel's
# MAX_BITS: module constants of a .py kernel cannot be cimported.
from pyarc_plugins.coding.bitio_kernel cimport BitReader, BitWriter


cdef inline void write_bits(BitWriter writer, unsigned long long value, int nbits) noexcept nogil:
    """Append the low `nbits` bits of `value` (0 <= nbits <= 56): BitWriter.write."""
    if writer.count + nbits > 64:
        writer._drain()
    writer.acc = (writer.acc << nbits) | (value & ((<unsigned long long>1 << nbits) - 1))
    writer.count += nbits


cdef inline unsigned long long peek_bits(BitReader reader, int nbits) noexcept nogil:
    """The next `nbits` bits (1 <= nbits <= 56), not consumed: BitReader.peek."""
    if reader.count < nbits:
        reader._refill()
    return reader.acc >> (64 - nbits)


cdef inline void skip_bits(BitReader reader, int nbits) noexcept nogil:
    """Consume `nbits` bits that peek_bits has made available: BitReader.skip."""
    reader.acc <<= nbits
    reader.count -= nbits
