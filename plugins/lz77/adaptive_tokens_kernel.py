"""LZ77 tokens range coded with adaptive binary models, after LZMA (levels 8 and 9).

The block is coded token by token, each a literal byte or a match, every decision as one bit
of the shared range coder (coding/rangecoder_kernel) under an adaptive model chosen by context
(LZMA's state machine, pos_state, matched literals, two length coders, distance slots); the
stream begins with the block size. The payload is specified in spec/codecs/lz77.md.

Each decision is written once, as a `_code_*` function of a Coder (a RangeEncoder or a
RangeDecoder, see coding/rangecoder_inline; compiled once for each): encoding, it codes the
value it is given and returns it; decoding, it returns the value decoded. `encode` drives them
with the parse's sequences, `decode` with what it has rebuilt so far, and only decode checks
what it decodes.
"""


import cython

if cython.compiled:
    from cython.cimports.pyarc_plugins.coding.rangecoder_inline import (
        Coder,
        code_direct,
        code_model_bit,
        code_size,
        code_tree,
        encoding,
    )
    from cython.cimports.pyarc_plugins.coding.rangecoder_kernel import (
        RangeDecoder,
        RangeEncoder,
    )
    from cython.cimports.pyarc_plugins.lz77.sequences_kernel import update_repeats
else:
    from pyarc_plugins.coding.rangecoder_inline import (
        Coder,
        code_direct,
        code_model_bit,
        code_size,
        code_tree,
        encoding,
    )
    from pyarc_plugins.coding.rangecoder_kernel import RangeDecoder, RangeEncoder
    from pyarc_plugins.lz77.sequences_kernel import update_repeats

from array import array

from pyarc_plugins.coding.rangecoder_kernel import bit_models

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
# What the tokens so far leave to the next: the three repeat offsets, then the state.
STATE = cython.declare(cython.const[cython.Py_ssize_t], 3)


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
# The decisions, each coded in both directions


def _history():
    """The repeat offsets (1, 4, 8) and state 0 of the start of a block (see STATE)."""
    return array("i", [1, 4, 8, 0])


@cython.cfunc
@cython.inline
@cython.nogil
@cython.exceptval(check=False)
def _code_is_match(coder: Coder, models: cython.ushort[:], history: cython.int[:],
                   pos: cython.Py_ssize_t, bit: cython.uint) -> cython.uint:
    """Whether the token at pos is a match (1) or a literal (0)."""
    return code_model_bit(coder, models, IS_MATCH + POS_STATES * history[STATE] + (pos & 3), bit)


@cython.cfunc
@cython.nogil
@cython.exceptval(check=False)
def _code_reverse(coder: Coder, models: cython.ushort[:], base: cython.Py_ssize_t,
                  nbits: cython.int, value: cython.uint) -> cython.uint:
    """`nbits` bits of value, low bit first, down a tree of models at models[base + 1:]."""
    node: cython.uint = 1
    result: cython.uint = 0
    bit: cython.uint
    i: cython.int
    for i in range(nbits):
        bit = code_model_bit(coder, models, base + node, (value >> i) & 1)
        node = (node << 1) | bit
        result |= bit << i
    return result


@cython.cfunc
@cython.nogil
@cython.exceptval(check=False)
def _code_length(coder: Coder, models: cython.ushort[:], lengths: cython.Py_ssize_t,
                 pos_state: cython.Py_ssize_t, length: cython.Py_ssize_t) -> cython.Py_ssize_t:
    """A match length (MIN_MATCH .. MAX_LENGTH) with the length coder at models[lengths:]."""
    value: cython.uint = cython.cast(cython.uint, length - MIN_MATCH)
    if code_model_bit(coder, models, lengths, value >= 8) == 0:
        return MIN_MATCH + code_tree(coder, models, lengths + 2 + 8 * pos_state, 3, value)
    if code_model_bit(coder, models, lengths + 1, value >= 16) == 0:
        return MIN_MATCH + 8 + code_tree(coder, models, lengths + 2 + 32 + 8 * pos_state, 3,
                                         value - 8)
    return MIN_MATCH + 16 + code_tree(coder, models, lengths + 2 + 64, 8, value - 16)


