"""The hot loops of the lzw codec: the encoder's dictionary lookups and the decoder's string
output. The payload is specified in spec/codecs/lzw.md; the terms used here:

- n, the *code range*: how many code values the next code may take (it is read as one of
  0..n-1). It starts at FIRST = 257 (the 256 literals and CLEAR) and grows by one after every
  code until it reaches limit = 2**max_bits; CLEAR brings it back to FIRST.
- Each code is written in truncated binary for its range: with k = floor(log2 n) and
  u = 2**(k+1) - n, a value v < u takes k bits, any other value is written as v + u in k + 1
  bits. (When n is a power of two, u = n and every code takes exactly k bits.)
- The encoder's dictionary: entry `n` is the string of the code just emitted plus the byte
  that follows it. It is a hash table from (prefix code, byte) to code, plus, for the
  strings whose prefix is a literal, a direct table of 65,536 slots (the first step of
  every match, so no hashing there).
- The decoder's dictionary: for each entry its prefix code, its last byte (suffix), its first
  byte and its length. A string is written from its last byte backwards by walking the
  prefixes, straight into the output: the length is known, so no stack is needed.
"""

import cython

from archiver.errors import CodecError

if cython.compiled:
    from cython.cimports.pyarc_plugins.coding.bitio_kernel import BitReader, BitWriter
else:
    from pyarc_plugins.coding.bitio_kernel import BitReader, BitWriter

#: Codes 0..255 are the literal bytes; CLEAR empties the dictionary; FIRST is the first entry.
CLEAR = cython.declare(cython.const[cython.uint], 256)
FIRST = cython.declare(cython.const[cython.uint], 257)
#: max_bits the kernels accept (the codec's option allows the same range).
MIN_BITS = cython.declare(cython.const[cython.int], 9)
MAX_BITS = cython.declare(cython.const[cython.int], 20)
#: The reset policy (see plugins/lzw/__init__.py): once the dictionary is full, the ratio of
#: the input bytes to the output bits is measured over windows of at least CHECK_GAP input
#: bytes; the encoder emits CLEAR when a window's ratio is below TOLERANCE_NUM / TOLERANCE_DEN
#: (9/10) of the best window's since the dictionary filled.
CHECK_GAP = cython.declare(cython.const[cython.Py_ssize_t], 5000)
TOLERANCE_NUM = cython.declare(cython.const[cython.longlong], 9)
TOLERANCE_DEN = cython.declare(cython.const[cython.longlong], 10)
#: Fibonacci hashing: the top bits of the low 32 bits of key * 2**32 / golden ratio.
HASH_MULTIPLIER = cython.declare(cython.const[cython.uint], 0x9E3779B1)
#: Masks make the 32-bit wrap-around explicit, so that the kernel computes the same as plain
#: Python, whose integers do not wrap.
LOW32 = cython.declare(cython.const[cython.ulonglong], 0xFFFFFFFF)
#: Slots of the direct table for strings whose prefix is a literal: (literal << 8) | byte.
ROOT_SLOTS = cython.declare(cython.const[cython.Py_ssize_t], 65536)

# Decoder outcomes.
OK = cython.declare(cython.const[cython.int], 0)
ENDS_EARLY = cython.declare(cython.const[cython.int], 1)
BAD_CLEAR = cython.declare(cython.const[cython.int], 2)
ABOVE_NEXT = cython.declare(cython.const[cython.int], 3)
TOO_LONG = cython.declare(cython.const[cython.int], 4)


def _check_max_bits(max_bits: cython.int) -> None:
    if not MIN_BITS <= max_bits <= MAX_BITS:
        raise ValueError(f"max_bits must be {MIN_BITS}..{MAX_BITS}, not {max_bits}")


@cython.cfunc
@cython.inline
@cython.nogil
@cython.exceptval(check=False)
def _put_code(writer: BitWriter, value: cython.uint, k: cython.int,
              u: cython.uint) -> cython.int:
    """Write `value` in truncated binary for the range with parameters k, u; return its bits."""
    if value < u:
        writer.write(value, k)
        return k
    writer.write(value + u, k + 1)
    return k + 1


