"""The second stage: move-to-front ranks coded bit by bit under adaptive context models.

After the BWT and move-to-front (coding/mtf_kernel) most ranks are 0, in long runs, and most
others are small. Each rank r is coded as a few binary decisions, each with its own adaptive
model (coding/dual_rate_kernel) chosen by context:

    is r zero?           context: the zeros just before it (the run so far, 8 classes) and the
                         classes of the last two nonzero ranks (7 classes each)
    r == 1?  r == 2?     context: the run so far and the last nonzero rank
    r >= 3: v = r - 2    k = bit length of v - 1 (0-7) in unary, under the last nonzero rank,
                         then the k bits of v below its top bit as a binary tree per k.

A long run of zeros costs little: its "zero" model learns a probability near 1 and each zero
costs a few hundredths of a bit. The contexts separate the regimes a BWT produces: inside a
run of one byte (long zero runs), at the border of two contexts (a burst of larger ranks), and
text-like stretches that alternate between a few bytes (ranks 1 and 2).

Both directions compute contexts with the same functions from the ranks coded so far, so the
decoder sees exactly the encoder's models.
"""

import cython

if cython.compiled:
    from cython.cimports.pyarc_plugins.coding.dual_rate_kernel import DualRateModels
    from cython.cimports.pyarc_plugins.coding.rangecoder_kernel import (
        RangeDecoder,
        RangeEncoder,
    )
else:
    from pyarc_plugins.coding.dual_rate_kernel import DualRateModels
    from pyarc_plugins.coding.rangecoder_kernel import RangeDecoder, RangeEncoder

RUN_CLASSES = cython.declare(cython.Py_ssize_t, 8)
RANK_CLASSES = cython.declare(cython.Py_ssize_t, 7)
# The models, in one DualRateModels: offsets of each group.
IS_ZERO = cython.declare(cython.Py_ssize_t, 0)  # [run class][rank class][rank class]
IS_ONE = cython.declare(cython.Py_ssize_t, 8 * 7 * 7)  # [run class][rank class]
IS_TWO = cython.declare(cython.Py_ssize_t, IS_ONE + 8 * 7)  # [run class][rank class]
LENGTH = cython.declare(cython.Py_ssize_t, IS_TWO + 8 * 7)  # [rank class][unary position]
MANTISSA = cython.declare(cython.Py_ssize_t, LENGTH + 7 * 8)  # [k][tree node < 2**k]
MODELS = cython.declare(cython.Py_ssize_t, MANTISSA + 8 * 128)
MAX_LENGTH = cython.declare(cython.int, 7)  # v <= 253 has at most 8 bits


@cython.cfunc
@cython.inline
@cython.nogil
@cython.exceptval(check=False)
def _bit_length(value: cython.uint) -> cython.int:
    length: cython.int = 0
    while value:
        value >>= 1
        length += 1
    return length


@cython.cfunc
@cython.inline
@cython.nogil
@cython.exceptval(check=False)
def _rank_class(rank: cython.uint) -> cython.Py_ssize_t:
    """1, 2, 3, 4-7, 8-15, 16-31, 32+ -> 0..6."""
    if rank <= 3:
        return rank - 1
    return min(_bit_length(rank), 6)


@cython.cfunc
@cython.inline
@cython.nogil
@cython.exceptval(check=False)
def _run_class(run: cython.Py_ssize_t) -> cython.Py_ssize_t:
    """0, 1, 2, 3, 4-7, 8-15, 16-31, 32+ zeros -> 0..7."""
    if run <= 3:
        return run
    return min(_bit_length(cython.cast(cython.uint, min(run, 64))) + 1, 7)


@cython.ccall
def encode(ranks: cython.const[cython.uchar][:]) -> bytes:
    """Code the ranks; the decoder needs their number."""
    size: cython.Py_ssize_t = len(ranks)
    models: DualRateModels = DualRateModels(MODELS)
    coder: RangeEncoder = RangeEncoder(size // 4 + 64)
    i: cython.Py_ssize_t
    run: cython.Py_ssize_t = 0
    class1: cython.Py_ssize_t = 0  # classes of the last two nonzero ranks
    class2: cython.Py_ssize_t = 0
    rank: cython.uint
    value: cython.uint
    length: cython.int
    j: cython.int
    bit: cython.uint
    node: cython.Py_ssize_t
    context: cython.Py_ssize_t
    with cython.nogil:
        for i in range(size):
            rank = ranks[i]
            context = _run_class(run)
            models.encode(coder, IS_ZERO + (context * RANK_CLASSES + class1) * RANK_CLASSES
                          + class2, rank != 0)
            if rank == 0:
                run += 1
                continue
            context = context * RANK_CLASSES + class1
            models.encode(coder, IS_ONE + context, rank != 1)
            if rank != 1:
                models.encode(coder, IS_TWO + context, rank != 2)
                if rank != 2:
                    value = rank - 2
                    length = _bit_length(value) - 1
                    for j in range(length):
                        models.encode(coder, LENGTH + class1 * 8 + j, 1)
                    if length < MAX_LENGTH:
                        models.encode(coder, LENGTH + class1 * 8 + length, 0)
                    node = 1
                    for j in range(length - 1, -1, -1):
                        bit = (value >> j) & 1
                        models.encode(coder, MANTISSA + length * 128 + node, bit)
                        node = 2 * node + bit
            class2 = class1
            class1 = _rank_class(rank)
            run = 0
    return coder.finish()


@cython.ccall
def decode(payload: cython.const[cython.uchar][:], size: cython.Py_ssize_t) -> bytes:
    """The `size` ranks that encode coded; CodecError if the payload does not end with them."""
    out = bytearray(size)
    ranks: cython.uchar[:] = out
    models: DualRateModels = DualRateModels(MODELS)
    coder: RangeDecoder = RangeDecoder(payload)
    i: cython.Py_ssize_t
    run: cython.Py_ssize_t = 0
    class1: cython.Py_ssize_t = 0
    class2: cython.Py_ssize_t = 0
    rank: cython.uint
    length: cython.int
    _bit: cython.int
    node: cython.Py_ssize_t
    context: cython.Py_ssize_t
    with cython.nogil:
        for i in range(size):
            context = _run_class(run)
            if not models.decode(coder, IS_ZERO + (context * RANK_CLASSES + class1)
                                 * RANK_CLASSES + class2):
                ranks[i] = 0
                run += 1
                continue
            context = context * RANK_CLASSES + class1
            if not models.decode(coder, IS_ONE + context):
                rank = 1
            elif not models.decode(coder, IS_TWO + context):
                rank = 2
            else:
                length = 0
                while length < MAX_LENGTH and models.decode(coder, LENGTH + class1 * 8 + length):
                    length += 1
                node = 1
                for _bit in range(length):
                    node = 2 * node + models.decode(coder, MANTISSA + length * 128 + node)
                rank = node + 2  # node = the top bit and the `length` bits below it: v
                if rank > 255:  # v <= 253 from any encoder
                    coder.corrupt = True
                    break
            ranks[i] = rank
            class2 = class1
            class1 = _rank_class(rank)
            run = 0
            if coder.failed():
                break
    coder.finish()  # raises CodecError unless the payload ended exactly after the last rank
    return bytes(out)