@cython.cfunc
@cython.nogil
@cython.exceptval(check=False)
def _code_distance(coder: Coder, models: cython.ushort[:], distance: cython.longlong,
                   length: cython.Py_ssize_t) -> cython.longlong:
    """A new distance (>= 1) of a match of this length: its slot, then the slot's footer."""
    d: cython.ulonglong = cython.cast(cython.ulonglong, distance - 1)
    slot: cython.uint = _slot(cython.cast(cython.uint, d)) if encoding(coder) else 0
    footer: cython.int
    base: cython.ulonglong
    high: cython.ulonglong
    slot = code_tree(coder, models, DISTANCE_SLOT + 64 * _length_state(length), SLOT_BITS, slot)
    if slot < 4:
        return slot + 1
    footer = cython.cast(cython.int, (slot >> 1) - 1)
    base = cython.cast(cython.ulonglong, 2 | (slot & 1)) << footer
    if slot < LAST_LOW_SLOT:  # the trees of slots 4-13 packed: 2**footer - 1 models each
        d = base + _code_reverse(coder, models, DISTANCE_LOW + base - slot - 1, footer,
                                 cython.cast(cython.uint, d - base))
    else:
        high = code_direct(coder, cython.cast(cython.uint, (d - base) >> ALIGN_BITS),
                           footer - ALIGN_BITS)
        d = base + (high << ALIGN_BITS) + _code_reverse(coder, models, ALIGN, ALIGN_BITS,
                                                        cython.cast(cython.uint, d - base))
    return cython.cast(cython.longlong, d + 1)


@cython.boundscheck(False)  # pos < size; decoding, the match byte is read only from rep0 <= pos
@cython.wraparound(False)
@cython.cfunc
@cython.inline
@cython.nogil
@cython.exceptval(check=False)
def _code_literal(coder: Coder, models: cython.ushort[:], data: cython.const[cython.uchar][:],
                  history: cython.int[:], pos: cython.Py_ssize_t,
                  byte: cython.uint) -> cython.uint:
    """The literal byte at pos: plain, or matched against the byte the last match would have
    copied next (while its bits agree with that byte's). Moves the state on."""
    context: cython.Py_ssize_t = LITERAL
    node: cython.uint = 1
    bit: cython.uint
    match_bit: cython.uint
    match_byte: cython.uint = 0
    state: cython.int = history[STATE]
    rep0: cython.Py_ssize_t = history[0]
    matching: cython.bint = state >= FIRST_MATCH_STATE and rep0 <= pos
    i: cython.int
    if pos > 0:
        context += 0x300 * (data[pos - 1] >> LITERAL_CONTEXT_SHIFT)
    if matching:
        match_byte = data[pos - rep0]
    for i in range(7, -1, -1):
        bit = (byte >> i) & 1
        if matching:  # models 0x100-0x2FF: while the bits agree with the match byte's
            match_bit = (match_byte >> i) & 1
            bit = code_model_bit(coder, models, context + 0x100 + (match_bit << 8) + node, bit)
            matching = bit == match_bit
        else:
            bit = code_model_bit(coder, models, context + node, bit)
        node = (node << 1) | bit
    history[STATE] = _after_literal(state)
    return node & 0xFF


@cython.boundscheck(False)  # history holds the repeat offsets and the state
@cython.wraparound(False)
@cython.cfunc
@cython.nogil
@cython.exceptval(check=False)
def _code_match(coder: Coder, models: cython.ushort[:], history: cython.int[:],
                pos: cython.Py_ssize_t, length: cython.Py_ssize_t,
                value: cython.Py_ssize_t) -> cython.Py_ssize_t:
    """A match at pos after its is-match bit: with a new distance (offset value `value` >= 3,
    the distance + 2), its length, then the distance; with repeat offset 0, 1 or 2, which one,
    then its length. Moves the repeat offsets and the state on and returns the length, or
    returns 0 for a new distance that reaches before the block (offsets and state unchanged)."""
    state: cython.int = history[STATE]
    pos_state: cython.Py_ssize_t = pos & 3
    distance: cython.longlong
    if code_model_bit(coder, models, IS_REPEAT + state, value < REPEATS) == 0:
        length = _code_length(coder, models, MATCH_LENGTH, pos_state, length)
        distance = _code_distance(coder, models, value - 2, length)
        if distance > pos:  # (before it can overflow the repeat offsets)
            return 0
        value = cython.cast(cython.Py_ssize_t, distance + 2)
    else:
        if code_model_bit(coder, models, IS_REPEAT_1_OR_2 + state, value != 0) == 0:
            value = 0
        else:
            value = 1 + code_model_bit(coder, models, IS_REPEAT_2 + state, value == 2)
        length = _code_length(coder, models, REPEAT_LENGTH, pos_state, length)
    history[STATE] = _after_match(state, value < REPEATS)
    update_repeats(history, 0, 0, value)
    return length


