"""LZ77 tokens range coded with adaptive binary models, after LZMA (levels 8 and 9).

The block is coded token by token, each a literal byte or a match, every decision as one bit
of the shared range coder (coding/rangecoder_kernel) under an adaptive model chosen by context
(LZMA's state machine, pos_state, matched literals, two length coders, distance slots); the
stream begins with the block size. The payload is specified in spec/codecs/lz77.md.
"""


import cython

if cython.compiled:
    from cython.cimports.pyarc_plugins.coding.rangecoder_kernel import (
        RangeDecoder,
        RangeEncoder,
    )
    from cython.cimports.pyarc_plugins.lz77.sequences_kernel import update_repeats
else:
    from pyarc_plugins.coding.rangecoder_kernel import RangeDecoder, RangeEncoder
    from pyarc_plugins.lz77.sequences_kernel import update_repeats

from pyarc_plugins.coding.rangecoder_kernel import bit_models
from pyarc_plugins.lz77.sequences_kernel import initial_repeats

MIN_MATCH = cython.declare(cython.const[cython.int], 4)
MAX_LENGTH = cython.declare(cython.const[cython.Py_ssize_t], 4 + 16 + 255)
REPEATS = cython.declare(cython.const[cython.int], 3)
STATES = cython.declare(cython.const[cython.int], 12)
FIRST_MATCH_STATE = cython.declare(cython.const[cython.int], 7)
POS_STATES = cython.declare(cython.const[cython.int], 4)
LITERAL_CONTEXT_SHIFT = cython.declare(cython.const[cython.int], 5)  # 8 - LZMA's lc (3 high bits)

# The models, in one array: offsets of each group.
IS_MATCH = cython.declare(cython.const[cython.Py_ssize_t], 0)  # [state][pos_state]
IS_REPEAT = cython.declare(cython.const[cython.Py_ssize_t], 48)  # [state]
IS_REPEAT_1_OR_2 = cython.declare(cython.const[cython.Py_ssize_t], 60)  # [state]
IS_REPEAT_2 = cython.declare(cython.const[cython.Py_ssize_t], 72)  # [state]
DISTANCE_SLOT = cython.declare(cython.const[cython.Py_ssize_t], 84)  # [length state][64]
# Reverse trees of slots 4-13
DISTANCE_LOW = cython.declare(cython.const[cython.Py_ssize_t], 84 + 256)
ALIGN = cython.declare(cython.const[cython.Py_ssize_t], 84 + 256 + 128)  # reverse tree of 4 bits
LENGTH_CODER_SIZE = cython.declare(cython.const[cython.Py_ssize_t], 2 + 4 * 8 + 4 * 8 + 256)
MATCH_LENGTH = cython.declare(cython.const[cython.Py_ssize_t], 84 + 256 + 128 + 16)
REPEAT_LENGTH = cython.declare(cython.const[cython.Py_ssize_t], 84 + 256 + 128 + 16 + 322)
# [8][0x300]
LITERAL = cython.declare(cython.const[cython.Py_ssize_t], 84 + 256 + 128 + 16 + 2 * 322)
MODELS = cython.declare(cython.const[cython.Py_ssize_t], 84 + 256 + 128 + 16 + 2 * 322 + 8 * 0x300)
SLOT_BITS = cython.declare(cython.const[cython.int], 6)
ALIGN_BITS = cython.declare(cython.const[cython.int], 4)
# Slots below it have their own bit trees
LAST_LOW_SLOT = cython.declare(cython.const[cython.uint], 14)
SIZE_LENGTH_BITS = cython.declare(cython.const[cython.int], 5)  # blocks are below 2**31 bytes


@cython.cfunc
@cython.inline
@cython.nogil
@cython.exceptval(check=False)
def _after_literal(state: cython.int) -> cython.int:
    if state < 4:
        return 0
    return state - 3 if state < 10 else state - 6


@cython.cfunc
@cython.inline
@cython.nogil
@cython.exceptval(check=False)
def _after_match(state: cython.int, repeat: cython.bint) -> cython.int:
    if repeat:
        return 8 if state < FIRST_MATCH_STATE else 11
    return FIRST_MATCH_STATE if state < FIRST_MATCH_STATE else 10


