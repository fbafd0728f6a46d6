"""Finding long repeats: every stretch of at least `min_length` bytes that already occurred
earlier in the block, however far back (FreeArc's REP, rzip's first stage).

A sparse hash table makes this cheap: only every `step`-th position of the block is entered,
hashed over the `window` bytes that start there (step = window = min_length // 2). Any repeat of
min_length bytes or more covers one such entered window completely, so scanning every position
with a rolling hash of `window` bytes and looking it up finds it; the candidate is checked byte
by byte, then extended forwards and backwards. The table keeps the newest position per slot,
so a window overwritten by a later one is forgotten: a long repeat covers many windows and is
found, one of just min_length bytes may be missed. It has about two to four slots per entered
window, at least 2**10 and at most 2**MAX_TABLE_LOG (128 MiB; 4 MiB for an 8 MiB block at min
128).

A repeat is (literal run, length, distance): after `run` bytes that no repeat claims, copy
`length` bytes from `distance` bytes back in the output (distance < length repeats a pattern).
Which repeats are taken is the encoder's choice, not part of the payload format, which
spec/codecs/rep.md specifies (its section 10 describes this finder).
"""

from array import array

import cython

#: The rolling hash's multiplier (odd) and the mixer that spreads it over the table's slots.
BASE = cython.declare(cython.const[cython.ulonglong], 0x100000001B3)
MIX = cython.declare(cython.const[cython.ulonglong], 0x9E3779B97F4A7C15)
MASK64 = cython.declare(cython.const[cython.ulonglong], 0xFFFFFFFFFFFFFFFF)  # C's wrap, in Python
MAX_TABLE_LOG = cython.declare(cython.const[cython.int], 24)


@cython.boundscheck(False)  # pos + window <= size: callers hash only whole windows
@cython.wraparound(False)
@cython.cfunc
@cython.inline
@cython.nogil
@cython.exceptval(check=False)
def _hash(data: cython.const[cython.uchar][:], pos: cython.Py_ssize_t,
          window: cython.Py_ssize_t) -> cython.ulonglong:
    """The polynomial hash of data[pos:pos + window] (mod 2**64), as the rolling hash has it."""
    h: cython.ulonglong = 0
    i: cython.Py_ssize_t
    for i in range(window):
        h = (h * BASE + data[pos + i]) & MASK64
    return h


@cython.boundscheck(False)  # every index is checked against size or the table's mask first
@cython.wraparound(False)
@cython.ccall
def find(block: bytes, min_length: cython.Py_ssize_t) -> tuple:
    """The long repeats of `block`: (runs, lengths, distances, literals), three arrays with one
    entry per repeat, and the bytes that no repeat claims, in order. min_length >= 2."""
    data: cython.const[cython.uchar][:] = block
    size: cython.Py_ssize_t = len(block)
    window: cython.Py_ssize_t = min_length // 2
    step: cython.Py_ssize_t = window
    table_log: cython.int = 10
    while table_log < MAX_TABLE_LOG and (cython.cast(cython.Py_ssize_t, 1) << table_log) < 2 * (
            size // step + 1):
        table_log += 1
    shift: cython.int = 64 - table_log
    table = array("q", [-1]) * (1 << table_log)
    slots: cython.longlong[:] = table
    runs, lengths, distances = array("I"), array("I"), array("I")
    literals = bytearray()
    # BASE ** window: what the byte leaving the rolling window weighs.
    top: cython.ulonglong = 1
    _i: cython.Py_ssize_t
    for _i in range(window):
        top = (top * BASE) & MASK64
    pos: cython.Py_ssize_t = 0  # the window being looked up starts here
    anchor: cython.Py_ssize_t = 0  # the first byte not yet claimed by a repeat
    entered: cython.Py_ssize_t = 0  # the next position of the sparse table to enter
    h: cython.ulonglong = 0
    fresh: cython.bint = True  # h must be computed anew at pos
    candidate: cython.longlong
    start: cython.Py_ssize_t
    end: cython.Py_ssize_t
    source: cython.Py_ssize_t
    while pos + window <= size:
        with cython.nogil:
            candidate = -1
            while pos + window <= size:
                # Enter the windows that start before pos: sources lie before their copies.
                while entered < pos and entered + window <= size:
                    slots[((_hash(data, entered, window) * MIX) & MASK64) >> shift] = entered
                    entered += step
                if fresh:
                    h = _hash(data, pos, window)
                    fresh = False
                candidate = slots[((h * MIX) & MASK64) >> shift]
                if candidate >= 0:
                    source = cython.cast(cython.Py_ssize_t, candidate)
                    end = 0
                    while pos + end < size and data[source + end] == data[pos + end]:
                        end += 1
                    start = 0
                    while (pos - start > anchor and source - start > 0
                           and data[source - start - 1] == data[pos - start - 1]):
                        start += 1
                    if start + end >= min_length:
                        break
                    candidate = -1
                if pos + window < size:  # roll the window one byte on
                    h = (h * BASE + data[pos + window] - top * data[pos]) & MASK64
                pos += 1
        if candidate < 0:
            break
        runs.append(pos - start - anchor)
        lengths.append(start + end)
        distances.append(pos - source)
        literals += block[anchor:pos - start]
        pos += end
        anchor = pos
        fresh = True
    literals += block[anchor:size]
    return runs, lengths, distances, bytes(literals)