# ---------------------------------------------------------------------------------------------
# Encoding: the decisions driven by the parse


@cython.boundscheck(False)  # sequences describe data: each run and match lies inside it
@cython.wraparound(False)
@cython.ccall
def encode(source, literal_lengths: cython.uint[:], match_lengths: cython.uint[:],
           offset_values: cython.uint[:]) -> bytes:
    """The range-coded tokens of a parse of `source` (as parse_kernel returns it; the bytes
    after the last sequence are literals)."""
    data: cython.const[cython.uchar][:] = source
    size: cython.Py_ssize_t = len(source)
    coder: RangeEncoder = RangeEncoder(size // 3 + 256)
    models: cython.ushort[:] = bit_models(MODELS)
    history: cython.int[:] = _history()
    pos: cython.Py_ssize_t = 0
    i: cython.Py_ssize_t
    _literal: cython.Py_ssize_t
    length: cython.Py_ssize_t
    piece: cython.Py_ssize_t
    value: cython.Py_ssize_t
    run: cython.Py_ssize_t
    count: cython.Py_ssize_t = len(literal_lengths)
    if size >> ((1 << SIZE_LENGTH_BITS) - 1):
        raise ValueError("adaptive tokens code blocks below 2 GiB")
    with cython.nogil:
        code_size(coder, size, SIZE_LENGTH_BITS)
        for i in range(count + 1):
            run = literal_lengths[i] if i < count else size - pos
            for _literal in range(run):
                _code_is_match(coder, models, history, pos, 0)
                _code_literal(coder, models, data, history, pos, data[pos])
                pos += 1
            if i == count:
                break
            length = match_lengths[i]
            value = offset_values[i]
            while length > 0:
                piece = length
                if length > MAX_LENGTH:  # leave at least MIN_MATCH for the continuation
                    piece = min(MAX_LENGTH, length - MIN_MATCH)
                _code_is_match(coder, models, history, pos, 1)
                _code_match(coder, models, history, pos, piece, value)
                value = 0  # a continuation repeats the distance just used
                pos += piece
                length -= piece
    return coder.finish()


# ---------------------------------------------------------------------------------------------
# Decoding: the decisions driven by what is rebuilt


@cython.boundscheck(False)  # every copy is checked against what exists before it is made
@cython.wraparound(False)
@cython.ccall
def decode(rc: RangeDecoder, size: cython.Py_ssize_t) -> bytes:
    """Decode tokens until `size` bytes are rebuilt. Returns fewer if the payload is of a block
    of another size, a match reaches before the start of the block or past its end, or the
    payload runs out; the caller checks, and calls rc.finish()."""
    out = bytearray(size)
    data: cython.uchar[:] = out
    coder: RangeDecoder = rc
    models: cython.ushort[:] = bit_models(MODELS)
    history: cython.int[:] = _history()
    pos: cython.Py_ssize_t = 0
    k: cython.Py_ssize_t
    length: cython.Py_ssize_t
    distance: cython.Py_ssize_t
    if code_size(coder, 0, SIZE_LENGTH_BITS) != size:
        return b""
    with cython.nogil:
        while pos < size and not rc.failed():
            if _code_is_match(coder, models, history, pos, 0) == 0:
                data[pos] = _code_literal(coder, models, data, history, pos, 0)
                pos += 1
                continue
            length = _code_match(coder, models, history, pos, 0, 0)
            distance = history[0]
            if length == 0 or distance > pos or length > size - pos:
                break
            for k in range(length):  # byte by byte: the source may overlap the copy
                data[pos + k] = data[pos - distance + k]
            pos += length
    return bytes(out[:pos]) if pos < size else bytes(out)
