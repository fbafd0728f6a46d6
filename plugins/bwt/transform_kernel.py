"""The Burrows-Wheeler transform and its inverse, with a virtual end marker.

Forward: L is the byte before each suffix of s$ in sorted order ($ an end marker smaller than
every byte), stored without the $, with `primary`, the row of the whole block, and the rows of
three more suffixes as checkpoints. The transform is specified in spec/codecs/bwt.md (section
"The transform"). The suffix array comes from libdivsufsort (pydivsufsort), which sorts in
O(n log n) worst case, so a block of one repeated byte or a short period sorts as fast as text.

Inverse (LF mapping): LF(i) is the row of the suffix one byte earlier than row i's. Start from
row 0 (L = the last byte), follow LF n times writing bytes from the end backwards. One pass
counts, one builds the table, one walks: linear time.

The walk is a chain of cache misses (each step needs the entry the last one found), so it is
cut into CHAINS independent walks that the loop advances in turn, and the processor waits for
their misses together: about twice as fast. The forward transform records `rows`, the row of
the suffix at each segment start t * (n // CHAINS) (rows[0] = primary); walk t starts from the
row where walk t + 1 must end (the last walk from row 0) and must end on rows[t] after exactly
its segment. Any other ending is a CodecError.

The table packs LF(i) - 1 (< n <= 2**24) and L[i] into 32 bits, so a step touches one entry;
so a BWT block holds at most MAX_BLOCK bytes. Any L and primary give a table whose entries are
in range (LF is a bijection from the rows other than `primary` onto 1..n, and the entry of row
`primary` is 0: byte 0, then row 1), so no walk can leave the table, whatever the payload held.
"""

from array import array

import cython

from archiver.errors import CodecError

MAX_BLOCK = 1 << 24
CHAINS = cython.declare(cython.const[cython.int], 4)


@cython.boundscheck(False)  # sa is a permutation of range(n) (libdivsufsort's contract)
@cython.wraparound(False)
@cython.ccall
def forward(data: cython.const[cython.uchar][:], sa: cython.const[cython.int][:]) -> tuple:
    """(L without the $, rows) for `data` and its suffix array `sa`; n >= 1. rows[t] is the row
    of the suffix at t * (n // CHAINS); rows[0] is the primary index."""
    n: cython.Py_ssize_t = len(data)
    assert 1 <= n <= MAX_BLOCK and len(sa) == n
    out = bytearray(n)
    last: cython.uchar[:] = out
    rows_array = array("q", [0]) * CHAINS
    rows: cython.longlong[:] = rows_array
    segment: cython.Py_ssize_t = n // CHAINS
    j: cython.Py_ssize_t
    k: cython.Py_ssize_t = 1
    suffix: cython.Py_ssize_t
    with cython.nogil:
        last[0] = data[n - 1]  # row 0: the suffix "$", after the last byte
        for j in range(n):
            suffix = sa[j]
            if suffix == 0:
                rows[0] = j + 1  # the whole block is preceded by $: the primary index
            else:
                last[k] = data[suffix - 1]
                k += 1
                if segment > 0 and suffix % segment == 0 and suffix // segment < CHAINS:
                    rows[suffix // segment] = j + 1
        if segment == 0:  # n < CHAINS: every segment but the last is empty, at suffix 0
            for j in range(1, CHAINS):
                rows[j] = rows[0]
    return bytes(out), tuple(rows_array)


@cython.boundscheck(False)  # every index is in range for any L and rows (module docstring)
@cython.wraparound(False)
@cython.ccall
def inverse(last: cython.const[cython.uchar][:], rows: tuple) -> bytearray:
    """The block whose transform is (last, rows); CodecError if a walk proves them wrong.

    A bytearray, not a copy as bytes: the caller joins the blocks (and memory is the limit)."""
    n: cython.Py_ssize_t = len(last)
    if not 1 <= n <= MAX_BLOCK:
        raise CodecError(f"bwt: a block of {n} bytes is outside 1..{MAX_BLOCK}")
    if len(rows) != CHAINS or min(rows) < 1 or max(rows) > n:
        raise CodecError(f"bwt: the primary index or a checkpoint row is outside 1..{n}")
    primary: cython.Py_ssize_t = rows[0]
    at_array = array("q", [*rows[1:], 0])
    at: cython.longlong[:] = at_array  # walk t's row: it starts where walk t + 1 must end
    table_array = array("I", [0]) * (n + 1)
    table: cython.uint[:] = table_array
    out = bytearray(n)
    data: cython.uchar[:] = out
    first_array = array("I", [0]) * 256
    first: cython.uint[:] = first_array  # row - 1 of the next occurrence of each byte in F
    segment: cython.Py_ssize_t = n // CHAINS
    i: cython.Py_ssize_t
    t: cython.int
    c: cython.uint
    total: cython.uint = 0
    entry: cython.uint
    with cython.nogil:
        for i in range(n):
            first[last[i]] += 1
        for c in range(256):  # counts -> rows before each byte's block of F (less the $ row)
            entry = first[c]
            first[c] = total
            total += entry
        for i in range(n + 1):
            if i != primary:
                c = last[i - (i > primary)]  # row i of L, whose $ row was removed
                table[i] = (first[c] << 8) | c
                first[c] += 1
        # The last walk, from row 0, first writes the n % CHAINS bytes past CHAINS segments...
        for i in range(n - 1, CHAINS * segment - 1, -1):
            entry = table[at[CHAINS - 1]]
            data[i] = entry & 0xFF
            at[CHAINS - 1] = (entry >> 8) + 1
        # ... then every walk t writes its segment [t * segment, (t + 1) * segment) backwards.
        for i in range(segment - 1, -1, -1):
            for t in range(CHAINS):
                entry = table[at[t]]
                data[t * segment + i] = entry & 0xFF
                at[t] = (entry >> 8) + 1
    # A true transform brings walk t to the row of the suffix at t * segment (walk 0: primary).
    if list(at_array) != list(rows):
        raise CodecError("bwt: the primary index or a checkpoint row does not match the "
                         "transform")
    return out
