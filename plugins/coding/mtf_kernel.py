"""The move-to-front transform (recency ranks).

Each byte is replaced by its rank in a list of all 256 byte values ordered by how recently they
occurred; then it moves to the front. A byte seen recently gets a small rank, so after a
Burrows-Wheeler transform, whose output clusters equal bytes, the ranks are mostly 0s and 1s:
easy prey for an order-0 entropy coder. decode(encode(data)) == data, and both keep the length.
"""

import cython


@cython.cfunc
@cython.inline
@cython.nogil
@cython.exceptval(check=False)
def _to_front(order: cython.uchar[:], rank: cython.int) -> cython.void:
    """Move order[rank] to the front, shifting the bytes before it one place back."""
    byte: cython.uchar = order[rank]
    while rank > 0:
        order[rank] = order[rank - 1]
        rank -= 1
    order[0] = byte


@cython.ccall
def mtf_encode(data: cython.const[cython.uchar][:]) -> bytes:
    out = bytearray(len(data))
    ranks: cython.uchar[:] = out
    order: cython.uchar[:] = bytearray(range(256))  # byte values, most recent first
    i: cython.Py_ssize_t
    rank: cython.int
    byte: cython.uchar
    size: cython.Py_ssize_t = len(data)
    with cython.nogil:
        for i in range(size):
            byte = data[i]
            rank = 0
            while order[rank] != byte:
                rank += 1
            ranks[i] = rank
            _to_front(order, rank)
    return bytes(out)


@cython.ccall
def mtf_decode(ranks: cython.const[cython.uchar][:]) -> bytes:
    out = bytearray(len(ranks))
    data: cython.uchar[:] = out
    order: cython.uchar[:] = bytearray(range(256))  # byte values, most recent first
    i: cython.Py_ssize_t
    rank: cython.int
    size: cython.Py_ssize_t = len(ranks)
    with cython.nogil:
        for i in range(size):
            rank = ranks[i]
            data[i] = order[rank]
            _to_front(order, rank)
    return bytes(out)
