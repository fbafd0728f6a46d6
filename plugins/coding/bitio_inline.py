"""BitWriter.write, BitReader.peek and BitReader.skip as functions, for kernels running as plain
Python. Compiled kernels cimport the inline C versions from bitio_inline.pxd instead."""


def write_bits(writer, value, nbits):
    writer.write(value, nbits)


def peek_bits(reader, nbits):
    return reader.peek(nbits)


def skip_bits(reader, nbits):
    reader.skip(nbits)