@cython.cfunc
@cython.inline
@cython.nogil
@cython.exceptval(check=False)
def _slot(d: cython.uint) -> cython.uint:
    top: cython.uint = 1
    if d < 4:
        return d
    while (d >> (top + 1)) != 0:
        top += 1
    return 2 * top + ((d >> (top - 1)) & 1)


@cython.cfunc
@cython.inline
@cython.nogil
@cython.exceptval(check=False)
def _length_state(length: cython.Py_ssize_t) -> cython.Py_ssize_t:
    return min(length - MIN_MATCH, 3)


# ---------------------------------------------------------------------------------------------
# Encoding


@cython.cfunc
@cython.nogil
@cython.exceptval(check=False)
def _encode_reverse(rc: RangeEncoder, models: cython.ushort[:], base: cython.Py_ssize_t,
                    nbits: cython.int, value: cython.uint) -> cython.void:
    """`nbits` bits of value, low bit first, down a tree of models at models[base + 1:]."""
    node: cython.uint = 1
    bit: cython.uint
    i: cython.int
    for i in range(nbits):
        bit = (value >> i) & 1
        rc.encode_bit(models, base + node, bit)
        node = (node << 1) | bit


@cython.cfunc
@cython.nogil
@cython.exceptval(check=False)
def _encode_length(rc: RangeEncoder, models: cython.ushort[:], coder: cython.Py_ssize_t,
                   length: cython.Py_ssize_t, pos_state: cython.int) -> cython.void:
    value: cython.uint = cython.cast(cython.uint, length - MIN_MATCH)
    if value < 8:
        rc.encode_bit(models, coder, 0)
        rc.encode_tree(models, coder + 2 + 8 * pos_state, 3, value)
    elif value < 16:
        rc.encode_bit(models, coder, 1)
        rc.encode_bit(models, coder + 1, 0)
        rc.encode_tree(models, coder + 2 + 32 + 8 * pos_state, 3, value - 8)
    else:
        rc.encode_bit(models, coder, 1)
        rc.encode_bit(models, coder + 1, 1)
        rc.encode_tree(models, coder + 2 + 64, 8, value - 16)


@cython.cfunc
@cython.nogil
@cython.exceptval(check=False)
def _encode_distance(rc: RangeEncoder, models: cython.ushort[:], distance: cython.Py_ssize_t,
                     length: cython.Py_ssize_t) -> cython.void:
    d: cython.uint = cython.cast(cython.uint, distance - 1)
    slot: cython.uint = _slot(d)
    footer: cython.int
    base: cython.uint
    rc.encode_tree(models, DISTANCE_SLOT + 64 * _length_state(length), SLOT_BITS, slot)
    if slot < 4:
        return
    footer = cython.cast(cython.int, (slot >> 1) - 1)
    base = (2 | (slot & 1)) << footer
    if slot < LAST_LOW_SLOT:  # the trees of slots 4-13 packed: 2**footer - 1 models each
        _encode_reverse(rc, models, DISTANCE_LOW + base - slot - 1, footer, d - base)
    else:
        rc.encode_direct((d - base) >> ALIGN_BITS, footer - ALIGN_BITS)
        _encode_reverse(rc, models, ALIGN, ALIGN_BITS, d - base)


@cython.boundscheck(False)  # positions stay inside the block the sequences describe
@cython.wraparound(False)
@cython.cfunc
@cython.nogil
@cython.exceptval(check=False)
def _encode_literal(rc: RangeEncoder, models: cython.ushort[:],
                    data: cython.const[cython.uchar][:], pos: cython.Py_ssize_t,
                    state: cython.int, rep0: cython.Py_ssize_t) -> cython.void:
    byte: cython.uint = data[pos]
    context: cython.Py_ssize_t = LITERAL
    node: cython.uint = 1
    bit: cython.uint
    match_bit: cython.uint
    match_byte: cython.uint
    matching: cython.bint = state >= FIRST_MATCH_STATE
    i: cython.int
    if pos > 0:
        context += 0x300 * (data[pos - 1] >> LITERAL_CONTEXT_SHIFT)
    match_byte = data[pos - rep0] if matching else 0
    for i in range(7, -1, -1):
        bit = (byte >> i) & 1
        if matching:  # models 0x100-0x2FF: while the bits agree with the match byte's
            match_bit = (match_byte >> i) & 1
            rc.encode_bit(models, context + 0x100 + (match_bit << 8) + node, bit)
            matching = bit == match_bit
        else:
            rc.encode_bit(models, context + node, bit)
        node = (node << 1) | bit