# Bounds checks are off: `data` is read at 0..size-1; `root` at (w << 8) | c with w < 256 and
# c < 256; `keys` at h, which the hash's shift and `& mask` keep below table_size.
@cython.boundscheck(False)
@cython.wraparound(False)
@cython.ccall
def encode(data: cython.const[cython.uchar][::1], max_bits: cython.int) -> bytes:
    """The codes of `data` (at least one byte) with codes of up to `max_bits` bits, in bytes."""
    _check_max_bits(max_bits)
    size: cython.Py_ssize_t = len(data)
    if size == 0:
        raise ValueError("lzw encodes at least one byte (an empty block has an empty payload)")
    limit: cython.uint = cython.cast(cython.uint, 1) << max_bits
    # A block of `size` bytes emits at most `size` codes, so it defines fewer than `size`
    # entries: small blocks get a small table. The table is at most half full (linear
    # probing stays short) and has at least 1024 slots.
    entries: cython.Py_ssize_t = min(cython.cast(cython.Py_ssize_t, limit), size + FIRST)
    table_bits: cython.int = 10
    while (cython.cast(cython.Py_ssize_t, 1) << table_bits) < 2 * entries:
        table_bits += 1
    table_size: cython.Py_ssize_t = cython.cast(cython.Py_ssize_t, 1) << table_bits
    # A slot holds (key << 32) | code, 0 when empty; key = ((prefix << 8) | byte) + 1 > 0.
    # One 64-bit load answers a lookup.
    keys_buffer = bytearray(8 * table_size)
    keys: cython.ulonglong[::1] = memoryview(keys_buffer).cast("Q")
    # The code of (literal << 8) | byte, 0 when not (yet) in the dictionary.
    root_buffer = bytearray(4 * ROOT_SLOTS)
    root: cython.uint[::1] = memoryview(root_buffer).cast("I")
    mask: cython.uint = cython.cast(cython.uint, table_size - 1)
    shift: cython.int = 32 - table_bits
    multiplier: cython.uint = HASH_MULTIPLIER
    writer: BitWriter = BitWriter(size // 2 + 64)
    w: cython.uint = data[0]  # the code of the longest match so far
    c: cython.uint
    key: cython.uint
    slot: cython.ulonglong
    h: cython.uint = 0
    n: cython.uint = FIRST
    k: cython.int = 8
    u: cython.uint = (cython.cast(cython.uint, 2) << k) - n
    i: cython.Py_ssize_t
    j: cython.Py_ssize_t
    # The reset policy, in exact integer arithmetic: bits written so far, the start of the
    # current window, and the best window (in bytes, out bits) since the dictionary filled.
    bits: cython.longlong = 0
    checkpoint: cython.Py_ssize_t = 0
    window_in: cython.Py_ssize_t = 0
    window_bits: cython.longlong = 0
    best_in: cython.longlong = 0
    best_bits: cython.longlong = 1
    gained: cython.longlong
    spent: cython.longlong
    with cython.nogil:
        for i in range(1, size):
            c = data[i]
            # Is w + c in the dictionary? Then it is the longer match.
            if w < 256:
                h = (w << 8) | c
                if root[h] != 0:
                    w = root[h]
                    continue
                key = 0
            else:
                key = ((w << 8) | c) + 1
                h = ((key * multiplier) & LOW32) >> shift
                while True:
                    slot = keys[h]
                    if slot == 0:
                        break
                    if (slot >> 32) == key:
                        break
                    h = (h + 1) & mask
                if slot != 0:
                    w = slot & LOW32
                    continue
            # No: emit w, and w + c becomes entry n (h is the free slot for it).
            bits += _put_code(writer, w, k, u)
            if n < limit:
                if key == 0:
                    root[h] = n
                else:
                    keys[h] = (cython.cast(cython.ulonglong, key) << 32) | n
                n += 1
                u -= 1
                if u == 0:  # n reached a power of two: k + 1 bits for every code from now on
                    k += 1
                    u = n
                if n == limit:  # full: the first window starts here
                    checkpoint = i + CHECK_GAP
                    window_in = i
                    window_bits = bits
                    best_in = 0
                    best_bits = 1
            elif i >= checkpoint:
                # i bytes are coded in `bits` bits; compare this window's ratio with the best.
                gained = i - window_in
                spent = bits - window_bits
                checkpoint = i + CHECK_GAP
                window_in = i
                window_bits = bits
                if gained * best_bits > best_in * spent:
                    best_in = gained
                    best_bits = spent
                elif TOLERANCE_DEN * gained * best_bits < TOLERANCE_NUM * best_in * spent:
                    bits += _put_code(writer, CLEAR, k, u)
                    for j in range(table_size):
                        keys[j] = 0
                    for j in range(ROOT_SLOTS):
                        root[j] = 0
                    n = FIRST
                    k = 8
                    u = (cython.cast(cython.uint, 2) << k) - n
            w = c
        _put_code(writer, w, k, u)
    return writer.finish()


# Bounds checks are off: every code is checked to be a literal or an entry already defined
# (or the one being defined) before it indexes the tables, entries are only defined below
# `capacity` (see there), and a string is written only after checking that it fits in `out`.
@cython.boundscheck(False)
@cython.wraparound(False)
@cython.ccall
def decode(payload: cython.const[cython.uchar][::1], size: cython.Py_ssize_t,
           max_bits: cython.int) -> bytes:
    """The `size` bytes (at least one) that `payload` encodes, or CodecError."""
    _check_max_bits(max_bits)
    if size <= 0:
        raise ValueError("lzw decodes at least one byte (an empty block has an empty payload)")
    limit: cython.uint = cython.cast(cython.uint, 1) << max_bits
    # Entry e is defined while reading a code that follows e - FIRST + 1 codes since the last
    # CLEAR, each of which wrote at least one byte before the output was full: so
    # e < FIRST + size, and the tables need no more than that.
    capacity: cython.Py_ssize_t = min(cython.cast(cython.Py_ssize_t, limit), size + FIRST)
    out = bytearray(size)
    o: cython.uchar[::1] = out
    prefix_buffer = bytearray(4 * capacity)
    prefix: cython.uint[::1] = memoryview(prefix_buffer).cast("I")
    length_buffer = bytearray(4 * capacity)
    length: cython.uint[::1] = memoryview(length_buffer).cast("I")
    suffix_buffer = bytearray(capacity)
    suffix: cython.uchar[::1] = suffix_buffer
    first_buffer = bytearray(capacity)
    first: cython.uchar[::1] = first_buffer
    reader: BitReader = BitReader(payload)
    pos: cython.Py_ssize_t = 0
    n: cython.uint = FIRST
    k: cython.int = 8
    u: cython.uint = (cython.cast(cython.uint, 2) << k) - n
    x: cython.ulonglong
    code: cython.uint = 0
    walk: cython.uint
    prev: cython.uint = CLEAR  # CLEAR here means: no previous code (the start, or a CLEAR)
    nxt: cython.uint = FIRST  # the entry the next code (after the first) defines
    p: cython.Py_ssize_t
    run: cython.uint = 0
    error: cython.int = OK
    for code in range(256):
        length[code] = 1
        first[code] = code
    with cython.nogil:
        while pos < size:
            x = reader.peek(k + 1)
            if (x >> 1) < u:
                code = cython.cast(cython.uint, x >> 1)
                reader.skip(k)
            else:
                code = cython.cast(cython.uint, x - u)
                reader.skip(k + 1)
            if reader.overrun_bits() > 0:
                error = ENDS_EARLY
                break
            if code == CLEAR:
                if n != limit:  # the encoder clears only a full dictionary
                    error = BAD_CLEAR
                    break
                n = FIRST
                k = 8
                u = (cython.cast(cython.uint, 2) << k) - n
                nxt = FIRST
                prev = CLEAR
                continue
            # Which codes can arrive: the first after the start or a CLEAR has n = 257, so it is
            # a literal (256 is CLEAR, handled above); every later one is below n = nxt + 1,
            # so it names a defined entry or nxt itself; once the dictionary is full, below
            # limit. A code above nxt cannot even be written; it is still checked, since the
            # tables are indexed without bounds checks.
            if prev != CLEAR and nxt < limit:
                if code > nxt:
                    error = ABOVE_NEXT
                    break
                # Define entry nxt = prev + the first byte of this code's string. If this code
                # is nxt itself (the KwKwK case: the encoder used the entry right after making
                # it), that first byte is the first byte of prev.
                prefix[nxt] = prev
                suffix[nxt] = first[code] if code < nxt else first[prev]
                first[nxt] = first[prev]
                length[nxt] = length[prev] + 1
                nxt += 1
            run = length[code]
            if run > size - pos:
                error = TOO_LONG
                break
            prev = code
            # Write the string from its last byte back: length[] is exact, so the walk ends
            # on the literal at o[pos].
            p = pos + run - 1
            walk = code
            while walk > 255:
                o[p] = suffix[walk]
                walk = prefix[walk]
                p -= 1
            o[p] = walk
            pos += run
            if n < limit:
                n += 1
                u -= 1
                if u == 0:
                    k += 1
                    u = n
    if error == ENDS_EARLY:
        raise CodecError(f"lzw: the payload ends early, after {pos} of {size} bytes")
    if error == BAD_CLEAR:
        raise CodecError(f"lzw: corrupt payload: CLEAR before the dictionary is full "
                         f"({n} of {limit} codes), after {pos} bytes")
    if error == ABOVE_NEXT:
        raise CodecError(f"lzw: corrupt payload: code {code} above the next free code {nxt}")
    if error == TOO_LONG:
        raise CodecError(f"lzw: corrupt payload: a string of {run} bytes after {pos} bytes "
                         f"overflows the block of {size}")
    padding: cython.Py_ssize_t = len(payload) * 8 - reader.bits_consumed()
    if padding >= 8:
        raise CodecError(f"lzw: {padding // 8} bytes left over after the last code")
    if reader.read(cython.cast(cython.int, padding)) != 0:
        raise CodecError("lzw: nonzero padding after the last code")
    return bytes(out)
