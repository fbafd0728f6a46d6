"""The hot loops of the arithmetic codec: an order-k context model driving the range coder."""

import cython

if cython.compiled:
    from cython.cimports.pyarc_plugins.coding.frequencies_kernel import AdaptiveFrequencies
    from cython.cimports.pyarc_plugins.coding.rangecoder_kernel import (
        RangeDecoder,
        RangeEncoder,
    )
else:
    from pyarc_plugins.coding.frequencies_kernel import AdaptiveFrequencies
    from pyarc_plugins.coding.rangecoder_kernel import RangeDecoder, RangeEncoder


def _model(order: cython.int, increment: cython.uint, size: cython.Py_ssize_t):
    contexts: cython.Py_ssize_t = 1 << (8 * order)
    # A block of `size` bytes visits at most `size` contexts: only those get a table.
    return AdaptiveFrequencies(contexts, 256, increment, min(contexts, size + 1))


@cython.ccall
def encode(data: cython.const[cython.uchar][:], order: cython.int,
           increment: cython.uint) -> bytes:
    """Code every byte with the counts of the `order` bytes before it (zeros before the start)."""
    size: cython.Py_ssize_t = len(data)
    model: AdaptiveFrequencies = _model(order, increment, size)
    coder: RangeEncoder = RangeEncoder(size // 2 + 64)
    mask: cython.uint = (cython.cast(cython.uint, 1) << (8 * order)) - 1
    context: cython.uint = 0
    i: cython.Py_ssize_t
    symbol: cython.uint
    with cython.nogil:
        for i in range(size):
            symbol = data[i]
            model.encode(coder, context, symbol)
            context = ((context << 8) | symbol) & mask
    return coder.finish()


@cython.ccall
def decode(payload: cython.const[cython.uchar][:], size: cython.Py_ssize_t, order: cython.int,
           increment: cython.uint) -> bytes:
    """The inverse of encode: `size` bytes, or CodecError."""
    out = bytearray(size)
    data: cython.uchar[:] = out
    model: AdaptiveFrequencies = _model(order, increment, size)
    coder: RangeDecoder = RangeDecoder(payload)
    mask: cython.uint = (cython.cast(cython.uint, 1) << (8 * order)) - 1
    context: cython.uint = 0
    i: cython.Py_ssize_t
    symbol: cython.uint
    with cython.nogil:
        for i in range(size):
            symbol = model.decode(coder, context)
            data[i] = symbol
            context = ((context << 8) | symbol) & mask
            if coder.failed():
                break
    coder.finish()  # raises CodecError unless the payload ended exactly after the last byte
    return bytes(out)
