"""The logistic mixer (spec/codecs/coding.md, section "Mixer"): several estimates of one binary
decision, combined in the logistic domain by weights that learn as they go.

Each input is a probability *stretched*, st(p) = ln(p / (1 - p)) (in 1/256 units, from a table);
the weighted sum is *squashed* back, sq(x) = 1 / (1 + e**(-x)) (a table too); after the bit is
coded, each weight moves by (outcome - p) x its input, a step of gradient descent on the coding
cost. A model keeps the arrays (tables, weights, inputs) and chooses the set of weights by a
context of its own; the functions below are the arithmetic over them.

A second mixer keeps its weights in 16 bits (WEIGHT16_BITS fractional bits, saturating), so
that the dot product and the learning step are a few SIMD instructions (SSE2's pmaddwd and
pmulhw, as in paq8's MMX mixer): mix16_dot and mix16_learn, over sets of a width that is a
multiple of 8 (inputs past the model's own are 0, and so leave their weights as they are).

Compiled kernels cimport the inline C versions of stretch, squash, mix_dot, mix_error,
mix_learn, mix16_dot and mix16_learn from mixer_inline.pxd; these are the same arithmetic for
kernels running as plain Python. The table builders are plain Python, run once.
"""

from array import array
from decimal import Context, Decimal

#: Stretch units: ln(p / (1 - p)) x 256, kept within +-STRETCH_MAX (the squash table's domain).
STRETCH_MAX = 2047
#: Weights have WEIGHT_BITS fractional bits: 1 << WEIGHT_BITS is a weight of 1.0.
WEIGHT_BITS = 16
KNOT_STEP = 64  # stretch units between exact knots of the squash table
#: The 16-bit mixer: 1 << WEIGHT16_BITS is a weight of 1.0; weights stay in -32768 .. 32767.
WEIGHT16_BITS = 14
WEIGHT16_MIN = -(1 << 15)
WEIGHT16_MAX = (1 << 15) - 1
#: Its sets are a multiple of this many weights wide (one SSE2 register of 16-bit lanes).
WEIGHT16_LANES = 8


def squash_table(bits: int = 22) -> array:
    """sq(x) for x in -2048 .. 2047 (index x + 2048), a probability in units of 2**-bits within
    [1, 2**bits - 1]: exact knots every KNOT_STEP units (decimal arithmetic, so the same on
    every platform), linear between."""
    ctx = Context(prec=30)
    one = 1 << bits
    knots = [int(ctx.divide(one, 1 + ctx.exp(Decimal(-k) / 4))) for k in range(-32, 33)]
    table = array("i", [0]) * 4096
    for x in range(-2048, 2048):
        k, r = divmod(x + 2048, KNOT_STEP)
        v = knots[k] + ((knots[k + 1] - knots[k]) * r >> 6)
        table[x + 2048] = min(max(v, 1), one - 1)
    return table


def stretch_table(squash: array, bits: int = 22) -> array:
    """st for the top 12 bits q of a probability: the smallest x whose sq(x) reaches q (the
    inverse of `squash`, a table of squash_table(bits)), or STRETCH_MAX."""
    table = array("h", [STRETCH_MAX]) * (1 << 12)
    q = 0
    for x in range(-STRETCH_MAX, STRETCH_MAX + 1):
        v = squash[x + 2048] >> (bits - 12)
        while q <= v:
            table[q] = x
            q += 1
    return table


def mix_weights(sets: int, n: int) -> array:
    """`sets` sets of n weights, each starting at 1/n (the inputs averaged)."""
    return array("q", [(1 << WEIGHT_BITS) // n]) * (sets * n)


def mix16_width(n: int) -> int:
    """The width of a 16-bit mixer's weight set for n inputs: n rounded up to WEIGHT16_LANES."""
    return -(-n // WEIGHT16_LANES) * WEIGHT16_LANES


def mix16_weights(sets: int, n: int) -> array:
    """`sets` sets of mix16_width(n) 16-bit weights, each starting at 1/n."""
    return array("h", [(1 << WEIGHT16_BITS) // n]) * (sets * mix16_width(n))


def stretch(table, p, bits):
    return table[p >> (bits - 12)]


def squash(table, x):
    return table[x + 2048]


def mix_dot(weights, base, inputs, n):
    x = 0
    for i in range(n):
        x += weights[base + i] * inputs[i]
    return min(max(x >> WEIGHT_BITS, -STRETCH_MAX), STRETCH_MAX)


def mix_error(p, bit, bits):
    return ((bit == 0) << bits) - p


def mix_learn(weights, base, inputs, n, err, shift):
    for i in range(n):
        weights[base + i] += (err * inputs[i]) >> shift


def mix16_dot(weights, base, inputs, width):
    x = 0
    for i in range(width):
        x += weights[base + i] * inputs[i]
    return min(max(x >> WEIGHT16_BITS, -STRETCH_MAX), STRETCH_MAX)


def mix16_learn(weights, base, inputs, width, step):
    for i in range(width):
        w = weights[base + i] + ((((inputs[i] * step) >> 16) + 1) >> 1)
        weights[base + i] = min(max(w, WEIGHT16_MIN), WEIGHT16_MAX)
