"""The Burrows-Wheeler transform and its inverse, with a virtual end marker.

Forward: sort the suffixes of s$, where $ is an end marker smaller than every byte; the
transform L is the byte before each suffix, in that order, and the suffix s itself (the whole
block) is preceded by $. L is stored without the $, plus `primary`, the row where the $ was
(1 <= primary <= n: row 0 is the suffix "$", preceded by the last byte of s). The suffix array
comes from libdivsufsort (pydivsufsort), which sorts in O(n log n) worst case, so a block of
one repeated byte or a short period sorts as fast as text.

Inverse (LF mapping): the rows sorted by their first byte F are the rows sorted by L with
ties in the same order, so the k-th occurrence of byte c in L and the k-th in F are the same
occurrence in s. LF(i) = (rows starting with a smaller symbol) + (occurrences of L[i] before
row i) is the row of the suffix one byte earlier. Start from row 0 (L = the last byte), follow
LF n times writing bytes from the end backwards, and the walk must end on row `primary`. One
pass counts, one builds the table, one walks: linear time.

The table packs LF(i) - 1 (< n <= 2**24) and L[i] into 32 bits, so the walk touches one entry
per byte; so a BWT block holds at most MAX_BLOCK bytes. Any L and primary give a table whose
entries are in range (LF is a bijection from the rows other than `primary` onto 1..n), so the
walk cannot leave the table, whatever the payload held.
"""

from array import array

import cython

from archiver.errors import CodecError

MAX_BLOCK = 1 << 24


@cython.boundscheck(False)  # sa is a permutation of range(n) (libdivsufsort's contract)
@cython.wraparound(False)
@cython.ccall
def forward(data: cython.const[cython.uchar][:], sa: cython.const[cython.int][:]) -> tuple:
    """(L without the $, primary) for `data` and its suffix array `sa`; n >= 1."""
    n: cython.Py_ssize_t = len(data)
    assert 1 <= n <= MAX_BLOCK and len(sa) == n
    out = bytearray(n)
    last: cython.uchar[:] = out
    j: cython.Py_ssize_t
    k: cython.Py_ssize_t = 1
    primary: cython.Py_ssize_t = 0
    with cython.nogil:
        last[0] = data[n - 1]  # row 0: the suffix "$", after the last byte
        for j in range(n):
            if sa[j] == 0:
                primary = j + 1  # the whole block is preceded by $: stored as `primary`
            else:
                last[k] = data[sa[j] - 1]
                k += 1
    return bytes(out), primary


@cython.boundscheck(False)  # every index is in range for any L and primary (module docstring)
@cython.wraparound(False)
@cython.ccall
def inverse(last: cython.const[cython.uchar][:], primary: cython.Py_ssize_t) -> bytearray:
    """The block whose transform is (last, primary); CodecError if the walk proves it wrong.

    A bytearray, not a copy as bytes: the caller joins the blocks (and memory is the limit)."""
    n: cython.Py_ssize_t = len(last)
    if not 1 <= n <= MAX_BLOCK:
        raise CodecError(f"bwt: a block of {n} bytes is outside 1..{MAX_BLOCK}")
    if not 1 <= primary <= n:
        raise CodecError(f"bwt: primary index {primary} is outside 1..{n}")
    table_array = array("I", [0]) * (n + 1)
    table: cython.uint[:] = table_array
    out = bytearray(n)
    data: cython.uchar[:] = out
    first_array = array("I", [0]) * 256
    first: cython.uint[:] = first_array  # row - 1 of the next occurrence of each byte in F
    i: cython.Py_ssize_t
    k: cython.Py_ssize_t
    c: cython.uint
    total: cython.uint = 0
    entry: cython.uint
    row: cython.Py_ssize_t
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
        row = 0  # the suffix "$", whose L is the last byte
        k = n
        while k > 0 and row != primary:
            k -= 1
            entry = table[row]
            data[k] = entry & 0xFF
            row = (entry >> 8) + 1
    # A true (L, primary) reaches the row of the whole block after exactly n steps.
    if k != 0 or row != primary:
        raise CodecError("bwt: the primary index does not match the transform")
    return out