@cython.boundscheck(False)  # sequences describe data: each run and match lies inside it
@cython.wraparound(False)
@cython.ccall
def encode(source, literal_lengths: cython.uint[:], match_lengths: cython.uint[:],
           offset_values: cython.uint[:]) -> bytes:
    """The range-coded tokens of a parse of `source` (as parse_kernel returns it; the bytes
    after the last sequence are literals)."""
    data: cython.const[cython.uchar][:] = source
    size: cython.Py_ssize_t = len(source)
    rc: RangeEncoder = RangeEncoder(size // 3 + 256)
    models: cython.ushort[:] = bit_models(MODELS)
    reps: cython.int[:] = initial_repeats()
    state: cython.int = 0
    pos: cython.Py_ssize_t = 0
    pos_state: cython.int
    i: cython.Py_ssize_t
    _literal: cython.Py_ssize_t
    length: cython.Py_ssize_t
    piece: cython.Py_ssize_t
    value: cython.uint
    run: cython.Py_ssize_t
    count: cython.Py_ssize_t = len(literal_lengths)
    size_bits: cython.int = 0
    while (size >> size_bits) != 0:
        size_bits += 1
    if size_bits >= 1 << SIZE_LENGTH_BITS:
        raise ValueError("adaptive tokens code blocks below 2 GiB")
    rc.encode_direct(size_bits, SIZE_LENGTH_BITS)
    rc.encode_direct(cython.cast(cython.uint, size), size_bits)
    with cython.nogil:
        for i in range(count + 1):
            run = literal_lengths[i] if i < count else size - pos
            for _literal in range(run):
                rc.encode_bit(models, IS_MATCH + POS_STATES * state + (pos & 3), 0)
                _encode_literal(rc, models, data, pos, state, reps[0])
                state = _after_literal(state)
                pos += 1
            if i == count:
                break
            length = match_lengths[i]
            value = offset_values[i]
            while length > 0:
                piece = length
                if length > MAX_LENGTH:  # leave at least MIN_MATCH for the continuation
                    piece = min(MAX_LENGTH, length - MIN_MATCH)
                pos_state = cython.cast(cython.int, pos & 3)
                rc.encode_bit(models, IS_MATCH + POS_STATES * state + pos_state, 1)
                if value >= REPEATS:
                    rc.encode_bit(models, IS_REPEAT + state, 0)
                    _encode_length(rc, models, MATCH_LENGTH, piece, pos_state)
                    _encode_distance(rc, models, value - 2, piece)
                else:
                    rc.encode_bit(models, IS_REPEAT + state, 1)
                    rc.encode_bit(models, IS_REPEAT_1_OR_2 + state, value != 0)
                    if value != 0:
                        rc.encode_bit(models, IS_REPEAT_2 + state, value == 2)
                    _encode_length(rc, models, REPEAT_LENGTH, piece, pos_state)
                state = _after_match(state, value < REPEATS)
                update_repeats(reps, 0, 0, value)
                value = 0  # a continuation repeats the distance just used
                pos += piece
                length -= piece
    return rc.finish()


# ---------------------------------------------------------------------------------------------
# Decoding


@cython.cfunc
@cython.nogil
@cython.exceptval(check=False)
def _decode_reverse(rc: RangeDecoder, models: cython.ushort[:], base: cython.Py_ssize_t,
                    nbits: cython.int) -> cython.uint:
    node: cython.uint = 1
    value: cython.uint = 0
    bit: cython.uint
    i: cython.int
    for i in range(nbits):
        bit = rc.decode_bit(models, base + node)
        node = (node << 1) | bit
        value |= bit << i
    return value


@cython.cfunc
@cython.nogil
@cython.exceptval(check=False)
def _decode_length(rc: RangeDecoder, models: cython.ushort[:], coder: cython.Py_ssize_t,
                   pos_state: cython.int) -> cython.Py_ssize_t:
    if rc.decode_bit(models, coder) == 0:
        return MIN_MATCH + rc.decode_tree(models, coder + 2 + 8 * pos_state, 3)
    if rc.decode_bit(models, coder + 1) == 0:
        return MIN_MATCH + 8 + rc.decode_tree(models, coder + 2 + 32 + 8 * pos_state, 3)
    return MIN_MATCH + 16 + rc.decode_tree(models, coder + 2 + 64, 8)


@cython.cfunc
@cython.nogil
@cython.exceptval(check=False)
def _decode_distance(rc: RangeDecoder, models: cython.ushort[:],
                     length: cython.Py_ssize_t) -> cython.longlong:
    slot: cython.uint = rc.decode_tree(models, DISTANCE_SLOT + 64 * _length_state(length),
                                       SLOT_BITS)
    footer: cython.int
    base: cython.ulonglong
    d: cython.ulonglong
    if slot < 4:
        return slot + 1
    footer = cython.cast(cython.int, (slot >> 1) - 1)
    base = cython.cast(cython.ulonglong, 2 | (slot & 1)) << footer
    if slot < LAST_LOW_SLOT:
        d = base + _decode_reverse(rc, models, DISTANCE_LOW + base - slot - 1, footer)
    else:
        d = base + (cython.cast(cython.ulonglong, rc.decode_direct(footer - ALIGN_BITS))
                    << ALIGN_BITS)
        d += _decode_reverse(rc, models, ALIGN, ALIGN_BITS)
    return cython.cast(cython.longlong, d + 1)


@cython.boundscheck(False)  # every copy is checked against what exists before it is made
@cython.wraparound(False)
@cython.ccall
def decode(rc: RangeDecoder, size: cython.Py_ssize_t) -> bytes:
    """Decode tokens until `size` bytes are rebuilt. Returns fewer if the payload is of a block
    of another size, a match reaches before the start of the block or past its end, or the
    payload runs out; the caller checks, and calls rc.finish()."""
    out = bytearray(size)
    data: cython.uchar[:] = out
    models: cython.ushort[:] = bit_models(MODELS)
    reps: cython.int[:] = initial_repeats()
    state: cython.int = 0
    pos: cython.Py_ssize_t = 0
    pos_state: cython.int
    context: cython.Py_ssize_t
    node: cython.uint
    bit: cython.uint
    match_bit: cython.uint
    match_byte: cython.uint
    matching: cython.bint
    i: cython.int
    k: cython.Py_ssize_t
    value: cython.Py_ssize_t
    length: cython.Py_ssize_t
    distance: cython.longlong
    size_bits: cython.int = rc.decode_direct(SIZE_LENGTH_BITS)
    if rc.decode_direct(size_bits) != size:
        return b""
    with cython.nogil:
        while pos < size and not rc.failed():
            pos_state = cython.cast(cython.int, pos & 3)
            if rc.decode_bit(models, IS_MATCH + POS_STATES * state + pos_state) == 0:
                context = LITERAL
                if pos > 0:
                    context += 0x300 * (data[pos - 1] >> LITERAL_CONTEXT_SHIFT)
                matching = state >= FIRST_MATCH_STATE and reps[0] <= pos
                match_byte = data[pos - reps[0]] if matching else 0
                node = 1
                for i in range(7, -1, -1):
                    if matching:
                        match_bit = (match_byte >> i) & 1
                        bit = rc.decode_bit(models, context + 0x100 + (match_bit << 8) + node)
                        matching = bit == match_bit
                    else:
                        bit = rc.decode_bit(models, context + node)
                    node = (node << 1) | bit
                data[pos] = cython.cast(cython.uchar, node & 0xFF)
                pos += 1
                state = _after_literal(state)
                continue
            if rc.decode_bit(models, IS_REPEAT + state) == 0:
                length = _decode_length(rc, models, MATCH_LENGTH, pos_state)
                distance = _decode_distance(rc, models, length)
                if distance > pos:  # (before it can overflow the repeat offsets)
                    break
                value = cython.cast(cython.Py_ssize_t, distance + 2)
            else:
                value = 0
                if rc.decode_bit(models, IS_REPEAT_1_OR_2 + state):
                    value = 1 + rc.decode_bit(models, IS_REPEAT_2 + state)
                length = _decode_length(rc, models, REPEAT_LENGTH, pos_state)
            state = _after_match(state, value < REPEATS)
            update_repeats(reps, 0, 0, value)
            distance = reps[0]
            if distance > pos or length > size - pos:
                break
            for k in range(length):  # byte by byte: the source may overlap the copy
                data[pos + k] = data[pos - distance + k]
            pos += length
    return bytes(out[:pos]) if pos < size else bytes(out)
